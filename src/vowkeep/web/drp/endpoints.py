"""The DRP endpoints: thin wrappers around `vowkeep.rights.drp`, which validates and decides.

Signed bodies arrive as `text/plain` (base64 of signature + JSON); answers are JSON. A refused setup is a bare
`403` as the protocol asks; other refusals carry the protocol's error object (`code`, `message`, `fatal`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from vowkeep.rights import drp
from vowkeep.web.api.requests import bearer

router = APIRouter(prefix="/v1", tags=["data rights protocol"])


def _error(exc: drp.DrpError, *, bare_forbidden: bool = False) -> Response:
    if bare_forbidden and exc.status == 403:
        return Response(status_code=403)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _body(request: Request) -> bytes:
    body = await request.body()
    return body[: drp.MAX_BODY + 1]


@router.post("/agent/{agent_id}")
async def pairwise_setup(agent_id: str, request: Request):
    """Pair-wise key setup: a signed message from a trusted agent earns it a bearer token."""
    instance = request.app.state.instance
    body = await _body(request)

    def work():
        with instance.vault.transaction() as conn:
            return drp.pairwise_setup(conn, policy=instance.vault.policy, agent_id=agent_id, body=body)

    try:
        return await run_in_threadpool(work)
    except drp.DrpError as exc:
        return _error(exc, bare_forbidden=True)


@router.get("/agent/{agent_id}")
def agent_information(agent_id: str, request: Request):
    """Agent information: `{}` while the bearer token is this agent's."""
    instance = request.app.state.instance
    try:
        with instance.engine.connect() as conn:
            return drp.agent_information(conn, policy=instance.vault.policy, agent_id=agent_id, token=bearer(request))
    except drp.DrpError as exc:
        return _error(exc, bare_forbidden=True)


@router.post("/data-rights-request")
async def exercise(request: Request):
    """Data Rights Exercise: a signed request from an agent becomes a request of channel `agent`."""
    instance = request.app.state.instance
    body = await _body(request)
    token = bearer(request)

    def work():
        with instance.vault.transaction() as conn:
            return drp.exercise(conn, instance=instance, token=token, body=body)

    try:
        return await run_in_threadpool(work)
    except drp.DrpError as exc:
        return _error(exc)


@router.get("/data-rights-request/{request_id}")
def request_status(request_id: str, request: Request):
    """Data Rights Status: only to the agent that filed the request."""
    instance = request.app.state.instance
    try:
        with instance.engine.connect() as conn:
            return drp.request_status(conn, instance=instance, token=bearer(request), request_id=request_id)
    except drp.DrpError as exc:
        return _error(exc)


@router.delete("/data-rights-request/{request_id}")
async def revoke(request_id: str, request: Request):
    """Data Rights Revoke: a signed `{reason}`; the request becomes `revoked`."""
    instance = request.app.state.instance
    body = await _body(request)
    token = bearer(request)

    def work():
        with instance.vault.transaction() as conn:
            return drp.revoke(conn, instance=instance, token=token, request_id=request_id, body=body)

    try:
        return await run_in_threadpool(work)
    except drp.DrpError as exc:
        return _error(exc)
