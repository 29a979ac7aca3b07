"""Assembling the facts into a draft declaration, each rule under a comment that quotes its sentence.

The draft is built to load (`vowkeep policy check`) and to be free of contradictions of its own making, so that
`vowkeep policy lint` reports only what the policy text itself says (never-sell against a partner that takes data
for its own offers, consent by mere use of a site…). Where the text gives no evidence for a required field, a
conservative default is filled in under a `TODO(review):` comment saying what to decide:

- retention: the period the text states for the purpose, else the text's cap, else 30 days;
- consent: opt-in for marketing, personalisation and advertising, and for anything behind a non-essential cookie;
- advertisers get aggregates only (SHR-3); authorities and acquirers need an operator's approval (SHR-4);
- financial data serves only completing a transaction (USE-2); a category never stored is collected by no form;
- minimum age 0 (none promised), region `TODO`, rights to access, rectify and erase, the effective date today.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from vowkeep.policy.duration import Duration
from vowkeep.policy.importer import lexicon as lx
from vowkeep.policy.importer.emit import Map, Seq
from vowkeep.policy.importer.extract import Facts, PurposeFact
from vowkeep.policy.importer.statements import Statement
from vowkeep.policy.model import Right, UsageSignal
from vowkeep.policy.taxonomy import covers

DEFAULT_PERIOD = "P30D"
DEFAULT_HOLD = "P1Y"
DEFAULT_RAW = "P7D"
TODO = "TODO(review): "
_ESSENTIAL_SERVICE = ("account", "services", "orders")
_QUOTE_LENGTH = 240


def quote(statement: Statement | None) -> str:
    """A statement as a quotation for a comment, shortened when long."""
    if statement is None:
        return ""
    text = " ".join(statement.text.split())
    if len(text) > _QUOTE_LENGTH:
        text = text[: _QUOTE_LENGTH - 1].rsplit(" ", 1)[0] + " …"
    return f'"{text}"'


def quotes(statements: list[Statement], limit: int = 2) -> str:
    seen = list(dict.fromkeys(statements))[:limit]
    return " / ".join(quote(s) for s in seen)


def _is_financial(key: str) -> bool:
    return key.startswith(lx.FINANCIAL_ROOTS)


def _is_usage(key: str) -> bool:
    return key.startswith(lx.USAGE_ROOTS) and key != "user.behavior.purchase_history"


@dataclass
class _Purpose:
    key: str
    template: lx.PurposeTemplate
    fact: PurposeFact | None
    categories: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    consent: str = "none"
    legal_basis: str = ""
    consent_note: str | None = None
    messages: str = "none"
    retention: tuple[str, str] | None = None
    retention_note: str | None = None

    @property
    def consent_based(self) -> bool:
        return self.consent != "none"


class Builder:
    """Turns `Facts` into the declaration tree; `todos` lists each default left for a person to decide."""

    def __init__(self, facts: Facts, statements: list[Statement], today: dt.date) -> None:
        self.f = facts
        self.statements = statements
        self.today = today
        self.todos: list[str] = []
        self.purposes: dict[str, _Purpose] = {}
        self.categories: list[str] = []
        self.never_store: list[str] = []
        self.cap = next((p for p in facts.periods if p.cap), None)

    def todo(self, text: str) -> str:
        self.todos.append(text)
        return TODO + text

    # -- categories ------------------------------------------------------------------------------------------------

    def _plan_categories(self) -> None:
        f = self.f
        keys = list(f.categories)
        never = list(f.never_store)
        # "We do not store your payment information": the payment and card data the text names are what is refused.
        expanded: list[str] = []
        for key in never:
            if key in lx.FINANCIAL_ROOTS:
                named = [k for k in keys if _is_financial(k) and k != key and k not in never]
                if named:
                    expanded.extend(named)
                    only_here = all(s in f.never_store.values() for s in f.categories[key].statements)
                    if only_here:
                        keys.remove(key)
                    continue
            expanded.append(key)
        self.never_store = list(dict.fromkeys(expanded))
        # A broad key next to narrower ones ("contact details" and "e-mail address") adds nothing: keep the narrow.
        kept = [k for k in keys if not any(o != k and covers(k, o) for o in keys)]
        self.categories = kept or []
        self.never_store = [k for k in self.never_store if k in kept or any(covers(k, c) for c in kept)]

    def categories_node(self) -> Seq:
        seq = Seq()
        for key in self.categories:
            fact = self.f.categories[key]
            item = Map(flow=True).add("key", key)
            if key in lx.CUSTOM_CATEGORIES:
                item.add("extends", lx.CUSTOM_CATEGORIES[key][0])
            label = fact.label + (" (never stored)" if key in self.never_store else "")
            item.add("label", label)
            if key == "user.contact.email":
                item.add("lookup", True)
            seq.add(item, quotes(fact.statements))
        if not seq.items:
            seq.add(
                Map(flow=True).add("key", "user.contact.email").add("label", "E-mail address").add("lookup", True),
                self.todo("the text names no personal data; declare the categories this business really holds"),
            )
            self.categories = ["user.contact.email"]
        return seq

    def _declared(self, key: str) -> bool:
        return any(covers(c, key) for c in self.categories)

    def _provided(self) -> list[str]:
        """Categories a person types in (not usage data, not financial, not refused)."""
        return [c for c in self.categories if not _is_usage(c) and not _is_financial(c) and c not in self.never_store]

    # -- purposes --------------------------------------------------------------------------------------------------

    def _ensure(self, key: str, why: str | None = None) -> _Purpose:
        if key not in self.purposes:
            fact = self.f.purposes.get(key)
            purpose = _Purpose(key, lx.PURPOSES[key], fact)
            if fact is None and why:
                purpose.comments.append(why)
            self.purposes[key] = purpose
        return self.purposes[key]

    def _plan_purposes(self) -> None:
        f = self.f
        ordered = sorted(f.purposes.items(), key=lambda kv: kv[1].statements[0].index if kv[1].statements else 10**6)
        for key, fact in ordered:
            purpose = self._ensure(key)
            purpose.comments.append(quotes(fact.statements))
        if not any(k in self.purposes for k in _ESSENTIAL_SERVICE):
            self._ensure("services", self.todo("the text names no service purpose; every collection point needs one"))
        financial = [c for c in self.categories if _is_financial(c) and c not in self.never_store]
        if financial and "transactions" not in self.purposes:
            self._ensure(
                "transactions",
                self.todo(
                    "the text names financial data but no purpose for it; financial "
                    "data may serve only completing a transaction (USE-2)"
                ),
            )
        for hold in f.holds.values():
            self._ensure(hold.purpose, f"Needed by the hold read from {quote(hold.statement)}")
        for key, recipient in f.recipients.items():
            if lx.RECIPIENTS[key].kind == "authority":
                self._ensure("legal_compliance", f"Disclosures to authorities: {quotes(recipient.statements, 1)}")
            if key == "advertisers" and not ({"advertising", "ad_reports"} & set(self.purposes)):
                self._ensure(
                    "ad_reports" if recipient.aggregate else "advertising",
                    f"What advertisers get: {quotes(recipient.statements, 1)}",
                )
        for key, statement in f.cookie_categories.items():
            served = [p for p in lx.COOKIE_CATEGORIES[key][3] if p in self.purposes]
            if not served:
                self._ensure(lx.COOKIE_CATEGORIES[key][3][0], f"What the cookies are for: {quote(statement)}")
        if self._has_usage() and not self._usage_purposes():
            self._ensure(
                "analytics", self.todo("usage data is collected but the text gives it no purpose; analytics is assumed")
            )
        main = self.main_purpose
        for purpose in self.purposes.values():
            self._purpose_categories(purpose)
        # Every declared category is used by some purpose (USE-1): what no purpose draws on goes to the main one.
        for key in self.categories:
            if key in self.never_store or any(covers(c, key) for p in self.purposes.values() for c in p.categories):
                continue
            target = self.purposes.get("transactions") if _is_financial(key) else None
            if target is None and _is_usage(key):
                target = next((self.purposes[k] for k in self._usage_purposes()), None)
            (target or main).categories.append(key)
        for purpose in self.purposes.values():
            self._purpose_consent(purpose)
            self._purpose_retention(purpose)

    @property
    def main_purpose(self) -> _Purpose:
        return next(self.purposes[k] for k in _ESSENTIAL_SERVICE if k in self.purposes)

    def _purpose_categories(self, purpose: _Purpose) -> None:
        stated = [c for c in (purpose.fact.categories if purpose.fact else ()) if c in self.categories]
        defaults = [c for c in self.categories if any(covers(use, c) for use in purpose.template.uses)]
        chosen = list(dict.fromkeys(stated + defaults))
        payment = purpose.template.data_use == "essential.service.payment_processing"
        chosen = [c for c in chosen if c not in self.never_store and (payment or not _is_financial(c))]
        if not chosen:
            fallback = [c for c in ("user.contact.email", "user.name") if c in self.categories]
            chosen = fallback or [c for c in self._provided()][:1]
        purpose.categories = chosen

    def _purpose_consent(self, purpose: _Purpose) -> None:
        f = self.f
        fact, template = purpose.fact, purpose.template
        purpose.messages = template.messages
        purpose.legal_basis = template.legal_basis
        needs_consent = template.data_use.startswith(lx.CONSENT_USES) or template.data_use.startswith(
            "marketing.advertising"
        )
        cookie = self._cookie_purpose(purpose.key)
        opt_in = fact.opt_in if fact else None
        opt_out = fact.opt_out if fact else None
        if opt_in:
            purpose.consent, purpose.legal_basis = "opt_in", "consent"
            purpose.consent_note = f"Opt-in: {quote(opt_in)}"
        elif opt_out:
            purpose.consent = "opt_out"
            if f.implied_consent and needs_consent:
                purpose.legal_basis = "consent"
                purpose.consent_note = f"Opt-out: {quote(opt_out)}; consent by use: {quotes(f.implied_consent)}"
            else:
                purpose.legal_basis = (
                    "legitimate_interest" if template.legal_basis == "consent" else template.legal_basis
                )
                purpose.consent_note = f"Opt-out: {quote(opt_out)}"
            if purpose.messages == "service":
                # An optional mail one can unsubscribe from carries the unsubscribe link, like marketing does.
                purpose.messages = "marketing"
        elif f.implied_consent and needs_consent:
            purpose.consent, purpose.legal_basis = "opt_out", "consent"
            purpose.consent_note = (
                f"The text treats using the site as consent: {quotes(f.implied_consent)} — declared as the text says "
                "(legal basis consent, opt-out); lint reports that consent is given by opting in."
            )
        elif cookie:
            purpose.consent, purpose.legal_basis = "opt_in", "consent"
            evidence = f.cookie_opt_in
            purpose.consent_note = (
                f"Set by a non-essential cookie, which waits for acceptance (CK-2): {quote(evidence)}"
                if evidence
                else self.todo("the text does not say whether these cookies wait for consent; opt-in is assumed (CK-2)")
            )
        elif needs_consent:
            purpose.consent, purpose.legal_basis = "opt_in", "consent"
            purpose.consent_note = self.todo("the text does not say how consent is given; opt-in is assumed (USE-3)")
        if purpose.legal_basis == "consent" and purpose.consent == "none":
            purpose.consent = "opt_in"

    def _cookie_purpose(self, key: str) -> bool:
        for category in self.cookie_plan():
            if not lx.COOKIE_CATEGORIES[category][1] and key in self._cookie_purposes(category):
                return True
        return False

    def _purpose_retention(self, purpose: _Purpose) -> None:
        candidates = []
        for period in self.f.periods:
            if period.cap:
                continue
            if purpose.key in period.targets or (purpose.key == "account" and "@account" in period.targets):
                rank = 0
            elif any(t.startswith("#") and t[1:] in purpose.categories for t in period.targets):
                rank = 1
            elif (
                "@account" in period.targets
                and (purpose.key in ("account", "services") or purpose.template.messages == "service")
            ) or (period.logs and purpose.categories and all(_is_usage(c) for c in purpose.categories)):
                rank = 2
            else:
                continue
            candidates.append((rank, -Duration.parse(period.period).nominal_days, period))
        after = self._default_after(purpose)
        if candidates:
            _, _, period = min(candidates, key=lambda c: (c[0], c[1]))
            chosen_after = period.after if period.after != "collection" else after
            if chosen_after == "withdrawal" and not purpose.consent_based:
                chosen_after = "collection"
            purpose.retention = (period.period, chosen_after)
            purpose.retention_note = f"Retention: {quote(period.statement)}"
            return
        if self.cap:
            purpose.retention = (self.cap.period, after)
            purpose.retention_note = f"Within the cap: {quote(self.cap.statement)}"
            return
        vague = quote(self.f.vague_retention[0]) if self.f.vague_retention else None
        purpose.retention = (DEFAULT_PERIOD, after)
        purpose.retention_note = self.todo(
            (f"the text says {vague}; " if vague else "the text states no retention period; ")
            + f"{DEFAULT_PERIOD} is a placeholder — decide how long this purpose keeps data"
        )

    def _default_after(self, purpose: _Purpose) -> str:
        if purpose.consent_based:
            return "withdrawal"
        if purpose.template.data_use.startswith("essential.service") and purpose.key != "transactions":
            return "last_activity"
        return "collection"

    def purposes_node(self) -> Seq:
        seq = Seq()
        for purpose in self.purposes.values():
            item = Map().add("key", purpose.key).add("label", purpose.template.label)
            item.add("data_use", purpose.template.data_use, *purpose.comments)
            item.add("categories", Seq(flow=True, items=[]))
            for key in purpose.categories:
                item.entries[-1].value.add(key)
            consent_comment = purpose.consent_note
            item.add("legal_basis", purpose.legal_basis, consent_comment if purpose.consent == "none" else None)
            if purpose.consent != "none":
                item.add("consent", purpose.consent, consent_comment)
            if purpose.messages != "none":
                item.add("messages", purpose.messages)
            period, after = purpose.retention
            item.add("retention", Map(flow=True).add("period", period).add("after", after), purpose.retention_note)
            seq.add(item)
        return seq

    # -- usage data and cookies ------------------------------------------------------------------------------------

    def _has_usage(self) -> bool:
        return bool(self.f.usage_signals) or any(_is_usage(c) for c in self.categories)

    def _usage_purposes(self) -> list[str]:
        family = ("analytics", "personalisation", "improvement", "campaign_insights")
        return [k for k in self.purposes if k in family]

    def cookie_plan(self) -> list[str]:
        """Cookie categories to declare: those the text names, and analytics for usage data when cookies exist."""
        keys = [k for k in lx.COOKIE_CATEGORIES if k in self.f.cookie_categories]
        if keys and self._has_usage() and "analytics" not in keys:
            keys.append("analytics")
        return keys

    def _cookie_purposes(self, category: str) -> list[str]:
        if category == "essential":
            return [self.main_purpose.key]
        if category == "analytics":
            return [
                k
                for k in self._usage_purposes()
                if k != "personalisation" or "personalisation" not in self.f.cookie_categories
            ] or [k for k in ("analytics",) if k in self.purposes]
        return [k for k in lx.COOKIE_CATEGORIES[category][3] if k in self.purposes]

    def usage_node(self) -> Map | None:
        if not self._has_usage():
            return None
        order = [s.value for s in UsageSignal]
        signals = sorted(self.f.usage_signals, key=order.index)
        if any(c == "user.device.ip_address" for c in self.categories) and "country" not in signals:
            signals.append("country")
        statements = list(self.f.usage_signals.values())
        node = Map().add("collect", Seq(flow=True, items=[]), quotes(statements) if statements else None)
        for signal in signals:
            node.entries[-1].value.add(signal)
        node.add("cookie_category", "analytics")
        purposes = self._cookie_purposes("analytics") if "analytics" in self.cookie_plan() else self._usage_purposes()
        node.add("purposes", Seq(flow=True, items=[]))
        for key in purposes:
            node.entries[-1].value.add(key)
        logs = next((p for p in self.f.periods if p.logs and not p.cap), None)
        if logs:
            node.add("raw_retention", logs.period, f"Raw usage events: {quote(logs.statement)}")
        else:
            raw = DEFAULT_RAW
            if self.cap and Duration.parse(self.cap.period) < Duration.parse(raw):
                raw = self.cap.period
            node.add("raw_retention", raw, self.todo("how long raw usage events are kept before roll-up"))
        node.add("ip_address", "country_only", "The IP address is reduced to a country, then dropped (COL-5).")
        return node

    def cookies_node(self) -> Seq:
        seq = Seq()
        for key in self.cookie_plan():
            label, essential, advertising, _ = lx.COOKIE_CATEGORIES[key]
            item = Map().add("key", key).add("label", label)
            if essential:
                item.add("essential", True)
            item.add("purposes", Seq(flow=True, items=[]))
            for purpose in self._cookie_purposes(key):
                item.entries[-1].value.add(purpose)
            if advertising:
                item.add("advertising", True)
            statement = self.f.cookie_categories.get(key)
            seq.add(item, quote(statement) if statement else "Usage data is counted under this category (CK-5).")
        return seq

    # -- collection points -----------------------------------------------------------------------------------------

    def points_node(self) -> Seq:
        seq = Seq()
        points = sorted(self.f.points.values(), key=lambda p: p.statements[0].index)
        plans = []
        for fact in points:
            stated = [c for c in self.categories if c in fact.categories]
            fields = self._point_fields(fact.template.key, stated, bool(fact.categories))
            plans.append((fact.template, fact, fields))
        if not plans:
            fields = self._point_fields("form", [], False)
            template = lx.PointTemplate("form", "Web form", "form")
            plans.append((template, None, fields))
        opt_in_homeless = [
            p.key for p in self.purposes.values() if p.consent == "opt_in" and not self._cookie_purpose(p.key)
        ]
        asks = next((i for i, plan in enumerate(plans) if plan[0].key == "registration"), 0)
        for i, (template, fact, fields) in enumerate(plans):
            purposes = [self.main_purpose.key]
            if fact:
                purposes += [k for k in self.purposes if k in fact.purposes and k not in purposes]
            if any(_is_financial(c) for c in fields) and "transactions" in self.purposes:
                purposes.append("transactions")
            if i == asks:
                # Opt-in purposes are asked for on a form (USE-3): the registration form, or else the first one.
                purposes += [k for k in opt_in_homeless if k not in purposes]
            purposes = list(dict.fromkeys(purposes))
            for category in fields:
                if not any(covers(c, category) for k in purposes for c in self.purposes[k].categories):
                    target = self.purposes["transactions"] if _is_financial(category) else self.main_purpose
                    target.categories.append(category)
                    if target.key not in purposes:
                        purposes.append(target.key)
            item = Map().add("key", template.key).add("label", template.label).add("channel", template.channel)
            if template.registers_subject:
                item.add("registers_subject", True)
                age = self.f.minimum_age.value if self.f.minimum_age else 0
                check = "none"
                if age:
                    check = "date_of_birth" if "user.demographic.date_of_birth" in fields else "attestation"
                item.add("age_check", check, self.todo("how the age is checked at this point (MIN-1)") if age else None)
            if fact and fact.providers and template.channel == "social_login":
                item.add("providers", Seq(flow=True, items=[]))
                for provider in fact.providers:
                    item.entries[-1].value.add(provider)
            if fact and fact.sources and template.channel == "import":
                item.add("sources", Seq(flow=True, items=[]))
                for source in fact.sources:
                    item.entries[-1].value.add(source)
            item.add("purposes", Seq(flow=True, items=[]))
            for key in purposes:
                item.entries[-1].value.add(key)
            names = self._field_names(fields)
            if "email" in names.values():
                item.add("identify_by", Seq(flow=True, items=[]).add("email"))
            field_seq = Seq()
            for category in fields:
                name = names[category]
                field_item = Map(flow=True).add("name", name).add("category", category)
                kind = _FIELD_TYPES.get(category)
                if kind:
                    field_item.add("type", kind)
                if name == "email":
                    field_item.add("required", True)
                field_seq.add(field_item)
            item.add(
                "fields",
                field_seq,
                self.todo("check the fields this point really asks for")
                if fact is None or not fact.categories
                else None,
            )
            comment = (
                quotes(fact.statements)
                if fact
                else self.todo("the text names no form or other way in; one web form is assumed")
            )
            seq.add(item, comment)
        return seq

    def _point_fields(self, key: str, stated: list[str], named_any: bool) -> list[str]:
        """The fields of a collection point: the categories its sentences name, else what such a point asks for.

        `named_any` is whether its sentences named categories at all (even ones never stored): then only the
        e-mail address and name are added, never the whole list of what the business holds.
        """
        provided = self._provided()
        stated = [c for c in stated if c not in self.never_store and not _is_usage(c)]
        identity = [c for c in provided if c.startswith(("user.contact.email", "user.name"))]
        # What a person types into a sign-up form: not what they write to us, their social graph or order history.
        form = [c for c in provided if not c.startswith(_NOT_TYPED)]
        defaults = {
            "registration": form,
            "form": form,
            "client_data": provided,
            "purchase": identity + [c for c in provided if c.startswith("user.contact")],
            "inquiry": identity + [c for c in provided if c.startswith("user.content.private")],
            "email_to_us": identity + [c for c in provided if c.startswith("user.content.private")],
            "survey": identity + [c for c in provided if c.startswith("user.content.private")],
            "forum_post": identity + [c for c in provided if c.startswith("user.content.public")],
            "social_login": identity + [c for c in provided if c.startswith("user.content.self_image")],
            "other_sources": identity + [c for c in provided if c.startswith("user.demographic.profile")],
        }
        if stated:
            fields = stated
        elif named_any:
            fields = list(identity)
        else:
            fields = list(defaults.get(key, identity))
        if key in ("purchase", "client_data"):
            fields += [c for c in self.categories if _is_financial(c) and c not in self.never_store]
            fields += [c for c in self.categories if c == "user.behavior.purchase_history"]
        if "user.contact.email" not in fields and "user.contact.email" in self.categories:
            fields.insert(0, "user.contact.email")
        return list(dict.fromkeys(fields)) or provided[:1] or [self.categories[0]]

    @staticmethod
    def _field_names(fields: list[str]) -> dict[str, str]:
        names: dict[str, str] = {}
        for category in fields:
            base = _FIELD_NAMES.get(category) or category.rsplit(".", 1)[-1]
            name, n = base, 2
            while name in names.values():
                name, n = f"{base}_{n}", n + 1
            names[category] = name
        return names

    # -- recipients ------------------------------------------------------------------------------------------------

    def recipients_node(self) -> Seq:
        seq = Seq()
        facts = sorted(self.f.recipients.values(), key=lambda r: r.statements[0].index)
        for fact in facts:
            template = fact.template
            purposes = self._recipient_purposes(fact)
            categories = self._recipient_categories(fact, purposes)
            item = Map().add("key", template.key).add("name", template.name).add("kind", template.kind)
            notes = [quotes(fact.statements)]
            if template.kind == "advertiser":
                notes.append(
                    f"Aggregates only: {quote(fact.aggregate)}"
                    if fact.aggregate
                    else self.todo(
                        "the text does not say advertisers get aggregates only; vowkeep gives advertisers grouped "
                        "counts, never rows (SHR-3) — if they get identifiable data, declare them as partners"
                    )
                )
            if fact.own_promotions:
                item.add("own_promotions", True, f"For its own offers: {quote(fact.own_promotions)}")
            item.add("categories", Seq(flow=True, items=[]))
            for key in categories:
                item.entries[-1].value.add(key)
            item.add("purposes", Seq(flow=True, items=[]))
            for key in purposes:
                item.entries[-1].value.add(key)
            if template.kind == "advertiser":
                item.add(
                    "aggregate_only",
                    Map(flow=True).add("min_group_size", 10),
                    self.todo("the smallest group an aggregate may show (10 is a placeholder)"),
                )
            if template.kind in ("authority", "acquirer"):
                item.add("requires_approval", True, "Each release is approved by an operator (SHR-4).")
            seq.add(item, *notes)
        return seq

    def _recipient_purposes(self, fact) -> list[str]:
        template = fact.template
        declared = list(self.purposes)
        stated = [k for k in declared if k in fact.purposes]
        natural = [k for k in template.serves if k in declared]
        specific = template.key in ("payment_processor", "email_delivery", "hosting", "analytics_provider", "couriers")
        if fact.own_promotions:
            chosen = ["partner_offers"]
        elif template.kind == "advertiser":
            chosen = [k for k in ("advertising", "ad_reports") if k in declared]
        elif template.kind == "authority":
            chosen = [
                k
                for k in ("legal_compliance", "fraud_prevention")
                if k in declared and (k == "legal_compliance" or k in stated)
            ]
        elif specific:
            chosen = [k for k in stated if k in template.serves] or natural
        else:
            chosen = stated or natural[:1]
        return chosen or [self.main_purpose.key]

    def _recipient_categories(self, fact, purposes: list[str]) -> list[str]:
        served = [c for k in purposes for c in self.purposes[k].categories]
        stated = [c for c in self.categories if c in fact.categories and any(covers(s, c) for s in served)]
        chosen = stated or served
        return [c for c in dict.fromkeys(chosen) if c not in self.never_store]

    # -- the rest ----------------------------------------------------------------------------------------------------

    def holds_node(self) -> Seq:
        seq = Seq()
        for key, hold in self.f.holds.items():
            purpose = self.purposes[hold.purpose]
            categories = [c for c in purpose.categories if not _is_financial(c)] or purpose.categories
            period = self.cap.period if self.cap else DEFAULT_HOLD
            item = Map().add("key", key).add("reason", hold.reason).add("purpose", hold.purpose)
            item.add("categories", Seq(flow=True, items=[]))
            for category in categories:
                item.entries[-1].value.add(category)
            note = (
                f"Within the cap: {quote(self.cap.statement)}"
                if self.cap
                else self.todo(f"the text gives no period for this hold; {DEFAULT_HOLD} is a placeholder")
            )
            item.add("retention", period, note)
            seq.add(item, quote(hold.statement))
        return seq

    def rights_node(self) -> Map:
        f = self.f
        order = [r.value for r in Right]
        offered = sorted(f.rights, key=order.index)
        notes = [quotes(list(f.rights.values()), 3)] if offered else []
        if any(p.consent == "opt_out" for p in self.purposes.values()) and "object" not in offered:
            offered.append("object")
            notes.append("`object`: opting out of a purpose is objecting to it.")
        if not offered:
            offered = ["access", "rectify", "erase"]
            notes.append(self.todo("the text offers no rights; access, rectification and erasure are assumed"))
        node = Map().add("offered", Seq(flow=True, items=[]), *notes)
        for right in offered:
            node.entries[-1].value.add(right)
        node.add("response_deadline", "P30D", self.todo("how soon requests are answered (30 days is a placeholder)"))
        channels = ["center"]
        channel_notes = []
        if f.email:
            channels.append("email")
            channel_notes.append(f"E-mail: {quote(f.email.statement)}")
        if "phone" in f.channels:
            channels.append("phone")
            channel_notes.append(f"Phone: {quote(f.channels['phone'])}")
        node.add("channels", Seq(flow=True, items=[]), *channel_notes)
        for channel in channels:
            node.entries[-1].value.add(channel)
        node.add("review", "case_by_case", f"Review: {quote(f.case_by_case)}" if f.case_by_case else None)
        return node

    def limits_node(self) -> Map | None:
        f = self.f
        node = Map()
        if self.cap:
            node.add("retention_cap", self.cap.period, quote(self.cap.statement))
        if f.never_sell_qualified:
            node.add(
                "never_sell",
                False,
                quote(f.never_sell_qualified),
                self.todo("the text qualifies its promise not to sell; decide whether to promise never_sell"),
            )
        elif f.never_sell:
            node.add("never_sell", True, quote(f.never_sell))
        else:
            node.add("never_sell", False, self.todo("the text does not say whether personal data is sold"))
        if self.never_store:
            node.add(
                "never_store",
                Seq(flow=True, items=[]),
                quotes([f.never_store[k] for k in f.never_store if k in f.never_store]),
            )
            for key in self.never_store:
                node.entries[-1].value.add(key)
        return node

    def changes_node(self) -> Map:
        f = self.f
        if f.no_notice:
            node = Map().add("notify", Seq(flow=True, items=[]), quote(f.no_notice))
        elif f.notify:
            kinds = [k for k in ("email", "banner") if k in f.notify]
            node = Map().add("notify", Seq(flow=True, items=[]), quotes([f.notify[k] for k in kinds]))
            for kind in kinds:
                node.entries[-1].value.add(kind)
        else:
            node = Map().add(
                "notify",
                Seq(flow=True, items=[]).add("email").add("banner"),
                self.todo("the text does not say how changes are announced; e-mail and a banner are assumed"),
            )
        if f.notice_period:
            node.add("notice_period", f.notice_period.value, quote(f.notice_period.statement))
        return node

    def notice_node(self) -> Map | None:
        f = self.f
        node = Map()
        if f.introduction:
            node.add("introduction", " ".join(s.text for s in f.introduction))
        if f.third_party_sites:
            node.add("third_party_sites", " ".join(s.text for s in f.third_party_sites[:2]))
        if f.security_measures:
            seq = Seq()
            for statement in f.security_measures:
                seq.add(statement.text)
            node.add("security_measures", seq)
        if f.public_content:
            node.add("public_content", " ".join(s.text for s in f.public_content[:2]))
        return node if node.entries else None

    def organization_node(self) -> Map:
        f = self.f
        node = Map()
        if f.name:
            node.add("name", f.name.value, quote(f.name.statement))
        else:
            node.add("name", "TODO", self.todo("the text does not name the business; give its name"))
        if f.legal_name:
            node.add("legal_name", f.legal_name.value)
        if f.website:
            node.add("website", f.website.value, quote(f.website.statement))
        contact = Map()
        notes = []
        if f.email:
            contact.add("email", f.email.value)
            notes.append(quote(f.email.statement))
        if f.url and re.search(r"\bcontact", f.url.statement.text, re.I):
            contact.add("url", f.url.value if f.url.value.startswith("http") else "https://" + f.url.value)
            notes.append(quote(f.url.statement))
        if not contact.entries:
            fallback = f.website.value if f.website else "/center"
            contact.add("url", fallback)
            notes.append(self.todo("the text gives no contact address; the privacy center or website stands in"))
        node.add("contact", contact, *list(dict.fromkeys(notes)))
        if f.jurisdiction:
            node.add("jurisdiction", f.jurisdiction.value, quote(f.jurisdiction.statement))
        if f.governing_law:
            node.add("governing_law", f.governing_law.value)
        if f.courts:
            node.add("courts", f.courts.value)
        return node

    def storage_node(self) -> Map:
        f = self.f
        node = Map()
        region, note = "TODO", self.todo("the text names no server location; give the storage region(s)")
        outside = next((to for to in f.transfers if to.startswith("Outside ")), None)
        home = lx.COUNTRIES.get(outside.removeprefix("Outside ").lower()) if outside else None
        if f.region:
            region, note = f.region.value, quote(f.region.statement)
        elif home:
            # Data sent "outside India" is kept in India.
            region, note = home, f"Transfers go outside it: {quote(f.transfers[outside])}"
        elif f.jurisdiction:
            code = next((c for n, c in lx.COUNTRIES.items() if n in f.jurisdiction.value.lower()), None)
            if code:
                region = code
                note = self.todo(f"the text names no server location; {code} is the country whose law governs it")
        node.add("regions", Seq(flow=True, items=[]).add(region), note)
        if f.transfers:
            seq = Seq()
            for to, statement in f.transfers.items():
                item = Map().add("to", to)
                if f.safeguard:
                    item.add("safeguard", f.safeguard.value, quote(f.safeguard.statement))
                else:
                    item.add("safeguard", "TODO", self.todo("how data sent abroad is protected"))
                seq.add(item, quote(statement))
            node.add("transfers", seq)
        return node

    def minors_node(self) -> Map:
        f = self.f
        node = Map()
        if f.minimum_age:
            node.add("minimum_age", f.minimum_age.value, quote(f.minimum_age.statement))
            if f.guardian:
                node.add("guardian_may_consent", True, quote(f.guardian))
            if f.report_contact:
                node.add("report_contact", f.report_contact.value)
        else:
            node.add("minimum_age", 0, self.todo("the text promises no minimum age; 0 means no age gate"))
        return node

    # -- the document ------------------------------------------------------------------------------------------------

    def build(self) -> Map:
        f = self.f
        self._plan_categories()
        categories = self.categories_node()
        self._plan_purposes()
        doc = Map().add("vowkeep", 1)
        doc.add("organization", self.organization_node())
        if f.effective_date:
            doc.add("effective_date", f.effective_date.value, quote(f.effective_date.statement))
        else:
            doc.add("effective_date", self.today, self.todo("the text carries no date; the day of the import is used"))
        doc.add("minors", self.minors_node())
        doc.add("storage", self.storage_node())
        doc.add("categories", categories)
        points = self.points_node()  # may add categories to purposes: before the purposes are written
        doc.add("collection_points", points)
        usage = self.usage_node()
        if usage:
            doc.add("usage_data", usage)
        recipients = self.recipients_node()
        doc.add("purposes", self.purposes_node())
        if recipients.items:
            doc.add("recipients", recipients)
        cookies = self.cookies_node()
        if cookies.items:
            doc.add("cookie_categories", cookies)
        holds = self.holds_node()
        if holds.items:
            doc.add("holds", holds)
        doc.add("rights", self.rights_node())
        limits = self.limits_node()
        if limits:
            doc.add("limits", limits)
        changes = self.changes_node()
        doc.add("changes", changes)
        notice = self.notice_node()
        if notice:
            doc.add("notice", notice)
        return doc


_NOT_TYPED = ("user.content", "user.behavior", "user.social", "user.demographic.profile")
_FIELD_NAMES = {
    "user.contact.email": "email",
    "user.contact.phone_number": "phone",
    "user.contact.address": "address",
    "user.contact.address.postal_code": "postal_code",
    "user.name": "name",
    "user.name.first": "first_name",
    "user.name.last": "last_name",
    "user.authorization.password": "password",
    "user.financial.credit_card": "card_number",
    "user.financial.bank_account": "bank_account",
    "user.financial.paypal": "paypal_account",
    "user.content.private": "message",
    "user.content.public": "post",
    "user.content.self_image": "picture",
    "user.demographic.profile": "profile",
    "user.workplace": "company",
    "user.behavior.purchase_history": "order_details",
}
_FIELD_TYPES = {
    "user.contact.email": "email",
    "user.contact.phone_number": "phone",
    "user.contact.address.postal_code": "postal_code",
    "user.authorization.password": "password",
    "user.demographic.date_of_birth": "date",
    "user.content.self_image": "url",
}
