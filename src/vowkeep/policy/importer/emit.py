"""Writing the draft as YAML text, with each comment right above the rule it explains.

PyYAML cannot write comments, so the draft is built as a small tree (`Map`, `Seq`, scalars) whose entries carry
their comments, and written here: block style for sections, flow style (`[a, b]`, `{key: …, label: …}`) for
short lists and small items, every string quoted unless it is a plain word or key. The output depends only on the
tree, so the same policy text always gives the same draft.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
from dataclasses import dataclass, field

WIDTH = 118
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_./@+-]*")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


@dataclass
class Entry:
    key: str
    value: object
    comments: list[str] = field(default_factory=list)


@dataclass
class Map:
    entries: list[Entry] = field(default_factory=list)
    flow: bool = False

    def add(self, key: str, value, *comments: str | None) -> Map:
        self.entries.append(Entry(key, value, [c for c in comments if c]))
        return self


@dataclass
class Item:
    value: object
    comments: list[str] = field(default_factory=list)


@dataclass
class Seq:
    items: list[Item] = field(default_factory=list)
    flow: bool = False

    def add(self, value, *comments: str | None) -> Seq:
        self.items.append(Item(value, [c for c in comments if c]))
        return self


def scalar(value) -> str:
    """A YAML scalar: plain when safe, else a double-quoted (JSON) string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None:
        return "null"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(value) -> str | None:
    """The value in flow style, or None if it holds something that cannot be (a comment, a nested block)."""
    if isinstance(value, Seq):
        if any(item.comments for item in value.items):
            return None
        parts = [_flow(item.value) for item in value.items]
        return None if None in parts else "[" + ", ".join(parts) + "]"
    if isinstance(value, Map):
        if any(entry.comments for entry in value.entries):
            return None
        parts = [(entry.key, _flow(entry.value)) for entry in value.entries]
        return None if any(p is None for _, p in parts) else "{" + ", ".join(f"{k}: {v}" for k, v in parts) + "}"
    return scalar(value)


def comment_lines(text: str, indent: int) -> list[str]:
    """`# …` lines wrapped to the page width at `indent`."""
    pad = " " * indent
    lines = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(
            paragraph, width=max(40, WIDTH - indent - 2), break_long_words=False, break_on_hyphens=False
        )
        lines.extend(f"{pad}# {line}" for line in wrapped or [""])
    return lines


def _short_enough(prefix: str, flow: str) -> bool:
    return len(prefix) + len(flow) <= WIDTH


def _block(value, indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    if isinstance(value, Map):
        for entry in value.entries:
            for comment in entry.comments:
                out.extend(comment_lines(comment, indent))
            out.extend(_entry(entry.key, entry.value, indent))
        return out
    if isinstance(value, Seq):
        for item in value.items:
            for comment in item.comments:
                out.extend(comment_lines(comment, indent))
            flow = _flow(item.value)
            small = not isinstance(item.value, Map) or item.value.flow or not item.value.entries
            if flow is not None and small and _short_enough(pad + "- ", flow):
                out.append(f"{pad}- {flow}")
                continue
            if isinstance(item.value, Map) and item.value.entries:
                inner = _block(item.value, indent + 2)
                first = next(i for i, line in enumerate(inner) if not line.lstrip().startswith("#"))
                # The first key sits on the dash line; comments above it move above the dash.
                out.extend(line[2:] if i < first else line for i, line in enumerate(inner[:first]))
                out.append(f"{pad}- {inner[first].lstrip()}")
                out.extend(inner[first + 1 :])
            else:
                out.extend(_entry("-", item.value, indent, dash=True))
        return out
    raise TypeError(f"not a block: {type(value).__name__}")


def _entry(key: str, value, indent: int, dash: bool = False) -> list[str]:
    pad = " " * indent
    head = f"{pad}{key}" if dash else f"{pad}{key}:"
    if isinstance(value, Map | Seq):
        if not (value.entries if isinstance(value, Map) else value.items):
            return [f"{head} {'{}' if isinstance(value, Map) else '[]'}"]
        flow = _flow(value)
        if flow is not None and (value.flow or isinstance(value, Seq)) and _short_enough(head + " ", flow):
            return [f"{head} {flow}"]
        return [head, *_block(value, indent + 2)]
    text = scalar(value)
    if len(head) + 1 + len(text) > WIDTH and isinstance(value, str) and " " in value:
        # A long text is folded (`>-`), which reads back as the same single line.
        lines = textwrap.wrap(value, width=WIDTH - indent - 2, break_long_words=False, break_on_hyphens=False)
        if all(line == line.strip() and not line.startswith(("#", "-")) for line in lines):
            return [f"{head} >-", *(f"{pad}  {line}" for line in lines)]
    return [f"{head} {text}"]


def dump(document: Map, *, header: list[str] = (), footer: list[str] = ()) -> str:
    """The YAML text of a document tree, with header and footer comment blocks."""
    lines: list[str] = []
    for text in header:
        lines.extend(comment_lines(text, 0))
    for entry in document.entries:
        if lines and (isinstance(entry.value, Map | Seq) or entry.comments):
            lines.append("")
        for comment in entry.comments:
            lines.extend(comment_lines(comment, 0))
        lines.extend(_entry(entry.key, entry.value, 0))
    if footer:
        lines.append("")
        for text in footer:
            lines.extend(comment_lines(text, 0))
    return "\n".join(lines) + "\n"
