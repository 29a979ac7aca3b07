"""Extracting facts from classified statements: categories, purposes, recipients, retention, age, contacts…

Each fact remembers the statement it came from (for the YAML comment above its rule) and is noted on that
statement (for `--json` and the list of statements left over). Which statements are read for what:

- categories: any statement except those about children, policy changes and Do Not Track; a phrase in a
  negated clause ("does not reveal your name", "we never store your card number") is not collected;
- purposes: statements that speak for the business ("we use…", "…is collected to…", or a list item under such a
  lead-in) in the collection, sharing, retention, choice and other classes;
- recipients: statements that share ("share", "disclose", "have access", "is processed by a third party…"); a
  sharing list item that names a purpose but no recipient discloses to the recipient that purpose implies
  (the law → authorities, providing the service → service providers);
- retention: `data_retention` statements: durations, caps ("no … longer than a month"), vague periods ("as long
  as necessary", flagged for review) and holds (archives, legal requirements);
- consent: opt-in ("prior approval", "only if you tick", a cookie that "asks permission"), opt-out ("opt out",
  "unsubscribe") and consent by use ("by using our sites you are consenting to the collection…").
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field

from vowkeep.policy.importer import lexicon as lx
from vowkeep.policy.importer.classify import (
    ACCESS,
    AUDIENCES,
    CHANGE,
    CHOICE,
    DNT,
    FIRST_PARTY,
    OTHER,
    RETENTION,
    SECURITY,
    SHARING,
)
from vowkeep.policy.importer.statements import Statement

IGNORE = re.I


@dataclass
class Fact:
    """A value and the statement it was read from."""

    value: object
    statement: Statement


@dataclass
class CategoryFact:
    key: str
    label: str
    statements: list[Statement] = field(default_factory=list)


@dataclass
class PurposeFact:
    template: lx.PurposeTemplate
    statements: list[Statement] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)
    opt_in: Statement | None = None
    opt_out: Statement | None = None


@dataclass
class RecipientFact:
    template: lx.RecipientTemplate
    statements: list[Statement] = field(default_factory=list)
    purposes: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    aggregate: Statement | None = None
    own_promotions: Statement | None = None


@dataclass
class PointFact:
    template: lx.PointTemplate
    statements: list[Statement] = field(default_factory=list)
    categories: set[str] = field(default_factory=set)
    purposes: set[str] = field(default_factory=set)
    providers: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass
class PeriodFact:
    """A retention period the text states; `cap` for "no … longer than", `targets` the purposes it applies to."""

    period: str
    after: str
    cap: bool
    statement: Statement
    targets: set[str] = field(default_factory=set)
    logs: bool = False


@dataclass
class HoldFact:
    purpose: str
    statement: Statement
    reason: str


@dataclass
class Facts:
    """Everything read from a policy, each fact with its statement."""

    categories: dict[str, CategoryFact] = field(default_factory=dict)
    purposes: dict[str, PurposeFact] = field(default_factory=dict)
    recipients: dict[str, RecipientFact] = field(default_factory=dict)
    points: dict[str, PointFact] = field(default_factory=dict)
    usage_signals: dict[str, Statement] = field(default_factory=dict)
    cookie_categories: dict[str, Statement] = field(default_factory=dict)
    cookie_opt_in: Statement | None = None
    periods: list[PeriodFact] = field(default_factory=list)
    vague_retention: list[Statement] = field(default_factory=list)
    holds: dict[str, HoldFact] = field(default_factory=dict)
    minimum_age: Fact | None = None
    guardian: Statement | None = None
    report_contact: Fact | None = None
    never_sell: Statement | None = None
    never_sell_qualified: Statement | None = None
    never_store: dict[str, Statement] = field(default_factory=dict)
    financial_only: Statement | None = None
    implied_consent: list[Statement] = field(default_factory=list)
    rights: dict[str, Statement] = field(default_factory=dict)
    channels: dict[str, Statement] = field(default_factory=dict)
    case_by_case: Statement | None = None
    notify: dict[str, Statement] = field(default_factory=dict)
    no_notice: Statement | None = None
    notice_period: Fact | None = None
    name: Fact | None = None
    legal_name: Fact | None = None
    website: Fact | None = None
    email: Fact | None = None
    url: Fact | None = None
    jurisdiction: Fact | None = None
    governing_law: Fact | None = None
    courts: Fact | None = None
    effective_date: Fact | None = None
    region: Fact | None = None
    transfers: dict[str, Statement] = field(default_factory=dict)
    safeguard: Fact | None = None
    introduction: list[Statement] = field(default_factory=list)
    security_measures: list[Statement] = field(default_factory=list)
    third_party_sites: list[Statement] = field(default_factory=list)
    public_content: list[Statement] = field(default_factory=list)

    @property
    def stated_periods(self) -> list[str]:
        """The distinct retention periods the text states, caps included, in order of appearance."""
        return list(dict.fromkeys(p.period for p in self.periods))


# --- small readers -----------------------------------------------------------------------------------------------

_NEGATION = re.compile(r"\b(?:not|never|no|nor|cannot|neither|none)\b|n[’']t\b|\bin no way\b", IGNORE)
_CLAUSE = re.compile(
    r";|\s[–—-]\s|\bbut\b|\bhowever\b|(?=\b(?:except|other than|unless|apart from|save for)\b)", IGNORE
)
_FIRST_PERSON = re.compile(r"\b(?:we|us|our|ours)\b", IGNORE)
_PASSIVE = re.compile(
    r"\b(?:is|are|be|been|being|was|were)\s+(?:also\s+|automatically\s+|only\s+|primarily\s+)?(?:used|collected|"
    r"gathered|processed|shared|disclosed|retained|stored|kept|transferred|obtained|recorded|needed|planned)\b|"
    r"\byou (?:are required to |must |may |can )?(?:enter|provide|give|submit|supply)\b",
    IGNORE,
)
_SHARES = re.compile(
    r"\b(?:share[sd]?|sharing|disclose[sd]?|disclosure|transferr?\w*|sell|rent|trade|have access|pass to|"
    r"processed by (?:a |an |our )?(?:third|external)|handled by (?:our|a|an)\b|stored by (?:our|a|the)\b|"
    r"(?:advertisers|third parties|partners) may (?:collect|use)|allow (?:selected )?third parties)\b",
    IGNORE,
)
_OPT_IN = re.compile(
    r"\bprior (?:approval|consent|permission)\b|\bonly (?:if|when|with)\b[^.]{0,30}\b(?:consent|agree|accept|tick|"
    r"opt in|subscribe|permission)\w*|\bwith your (?:prior |explicit )?consent\b|\basks? (?:for )?(?:your )?"
    r"permission\b|\bonce you agree\b|\bopt(?:ing)?[- ]?in\b|\baccept or decline\b|\bif you accept\b",
    IGNORE,
)
_KEEPS = re.compile(r"\b(?:keep|kept|retain\w*|stor(?:e|ed|es)|delet\w*|remov\w*|eras\w*|purg\w*)\b", IGNORE)
_AGE = re.compile(
    r"\b(?:under|below|younger than|less than|at least|over)\s+(?:the\s+age\s+of\s+|age\s+)?(\d{1,2})\b|"
    r"\b(\d{1,2})\s+years?(?:\s+of)?\s+(?:age|old)\b",
    IGNORE,
)
_OPT_OUT = re.compile(r"\bopt(?:ing)?[- ]?out\b|\bunsubscrib\w+\b|\bwithdraw (?:your )?consent\b", IGNORE)
_MAIL_TOPIC = re.compile(
    r"\bpromotion\w*|\bmarketing\b|\bnewsletters?\b|\be-?mail\w*\b|\bcommunications?\b|\bmail", IGNORE
)
_COOKIE_TOPIC = re.compile(r"\bcookies?\b|\btracking technolog\w+|\bweb beacons?\b|\bpixels?\b", IGNORE)
_IMPLIED = re.compile(
    r"\bby (?:using|accessing|visiting|continuing to use)\b[^.]{0,100}\byou (?:are )?(?:agree|consent)\w*\s+to "
    r"(?:the |our )?(?:collection|use|processing|sharing)\b",
    IGNORE,
)
_NEVER_SELL = re.compile(
    r"\b(?:do|does|will|shall)\s+not\s+(?:\w+,?\s+){0,4}?(?:sell|rent|trade)\b|\bnever\s+(?:\w+\s+){0,3}?"
    r"(?:sell|share|trade|rent)\b|\b(?:do|does|will|shall)\s+not\s+(?:\w+\s+){0,2}?share\s+(?:any\s+of\s+)?"
    r"(?:your|the|our)\s+(?:personal|customer|e-?mail|information|data)",
    IGNORE,
)
_QUALIFIED = re.compile(
    r"\bunless (?:described|otherwise|stated|set out)|\bexcept as (?:described|set out|stated|provided)", IGNORE
)
_NEVER_STORE = re.compile(
    r"\b(?:do|does|will|shall|is|are)\s+not\s+(?:\w+\s+){0,3}?(?:stor(?:e|ed)|kept|keep|retain(?:ed)?|saved?)\b|"
    r"\bnever\s+(?:\w+\s+){0,3}?(?:stor(?:e|ed)|kept|keep|retain(?:ed)?|saved?)\b",
    IGNORE,
)
# "All payment data is stored by our payment processor": what another party keeps, the business does not.
_STORED_ELSEWHERE = re.compile(
    r"\b(?:is|are)\s+(?:stored|held|kept)\s+(?:only\s+)?by\s+(?:our|the|a|an)\s+(?:payment\s+|third[- ]party\s+)?"
    r"(?:processors?|providers?|gateways?)\b",
    IGNORE,
)
_FINANCIAL_ONLY = re.compile(
    r"\bfinancial (?:information|data)\b[^.]{0,80}\b(?:only|other than|solely|except)\b[^.]{0,40}\b(?:transactions?|"
    r"payments?|purchases?)\b",
    IGNORE,
)
_MEASURE = re.compile(
    r"\bmeasures?\b|\bprocedures?\b|\bencrypt\w*|\bfirewalls?\b|\baccess controls?\b|\bauthori[sz]ed personnel\b|"
    r"\baudits?\b|\btraining\b|\bSSL\b|\bTLS\b|\bPCI\b|\bsecure server\b|\bneed[- ]to[- ]know\b|\baccessible only\b|"
    r"\bsafeguard\w*\b|\bsecured\b",
    IGNORE,
)
_SAFEGUARD = re.compile(
    r"\bprotect\w*\b[^.]{0,60}\b(?:as per|in accordance with)\b|\bsafeguards?\b|\bstandard contractual clauses\b|"
    r"\btake all necessary measures\b",
    IGNORE,
)
_CONTACT_CUE = re.compile(r"\bcontact\w*\b|\bquestions?\b|\bwrite to\b|\be-?mail us\b|\breach us\b", IGNORE)
_EMAIL = re.compile(r"\b[\w.+-]+@(?:[\w-]+\.)+[a-z]{2,}\b", IGNORE)
_URL = re.compile(r"\bhttps?://[^\s)>\]\"']+|\bwww\.(?:[\w-]+\.)+[a-z]{2,}(?:/[^\s)>\]\"']*)?", IGNORE)
_DOMAIN = re.compile(r"\b(?:[a-z0-9-]+\.)+(?:com|org|net|io|co|uk|in|de|fr|eu|info|biz|us|ca|au)\b", IGNORE)
_NOT_OURS = ("archive.org", "facebook.com", "twitter.com", "google.com", "wikipedia.org", "youtube.com")
_LEGAL_SUFFIX = r"(?:Pvt\.? Ltd\.?|Private Limited|Ltd\.?|Limited|Inc\.?|LLC|LLP|GmbH|S\.A\.|B\.V\.|PLC|Corp\.?|Co\.)"
_NAME_WORD = r"(?!(?:Pvt|Private|Ltd|Limited|Inc|LLC|LLP|GmbH|PLC|Corp|Co)\b)(?:[A-Z][A-Za-z0-9&'’-]*|[A-Z]{2,})"
_ORG = re.compile(rf"\b({_NAME_WORD}(?:\s+{_NAME_WORD}){{0,4}})(?:\s+({_LEGAL_SUFFIX}))?")
_NOT_NAMES = {
    "privacy", "policy", "privacy policy", "personal", "information", "the", "this", "we", "our", "you", "your",
    "cookie", "cookies", "terms", "web", "internet", "site", "website", "email", "e-mail", "ip", "zip", "user",
    "users", "customer", "customers", "european economic area", "facebook", "twitter", "google", "india", "i",
}  # fmt: skip
_MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        1,
    )
}
_DATE_CUE = re.compile(r"\b(?:last\s+)?(?:updated|effective|revised|modified|archived|dated?)\b", IGNORE)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MDY = re.compile(r"\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", IGNORE)
_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(_MONTHS) + r"),?\s+(\d{4})\b", IGNORE)


def clauses(text: str) -> list[tuple[str, bool]]:
    """The clauses of a statement, each with whether it is negated ("we do not store…").

    A clause that opens with "except", "other than" or "unless" states the exception, which is positive.
    """
    parts = _CLAUSE.split(text)
    out = []
    for part in parts:
        if not part or not part.strip():
            continue
        exception = re.match(r"\s*(?:except|other than|unless|apart from|save for)\b", part, IGNORE)
        out.append((part, not exception and bool(_NEGATION.search(part))))
    return out


def positive_text(text: str) -> str:
    """The statement with its negated clauses blanked out (so spans keep their places)."""
    out = []
    for part, negated in clauses(text):
        out.append(" " * len(part) if negated else part)
    return " ".join(out)


def find_terms(text: str, table) -> list[tuple[object, str]]:
    """(meaning, matched text) of each row of a lexicon table found in `text`; earlier rows mask later ones."""
    return [(meaning, surface) for _, meaning, surface in find_spans(text, table)]


def find_spans(text: str, table) -> list[tuple[int, object, str]]:
    """(offset, meaning, matched text) of each row found in `text`, in reading order; earlier rows mask later."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, object, str]] = []
    for row in table:
        pattern, meaning = (row.pattern, row) if isinstance(row, lx.Term) else row
        for match in pattern.finditer(text):
            start, end = match.span()
            if start == end or any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            if meaning is not None and (not isinstance(meaning, lx.Term) or meaning.keys):
                found.append((start, meaning, match.group(0)))
    return sorted(found, key=lambda f: f[0])


def _us(text: str, aliases: list[str]) -> str:
    """The text with the business's own name read as "we"."""
    for alias in aliases:
        text = re.sub(rf"\b{re.escape(alias)}\b", "we", text, flags=IGNORE)
    return text


def speaks_for_us(statement: Statement, aliases: list[str]) -> bool:
    """Whether the statement says what the business does (not what cookies or other sites do)."""
    text = _us(statement.text, aliases)
    if _FIRST_PERSON.search(text) or _PASSIVE.search(text):
        return True
    if statement.kind == "item" or statement.label:
        frame = _us(" ".join(p for p in (statement.lead, statement.section, statement.label) if p), aliases)
        return bool(
            _FIRST_PERSON.search(frame) or _PASSIVE.search(frame) or re.search(r"\bpurpose|\buse", frame, IGNORE)
        )
    return False


def _capital(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" .,;:")
    return text[:1].upper() + text[1:]


# --- the extractor -----------------------------------------------------------------------------------------------


class _Extractor:
    def __init__(self, statements: list[Statement], facts: Facts, aliases: list[str]) -> None:
        self.statements = statements
        self.facts = facts
        self.aliases = aliases

    def run(self) -> Facts:
        for statement in self.statements:
            self._read(statement)
        self._lead_ins()
        return self.facts

    def _lead_ins(self) -> None:
        """A list's lead-in ("We may collect the following information:") is read through its items."""
        for s in self.statements:
            if s.rules or not s.text.rstrip().endswith(":"):
                continue
            items = [t for t in self.statements[s.index + 1 :] if t.lead == s.text]
            if any(t.rules for t in items):
                s.add_rule(f"(read with the {len(items)} list items it introduces)")

    # -- per statement ------------------------------------------------------------------------------------------

    def _read(self, s: Statement) -> None:
        cls = s.cls
        positive = positive_text(s.text)
        categories = self._categories(s, positive) if cls not in (AUDIENCES, CHANGE, DNT) else []
        us = speaks_for_us(s, self.aliases)
        purposes: list[str] = []
        if us and cls in (FIRST_PARTY, SHARING, RETENTION, CHOICE, OTHER):
            purposes = self._purposes(s, positive, categories)
        if cls not in (AUDIENCES, CHANGE, DNT, SECURITY):
            self._usage(s, positive, categories)
        if _SHARES.search(s.text) or s.cls == SHARING:
            self._recipients(s, positive, purposes, categories)
        if cls == FIRST_PARTY and us:
            self._points(s, positive, categories, purposes)
        if _COOKIE_TOPIC.search(s.text):
            self._cookies(s)
        self._consent(s, purposes)
        if (
            cls == RETENTION
            or lx.VAGUE_RETENTION.search(s.text)
            or (cls not in (CHANGE, AUDIENCES) and _KEEPS.search(s.text))
        ):
            self._retention(s, purposes, categories)
        if cls == AUDIENCES or re.search(r"\bchild|\bminor", s.text, IGNORE):
            self._minors(s)
        self._promises(s)
        if cls in (ACCESS, CHOICE) or re.search(r"\bright to\b", s.text, IGNORE):
            self._rights(s)
        if cls == CHANGE:
            self._changes(s)
        self._who_we_are(s)
        self._notice(s)

    def _categories(self, s: Statement, positive: str) -> list[str]:
        keys: list[str] = []
        for term, surface in find_terms(positive, lx.CATEGORIES):
            for key in term.keys:
                fact = self.facts.categories.get(key)
                if fact is None:
                    # The text's own words make the label ("Mailing address", "Hand-phone number"), unless they are
                    # a bare word ("account") or a phrase that is no name ("which pages", "how you use").
                    words = re.sub(r"^(?:your|the|a|an|our|their|its|this|any)\s+", "", surface, flags=IGNORE).split()
                    named = len(words) > 1 and words[0].lower() not in ("which", "how", "number", "about", "links")
                    label = _capital(" ".join(words)) if len(term.keys) == 1 and named else lx.label_of(key)
                    fact = self.facts.categories[key] = CategoryFact(key, label)
                if s not in fact.statements:
                    fact.statements.append(s)
                keys.append(key)
                s.add_rule(f"categories: {key}")
        return list(dict.fromkeys(keys))

    def _usage(self, s: Statement, positive: str, categories: list[str]) -> None:
        automatic = any(k.startswith(lx.USAGE_ROOTS) for k in categories) or re.search(
            r"\bautomatically\b|\blogs?\b|\busage\b|\btraffic\b|\bbrowser types?\b|\bnavigat|\bvisit\w*\b",
            s.text,
            IGNORE,
        )
        if not automatic:
            return
        for signal, _ in find_terms(positive, lx.USAGE_SIGNALS):
            if signal not in self.facts.usage_signals:
                self.facts.usage_signals[signal] = s
            s.add_rule(f"usage_data.collect: {signal}")

    def _purposes(self, s: Statement, positive: str, categories: list[str]) -> list[str]:
        keys = []
        text = _us(positive, self.aliases)
        for key, _ in find_terms(text, lx.PURPOSE_CUES):
            keys.append(key)
        if s.label and not keys:
            # "Improving Services: This may involve developing new features" — the label names the purpose.
            keys = [k for k, _ in find_terms(s.label, lx.PURPOSE_CUES)]
        keys = list(dict.fromkeys(keys))
        for key in keys:
            fact = self.facts.purposes.setdefault(key, PurposeFact(lx.PURPOSES[key]))
            if s not in fact.statements:
                fact.statements.append(s)
            fact.categories.update(categories)
            s.add_rule(f"purposes[{key}]: {fact.template.data_use}")
        return keys

    def _recipients(self, s: Statement, positive: str, purposes: list[str], categories: list[str]) -> None:
        text = positive
        found = [key for key, _ in find_terms(text, lx.RECIPIENT_CUES)]
        if not found and s.kind == "item" and purposes:
            # "…we will not disclose … to third parties unless: To help investigate … suspected fraud".
            if {"legal_compliance", "fraud_prevention"} & set(purposes):
                found = ["authorities"]
            elif {"services", "account", "orders", "transactions"} & set(purposes):
                found = ["service_providers"]
        for key in dict.fromkeys(found):
            template = lx.RECIPIENTS[key]
            fact = self.facts.recipients.setdefault(key, RecipientFact(template))
            if s not in fact.statements:
                fact.statements.append(s)
            fact.purposes.update(p for p in purposes if p not in ("ad_reports",) or key == "advertisers")
            fact.categories.update(categories)
            if lx.AGGREGATE.search(s.text):
                fact.aggregate = fact.aggregate or s
            if template.kind == "partner" and lx.OWN_PROMOTIONS.search(s.text):
                fact.own_promotions = fact.own_promotions or s
                self.facts.purposes.setdefault("partner_offers", PurposeFact(lx.PURPOSES["partner_offers"]))
                self.facts.purposes["partner_offers"].statements.append(s)
                fact.purposes.add("partner_offers")
            s.add_rule(f"recipients[{key}]: {template.kind}")

    def _points(self, s: Statement, positive: str, categories: list[str], purposes: list[str]) -> None:
        if not (
            re.search(
                r"\bcollect|\bprovide|\benter|\bregist|\bobtain|\breceive|\bask|\bsubmit|\binclude|"
                r"\bsign|\bcommunicat|\bshared on",
                s.text,
                IGNORE,
            )
            or s.cls == FIRST_PARTY
        ):
            return
        cues = find_spans(positive, lx.POINT_CUES)
        # With several ways in named in one sentence, each category goes to the one named nearest to it
        # ("when registering …, or posting messages in our online forums" — the posts belong to the forum).
        nearest: dict[str, set[str]] = {key: set() for _, key, _ in cues}
        for offset, term, _ in find_spans(positive, lx.CATEGORIES):
            if cues:
                _, key, _ = min(cues, key=lambda c: abs(c[0] - offset))
                nearest[key].update(k for k in term.keys if not k.startswith(lx.USAGE_ROOTS))
        for _, key, _ in cues:
            fact = self.facts.points.setdefault(key, PointFact(lx.POINTS[key]))
            if s not in fact.statements:
                fact.statements.append(s)
            fact.categories.update(
                nearest[key] if len(cues) > 1 else (c for c in categories if not c.startswith(lx.USAGE_ROOTS))
            )
            fact.purposes.update(purposes)
            for provider in lx.SOCIAL_PROVIDERS:
                if re.search(rf"\b{provider}\b", s.text, IGNORE) and provider not in fact.providers:
                    fact.providers.append(provider)
            for source in lx.SOURCES.findall(s.text):
                if source.lower() not in fact.sources:
                    fact.sources.append(source.lower())
            s.add_rule(f"collection_points[{key}]")

    def _cookies(self, s: Statement) -> None:
        for key, _ in find_terms(s.text, lx.COOKIE_CUES):
            self.facts.cookie_categories.setdefault(key, s)
            s.add_rule(f"cookie_categories[{key}]")
        if _OPT_IN.search(s.text) and not self.facts.cookie_opt_in:
            self.facts.cookie_opt_in = s
            s.add_rule("cookie_categories: accepted in the banner (opt_in)")

    def _consent(self, s: Statement, purposes: list[str]) -> None:
        f = self.facts
        if _IMPLIED.search(s.text):
            f.implied_consent.append(s)
            s.add_rule("consent by use of the site: consent-based purposes are opt_out")
        opt_in, opt_out = _OPT_IN.search(s.text), _OPT_OUT.search(s.text)
        if not (opt_in or opt_out) or (_COOKIE_TOPIC.search(s.text) and not purposes):
            return
        targets = [p for p in purposes if p in f.purposes]
        if not targets and _MAIL_TOPIC.search(s.text):
            targets = self._recent_mail_purposes(s)
        for key in targets:
            fact = f.purposes[key]
            essential = fact.template.data_use.startswith("essential.")
            if essential and (opt_in or fact.template.messages == "none"):
                continue  # "we share … with your consent, to comply with laws": consent is not the law's basis
            if opt_in and not fact.opt_in:
                fact.opt_in = s
                s.add_rule(f"purposes[{key}].consent: opt_in")
            if opt_out and not fact.opt_out:
                fact.opt_out = s
                s.add_rule(f"purposes[{key}].consent: opt_out")

    def _recent_mail_purposes(self, s: Statement) -> list[str]:
        """An opt-out with no purpose of its own ("you may unsubscribe") applies to the e-mail purposes named by
        the statements just before it, or else to every marketing purpose."""
        for back in range(s.index - 1, max(-1, s.index - 4), -1):
            before = self.statements[back]
            keys = [
                k for k, p in self.facts.purposes.items() if before in p.statements and p.template.messages != "none"
            ]
            if keys:
                return keys
        return [k for k, p in self.facts.purposes.items() if p.template.data_use.startswith("marketing.communications")]

    def _retention(self, s: Statement, purposes: list[str], categories: list[str]) -> None:
        f = self.facts
        if lx.VAGUE_RETENTION.search(s.text):
            f.vague_retention.append(s)
            s.add_rule("retention: left to judgement (TODO)")
        for match in lx.DURATION.finditer(s.text):
            before, after_text = s.text[: match.start()], s.text[match.end() :]
            if re.match(r"\s*(?:of age|old|of age or older)\b", after_text, IGNORE):
                continue  # an age, not a period
            period = lx.iso_duration(match.group(1), match.group(2))
            cap = bool(lx.CAP.search(before))
            after = "collection"
            if re.search(
                r"^\W*(?:after|from|following)\b[^.]{0,30}\b(?:last (?:log-?in|activity|visit|use)|"
                r"inactivity)",
                after_text,
                IGNORE,
            ):
                after = "last_activity"
            elif re.search(r"^\W*(?:after|from|following)\b[^.]{0,30}\b(?:clos|delet|terminat)\w*", after_text, IGNORE):
                after = "account_closure"
            elif re.search(r"^\W*(?:after|from|following)\b[^.]{0,30}\b(?:withdraw|unsubscrib)", after_text, IGNORE):
                after = "withdrawal"
            targets = set(purposes)
            if re.search(r"\baccounts?\b", s.text, IGNORE):
                targets.add("@account")
            logs = bool(re.search(r"\blogs?\b|\busage\b|\btraffic\b", s.text, IGNORE))
            for key in categories:
                targets.add("#" + key)
            f.periods.append(PeriodFact(period, after, cap, s, targets, logs))
            s.add_rule(f"{'limits.retention_cap' if cap else 'retention'}: {period}")
        if re.search(
            r"\b(?:remain|kept|stored|retained|keep|held)\b[^.]{0,40}\barchiv\w*|\barchiv\w* records\b|"
            r"\bremain (?:stored|with us)|\bretained in our files\b|\blonger retention period is "
            r"required\b|\brequired or permitted by law\b",
            s.text,
            IGNORE,
        ):
            reason_fraud = re.search(r"\bfraud\b", s.text, IGNORE)
            if reason_fraud:
                f.holds.setdefault("fraud_investigation", HoldFact("fraud_prevention", s, "Fraud prevention"))
                s.add_rule("holds[fraud_investigation]")
            key = "archive" if re.search(r"\barchiv", s.text, IGNORE) else "legal_requirement"
            if key == "archive" or not reason_fraud or re.search(r"\blegal|\blaw\b|\bstatutory", s.text, IGNORE):
                reason = "Archive kept after deletion" if key == "archive" else "Retention required by law"
                f.holds.setdefault(key, HoldFact("legal_compliance", s, reason))
                s.add_rule(f"holds[{key}]")

    def _minors(self, s: Statement) -> None:
        f = self.facts
        ages = [int(m.group(1) or m.group(2)) for m in _AGE.finditer(s.text)]
        ages = [a for a in ages if 0 < a <= 25]
        if ages and (f.minimum_age is None or max(ages) > f.minimum_age.value):
            f.minimum_age = Fact(max(ages), s)
            s.add_rule(f"minors.minimum_age: {max(ages)}")
        if re.search(r"\bparent\w* or (?:legal )?guardian\b[^.]{0,80}\bconsent", s.text, IGNORE) and not f.guardian:
            f.guardian = s
            s.add_rule("minors.guardian_may_consent: true")
        email = _EMAIL.search(s.text)
        if email and not f.report_contact:
            f.report_contact = Fact(email.group(0), s)
            s.add_rule("minors.report_contact")

    def _promises(self, s: Statement) -> None:
        f = self.facts
        if _NEVER_SELL.search(s.text) and not re.search(
            r"\b(?:financial|banking|payment|card)\b[^.]{0,30}\b(?:details|"
            r"information|data)\b[^.]{0,40}\bnot be shared",
            s.text,
            IGNORE,
        ):
            if _QUALIFIED.search(s.text):
                f.never_sell_qualified = f.never_sell_qualified or s
                s.add_rule("limits.never_sell: false (qualified, TODO)")
            elif not f.never_sell:
                f.never_sell = s
                s.add_rule("limits.never_sell: true")
        for part, negated in clauses(s.text):
            if (negated and _NEVER_STORE.search(part)) or _STORED_ELSEWHERE.search(part):
                for term, _ in find_terms(part, lx.CATEGORIES):
                    for key in term.keys:
                        f.never_store.setdefault(key, s)
                        f.categories.setdefault(key, CategoryFact(key, _capital(term.label)))
                        if s not in f.categories[key].statements:
                            f.categories[key].statements.append(s)
                        s.add_rule(f"limits.never_store: {key}")
        if _FINANCIAL_ONLY.search(s.text) and not f.financial_only:
            f.financial_only = s
            f.purposes.setdefault("transactions", PurposeFact(lx.PURPOSES["transactions"]))
            if s not in f.purposes["transactions"].statements:
                f.purposes["transactions"].statements.append(s)
            s.add_rule("financial data only in purposes[transactions]")

    def _rights(self, s: Statement) -> None:
        f = self.facts
        if re.search(
            r"\bcase[- ]to[- ]case\b|\bcase[- ]by[- ]case\b|\bevaluate (?:such|your|each) requests?\b", s.text, IGNORE
        ):
            f.case_by_case = f.case_by_case or s
            s.add_rule("rights.review: case_by_case")
        if not re.search(
            r"\b(?:you|users?|clients?|customers?|individuals?)\b[^.]{0,20}\b(?:can|may|have the right|"
            r"are entitled|choose|would)\b|\bright to\b|\byour request\b|\brequests? can\b|\boption",
            s.text,
            IGNORE,
        ):
            return
        for right, _ in find_terms(s.text, lx.RIGHT_CUES):
            if right not in f.rights:
                f.rights[right] = s
            s.add_rule(f"rights.offered: {right}")

    def _changes(self, s: Statement) -> None:
        f = self.facts
        if re.search(r"\bwithout (?:any )?(?:prior )?notice\b", s.text, IGNORE):
            f.no_notice = f.no_notice or s
            s.add_rule("changes.notify: []")
        if re.search(
            r"\be-?mail you\b|\bsend(?:ing)? you (?:a |an )?(?:notification|notice|e-?mail)\b|\bnotify you "
            r"by e-?mail\b|\bdirectly (?:sending|notify)",
            s.text,
            IGNORE,
        ):
            f.notify.setdefault("email", s)
            s.add_rule("changes.notify: email")
        if re.search(r"\bpost\w*\b|\bprominent notice\b|\bnotice on (?:our|the) (?:site|website)\b", s.text, IGNORE):
            f.notify.setdefault("banner", s)
            s.add_rule("changes.notify: banner")
        match = lx.DURATION.search(s.text)
        if match and re.search(r"\b(?:before|prior|in advance|notice)\b", s.text[match.end() :][:60], IGNORE):
            f.notice_period = f.notice_period or Fact(lx.iso_duration(match.group(1), match.group(2)), s)
            s.add_rule(f"changes.notice_period: {f.notice_period.value}")

    def _who_we_are(self, s: Statement) -> None:
        f = self.facts
        text = s.text
        contact_like = bool(_CONTACT_CUE.search(text))
        for email in _EMAIL.findall(text):
            if f.email is None or (contact_like and not _CONTACT_CUE.search(f.email.statement.text)):
                f.email = Fact(email, s)
                s.add_rule("organization.contact.email")
        if re.search(r"\bhelpline\b|\bcall us\b|\btelephone us\b|\bby phone\b", text, IGNORE) and (
            s.cls in (ACCESS, CHOICE) or contact_like
        ):
            f.channels.setdefault("phone", s)
            s.add_rule("rights.channels: phone")
        for url in _URL.findall(text):
            if any(d in url.lower() for d in _NOT_OURS):
                continue
            f.url = f.url or Fact(url.rstrip(".,;"), s)
        match = re.search(
            r"\bgoverned by (?:and construed in accordance with )?(?:the )?laws? of (?:the )?((?:[A-Z][a-z]+)"
            r"(?:(?:\s+(?:and|of)\s+|\s+)[A-Z][a-z]+)*)",
            text,
        )
        if match:
            f.governing_law = Fact(f"The laws of {match.group(1)}", s)
            f.jurisdiction = Fact(match.group(1), s)
            s.add_rule(f"organization.governing_law: {match.group(1)}")
        match = re.search(
            r"\b(exclusively\s+)?(?:in|before)?\s*(?:the\s+)?courts?\s+(?:of|in|at)\s+([A-Z][\w]+"
            r"(?:,?\s+[A-Z][\w]+)*)",
            text,
        )
        if match:
            f.courts = Fact(f"{'Exclusively the' if match.group(1) else 'The'} courts of {match.group(2)}", s)
            s.add_rule("organization.courts")
        if _DATE_CUE.search(text) and f.effective_date is None:
            day = _date(text)
            if day:
                f.effective_date = Fact(day, s)
                s.add_rule(f"effective_date: {day.isoformat()}")
        match = re.search(
            r"\b(?:transferr?\w*|stored|processed)\b[^.]{0,120}\b(?:outside (?:of )?([A-Z][a-z]+)|"
            r"(?:in )?countries other than|internationally|abroad|other countries)",
            text,
        )
        if match:
            to = f"Outside {match.group(1)}" if match.group(1) else "Other countries"
            f.transfers.setdefault(to, s)
            s.add_rule(f"storage.transfers: {to}")
        if f.transfers and f.safeguard is None and _SAFEGUARD.search(text):
            f.safeguard = Fact(_capital(text), s)
            s.add_rule("storage.transfers[].safeguard")
        for name, code in lx.COUNTRIES.items():
            if re.search(
                rf"\b(?:servers?|data|information)\b[^.]{{0,60}}\b(?:located|stored|hosted|within)\b[^.]{{0,30}}"
                rf"\b{name}\b",
                text,
                IGNORE,
            ):
                f.region = f.region or Fact(code, s)
                s.add_rule(f"storage.regions: {code}")

    def _notice(self, s: Statement) -> None:
        f = self.facts
        text = s.text
        if re.search(
            r"\blinks? to other (?:web)?sites\b|\bthird[- ]party websites\b|\banother website\b|"
            r"\bother (?:web)?sites\b[^.]{0,40}\bnot responsible\b|\bnot responsible for the (?:privacy|content)",
            text,
            IGNORE,
        ):
            f.third_party_sites.append(s)
            s.add_rule("notice.third_party_sites")
        elif re.search(
            r"\bpublic areas?\b|\bpublicly (?:available|distributed)\b|\buser generated content\b", text, IGNORE
        ):
            f.public_content.append(s)
            s.add_rule("notice.public_content")
        elif s.cls == SECURITY and _MEASURE.search(text):
            if not re.search(
                r"\bcannot\b|\bcan never\b|\bno liability\b|\bat your own risk\b|\brecommend\b|"
                r"\bendeavou?r\b|\bguarantee\b|\bshould\b",
                text,
                IGNORE,
            ):
                f.security_measures.append(s)
                s.add_rule("notice.security_measures")
        elif (
            s.cls in (OTHER, SECURITY)
            and len(f.introduction) < 2
            and s.index < 8
            and re.search(
                r"\b(?:committed to|respect your privacy|explains|sets out|describes|take your privacy)\b", text, IGNORE
            )
        ):
            f.introduction.append(s)
            s.add_rule("notice.introduction")


def organization(statements: list[Statement], facts: Facts) -> list[str]:
    """Find the business's name and website; return the names by which it speaks of itself ("we").

    The name is the capitalised phrase that matches the policy's web domain, carries a legal suffix (Ltd, Inc…),
    or recurs most; a longer phrase that starts with the winner is preferred ("Acme Widgets" over "Acme").
    """
    f = facts
    domains = Counter()
    for s in statements:
        for domain in _DOMAIN.findall(s.text):
            domain = domain.lower()
            if not any(domain.endswith(n) for n in _NOT_OURS):
                domains[re.sub(r"^www\.", "", domain)] += 1
    labels = {d.split(".")[0] for d in domains}
    for d in list(domains):
        labels.add(re.sub(r"\.(?:co\.uk|com|org|net|in|io|co|uk|de|fr|eu|info|biz|us|ca|au)$", "", d).split(".")[-1])
    candidates: Counter = Counter()
    first_seen: dict[str, Statement] = {}
    legal: dict[str, tuple[str, Statement]] = {}
    for s in statements:
        for match in _ORG.finditer(s.text):
            name = match.group(1).strip()
            words = name.split()
            while words and words[0].lower() in _NOT_NAMES | {"if", "when", "all", "any", "in", "by", "at"}:
                words = words[1:]
            name = " ".join(words)
            if not name or name.lower() in _NOT_NAMES or len(name) < 3:
                continue
            score = 1.0
            squashed = re.sub(r"[^a-z0-9]", "", name.lower())
            if any(
                label and (squashed.startswith(label) or label.startswith(squashed)) and len(squashed) >= 4
                for label in labels
            ):
                score += 5
            if match.group(2):
                score += 3
                legal.setdefault(name, (f"{name} {match.group(2)}", s))
            if len(words) < 2 and not match.group(2) and score < 5:
                continue
            candidates[name] += score
            first_seen.setdefault(name, s)
    aliases: list[str] = []
    if candidates:
        winner, score = max(candidates.items(), key=lambda kv: (kv[1], -first_seen[kv[0]].index))
        if score >= 3:
            longer = [n for n in candidates if n != winner and n.startswith(winner + " ") and candidates[n] >= 3]
            name = max(longer, key=lambda n: (candidates[n], -len(n))) if longer else winner
            f.name = Fact(name, first_seen[name])
            aliases = [name, winner] if name != winner else [name]
            if name in legal:
                f.legal_name = Fact(legal[name][0], legal[name][1])
                aliases.insert(0, legal[name][0])
            f.name.statement.add_rule("organization.name")
    if domains:
        domain = max(domains.items(), key=lambda kv: kv[1])[0]
        quote = next(s for s in statements if domain in s.text.lower())
        url = next((u for s in statements for u in _URL.findall(s.text) if domain in u.lower()), None)
        website = re.match(r"(https?://[^/]+|www\.[^/]+)", url).group(1) if url else domain
        if not website.startswith("http"):
            website = "https://" + website
        f.website = Fact(website, quote)
        quote.add_rule("organization.website")
    return aliases


def _date(text: str) -> dt.date | None:
    for pattern, order in ((_ISO_DATE, "ymd"), (_MDY, "mdy"), (_DMY, "dmy")):
        match = pattern.search(text)
        if not match:
            continue
        parts = dict(zip(order, match.groups(), strict=True))
        month = parts["m"]
        month = int(month) if month.isdigit() else _MONTHS[month.lower()]
        try:
            return dt.date(int(parts["y"]), month, int(parts["d"]))
        except ValueError:
            return None
    return None


def extract(statements: list[Statement], facts: Facts, aliases: list[str]) -> Facts:
    """Every fact the statements state, each with its statement (statements must be classified first).

    `facts` holds what `organization` found; `aliases` are the names by which the business speaks of itself.
    """
    extractor = _Extractor(statements, facts, aliases)
    return extractor.run()
