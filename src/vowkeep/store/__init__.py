"""Storage: SQLAlchemy Core tables, engines (SQLite WAL or PostgreSQL), migrations and the durable job queue."""
