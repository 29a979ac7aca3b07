"""Prepared SQL on the DBAPI cursor of a SQLAlchemy connection, for the gate's hottest statements.

Building and compiling a SQLAlchemy statement costs tens of microseconds, several times what SQLite needs to run
it; a gated read runs half a dozen. These helpers run fixed SQL text on the same DBAPI connection, inside the same
transaction, and convert values the way the SQLAlchemy column types do, so rows written here read back identically
through Core (the audit chain's MACs depend on it).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import Connection


class FastSQL:
    """Runs `?`-style SQL on the connection's DBAPI cursor, converting for the backend."""

    __slots__ = ("cursor", "sqlite")

    def __init__(self, conn: Connection):
        self.sqlite = conn.dialect.name == "sqlite"
        self.cursor = conn.connection.dbapi_connection.cursor()

    @classmethod
    def over(cls, dbapi_connection, *, sqlite: bool) -> FastSQL:
        """Prepared SQL on a plain DB-API connection (a read-only SQLite connection outside SQLAlchemy)."""
        fast = cls.__new__(cls)
        fast.sqlite = sqlite
        fast.cursor = dbapi_connection.cursor()
        return fast

    def sql(self, text: str) -> str:
        return text if self.sqlite else _pg(text)

    def one(self, text: str, params: tuple):
        self.cursor.execute(self.sql(text), params)
        return self.cursor.fetchone()

    def all(self, text: str, params: tuple):
        self.cursor.execute(self.sql(text), params)
        return self.cursor.fetchall()

    def run(self, text: str, params: tuple) -> None:
        self.cursor.execute(self.sql(text), params)

    # value conversion, matching the column types in store/tables.py
    def time_in(self, moment: datetime):
        # isoformat(sep=" ") is SQLAlchemy's SQLite storage format, several times faster than strftime.
        return (
            moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            if self.sqlite
            else moment
        )

    def time_out(self, value) -> datetime:
        if isinstance(value, str):
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def json_in(self, value):
        text = json.dumps(value)
        if self.sqlite:
            return text
        from psycopg.types.json import Json

        return Json(value)

    def blob_out(self, value) -> bytes:
        return bytes(value)


_converted: dict[str, str] = {}


def _pg(text: str) -> str:
    converted = _converted.get(text)
    if converted is None:
        converted = _converted[text] = text.replace("%", "%%").replace("?", "%s")
    return converted
