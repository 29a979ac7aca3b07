"""Map domain errors to HTTP: every refusal says what was wrong and which rule decided, never a value."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from vowkeep.vault.decisions import GateDenied
from vowkeep.vault.gate import SubjectNotFound
from vowkeep.vault.intake import SubmissionError


class ApiError(Exception):
    """An error with a status, a machine-readable code and a message for people."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def problem(status: int, code: str, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": code, "message": message, **extra}, status_code=status)


def wants_html(request: Request) -> bool:
    """Pages answer errors with a page; the API and the Data Rights Protocol answer with JSON."""
    path = request.url.path
    return not (path.startswith(("/api/", "/v1/", "/t", "/.well-known/")) or path == "/consent.js")


def message_page(request: Request, status: int, heading: str, message: str):
    from vowkeep.web.pages.templating import page

    return page(request, "message.html", status_code=status, heading=heading, message=message, back=None)


def install(app: FastAPI) -> None:
    from vowkeep.web.csrf import CsrfError
    from vowkeep.web.sessions import SignInRequired, to_sign_in

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError):
        if wants_html(request):
            return message_page(request, 403, "This form has expired", str(exc))
        return problem(403, "csrf", str(exc))

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, _exc: SignInRequired):
        return to_sign_in(request)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        if wants_html(request):
            heading = {404: "Not found", 403: "Not allowed", 401: "Please sign in"}.get(
                exc.status, "Something was wrong"
            )
            return message_page(request, exc.status, heading, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        response = problem(exc.status, exc.code, exc.message, **exc.extra)
        if headers:
            response.headers.update(headers)
        return response

    @app.exception_handler(GateDenied)
    async def _denied(_request: Request, exc: GateDenied):
        return problem(403, "denied", exc.decision.reason, rule=exc.decision.rule)

    @app.exception_handler(SubmissionError)
    async def _submission(_request: Request, exc: SubmissionError):
        return problem(
            422,
            "invalid_submission",
            "the submission was refused; nothing was stored",
            problems=[p.as_dict() for p in exc.problems],
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}
        message = exc.detail if isinstance(exc.detail, str) else "the request was refused"
        if exc.status_code == 400:
            message = "the request body could not be read: send UTF-8 JSON"
        if wants_html(request) and exc.status_code == 404:
            return message_page(request, 404, "Not found", "There is no page at this address.")
        return problem(exc.status_code, codes.get(exc.status_code, "http_error"), message)

    @app.exception_handler(SubjectNotFound)
    async def _no_subject(_request: Request, _exc: SubjectNotFound):
        return problem(404, "not_found", "no such subject")

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError):
        # FastAPI's default echoes the input back; ours names the location only (inputs may be personal data).
        problems = [
            {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]} for e in exc.errors()
        ]
        return problem(422, "invalid_request", "the request is malformed", problems=problems)
