"""Aggregate reports for aggregate-only recipients such as advertisers (SHR-3).

A report is declared (`reports:` in the declaration): its recipient, the purpose it serves, its source — the daily
traffic roll-up or the items held — the dimensions it groups by and what it counts. A run returns grouped counts
and nothing else: groups smaller than the recipient's `min_group_size` are suppressed (only how many were is said),
and where the report declares `epsilon`, OpenDP adds discrete Laplace noise to every released count and the run
spends that much of the recipient's `epsilon_budget`; once the budget is spent, runs are refused and nothing is
disclosed. There is no row-level way in for such a recipient: its API keys can hold no other scope, and the gate
refuses any read naming it (`aggregate-only`). Every run is recorded as a disclosure (`report_runs`, and an audit
record).

Sources:
- `traffic`: sums of `traffic_daily` counts for one dimension (page, country, browser…) over a window of days;
  `visitors` counts the roll-up's daily visitors, `events` its page views. Noise protects each daily count of one
  visitor (or view) for one value: the roll-up keeps no link between a visitor's days, so a visitor seen on many
  days is protected day by day, not as a whole.
- `items`: subjects grouped by their values of the dimensions' categories (`<category>` or `<category>:year`). The
  values are read through the gate, as the system, for the report's purpose — so only subjects whose consent,
  state and holds allow that purpose count — one gated read (decrypt and audit record) per subject that holds the
  categories: a report over 100,000 such subjects costs about as much as 100,000 API reads. Each subject counts
  once (its latest value per category), so noise protects one subject's presence (l1 sensitivity 1).

The budget check and the spending are one transaction with the run's record; the set of released groups is chosen
on exact counts (the k promise), so it is not itself differentially private — only the counts are noised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import Connection, and_, func, insert, not_, or_, select, update
from sqlalchemy.exc import IntegrityError

from vowkeep import clock
from vowkeep.policy.model import ConsentMode, Policy, Recipient, Report
from vowkeep.policy.taxonomy import covers
from vowkeep.store.tables import consent_records, holds, items, privacy_budgets, report_runs, subjects, traffic_daily
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import GateDenied, deny
from vowkeep.vault.gate import Vault

REPORTER = Actor.system("reports")
MEASURE_METRIC = {"visitors": "visitors", "events": "views"}
EPSILON_SLACK = 1e-9


class ReportNotFound(LookupError):
    """No such report, or none the caller may run."""


class ReportRefused(Exception):
    """A run refused by a rule (the budget is spent, the recipient may not receive it…); nothing was disclosed."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule


class ReportInvalid(ValueError):
    """A run asked with bad parameters (a window that ends before it starts…)."""


class DifferentialPrivacyUnavailable(RuntimeError):
    """The report declares noise, but OpenDP is not installed."""


@dataclass
class ReportRun:
    report: str
    recipient: str
    purpose: str
    source: str
    measure: str
    dimensions: list[str]
    min_group_size: int
    epsilon: float | None
    groups: list[dict]
    suppressed: int
    budget: dict | None
    run_id: int
    since: date | None = None
    until: date | None = None
    policy_version: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "report": self.report,
            "recipient": self.recipient,
            "purpose": self.purpose,
            "source": self.source,
            "measure": self.measure,
            "dimensions": self.dimensions,
            "min_group_size": self.min_group_size,
            "epsilon": self.epsilon,
            "noise": "discrete laplace (OpenDP)" if self.epsilon else None,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "groups": self.groups,
            "groups_suppressed": self.suppressed,
            "budget": self.budget,
            "run_id": self.run_id,
            "policy_version": self.policy_version,
        }


def recipient_of_scopes(scopes) -> str | None:
    """The aggregate-only recipient an API key is bound to (`recipient:<key>`), if any."""
    for scope in scopes:
        if scope.startswith("recipient:"):
            return scope.partition(":")[2]
    return None


def visible(policy: Policy, *, recipient: str | None) -> list[Report]:
    """The reports a caller may run: a recipient's own, or all of them for operators and internal services."""
    return [r for r in policy.reports if recipient is None or r.recipient == recipient]


def budget_of(conn: Connection, policy: Policy, recipient_key: str) -> dict | None:
    recipient = policy.recipient_by_key.get(recipient_key)
    if recipient is None or recipient.aggregate_only is None or recipient.aggregate_only.epsilon_budget is None:
        return None
    total = recipient.aggregate_only.epsilon_budget
    spent = conn.execute(select(privacy_budgets.c.spent).where(privacy_budgets.c.recipient == recipient_key)).scalar()
    spent = float(spent or 0.0)
    return {"epsilon_budget": total, "spent": round(spent, 9), "remaining": round(max(total - spent, 0.0), 9)}


def runs(conn: Connection, *, report_key: str | None = None, recipient: str | None = None, limit: int = 200):
    query = select(report_runs).order_by(report_runs.c.id.desc()).limit(limit)
    if report_key is not None:
        query = query.where(report_runs.c.report == report_key)
    if recipient is not None:
        query = query.where(report_runs.c.recipient == recipient)
    return [
        {
            "run_id": r.id,
            "at": r.at.isoformat(),
            "report": r.report,
            "recipient": r.recipient,
            "purpose": r.purpose,
            "actor": r.actor,
            "source": r.source,
            "epsilon": r.epsilon,
            "groups_released": r.groups_released,
            "groups_suppressed": r.groups_suppressed,
            "since": r.since.isoformat() if r.since else None,
            "until": r.until.isoformat() if r.until else None,
            "policy_version": r.policy_version,
        }
        for r in conn.execute(query)
    ]


def run(
    vault: Vault,
    *,
    actor: Actor,
    report_key: str,
    recipient_scope: str | None = None,
    since: date | None = None,
    until: date | None = None,
) -> ReportRun:
    """Run a declared report for its recipient: suppress small groups, add noise, spend budget, record it."""
    policy = vault.policy
    report = policy.report_by_key.get(report_key)
    if report is None or (recipient_scope is not None and report.recipient != recipient_scope):
        raise ReportNotFound(report_key)
    recipient = policy.recipient_by_key.get(report.recipient)
    if since is not None and until is not None and until < since:
        raise ReportInvalid("until is before since")
    with vault.transaction() as conn:
        refusal = _refusal(conn, policy, report, recipient)
        if refusal is not None:
            # The refusal is recorded (and committed) before it is reported; nothing is disclosed.
            vault.audit(
                conn,
                actor=actor,
                action="report",
                decision=deny(*refusal),
                purpose=report.purpose,
                detail={"report": report.key, "recipient": report.recipient},
            )
    if refusal is not None:
        raise ReportRefused(*refusal)
    noise = _noise_for(report) if report.epsilon else None
    with vault.transaction() as conn:
        budget = _lock_budget(conn, policy, report, recipient)
        if report.source == "traffic":
            counts, categories = _traffic_counts(conn, report, since, until), []
        else:
            counts, categories = _item_counts(conn, vault, report), _item_categories(report)
            since = until = None
        k = recipient.aggregate_only.min_group_size
        released = {key: n for key, n in counts.items() if n >= k}
        suppressed = len(counts) - len(released)
        keys = sorted(released, key=lambda key: tuple("" if v is None else str(v) for v in key))
        values = [released[key] for key in keys]
        if noise is not None:
            values = noise(values)
            conn.execute(
                update(privacy_budgets)
                .where(privacy_budgets.c.recipient == recipient.key)
                .values(spent=privacy_budgets.c.spent + report.epsilon, updated_at=clock.now())
            )
        groups = [
            {**dict(zip(report.dimensions, key, strict=True)), report.measure: n}
            for key, n in zip(keys, values, strict=True)
        ]
        run_id = conn.execute(
            insert(report_runs).values(
                at=clock.now(),
                report=report.key,
                recipient=recipient.key,
                purpose=report.purpose,
                actor=actor.label,
                source=report.source,
                policy_version=vault.policy_version,
                epsilon=report.epsilon,
                groups_released=len(groups),
                groups_suppressed=suppressed,
                since=since,
                until=until,
            )
        ).inserted_primary_key[0]
        vault.audit(
            conn,
            actor=actor,
            action="report",
            purpose=report.purpose,
            categories=categories,
            detail={
                "report": report.key,
                "recipient": recipient.key,
                "run_id": run_id,
                "groups_released": len(groups),
                "groups_suppressed": suppressed,
                "epsilon": report.epsilon,
            },
        )
        budget = budget_of(conn, policy, recipient.key) if budget is not None else None
    return ReportRun(
        report=report.key,
        recipient=recipient.key,
        purpose=report.purpose,
        source=report.source,
        measure=report.measure,
        dimensions=list(report.dimensions),
        min_group_size=k,
        epsilon=report.epsilon,
        groups=groups,
        suppressed=suppressed,
        budget=budget,
        run_id=run_id,
        since=since,
        until=until,
        policy_version=vault.policy_version,
    )


def _refusal(conn: Connection, policy: Policy, report: Report, recipient: Recipient | None) -> tuple[str, str] | None:
    """Why the declaration or the budget forbids this run, as (rule, message); None if it may run."""
    if recipient is None:
        return "recipient-undeclared", f"recipient '{report.recipient}' is not declared"
    if recipient.aggregate_only is None:
        return "report-recipient", f"recipient '{recipient.key}' is not aggregate-only: it gets no reports"
    if policy.limits.never_sell and recipient.pays_for_data:
        return "never-sell", f"the declaration forbids selling data, and '{recipient.key}' pays for it"
    if report.purpose not in recipient.purposes:
        return "recipient-purpose", f"recipient '{recipient.key}' is not declared for '{report.purpose}'"
    if report.purpose not in policy.purpose_by_key:
        return "unknown-purpose", f"purpose '{report.purpose}' is not declared"
    if report.epsilon:
        budget = budget_of(conn, policy, recipient.key)
        if budget is None:
            return "privacy-budget", f"recipient '{recipient.key}' has no epsilon_budget for a noised report"
        if report.epsilon > budget["remaining"] + EPSILON_SLACK:
            return (
                "privacy-budget",
                f"the privacy budget of '{recipient.key}' is spent: {budget['remaining']:g} of "
                f"{budget['epsilon_budget']:g} left, this report needs {report.epsilon:g}",
            )
    return None


def _lock_budget(conn: Connection, policy: Policy, report: Report, recipient: Recipient) -> dict | None:
    """Take the recipient's budget row for this transaction and check it again (another run may have spent it)."""
    if not report.epsilon:
        return budget_of(conn, policy, recipient.key)
    savepoint = conn.begin_nested()
    try:
        conn.execute(insert(privacy_budgets).values(recipient=recipient.key, spent=0.0, updated_at=clock.now()))
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
    query = select(privacy_budgets.c.spent).where(privacy_budgets.c.recipient == recipient.key)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    spent = float(conn.execute(query).scalar_one())
    total = recipient.aggregate_only.epsilon_budget or 0.0
    if report.epsilon > total - spent + EPSILON_SLACK:
        raise ReportRefused("privacy-budget", f"the privacy budget of '{recipient.key}' was spent by another run")
    return budget_of(conn, policy, recipient.key)


def _noise_for(report: Report):
    """The report's noise mechanism: discrete Laplace with scale 1/epsilon on a vector of counts (l1 sensitivity 1)."""
    try:
        import opendp.prelude as dp
    except ImportError:
        raise DifferentialPrivacyUnavailable(
            f"report '{report.key}' declares epsilon {report.epsilon:g} (differential-privacy noise), which needs "
            "OpenDP: install it with `pip install 'vowkeep[dp]'`"
        ) from None
    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    measurement = dp.m.make_laplace(*space, scale=1.0 / report.epsilon)
    if measurement.map(1) > report.epsilon + EPSILON_SLACK:
        raise DifferentialPrivacyUnavailable(f"OpenDP could not give report '{report.key}' its epsilon")

    def apply(values: list[int]) -> list[int]:
        if not values:
            return []
        return [max(0, int(v)) for v in measurement([int(v) for v in values])]

    return apply


def _traffic_counts(conn: Connection, report: Report, since: date | None, until: date | None) -> dict[tuple, int]:
    dimension = report.dimensions[0]
    query = (
        select(traffic_daily.c.value, func.sum(traffic_daily.c.count))
        .where(traffic_daily.c.metric == MEASURE_METRIC[report.measure], traffic_daily.c.dimension == dimension)
        .group_by(traffic_daily.c.value)
    )
    if since is not None:
        query = query.where(traffic_daily.c.day >= since)
    if until is not None:
        query = query.where(traffic_daily.c.day <= until)
    return {(value,): int(total) for value, total in conn.execute(query)}


def _item_categories(report: Report) -> list[str]:
    return [d.partition(":")[0] for d in report.dimensions]


def _eligible(conn: Connection, policy: Policy, report: Report, categories: list[str]) -> list[str]:
    """Subjects the gate would let the report's purpose read: active, not held, consent allowing; holding one of the
    categories. The gate still decides each read; this only spares it (and the audit log) certain refusals."""
    purpose = policy.purpose_by_key[report.purpose]
    has_category = (
        select(items.c.id).where(items.c.subject_id == subjects.c.id, or_(*[_covered(c) for c in categories])).exists()
    )
    open_hold = (
        select(holds.c.id)
        .where(holds.c.subject_id == subjects.c.id, holds.c.released_at.is_(None), holds.c.ends_at > clock.now())
        .exists()
    )
    query = select(subjects.c.id).where(subjects.c.state == "active", has_category, not_(open_hold))
    if purpose.consent != ConsentMode.none:
        latest = (
            select(consent_records.c.choice)
            .where(consent_records.c.subject_id == subjects.c.id, consent_records.c.purpose == purpose.key)
            .order_by(consent_records.c.id.desc())
            .limit(1)
            .correlate(subjects)
            .scalar_subquery()
        )
        if purpose.consent == ConsentMode.opt_in:
            query = query.where(latest == "given")
        else:
            query = query.where(or_(latest.is_(None), and_(latest != "refused", latest != "withdrawn")))
    return list(conn.execute(query.order_by(subjects.c.id)).scalars())


def _covered(category: str):
    return or_(items.c.category == category, items.c.category.startswith(category + "."))


def _item_counts(conn: Connection, vault: Vault, report: Report) -> dict[tuple, int]:
    categories = _item_categories(report)
    counts: dict[tuple, int] = {}
    for subject_id in _eligible(conn, vault.policy, report, categories):
        try:
            values = vault.read(
                conn,
                actor=REPORTER,
                purpose=report.purpose,
                subject_id=subject_id,
                categories=categories,
            )
        except GateDenied:
            continue
        key = tuple(_dimension_value(values, d) for d in report.dimensions)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _dimension_value(values, dimension: str):
    category, _, suffix = dimension.partition(":")
    mine = [v for v in values if covers(category, v.category)]
    if not mine:
        return None
    latest = max(mine, key=lambda v: v.updated_at)
    value = latest.value
    if suffix == "year":
        return str(value)[:4] if isinstance(value, str) else None
    if isinstance(value, (dict, list)):
        return None
    return value if isinstance(value, (str, int, float, bool)) else str(value)


__all__ = [
    "DifferentialPrivacyUnavailable",
    "ReportInvalid",
    "ReportNotFound",
    "ReportRefused",
    "ReportRun",
    "budget_of",
    "recipient_of_scopes",
    "run",
    "runs",
    "visible",
]
