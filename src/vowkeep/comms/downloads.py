"""The free-download flow (COL-7): name and e-mail collected at the declared point, the link mailed to that address.

The address serves the point's declared purposes only: the link goes out as a service message of the point's
service-message purpose, and marketing reaches the address only for a purpose the point declares (the outbox
sends marketing only to addresses collected for its purpose).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Connection

from vowkeep.comms import outbox
from vowkeep.policy.model import CollectionPoint, MessageKind, Policy
from vowkeep.policy.taxonomy import covers

TEMPLATE = "download_link"


class DownloadError(ValueError):
    """The download cannot be sent as asked."""


@dataclass
class Download:
    subject_id: str
    created: bool
    purpose: str
    outbox_id: int


def link_purpose(policy: Policy, point: CollectionPoint) -> str:
    """The point's purpose that sends service messages: the one the link is mailed for."""
    for key in point.purposes:
        purpose = policy.purpose_by_key.get(key)
        if (
            purpose is not None
            and purpose.messages == MessageKind.service
            and any(covers(c, "user.contact.email") for c in purpose.categories)
        ):
            return key
    raise DownloadError(f"collection point '{point.key}' declares no service-message purpose to mail a link for")


def check_link(link: object) -> str:
    if not isinstance(link, str) or len(link) > 2000:
        raise DownloadError("`link` is an http(s) URL of at most 2000 characters")
    parts = urlsplit(link)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise DownloadError("`link` is an http(s) URL of at most 2000 characters")
    return link


def send_download(conn: Connection, *, vault, actor, point: CollectionPoint, submission, link: str) -> Download:
    """Collect the submission through the gate and queue the mail with the link (one unit of work)."""
    purpose = link_purpose(vault.policy, point)
    result = vault.collect(conn, actor=actor, point=point, submission=submission)
    outbox_id = outbox.queue(
        conn,
        vault=vault,
        template=TEMPLATE,
        kind="service",
        context={"link": link, "organization": vault.policy.organization.name},
        subject_id=result.subject_id,
        purpose=purpose,
    )
    return Download(subject_id=result.subject_id, created=result.created, purpose=purpose, outbox_id=outbox_id)
