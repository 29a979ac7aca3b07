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
