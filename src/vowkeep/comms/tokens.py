"""Signed unsubscribe tokens (RFC 8058, RIG-5): HMAC-SHA256 over subject id, purpose and issue time.

The key is the instance's `tokens` system key, kept in the key store. A token is URL-safe, needs no server-side
state, and is compared in constant time; it stays valid for `MAX_AGE`, long after the mail that carried it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vowkeep import clock

KEY_NAME = "tokens"
MAX_AGE = timedelta(days=400)
_SHAPE = re.compile(r"^([0-9a-f]{32})\.([a-z][a-z0-9_]{0,63})\.([0-9a-f]{1,12})\.([A-Za-z0-9_-]{22,64})$")


class InvalidToken(ValueError):
    """The link is not one vowkeep made, was altered, or is too old."""


@dataclass(frozen=True)
class Unsubscribe:
    subject_id: str
    purpose: str
    issued_at: datetime


def _mac(key: bytes, subject_id: str, purpose: str, issued: int) -> str:
    digest = hmac.new(key, f"unsubscribe|{subject_id}|{purpose}|{issued}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue(keystore, *, subject_id: str, purpose: str, issued_at: datetime | None = None) -> str:
    """A token that unsubscribes `subject_id` from `purpose`'s mail."""
    issued = int((issued_at or clock.now()).timestamp())
    mac = _mac(keystore.system_key(KEY_NAME), subject_id, purpose, issued)
    return f"{subject_id}.{purpose}.{issued:x}.{mac}"


def verify(keystore, token: str) -> Unsubscribe:
    """The token's subject, purpose and issue time; InvalidToken unless it is genuine and recent enough."""
    match = _SHAPE.match(token or "")
    if match is None:
        raise InvalidToken("this unsubscribe link is malformed")
    subject_id, purpose, issued_hex, mac = match.groups()
    issued = int(issued_hex, 16)
    expected = _mac(keystore.system_key(KEY_NAME), subject_id, purpose, issued)
    if not hmac.compare_digest(expected.encode(), mac.encode()):
        raise InvalidToken("this unsubscribe link is not valid")
    issued_at = datetime.fromtimestamp(issued, UTC)
    if clock.now() - issued_at > MAX_AGE:
        raise InvalidToken("this unsubscribe link has expired; use the privacy centre instead")
    return Unsubscribe(subject_id, purpose, issued_at)
