"""The master keyring: key-encryption keys that wrap every data key, kept outside every database.

A keyring is one or more 256-bit master keys; the first is the primary, used to wrap, and the others only
unwrap — that is what lets `vowkeep keys rotate` re-wrap data keys while servers keep serving. It is read from
`VOWKEEP_MASTER_KEY` or from the key file `vowkeep init` writes (mode 0600), one key per line:
`vk1:<key id>:<base64 key>`. The key id is derived from the key, so a line cannot be mislabelled.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vowkeep.vault.crypto import DecryptionError, new_key, seal, unseal


class KeyringError(Exception):
    """The master key is missing, malformed or does not open the key store."""


def key_id(key: bytes) -> str:
    return hmac.new(key, b"vowkeep key id", hashlib.sha256).hexdigest()[:16]


@dataclass
class Keyring:
    keys: list[bytes]
    _aeads: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not self.keys:
            raise KeyringError("the master keyring is empty")
        for key in self.keys:
            if len(key) != 32:
                raise KeyringError("a master key must be 32 bytes (256 bits)")
        self._aeads = {key_id(k): AESGCM(k) for k in self.keys}

    @property
    def primary_id(self) -> str:
        return key_id(self.keys[0])

    @property
    def ids(self) -> list[str]:
        return [key_id(k) for k in self.keys]

    def wrap(self, key: bytes, label: str) -> tuple[str, bytes]:
        """Wrap a data key under the primary master key; `label` (subject id or key name) is bound to it."""
        return self.primary_id, seal(self._aeads[self.primary_id], key, b"wrap|" + label.encode())

    def unwrap(self, kek_id: str, wrapped: bytes, label: str) -> bytes:
        aead = self._aeads.get(kek_id)
        if aead is None:
            raise KeyringError(f"no master key with id {kek_id} in the keyring")
        try:
            return unseal(aead, wrapped, b"wrap|" + label.encode())
        except DecryptionError:
            raise KeyringError(f"master key {kek_id} does not open this data key") from None

    def serialize(self) -> str:
        return "".join(f"vk1:{key_id(k)}:{base64.b64encode(k).decode()}\n" for k in self.keys)

    @classmethod
    def parse(cls, text: str) -> Keyring:
        keys = []
        for raw in text.replace(",", "\n").splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            encoded = line.split(":")[-1] if line.startswith("vk1:") else line
            try:
                key = base64.b64decode(encoded, validate=True)
            except ValueError:
                raise KeyringError("a master key line is not valid base64") from None
            if line.startswith("vk1:") and line.split(":")[1] != key_id(key):
                raise KeyringError("a master key line's id does not match its key")
            keys.append(key)
        return cls(keys)

    @classmethod
    def generate(cls) -> Keyring:
        return cls([new_key()])


def write_key_file(path: Path, keyring: Keyring) -> None:
    """Write the keyring to `path` with mode 0600, atomically (a crash never leaves half a key file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, keyring.serialize().encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


class KeyringSource:
    """Where the keyring comes from; the key file is read again whenever it changes (as rotation changes it)."""

    def __init__(self, *, env_value: str | None, key_file: Path):
        self.env_value = env_value
        self.key_file = key_file
        self._stamp: tuple[int, int] | None = None
        self._keyring: Keyring | None = None

    def current(self) -> Keyring:
        if self.env_value:
            if self._keyring is None:
                self._keyring = Keyring.parse(self.env_value)
            return self._keyring
        try:
            info = self.key_file.stat()
        except FileNotFoundError:
            info = None
        stamp = (info.st_mtime_ns, info.st_ino) if info else None
        if self._keyring is None or stamp != self._stamp:
            self._keyring = load_keyring(env_value=None, key_file=self.key_file)
            self._stamp = stamp
        return self._keyring


def load_keyring(*, env_value: str | None, key_file: Path) -> Keyring:
    """The keyring from the environment if given, else from the key file."""
    if env_value:
        return Keyring.parse(env_value)
    try:
        mode = key_file.stat().st_mode
    except FileNotFoundError:
        raise KeyringError(
            f"no master key: {key_file} does not exist and VOWKEEP_MASTER_KEY is not set (run `vowkeep init`)"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyringError(f"{key_file} is readable by others; run `chmod 600 {key_file}`")
    return Keyring.parse(key_file.read_text())
