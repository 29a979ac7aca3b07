"""Rendering pages: one Jinja2 environment with autoescaping, and the context every page shares."""

from __future__ import annotations

from pathlib import Path

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from vowkeep.web import csrf

TEMPLATES = Path(__file__).parent / "templates"
environment = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def page(request: Request, template: str, *, status_code: int = 200, **context) -> HTMLResponse:
    """Render `template` inside the site layout; sets the CSRF cookie the page's forms need."""
    from vowkeep.comms.notices import banner_change

    instance = request.app.state.instance
    policy = instance.vault.policy
    token = csrf.token_for(request)
    change = banner_change(instance)
    html = environment.get_template(template).render(
        request=request,
        organization=policy.organization,
        policy_version=instance.vault.policy_version,
        csrf_token=token,
        policy_change=getattr(request.app.state, "policy_change_banner", None) or (change.message if change else None),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    csrf.set_cookie(request, response, token)
    return response
