"""One-click unsubscribe (RFC 8058, RIG-5, RIG-6): `GET /unsubscribe/{token}` shows a form and changes nothing;
`POST /unsubscribe/{token}` with `List-Unsubscribe=One-Click` unsubscribes at once.

The POST needs no cookie and no CSRF token and answers without a redirect, as RFC 8058 asks: mail providers post it
on the reader's behalf. The signed token is what authorises it; a GET never unsubscribes, so link scanners cannot.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from vowkeep.comms import preferences, tokens
from vowkeep.consent.ledger import Method
from vowkeep.vault.actors import Actor
from vowkeep.web.pages.templating import page

router = APIRouter(tags=["unsubscribe"], include_in_schema=False)


def _invalid(request: Request, message: str):
    return page(request, "unsubscribe/invalid.html", status_code=400, message=message)


def _purpose_label(request: Request, key: str) -> str:
    purpose = request.app.state.instance.vault.policy.purpose_by_key.get(key)
    return purpose.label if purpose else key


@router.get("/unsubscribe/{token}")
def confirm(token: str, request: Request):
    instance = request.app.state.instance
    try:
        found = tokens.verify(instance.keystore, token)
    except tokens.InvalidToken as exc:
        return _invalid(request, str(exc))
    return page(
        request, "unsubscribe/confirm.html", token=token, purpose=_purpose_label(request, found.purpose), done=None
    )


@router.post("/unsubscribe/{token}")
async def unsubscribe(token: str, request: Request):
    instance = request.app.state.instance
    try:
        found = tokens.verify(instance.keystore, token)
    except tokens.InvalidToken as exc:
        return _invalid(request, str(exc))
    form = await request.form()
    if form.get("List-Unsubscribe") != "One-Click":
        return _invalid(request, "the request must carry List-Unsubscribe=One-Click")
    scope = "all_non_essential" if form.get("scope") == "all_non_essential" else "marketing"

    def work():
        with instance.vault.transaction() as conn:
            return preferences.opt_out(
                conn,
                vault=instance.vault,
                subject_id=found.subject_id,
                scope=scope,
                method=Method.email_link,
                actor=Actor.system("unsubscribe"),
                also=found.purpose,
                evidence={"link_issued": found.issued_at.isoformat()},
            )

    await run_in_threadpool(work)
    return page(
        request,
        "unsubscribe/confirm.html",
        token=token,
        purpose=_purpose_label(request, found.purpose),
        done=scope,
    )
