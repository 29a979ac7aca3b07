"""The whole system as people meet it, in one real browser journey (Debian's chromium driven by Playwright), with
mail caught by a real SMTP server (aiosmtpd) and screenshots of every page in test-artifacts/journey-*.png.

A visitor of the demo shop declines analytics and registers; the person signs in to the privacy centre with the
code from the mail, sees the data and downloads a copy; an operator places a legal hold on part of it; the person
asks for erasure, seeing first what the hold keeps; an operator approves the erasure in the console; the outcome mail
arrives; the data is gone except what the hold keeps, which is listed. Every value typed is an XSS payload where
the field accepts one, and no page runs it.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from tests.support.browser import chromium, live_server, screenshot
from tests.support.center import code_mailed
from tests.support.rights import deliver, mailbox, mails_to
from vowkeep.store.tables import items, rights_requests, traffic_events
from vowkeep.vault import operators

pytestmark = pytest.mark.browser

EMAIL = "journey@example.org"
# The names carry markup: stored as typed, they must come back as text on every page that shows them.
FIRST = "Ada<script>alert('first')</script>"
LAST = "<img src=x onerror=alert('last')>"
HELD = ("user.name", "user.contact")  # the `legal_claim` hold of the sample declaration (and user.content)


def _count(instance, table, *where) -> int:
    with instance.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def _shoot(page, name: str, dialogs: list[str]) -> None:
    """Screenshot the page; no page of the journey may have run a script from the data shown on it."""
    screenshot(page, f"journey-{name}")
    assert dialogs == [], f"a payload ran on {page.url}: {dialogs}"


@pytest.fixture
def demo_instance(instance, cli):
    result = cli("demo", "--data-dir", instance.settings.data_dir, "--people", 5)
    assert result.exit_code == 0, result.output
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username="olivia", role="admin")
    return instance, password


def test_journey_ck2_rig8_rig7_rig3_rig9_from_the_shop_to_erasure(demo_instance, tmp_path):
    """CK-2, COL-1, RIG-8, RIG-1, RIG-7, RET-3, RIG-3, RIG-9: the journey of issue 7, end to end in a browser."""
    instance, operator_password = demo_instance
    events_before = _count(instance, traffic_events)
    dialogs: list[str] = []
    with mailbox(instance) as inbox, live_server(instance) as base, chromium() as person:
        browser = person.context.browser
        person.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        outside: list[str] = []
        person.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))

        # 1. The shop: the banner asks first; declined, nothing is tracked (CK-2).
        person.goto(f"{base}/demo")
        person.locator("#vk-banner").wait_for()
        _shoot(person, "01-shop-banner", dialogs)
        person.click("#vk-decline-all")
        person.evaluate("() => window.vowkeep.ready")
        person.fill("#registration-email", EMAIL)
        person.fill("#registration-first_name", FIRST)
        person.fill("#registration-last_name", LAST)
        person.fill("#registration-date_of_birth", "1990-04-01")
        person.fill("#registration-password", "correct horse battery staple")
        if person.locator("#registration-adult").count():
            person.check("#registration-adult")
        person.click("#submit-registration")
        person.wait_for_load_state()
        assert person.locator("h1").inner_text() == "Thank you"
        subject_id = person.locator("#subject-id").inner_text()
        _shoot(person, "02-shop-registered", dialogs)
        assert "vk_visitor" not in {c["name"] for c in person.context.cookies()}

        # 2. The privacy centre: sign in with the code from the mail (RIG-8) and see the data (RIG-1).
        person.goto(f"{base}/center")
        person.get_by_label("E-mail address").fill(EMAIL)
        person.get_by_role("button", name="Send me a code").click()
        person.wait_for_url("**/center/code/*")
        deliver(instance)
        person.get_by_label("Code").fill(code_mailed(inbox, EMAIL))
        person.get_by_role("button", name="Sign in").click()
        person.wait_for_url(f"{base}/center")
        _shoot(person, "03-center-dashboard", dialogs)
        data = person.locator("main").inner_text()
        assert FIRST in data and LAST in data, "the names are shown as the text that was typed"

        # 3. Download a copy (RIG-7): the browser saves a JSON file holding what was typed.
        with person.expect_download() as download:
            person.get_by_role("button", name="Download").click()
        copy = tmp_path / "copy.json"
        download.value.save_as(copy)
        exported = json.loads(copy.read_text())
        values = {i["field"]: i["value"] for s in exported["subjects"] for i in s["items"]}
        assert values["email"] == EMAIL and values["first_name"] == FIRST and values["last_name"] == LAST

        # 4. An operator places a legal hold on the person's name and contact details (RET-3).
        operator = browser.new_context().new_page()
        operator.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        operator.goto(f"{base}/admin/login")
        operator.fill("#username", "olivia")
        operator.fill("#password", operator_password)
        operator.keyboard.press("Enter")
        operator.wait_for_url(f"{base}/admin")
        operator.goto(f"{base}/admin/holds")
        operator.fill("#hold-subject", subject_id)
        operator.select_option("#hold-kind", "legal_claim")
        operator.get_by_role("button", name="Place the hold").click()
        operator.wait_for_load_state()
        _shoot(operator, "05-console-hold-placed", dialogs)
        assert subject_id in operator.locator("main").inner_text()

        # 5. Ask for erasure: the page first lists what the hold keeps, which the dashboard no longer shows (RIG-3).
        person.reload()
        assert FIRST not in person.locator("main").inner_text(), "held data is kept apart, not used or shown"
        _shoot(person, "06-center-held", dialogs)
        person.get_by_role("link", name="Delete my account and data").click()
        staying = person.locator("main").inner_text()
        assert "Legal requirement or claim" in staying and "What stays" in staying
        _shoot(person, "07-center-delete", dialogs)
        person.check("#confirm")
        person.get_by_role("button", name="Delete my data").click()
        person.wait_for_load_state()
        _shoot(person, "08-center-erasure-asked", dialogs)
        with instance.engine.connect() as conn:
            erase_id, state = conn.execute(
                select(rights_requests.c.id, rights_requests.c.state)
                .where(rights_requests.c.kind == "erase", rights_requests.c.channel == "center")
                .order_by(rights_requests.c.received_at.desc())
            ).first()  # fmt: skip
        assert state == "in_review", "the sample declaration reviews erasures case by case"

        # 6. The operator approves it from the queue (RIG-9).
        operator.goto(f"{base}/admin/requests")
        _shoot(operator, "09-console-queue", dialogs)
        operator.goto(f"{base}/admin/requests/{erase_id}")
        _shoot(operator, "10-console-erasure", dialogs)
        operator.click("#approve")
        operator.wait_for_load_state()
        assert "Approved: the request was fulfilled" in operator.locator("main").inner_text()
        _shoot(operator, "11-console-approved", dialogs)

        # 7. The outcome mail arrives; the data is gone but for what the hold keeps, which the request page lists.
        deliver(instance)
        outcome = [m for m in mails_to(inbox, EMAIL) if "erasure" in m["Subject"].lower()]
        assert outcome, [m["Subject"] for m in mails_to(inbox, EMAIL)]
        assert "Legal requirement or claim" in outcome[-1].get_content()
        person.goto(f"{base}/requests/{erase_id}")
        request_page = person.locator("main").inner_text()
        assert "Legal requirement or claim" in request_page
        _shoot(person, "12-request-outcome", dialogs)
        assert outside == [], outside

    with instance.engine.connect() as conn:
        left = conn.execute(select(items.c.category).where(items.c.subject_id == subject_id)).scalars().all()
    assert left, "the held items stay"
    assert all(c.startswith(HELD) for c in left), left
    assert _count(instance, traffic_events) == events_before
