"""The console and the demo shop in a real browser (Debian's chromium driven by Playwright), with screenshots of
every page in test-artifacts/.

The demo shop: the banner shows, the visitor declines analytics, registers through /demo — the subject is stored,
and no tracking event is (CK-2). The console: an operator signs in, walks every section with the keyboard-usable
nav, and approves a request in review (RIG-9); nothing on any page needs JavaScript or comes from outside.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.support.browser import chromium, live_server, screenshot
from vowkeep.store.tables import rights_requests, subjects, traffic_events
from vowkeep.vault import operators

pytestmark = pytest.mark.browser


def count(instance, table) -> int:
    with instance.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def demo_instance(instance, cli):
    result = cli("demo", "--data-dir", instance.settings.data_dir, "--people", 10)
    assert result.exit_code == 0, result.output
    return instance


def test_ck2_register_in_the_demo_shop_with_analytics_declined_stores_no_event(demo_instance):
    """CK-2, COL-1: on the demo shop the banner shows; declined, no visitor cookie is set and no tracking event is
    stored, while the registration itself is stored through the collection API."""
    instance = demo_instance
    events_before, subjects_before = count(instance, traffic_events), count(instance, subjects)
    with live_server(instance) as base, chromium() as page:
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        outside: list[str] = []
        page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
        page.goto(base + "/demo")
        page.locator("#vk-banner").wait_for()
        screenshot(page, "demo-shop-banner")
        page.click("#vk-decline-all")
        page.evaluate("() => window.vowkeep.ready")
        assert page.locator("#vk-banner").count() == 0
        page.fill("#registration-email", "browser.customer@example.org")
        page.fill("#registration-first_name", "Grace")
        page.fill("#registration-last_name", "Hopper")
        page.fill("#registration-date_of_birth", "1986-12-09")
        page.fill("#registration-password", "a long enough password")
        if page.locator("#registration-adult").count():
            page.check("#registration-adult")
        screenshot(page, "demo-shop-filled")
        page.click("#submit-registration")
        page.wait_for_load_state()
        assert page.locator("h1").inner_text() == "Thank you"
        assert "analytics: refused (banner)" in page.locator("main").inner_text()
        screenshot(page, "demo-shop-thanks")
        cookies = {c["name"] for c in page.context.cookies()}
        assert "vk_visitor" not in cookies and "vk_consent" in cookies
        assert errors == [] and outside == []
    assert count(instance, subjects) == subjects_before + 1
    assert count(instance, traffic_events) == events_before


def test_rig9_operator_signs_in_walks_every_section_and_approves_a_request(demo_instance):
    """RIG-9: an operator signs in, opens each console section from the nav (screenshots of each), and approves a
    request in review from the queue; it is fulfilled."""
    instance = demo_instance
    with instance.engine.begin() as conn:
        _, password = operators.add(conn, policy=instance.vault.policy, username="browser-admin", role="admin")
        waiting = conn.execute(
            select(rights_requests.c.id).where(rights_requests.c.state == "in_review").order_by(rights_requests.c.id)
        ).first()[0]
    with live_server(instance) as base, chromium() as page:
        page.set_viewport_size({"width": 1100, "height": 900})
        page.goto(base + "/admin")
        assert page.url.endswith("/admin/login")
        screenshot(page, "console-sign-in")
        page.fill("#username", "browser-admin")
        page.fill("#password", password)
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/admin")
        screenshot(page, "console-home")
        nav = page.locator('nav[aria-label="Main"] a')
        labels = [nav.nth(i).inner_text() for i in range(nav.count())]
        assert labels[:10] == [
            "Console",
            "Requests",
            "Privacy inbox",
            "Disclosures",
            "Holds",
            "Retention",
            "Audit log",
            "Conformance",
            "Consent and traffic",
            "Policy versions",
        ]
        for label in labels[1:10]:
            page.click(f'nav[aria-label="Main"] >> text="{label}"')
            page.wait_for_load_state()
            assert page.locator('nav a[aria-current="page"]').inner_text() == label
            assert page.locator("main h1").count() == 1
            screenshot(page, f"console-{label}")
        page.goto(base + f"/admin/requests/{waiting}")
        screenshot(page, "console-request-in-review")
        page.click("#approve")
        page.wait_for_load_state()
        assert "Approved: the request was fulfilled" in page.locator("main").inner_text()
        screenshot(page, "console-request-approved")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(base + "/admin/requests")
        screenshot(page, "console-requests-phone")
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    with instance.engine.connect() as conn:
        state = conn.execute(select(rights_requests.c.state).where(rights_requests.c.id == waiting)).scalar_one()
    assert state == "fulfilled"
