"""Business transfer (SHR-8): the data set as an encrypted archive, and its restoration into a new instance.

`export_archive` reads every subject through the gate as the system actor `export`, keeping the categories the
declaration lets the acquiring recipient receive (SHR-1: the others are left out and counted), with the policy
versions, consents, holds and the marketing suppression list (and the blind-index key, so those entries still
match); the export is entered in the disclosure register. `restore_archive` creates a new instance from it.

The file: a magic line, a JSON header (scrypt parameters and salt), then chunks — a 4-byte length and an
AES-256-GCM ciphertext of up to 1 MiB of zlib-compressed JSON lines. Each chunk's nonce holds its number and its
associated data binds the header, the number and whether it is the last, so a chunk cannot be altered, moved,
dropped or cut off unnoticed. The key is derived from a passphrase with scrypt (N=2^17, r=8, p=1).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from sqlalchemy import Connection, func, insert, select

from vowkeep import clock
from vowkeep.policy.taxonomy import covers
from vowkeep.sharing import disclosures
from vowkeep.store.tables import consent_records, holds, items, policy_versions, subjects, suppression
from vowkeep.vault import blind
from vowkeep.vault.actors import Actor
from vowkeep.vault.decisions import SUBJECT_RIGHTS, GateDenied
from vowkeep.vault.gate import SubjectState

MAGIC = b"VOWKEEP-ARCHIVE\n"
FORMAT = 1
CHUNK = 1 << 20
SCRYPT = {"n": 2**17, "r": 8, "p": 1}
MIN_PASSPHRASE = 12
EXPORTER = Actor.system("export")
IMPORTER = Actor.system("import")
BATCH = 200


class ArchiveError(Exception):
    """The archive cannot be written or read: wrong passphrase, damaged file, unusable target…"""


# --- the file format -------------------------------------------------------------------------------------------


def _key(passphrase: str, salt: bytes, params: dict) -> bytes:
    if len(passphrase) < MIN_PASSPHRASE:
        raise ArchiveError(f"the passphrase must be at least {MIN_PASSPHRASE} characters")
    return Scrypt(salt=salt, length=32, n=params["n"], r=params["r"], p=params["p"]).derive(passphrase.encode())


def _ad(header: bytes, index: int, final: bool) -> bytes:
    return hashlib.sha256(header).digest() + struct.pack(">QB", index, final)


class ArchiveWriter:
    """Writes records (JSON objects) into an encrypted archive; `close()` seals the last chunk."""

    def __init__(self, path: Path, passphrase: str):
        salt = os.urandom(16)
        self._prefix = os.urandom(4)
        header = {
            "format": FORMAT,
            "kdf": {"name": "scrypt", **SCRYPT, "salt": base64.b64encode(salt).decode()},
            "cipher": "AES-256-GCM",
            "nonce_prefix": base64.b64encode(self._prefix).decode(),
            "created_at": clock.now().isoformat(),
        }
        self._aead = AESGCM(_key(passphrase, salt, SCRYPT))
        self._header = json.dumps(header, sort_keys=True).encode() + b"\n"
        # Only the owner may read it, like the master key: it holds the data set, if encrypted.
        self._file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self._file.write(MAGIC + self._header)
        self._zip = zlib.compressobj(6)
        self._pending = b""
        self._index = 0

    def write(self, record: dict) -> None:
        line = json.dumps(record, default=_json_default, separators=(",", ":")).encode() + b"\n"
        self._pending += self._zip.compress(line)
        while len(self._pending) >= CHUNK:
            self._emit(self._pending[:CHUNK], final=False)
            self._pending = self._pending[CHUNK:]

    def _emit(self, plain: bytes, *, final: bool) -> None:
        nonce = self._prefix + struct.pack(">Q", self._index)
        sealed = self._aead.encrypt(nonce, plain, _ad(self._header, self._index, final))
        self._file.write(struct.pack(">I", len(sealed)) + sealed)
        self._index += 1

    def close(self) -> None:
        self._pending += self._zip.flush()
        while len(self._pending) > CHUNK:
            self._emit(self._pending[:CHUNK], final=False)
            self._pending = self._pending[CHUNK:]
        self._emit(self._pending, final=True)
        self._file.close()

    def abort(self) -> None:
        self._file.close()


def read_archive(path: Path, passphrase: str) -> Iterator[dict]:
    """The records of an archive, each checked; raises ArchiveError on a wrong passphrase or any damage."""
    try:
        handle = open(path, "rb")  # noqa: SIM115 — closed in the finally below
    except OSError as exc:
        raise ArchiveError(f"cannot open {path}: {exc.strerror}") from None
    try:
        if handle.read(len(MAGIC)) != MAGIC:
            raise ArchiveError(f"{path} is not a vowkeep archive")
        header = handle.readline(4096)
        try:
            meta = json.loads(header)
            kdf = meta["kdf"]
            salt = base64.b64decode(kdf["salt"])
            prefix = base64.b64decode(meta["nonce_prefix"])
            params = {k: int(kdf[k]) for k in ("n", "r", "p")}
        except (ValueError, KeyError, TypeError):
            raise ArchiveError("the archive's header is damaged") from None
        if meta.get("format") != FORMAT or kdf.get("name") != "scrypt" or params["n"] > 2**20 or params["r"] > 32:
            raise ArchiveError("the archive uses a format or parameters this version does not read")
        aead = AESGCM(_key(passphrase, salt, params))
        unzip = zlib.decompressobj()
        buffer = b""
        index = 0
        final = False
        while not final:
            size_bytes = handle.read(4)
            if len(size_bytes) < 4:
                raise ArchiveError("the archive is cut short")
            (size,) = struct.unpack(">I", size_bytes)
            if size > CHUNK + 64:
                raise ArchiveError(f"chunk {index} of the archive is damaged")
            sealed = handle.read(size)
            if len(sealed) < size:
                raise ArchiveError("the archive is cut short")
            nonce = prefix + struct.pack(">Q", index)
            try:
                plain = aead.decrypt(nonce, sealed, _ad(header, index, False))
            except InvalidTag:
                try:
                    plain = aead.decrypt(nonce, sealed, _ad(header, index, True))
                    final = True
                except InvalidTag:
                    what = "the passphrase is wrong" if index == 0 else f"chunk {index} of the archive is damaged"
                    raise ArchiveError(f"{what} (or the archive was altered)") from None
            index += 1
            try:
                buffer += unzip.decompress(plain)
            except zlib.error:
                raise ArchiveError("the archive's content is damaged") from None
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                yield json.loads(line)
        if handle.read(1):
            raise ArchiveError("the archive has data after its last chunk")
    finally:
        handle.close()


def _json_default(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"cannot write {type(value).__name__} to an archive")


# --- export ----------------------------------------------------------------------------------------------------


@dataclass
class ExportSummary:
    path: str
    recipient: str
    disclosure_id: str = ""
    subjects: int = 0
    items: int = 0
    policy_versions: int = 0
    consents: int = 0
    holds: int = 0
    suppressed: int = 0
    categories: list[str] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)
    not_readable: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def transferable_categories(policy, recipient_key: str) -> list[str]:
    """The stored categories the acquirer is declared to receive, for one of its purposes (SHR-1)."""
    recipient = policy.recipient_by_key[recipient_key]
    out = []
    for category in (c.key for c in policy.categories):
        for_recipient = any(covers(d, category) for d in recipient.categories)
        if for_recipient and any(policy.purpose_covers(p, category) for p in recipient.purposes):
            out.append(category)
    return out


def export_archive(
    instance,
    *,
    path: Path,
    passphrase: str,
    recipient: str,
    reference: str | None,
    approved_by: str | None,
    progress: Callable[[int], None] | None = None,
) -> ExportSummary:
    """Write the data set for `recipient` (an acquirer) to `path`; record the export as a disclosure."""
    vault = instance.vault
    policy = vault.policy
    declared = policy.recipient_by_key.get(recipient)
    if declared is None:
        raise ArchiveError(f"recipient '{recipient}' is not declared")
    if declared.kind.value != "acquirer":
        raise ArchiveError(f"a business transfer goes to an acquirer; '{recipient}' is a {declared.kind.value}")
    categories = transferable_categories(policy, recipient)
    if not categories:
        raise ArchiveError(f"recipient '{recipient}' is declared to receive none of the stored categories")
    summary = ExportSummary(path=str(path), recipient=recipient, categories=categories)
    # SHR-1: the declaration must allow each of the acquirer's purposes its categories; a refusal is audited.
    with vault.transaction() as conn:
        for purpose in declared.purposes:
            wanted = [c for c in categories if policy.purpose_covers(purpose, c)]
            if wanted:
                vault.authorize(
                    conn, actor=EXPORTER, action="export", purpose=purpose, categories=wanted, recipient=recipient
                )
        ids = list(conn.execute(select(subjects.c.id).order_by(subjects.c.id)).scalars())
        left = conn.execute(select(items.c.category, func.count()).group_by(items.c.category)).all()
    summary.left_out = {c: n for c, n in left if not any(covers(k, c) for k in categories)}
    writer = ArchiveWriter(path, passphrase)
    exported: list[str] = []
    try:
        with instance.engine.connect() as conn:
            for row in conn.execute(select(policy_versions).order_by(policy_versions.c.version)):
                writer.write({"type": "policy_version", **row._mapping})
                summary.policy_versions += 1
            # The blind-index key comes before the suppression entries it makes usable.
            writer.write({"type": "index_key", "key": vault.keystore.system_key(blind.INDEX_KEY_NAME)})
            for row in conn.execute(select(suppression)):
                writer.write({"type": "suppression", **row._mapping})
                summary.suppressed += 1
        for start in range(0, len(ids), BATCH):
            with vault.transaction() as conn:
                for subject_id in ids[start : start + BATCH]:
                    record = _subject_record(conn, vault, subject_id, categories, summary)
                    if record is not None:
                        writer.write(record)
                        exported.append(subject_id)
            if progress:
                progress(len(ids[start : start + BATCH]))
        summary.subjects = len(exported)
        writer.write({"type": "end", "counts": {k: v for k, v in summary.as_dict().items() if isinstance(v, int)}})
        writer.close()
    except BaseException:
        writer.abort()
        path.unlink(missing_ok=True)
        raise
    with vault.transaction() as conn:
        summary.disclosure_id = disclosures.record_transfer(
            conn,
            vault=vault,
            actor=EXPORTER,
            recipient=recipient,
            categories=categories,
            subject_ids=exported,
            reference=reference,
            approved_by=approved_by,
        )
        vault.audit(
            conn,
            actor=EXPORTER,
            action="export",
            categories=categories,
            detail={"disclosure": summary.disclosure_id, "recipient": recipient, "subjects": summary.subjects},
        )
    return summary


def _subject_record(conn: Connection, vault, subject_id: str, categories: list[str], summary) -> dict | None:
    row = conn.execute(select(subjects).where(subjects.c.id == subject_id)).first()
    values = []
    if row.state != SubjectState.erased:
        values = vault.read(
            conn, actor=EXPORTER, purpose=SUBJECT_RIGHTS, subject_id=subject_id, categories=categories, action="export"
        )
    open_holds = vault.active_holds(conn, subject_id)
    seen = {v.id for v in values}
    for hold in open_holds:
        wanted = [c for c in hold.categories if any(covers(k, c) or covers(c, k) for k in categories)]
        if not wanted:
            continue
        try:
            held = vault.read(
                conn, actor=EXPORTER, purpose=hold.purpose, subject_id=subject_id, categories=wanted, action="export"
            )
        except GateDenied as denied:
            summary.not_readable[denied.rule] = summary.not_readable.get(denied.rule, 0) + 1
            continue
        values += [v for v in held if v.id not in seen and any(covers(k, v.category) for k in categories)]
        seen |= {v.id for v in held}
    if row.state == SubjectState.erased and not values:
        return None
    consents = conn.execute(
        select(consent_records).where(consent_records.c.subject_id == subject_id).order_by(consent_records.c.id)
    ).all()
    hold_rows = conn.execute(select(holds).where(holds.c.subject_id == subject_id)).all()
    summary.items += len(values)
    summary.consents += len(consents)
    summary.holds += len(hold_rows)
    return {
        "type": "subject",
        "subject": dict(row._mapping),
        "items": [
            {
                "id": v.id,
                "category": v.category,
                "field": v.field,
                "collection_point": v.collection_point,
                "purposes": " ".join(v.purposes),
                "policy_version": v.policy_version,
                "source": v.source,
                "collected_at": v.collected_at,
                "updated_at": v.updated_at,
                "value": v.value,
            }
            for v in values
        ],
        "consents": [{k: v for k, v in c._mapping.items() if k != "id"} for c in consents],
        "holds": [dict(h._mapping) for h in hold_rows],
    }


# --- restore into a new instance ----------------------------------------------------------------------------------


@dataclass
class RestoreSummary:
    data_dir: str
    policy_version: int = 0
    subjects: int = 0
    items: int = 0
    consents: int = 0
    holds: int = 0
    suppressed: int = 0
    admin_username: str = ""
    admin_password: str = ""
    admin_role: str = ""
    api_key: str = ""
    master_key_file: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


_TIMES = {
    "subject": ("created_at", "last_activity_at", "closed_at", "erased_at"),
    "item": ("collected_at", "updated_at"),
    "consent": ("recorded_at",),
    "hold": ("placed_at", "ends_at", "released_at"),
    "policy_version": ("published_at",),
    "suppression": ("created_at",),
}


def _times(record: dict, kind: str) -> dict:
    out = dict(record)
    for name in _TIMES[kind]:
        if out.get(name) is not None:
            out[name] = datetime.fromisoformat(out[name])
    if kind == "policy_version":
        out["effective_date"] = date.fromisoformat(out["effective_date"])
    return out


def check_archive(path: Path, passphrase: str) -> dict:
    """Read the whole archive once, checking every chunk, before anything is written; returns its counts."""
    counts: dict[str, int] = {}
    ended = False
    for record in read_archive(path, passphrase):
        kind = record.get("type")
        counts[kind] = counts.get(kind, 0) + 1
        ended = ended or kind == "end"
    if not ended or not counts.get("policy_version"):
        raise ArchiveError("the archive is incomplete")
    return counts


def restore_archive(settings, *, path: Path, passphrase: str, admin_username: str = "admin") -> RestoreSummary:
    """Create a new instance in `settings.data_dir` holding the archive's data set (SHR-8)."""
    from vowkeep.instance import AlreadyInitialised, create_empty, first_credentials, open_instance
    from vowkeep.policy import versions
    from vowkeep.vault.transfer import adopt_system_key, restore_subject

    check_archive(path, passphrase)
    summary = RestoreSummary(data_dir=str(settings.data_dir))
    records = read_archive(path, passphrase)
    version_rows = []
    index_key = None
    for record in records:
        kind = record.pop("type")
        if kind == "policy_version":
            version_rows.append(_times(record, "policy_version"))
        elif kind == "index_key":
            index_key = base64.b64decode(record["key"])
            break
    if not version_rows or index_key is None:
        raise ArchiveError("the archive does not start with its policy versions and keys")
    try:
        empty = create_empty(settings)
    except AlreadyInitialised as exc:
        raise ArchiveError(f"{exc}; restore into a new data directory") from None
    summary.master_key_file = empty.master_key_file
    try:
        adopt_system_key(empty.keystore, blind.INDEX_KEY_NAME, index_key, now=clock.now())
        for name in ("audit-chain", "system-data", "tokens"):
            empty.keystore.system_key(name)
        with empty.engine.begin() as conn:
            conn.execute(insert(policy_versions), version_rows)
            latest = versions.get_current(conn)
            try:
                admin, password, token, _ = first_credentials(
                    conn, policy=latest.policy, created_by="import-archive", admin_username=admin_username
                )
            except ValueError as exc:
                raise ArchiveError(f"the archived declaration cannot have a first admin: {exc}") from None
        summary.policy_version = latest.version
        summary.admin_username, summary.admin_password, summary.admin_role = admin.username, password, admin.role
        summary.api_key = token
    finally:
        empty.dispose()
    instance = open_instance(settings)
    try:
        vault = instance.vault
        batch: list[dict] = []

        def flush() -> None:
            with vault.transaction() as conn:
                for entry in batch:
                    subject = _times(entry["subject"], "subject")
                    values = [_times(i, "item") for i in entry["items"]]
                    summary.items += restore_subject(conn, vault=vault, actor=IMPORTER, subject=subject, values=values)
                    if entry["consents"]:
                        conn.execute(insert(consent_records), [_times(c, "consent") for c in entry["consents"]])
                    if entry["holds"]:
                        conn.execute(insert(holds), [_times(h, "hold") for h in entry["holds"]])
                    summary.subjects += 1
                    summary.consents += len(entry["consents"])
                    summary.holds += len(entry["holds"])
            batch.clear()

        for record in records:
            kind = record.pop("type")
            if kind == "subject":
                batch.append(record)
                if len(batch) >= BATCH:
                    flush()
            elif kind == "suppression":
                with vault.transaction() as conn:
                    record["digest"] = base64.b64decode(record["digest"])
                    conn.execute(insert(suppression).values(**_times(record, "suppression")))
                summary.suppressed += 1
        if batch:
            flush()
        with vault.transaction() as conn:
            vault.audit(
                conn,
                actor=IMPORTER,
                action="import-archive",
                detail={k: v for k, v in summary.as_dict().items() if k in ("subjects", "items", "consents", "holds")},
            )
    finally:
        instance.close()
    return summary
