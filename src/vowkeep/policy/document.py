"""The format-neutral shape of a rendered notice: sections of paragraphs, lists and tables of inline spans.

The notice and the record of processing are built once as a `Document`; the Markdown and HTML templates
only lay it out, so the two formats always say the same thing. Text here is plain and unescaped: each
format escapes it as it writes it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Literal

_SPACE = re.compile(r"\s+")
# Link targets a declaration may give; anything else (javascript:, data:…) is shown as text, never linked.
_SAFE_HREF = re.compile(r"^(https?://|mailto:|tel:|#)", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A run of inline text: plain, strong, or a link."""

    text: str
    kind: Literal["text", "strong", "link"] = "text"
    href: str | None = None


Inline = tuple[Span, ...]


def inline(*parts: str | Span | None) -> Inline:
    """Spans from strings (plain text) and spans; whitespace collapsed, empty parts dropped."""
    spans = []
    for part in parts:
        if part is None:
            continue
        span = Span(part) if isinstance(part, str) else part
        text = _SPACE.sub(" ", span.text)
        if text:
            spans.append(Span(text, span.kind, span.href))
    return tuple(spans)


def strong(text: str) -> Span:
    return Span(text, "strong")


def link(text: str, href: str | None) -> Span:
    """A link, or plain text when the target is missing or not a safe scheme."""
    if href and _SAFE_HREF.match(href.strip()):
        return Span(text, "link", href.strip())
    return Span(text)


def plain_text(spans: Inline) -> str:
    """The words of an inline run without any markup."""
    return "".join(span.text for span in spans)


@dataclass
class Paragraph:
    spans: Inline
    kind: Literal["paragraph"] = "paragraph"


@dataclass
class Subheading:
    text: str
    kind: Literal["subheading"] = "subheading"


@dataclass
class ItemList:
    items: list[Inline]
    ordered: bool = False
    kind: Literal["list"] = "list"


@dataclass
class Table:
    """A table whose first column names each row (a cookie, a purpose, a recipient)."""

    id: str
    caption: str
    headers: list[str]
    rows: list[list[Inline]]
    kind: Literal["table"] = "table"


Block = Paragraph | Subheading | ItemList | Table


@dataclass
class Section:
    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    title: str
    updated: dt.date | None = None
    version: int | None = None
    intro: list[Block] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    contents: bool = True

    @property
    def section_ids(self) -> list[str]:
        return [s.id for s in self.sections]


_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(day: dt.date) -> str:
    """`September 4, 2018`, whatever the machine's locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def join_words(words: list[str], last: str = "and") -> str:
    """`a`, `a and b`, `a, b and c`; with `;` between items when an item holds a comma itself."""
    words = [w for w in words if w]
    if len(words) <= 1:
        return "".join(words)
    if any("," in w for w in words):
        return "; ".join(words[:-1]) + f"; {last} " + words[-1]
    return ", ".join(words[:-1]) + f" {last} " + words[-1]
