"""Sending mail over SMTP, configured by one URL (`VOWKEEP_SMTP_URL`).

`smtp://host:port` (plain), `smtp://user:password@host:587?starttls=true` (STARTTLS, then AUTH),
`smtps://user:password@host:465` (implicit TLS). `?from=` sets the sender address; `?cafile=` trusts a private CA;
`?timeout=` (seconds, default 20) bounds each SMTP exchange. `?dkim_key=/path/key.pem&dkim_selector=s1` signs every
message with DKIM (`pip install vowkeep[dkim]`); `?dkim_domain=` defaults to the sender's domain.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit


class SmtpConfigError(ValueError):
    """VOWKEEP_SMTP_URL cannot be used."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str
    cafile: str | None = None
    timeout: float = 20.0
    dkim_key: str | None = None
    dkim_selector: str | None = None
    dkim_domain: str | None = None

    @classmethod
    def from_url(cls, url: str, *, default_sender: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise SmtpConfigError("VOWKEEP_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise SmtpConfigError("VOWKEEP_SMTP_URL names no host")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
        dkim_key = query.get("dkim_key", [None])[0]
        dkim_selector = query.get("dkim_selector", [None])[0]
        if (dkim_key is None) != (dkim_selector is None):
            raise SmtpConfigError("DKIM signing needs both dkim_key and dkim_selector in VOWKEEP_SMTP_URL")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit else 25),
            implicit_tls=implicit,
            starttls=query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes"),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from", [default_sender])[0],
            cafile=query.get("cafile", [None])[0],
            timeout=float(query.get("timeout", ["20"])[0]),
            dkim_key=dkim_key,
            dkim_selector=dkim_selector,
            dkim_domain=query.get("dkim_domain", [None])[0],
        )


def send(settings: SmtpSettings, message: EmailMessage) -> str:
    """Send one message; returns its Message-ID. Raises on any SMTP error (the job queue retries)."""
    if "From" not in message:
        message["From"] = settings.sender
    context = ssl.create_default_context(cafile=settings.cafile)
    if settings.implicit_tls:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=context)
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls:
            client.starttls(context=context)
        if settings.username:
            client.login(settings.username, settings.password or "")
        if settings.dkim_key:
            # Sign the exact bytes that are sent, so no re-serialisation can break the signature.
            raw = dkim_sign(settings, message)
            client.sendmail(settings.sender, [a.addr_spec for a in message["To"].addresses], raw)
        else:
            client.send_message(message)
    return message["Message-ID"]


# Headers a DKIM signature covers when present, the one-click unsubscribe pair among them (RFC 8058 section 4).
DKIM_HEADERS = (
    b"From", b"To", b"Subject", b"Date", b"Message-ID", b"MIME-Version", b"Content-Type",
    b"List-Unsubscribe", b"List-Unsubscribe-Post",
)  # fmt: skip


def dkim_sign(settings: SmtpSettings, message: EmailMessage) -> bytes:
    """The message as sent, with a DKIM-Signature header (relaxed/relaxed, rsa-sha256 or ed25519-sha256)."""
    try:
        import dkim
    except ImportError:
        raise SmtpConfigError("DKIM signing needs the dkim extra: pip install 'vowkeep[dkim]'") from None
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    try:
        with open(settings.dkim_key, "rb") as handle:
            key = handle.read()
    except OSError:
        raise SmtpConfigError("the DKIM key file named by dkim_key cannot be read") from None
    domain = settings.dkim_domain or settings.sender.rpartition("@")[2]
    present = [h for h in DKIM_HEADERS if h.decode() in message]
    signature = dkim.sign(
        raw,
        settings.dkim_selector.encode(),
        domain.encode(),
        key,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=present,
    )
    return signature + raw
