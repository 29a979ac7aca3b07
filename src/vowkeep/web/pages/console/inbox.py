"""The console's privacy inbox `/admin/inbox` (NTC-3): questions and complaints, open ones first, answered by mail.

Who may use it: operators whose role has the declaration's `answer_inbox` permission. The declaration names that
permission for exactly this work (in the sample: support agents, the privacy officer and administrators), so the
console follows it rather than inferring it from purposes; `review_requests` alone does not open the inbox, just as
`answer_inbox` alone does not open the rights queue. The list shows no text; opening an inquiry unseals the asker's
address and message and is audited, as is the answer.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from vowkeep.comms import inbox
from vowkeep.web import csrf
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.console import ConsoleUser, console_page, section

router = APIRouter(prefix="/admin/inbox", tags=["console"], include_in_schema=False)
_answerer = section("inbox")


@router.get("")
def list_page(request: Request, user: ConsoleUser = Depends(_answerer)):
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        found = inbox.list_inquiries(conn, vault=instance.vault)
    return console_page(
        request,
        user,
        "admin/inbox.html",
        current="inbox",
        inquiries=found,
        open_count=sum(1 for i in found if i.state == "open"),
    )


def _view(request: Request, inquiry_id: str, user: ConsoleUser, *, status_code: int = 200, error: str | None = None):
    instance = request.app.state.instance
    try:
        with instance.vault.transaction() as conn:
            found = inbox.read(conn, vault=instance.vault, inquiry_id=inquiry_id, actor=user.caller.actor)
    except inbox.InquiryNotFound:
        raise ApiError(404, "not_found", "There is no such inquiry.") from None
    return console_page(
        request,
        user,
        "admin/inbox_view.html",
        current="inbox",
        status_code=status_code,
        inquiry=found,
        error=error,
    )


@router.get("/{inquiry_id}")
def view(inquiry_id: str, request: Request, user: ConsoleUser = Depends(_answerer)):
    return _view(request, inquiry_id, user)


@router.post("/{inquiry_id}/answer")
def answer(
    inquiry_id: str,
    request: Request,
    text: str = Form("", max_length=inbox.MAX_MESSAGE + 100),
    csrf_token: str = Form(""),
    user: ConsoleUser = Depends(_answerer),
):
    csrf.verify(request, csrf_token)
    instance = request.app.state.instance
    try:
        with instance.vault.transaction() as conn:
            inbox.answer(conn, instance=instance, inquiry_id=inquiry_id, text=text, actor=user.caller.actor)
    except inbox.InquiryNotFound:
        raise ApiError(404, "not_found", "There is no such inquiry.") from None
    except inbox.InquiryError as exc:
        return _view(request, inquiry_id, user, status_code=400, error=f"{exc}.")
    return RedirectResponse(f"/admin/inbox/{inquiry_id}", status_code=303)
