"""Field encryption: AES-256-GCM with a random 96-bit nonce and associated data.

Ciphertext layout: one version byte, the 12-byte nonce, then GCM's ciphertext and tag. The version byte lets
values be re-encrypted when algorithms age; associated data binds a value to its subject, category and item,
so a ciphertext copied into another row does not decrypt.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION_AES256_GCM = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(Exception):
    """A ciphertext did not authenticate: wrong key, wrong associated data, or tampered bytes."""


def new_key() -> bytes:
    """A fresh random 256-bit key (never derived from anything that could be derived again)."""
    return os.urandom(KEY_BYTES)


def seal(aead: AESGCM, plaintext: bytes, associated_data: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION_AES256_GCM + nonce + aead.encrypt(nonce, plaintext, associated_data)


def unseal(aead: AESGCM, blob: bytes, associated_data: bytes) -> bytes:
    if blob[:1] != VERSION_AES256_GCM:
        raise DecryptionError("unknown ciphertext version")
    try:
        return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], associated_data)
    except InvalidTag:
        raise DecryptionError("ciphertext did not authenticate") from None


def item_ad(subject_id: str, category: str, item_id: str) -> bytes:
    """Associated data of an item's value."""
    return f"item|{subject_id}|{category}|{item_id}".encode()
