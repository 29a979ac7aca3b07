"""The data database's tables (SQLAlchemy Core). The key store has its own, in `keystore_tables.py`.

No column here holds personal data in plaintext: values are in `items.ciphertext` (AES-256-GCM under the
subject's data key), look-ups go through keyed blind indexes, and the audit log names categories, never values.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import DateTime, TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# BIGINT on PostgreSQL, but INTEGER on SQLite so the column stays an alias of the rowid (autoincrement).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use vowkeep.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _id_column(name: str = "id") -> Column:
    return Column(name, String(32), primary_key=True)


policy_versions = Table(
    "policy_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("published_at", UTCDateTime, nullable=False),
    Column("effective_date", Date, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("material", Boolean, nullable=False),
    # Consent-based purposes this version changed materially: consents given before it no longer count (NTC-2).
    Column("reconsent", JSON, nullable=False),
    Column("published_by", String(200), nullable=False),
)

subjects = Table(
    "subjects",
    metadata,
    _id_column(),
    # active | deactivated | restricted | erased
    Column("state", String(16), nullable=False),
    Column("state_reason", String(200)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_via", String(64), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("last_activity_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("erased_at", UTCDateTime),
    Index(None, "state"),
)

items = Table(
    "items",
    metadata,
    _id_column(),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    Column("category", String(200), nullable=False),
    Column("field", String(64), nullable=False),
    Column("collection_point", String(64), nullable=False),
    # Space-separated purpose keys the item was collected for (COL-1).
    Column("purposes", String(2000), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("source", String(200)),
    Column("collected_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Index(None, "subject_id", "category"),
)

blind_index = Table(
    "blind_index",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    Column("item_id", String(32), ForeignKey("items.id", ondelete="CASCADE"), nullable=False),
    Index(None, "kind", "digest"),
    Index(None, "subject_id"),
    UniqueConstraint("item_id"),
)

consent_records = Table(
    "consent_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), ForeignKey("subjects.id")),
    Column("visitor_id", String(64)),
    Column("purpose", String(64), nullable=False),
    # given | refused | withdrawn
    Column("choice", String(16), nullable=False),
    # form | banner | email_link | api | gpc | guardian | operator | import
    Column("method", String(16), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("evidence", JSON, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index(None, "subject_id", "purpose", "id"),
    Index(None, "visitor_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(32), nullable=False),
    Column("purpose", String(64)),
    Column("subject_id", String(32)),
    Column("categories", String(4000), nullable=False),
    Column("decision", String(8), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("detail", JSON, nullable=False),
    Column("mac", LargeBinary(32), nullable=False),
    Index(None, "actor", "at"),
    Index(None, "subject_id"),
)

# How far the SQLite audit journal (vault/journal.py) has been folded into audit_log: the journal file's epoch and
# the position after the last folded line, and each writing process's last folded record number.
audit_journal_state = Table(
    "audit_journal_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("epoch", String(32), nullable=False),
    Column("position", BigInteger, nullable=False),
)

audit_journal_writers = Table(
    "audit_journal_writers",
    metadata,
    Column("writer", String(32), primary_key=True),
    Column("last_n", BigInteger, nullable=False),
)

operators = Table(
    "operators",
    metadata,
    _id_column(),
    Column("username", String(100), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime),
)

operator_sessions = Table(
    "operator_sessions",
    metadata,
    # SHA-256 of the session token: a stolen database does not hand out sessions.
    Column("token_hash", LargeBinary(32), primary_key=True),
    Column("operator_id", String(32), ForeignKey("operators.id"), nullable=False),
    Column("csrf_secret", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("kind", String(16), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id_column(),
    Column("name", String(100), nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),
    Column("secret_hash", LargeBinary(32), nullable=False),
    Column("scopes", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    # queued | running | done | dead
    Column("state", String(8), nullable=False),
    Column("run_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("locked_by", String(100)),
    Column("locked_until", UTCDateTime),
    Column("last_error", String(2000)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("unique_key", String(200)),
    Index(None, "state", "run_at"),
    UniqueConstraint("unique_key"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("subject_id", String(32), ForeignKey("subjects.id")),
    Column("purpose", String(64)),
    # service | marketing | system
    Column("kind", String(16), nullable=False),
    Column("template", String(64), nullable=False),
    # Recipient address and message context, sealed under the subject's data key (or the system key).
    Column("sealed", LargeBinary, nullable=False),
    # queued | sent | suppressed | failed
    Column("state", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Column("message_id", String(200)),
    Column("error", String(500)),
    Index(None, "subject_id"),
)

holds = Table(
    "holds",
    metadata,
    _id_column(),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    # The declared hold this applies (its reason, purpose and longest retention come from the declaration).
    Column("hold_key", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    # Space-separated categories held; items of other categories are not held.
    Column("categories", String(4000), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("placed_by", String(200), nullable=False),
    Column("placed_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("released_at", UTCDateTime),
    Column("released_by", String(200)),
    Index(None, "subject_id", "released_at"),
)

# Marketing suppression (RIG-5): blind-index digests of addresses that opted out. Deliberately not tied to a
# subject, so an opt-out outlives the erasure of the person who made it — and holds no plaintext.
suppression = Table(
    "suppression",
    metadata,
    Column("kind", String(16), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    # marketing | all_non_essential
    Column("scope", String(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("method", String(32), nullable=False),
    UniqueConstraint("kind", "digest", "scope"),
)

# Daily usage aggregates (COL-5, CK-5): what remains of raw events after the roll-up; no visitor or subject ids.
traffic_daily = Table(
    "traffic_daily",
    metadata,
    Column("day", Date, nullable=False),
    # views | visitors | clicks | searches | purchases | visits
    Column("metric", String(32), nullable=False),
    # total | page | referrer | browser | os | device_class | country | language | search
    Column("dimension", String(32), nullable=False),
    Column("value", String(500), nullable=False),
    Column("count", BigInteger, nullable=False),
    UniqueConstraint("day", "metric", "dimension", "value"),
)

# --- consent, tracking and communications ------------------------------------------------------

# Banner visitors who became known subjects: later banner choices of the visitor are recorded for the subject too,
# and their visits and purchases are counted per subject where the declaration says so. `visitor_id` is the id in
# the essential consent cookie (the ledger's `visitor_id`), never the analytics visitor id of the events.
visitor_links = Table(
    "visitor_links",
    metadata,
    Column("visitor_id", String(64), primary_key=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), nullable=False),
    Column("linked_at", UTCDateTime, nullable=False),
    Index(None, "subject_id"),
)

# Raw pseudonymous usage events (COL-5): a random visitor id, the user agent reduced to family/OS/device class, a
# country, a path without its query, a referrer host. Rolled up into `traffic_daily`, then deleted (CK-5).
traffic_events = Table(
    "traffic_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("day", Date, nullable=False),
    # view | click | search | purchase
    Column("kind", String(16), nullable=False),
    Column("visitor", String(32), nullable=False),
    Column("page", String(500)),
    Column("target", String(500)),
    Column("referrer", String(255)),
    Column("browser", String(64)),
    Column("os", String(64)),
    Column("device_class", String(16)),
    Column("country", String(2)),
    Column("language", String(16)),
    Column("search", String(200)),
    Column("rolled_up", Boolean, nullable=False, default=False),
    Index(None, "rolled_up", "day"),
    Index(None, "day"),
)

# Visits and purchases per known subject and day (COL-5, `usage_data.per_subject_counts`); deleted with the subject.
traffic_subject_counts = Table(
    "traffic_subject_counts",
    metadata,
    Column("subject_id", String(32), ForeignKey("subjects.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    # visits | purchases
    Column("metric", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
)

# Policy-change notices queued per version and subject (NTC-2): the fan-out job is idempotent through this table.
policy_notices = Table(
    "policy_notices",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("subject_id", String(32), primary_key=True),
    Column("queued_at", UTCDateTime, nullable=False),
)

# --- rights and sharing: data-subject requests, identity verification, the disclosure register, processor
# webhooks and the Data Rights Protocol. Personal values (addresses, request details, references) are sealed.

rights_requests = Table(
    "rights_requests",
    metadata,
    _id_column(),
    # access | rectify | erase | deactivate | restrict | object | portability | reactivate
    Column("kind", String(16), nullable=False),
    # received | verifying | in_review | fulfilled | denied | cancelled | expired (see rights/states.py)
    Column("state", String(16), nullable=False),
    # center | email | phone | agent
    Column("channel", String(16), nullable=False),
    # Declared purpose keys an objection names.
    Column("purposes", JSON, nullable=False),
    # Blind-index digest of the requester's address, for rate limits; cleared when the request is decided.
    Column("contact_digest", LargeBinary(32)),
    # The address, corrected values, notes and a denial's reason, sealed under the system key.
    Column("sealed", LargeBinary, nullable=False),
    Column("filed_by", String(200), nullable=False),
    Column("agent_id", String(64)),
    Column("agent_request_id", String(200)),
    Column("regime", String(32)),
    Column("status_callback", String(1000)),
    Column("received_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("verified_at", UTCDateTime),
    # code | link | agent
    Column("verified_by", String(16)),
    Column("decided_at", UTCDateTime),
    Column("decided_by", String(200)),
    # no_match | insuf_verification | claim_not_covered | suspected_fraud | other
    Column("denial", String(32)),
    # What fulfilment did, without values: counts, held items' categories and hold reasons.
    Column("outcome", JSON, nullable=False),
    # SHA-256 of the request-scoped token the verified requester holds.
    Column("token_hash", LargeBinary(32)),
    Column("token_expires_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "state", "due_at"),
    Index(None, "contact_digest"),
    Index(None, "agent_id"),
)

# The subjects a verified request matched, and for access and portability the report, sealed under the subject's
# data key (an erasure shreds it with everything else).
request_subjects = Table(
    "request_subjects",
    metadata,
    Column("request_id", String(32), ForeignKey("rights_requests.id"), primary_key=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), primary_key=True),
    Column("sealed_result", LargeBinary),
    Column("outcome", JSON, nullable=False),
    Index(None, "subject_id"),
)

# One-time codes (RIG-8): only an HMAC of the code is kept; attempts are counted and codes expire.
request_verifications = Table(
    "request_verifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("request_id", String(32), ForeignKey("rights_requests.id"), nullable=False),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("max_attempts", Integer, nullable=False),
    Column("used_at", UTCDateTime),
    Index(None, "request_id"),
)

# Every state change of a request, with who made it (no personal values).
request_history = Table(
    "request_history",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("request_id", String(32), ForeignKey("rights_requests.id"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("note", String(500), nullable=False),
    Index(None, "request_id"),
)

# The disclosure register (SHR-2): every release of personal data to a recipient, and every legal request.
disclosures = Table(
    "disclosures",
    metadata,
    _id_column(),
    Column("recipient", String(64), nullable=False),
    Column("recipient_kind", String(16), nullable=False),
    Column("purpose", String(64)),
    # Space-separated categories released (or asked for, while pending).
    Column("categories", String(4000), nullable=False),
    Column("legal_basis", String(64), nullable=False),
    # routine | legal | transfer
    Column("kind", String(16), nullable=False),
    # subpoena | court_order | authority (legal requests only)
    Column("legal_kind", String(16)),
    # Reference, scope, issuing authority and a denial's reason, sealed under the system key.
    Column("sealed", LargeBinary, nullable=False),
    # pending | approved | released | denied
    Column("state", String(16), nullable=False),
    Column("subject_count", Integer, nullable=False),
    Column("requested_by", String(200), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("decided_by", String(200)),
    Column("decided_at", UTCDateTime),
    Column("released_by", String(200)),
    Column("released_at", UTCDateTime),
    Index(None, "state", "requested_at"),
    Index(None, "recipient"),
)

disclosure_subjects = Table(
    "disclosure_subjects",
    metadata,
    Column("disclosure_id", String(32), ForeignKey("disclosures.id"), primary_key=True),
    Column("subject_id", String(32), ForeignKey("subjects.id"), primary_key=True),
    Index(None, "subject_id"),
)

# Erasures and objections forwarded to processors (SHR-7): one row per processor and event, with its status.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("request_id", String(32), ForeignKey("rights_requests.id")),
    Column("subject_id", String(32)),
    Column("recipient", String(64), nullable=False),
    # erasure | objection
    Column("event", String(32), nullable=False),
    # pending | delivered | failed | no_webhook
    Column("state", String(16), nullable=False),
    # The body to send, sealed under the system key; dropped once delivered.
    Column("sealed_body", LargeBinary),
    Column("attempts", Integer, nullable=False),
    Column("last_status", Integer),
    Column("last_error", String(300)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime),
    Column("delivered_at", UTCDateTime),
    Index(None, "request_id"),
)

# Data Rights Protocol 1.0 (RIG-10): the authorized agents this business trusts, their Ed25519 verify keys, and
# the SHA-256 of the pairwise bearer token each was issued.
drp_agents = Table(
    "drp_agents",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("verify_key", String(100), nullable=False),
    Column("token_hash", LargeBinary(32), unique=True),
    Column("token_issued_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
)

drp_settings = Table(
    "drp_settings",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(500), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# --- retention, minors and aggregate reports (RET-1..4, MIN-1..3, SHR-3) ------------------------------------------

# What anonymised items leave behind (RET-1): one count per category, generalised value and month, with no subject,
# item or time finer than the month — a contribution to statistics that points at nobody.
anonymised_counts = Table(
    "anonymised_counts",
    metadata,
    Column("month", Date, nullable=False),
    Column("category", String(200), nullable=False),
    # The generalised value (a year of birth, a country, a declared choice) or `*` when nothing of it is kept.
    Column("value", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    UniqueConstraint("month", "category", "value"),
)

# Registrations refused under the minimum age (MIN-1): a count per collection point and day, and nothing else.
age_refusals = Table(
    "age_refusals",
    metadata,
    Column("day", Date, nullable=False),
    Column("collection_point", String(64), nullable=False),
    Column("count", BigInteger, nullable=False),
    UniqueConstraint("day", "collection_point"),
)

# Reports that a subject is a minor (MIN-2), from an operator or the public form; the report holds no value.
minor_reports = Table(
    "minor_reports",
    metadata,
    _id_column(),
    # None when a public report matched no subject (the reporter is not told either way).
    Column("subject_id", String(32), ForeignKey("subjects.id")),
    # operator | form
    Column("channel", String(16), nullable=False),
    Column("reported_by", String(200), nullable=False),
    Column("reported_at", UTCDateTime, nullable=False),
    # pending | confirmed | dismissed | erased | unmatched
    Column("state", String(16), nullable=False),
    Column("erase_at", UTCDateTime),
    Column("resolved_by", String(200)),
    Column("resolved_at", UTCDateTime),
    Index(None, "subject_id"),
    Index(None, "state"),
)

# Differential-privacy budget spent per aggregate-only recipient (SHR-3); never reset, so the guarantee holds.
privacy_budgets = Table(
    "privacy_budgets",
    metadata,
    Column("recipient", String(64), primary_key=True),
    Column("spent", Float, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Every run of an aggregate report: a disclosure to its recipient (SHR-2, SHR-3), with what it released.
report_runs = Table(
    "report_runs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("report", String(64), nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("epsilon", Float),
    Column("groups_released", Integer, nullable=False),
    Column("groups_suppressed", Integer, nullable=False),
    Column("since", Date),
    Column("until", Date),
    Index(None, "recipient", "at"),
)

# Privacy-centre sign-ins (RIG-8): a one-time code mailed to an address, then a short session for whoever entered
# it. Only an HMAC of the code and a SHA-256 of the session token are kept; the address is sealed under the system
# key and found again by its blind-index digest (for rate limits).
center_sessions = Table(
    "center_sessions",
    metadata,
    _id_column(),
    Column("contact_digest", LargeBinary(32), nullable=False),
    Column("sealed", LargeBinary, nullable=False),
    Column("code_hash", LargeBinary(32), nullable=False),
    Column("code_expires_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("verified_at", UTCDateTime),
    # The subjects the verified address matched (none: the person is told that nothing is held).
    Column("subject_ids", JSON, nullable=False),
    Column("token_hash", LargeBinary(32)),
    Column("expires_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Index(None, "contact_digest", "created_at"),
    Index(None, "token_hash"),
)

# The privacy inbox (NTC-3): questions and complaints, tracked until an operator answers. The asker's address, the
# message and the answer are sealed (under the subject's data key, or the system key for the public form).
inquiries = Table(
    "inquiries",
    metadata,
    _id_column(),
    # question | complaint
    Column("kind", String(16), nullable=False),
    # open | answered
    Column("state", String(16), nullable=False),
    # center (a signed-in person) | public (the contact form)
    Column("channel", String(16), nullable=False),
    Column("subject_id", String(32), ForeignKey("subjects.id")),
    Column("sealed", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("answered_at", UTCDateTime),
    Column("answered_by", String(200)),
    Index(None, "state", "due_at"),
    Index(None, "subject_id"),
)
