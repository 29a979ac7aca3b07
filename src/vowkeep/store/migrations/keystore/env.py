"""Alembic environment for the keystore database; run through `vowkeep.store.migrate`, never the alembic CLI."""

from alembic import context

from vowkeep.store.keystore_tables import keystore_metadata as target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
