"""The FastAPI application, assembled from one small router per domain."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI

from vowkeep import __version__
from vowkeep.instance import Instance
from vowkeep.web import banner, drp, errors, static
from vowkeep.web.api import (
    audit,
    auth,
    collect,
    comms,
    consents,
    disclosures,
    holds,
    minors,
    reports,
    requests,
    subjects,
    traffic,
)
from vowkeep.web.health import router as health_router
from vowkeep.web.pages import admin, center, console, demo, privacy, unsubscribe
from vowkeep.web.pages import minors as minor_pages
from vowkeep.web.pages import requests as request_pages

log = logging.getLogger("vowkeep.http")


def create_app(instance: Instance, *, run_worker: bool = False) -> FastAPI:
    """The web app for an opened instance; `run_worker` runs background jobs in this process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        worker = None
        if run_worker:
            from vowkeep.worker import Worker

            worker = Worker(instance, name="serve")
            worker.start_thread()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()

    app = FastAPI(
        title="vowkeep",
        version=__version__,
        description="A privacy policy declared as code and enforced at run time.",
        lifespan=lifespan,
    )
    app.state.instance = instance
    errors.install(app)

    app.add_middleware(RequestLog)

    for router in (
        # First: the tracking beacon is the busiest route, and routes are matched in this order.
        banner.router,
        health_router,
        static.router,
        auth.router,
        audit.router,
        collect.router,
        subjects.router,
        consents.router,
        traffic.router,
        comms.router,
        holds.router,
        minors.router,
        reports.router,
        privacy.router,
        unsubscribe.router,
        admin.router,
        requests.router,
        disclosures.router,
        request_pages.router,
        drp.router,
        minor_pages.router,
        center.router,
        *console.routers(),
    ):
        app.include_router(router)
    demo.mount(app, instance)
    return app


class RequestLog:
    """Security headers on every response and one log line per request, as plain ASGI middleware.

    (Starlette's `@app.middleware("http")` costs several times a small endpoint such as the tracking beacon, so
    the headers are added to the raw header list of the response.) The path is logged without its query string:
    queries such as ?email= carry personal data.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = with_security_headers(message.get("headers") or [])
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(
                    "%s %s %s %.1fms",
                    scope["method"],
                    loggable_path(scope["path"]),
                    status,
                    (time.perf_counter() - started) * 1000,
                )


# Paths that carry a secret (a signed one-click unsubscribe token): logged with the secret replaced.
_SECRET_PATH_PREFIXES = ("/unsubscribe/",)


def loggable_path(path: str) -> str:
    for prefix in _SECRET_PATH_PREFIXES:
        if path.startswith(prefix):
            return prefix + "{token}"
    return path


# Pages load nothing from outside the instance; scripts only from it (the consent banner), never inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


_EVERY_RESPONSE = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))
_HTML_RESPONSE = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-frame-options", b"DENY"),
    (b"cache-control", b"no-store"),
)


def with_security_headers(headers) -> list:
    """The response's raw headers plus the security headers it does not set itself (HTML pages get more)."""
    present = {bytes(name).lower(): value for name, value in headers}
    added = list(headers)
    wanted = _EVERY_RESPONSE + (_HTML_RESPONSE if present.get(b"content-type", b"").startswith(b"text/html") else ())
    added.extend(header for header in wanted if header[0] not in present)
    return added
