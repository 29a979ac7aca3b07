"""Render a declaration into the notice people read (Markdown, HTML) and a record of processing (NTC-1, XFR-1).

Both formats lay out one `Document` built by `notice.py` or `ropa.py`, so they always say the same thing.
HTML is autoescaped by Jinja2; Markdown escapes every character that could start markup, so a label such as
`<script>` or `*_x_*` is shown as written in both.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape

from vowkeep.policy.document import Document, Inline, long_date
from vowkeep.policy.model import Policy
from vowkeep.policy.notice import build_notice, cookie_table
from vowkeep.policy.ropa import build_ropa
from vowkeep.policy.ropa import render_ropa_csv as render_ropa_csv

FORMATS = ("md", "html", "ropa", "ropa-csv")

__all__ = [
    "FORMATS",
    "notice_css",
    "render",
    "render_cookie_table_html",
    "render_html",
    "render_html_article",
    "render_markdown",
    "render_ropa",
    "render_ropa_csv",
]


def render_markdown(policy: Policy, *, version: int | None = None, updated: dt.date | None = None) -> str:
    """The notice as Markdown, each section under an `<a id>` anchor that matches the HTML ids."""
    return _markdown(build_notice(policy, version=version, updated=updated))


def render_html(policy: Policy, *, version: int | None = None, updated: dt.date | None = None) -> str:
    """The notice as a complete, self-contained HTML5 page: inline CSS, no script, no external resource."""
    document = build_notice(policy, version=version, updated=updated)
    article = _html_env().get_template("article.html").render(doc=document)
    return _html_env().get_template("page.html").render(doc=document, article=Markup(article))  # noqa: S704


def render_html_article(policy: Policy, *, version: int | None = None, updated: dt.date | None = None) -> str:
    """The notice's `<article>` alone (it holds the page's h1), to embed in a site layout styled by `notice_css`."""
    return _html_env().get_template("article.html").render(doc=build_notice(policy, version=version, updated=updated))


def render_cookie_table_html(policy: Policy) -> str:
    """The cookie table alone (CK-4): name, category, purpose, lifetime and party of every declared cookie."""
    return _html_env().get_template("table.html").render(table=cookie_table(policy))


def render_ropa(policy: Policy) -> str:
    """The record of processing activities as Markdown: controller, activities, transfers, recipients, holds."""
    return _markdown(build_ropa(policy))


def notice_css() -> str:
    """The stylesheet the full page inlines, for a site that embeds `render_html_article`."""
    return _html_env().get_template("notice.css").render()


def render(policy: Policy, fmt: str, *, version: int | None = None, updated: dt.date | None = None) -> str:
    """Render in one of `FORMATS`; the CLI's entry point."""
    if fmt == "md":
        return render_markdown(policy, version=version, updated=updated)
    if fmt == "html":
        return render_html(policy, version=version, updated=updated)
    if fmt == "ropa":
        return render_ropa(policy)
    if fmt == "ropa-csv":
        return render_ropa_csv(policy)
    raise ValueError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")


# --- Markdown ----------------------------------------------------------------------------------

# Characters that can open or close markup anywhere in a line (emphasis, code, links, raw HTML, entities,
# tables, strikethrough, maths); each is escaped with a backslash, which CommonMark allows for any of them.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~$])")
# What turns the start of a line into a heading, list item, quote, rule or setext underline.
_MD_LINE_START = re.compile(r"^(\d+)([.)])|^([#+=-])")
# Link targets keep their structure but lose what would end or break a Markdown link.
_HREF_SAFE = ":/?#@!$&'*+,;=%~-._"
_BLANK_RUNS = re.compile(r"\n{3,}")
_SPACE = re.compile(r"\s+")


def md_escape(text: str) -> str:
    """Text that Markdown shows literally, wherever it stands in a line (on one line: newlines become spaces)."""
    text = _MD_SPECIAL.sub(r"\\\1", _SPACE.sub(" ", text))
    return _MD_LINE_START.sub(lambda m: f"{m[1]}\\{m[2]}" if m[1] else f"\\{m[3]}", text, count=1)


def md_inline(spans: Inline) -> str:
    out = []
    for i, span in enumerate(spans):
        text = md_escape(span.text) if i == 0 else _MD_SPECIAL.sub(r"\\\1", span.text)
        if span.kind == "strong":
            stripped = text.strip()
            # Emphasis cannot start or end with a space: keep the spaces outside the markers.
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            out.append(f"{lead}**{stripped}**{trail}" if stripped else text)
        elif span.kind == "link" and span.href:
            out.append(f"[{text}]({quote(span.href, safe=_HREF_SAFE)})")
        else:
            out.append(text)
    return "".join(out)


def _markdown(document: Document) -> str:
    text = _md_env().get_template("document.md.j2").render(doc=document)
    return _BLANK_RUNS.sub("\n\n", text).strip() + "\n"


@cache
def _md_env() -> Environment:
    env = Environment(
        loader=PackageLoader("vowkeep.policy", "templates"),
        autoescape=False,  # noqa: S701 — Markdown output; every value passes the `md` or `inline` filter
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md_escape, inline=md_inline, long_date=long_date)
    return env


# --- HTML --------------------------------------------------------------------------------------


def html_inline(spans: Inline) -> Markup:
    out = []
    for span in spans:
        if span.kind == "strong":
            out.append(Markup("<strong>{}</strong>").format(span.text))
        elif span.kind == "link" and span.href:
            out.append(Markup('<a href="{}">{}</a>').format(span.href, span.text))
        else:
            out.append(escape(span.text))
    return Markup("").join(out)


@cache
def _html_env() -> Environment:
    env = Environment(
        loader=PackageLoader("vowkeep.policy", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(inline=html_inline, long_date=long_date)
    return env
