"""No plaintext (SEC-1): every stored value is encrypted and decrypts under its subject's key, and no decrypted
value appears anywhere in plain — in any column of any table of the data database and the key store (both
backends, read through SQL), and on SQLite in the raw bytes of the database, WAL and key store files, where
deleted rows and old page versions linger. A finding says where (table, column and row, or file and offset) and
whose value it was (subject and item), never the value.

What is looked for: each decrypted text value of at least `MIN_LENGTH` characters, case-insensitively, in UTF-8.
Shorter values (a first name of three letters, a country code, yes/no) would be found everywhere by chance, and a
value that is also a word of a published declaration (a declared choice) is not personal; both are skipped and
counted in the summary. So is a value that is a declared category or field word plus at most three characters
(`First29`): rows store those words next to record headers, whose bytes can spell the rest by chance.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url

from vowkeep.store.keystore_tables import keystore_metadata
from vowkeep.store.tables import metadata
from vowkeep.vault.inspect import DOES_NOT_DECRYPT, open_items, record_scan
from vowkeep.vault.journal import journal_path
from vowkeep.verify.context import Context
from vowkeep.verify.result import CheckResult, Finding, outcome, plural

MIN_LENGTH = 6
_RUN = re.compile(rb"[\x20-\x7e]{%d,}" % MIN_LENGTH)
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Owner:
    subject_id: str
    item_id: str
    category: str


class Needles:
    """Values to look for, found in one pass over a byte string: ASCII values by their first `MIN_LENGTH` bytes
    within printable runs, others (rare) by a plain search."""

    def __init__(self):
        self._by_prefix: dict[bytes, list[tuple[bytes, Owner]]] = {}
        self._wide: list[tuple[bytes, Owner]] = []
        self.count = 0

    def add(self, needle: bytes, owner: Owner) -> None:
        self.count += 1
        if needle.isascii():
            self._by_prefix.setdefault(needle[:MIN_LENGTH], []).append((needle, owner))
        else:
            self._wide.append((needle, owner))

    def search(self, data: bytes) -> Iterator[tuple[int, Owner]]:
        """(offset, owner) of every needle in `data` (compared lower-cased)."""
        if not self.count:
            return
        low = data.lower()
        by_prefix = self._by_prefix
        width = MIN_LENGTH
        for match in _RUN.finditer(low):
            run = match.group()
            base = match.start()
            for i in range(len(run) - width + 1):
                found = by_prefix.get(run[i : i + width])
                if found:
                    for needle, owner in found:
                        if run.startswith(needle, i):
                            yield base + i, owner
        for needle, owner in self._wide:
            start = low.find(needle)
            while start >= 0:
                yield start, owner
                start = low.find(needle, start + 1)


def _declared_words(ctx: Context) -> bytes:
    return "\n".join(v.text for v in ctx.versions).lower().encode()


_LEADING_WORD = re.compile(rb"[a-z]+")


def _key_words(ctx: Context) -> set[bytes]:
    """The words of declared category keys and field names: rows store them next to other bytes, so a value that
    is one of them plus a few characters (`First29`) meets a record header's digits by chance."""
    words: set[bytes] = set()
    for policy in (ctx.policy_at(v.published_at) for v in ctx.versions):
        for key in [c.key for c in policy.categories] + [f.name for p in policy.collection_points for f in p.fields]:
            words.update(w.encode() for w in re.split(r"[._]", key.lower()) if len(w) >= 3)
    return words


def _looks_declared(needle: bytes, declared: bytes, key_words: set[bytes]) -> bool:
    if needle in declared:
        return True
    word = _LEADING_WORD.match(needle)
    return word is not None and word.group() in key_words and len(needle) - word.end() <= 3


def _collect(ctx: Context) -> tuple[Needles, list[Finding], dict[str, int]]:
    needles = Needles()
    findings: list[Finding] = []
    counts = {"opened": 0, "short": 0, "declared": 0}
    declared = _declared_words(ctx)
    key_words = _key_words(ctx)
    seen: set[bytes] = set()
    for opened in open_items(ctx.vault):
        if opened.problem == DOES_NOT_DECRYPT:
            findings.append(
                Finding(
                    f"item {opened.item_id} ({opened.category}) of subject {opened.subject_id} does not decrypt: its "
                    "ciphertext was altered or moved",
                    {"subject": opened.subject_id, "item": opened.item_id},
                )
            )
            continue
        if opened.problem is not None:
            continue  # no key: the data-keys check names the subject
        counts["opened"] += 1
        value = opened.value
        if not isinstance(value, str):
            continue
        needle = value.strip().lower().encode()
        if len(needle) < MIN_LENGTH:
            counts["short"] += 1
            continue
        if _looks_declared(needle, declared, key_words):
            counts["declared"] += 1
            continue
        if needle in seen:
            continue
        seen.add(needle)
        needles.add(needle, Owner(opened.subject_id, opened.item_id, opened.category))
    return needles, findings, counts


def _as_bytes(value) -> bytes | None:
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False).encode()
    return None


def _scan_tables(engine: Engine, tables, needles: Needles, findings: list[Finding]) -> int:
    """Every column of every table, each column's values joined into one byte string and searched once."""
    scanned = 0
    with engine.connect() as conn:
        for table in tables:
            key_columns = list(table.primary_key.columns)
            rows = conn.execute(select(table)).all()
            conn.rollback()  # on SQLite every transaction holds the write lock: let writers in between tables
            scanned += len(rows)
            for column in table.columns:
                blob = bytearray()
                starts: list[int] = []
                for row in rows:
                    data = _as_bytes(row._mapping[column.name])
                    starts.append(len(blob))
                    if data:
                        blob += data
                    blob += b"\x00"
                if not blob.strip(b"\x00"):
                    continue
                for offset, owner in needles.search(bytes(blob)):
                    row = rows[bisect.bisect_right(starts, offset) - 1]
                    where = "/".join(str(row._mapping[c.name]) for c in key_columns) or "?"
                    findings.append(
                        Finding(
                            f"the value of item {owner.item_id} ({owner.category}) of subject {owner.subject_id} is in "
                            f"plain text in {table.name}.{column.name} (row {where})",
                            {
                                "subject": owner.subject_id,
                                "item": owner.item_id,
                                "table": table.name,
                                "column": column.name,
                                "row": where,
                            },
                        )
                    )
    return scanned


def sqlite_files(engine: Engine) -> list[Path]:
    """The files of a SQLite database: the database, its WAL and shared memory, a rollback journal, and the audit
    journal beside it."""
    if engine.dialect.name != "sqlite":
        return []
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        return []
    candidates = [Path(database + s) for s in SQLITE_SUFFIXES] + [journal_path(database)]
    return [p for p in candidates if p.exists()]


def _scan_files(paths: list[Path], needles: Needles, findings: list[Finding]) -> int:
    total = 0
    for path in paths:
        data = path.read_bytes()
        total += len(data)
        for offset, owner in needles.search(data):
            findings.append(
                Finding(
                    f"the value of item {owner.item_id} ({owner.category}) of subject {owner.subject_id} is in plain "
                    f"text in {path.name} at byte offset {offset}",
                    {"subject": owner.subject_id, "item": owner.item_id, "file": path.name, "offset": offset},
                )
            )
    return total


def no_plaintext(ctx: Context) -> CheckResult:
    needles, findings, counts = _collect(ctx)
    instance = ctx.instance
    rows = _scan_tables(instance.engine, metadata.sorted_tables, needles, findings)
    rows += _scan_tables(instance.keystore_engine, keystore_metadata.sorted_tables, needles, findings)
    places = []
    for label, engine in (("data database", instance.engine), ("key store", instance.keystore_engine)):
        files = sqlite_files(engine)
        if engine.dialect.name == "sqlite":
            size = _scan_files(files, needles, findings)
            places.append(f"the {label}'s files ({', '.join(p.name for p in files)}: {size:,} bytes)")
        else:
            places.append(
                f"the {label}'s files not applicable (on {engine.dialect.name} the server keeps them; "
                "its tables were read through SQL)"
            )
    record_scan(ctx.vault, opened=counts["opened"])
    where = " and ".join(places)
    skipped = counts["short"] + counts["declared"]
    summary = (
        f"{plural(counts['opened'], 'item')} decrypted; {plural(needles.count, 'value')} looked for in "
        f"{plural(rows, 'row')} of every table and in {where}"
        + (f"; {skipped:,} shorter than {MIN_LENGTH} characters or declared words not looked for" if skipped else "")
    )
    result = outcome(
        "no-plaintext",
        "Encrypted, and no plaintext anywhere",
        ("SEC-1",),
        findings,
        ok=summary,
        bad="{n} value(s) in plain text or not decrypting",
    )
    if findings:
        result.summary += " — " + summary
    return result
