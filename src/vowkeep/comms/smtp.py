"""Sending mail over SMTP, configured by one URL (`VOWKEEP_SMTP_URL`).

`smtp://host:port` (plain), `smtp://user:password@host:587?starttls=true` (STARTTLS, then AUTH),
`smtps://user:password@host:465` (implicit TLS). `?from=` sets the sender address; `?cafile=` trusts a private CA;
`?timeout=` (seconds, default 20) bounds each SMTP exchange.
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

    @classmethod
    def from_url(cls, url: str, *, default_sender: str) -> SmtpSettings:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise SmtpConfigError("VOWKEEP_SMTP_URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise SmtpConfigError("VOWKEEP_SMTP_URL names no host")
        query = parse_qs(parts.query)
        implicit = parts.scheme == "smtps"
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
        client.send_message(message)
    return message["Message-ID"]
