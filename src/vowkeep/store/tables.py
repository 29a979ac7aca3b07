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
