"""The consent banner in a real browser (Debian's chromium driven by Playwright), as a business site embeds it.

The site is served on one port with a strict Content-Security-Policy and embeds `consent.js` from vowkeep, served
by uvicorn on another port — the cross-origin embedding a business uses. Declining sets no tracking cookie and
stores no event (CK-2); accepting stores events (COL-5); Global Privacy Control refuses advertising (CK-3). The
same script also runs same-origin on vowkeep's own cookie page, under vowkeep's CSP. Screenshots go to
`test-artifacts/`.
"""

from __future__ import annotations

import http.server
import threading
import time
from functools import partial
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import select

from tests.support.browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.support.smtp import free_port
from vowkeep.store.tables import consent_records, traffic_events
from vowkeep.web.app import create_app

pytestmark = pytest.mark.browser

SITE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>WS Outsourcer shop</title>
<script src="http://127.0.0.1:{vk}/consent.js" defer></script>
<script type="text/plain" data-vk-category="advertising" src="/ad.js"></script>
</head><body>
<h1>Shop</h1><p><a id="offer" href="/offer.html?ref=newsletter">See the offer</a></p>
<p><a href="#" data-vk-open>Cookie settings</a></p>
</body></html>
"""


def _site_handler(directory: str, vk_port: int):
    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self):
            # What a careful business sends: only its own scripts and vowkeep's, no inline code or styles.
            self.send_header(
                "Content-Security-Policy",
                f"default-src 'self'; script-src 'self' http://127.0.0.1:{vk_port}; "
                f"connect-src http://127.0.0.1:{vk_port}; style-src 'self'; img-src 'self'",
            )
            super().end_headers()

        def log_message(self, *args):
            pass

    return partial(Handler, directory=directory)


@pytest.fixture
def served(instance, tmp_path):
    """vowkeep on one port, the business site on another; yields (site url, vowkeep url, instance)."""
    require_chromium()
    vk_port, site_port = free_port(), free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(instance), host="127.0.0.1", port=vk_port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "vowkeep did not start"
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(SITE.format(vk=vk_port))
    (site / "offer.html").write_text(
        f'<!doctype html><title>Offer</title><script src="http://127.0.0.1:{vk_port}/consent.js" defer></script>'
        "<h1>Offer</h1>"
    )
    (site / "favicon.ico").write_bytes(b"")
    (site / "ad.js").write_text("window.adLoaded = true; document.cookie = 'ad_id=ad-123; Path=/';\n")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", site_port), _site_handler(str(site), vk_port))
    site_thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    site_thread.start()
    try:
        yield f"http://127.0.0.1:{site_port}", f"http://127.0.0.1:{vk_port}", instance
    finally:
        httpd.shutdown()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        yield None
        return
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def _console_error(message, errors: list[str]) -> None:
    # A browser asks every site for /favicon.ico; vowkeep has none, and that 404 is no error of the banner's.
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        errors.append(message.text)


def _cookies(context) -> dict[str, str]:
    from urllib.parse import unquote

    return {c["name"]: unquote(c["value"]) for c in context.cookies()}


def _events(instance):
    with instance.engine.connect() as conn:
        return conn.execute(select(traffic_events).order_by(traffic_events.c.id)).all()


def _records(instance, visitor_id):
    with instance.engine.connect() as conn:
        rows = conn.execute(
            select(consent_records).where(consent_records.c.visitor_id == visitor_id).order_by(consent_records.c.id)
        ).all()
    return {r.purpose: (r.choice, r.method) for r in rows}


def _wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    return predicate()


def test_ck2_decline_sets_no_tracking_cookie_and_stores_no_event(served, browser):
    site, _, instance = served
    context = browser.new_context()
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: _console_error(m, errors))
    page.goto(site + "/index.html")
    banner = page.locator("#vk-banner")
    banner.wait_for()
    assert page.is_hidden("#vk-categories")  # the categories show when the visitor chooses
    page.screenshot(path=str(ARTIFACTS / "banner-first-visit.png"))
    page.click("#vk-decline-all")
    page.evaluate("() => window.vowkeep.ready")
    assert banner.count() == 0
    cookies = _cookies(context)
    assert "vk_visitor" not in cookies and "ad_id" not in cookies
    version, cid, policy_version, accepted, declined = cookies["vk_consent"].split(".")
    assert (version, policy_version, accepted, declined) == ("1", "1", "", "analytics:advertising")
    assert _records(instance, cid) == {"analytics": ("refused", "banner"), "advertising": ("refused", "banner")}
    # The decline is remembered: no banner on the next page, and still nothing recorded.
    page.click("#offer")
    page.wait_for_load_state()
    page.goto(site + "/index.html")
    page.evaluate("() => window.vowkeep.ready")
    assert page.locator("#vk-banner").count() == 0
    assert page.evaluate("() => window.adLoaded === true") is False
    assert _events(instance) == []
    assert "vk_visitor" not in _cookies(context)
    assert errors == [], errors  # nothing was blocked by the site's strict CSP
    context.close()


def test_col5_accept_stores_pseudonymous_events(served, browser):
    site, _, instance = served
    context = browser.new_context()
    page = context.new_page()
    page.goto(site + "/index.html")
    page.locator("#vk-banner").wait_for()
    page.click("#vk-choose")
    page.locator("#vk-cat-analytics").wait_for()
    assert page.is_checked("#vk-cat-essential") and page.is_disabled("#vk-cat-essential")
    page.screenshot(path=str(ARTIFACTS / "banner-choose.png"))
    page.check("#vk-cat-analytics")
    page.click("#vk-save")
    page.evaluate("() => window.vowkeep.ready")
    cookies = _cookies(context)
    visitor = cookies["vk_visitor"]
    cid = cookies["vk_consent"].split(".")[1]
    assert _records(instance, cid) == {"analytics": ("given", "banner"), "advertising": ("refused", "banner")}
    [view] = _wait_for(lambda: _events(instance))
    assert (view.kind, view.page, view.visitor) == ("view", "/index.html", visitor)
    assert view.browser and view.device_class == "desktop" and view.language
    assert page.evaluate("() => window.adLoaded === true") is False  # advertising was not accepted
    page.click("#offer")
    page.wait_for_load_state()
    events = _wait_for(lambda: len(_events(instance)) >= 3 and _events(instance))
    kinds = [(e.kind, e.page, e.target) for e in events]
    assert ("click", "/index.html", "127.0.0.1/offer.html") in kinds
    assert ("view", "/offer.html", None) in kinds
    assert all("newsletter" not in (e.target or "") + (e.page or "") for e in events)

    # Changing one's mind from the "Cookie settings" link withdraws at once: the visitor cookie goes too.
    page.goto(site + "/index.html")
    page.evaluate("() => window.vowkeep.ready")
    count = len(_events(instance))
    page.click("[data-vk-open]")
    page.click("#vk-decline-all")
    page.evaluate("() => window.vowkeep.ready")
    assert "vk_visitor" not in _cookies(context)
    assert _records(instance, cid)["analytics"] == ("withdrawn", "banner")
    page.goto(site + "/index.html")
    page.evaluate("() => window.vowkeep.ready")
    assert len(_events(instance)) == count
    context.close()


def test_ck3_global_privacy_control_refuses_advertising(served, browser):
    site, _, instance = served
    context = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    context.add_init_script("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true});")
    page = context.new_page()
    page.goto(site + "/index.html")
    page.locator("#vk-gpc").wait_for()
    page.click("#vk-choose")
    assert page.is_disabled("#vk-cat-advertising") and not page.is_checked("#vk-cat-advertising")
    page.screenshot(path=str(ARTIFACTS / "banner-gpc.png"))
    page.click("#vk-accept-all")
    page.evaluate("() => window.vowkeep.ready")
    cid = _cookies(context)["vk_consent"].split(".")[1]
    assert _records(instance, cid) == {"analytics": ("given", "banner"), "advertising": ("refused", "gpc")}
    assert page.evaluate("() => window.vowkeep.accepted('advertising')") is False
    assert page.evaluate("() => window.adLoaded === true") is False and "ad_id" not in _cookies(context)
    assert _wait_for(lambda: _events(instance))  # analytics was accepted
    context.close()

    # The header alone (a browser extension that sets only Sec-GPC) is honoured by vowkeep too.
    header_only = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    page = header_only.new_page()
    page.goto(site + "/index.html")
    page.click("#vk-accept-all")
    page.evaluate("() => window.vowkeep.ready")
    cid = _cookies(header_only)["vk_consent"].split(".")[1]
    assert _records(instance, cid)["advertising"] == ("refused", "gpc")
    header_only.close()


def test_ck1_the_banner_runs_same_origin_on_the_cookie_page(served, browser):
    """Embedded under the site's own origin (vowkeep's cookie page, as a reverse proxy would serve it)."""
    _, vk, instance = served
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: _console_error(m, errors))
    page.goto(vk + "/privacy/cookies")
    page.locator("#vk-banner").wait_for()
    page.click("#vk-accept-all")
    page.evaluate("() => window.vowkeep.ready")
    assert page.locator("#vk-banner").count() == 0
    page.click("#cookie-settings")
    page.locator("#vk-banner").wait_for()
    page.screenshot(path=str(ARTIFACTS / "banner-cookie-page.png"), full_page=True)
    cid = _cookies(context)["vk_consent"].split(".")[1]
    assert _records(instance, cid) == {"analytics": ("given", "banner"), "advertising": ("given", "banner")}
    assert errors == [], errors
    context.close()
