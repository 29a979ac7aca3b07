"""The banner and the tracking beacon, served to the business's own pages (CK-1, CK-2, CK-3, COL-5).

`GET /consent.js` (the banner, with the declaration's categories built in), `POST /t/consent` (a banner choice),
`POST /t` (usage events), `GET /.well-known/gpc.json`. The script talks to these without cookies: its requests
carry the consent and visitor ids in their bodies, so it works embedded from another origin or proxied under the
site's own, and never relies on a third-party cookie.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from vowkeep import clock
from vowkeep.comms.notices import banner_change
from vowkeep.consent import banner
from vowkeep.consent.cookies import GPC_HEADER, UnknownCategory, banner_config, gpc_document, is_gpc
from vowkeep.tracking.intake import TrackingRefused, record_events
from vowkeep.tracking.reduce import page_path
from vowkeep.tracking.writer import EventWriter
from vowkeep.vault.decisions import Decision

router = APIRouter(tags=["banner"])
SCRIPT = (Path(__file__).parent / "assets" / "consent.js").read_text()
MAX_BODY = 32_768
_CACHE = "public, max-age=300"


def _script(instance) -> tuple[str, str]:
    state = instance.vault.policy_state
    change = banner_change(instance)
    key = (state.version, change.version if change else None)
    cached = getattr(instance, "_banner_script", None)
    if cached is None or cached[0] != key:
        config = banner_config(
            state.policy, version=state.version, reconsent_since=state.reconsent_since, change=change
        )
        text = SCRIPT.replace("__VOWKEEP_CONFIG__", json.dumps(config, ensure_ascii=True, sort_keys=True))
        cached = (key, text, hashlib.sha256(text.encode()).hexdigest()[:32])
        instance._banner_script = cached
    return cached[1], cached[2]


@router.get("/consent.js", include_in_schema=False)
def consent_script(request: Request):
    instance = request.app.state.instance
    instance.vault.refresh_if_due()
    text, etag = _script(instance)
    headers = {"Cache-Control": _CACHE, "ETag": f'"{etag}"', "Cross-Origin-Resource-Policy": "cross-origin"}
    if request.headers.get("if-none-match") == f'"{etag}"':
        return Response(status_code=304, headers=headers)
    return Response(text, media_type="text/javascript; charset=utf-8", headers=headers)


@router.get("/.well-known/gpc.json", include_in_schema=False)
def gpc_json(request: Request):
    """This site honours Global Privacy Control (CK-3)."""
    policy = request.app.state.instance.vault.policy
    return JSONResponse(gpc_document(policy.effective_date), headers={"Cache-Control": _CACHE})


async def _json_body(request: Request):
    body = await request.body()
    if len(body) > MAX_BODY:
        return None, JSONResponse({"error": "too_large", "message": f"at most {MAX_BODY} bytes"}, status_code=413)
    try:
        return json.loads(body), None
    except (ValueError, UnicodeDecodeError):
        return None, JSONResponse({"error": "invalid_json", "message": "the body is not JSON"}, status_code=422)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


@router.post("/t/consent", include_in_schema=False)
async def banner_choice(request: Request):
    """Record a banner choice for the visitor, and for the subject once the visitor is known."""
    payload, problem = await _json_body(request)
    if problem is not None:
        return problem
    if not isinstance(payload, dict) or not isinstance(payload.get("accepted"), list):
        return _error(422, "invalid_choice", "send {cid, accepted: [category keys], gpc}")
    gpc = is_gpc(request.headers.get(GPC_HEADER)) or payload.get("gpc") is True
    # Where the choice was made, as a path: a query string may carry personal data.
    page = page_path(payload.get("page"))
    evidence = {"page": page[:200]} if page else {}
    if is_gpc(request.headers.get(GPC_HEADER)):
        evidence["signal"] = "Sec-GPC: 1"
    instance = request.app.state.instance

    def work():
        vault = instance.vault
        with vault.transaction() as conn:
            result = banner.record_banner_choice(
                conn,
                policy=vault.policy,
                policy_version=vault.policy_version,
                visitor_id=payload.get("cid"),
                accepted=[k for k in payload["accepted"] if isinstance(k, str)],
                gpc=gpc,
                evidence=evidence,
            )
            if result.subject_id is not None and result.records:
                vault.audit(
                    conn,
                    actor=_banner_actor(),
                    action="consent",
                    decision=Decision(True, "banner", "cookie choice recorded"),
                    subject_id=result.subject_id,
                    detail={"accepted": result.accepted, "declined": result.declined, "gpc": gpc},
                )
        return result

    try:
        result = await run_in_threadpool(work)
    except (banner.InvalidVisitor, UnknownCategory) as exc:
        return _error(422, "invalid_choice", str(exc))
    return JSONResponse(
        {"accepted": result.accepted, "declined": result.declined, "gpc": result.gpc, "recorded": len(result.records)}
    )


def _banner_actor():
    from vowkeep.vault.actors import Actor

    return Actor.system("banner")


_writers_lock = threading.Lock()


async def _refresh(instance) -> None:
    """Pick up a version published by another process, at most once a second, off the event loop (the writer
    thread must not open a second connection while its transaction holds SQLite's write lock)."""
    now = time.monotonic()
    if now - getattr(instance, "_beacon_refreshed", 0.0) >= 1.0:
        instance._beacon_refreshed = now
        await run_in_threadpool(instance.vault.refresh_if_due)


def _writer(instance) -> EventWriter:
    writer = getattr(instance, "_event_writer", None)
    if writer is None:
        with _writers_lock:
            writer = getattr(instance, "_event_writer", None)
            if writer is None:
                writer = instance._event_writer = EventWriter(instance.engine)
    return writer


async def track(request: Request):
    """Usage events of a visitor who accepted their cookie category; 204 when stored.

    A plain Starlette route (registered below): the busiest endpoint of all takes nothing from FastAPI's
    dependency and validation machinery, which costs a beacon more than its own work."""
    payload, problem = await _json_body(request)
    if problem is not None:
        return problem
    instance = request.app.state.instance
    ip = request.client.host if request.client else None
    user_agent = request.headers.get("user-agent")
    gpc = is_gpc(request.headers.get(GPC_HEADER))

    await _refresh(instance)

    def work(conn):
        state = instance.vault.policy_state
        return record_events(
            conn,
            policy=state.policy,
            reconsent_since=state.reconsent_since,
            payload=payload,
            ip=ip,
            user_agent=user_agent,
            gpc=gpc,
            now=clock.now(),
        )

    try:
        await _writer(instance).run(work)
    except TrackingRefused as exc:
        return _error(exc.status, exc.code, exc.message)
    return Response(status_code=204)


router.add_route("/t", track, methods=["POST"], include_in_schema=False)
