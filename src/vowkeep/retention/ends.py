"""When a purpose stops holding an item (RET-1, RET-2), as SQL the sweeper runs over every item at once.

An item is kept while at least one purpose still holds it. A purpose holds an item when the item was collected for
it, the subject's consent allows it (an opt-in purpose needs a consent on record; an opt-out purpose stops at a
refusal or withdrawal), and its retention — counted from the declared event and never longer than
`limits.retention_cap` — has not run out:

| event | the clock starts at | before the event |
|---|---|---|
| `collection` | `items.updated_at`, when the current value was collected (a correction collects it anew) | — |
| `last_activity` | `subjects.last_activity_at` | — |
| `account_closure` | `subjects.closed_at` | the purpose holds the item |
| `withdrawal` | the latest refusal or withdrawal, while it is the current choice | the purpose holds the item |

Each purpose's condition is built once per sweep for the moment `now`, so the database compares stored moments with
constants (date arithmetic differs between SQLite and PostgreSQL); `ran_out` does it exactly as the notice promises
(`Duration.add_to`: a month after 31 January is the last day of February).
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, String, and_, case, false, literal, not_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from vowkeep.policy.duration import Duration
from vowkeep.policy.model import ConsentMode, Policy, Purpose, RetentionEvent
from vowkeep.store.tables import UTCDateTime, consent_records, items, subjects

WITHDRAWN = ("refused", "withdrawn")
# Stands for "consent given, nothing withdrawn" where withdrawal times are compared.
NEVER = datetime(9999, 12, 31, tzinfo=UTC)


class time_of_day(FunctionElement):
    """SQL: the UTC time of day of a stored moment, as text `HH:MM:SS.ffffff` (comparable as a string)."""

    type = String()
    inherit_cache = True
    name = "time_of_day"


@compiles(time_of_day, "sqlite")
def _time_of_day_sqlite(element, compiler, **kw):
    # SQLite keeps UTC moments as `YYYY-MM-DD HH:MM:SS.ffffff` (see store.tables.UTCDateTime).
    return f"substr({compiler.process(element.clauses, **kw)}, 12)"


@compiles(time_of_day, "postgresql")
def _time_of_day_postgresql(element, compiler, **kw):
    return f"to_char(({compiler.process(element.clauses, **kw)}) AT TIME ZONE 'UTC', 'HH24:MI:SS.US')"


def ran_out(period: Duration, now: datetime, moment) -> ColumnElement[bool]:
    """SQL: `period.add_to(moment) <= now` — a clock started at `moment` has run out — exactly as `Duration.add_to`
    counts calendar months (a month after 31 January is the last day of February).

    The month shift clamps the day, so the starts that have run out are not simply those before one threshold:
    on the last day of a month, starts late in the month before run out only up to the current time of day.
    """
    moment_type = UTCDateTime()
    until = now - timedelta(days=period.days, seconds=period.seconds)
    months = period.years * 12 + period.months
    if months == 0:
        return moment <= literal(until, moment_type)
    year, month = divmod(until.year * 12 + until.month - 1 - months, 12)
    month += 1
    days_then = calendar.monthrange(year, month)[1]
    days_now = calendar.monthrange(until.year, until.month)[1]
    next_year, next_month = divmod(year * 12 + month, 12)
    month_after = datetime(next_year, next_month + 1, 1, tzinfo=UTC)
    if until.day < days_now:
        if until.day > days_then:
            return moment < literal(month_after, moment_type)
        return moment <= literal(until.replace(year=year, month=month), moment_type)
    if days_then < days_now:
        return moment < literal(month_after, moment_type)
    clamped_from = datetime(year, month, days_now, tzinfo=UTC)
    return or_(
        moment < literal(clamped_from, moment_type),
        and_(moment < literal(month_after, moment_type), time_of_day(moment) <= until.strftime("%H:%M:%S.%f")),
    )


def effective_period(policy: Policy, purpose: Purpose) -> Duration:
    """The purpose's retention, shortened to the policy-wide cap when it is longer (RET-2)."""
    cap = policy.limits.retention_cap
    period = purpose.retention.period
    return cap if cap is not None and period > cap else period


def _collected_for(key: str) -> ColumnElement[bool]:
    # Purpose keys are [a-z0-9_]; `_` is a LIKE wildcard, so it is escaped.
    pattern = "% " + key.replace("_", "\\_") + " %"
    return (literal(" ") + items.c.purposes + literal(" ")).like(pattern, escape="\\")


def consent_mark(purpose_key: str):
    """SQL: the current item's subject's latest choice for `purpose_key`, as one time: `NEVER` if it is a consent,
    the moment of the refusal or withdrawal if it is one, NULL if they never chose. One index seek per row
    (`consent_records (subject_id, purpose, id)`)."""
    choice = consent_records.c.choice
    return (
        select(
            case(
                (choice == "given", literal(NEVER, UTCDateTime)),
                (or_(*(choice == c for c in WITHDRAWN)), consent_records.c.recorded_at),
            )
        )
        .where(consent_records.c.subject_id == items.c.subject_id, consent_records.c.purpose == purpose_key)
        .order_by(consent_records.c.id.desc())
        .limit(1)
        .correlate(items)
        .scalar_subquery()
    )


def purpose_holds(policy: Policy, purpose: Purpose, now: datetime) -> ColumnElement[bool]:
    """SQL: `purpose` still holds the current item (a row of `items` joined to its `subjects` row), assuming the
    item was collected for it.

    Consent decides first: an opt-in purpose holds only what the subject consented to, an opt-out purpose what they
    did not object to; a refusal or withdrawal ends the hold at once — or starts the clock, for a retention
    counted from the withdrawal.
    """
    period = effective_period(policy, purpose)
    event = purpose.retention.after
    never = literal(NEVER, UTCDateTime)
    mark = consent_mark(purpose.key) if purpose.consent_based or event == RetentionEvent.withdrawal else None
    if event == RetentionEvent.withdrawal:
        # A consent (NEVER) holds for good; a withdrawal until its period runs out; no choice at all holds an
        # opt-out purpose, and no opt-in one.
        if purpose.consent == ConsentMode.opt_in:
            return and_(mark.is_not(None), not_(ran_out(period, now, mark)))
        return or_(mark.is_(None), not_(ran_out(period, now, mark)))
    if event == RetentionEvent.collection:
        running = not_(ran_out(period, now, items.c.updated_at))
    elif event == RetentionEvent.last_activity:
        running = not_(ran_out(period, now, subjects.c.last_activity_at))
    else:
        closed = subjects.c.closed_at
        running = or_(closed.is_(None), not_(ran_out(period, now, closed)))
    if mark is None:
        return running
    # (`IS [NOT] NULL` first: a comparison with NULL is neither true nor false, and NOT would not turn it over.)
    if purpose.consent == ConsentMode.opt_in:
        return and_(mark.is_not(None), mark == never, running)
    return and_(or_(mark.is_(None), mark == never), running)


def still_held(policy: Policy, now: datetime) -> ColumnElement[bool]:
    """SQL: some purpose still holds the current item, and its subject is not erased.

    `items.purposes` takes few values — each collection point's purposes, joined — so the test is a CASE over the
    current declaration's lists (a string comparison picks the purposes to check) and, for a list no collection
    point declares any more, a LIKE per declared purpose. A purpose no longer declared holds nothing.
    """
    holds = {p.key: purpose_holds(policy, p, now) for p in policy.purposes}
    generic = [and_(_collected_for(key), clause) for key, clause in holds.items()]
    fallback = or_(*generic) if generic else false()
    lists = sorted({" ".join(point.purposes) for point in policy.collection_points})
    whens = []
    for text in lists:
        declared = [holds[key] for key in dict.fromkeys(text.split()) if key in holds]
        whens.append((text, or_(*declared) if declared else false()))
    held = case(*whens, value=items.c.purposes, else_=fallback) if whens else fallback
    return and_(subjects.c.state != "erased", held)


def expired(policy: Policy, now: datetime) -> ColumnElement[bool]:
    """SQL: no purpose holds the current item any longer (holds are applied afterwards, per subject)."""
    return not_(still_held(policy, now))
