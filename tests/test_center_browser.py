"""The privacy centre in a real browser (Debian's chromium driven by Playwright), served by uvicorn, with mail read
from a real SMTP server: sign in with the mailed code (RIG-8), see the data (RIG-1), correct it (RIG-2), withdraw a
consent (USE-3), ask a question that an operator answers in the console (NTC-3). The pages work without JavaScript,
load nothing from elsewhere, and are usable by keyboard and on a narrow screen. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.support.api import REGISTRATION
from tests.support.browser import chromium, live_server, screenshot
from tests.support.center import code_mailed
from tests.support.rights import deliver, mailbox, mails_to
from vowkeep.store.tables import consent_records, inquiries
from vowkeep.vault import operators

pytestmark = pytest.mark.browser
ADA = REGISTRATION["email"]


def _register(base: str, api_key: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/collect/registration", json=REGISTRATION, headers={"Authorization": f"Bearer {api_key}"}
    )
    assert response.status_code == 201, response.text
    return response.json()["subject_id"]


def _watch_origins(page, base: str) -> list[str]:
    elsewhere: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
    return elsewhere


def test_rig8_rig1_rig2_use3_the_centre_journey_without_javascript(instance_and_init):
    """RIG-8, RIG-1, RIG-2, USE-3: sign in with the code from the mail, read the data, correct the last name,
    withdraw the partners' consent — with JavaScript off, by keyboard for the sign-in, and nothing from outside."""
    instance, result = instance_and_init
    with mailbox(instance) as inbox, live_server(instance) as base, chromium() as page:
        _register(base, result.api_key)
        page.context.close()
        context = page.context.browser.new_context(java_script_enabled=False)
        page = context.new_page()
        elsewhere = _watch_origins(page, base)

        page.goto(f"{base}/center")
        assert page.locator("main h1").inner_text() == "Privacy centre"
        # By keyboard: the first Tab reaches the skip link, and the form is sent with Enter.
        page.keyboard.press("Tab")
        expect(page.locator("a.skip")).to_be_focused()
        page.get_by_label("E-mail address").focus()
        page.keyboard.type(ADA)
        page.keyboard.press("Enter")
        page.wait_for_url("**/center/code/*")
        screenshot(page, "center-code")
        deliver(instance)
        page.get_by_label("Code").fill(code_mailed(inbox, ADA))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/center")
        assert page.get_by_role("heading", name="The data we hold about you").is_visible()
        assert page.get_by_role("cell", name="Lovelace").first.is_visible()
        screenshot(page, "center-dashboard")

        page.get_by_label("Last name (last_name)").fill("Byron")
        page.get_by_role("button", name="Save corrections").click()
        assert page.get_by_role("status").inner_text() == "Your data was corrected."
        assert page.get_by_role("cell", name="Byron").first.is_visible()

        page.get_by_role("button", name="Give consent for Our business partners' offers").click()
        page.get_by_role("button", name="Withdraw consent for Our business partners' offers").click()
        assert page.get_by_role("button", name="Give consent for Our business partners' offers").is_visible()
        with instance.engine.connect() as conn:
            choices = list(conn.execute(select(consent_records.c.choice, consent_records.c.method)))
        assert choices[-2:] == [("given", "center"), ("withdrawn", "center")]

        page.set_viewport_size({"width": 375, "height": 800})
        screenshot(page, "center-dashboard-narrow")
        width = page.locator("main").bounding_box()["width"]
        assert width <= 375
        page.get_by_role("button", name="Sign out").click()
        assert page.get_by_role("button", name="Send me a code").is_visible()
        assert elsewhere == [], elsewhere
        context.close()


def test_ntc3_a_question_from_the_contact_form_answered_in_the_console(instance_and_init):
    """NTC-3: someone without an account writes through /center/contact; an operator answers in /admin/inbox; the
    answer arrives by e-mail."""
    instance, _ = instance_and_init
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username="sam", role="support_agent")
    with mailbox(instance) as inbox, live_server(instance) as base, chromium() as page:
        elsewhere = _watch_origins(page, base)
        page.goto(f"{base}/center")
        page.get_by_role("link", name="Ask a privacy question or make a complaint").click()
        page.get_by_label("Your e-mail address (for the answer)").fill("grace@example.org")
        page.get_by_label("a complaint").check()
        page.get_by_label("Your message").fill("You mailed me after I unsubscribed.")
        page.get_by_role("button", name="Send").click()
        assert "your message is recorded" in page.get_by_role("status").inner_text()

        page.goto(f"{base}/admin/login")
        page.get_by_label("Username").fill("sam")
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy inbox").click()
        assert "1 open" in page.locator("main").inner_text()
        screenshot(page, "inbox-list")
        page.locator("main table a").first.click()
        assert "You mailed me after I unsubscribed." in page.locator("main").inner_text()
        page.get_by_label("Your answer (mailed to the asker)").fill("Sorry: that mail was queued before; no more.")
        page.get_by_role("button", name="Send the answer").click()
        screenshot(page, "inbox-answered")
        assert "by operator:sam" in page.locator("main").inner_text()
        deliver(instance)
        answer = mails_to(inbox, "grace@example.org")
        assert answer and "no more." in answer[-1].get_content()
        with instance.engine.connect() as conn:
            assert conn.execute(select(inquiries.c.state)).scalar_one() == "answered"
        assert elsewhere == [], elsewhere
