"""The declaration: a privacy policy as data, validated by pydantic.

Every promise in PROMISES.md has a place here. Shapes are checked by the models; references between
sections (a role naming a purpose, a purpose naming a category) are checked in `references.py`, so
that each error can point at the exact YAML path that holds the bad value.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, model_validator

from vowkeep.policy.duration import Duration
from vowkeep.policy.taxonomy import covers

SCHEMA_VERSION = 1
KEY_PATTERN = r"^[a-z][a-z0-9_]*$"


def _parse_duration(value):
    if isinstance(value, Duration):
        return value
    return Duration.parse(value)


IsoDuration = Annotated[
    Duration,
    BeforeValidator(_parse_duration),
    PlainSerializer(lambda d: d.text, return_type=str),
]
Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=64)]
CategoryKey = Annotated[str, Field(min_length=1, max_length=200)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, str_strip_whitespace=True)


# --- who we are -------------------------------------------------------------------------------


class Contact(_Model):
    email: str | None = None
    url: str | None = None
    phone: str | None = None

    @model_validator(mode="after")
    def _one_channel(self):
        if not (self.email or self.url or self.phone):
            raise ValueError("give at least one of email, url or phone")
        return self


class Organization(_Model):
    name: str = Field(min_length=1)
    legal_name: str | None = None
    website: str | None = None
    contact: Contact
    address: str | None = None
    jurisdiction: str | None = Field(None, description="Country whose law governs the policy (NTC-4).")
    governing_law: str | None = None
    courts: str | None = None
    affiliates: str | None = Field(None, description="Who counts as an affiliate, in the policy's words.")


# --- data ---------------------------------------------------------------------------------------


class Category(_Model):
    """A category of personal data this business holds: a fideslang key, or a custom one extending it."""

    key: CategoryKey
    label: str = Field(min_length=1)
    extends: CategoryKey | None = Field(None, description="For a custom key: the fideslang key it extends.")
    description: str | None = None
    lookup: bool = Field(False, description="Keep a blind index so subjects can be found by this value.")


class FieldType(StrEnum):
    text = "text"
    email = "email"
    phone = "phone"
    postal_code = "postal_code"
    date = "date"
    country = "country"
    number = "number"
    boolean = "boolean"
    url = "url"
    password = "password"  # noqa: S105 — a field type, not a secret
    choice = "choice"
    card_token = "card_token"  # noqa: S105 — a field type, not a secret
    card_brand = "card_brand"
    card_last4 = "card_last4"


class CollectionField(_Model):
    name: Key
    category: CategoryKey
    type: FieldType = FieldType.text
    required: bool = False
    label: str | None = None
    max_length: int = Field(500, ge=1, le=100_000)
    choices: list[str] | None = None
    source_key: str | None = Field(
        None, description="For social logins and imports: the provider's key this field is taken from."
    )

    @model_validator(mode="after")
    def _choices_for_choice(self):
        if self.type == FieldType.choice and not self.choices:
            raise ValueError("a field of type choice needs a list of choices")
        return self


class Channel(StrEnum):
    form = "form"
    social_login = "social_login"
    import_ = "import"
    client_upload = "client_upload"
    email = "email"
    phone = "phone"
    api = "api"


class AgeCheck(StrEnum):
    none = "none"
    date_of_birth = "date_of_birth"
    attestation = "attestation"


class CollectionPoint(_Model):
    """A declared way in for personal data (COL-1): a form, an import, a social login…"""

    key: Key
    label: str = Field(min_length=1)
    channel: Channel = Channel.form
    description: str | None = None
    purposes: list[Key] = Field(min_length=1)
    fields: list[CollectionField] = Field(min_length=1)
    registers_subject: bool = Field(False, description="Creates an account: the age gate applies (MIN-1).")
    age_check: AgeCheck = AgeCheck.none
    sources: list[str] = Field(default_factory=list, description="Other sources, for imports (COL-8).")
    providers: list[str] = Field(default_factory=list, description="Social-login providers (COL-6).")
    identify_by: list[Key] = Field(
        default_factory=list, description="Fields that find an existing subject (e-mail, phone)."
    )


class UsageSignal(StrEnum):
    pages = "pages"
    links = "links"
    visit_counts = "visit_counts"
    purchase_counts = "purchase_counts"
    referrer = "referrer"
    browser = "browser"
    os = "os"
    device_class = "device_class"
    language = "language"
    search_terms = "search_terms"
    time_on_site = "time_on_site"
    country = "country"


class UsageData(_Model):
    """What is collected automatically and pseudonymously (COL-5, CK-5)."""

    collect: list[UsageSignal] = Field(default_factory=list)
    cookie_category: Key = "analytics"
    purposes: list[Key] = Field(default_factory=list)
    raw_retention: IsoDuration = Field(default_factory=lambda: Duration.parse("P7D"))
    per_subject_counts: bool = Field(False, description="Keep visit and purchase counts per known subject.")
    ip_address: Literal["country_only", "truncated"] = "country_only"


# --- purposes, roles -------------------------------------------------------------------------


class LegalBasis(StrEnum):
    consent = "consent"
    contract = "contract"
    legal_obligation = "legal_obligation"
    legitimate_interest = "legitimate_interest"
    vital_interest = "vital_interest"
    public_task = "public_task"


class ConsentMode(StrEnum):
    none = "none"
    opt_in = "opt_in"
    opt_out = "opt_out"


class RetentionEvent(StrEnum):
    collection = "collection"
    last_activity = "last_activity"
    account_closure = "account_closure"
    withdrawal = "withdrawal"


class RetentionAction(StrEnum):
    delete = "delete"
    anonymise = "anonymise"


class Retention(_Model):
    period: IsoDuration
    after: RetentionEvent = RetentionEvent.collection
    then: RetentionAction = RetentionAction.delete


class MessageKind(StrEnum):
    none = "none"
    service = "service"
    marketing = "marketing"


class Purpose(_Model):
    key: Key
    label: str = Field(min_length=1)
    description: str | None = None
    data_use: str = Field(min_length=1, description="A fideslang data-use key.")
    categories: list[CategoryKey] = Field(default_factory=list)
    legal_basis: LegalBasis
    consent: ConsentMode = ConsentMode.none
    retention: Retention
    messages: MessageKind = Field(MessageKind.none, description="E-mails sent for this purpose, if any.")

    @property
    def consent_based(self) -> bool:
        return self.consent != ConsentMode.none


class Permission(StrEnum):
    """What an operator may do besides reading data for a purpose."""

    review_requests = "review_requests"
    approve_disclosures = "approve_disclosures"
    manage_holds = "manage_holds"
    read_audit = "read_audit"
    manage_operators = "manage_operators"
    publish_policy = "publish_policy"
    read_reports = "read_reports"
    answer_inbox = "answer_inbox"


class Role(_Model):
    key: Key
    label: str = Field(min_length=1)
    purposes: list[Key] = Field(default_factory=list)
    permissions: list[Permission] = Field(default_factory=list)


# --- sharing ---------------------------------------------------------------------------------


class RecipientKind(StrEnum):
    processor = "processor"
    affiliate = "affiliate"
    partner = "partner"
    advertiser = "advertiser"
    authority = "authority"
    acquirer = "acquirer"


class AggregateOnly(_Model):
    min_group_size: int = Field(10, ge=2, le=1_000_000)
    epsilon_budget: float | None = Field(
        None, gt=0, le=100, description="Total differential-privacy budget; none means no noise (SHR-3)."
    )


class Webhook(_Model):
    url: str
    secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$", description="Environment variable holding the secret.")


class Recipient(_Model):
    key: Key
    name: str = Field(min_length=1)
    kind: RecipientKind
    description: str | None = None
    categories: list[CategoryKey] = Field(default_factory=list)
    purposes: list[Key] = Field(default_factory=list)
    aggregate_only: AggregateOnly | None = None
    pays_for_data: bool = False
    own_promotions: bool = Field(False, description="Uses what it receives for its own promotions.")
    requires_approval: bool = Field(False, description="Each release needs an operator's approval (SHR-4).")
    country: str | None = None
    webhook: Webhook | None = Field(None, description="Where erasures and objections are forwarded (SHR-7).")


class Report(_Model):
    """An aggregate report an aggregate-only recipient may run (SHR-3)."""

    key: Key
    label: str = Field(min_length=1)
    recipient: Key
    purpose: Key
    source: Literal["items", "traffic"] = "items"
    dimensions: list[str] = Field(min_length=1)
    measure: Literal["subjects", "events", "visitors"] = "subjects"
    epsilon: float | None = Field(None, gt=0, le=10, description="Noise per run; none means counts are exact.")


class Transfer(_Model):
    to: str = Field(min_length=1, description="Country or region the data goes to.")
    safeguard: str = Field(min_length=1)
    recipients: list[Key] = Field(default_factory=list)


class Storage(_Model):
    regions: list[str] = Field(min_length=1)
    transfers: list[Transfer] = Field(default_factory=list)


# --- cookies, holds, rights, limits ---------------------------------------------------------


class CookieCategory(_Model):
    key: Key
    label: str = Field(min_length=1)
    description: str | None = None
    essential: bool = False
    purposes: list[Key] = Field(default_factory=list)
    advertising: bool = Field(False, description="Counts as sale/sharing: Global Privacy Control opts out.")


class Cookie(_Model):
    name: str = Field(min_length=1, max_length=200)
    category: Key
    purpose: Key | None = None
    lifetime: str = Field(description="`session` or an ISO-8601 duration.")
    party: Literal["first", "third"] = "first"
    provider: str | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _lifetime(self):
        if self.lifetime != "session":
            Duration.parse(self.lifetime)
        return self


class Hold(_Model):
    key: Key
    reason: str = Field(min_length=1)
    purpose: Key
    categories: list[CategoryKey] = Field(min_length=1)
    retention: IsoDuration


class Right(StrEnum):
    access = "access"
    rectify = "rectify"
    erase = "erase"
    deactivate = "deactivate"
    restrict = "restrict"
    object = "object"
    portability = "portability"


class RequestChannel(StrEnum):
    center = "center"
    email = "email"
    phone = "phone"
    agent = "agent"


class Rights(_Model):
    offered: list[Right] = Field(min_length=1)
    response_deadline: IsoDuration = Field(default_factory=lambda: Duration.parse("P30D"))
    channels: list[RequestChannel] = Field(default_factory=lambda: [RequestChannel.center])
    review: Literal["automatic", "case_by_case"] = "case_by_case"


class Minors(_Model):
    minimum_age: int = Field(ge=0, le=25)
    guardian_may_consent: bool = False
    report_contact: str | None = None


class Limits(_Model):
    retention_cap: IsoDuration | None = None
    never_sell: bool = False
    never_store: list[CategoryKey] = Field(default_factory=list)


class ChangeKind(StrEnum):
    new_category = "new_category"
    new_purpose = "new_purpose"
    new_recipient = "new_recipient"
    longer_retention = "longer_retention"
    lower_minimum_age = "lower_minimum_age"
    weaker_consent = "weaker_consent"
    new_transfer = "new_transfer"
    purpose_categories_added = "purpose_categories_added"
    recipient_categories_added = "recipient_categories_added"
    sale_allowed = "sale_allowed"


DEFAULT_MATERIAL = [
    ChangeKind.new_category,
    ChangeKind.new_purpose,
    ChangeKind.new_recipient,
    ChangeKind.longer_retention,
    ChangeKind.lower_minimum_age,
    ChangeKind.weaker_consent,
    ChangeKind.purpose_categories_added,
    ChangeKind.recipient_categories_added,
    ChangeKind.sale_allowed,
]


class Changes(_Model):
    material: list[ChangeKind] = Field(default_factory=lambda: list(DEFAULT_MATERIAL))
    notify: list[Literal["email", "banner"]] = Field(default_factory=lambda: ["email", "banner"])
    notice_period: IsoDuration | None = Field(None, description="How long before a change takes effect.")


class Notice(_Model):
    """Statements of the notice that are not rules but that the seeds make to their readers."""

    introduction: str | None = None
    third_party_sites: str | None = None
    security_measures: list[str] = Field(default_factory=list)
    public_content: str | None = None


# --- the declaration --------------------------------------------------------------------------


class Policy(_Model):
    """A whole declaration: what is collected, why, who sees it, for how long, and people's rights."""

    vowkeep: Literal[1] = Field(SCHEMA_VERSION, description="Declaration schema version.")
    organization: Organization
    effective_date: dt.date
    minors: Minors
    storage: Storage
    categories: list[Category] = Field(min_length=1)
    collection_points: list[CollectionPoint] = Field(min_length=1)
    usage_data: UsageData | None = None
    purposes: list[Purpose] = Field(min_length=1)
    roles: list[Role] = Field(default_factory=list)
    recipients: list[Recipient] = Field(default_factory=list)
    reports: list[Report] = Field(default_factory=list)
    cookie_categories: list[CookieCategory] = Field(default_factory=list)
    cookies: list[Cookie] = Field(default_factory=list)
    holds: list[Hold] = Field(default_factory=list)
    rights: Rights
    limits: Limits = Field(default_factory=Limits)
    changes: Changes = Field(default_factory=Changes)
    notice: Notice = Field(default_factory=Notice)

    # Lookups by key, built once: the gate asks these on every call.
    @cached_property
    def purpose_by_key(self) -> dict[str, Purpose]:
        return {p.key: p for p in self.purposes}

    @cached_property
    def role_by_key(self) -> dict[str, Role]:
        return {r.key: r for r in self.roles}

    @cached_property
    def recipient_by_key(self) -> dict[str, Recipient]:
        return {r.key: r for r in self.recipients}

    @cached_property
    def collection_point_by_key(self) -> dict[str, CollectionPoint]:
        return {c.key: c for c in self.collection_points}

    @cached_property
    def category_by_key(self) -> dict[str, Category]:
        return {c.key: c for c in self.categories}

    @cached_property
    def hold_by_key(self) -> dict[str, Hold]:
        return {h.key: h for h in self.holds}

    @cached_property
    def cookie_category_by_key(self) -> dict[str, CookieCategory]:
        return {c.key: c for c in self.cookie_categories}

    @cached_property
    def report_by_key(self) -> dict[str, Report]:
        return {r.key: r for r in self.reports}

    def purpose_covers(self, purpose_key: str, category: str) -> bool:
        """Whether the purpose declares this category (or a parent of it)."""
        purpose = self.purpose_by_key.get(purpose_key)
        return purpose is not None and any(covers(d, category) for d in purpose.categories)

    def category_label(self, key: str) -> str:
        """The declared human label of a category, or the key itself."""
        category = self.category_by_key.get(key)
        return category.label if category else key
