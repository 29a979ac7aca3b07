"""Helpers for rights tests: declaration variants, the mailbox, codes from real mail, filing and verifying."""

from __future__ import annotations

import dataclasses
import re
from contextlib import contextmanager
from pathlib import Path

import yaml

from tests.support.smtp import smtp_server
from vowkeep.worker import Worker

SAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "policies" / "wsoutsourcer.yaml"


def declaration(
    *,
    review: str | None = None,
    offered: list[str] | None = None,
    channels: list[str] | None = None,
    webhooks: dict[str, tuple[str, str]] | None = None,
    deadline: str | None = None,
) -> str:
    """The sample declaration (WS Outsourcer) with its rights or recipients changed, as YAML text."""
    data = yaml.safe_load(SAMPLE.read_text())
    rights = data["rights"]
    if review is not None:
        rights["review"] = review
    if offered is not None:
        rights["offered"] = offered
    if channels is not None:
        rights["channels"] = channels
    if deadline is not None:
        rights["response_deadline"] = deadline
    for recipient in data["recipients"]:
        if webhooks and recipient["key"] in webhooks:
            url, env = webhooks[recipient["key"]]
            recipient["webhook"] = {"url": url, "secret_env": env}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def write_declaration(tmp_path: Path, **changes) -> Path:
    path = tmp_path / "declaration.yaml"
    path.write_text(declaration(**changes))
    return path


@contextmanager
def mailbox(instance):
    """A real SMTP server the instance sends through; yields its inbox."""
    with smtp_server() as (inbox, url):
        instance.settings = dataclasses.replace(instance.settings, smtp_url=url)
        yield inbox


def deliver(instance) -> int:
    """Run the worker until no job is due (mail, webhooks, callbacks)."""
    return Worker(instance).run_until_idle()


def mails_to(inbox, address: str) -> list:
    return [m for m in inbox.messages if m["To"] == address]


def code_in(message) -> str:
    return re.search(r"enter this code: (\d{6})", message.get_content()).group(1)


def link_code_in(message) -> str:
    return re.search(r"/verify\?code=(\d{6})", message.get_content()).group(1)


def last_code(inbox, address: str) -> str:
    codes = [m for m in mails_to(inbox, address) if m["Subject"].startswith("Your code")]
    assert codes, f"no code was mailed; subjects: {[m['Subject'] for m in inbox.messages]}"
    return code_in(codes[-1])


def outcome_mail(inbox, address: str):
    outcomes = [m for m in mails_to(inbox, address) if not m["Subject"].startswith("Your code")]
    assert outcomes, f"no outcome mail; subjects: {[m['Subject'] for m in inbox.messages]}"
    return outcomes[-1]


def file_request(client, right: str, email: str, *, headers=None, **body) -> dict:
    response = client.post("/api/v1/requests", json={"right": right, "email": email, **body}, headers=headers or {})
    assert response.status_code == 202, response.text
    return response.json()


def verify(client, request_id: str, code: str) -> str:
    response = client.post(f"/api/v1/requests/{request_id}/verify", json={"code": code})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def filed_and_verified(client, instance, inbox, right: str, email: str, **body) -> tuple[str, str]:
    """File a request as the person, deliver the code mail, verify; returns (request id, token)."""
    filed = file_request(client, right, email, **body)
    deliver(instance)
    token = verify(client, filed["id"], last_code(inbox, email))
    return filed["id"], token


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
