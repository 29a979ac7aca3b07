"""The key store's tables: a separate database, so that a backup of the data holds no usable key.

Data keys are random per subject and wrapped (AES-256-GCM) by a master key that never enters any database.
Deleting a subject's row here destroys its data for good, old backups included (crypto-shredding, RET-4).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, LargeBinary, MetaData, String, Table

from vowkeep.store.tables import UTCDateTime

keystore_metadata = MetaData(naming_convention={"pk": "pk_%(table_name)s", "ix": "ix_%(table_name)s_%(column_0_name)s"})

data_keys = Table(
    "data_keys",
    keystore_metadata,
    Column("subject_id", String(32), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("kek_id", String(16), nullable=False, index=True),
    Column("created_at", UTCDateTime, nullable=False),
)

# Keys of the instance itself (blind index, audit chain, tokens, system data), wrapped like data keys.
system_keys = Table(
    "system_keys",
    keystore_metadata,
    Column("name", String(64), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("kek_id", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

# Audit chain heads recorded outside the data database: truncating the log's tail cannot go unnoticed.
audit_checkpoints = Table(
    "audit_checkpoints",
    keystore_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("mac", LargeBinary(32), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)
