"""Real-browser tests: a vowkeep app served by uvicorn on a free port, and Debian's chromium driven by Playwright.

No browser is ever downloaded: Playwright launches `/usr/bin/chromium` (installed by `.ci/run` with apt).
Screenshots go to `test-artifacts/` (kept by CI as artifacts, ignored by git).
"""

from __future__ import annotations

import re
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from tests.support.smtp import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "test-artifacts"


@contextmanager
def live_server(instance, *, run_worker: bool = False):
    """Serve the instance's app on 127.0.0.1; yields its base URL."""
    from vowkeep.web.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(instance, run_worker=run_worker), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def require_chromium() -> None:
    """Skip a browser test where chromium is missing, except under CI=true, where that is a failure."""
    import os

    import pytest

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is required under CI=true (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI requires it")


@contextmanager
def chromium():
    """A fresh headless chromium; yields a new Playwright page in a new context (no shared cookies)."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context()
            yield context.new_page()
        finally:
            browser.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^a-z0-9_-]+', '-', name.lower())}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
