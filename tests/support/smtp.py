"""A real SMTP server for tests (aiosmtpd), optionally with STARTTLS and AUTH, that keeps what it receives."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
import ssl
from contextlib import contextmanager
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Inbox:
    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1/localhost, made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@contextmanager
def smtp_server(
    *, tls_dir: Path | None = None, username: str | None = None, password: str | None = None, port: int | None = None
):
    """Run an SMTP server; yields (inbox, url for VOWKEEP_SMTP_URL)."""
    inbox = Inbox()
    port = port or free_port()
    kwargs = {}
    query = ""
    if tls_dir is not None:
        cert, key = self_signed(tls_dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        kwargs.update(tls_context=context, require_starttls=True)
        query = f"?starttls=true&cafile={cert}&timeout=3"
    if username is not None:

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == username
                and (auth_data.password.decode() == password)
            )
            return AuthResult(success=ok)

        kwargs.update(authenticator=authenticator, auth_require_tls=tls_dir is not None)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    credentials = f"{username}:{password}@" if username else ""
    try:
        yield inbox, f"smtp://{credentials}127.0.0.1:{port}{query}"
    finally:
        controller.stop()
