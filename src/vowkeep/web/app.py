"""The FastAPI application, assembled from one small router per domain."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from vowkeep import __version__
from vowkeep.instance import Instance
from vowkeep.web import errors, static
from vowkeep.web.api import auth, collect, holds, minors, reports, subjects
from vowkeep.web.health import router as health_router
from vowkeep.web.pages import admin, privacy
from vowkeep.web.pages import minors as minor_pages

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

    @app.middleware("http")
    async def request_log(request: Request, call_next):
        # Log the path without its query string: queries such as ?email= carry personal data.
        started = time.perf_counter()
        response = await call_next(request)
        security_headers(request, response)
        log.info(
            "%s %s %s %.1fms",
            request.method,
            request.url.path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response

    for router in (
        health_router,
        static.router,
        auth.router,
        collect.router,
        subjects.router,
        holds.router,
        minors.router,
        reports.router,
        privacy.router,
        admin.router,
        minor_pages.router,
    ):
        app.include_router(router)
    return app


# Pages load nothing from outside the instance; scripts only from it (the consent banner), never inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def security_headers(request: Request, response) -> None:
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if headers.get("content-type", "").startswith("text/html"):
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cache-Control", "no-store")
