"""`policy lint`: contradictions in a declaration whose every name is valid (TOOL-1).

`check` (references.py) refuses names that do not exist; `lint` reads a declaration that loads and
finds promises that cannot all be kept — sale under `never_sell`, retention over the cap, a purpose
without a consent path, financial data outside transactions… Each problem has a stable rule id
(`RULES`), a severity (`error` fails the lint, `warning` does not) and the YAML path of the element
at fault, so the CLI can print its line.

What "declared" means for a category named in a purpose, recipient, hold or `never_store`: the name is
declared when a declared category covers it (`user.contact` declares `user.contact.email`) or when it
is a parent of declared categories (a purpose may name `user.contact` for all the contact data held).
A collection-point field is stricter: the value it stores is of exactly its category, so that
category must be declared itself or lie under a declared one.

A category in `limits.never_store` is declared so that the notice can name what is refused; it is not
reported as unused. Sale is judged as SHR-5 puts it: a recipient that pays for data, or that gets
identifiable data (not `aggregate_only`) for its own promotions or as a partner or advertiser. Under
`never_sell` that is an error; without it, a warning, because the notice must then say that data is sold.

Consent paths: an opt-in purpose can be agreed to on a collection point that lists it (the form asks)
or in the cookie banner (a non-essential cookie category that maps to it, including the usage-data
category). An unsubscribe link only withdraws, so an opt-in e-mail purpose has no other path. An
opt-out purpose can be objected to by the unsubscribe link (purposes that send e-mail), the cookie
banner, or the `object` right.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

from vowkeep.policy.errors import Path, Problem
from vowkeep.policy.load import line_for
from vowkeep.policy.model import (
    AgeCheck,
    ConsentMode,
    FieldType,
    LegalBasis,
    MessageKind,
    Policy,
    Purpose,
    Recipient,
    RecipientKind,
    RetentionEvent,
    Right,
)
from vowkeep.policy.taxonomy import FINANCIAL_ROOTS, TRANSACTION_DATA_USE, covers, is_financial

ERROR = "error"
WARNING = "warning"

DATE_OF_BIRTH = "user.demographic.date_of_birth"
# Countries of the European Economic Area: a recipient there is not a transfer out of an `EU`/`EEA` region.
EEA = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
        "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    promise: str
    summary: str
    check: Callable[[_Context], Iterator[tuple[Path, str]]]


RULES: dict[str, Rule] = {}


def rule(rule_id: str, severity: str, promise: str, summary: str):
    """Register a rule: a generator of (path, message) pairs for one kind of contradiction."""

    def register(check):
        RULES[rule_id] = Rule(rule_id, severity, promise, summary, check)
        return check

    return register


def lint(policy: Policy, *, lines: Mapping[Path, int] | None = None) -> list[Problem]:
    """Every contradiction in the declaration, rule by rule; with `lines` (a `LoadedPolicy.lines`), located."""
    context = _Context(policy)
    problems = [
        Problem(path, message, severity=r.severity, rule=r.id)
        for r in RULES.values()
        for path, message in r.check(context)
    ]
    if lines is not None:
        for problem in problems:
            problem.line = line_for(problem.path, lines)
    return problems


def counts(problems: Iterable[Problem]) -> tuple[int, int]:
    """(errors, warnings)."""
    problems = list(problems)
    errors = sum(1 for p in problems if p.severity == ERROR)
    return errors, len(problems) - errors


class _Context:
    """The declaration with the lookups the rules share."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    @cached_property
    def declared(self) -> list[str]:
        return [c.key for c in self.policy.categories]

    def is_declared(self, key: str, *, parent_ok: bool = True) -> bool:
        """Whether a declared category covers `key` (or, with `parent_ok`, `key` is a parent of one)."""
        return any(covers(d, key) or (parent_ok and covers(key, d)) for d in self.declared)

    def held(self, key: str) -> list[str]:
        """What naming `key` means in this declaration: itself if declared or under a declared key, else
        the declared categories below it."""
        if any(covers(d, key) for d in self.declared):
            return [key]
        return [d for d in self.declared if covers(key, d)]

    def purposes(self, keys: Iterable[str]) -> list[Purpose]:
        by_key = self.policy.purpose_by_key
        return [by_key[k] for k in keys if k in by_key]

    @cached_property
    def never_store(self) -> list[str]:
        return list(self.policy.limits.never_store)

    def never_stored(self, key: str) -> str | None:
        """The `never_store` entry that forbids keeping `key`, if any."""
        return next((n for n in self.never_store if covers(n, key)), None)

    def includes_financial(self, key: str) -> bool:
        """Whether naming `key` takes in financial data: a financial key, or a parent of one that is held."""
        if is_financial(key):
            return True
        return any(covers(key, root) for root in FINANCIAL_ROOTS) and any(
            covers(key, d) and is_financial(d) for d in self.declared
        )

    @cached_property
    def banner_purposes(self) -> set[str]:
        """Purposes the cookie banner asks about: those of non-essential cookie categories."""
        found = {p for c in self.policy.cookie_categories if not c.essential for p in c.purposes}
        usage = self.policy.usage_data
        if usage is not None:
            category = self.policy.cookie_category_by_key.get(usage.cookie_category)
            if category is not None and not category.essential:
                found |= set(usage.purposes)
        return found

    @cached_property
    def asked_at_collection(self) -> set[str]:
        return {p for point in self.policy.collection_points for p in point.purposes}


def _sale_reasons(recipient: Recipient) -> list[tuple[str, str]]:
    """Why a recipient counts as buying personal data or taking it for its own promotions (SHR-5)."""
    identifiable = bool(recipient.categories) and recipient.aggregate_only is None
    reasons = []
    if recipient.pays_for_data:
        reasons.append(("pays_for_data", "pays for the data"))
    if recipient.own_promotions and identifiable:
        reasons.append(("own_promotions", "uses identifiable data for its own promotions"))
    partner = recipient.kind in (RecipientKind.partner, RecipientKind.advertiser)
    if partner and identifiable and not recipient.own_promotions:
        article = "an" if recipient.kind == RecipientKind.advertiser else "a"
        reasons.append(("kind", f"is {article} {recipient.kind.value} that gets identifiable data"))
    return reasons


def _quote(keys: Iterable[str]) -> str:
    return ", ".join(f"'{k}'" for k in keys)


def _category_references(policy: Policy) -> Iterator[tuple[Path, str]]:
    """Every place a purpose, recipient, hold or `never_store` names a category."""
    for i, purpose in enumerate(policy.purposes):
        for j, key in enumerate(purpose.categories):
            yield ("purposes", i, "categories", j), key
    for i, recipient in enumerate(policy.recipients):
        for j, key in enumerate(recipient.categories):
            yield ("recipients", i, "categories", j), key
    for i, hold in enumerate(policy.holds):
        for j, key in enumerate(hold.categories):
            yield ("holds", i, "categories", j), key
    for j, key in enumerate(policy.limits.never_store):
        yield ("limits", "never_store", j), key


def _fields(policy: Policy):
    for i, point in enumerate(policy.collection_points):
        for j, field in enumerate(point.fields):
            yield ("collection_points", i, "fields", j), point, field


# --- sharing -------------------------------------------------------------------------------------


@rule("never-sell", ERROR, "SHR-5", "never_sell with a recipient that buys data or takes it for its own promotions")
def _never_sell(ctx: _Context):
    if not ctx.policy.limits.never_sell:
        return
    for i, recipient in enumerate(ctx.policy.recipients):
        reasons = _sale_reasons(recipient)
        if reasons:
            yield (
                ("recipients", i, reasons[0][0]),
                f"limits.never_sell promises no sale, but recipient '{recipient.key}' "
                f"{' and '.join(r for _, r in reasons)}",
            )


@rule("sale-allowed", WARNING, "SHR-5", "a recipient buys data or takes it for its own promotions")
def _sale_allowed(ctx: _Context):
    if ctx.policy.limits.never_sell:
        return
    for i, recipient in enumerate(ctx.policy.recipients):
        reasons = _sale_reasons(recipient)
        if reasons:
            yield (
                ("recipients", i, reasons[0][0]),
                f"recipient '{recipient.key}' {' and '.join(r for _, r in reasons)}: that is a sale or share of "
                "personal data, which this declaration allows (limits.never_sell is false); the notice must say so",
            )


@rule("sale-without-consent", ERROR, "SHR-6", "a recipient's own promotions served by a purpose without consent")
def _sale_without_consent(ctx: _Context):
    for i, recipient in enumerate(ctx.policy.recipients):
        if not _sale_reasons(recipient) or not (recipient.own_promotions or recipient.pays_for_data):
            continue
        for j, key in enumerate(recipient.purposes):
            purpose = ctx.policy.purpose_by_key.get(key)
            if purpose is not None and not purpose.consent_based:
                yield (
                    ("recipients", i, "purposes", j),
                    f"recipient '{recipient.key}' gets data for its own benefit under purpose '{key}', "
                    "which asks for no consent; business partners' offers need the subject's consent",
                )


@rule("advertiser-aggregate", ERROR, "SHR-3", "an advertiser that is not aggregate_only")
def _advertiser_aggregate(ctx: _Context):
    for i, recipient in enumerate(ctx.policy.recipients):
        if recipient.kind == RecipientKind.advertiser and recipient.aggregate_only is None:
            yield (
                ("recipients", i, "kind"),
                f"advertiser '{recipient.key}' must be aggregate_only: advertisers get grouped counts, never rows",
            )


@rule("recipient-categories", ERROR, "SHR-1", "a recipient gets categories its purposes do not cover")
def _recipient_categories(ctx: _Context):
    for i, recipient in enumerate(ctx.policy.recipients):
        purposes = ctx.purposes(recipient.purposes)
        for j, key in enumerate(recipient.categories):
            uncovered = [
                held for held in ctx.held(key) if not any(covers(c, held) for p in purposes for c in p.categories)
            ]
            if uncovered:
                what = f"'{key}'" if uncovered == [key] else f"'{key}' ({_quote(uncovered)})"
                served = _quote(recipient.purposes) or "none"
                yield (
                    ("recipients", i, "categories", j),
                    f"recipient '{recipient.key}' gets {what}, which none of its purposes ({served}) uses",
                )


@rule("financial-use", ERROR, "USE-2", "financial data used or shared for anything but completing a transaction")
def _financial_use(ctx: _Context):
    def transaction(purpose: Purpose) -> bool:
        return covers(TRANSACTION_DATA_USE, purpose.data_use)

    for i, purpose in enumerate(ctx.policy.purposes):
        if transaction(purpose):
            continue
        for j, key in enumerate(purpose.categories):
            if ctx.includes_financial(key):
                yield (
                    ("purposes", i, "categories", j),
                    f"financial data '{key}' may serve only completing a transaction ({TRANSACTION_DATA_USE}), "
                    f"not purpose '{purpose.key}' ({purpose.data_use})",
                )
    for i, recipient in enumerate(ctx.policy.recipients):
        if any(transaction(p) for p in ctx.purposes(recipient.purposes)):
            continue
        for j, key in enumerate(recipient.categories):
            if ctx.includes_financial(key):
                yield (
                    ("recipients", i, "categories", j),
                    f"recipient '{recipient.key}' gets financial data '{key}' but serves no transaction purpose",
                )


@rule("transfer-recipient", WARNING, "XFR-1", "a transfer names a recipient that gets no data")
def _transfer_recipient(ctx: _Context):
    for i, transfer in enumerate(ctx.policy.storage.transfers):
        for j, key in enumerate(transfer.recipients):
            recipient = ctx.policy.recipient_by_key.get(key)
            if recipient is not None and not recipient.categories:
                yield (
                    ("storage", "transfers", i, "recipients", j),
                    f"the transfer to {transfer.to} names recipient '{key}', which gets no personal data",
                )


@rule("undeclared-transfer", WARNING, "XFR-1", "a recipient abroad with no transfer declared for it")
def _undeclared_transfer(ctx: _Context):
    storage = ctx.policy.storage
    regions = {r.upper() for r in storage.regions}
    for i, recipient in enumerate(ctx.policy.recipients):
        country = (recipient.country or "").upper()
        if not country or not recipient.categories or country in regions:
            continue
        if country in EEA and regions & {"EU", "EEA"}:
            continue
        if any(
            t.to.upper() == country and (not t.recipients or recipient.key in t.recipients) for t in storage.transfers
        ):
            continue
        yield (
            ("recipients", i, "country"),
            f"recipient '{recipient.key}' is in {recipient.country}, outside the storage regions, "
            "and no storage.transfers entry covers it",
        )


# --- retention -----------------------------------------------------------------------------------


@rule("retention-cap", ERROR, "RET-2", "a retention longer than limits.retention_cap")
def _retention_cap(ctx: _Context):
    cap = ctx.policy.limits.retention_cap
    if cap is None:
        return

    def over(what: str, period):
        return f"{what} {period} is longer than limits.retention_cap {cap} ({period.describe()} > {cap.describe()})"

    for i, purpose in enumerate(ctx.policy.purposes):
        if purpose.retention.period > cap:
            yield (
                ("purposes", i, "retention", "period"),
                over(f"purpose '{purpose.key}' keeps data for", purpose.retention.period),
            )
    for i, hold in enumerate(ctx.policy.holds):
        if hold.retention > cap:
            yield ("holds", i, "retention"), over(f"hold '{hold.key}' keeps data for", hold.retention)
    usage = ctx.policy.usage_data
    if usage is not None and usage.raw_retention > cap:
        yield ("usage_data", "raw_retention"), over("raw usage events are kept for", usage.raw_retention)


@rule("cookie-lifetime-cap", WARNING, "RET-2", "a non-essential cookie outlives limits.retention_cap")
def _cookie_lifetime_cap(ctx: _Context):
    from vowkeep.policy.duration import Duration

    cap = ctx.policy.limits.retention_cap
    if cap is None:
        return
    for i, cookie in enumerate(ctx.policy.cookies):
        category = ctx.policy.cookie_category_by_key.get(cookie.category)
        if cookie.lifetime == "session" or category is None or category.essential:
            continue
        lifetime = Duration.parse(cookie.lifetime)
        if lifetime > cap:
            yield (
                ("cookies", i, "lifetime"),
                f"cookie '{cookie.name}' lives {lifetime}, longer than limits.retention_cap {cap}: "
                "its identifier outlasts everything else kept",
            )


@rule("retention-never-starts", ERROR, "RET-1", "retention counted from a withdrawal that cannot happen")
def _retention_never_starts(ctx: _Context):
    for i, purpose in enumerate(ctx.policy.purposes):
        if purpose.retention.after == RetentionEvent.withdrawal and not purpose.consent_based:
            yield (
                ("purposes", i, "retention", "after"),
                f"purpose '{purpose.key}' keeps data until {purpose.retention.period} after withdrawal, "
                "but it asks for no consent, so nothing can be withdrawn and the data would be kept forever",
            )


@rule("hold-categories", ERROR, "RET-3", "a hold keeps categories its purpose does not cover")
def _hold_categories(ctx: _Context):
    for i, hold in enumerate(ctx.policy.holds):
        purpose = ctx.policy.purpose_by_key.get(hold.purpose)
        if purpose is None:
            continue
        for j, key in enumerate(hold.categories):
            uncovered = [h for h in ctx.held(key) if not any(covers(c, h) for c in purpose.categories)]
            if uncovered:
                yield (
                    ("holds", i, "categories", j),
                    f"hold '{hold.key}' keeps '{key}' for purpose '{hold.purpose}', which does not use "
                    f"{_quote(uncovered)}: held data may serve only the hold's own purpose",
                )


# --- categories and collection --------------------------------------------------------------------


@rule("undeclared-category", ERROR, "USE-1", "a category named somewhere but not declared in `categories`")
def _undeclared_category(ctx: _Context):
    for path, key in _category_references(ctx.policy):
        if not ctx.is_declared(key):
            yield path, f"category '{key}' is not declared in `categories`"
    for path, _point, field in _fields(ctx.policy):
        if not ctx.is_declared(field.category, parent_ok=False):
            yield (
                (*path, "category"),
                f"field '{field.name}' collects '{field.category}', which is not declared in `categories`",
            )


@rule("unused-category", WARNING, "USE-1", "a declared category that no purpose uses")
def _unused_category(ctx: _Context):
    used = [c for p in ctx.policy.purposes for c in p.categories]
    for i, category in enumerate(ctx.policy.categories):
        if ctx.never_stored(category.key):
            continue  # declared so that the notice can name what is refused
        if not any(covers(u, category.key) or covers(category.key, u) for u in used):
            yield ("categories", i, "key"), f"category '{category.key}' is declared but no purpose uses it"


@rule("field-purpose", ERROR, "USE-1", "a field collects a category none of its collection point's purposes uses")
def _field_purpose(ctx: _Context):
    for path, point, field in _fields(ctx.policy):
        if not ctx.is_declared(field.category, parent_ok=False) or ctx.never_stored(field.category):
            continue  # reported by undeclared-category / never-store-collected
        purposes = ctx.purposes(point.purposes)
        if not any(covers(c, field.category) for p in purposes for c in p.categories):
            yield (
                (*path, "category"),
                f"field '{field.name}' of '{point.key}' collects '{field.category}', which none of its purposes "
                f"({_quote(point.purposes)}) uses",
            )


@rule("never-store-collected", ERROR, "COL-3", "a never_store category that a collection point collects")
def _never_store_collected(ctx: _Context):
    for path, point, field in _fields(ctx.policy):
        entry = ctx.never_stored(field.category)
        if entry:
            yield (
                (*path, "category"),
                f"field '{field.name}' of '{point.key}' collects '{field.category}', "
                f"but limits.never_store forbids keeping '{entry}'",
            )


@rule("never-store-used", WARNING, "COL-3", "a purpose, recipient or hold names a never_store category")
def _never_store_used(ctx: _Context):
    for path, key in _category_references(ctx.policy):
        if path[0] == "limits":
            continue
        entry = ctx.never_stored(key)
        if entry:
            yield path, f"'{key}' is never stored (limits.never_store: '{entry}'), so nothing of it can be used here"


@rule("identify-lookup", ERROR, "COL-1", "a collection point identifies subjects by a field without a blind index")
def _identify_lookup(ctx: _Context):
    by_key = ctx.policy.category_by_key
    for i, point in enumerate(ctx.policy.collection_points):
        fields = {f.name: f for f in point.fields}
        for j, name in enumerate(point.identify_by):
            field = fields.get(name)
            if field is None:
                continue
            owners = [d for d in ctx.declared if covers(d, field.category)]
            if not owners:
                continue
            declared = by_key[max(owners, key=len)]
            if not declared.lookup:
                yield (
                    ("collection_points", i, "identify_by", j),
                    f"'{point.key}' finds subjects by '{name}', but category '{declared.key}' has no `lookup: true`, "
                    "so there is no blind index to find them by",
                )


# --- consent -------------------------------------------------------------------------------------


@rule("consent-path", ERROR, "USE-3", "an opt-in purpose with no way to give consent")
def _consent_path(ctx: _Context):
    for i, purpose in enumerate(ctx.policy.purposes):
        if purpose.consent != ConsentMode.opt_in:
            continue
        if purpose.key in ctx.asked_at_collection or purpose.key in ctx.banner_purposes:
            continue
        hint = (
            "an unsubscribe link only withdraws; list it on a collection point (a sign-up form) that asks"
            if purpose.messages != MessageKind.none
            else "list it on a collection point that asks, or map a non-essential cookie category to it"
        )
        yield ("purposes", i, "consent"), f"opt-in purpose '{purpose.key}' has no way to give consent: {hint}"


@rule("objection-path", ERROR, "USE-3", "an opt-out purpose with no way to object")
def _objection_path(ctx: _Context):
    object_offered = Right.object in ctx.policy.rights.offered
    for i, purpose in enumerate(ctx.policy.purposes):
        if purpose.consent != ConsentMode.opt_out:
            continue
        if purpose.messages != MessageKind.none or object_offered or purpose.key in ctx.banner_purposes:
            continue
        yield (
            ("purposes", i, "consent"),
            f"opt-out purpose '{purpose.key}' has no way to object: it sends no e-mail with an unsubscribe link, "
            "no cookie category maps to it, and rights.offered lacks `object`",
        )


@rule("consent-basis", ERROR, "USE-3", "legal basis consent without opt-in")
def _consent_basis(ctx: _Context):
    for i, purpose in enumerate(ctx.policy.purposes):
        if purpose.legal_basis == LegalBasis.consent and purpose.consent != ConsentMode.opt_in:
            yield (
                ("purposes", i, "consent"),
                f"purpose '{purpose.key}' rests on consent but its consent mode is {purpose.consent.value}: "
                "consent is given by opting in",
            )


@rule("marketing-consent", ERROR, "RIG-5", "marketing e-mail with no consent or opt-out")
def _marketing_consent(ctx: _Context):
    for i, purpose in enumerate(ctx.policy.purposes):
        if purpose.messages == MessageKind.marketing and not purpose.consent_based:
            yield (
                ("purposes", i, "messages"),
                f"purpose '{purpose.key}' sends marketing e-mail but has consent: none; "
                "marketing needs opt_in or opt_out so that unsubscribing is honoured",
            )


# --- cookies and usage data ----------------------------------------------------------------------


@rule("cookie-purpose", ERROR, "CK-4", "a cookie without a purpose")
def _cookie_purpose(ctx: _Context):
    for i, cookie in enumerate(ctx.policy.cookies):
        if cookie.purpose is None:
            yield ("cookies", i), f"cookie '{cookie.name}' has no purpose; the cookie notice must say why it is set"


@rule("cookie-category-purpose", ERROR, "CK-2", "a cookie serves a purpose its cookie category does not")
def _cookie_category_purpose(ctx: _Context):
    for i, cookie in enumerate(ctx.policy.cookies):
        category = ctx.policy.cookie_category_by_key.get(cookie.category)
        if cookie.purpose is None or category is None:
            continue
        if cookie.purpose not in category.purposes:
            yield (
                ("cookies", i, "purpose"),
                f"cookie '{cookie.name}' serves '{cookie.purpose}', but accepting its category '{category.key}' "
                f"agrees only to {_quote(category.purposes) or 'nothing'}",
            )


@rule("essential-cookie-consent", ERROR, "CK-1", "an always-on cookie category serves a consent-based purpose")
def _essential_cookie_consent(ctx: _Context):
    for i, category in enumerate(ctx.policy.cookie_categories):
        if not category.essential:
            continue
        if category.advertising:
            yield (
                ("cookie_categories", i, "advertising"),
                f"cookie category '{category.key}' is essential (always on) but advertising, "
                "and advertising must be possible to decline",
            )
        for j, key in enumerate(category.purposes):
            purpose = ctx.policy.purpose_by_key.get(key)
            if purpose is not None and purpose.consent_based:
                yield (
                    ("cookie_categories", i, "purposes", j),
                    f"essential cookie category '{category.key}' is always on, but purpose '{key}' is "
                    f"{purpose.consent.value}",
                )


@rule("usage-data-purpose", ERROR, "CK-2", "usage data serves a purpose its cookie category does not")
def _usage_data_purpose(ctx: _Context):
    usage = ctx.policy.usage_data
    if usage is None:
        return
    category = ctx.policy.cookie_category_by_key.get(usage.cookie_category)
    if category is None:
        return
    for j, key in enumerate(usage.purposes):
        if key not in category.purposes:
            yield (
                ("usage_data", "purposes", j),
                f"usage data serves '{key}', but accepting its cookie category '{category.key}' agrees only to "
                f"{_quote(category.purposes) or 'nothing'}",
            )


# --- reports -------------------------------------------------------------------------------------


@rule("report-recipient", ERROR, "SHR-3", "a report for a recipient that is not aggregate_only")
def _report_recipient(ctx: _Context):
    for i, report in enumerate(ctx.policy.reports):
        recipient = ctx.policy.recipient_by_key.get(report.recipient)
        if recipient is not None and recipient.aggregate_only is None:
            yield (
                ("reports", i, "recipient"),
                f"report '{report.key}' goes to '{recipient.key}', which is not aggregate_only",
            )


@rule("report-purpose", ERROR, "SHR-1", "a report's purpose is not one of its recipient's purposes")
def _report_purpose(ctx: _Context):
    for i, report in enumerate(ctx.policy.reports):
        recipient = ctx.policy.recipient_by_key.get(report.recipient)
        if recipient is not None and report.purpose not in recipient.purposes:
            yield (
                ("reports", i, "purpose"),
                f"report '{report.key}' serves '{report.purpose}', which is not among the purposes of "
                f"'{recipient.key}' ({_quote(recipient.purposes) or 'none'})",
            )


@rule("report-epsilon", ERROR, "SHR-3", "a report's noise does not fit its recipient's privacy budget")
def _report_epsilon(ctx: _Context):
    for i, report in enumerate(ctx.policy.reports):
        recipient = ctx.policy.recipient_by_key.get(report.recipient)
        if report.epsilon is None or recipient is None or recipient.aggregate_only is None:
            continue
        budget = recipient.aggregate_only.epsilon_budget
        if budget is None:
            yield (
                ("reports", i, "epsilon"),
                f"report '{report.key}' spends epsilon {report.epsilon}, but '{recipient.key}' has no epsilon_budget",
            )
        elif report.epsilon > budget:
            yield (
                ("reports", i, "epsilon"),
                f"report '{report.key}' spends epsilon {report.epsilon} per run, more than the whole budget "
                f"{budget} of '{recipient.key}'",
            )


# What a traffic report can group by: the dimensions of the daily roll-up (`traffic_daily.dimension`), each with the
# usage signal it needs collected (`total` needs none). Item reports group by a category the report's purpose
# declares, or by its year (`user.demographic.date_of_birth:year`) for a date.
TRAFFIC_DIMENSIONS = {
    "total": None,
    "page": "pages",
    "referrer": "referrer",
    "browser": "browser",
    "os": "os",
    "device_class": "device_class",
    "country": "country",
    "language": "language",
    "search": "search_terms",
}
ITEM_DIMENSION_SUFFIXES = ("year",)
REPORT_MEASURES = {"traffic": ("visitors", "events"), "items": ("subjects",)}


@rule("report-dimension", ERROR, "SHR-3", "a report grouped by something it cannot group by")
def _report_dimension(ctx: _Context):
    usage = ctx.policy.usage_data
    collected = {s.value for s in usage.collect} if usage is not None else set()
    for i, report in enumerate(ctx.policy.reports):
        if report.source == "traffic" and len(report.dimensions) > 1:
            yield (
                ("reports", i, "dimensions", 1),
                f"report '{report.key}' groups traffic by {len(report.dimensions)} dimensions, but the daily roll-up "
                "keeps one dimension per count: declare one report per dimension",
            )
        for j, dimension in enumerate(report.dimensions):
            problem = (
                _traffic_dimension(dimension, collected)
                if report.source == "traffic"
                else _item_dimension(ctx.policy, report.purpose, dimension)
            )
            if problem:
                yield ("reports", i, "dimensions", j), f"report '{report.key}' groups by '{dimension}', {problem}"


def _traffic_dimension(dimension: str, collected: set[str]) -> str | None:
    if dimension not in TRAFFIC_DIMENSIONS:
        return f"which is not a traffic dimension (one of: {', '.join(TRAFFIC_DIMENSIONS)})"
    signal = TRAFFIC_DIMENSIONS[dimension]
    if signal is not None and signal not in collected:
        return f"but usage_data.collect does not collect '{signal}'"
    return None


def _item_dimension(policy: Policy, purpose_key: str, dimension: str) -> str | None:
    category, _, suffix = dimension.partition(":")
    if suffix and suffix not in ITEM_DIMENSION_SUFFIXES:
        return f"but ':{suffix}' is not a known generalisation (use ':year' for a date)"
    purpose = policy.purpose_by_key.get(purpose_key)
    if purpose is not None and not any(covers(c, category) for c in purpose.categories):
        return f"but its purpose '{purpose_key}' does not declare '{category}'"
    if suffix == "year":
        dated = [f for point in policy.collection_points for f in point.fields if f.category == category]
        if dated and not all(f.type == FieldType.date for f in dated):
            return f"but '{category}' is not collected as a date"
    return None


@rule("report-measure", ERROR, "SHR-3", "a report measures what its source does not count")
def _report_measure(ctx: _Context):
    for i, report in enumerate(ctx.policy.reports):
        allowed = REPORT_MEASURES[report.source]
        if report.measure not in allowed:
            yield (
                ("reports", i, "measure"),
                f"report '{report.key}' counts {report.measure}, but a report over {report.source} counts "
                f"{' or '.join(allowed)}",
            )


# --- minors --------------------------------------------------------------------------------------


@rule("age-gate", ERROR, "MIN-1", "an account can be created without an age check")
def _age_gate(ctx: _Context):
    minimum = ctx.policy.minors.minimum_age
    if minimum == 0:
        return
    for i, point in enumerate(ctx.policy.collection_points):
        if point.registers_subject and point.age_check == AgeCheck.none:
            yield (
                ("collection_points", i, "registers_subject"),
                f"'{point.key}' creates accounts without an age check, but the minimum age is {minimum}",
            )


@rule("age-check-field", ERROR, "MIN-1", "an age check by date of birth on a form that does not ask for it")
def _age_check_field(ctx: _Context):
    for i, point in enumerate(ctx.policy.collection_points):
        if point.age_check == AgeCheck.date_of_birth and not any(
            covers(DATE_OF_BIRTH, f.category) for f in point.fields
        ):
            yield (
                ("collection_points", i, "age_check"),
                f"'{point.key}' checks age by date of birth but has no field of category '{DATE_OF_BIRTH}'",
            )


@rule("guardian-minimum-age", WARNING, "MIN-3", "guardian consent with no minimum age")
def _guardian_minimum_age(ctx: _Context):
    minors = ctx.policy.minors
    if minors.guardian_may_consent and minors.minimum_age == 0:
        yield (
            ("minors", "guardian_may_consent"),
            "a guardian may consent for minors, but minimum_age is 0, so nobody is below it",
        )
