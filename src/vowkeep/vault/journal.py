"""The audit journal: where records that change no data wait, durable, to enter the audit chain (SEC-3).

A gated read changes nothing but the audit log, yet its record must be durable before the data is returned. In a
SQLite transaction that costs a commit — more than everything else the read does. So on SQLite, records of reads,
look-ups and denials are appended to this file instead, one `write()` each: once it returns, the record is in the
operating system's hands and survives a crash of the process, which is exactly what SQLite's WAL promises at
`synchronous=NORMAL` (at `FULL` the journal is `fdatasync`ed too). Records of changes stay in the transaction of
the change, so that a change and its record commit or roll back together.

`fold` moves the journal's records into `audit_log`, in journal order, MAC-chained like every other record and
keeping the time of the access (so a read may come after a later write in `seq` order, never in `at` order). Each
line carries an HMAC under the audit key and its writer's counter: a line that was altered does not authenticate
and a line that was removed leaves a gap in its writer's counter; both are folded as a `journal-unreadable` or
`journal-gap` record, which `audit verify` reports as a break. Anyone folds: the process that wrote (a background
thread, within a fraction of a second), and every reader of the audit log before it reads.

Several processes share the file: lines go in with O_APPEND under a shared `flock`, and the file is emptied (with
a new epoch line) only under an exclusive one, once everything in it has been folded.
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from sqlalchemy import Connection

from vowkeep import clock
from vowkeep.store.fastsql import FastSQL
from vowkeep.vault import audit

EPOCH_PREFIX = b"#vowkeep audit journal "
# Once this much has been folded, the file is emptied and starts again (a new epoch).
ROTATE_BYTES = 8 * 1024 * 1024
_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True, default=str)


def _dumps(value) -> bytes:
    return _encoder.encode(value).encode()


_STATE = "SELECT epoch, position FROM audit_journal_state WHERE id = 1"
_SET_STATE = (
    "INSERT INTO audit_journal_state (id, epoch, position) VALUES (1, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET epoch = excluded.epoch, position = excluded.position"
)
_SET_WRITER = (
    "INSERT INTO audit_journal_writers (writer, last_n) VALUES (?, ?)"
    " ON CONFLICT (writer) DO UPDATE SET last_n = excluded.last_n"
)


def _mac(key: bytes, body: bytes) -> bytes:
    return hmac.digest(key, b"journal|" + body, "sha256").hex().encode()


class AuditJournal:
    """One instance's journal file, appended to by this process and folded by any."""

    def __init__(self, path: Path, key: Callable[[], bytes], *, sync: bool = False):
        self.path = Path(path)
        self._key = key
        self._sync = sync
        self._writer = secrets.token_hex(8)  # this process's lines, numbered 1, 2, 3…
        self._written = 0
        self.unfolded = 0  # records this process wrote since its last fold (a hint for when to fold)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._folded_at: tuple[int, int] | None = None  # (inode, size) of the file when last found fully folded
        self.on_append: Callable[[], None] | None = None

    # --- writing --------------------------------------------------------------------------

    def append(
        self,
        *,
        actor: str,
        action: str,
        decision: str,
        rule: str,
        purpose: str | None = None,
        subject_id: str | None = None,
        categories: Iterable[str] = (),
        detail: dict | None = None,
    ) -> None:
        """Write one record; when this returns the record survives a crash of the process."""
        at = audit.at_text(clock.now())
        cats = ",".join(sorted(set(categories)))
        key = self._key()
        with self._lock:
            n = self._written + 1
            body = _dumps([self._writer, n, at, actor, action, purpose, subject_id, cats, decision, rule, detail or {}])
            line = body + b" " + _mac(key, body) + b"\n"
            fd = self._fd if self._fd is not None else self._open()
            fcntl.flock(fd, fcntl.LOCK_SH)
            try:
                written = os.write(fd, line)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            if written != len(line):  # a short write to a regular file: the disk is full
                raise OSError(f"the audit journal {self.path} is full: the record was not written")
            if self._sync:
                os.fdatasync(fd)
            self._written = n
            self.unfolded += 1
        if self.on_append is not None:
            self.on_append()

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            if os.fstat(fd).st_size == 0:
                os.write(fd, EPOCH_PREFIX + secrets.token_hex(8).encode() + b"\n")
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
        self._fd = fd
        return fd

    @property
    def written(self) -> int:
        """How many records this process has written."""
        return self._written

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    # --- folding into the chain -------------------------------------------------------------

    def forget_folded(self) -> None:
        """The last fold did not commit: do not trust what it found."""
        self._folded_at = None

    def may_have_pending(self) -> bool:
        """False when the file is exactly as it was when last found fully folded (one stat, no database)."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        return self._folded_at != (st.st_ino, st.st_size)

    def fold(self, conn: Connection, audit_key: bytes) -> int:
        """Append every journal record not yet in the chain to `audit_log`, in the caller's transaction, which
        must hold the database's write lock (SQLite's BEGIN IMMEDIATE). Returns how many records went in."""
        try:
            with open(self.path, "rb") as f:
                st = os.fstat(f.fileno())
                first = f.readline()
                epoch, start = (
                    (first[len(EPOCH_PREFIX) :].strip().decode(), len(first))
                    if first.startswith(EPOCH_PREFIX)
                    else ("", 0)  # emptied and not yet given its epoch line: read it all, counters skip repeats
                )
                self.unfolded = 0
                fast = FastSQL(conn)
                state = fast.one(_STATE, ())
                if state is not None and state[0] == epoch and state[1] >= start:
                    start = state[1]
                f.seek(start)
                data = f.read()
        except FileNotFoundError:
            return 0
        complete = data.rfind(b"\n") + 1  # a line still being written is left for the next fold
        lines = data[:complete].split(b"\n")[:-1]
        folded = self._fold_lines(conn, fast, audit_key, lines)
        position = start + complete
        fast.run(_SET_STATE, (epoch, position))
        if position == st.st_size:
            self._folded_at = (st.st_ino, st.st_size)
        return folded

    def _fold_lines(self, conn: Connection, fast: FastSQL, audit_key: bytes, lines: list[bytes]) -> int:
        if not lines:
            return 0
        unreadable = 0
        parsed = []
        for line in lines:
            body, _, mac = line.rpartition(b" ")
            if not body or not hmac.compare_digest(_mac(audit_key, body), mac):
                unreadable += 1
                continue
            record = json.loads(body.decode())
            # The body is `["writer",n,` and then, byte for byte, the record's canonical encoding after its `[seq,`
            # (same encoder; the writer is hex and n a number, so the second comma ends the prefix).
            record.append(body[body.index(b",", body.index(b",") + 1) + 1 :])
            parsed.append(record)
        writers = sorted({r[0] for r in parsed})
        last_n: dict[str, int] = {}
        for start in range(0, len(writers), 500):
            chunk = writers[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT writer, last_n FROM audit_journal_writers WHERE writer IN ({marks})"  # noqa: S608
            last_n.update(fast.all(query, tuple(chunk)))
        seen = dict(last_n)
        now = audit.at_text(clock.now())
        records: list = []
        tails: list[bytes | None] = []

        def problem(rule: str, detail: dict) -> None:
            records.append(_problem(now, rule, detail))
            tails.append(None)

        if unreadable:
            problem("journal-unreadable", {"lines": unreadable})
        for writer, n, *record, tail in parsed:
            last = seen.get(writer, 0)
            if n <= last:
                continue  # folded before (the file was read again after it was emptied)
            if n > last + 1:
                problem("journal-gap", {"writer": writer, "missing": n - last - 1, "after": last})
            records.append(record)
            tails.append(tail)
            seen[writer] = n
        if records:
            audit.append_many(conn, audit_key, records, fast=fast, tails=tails)
        changed = [(w, n) for w, n in seen.items() if last_n.get(w) != n]
        if changed:
            fast.cursor.executemany(fast.sql(_SET_WRITER), changed)
        return len(records)

    def skip_to_end(self, conn: Connection) -> None:
        """After a restore: the journal's records belong to the history the restore replaced, so mark all of it as
        folded (in the caller's write transaction), lest its writers' counters look like gaps in the restored
        chain."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return
        first_end = data.find(b"\n") + 1
        first = data[:first_end]
        epoch = first[len(EPOCH_PREFIX) :].strip().decode() if first.startswith(EPOCH_PREFIX) else ""
        complete = data.rfind(b"\n") + 1
        last_n: dict[str, int] = {}
        for line in data[first_end if epoch else 0 : complete].split(b"\n"):
            try:
                writer, n = json.loads(line[: line.index(b",", line.index(b",") + 1)] + b"]")
            except ValueError:
                continue  # an unreadable line counts for nothing
            last_n[writer] = max(n, last_n.get(writer, 0))
        fast = FastSQL(conn)
        fast.run(_SET_STATE, (epoch, complete))
        if last_n:
            fast.cursor.executemany(fast.sql(_SET_WRITER), list(last_n.items()))
        self.unfolded = 0

    def rotate_if_large(self) -> bool:
        """Empty the file, under an exclusive lock, if it is large and everything in it has been folded (call after
        the fold's commit). The next fold sees the new epoch and starts after it."""
        if self._folded_at is None or self._folded_at[1] < ROTATE_BYTES:
            return False
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            st = os.fstat(fd)
            if (st.st_ino, st.st_size) != self._folded_at:
                return False  # written since the fold: next time
            os.ftruncate(fd, 0)
            os.pwrite(fd, EPOCH_PREFIX + secrets.token_hex(8).encode() + b"\n", 0)
            self._folded_at = None
            return True
        finally:
            os.close(fd)  # closing releases the lock


def _problem(at: str, rule: str, detail: dict) -> list:
    """A record of lines lost or altered in the journal, in the chain in their place (`audit verify` fails on it)."""
    return [at, "system:audit-journal", audit.JOURNAL_ACTION, None, None, "", "deny", rule, detail]


def journal_path(database_file: str | Path) -> Path:
    """Where the journal of a SQLite database file lives: beside it (`vowkeep.db` → `vowkeep.audit-journal`)."""
    database_file = Path(database_file)
    return database_file.with_name(database_file.stem + ".audit-journal")
