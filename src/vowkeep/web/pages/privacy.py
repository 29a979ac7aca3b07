"""The notice people read (NTC-1, CK-4): `/privacy`, `/privacy.md`, `/privacy/versions[/{n}]`, `/privacy/cookies`.

Every page is generated from a published version of the declaration, never from anything else.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from vowkeep.policy import versions
from vowkeep.policy.render import render_cookie_table_html, render_html_article, render_markdown
from vowkeep.web.errors import ApiError
from vowkeep.web.pages.templating import page

router = APIRouter(tags=["notice"], include_in_schema=False)


def _load(request: Request, number: int | None):
    instance = request.app.state.instance
    instance.vault.refresh_if_due()
    number = instance.vault.policy_version if number is None else number
    # Published versions never change, so each is read and parsed once per app.
    cache = request.app.state.__dict__.setdefault("notice_versions", {})
    loaded = cache.get(number)
    if loaded is None:
        with instance.engine.connect() as conn:
            found = versions.get(conn, version=number)
        if found is not None:
            loaded = cache[number] = (found, found.policy)
    if loaded is None:
        raise ApiError(404, "not_found", f"there is no version {number} of this privacy notice")
    return loaded


@router.get("/privacy")
def current_notice(request: Request):
    version, policy = _load(request, None)
    article = render_html_article(policy, version=version.version, updated=version.effective_date)
    return page(request, "privacy/notice.html", article=article, version=version, current=True)


@router.get("/privacy.md")
def current_notice_markdown(request: Request):
    version, policy = _load(request, None)
    text = render_markdown(policy, version=version.version, updated=version.effective_date)
    return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")


@router.get("/privacy/versions")
def all_versions(request: Request):
    instance = request.app.state.instance
    with instance.engine.connect() as conn:
        published = versions.list_all(conn)
    return page(request, "privacy/versions.html", versions=published)


@router.get("/privacy/versions/{number}")
def one_version(number: int, request: Request):
    version, policy = _load(request, number)
    article = render_html_article(policy, version=version.version, updated=version.effective_date)
    current = number == request.app.state.instance.vault.policy_version
    return page(request, "privacy/notice.html", article=article, version=version, current=current)


@router.get("/privacy/cookies")
def cookies(request: Request):
    _, policy = _load(request, None)
    return page(
        request, "privacy/cookies.html", categories=policy.cookie_categories, table=render_cookie_table_html(policy)
    )
