"""Blind indexes: find a subject by e-mail or phone without storing either in the clear.

The index is HMAC-SHA256 of the normalised value under a key of its own (kept in the key store), so equal values
match while the database alone reveals nothing, not even through a dictionary of likely addresses.
"""

from __future__ import annotations

import hashlib
import hmac

INDEX_KEY_NAME = "blind-index"
# Which categories are looked up by which index kind.
LOOKUP_KINDS = {"user.contact.email": "email", "user.contact.phone_number": "phone"}


def normalise(kind: str, value: str) -> str:
    value = str(value).strip()
    if kind == "email":
        return value.lower()
    if kind == "phone":
        return "+" + "".join(ch for ch in value if ch.isdigit())
    return value


def digest(key: bytes, kind: str, value: str) -> bytes:
    return hmac.new(key, f"{kind}:{normalise(kind, value)}".encode(), hashlib.sha256).digest()


def kind_for(category: str) -> str | None:
    """The index kind of a category (its own or its nearest declared parent's)."""
    while category:
        if category in LOOKUP_KINDS:
            return LOOKUP_KINDS[category]
        category = category.rpartition(".")[0]
    return None
