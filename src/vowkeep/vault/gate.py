"""The gate: the only code that reads or writes personal data.

Every call names an actor and a purpose. The gate (1) checks the declaration — the purpose declares the
categories, the actor may serve the purpose, financial data only completes transactions, a recipient is declared
for them; (2) checks the subject — its state, holds, and consent for consent-based purposes; (3) encrypts or
decrypts; (4) appends an audit record in the same transaction. A denial raises `GateDenied` with the rule.

Work happens inside `vault.transaction()`, one unit of work: denials are audited even when the caller's
transaction rolls back, and keys are destroyed only after an erasure has committed.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from vowkeep import clock
from vowkeep.consent import ledger
from vowkeep.policy.model import CollectionPoint, ConsentMode, MessageKind, Policy
from vowkeep.policy.taxonomy import covers
from vowkeep.store import jobs
from vowkeep.store.engine import durable_writes, read_connection, sqlite_file
from vowkeep.store.fastsql import FastSQL
from vowkeep.store.tables import (
    blind_index,
    holds,
    items,
    outbox,
    policy_versions,
    subjects,
    traffic_subject_counts,
    visitor_links,
)
from vowkeep.vault import audit, blind
from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.vault.crypto import DecryptionError, item_ad, seal, unseal
from vowkeep.vault.decisions import SUBJECT_RIGHTS, Decision, GateDenied, allow, decide_declared, deny
from vowkeep.vault.groupcommit import GroupCommit
from vowkeep.vault.intake import CleanSubmission
from vowkeep.vault.journal import AuditJournal, journal_path
from vowkeep.vault.keystore import KeyStore

log = logging.getLogger("vowkeep.vault")
# How long the journal's folder waits after a record before folding, so that records gather into one transaction.
# The fold thread folds this long after the first record it has not folded; a reader folds a batch this large.
FOLD_DELAY_SECONDS = 0.2
FOLD_BATCH = 256
# The job that folds the data database's WAL after an erasure (see `shred`).
FOLD_WAL_JOB = "store.fold-wal"
_OPEN_HOLDS_SQL = (
    "SELECT id, hold_key, purpose, categories, reason, ends_at FROM holds"
    " WHERE subject_id = ? AND released_at IS NULL AND ends_at > ?"
)

# The subject's state, whether any hold is open on it, and its items, in one round trip.
_SUBJECT_ITEMS_SQL = (
    "SELECT s.state, (SELECT count(*) FROM holds h WHERE h.subject_id = s.id AND h.released_at IS NULL),"
    " i.id, i.category, i.field, i.collection_point, i.purposes, i.policy_version, i.source, i.collected_at,"
    " i.updated_at, i.ciphertext FROM subjects s LEFT JOIN items i ON i.subject_id = s.id{only} WHERE s.id = ?"
)
_subject_items_sql: dict[tuple[int, bool], str] = {}


def _subject_items(count: int, sqlite: bool) -> str:
    """The query, limited to `count` requested categories (each matching itself and its descendants)."""
    text = _subject_items_sql.get((count, sqlite))
    if text is None:
        # On SQLite a descendant of `a.b` sorts between `a.b.` and `a.b/` ('/' follows '.' in its binary
        # collation). Not LIKE there: SQLite prepares a statement again each time a LIKE pattern is bound, which
        # tripled the cost of this query. PostgreSQL's collations may ignore punctuation, so it keeps LIKE, whose
        # `_` wildcard may match a few rows too many: the exact `covers` filter of the gate drops them.
        one = "i.category = ? OR " + ("(i.category > ? AND i.category < ?)" if sqlite else "i.category LIKE ?")
        only = " AND (" + " OR ".join([one] * count) + ")" if count else ""
        text = _subject_items_sql[(count, sqlite)] = _SUBJECT_ITEMS_SQL.format(only=only)
    return text


def _category_params(categories: Iterable[str], sqlite: bool) -> list[str]:
    if sqlite:
        return [p for c in categories for p in (c, c + ".", c + "/")]
    return [p for c in categories for p in (c, c + ".%")]


@dataclass(slots=True)
class _StoredItem:
    id: str
    category: str
    field: str
    collection_point: str
    purposes: str
    policy_version: int
    source: str | None
    collected_at: object
    updated_at: object
    ciphertext: bytes


class SubjectNotFound(LookupError):
    """No subject with that id."""


class SubjectState:
    active = "active"
    deactivated = "deactivated"
    restricted = "restricted"
    erased = "erased"


@dataclass(frozen=True)
class PolicyState:
    """The declaration in force and its version; `reconsent_since` maps purposes to the version that changed them
    materially (NTC-2): consents given before it no longer count."""

    policy: Policy
    version: int
    reconsent_since: dict[str, int] = field(default_factory=dict)


@dataclass
class ItemValue:
    id: str
    category: str
    field: str
    value: object
    collection_point: str
    purposes: list[str]
    policy_version: int
    source: str | None
    collected_at: datetime
    updated_at: datetime

    def meta(self) -> dict:
        """Everything about the item except its value."""
        return {
            "id": self.id,
            "category": self.category,
            "field": self.field,
            "collection_point": self.collection_point,
            "purposes": self.purposes,
            "policy_version": self.policy_version,
            "source": self.source,
            "collected_at": self.collected_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }


@dataclass
class CollectResult:
    subject_id: str
    created: bool
    item_ids: list[str]
    dropped: list[str]


@dataclass(frozen=True)
class HeldItem:
    """An item an erasure had to keep: listed to the subject with the hold's reason and end (RIG-3)."""

    item_id: str
    category: str
    field: str
    hold: str
    reason: str
    ends_at: datetime


@dataclass
class ErasureResult:
    subject_id: str
    deleted: int
    held: list[HeldItem]
    key_destroyed: bool


@dataclass
class ActiveHold:
    id: str
    hold_key: str
    purpose: str
    categories: tuple[str, ...]
    reason: str
    ends_at: datetime

    def covers(self, category: str) -> bool:
        return any(covers(c, category) for c in self.categories)


class Vault:
    """The gate over one instance's data database and key store."""

    def __init__(self, *, engine: Engine, keystore: KeyStore, policy_state: PolicyState, refresh_seconds: float = 1.0):
        self.engine = engine
        self.keystore = keystore
        self._state = policy_state
        self._refresh_seconds = refresh_seconds
        self._checked_at = time.monotonic()
        self._lock = threading.Lock()
        self._decide = lru_cache(maxsize=4096)(self._decide_uncached)
        self._loader: Callable[[Connection], PolicyState | None] | None = None
        self._group = GroupCommit(engine, prepare=self._mark_unit_of_work, flush_denials=self._flush_denials)
        # On SQLite, records that change no data (reads, look-ups, denials) go to the audit journal (see journal.py).
        database_file = sqlite_file(engine)
        self.journal = (
            AuditJournal(journal_path(database_file), lambda: self._audit_key, sync=durable_writes(engine))
            if database_file is not None
            else None
        )
        if self.journal is not None:
            self.journal.on_append = self._want_fold
        self._readers = threading.local()
        self._reader_connections: list = []
        self._fold_lock = threading.Lock()
        self._fold_wanted = threading.Event()
        self._folder: threading.Thread | None = None
        self._closing = False
        self._closed = threading.Event()

    # --- the declaration in force ------------------------------------------------------------

    @property
    def policy(self) -> Policy:
        return self._state.policy

    @property
    def policy_version(self) -> int:
        return self._state.version

    @property
    def policy_state(self) -> PolicyState:
        return self._state

    def use_policy(self, state: PolicyState) -> None:
        """Switch to a newly published declaration."""
        with self._lock:
            self._state = state
            self._decide.cache_clear()

    def watch_versions(self, loader: Callable[[Connection], PolicyState | None]) -> None:
        """Let the vault pick up versions published by other processes; `loader` builds a state if newer."""
        self._loader = loader

    def refresh_if_due(self) -> None:
        """Pick up a version another process published (at most one check per `refresh_seconds`)."""
        if self._loader is not None and time.monotonic() - self._checked_at >= self._refresh_seconds:
            with self.engine.connect() as conn:
                self._maybe_refresh(conn)

    def _maybe_refresh(self, conn: Connection) -> None:
        if self._loader is None or time.monotonic() - self._checked_at < self._refresh_seconds:
            return
        self._checked_at = time.monotonic()
        latest = conn.execute(select(func.max(policy_versions.c.version))).scalar()
        if latest is not None and latest != self._state.version:
            state = self._loader(conn)
            if state is not None:
                self.use_policy(state)

    # --- units of work -----------------------------------------------------------------------

    @staticmethod
    def _mark_unit_of_work(conn: Connection) -> None:
        conn.info["vowkeep_uow"] = True
        conn.info["denials"] = []
        conn.info["after_commit"] = []

    def close(self) -> None:
        """Stop the journal's folder, fold what is left (best effort: any later process folds it otherwise)."""
        self._closing = True
        self._closed.set()
        self._fold_wanted.set()
        if self._folder is not None:
            self._folder.join(timeout=10)
        if self.journal is not None:
            try:
                self.settle_audit()
            except Exception as exc:  # the records stay in the journal, durable, for the next fold
                log.warning("the audit journal was not folded on close: %s", exc)
            self.journal.close()
        with self._lock:
            for conn in self._reader_connections:
                conn.close()
            self._reader_connections.clear()
        self._group.close()

    # --- the audit journal ----------------------------------------------------------------------

    def settle_audit(self) -> int:
        """Fold the audit journal into the chain now; returns how many records went in.

        Call it before reading `audit_log`, and never while this thread holds a write transaction on the data
        database (the fold needs SQLite's write lock).
        """
        journal = self.journal
        if journal is None or not journal.may_have_pending():
            return 0
        with self._fold_lock:
            return self._fold(journal)

    def _fold(self, journal: AuditJournal) -> int:
        try:
            with self.engine.begin() as conn:
                folded = journal.fold(conn, self._audit_key)
        except BaseException:
            journal.forget_folded()
            raise
        journal.rotate_if_large()
        return folded

    def _fold_batch(self, journal: AuditJournal) -> None:
        """A reader that has journalled a batch folds it itself, between two reads: cheaper than waking the fold
        thread, which would contend with the readers for the interpreter lock. Skipped if a fold is running."""
        if journal.unfolded >= FOLD_BATCH and self._fold_lock.acquire(blocking=False):
            try:
                self._fold(journal)
            except Exception as exc:  # the read itself is done and journalled; the fold thread retries
                log.warning("folding the audit journal failed, will retry: %s", exc)
            finally:
                self._fold_lock.release()

    def _want_fold(self) -> None:
        if self._fold_wanted.is_set():
            return
        self._fold_wanted.set()
        if self._folder is None and not self._closing:
            with self._lock:
                if self._folder is None:
                    self._folder = threading.Thread(target=self._fold_loop, name="vowkeep-audit-fold", daemon=True)
                    self._folder.start()

    def _fold_loop(self) -> None:
        while True:
            self._fold_wanted.wait()
            # Let records gather for a moment (close() cuts it short and folds what is left itself).
            if self._closing or self._closed.wait(FOLD_DELAY_SECONDS):
                return
            self._fold_wanted.clear()
            try:
                self.settle_audit()
            except Exception as exc:  # retried at the next record, by the worker's checkpoint, or by any reader
                log.warning("folding the audit journal failed, will retry: %s", exc)

    def _note(self, conn: Connection | None, entry: dict) -> None:
        """A record that changes no data (a denial): into the journal, or kept to go in with the unit of work."""
        if self.journal is not None:
            self.journal.append(**entry)
        else:
            conn.info["denials"].append(entry)

    def _record_access(self, conn: Connection | None, fast: FastSQL | None, entry: dict) -> None:
        """The record of an allowed read or look-up: durable before the caller gets anything (SEC-3)."""
        if self.journal is not None:
            self.journal.append(**entry)
        else:
            audit.append(conn, self._audit_key, fast=fast, **entry)

    def _reader(self) -> FastSQL:
        """This thread's read-only connection to the SQLite database, for standalone reads."""
        fast = getattr(self._readers, "fast", None)
        if fast is None:
            conn = read_connection(self.engine)
            with self._lock:
                self._reader_connections.append(conn)
            fast = self._readers.fast = FastSQL.over(conn, sqlite=True)
        return fast

    @contextmanager
    def transaction(self, *, connection: Connection | None = None) -> Iterator[Connection]:
        """One unit of work. Denials are audited even if it rolls back; post-commit actions run after commit.

        A long job may pass its own `connection` (no transaction open on it) to run many units of work on it in
        turn; it is left open.
        """
        conn = connection if connection is not None else self.engine.connect()
        self._mark_unit_of_work(conn)
        try:
            trans = conn.begin()
            try:
                self._maybe_refresh(conn)
                yield conn
                self._flush_denials(conn)
                trans.commit()
            except BaseException:
                trans.rollback()
                if conn.info["denials"]:
                    with conn.begin():
                        self._flush_denials(conn)
                raise
            for action in conn.info["after_commit"]:
                action()
        finally:
            conn.info.clear()
            if connection is None:
                conn.close()

    def _flush_denials(self, conn: Connection) -> None:
        pending, conn.info["denials"] = conn.info["denials"], []
        key = self._audit_key
        for entry in pending:
            audit.append(conn, key, **entry)

    def _require_uow(self, conn: Connection) -> None:
        if not conn.info.get("vowkeep_uow"):
            raise RuntimeError("gate calls must run inside vault.transaction()")

    @property
    def _audit_key(self) -> bytes:
        return self.keystore.system_key(audit.AUDIT_KEY_NAME)

    @property
    def _index_key(self) -> bytes:
        return self.keystore.system_key(blind.INDEX_KEY_NAME)

    def audit(self, conn: Connection, *, actor: Actor, action: str, decision: Decision | None = None, **fields) -> int:
        """Append an audit record for an action outside reads and writes (a disclosure approved, a hold placed…)."""
        self._require_uow(conn)
        decision = decision or allow()
        return audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action=action,
            decision="allow" if decision.allowed else "deny",
            rule=decision.rule,
            **fields,
        )

    def _refuse(
        self, conn: Connection | None, actor: Actor, action: str, purpose, subject_id, decision: Decision, **detail
    ):
        self._note(
            conn,
            dict(
                actor=actor.label,
                action=action,
                decision="deny",
                rule=decision.rule,
                purpose=purpose,
                subject_id=subject_id,
                categories=decision.categories,
                detail={"reason": decision.reason, **detail},
            ),
        )
        raise GateDenied(decision)

    # --- decisions ---------------------------------------------------------------------------

    def _decide_uncached(self, actor: Actor, purpose: str, categories: tuple[str, ...], recipient: str | None):
        return decide_declared(self.policy, actor, purpose, categories, recipient)

    def check(self, actor: Actor, purpose: str, categories: Iterable[str], recipient: str | None = None) -> Decision:
        """The declaration's decision alone (no subject): for showing what an actor may do."""
        return self._decide(actor, purpose, tuple(sorted(set(categories))), recipient)

    def authorize(
        self,
        conn: Connection,
        *,
        actor: Actor,
        action: str,
        purpose: str,
        categories: Iterable[str],
        recipient: str | None = None,
    ) -> Decision:
        """The declaration's decision for an action that reads nothing yet (a disclosure awaiting approval, say).

        A denial is audited — even if the unit of work then rolls back — and raised as GateDenied.
        """
        self._require_uow(conn)
        decision = self.check(actor, purpose, categories, recipient)
        if not decision.allowed:
            self._refuse(
                conn, actor, action, purpose, None, decision, **({"recipient": recipient} if recipient else {})
            )
        return decision

    def _subject_row(self, conn: Connection, subject_id: str):
        row = conn.execute(select(subjects.c.state, subjects.c.state_reason).where(subjects.c.id == subject_id)).first()
        if row is None:
            raise SubjectNotFound(subject_id)
        return row

    def active_holds(self, conn: Connection, subject_id: str) -> list[ActiveHold]:
        now = clock.now()
        rows = conn.execute(
            select(holds).where(holds.c.subject_id == subject_id, holds.c.released_at.is_(None), holds.c.ends_at > now)
        ).all()
        return [ActiveHold(r.id, r.hold_key, r.purpose, tuple(r.categories.split()), r.reason, r.ends_at) for r in rows]

    def _active_holds_fast(self, fast: FastSQL, subject_id: str) -> list[ActiveHold]:
        rows = fast.all(_OPEN_HOLDS_SQL, (subject_id, fast.time_in(clock.now())))
        return [ActiveHold(r[0], r[1], r[2], tuple(r[3].split()), r[4], fast.time_out(r[5])) for r in rows]

    def _decide_subject(
        self, conn: Connection, *, purpose: str, subject_id: str, state: str, held_categories: list[str], fast=None
    ) -> Decision | None:
        """None if the subject's state and consent let the purpose proceed, else the denial."""
        if state == SubjectState.erased and not held_categories:
            return deny("subject-erased", "the subject's data was erased")
        if state in (SubjectState.deactivated, SubjectState.restricted) and purpose != SUBJECT_RIGHTS:
            return deny(f"subject-{state}", f"the subject's account is {state}: no processing")
        declared = self.policy.purpose_by_key.get(purpose)
        if declared is not None and declared.consent != ConsentMode.none:
            state_now = ledger.current_fast(fast or FastSQL(conn), subject_id=subject_id, purpose=purpose)
            ok, rule = ledger.allows(
                declared.consent, state_now, reconsent_since=self._state.reconsent_since.get(purpose)
            )
            if not ok:
                reasons = {
                    "consent-required": f"purpose '{purpose}' needs the subject's consent",
                    "reconsent-required": f"purpose '{purpose}' changed; the subject must consent again",
                    "objection": f"the subject objected to purpose '{purpose}'",
                }
                return deny(rule, reasons[rule])
        return None

    # --- reads -------------------------------------------------------------------------------

    def read(
        self,
        conn: Connection,
        *,
        actor: Actor,
        purpose: str,
        subject_id: str,
        categories: Iterable[str] | None = None,
        recipient: str | None = None,
        action: str = "read",
    ) -> list[ItemValue]:
        """Decrypt the subject's items of `categories` (default: all the purpose declares) for `purpose`, inside
        the caller's unit of work. The record of the read is durable before this returns, whatever the unit of
        work does next (in the audit journal on SQLite; on PostgreSQL in the transaction, which the caller commits).
        """
        self._require_uow(conn)
        return self._read(
            FastSQL(conn),
            conn,
            actor=actor,
            purpose=purpose,
            subject_id=subject_id,
            categories=categories,
            recipient=recipient,
            action=action,
        )

    def read_now(
        self,
        *,
        actor: Actor,
        purpose: str,
        subject_id: str,
        categories: Iterable[str] | None = None,
        recipient: str | None = None,
    ) -> list[ItemValue]:
        """A gated read as its own unit of work; returns only once its audit record is durable.

        On SQLite it reads on this thread's read-only connection and journals its record; on PostgreSQL
        concurrent reads share one commit (see `groupcommit`). Never call it inside `transaction()`: on SQLite
        the two could wait for each other.
        """
        if self.journal is not None:
            self.refresh_if_due()
            values = self._read(
                self._reader(),
                None,
                actor=actor,
                purpose=purpose,
                subject_id=subject_id,
                categories=categories,
                recipient=recipient,
                action="read",
            )
            self._fold_batch(self.journal)
            return values

        def work(conn: Connection) -> list[ItemValue]:
            self._maybe_refresh(conn)
            return self.read(
                conn, actor=actor, purpose=purpose, subject_id=subject_id, categories=categories, recipient=recipient
            )

        return self._group.run(work)

    def _read(
        self,
        fast: FastSQL,
        conn: Connection | None,
        *,
        actor: Actor,
        purpose: str,
        subject_id: str,
        categories: Iterable[str] | None,
        recipient: str | None,
        action: str,
    ) -> list[ItemValue]:
        """The gated read itself, on prepared SQL (the hottest path in vowkeep). `conn` is None on a read-only
        connection, where every record goes to the journal."""
        requested = tuple(sorted(set(categories))) if categories is not None else None
        only = requested or ()
        rows = fast.all(_subject_items(len(only), fast.sqlite), (*_category_params(only, fast.sqlite), subject_id))
        if not rows:
            raise SubjectNotFound(subject_id)
        state, hold_count = rows[0][0], rows[0][1]
        held = self._active_holds_fast(fast, subject_id) if hold_count else []
        stored = [_StoredItem(*row[2:]) for row in rows if row[2] is not None]
        declared = self.policy.purpose_by_key.get(purpose)
        if requested is None:
            if purpose == SUBJECT_RIGHTS:
                wanted = stored
            elif declared is None:
                wanted = []
            else:
                wanted = [r for r in stored if any(covers(d, r.category) for d in declared.categories)]
            asked = tuple(sorted({r.category for r in wanted})) or tuple(declared.categories if declared else ())
        else:
            wanted = [r for r in stored if any(covers(c, r.category) for c in requested)]
            asked = requested
        decision = self._decide(actor, purpose, asked, recipient)
        if not decision.allowed:
            self._refuse(conn, actor, action, purpose, subject_id, decision, recipient=recipient)
        if declared is not None and (declared.consent_based or declared.messages == MessageKind.marketing):
            # Purposes that rest on a choice (consent, or marketing one may object to) use only what was collected
            # for them: an address given to receive a download link is not a marketing address (COL-1, COL-7).
            collected_for = [r for r in wanted if purpose in r.purposes.split()]
            if wanted and not collected_for:
                reason = (
                    f"the subject's {', '.join(sorted({r.category for r in wanted}))} was not collected for '{purpose}'"
                )
                self._refuse(conn, actor, action, purpose, subject_id, deny("collection-purpose", reason, asked))
            wanted = collected_for
        held_here = [r for r in wanted if any(h.covers(r.category) for h in held)]
        refusal = self._decide_subject(
            conn,
            purpose=purpose,
            subject_id=subject_id,
            state=state,
            held_categories=[r.category for r in held_here],
            fast=fast,
        )
        if refusal is not None:
            self._refuse(conn, actor, action, purpose, subject_id, deny(refusal.rule, refusal.reason, asked))
        if state == SubjectState.erased:
            # Only held items survive an erasure, and only their hold's purpose may touch them.
            wanted = held_here
        if held_here:
            if purpose == SUBJECT_RIGHTS:
                wanted = [r for r in wanted if r not in held_here]
            else:
                outside = sorted(
                    {
                        r.category
                        for r in held_here
                        if not any(h.covers(r.category) and h.purpose == purpose for h in held)
                    }
                )
                if outside:
                    reason = f"{', '.join(outside)} is held: only its hold's purpose may use it"
                    self._refuse(conn, actor, action, purpose, subject_id, deny("held", reason, asked))
        values = self._decrypt(subject_id, wanted, fast)
        self._record_access(
            conn,
            fast,
            dict(
                actor=actor.label,
                action=action,
                decision="allow",
                rule="allowed",
                purpose=purpose,
                subject_id=subject_id,
                categories=[v.category for v in values] or asked,
                detail={"items": len(values), **({"recipient": recipient} if recipient else {})},
            ),
        )
        return values

    def _decrypt(self, subject_id: str, rows, fast: FastSQL | None = None) -> list[ItemValue]:
        if not rows:
            return []
        aead = self.keystore.data_key(subject_id)
        if aead is None:
            raise DecryptionError("the subject's data key was destroyed")
        convert = fast.time_out if fast is not None else (lambda v: v)
        out = []
        for r in rows:
            plain = unseal(aead, bytes(r.ciphertext), item_ad(subject_id, r.category, r.id))
            out.append(
                ItemValue(
                    id=r.id,
                    category=r.category,
                    field=r.field,
                    value=json.loads(plain),
                    collection_point=r.collection_point,
                    purposes=r.purposes.split(),
                    policy_version=r.policy_version,
                    source=r.source,
                    collected_at=convert(r.collected_at),
                    updated_at=convert(r.updated_at),
                )
            )
        return out

    def find_subjects(self, conn: Connection, *, actor: Actor, purpose: str, category: str, value: str) -> list[str]:
        """Subjects whose `category` value equals `value`, through the blind index (audited as a lookup)."""
        self._require_uow(conn)
        decision = self._decide(actor, purpose, (category,), None)
        if not decision.allowed:
            self._refuse(conn, actor, "lookup", purpose, None, decision)
        kind = blind.kind_for(category) or category
        digest = blind.digest(self._index_key, kind, value)
        found = list(
            conn.execute(
                select(blind_index.c.subject_id)
                .join(subjects, subjects.c.id == blind_index.c.subject_id)
                .where(
                    blind_index.c.kind == kind, blind_index.c.digest == digest, subjects.c.state != SubjectState.erased
                )
                .distinct()
            ).scalars()
        )
        self._record_access(
            conn,
            None,
            dict(
                actor=actor.label,
                action="lookup",
                decision="allow",
                rule="allowed",
                purpose=purpose,
                categories=[category],
                detail={"matches": len(found)},
            ),
        )
        return found

    # --- writes ------------------------------------------------------------------------------

    def collect(
        self,
        conn: Connection,
        *,
        actor: Actor,
        point: CollectionPoint,
        submission: CleanSubmission,
        subject_id: str | None = None,
    ) -> CollectResult:
        """Store a checked submission at a declared collection point (COL-1): encrypted, indexed, audited."""
        self._require_uow(conn)
        categories = tuple(sorted({f.category for f in point.fields if f.name in submission.values}))
        allowed = (
            actor.kind == ActorKind.system
            or (actor.kind == ActorKind.service and ({"*", "collect", f"collect:{point.key}"} & actor.scopes))
            or actor.kind == ActorKind.subject
        )
        if not allowed:
            self._refuse(
                conn,
                actor,
                "collect",
                None,
                subject_id,
                deny("api-key-scope", f"this actor may not submit to '{point.key}'", categories),
                point=point.key,
            )
        now = clock.now()
        created = False
        if subject_id is None:
            subject_id = self._identify(conn, point, submission)
        if subject_id is not None:
            row = self._subject_row(conn, subject_id)
            if row.state != SubjectState.active:
                self._refuse(
                    conn,
                    actor,
                    "collect",
                    None,
                    subject_id,
                    deny(f"subject-{row.state}", f"the subject's account is {row.state}", categories),
                    point=point.key,
                )
        if subject_id is None:
            subject_id = uuid.uuid4().hex
            conn.execute(
                insert(subjects).values(
                    id=subject_id,
                    state=SubjectState.active,
                    created_at=now,
                    created_via=point.key,
                    policy_version=self.policy_version,
                    last_activity_at=now,
                )
            )
            # The key store commits on its own: if this transaction rolls back, an unused key is left, which
            # `vowkeep verify` lists and the sweeper removes; never the reverse (data without a key).
            aead = self.keystore.create_data_key(subject_id)
            created = True
        else:
            aead = self.keystore.data_key(subject_id)
            if aead is None:
                raise DecryptionError("the subject's data key is missing")
            conn.execute(update(subjects).where(subjects.c.id == subject_id).values(last_activity_at=now))
        fields = {f.name: f for f in point.fields}
        lookups = {c.key for c in self.policy.categories if c.lookup}
        existing = {
            (r.field, r.category): r.id
            for r in conn.execute(
                select(items.c.id, items.c.field, items.c.category).where(
                    items.c.subject_id == subject_id, items.c.collection_point == point.key
                )
            )
        }
        purposes = " ".join(point.purposes)
        item_ids = []
        for name, value in submission.values.items():
            spec = fields[name]
            item_id = existing.get((name, spec.category)) or uuid.uuid4().hex
            blob = seal(aead, json.dumps(value).encode(), item_ad(subject_id, spec.category, item_id))
            values = dict(
                purposes=purposes,
                policy_version=self.policy_version,
                source=submission.source,
                updated_at=now,
                ciphertext=blob,
            )
            if (name, spec.category) in existing:
                conn.execute(update(items).where(items.c.id == item_id).values(**values))
            else:
                conn.execute(
                    insert(items).values(
                        id=item_id,
                        subject_id=subject_id,
                        category=spec.category,
                        field=name,
                        collection_point=point.key,
                        collected_at=now,
                        **values,
                    )
                )
            if any(covers(c, spec.category) for c in lookups) or blind.kind_for(spec.category):
                self._index(conn, subject_id, item_id, spec.category, value)
            item_ids.append(item_id)
        audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action="collect",
            decision="allow",
            rule="allowed",
            purpose=point.purposes[0] if len(point.purposes) == 1 else None,
            subject_id=subject_id,
            categories=categories,
            detail={
                "point": point.key,
                "items": len(item_ids),
                "created": created,
                **({"source": submission.source} if submission.source else {}),
                **({"dropped": submission.dropped} if submission.dropped else {}),
            },
        )
        return CollectResult(subject_id, created, item_ids, submission.dropped)

    def _identify(self, conn: Connection, point: CollectionPoint, submission: CleanSubmission) -> str | None:
        """An existing live subject matching one of the point's identifying fields, if any."""
        fields = {f.name: f for f in point.fields}
        for name in point.identify_by:
            value = submission.values.get(name)
            if value is None:
                continue
            category = fields[name].category
            kind = blind.kind_for(category) or category
            digest = blind.digest(self._index_key, kind, str(value))
            found = conn.execute(
                select(blind_index.c.subject_id)
                .join(subjects, subjects.c.id == blind_index.c.subject_id)
                .where(
                    blind_index.c.kind == kind, blind_index.c.digest == digest, subjects.c.state != SubjectState.erased
                )
                .limit(1)
            ).scalar()
            if found:
                return found
        return None

    def _index(self, conn: Connection, subject_id: str, item_id: str, category: str, value: object) -> None:
        kind = blind.kind_for(category) or category
        digest = blind.digest(self._index_key, kind, str(value))
        conn.execute(delete(blind_index).where(blind_index.c.item_id == item_id))
        conn.execute(insert(blind_index).values(kind=kind, digest=digest, subject_id=subject_id, item_id=item_id))

    def rectify(
        self,
        conn: Connection,
        *,
        actor: Actor,
        purpose: str,
        subject_id: str,
        changes: dict[str, object],
        check_value: Callable[[str, str, object], object],
    ) -> list[str]:
        """Correct field values (RIG-2): every item of each named field is re-encrypted with its new value.

        `check_value(collection_point, field, raw)` validates a value as its collection point declares it.
        """
        self._require_uow(conn)
        row = self._subject_row(conn, subject_id)
        stored = conn.execute(
            select(items.c.id, items.c.field, items.c.category, items.c.collection_point).where(
                items.c.subject_id == subject_id, items.c.field.in_(list(changes))
            )
        ).all()
        categories = tuple(sorted({r.category for r in stored}))
        missing = sorted(set(changes) - {r.field for r in stored})
        if missing:
            raise KeyError(f"the subject holds no value for: {', '.join(missing)}")
        decision = self._decide(actor, purpose, categories, None)
        if not decision.allowed:
            self._refuse(conn, actor, "rectify", purpose, subject_id, decision)
        refusal = self._decide_subject(
            conn, purpose=purpose, subject_id=subject_id, state=row.state, held_categories=[]
        )
        if refusal is not None:
            self._refuse(conn, actor, "rectify", purpose, subject_id, deny(refusal.rule, refusal.reason, categories))
        held = [r.category for r in stored if any(h.covers(r.category) for h in self.active_holds(conn, subject_id))]
        if held:
            self._refuse(
                conn,
                actor,
                "rectify",
                purpose,
                subject_id,
                deny("held", f"{', '.join(sorted(set(held)))} is held and cannot change", categories),
            )
        aead = self.keystore.data_key(subject_id)
        if aead is None:
            raise DecryptionError("the subject's data key was destroyed")
        now = clock.now()
        changed = []
        for r in stored:
            value = check_value(r.collection_point, r.field, changes[r.field])
            blob = seal(aead, json.dumps(value).encode(), item_ad(subject_id, r.category, r.id))
            conn.execute(update(items).where(items.c.id == r.id).values(ciphertext=blob, updated_at=now))
            if conn.execute(select(blind_index.c.item_id).where(blind_index.c.item_id == r.id)).first():
                self._index(conn, subject_id, r.id, r.category, value)
            changed.append(r.id)
        conn.execute(update(subjects).where(subjects.c.id == subject_id).values(last_activity_at=now))
        audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action="rectify",
            decision="allow",
            rule="allowed",
            purpose=purpose,
            subject_id=subject_id,
            categories=categories,
            detail={"fields": sorted(changes), "items": len(changed)},
        )
        return changed

    def delete_items(
        self,
        conn: Connection,
        *,
        actor: Actor,
        subject_id: str,
        item_ids: list[str],
        reason: str,
        action: str = "erase",
    ) -> int:
        """Delete items and their index rows (an erasure, an expiry); audited. Returns how many went."""
        self._require_uow(conn)
        if not item_ids:
            return 0
        categories = conn.execute(select(items.c.category).where(items.c.id.in_(item_ids)).distinct()).scalars().all()
        conn.execute(delete(blind_index).where(blind_index.c.item_id.in_(item_ids)))
        count = conn.execute(delete(items).where(items.c.subject_id == subject_id, items.c.id.in_(item_ids))).rowcount
        audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action=action,
            decision="allow",
            rule=reason,
            subject_id=subject_id,
            categories=categories,
            detail={"items": count},
        )
        return count

    def erase_subject(self, conn: Connection, *, actor: Actor, subject_id: str, reason: str) -> ErasureResult:
        """Erase a subject (RIG-3, MIN-2): every item not under an open hold goes; held items stay isolated.

        The subject becomes `erased` at once. Its data key is destroyed after commit when nothing is held; otherwise
        when the last hold ends (the retention sweeper calls this again, and then nothing is left).
        """
        self._require_uow(conn)
        self._subject_row(conn, subject_id)
        held_by = self.active_holds(conn, subject_id)
        rows = conn.execute(
            select(items.c.id, items.c.category, items.c.field).where(items.c.subject_id == subject_id)
        ).all()
        kept = []
        gone = []
        for row in rows:
            holding = [h for h in held_by if h.covers(row.category)]
            if holding:
                latest = max(holding, key=lambda h: h.ends_at)
                kept.append(HeldItem(row.id, row.category, row.field, latest.hold_key, latest.reason, latest.ends_at))
            else:
                gone.append(row.id)
        deleted = self.delete_items(conn, actor=actor, subject_id=subject_id, item_ids=gone, reason=reason)
        self.close_subject(conn, actor=actor, subject_id=subject_id, reason=reason)
        return ErasureResult(subject_id=subject_id, deleted=deleted, held=kept, key_destroyed=not kept)

    def close_subject(self, conn: Connection, *, actor: Actor, subject_id: str, reason: str) -> None:
        """Mark a subject erased, drop its index and queued mail, and destroy its data key once this commits.

        Called when nothing of the subject is left but what holds keep; with held items left the key stays.
        """
        self._require_uow(conn)
        remaining = conn.execute(
            select(func.count()).select_from(items).where(items.c.subject_id == subject_id)
        ).scalar_one()
        conn.execute(delete(blind_index).where(blind_index.c.subject_id == subject_id))
        conn.execute(delete(outbox).where(outbox.c.subject_id == subject_id))
        # Usage counted per subject, and the link from their browser's banner choices, go with them.
        conn.execute(delete(traffic_subject_counts).where(traffic_subject_counts.c.subject_id == subject_id))
        conn.execute(delete(visitor_links).where(visitor_links.c.subject_id == subject_id))
        now = clock.now()
        conn.execute(
            update(subjects)
            .where(subjects.c.id == subject_id)
            .values(
                state=SubjectState.erased,
                state_reason=reason,
                erased_at=now,
                closed_at=func.coalesce(subjects.c.closed_at, now),
            )
        )
        audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action="close",
            decision="allow",
            rule=reason,
            subject_id=subject_id,
            detail={"items_held": remaining},
        )
        if remaining == 0:
            conn.info["after_commit"].append(lambda: self.shred(subject_id))
            if sqlite_file(self.engine) is not None:
                jobs.enqueue(conn, kind=FOLD_WAL_JOB, unique_key=f"{FOLD_WAL_JOB}@{subject_id}", max_attempts=3)

    def shred(self, subject_id: str) -> None:
        """Destroy a subject's data key and fold the key store's SQLite WAL, so no copy of the wrapped key is left
        (RET-4). The data database's WAL keeps only ciphertext under the destroyed key and blind-index rows: its
        fold is queued (`FOLD_WAL_JOB`) for the worker, off the request's path, where it took half an erasure."""
        from vowkeep.store.engine import checkpoint

        self.keystore.destroy_data_key(subject_id)
        checkpoint(self.keystore.engine)

    # --- bulk retention (the sweeper) ----------------------------------------------------------

    def expire_items(
        self,
        conn: Connection,
        *,
        actor: Actor,
        rows: Iterable[tuple[str, str, str]],
        reason: str,
        action: str = "expire",
    ) -> dict[str, int]:
        """Delete many subjects' items at once, with their index rows (the retention sweeper). One audit record
        covers the call: its categories, and in `detail.subjects` how many items of each subject went (SEC-3);
        it names the subject itself when there is only one. `rows` are (item_id, subject_id, category)."""
        self._require_uow(conn)
        ids = [r[0] for r in rows]
        if not ids:
            return {}
        fast = FastSQL(conn)
        categories: set[str] = set()
        counts: dict[str, int] = {}
        for start in range(0, len(ids), 5000):
            chunk = tuple(ids[start : start + 5000])
            marks = ",".join("?" * len(chunk))
            fast.run(f"DELETE FROM blind_index WHERE item_id IN ({marks})", chunk)  # noqa: S608 — placeholders only
            for subject_id, category in fast.all(
                f"DELETE FROM items WHERE id IN ({marks}) RETURNING subject_id, category",  # noqa: S608
                chunk,
            ):
                categories.add(category)
                counts[subject_id] = counts.get(subject_id, 0) + 1
        if counts:
            only = next(iter(counts)) if len(counts) == 1 else None
            audit.append(
                conn,
                self._audit_key,
                actor=actor.label,
                action=action,
                decision="allow",
                rule=reason,
                subject_id=only,
                categories=categories,
                detail={"items": sum(counts.values()), "subjects": dict(sorted(counts.items()))},
                fast=fast,
            )
        return counts

    def anonymise_items(
        self,
        conn: Connection,
        *,
        actor: Actor,
        subject_id: str,
        item_ids: list[str],
        generalise: Callable[[ItemValue], str | None],
        reason: str,
    ) -> list[tuple[str, str | None]]:
        """Replace items by non-identifying contributions: `generalise` sees each value once (a date becomes its
        year…), then the items go like an expiry. Returns (category, generalised value or None) per item."""
        self._require_uow(conn)
        if not item_ids:
            return []
        fast = FastSQL(conn)
        marks = ",".join("?" * len(item_ids))
        columns = "id, category, field, collection_point, purposes, policy_version, source, collected_at, updated_at"
        query = f"SELECT {columns}, ciphertext FROM items WHERE subject_id = ? AND id IN ({marks})"  # noqa: S608
        stored = [_StoredItem(*row) for row in fast.all(query, (subject_id, *item_ids))]
        try:
            values = self._decrypt(subject_id, stored, fast)
            kept = [(v.category, generalise(v)) for v in values]
        except DecryptionError:
            # The key is already gone: nothing is readable, so nothing can be generalised; the items just go.
            kept = [(r.category, None) for r in stored]
        rows = [(r.id, subject_id, r.category) for r in stored]
        self.expire_items(conn, actor=actor, rows=rows, reason=reason, action="anonymise")
        return kept

    def close_subjects(
        self, conn: Connection, *, actor: Actor, subject_ids: list[str], reason: str, defer_shred: bool = False
    ) -> list[str]:
        """`close_subject` for many subjects (the sweeper), in bulk; keys of those with nothing left are destroyed
        after commit, all at once. Returns the subjects whose keys must go. With `defer_shred=True` the caller
        destroys them itself (`shred_many`) once this has committed — after a run of batches, say."""
        self._require_uow(conn)
        if not subject_ids:
            return []
        now = clock.now()
        empty: list[str] = []
        remaining: dict[str, int] = {}
        for start in range(0, len(subject_ids), 5000):
            chunk = subject_ids[start : start + 5000]
            held = dict(
                conn.execute(
                    select(items.c.subject_id, func.count())
                    .where(items.c.subject_id.in_(chunk))
                    .group_by(items.c.subject_id)
                ).all()
            )
            conn.execute(delete(blind_index).where(blind_index.c.subject_id.in_(chunk)))
            conn.execute(delete(outbox).where(outbox.c.subject_id.in_(chunk)))
            conn.execute(
                update(subjects)
                .where(subjects.c.id.in_(chunk), subjects.c.state != SubjectState.erased)
                .values(
                    state=SubjectState.erased,
                    state_reason=reason,
                    erased_at=now,
                    closed_at=func.coalesce(subjects.c.closed_at, now),
                )
            )
            for subject_id in chunk:
                remaining[subject_id] = held.get(subject_id, 0)
                if not held.get(subject_id):
                    empty.append(subject_id)
        audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action="close",
            decision="allow",
            rule=reason,
            subject_id=subject_ids[0] if len(subject_ids) == 1 else None,
            detail={
                "subjects": sorted(subject_ids),
                "items_held": {s: n for s, n in sorted(remaining.items()) if n},
            },
        )
        if empty and not defer_shred:
            conn.info["after_commit"].append(lambda: self.shred_many(empty))
        return empty

    def shred_many(self, subject_ids: list[str], *, fold_wal: bool = True) -> int:
        """Destroy many subjects' data keys, then fold the SQLite WALs once (RET-4). Returns how many existed."""
        destroyed = self.keystore.destroy_data_keys(list(subject_ids))
        if fold_wal:
            self.fold_wal()
        return destroyed

    def fold_wal(self) -> None:
        """Fold both SQLite WALs into their databases, so deleted values and keys leave the WAL files too."""
        from vowkeep.store.engine import checkpoint

        checkpoint(self.engine)
        checkpoint(self.keystore.engine)

    def set_state(self, conn: Connection, *, actor: Actor, subject_id: str, state: str, reason: str) -> None:
        """Deactivate, restrict or reactivate a subject (RIG-4); audited."""
        self._require_uow(conn)
        row = self._subject_row(conn, subject_id)
        if row.state == SubjectState.erased:
            raise GateDenied(deny("subject-erased", "the subject's data was erased"))
        values = {"state": state, "state_reason": reason}
        if state == SubjectState.active:
            values["closed_at"] = None
        conn.execute(update(subjects).where(subjects.c.id == subject_id).values(**values))
        audit.append(
            conn,
            self._audit_key,
            actor=actor.label,
            action=f"state:{state}",
            decision="allow",
            rule=reason,
            subject_id=subject_id,
        )

    # --- sealing for other packages (outbox, exports) -------------------------------------------

    def seal_for(self, subject_id: str | None, payload: dict, label: str) -> bytes:
        """Encrypt a payload under the subject's data key (or the system data key) — e.g. a queued e-mail."""
        aead = self._aead_for(subject_id)
        return seal(aead, json.dumps(payload).encode(), f"sealed|{label}|{subject_id or '-'}".encode())

    def unseal_for(self, subject_id: str | None, blob: bytes, label: str) -> dict:
        aead = self._aead_for(subject_id)
        return json.loads(unseal(aead, blob, f"sealed|{label}|{subject_id or '-'}".encode()))

    def _aead_for(self, subject_id: str | None):
        if subject_id is None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            return AESGCM(self.keystore.system_key("system-data"))
        aead = self.keystore.data_key(subject_id)
        if aead is None:
            raise DecryptionError("the subject's data key was destroyed")
        return aead
