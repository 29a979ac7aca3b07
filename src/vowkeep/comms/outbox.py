"""The mail outbox: a message is queued in the transaction that causes it and sent by the worker.

The recipient address and the message's context are sealed under the subject's data key (or the system key for
mail to people who are not subjects), so the outbox holds no plaintext personal data and an erasure makes queued
mail unreadable. For a subject, the address is read through the gate at send time for the message's purpose:
consent withdrawn after queuing stops the message (USE-3), and a corrected address is used.

Marketing goes only to a subject, for a purpose, to an address collected for that purpose (COL-7), never to an
address on the suppression list (RIG-5); it carries `List-Unsubscribe` with a signed HTTPS link and
`List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058). Service messages are sent after any opt-out (USE-4).
"""

from __future__ import annotations

import email.policy
import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import Connection, insert, select, update

from vowkeep import clock
from vowkeep.comms import suppression
from vowkeep.store import jobs
from vowkeep.store.tables import outbox
from vowkeep.vault.actors import Actor
from vowkeep.vault.crypto import DecryptionError
from vowkeep.vault.decisions import GateDenied

TEMPLATES = Path(__file__).parent / "templates"
_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)
MAILER = Actor.system("mailer")
ONE_CLICK = "List-Unsubscribe=One-Click"
MAIL_POLICY = email.policy.default.clone(max_line_length=998)


class UnknownTemplate(ValueError):
    pass


def render(template: str, context: dict) -> tuple[str, str]:
    """(subject, body) of a template: its first line is `Subject: …`, a blank line, then the body."""
    try:
        text = _env.get_template(f"{template}.txt").render(**context)
    except Exception as exc:
        if type(exc).__name__ == "TemplateNotFound":
            raise UnknownTemplate(f"no mail template '{template}'") from None
        raise
    head, _, body = text.partition("\n\n")
    if not head.startswith("Subject: "):
        raise UnknownTemplate(f"template '{template}' does not start with a Subject: line")
    return head.removeprefix("Subject: ").strip(), body


def queue(
    conn: Connection,
    *,
    vault,
    template: str,
    kind: str,
    context: dict,
    subject_id: str | None = None,
    purpose: str | None = None,
    to_address: str | None = None,
    headers: dict[str, str] | None = None,
) -> int:
    """Queue a message (in the caller's transaction) and the job that sends it; returns the outbox id.

    With `subject_id` and `purpose`, the address is read through the gate at send time; otherwise `to_address`
    (an operator, an authorized agent, someone not yet a subject) is sealed with the message.
    """
    if kind not in ("service", "marketing", "system"):
        raise ValueError("kind is service, marketing or system")
    if subject_id is None and to_address is None:
        raise ValueError("a message needs a subject or an address")
    if subject_id is not None and purpose is None and to_address is None:
        raise ValueError("a message to a subject names the purpose it serves")
    if kind == "marketing" and (subject_id is None or purpose is None or to_address is not None):
        raise ValueError("marketing goes to a subject, for a purpose, at an address read through the gate")
    # Fail now, in the caller's transaction, rather than in the worker.
    render(template, {**context, "unsubscribe_url": "-"} if kind == "marketing" else context)
    label = uuid.uuid4().hex
    sealed = vault.seal_for(
        subject_id, {"to": to_address, "context": context, "headers": headers or {}, "label": label}, "outbox"
    )
    outbox_id = conn.execute(
        insert(outbox).values(
            subject_id=subject_id,
            purpose=purpose,
            kind=kind,
            template=template,
            sealed=sealed,
            state="queued",
            created_at=clock.now(),
        )
    ).inserted_primary_key[0]
    jobs.enqueue(conn, kind="mail.send", payload={"outbox_id": outbox_id})
    return outbox_id


def send_queued_mail(instance, job) -> None:
    """Worker handler for `mail.send`: resolve the address, render, send, mark sent — or suppressed."""
    from vowkeep.comms.smtp import SmtpSettings, send

    vault = instance.vault
    outbox_id = job.payload["outbox_id"]
    with vault.transaction() as conn:
        row = conn.execute(select(outbox).where(outbox.c.id == outbox_id)).first()
        if row is None or row.state != "queued":
            jobs.complete(conn, job=job)  # erased with its subject, or already handled
            return
        try:
            sealed = vault.unseal_for(row.subject_id, row.sealed, "outbox")
        except DecryptionError:
            _finish(conn, job, outbox_id, "failed", error="the subject's data key was destroyed")
            return
        address = sealed["to"]
        if address is None:
            try:
                found = vault.read(
                    conn,
                    actor=MAILER,
                    purpose=row.purpose,
                    subject_id=row.subject_id,
                    categories=["user.contact.email"],
                )
            except GateDenied as denied:
                _finish(conn, job, outbox_id, "suppressed", error=f"gate: {denied.rule}")
                return
            if row.kind == "marketing":
                # COL-7: an address is used only for the purposes it was collected for.
                found = [item for item in found if row.purpose in item.purposes]
                if not found:
                    _finish(conn, job, outbox_id, "suppressed", error="no address was collected for this purpose")
                    return
            if not found:
                _finish(conn, job, outbox_id, "failed", error="the subject has no e-mail address")
                return
            address = found[0].value
        if suppression.is_suppressed(conn, vault=vault, address=address, kind=row.kind):
            _finish(conn, job, outbox_id, "suppressed", error="the address is on the suppression list")
            return
        context = sealed["context"]
        headers = dict(sealed.get("headers", {}))
        if row.kind == "marketing":
            url = unsubscribe_url(instance, subject_id=row.subject_id, purpose=row.purpose)
            context = {**context, "unsubscribe_url": url}
            headers.update({"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": ONE_CLICK})
        subject_line, body = render(row.template, context)
    if not instance.settings.smtp_url:
        raise RuntimeError("VOWKEEP_SMTP_URL is not set; the message stays queued")
    smtp = SmtpSettings.from_url(instance.settings.smtp_url, default_sender=_default_sender(instance))
    # Long headers stay on one line (RFC 5322 allows 998 characters): folding would encode the List-Unsubscribe URL
    # as an RFC 2047 word, which mail providers do not read as a one-click link.
    message = EmailMessage(policy=MAIL_POLICY)
    message["To"] = address
    message["From"] = smtp.sender
    message["Subject"] = subject_line
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rpartition("@")[2] or "vowkeep.local")
    for name, value in headers.items():
        message[name] = value
    message.set_content(body)
    try:
        message_id = send(smtp, message)
    except (OSError, ValueError) as exc:
        # The exception text of smtplib may quote the address: keep only its type and code.
        raise RuntimeError(f"SMTP delivery failed ({type(exc).__name__})") from None
    with vault.transaction() as conn:
        _finish(conn, job, outbox_id, "sent", message_id=message_id)


def _finish(conn: Connection, job, outbox_id: int, state: str, *, error: str | None = None, message_id=None) -> None:
    values = {"state": state, "error": error}
    if state == "sent":
        values.update(sent_at=clock.now(), message_id=message_id)
    conn.execute(update(outbox).where(outbox.c.id == outbox_id).values(**values))
    jobs.complete(conn, job=job)


def unsubscribe_url(instance, *, subject_id: str, purpose: str) -> str:
    """The one-click unsubscribe link of a marketing message (HTTPS where `VOWKEEP_BASE_URL` is)."""
    from vowkeep.comms import tokens

    token = tokens.issue(instance.keystore, subject_id=subject_id, purpose=purpose)
    return f"{instance.settings.base_url}/unsubscribe/{token}"


def _default_sender(instance) -> str:
    contact = instance.vault.policy.organization.contact
    return contact.email or "privacy@vowkeep.local"
