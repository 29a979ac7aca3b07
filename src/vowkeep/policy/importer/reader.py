"""Reading a policy — plain text, Markdown or HTML — into blocks: headings, paragraphs and list items.

HTML is reduced with the standard library's `html.parser` (scripts, styles and navigation are dropped, block
elements become blocks, `h1`–`h6` headings, `li` list items). Markdown keeps its headings (`#`, a line that is
all bold) and list items (`-`, `*`, `1.`), and loses its emphasis and link targets. Plain text has no markup,
so a short line without a full stop ("What data can be disclosed", "COOKIES", "Your Choices:") is read as a
heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from vowkeep.policy.importer.errors import PolicyImportError

MAX_BYTES = 2 * 1024 * 1024

HEADING = "heading"
PARAGRAPH = "paragraph"
ITEM = "item"


@dataclass(frozen=True)
class Block:
    """A heading, a paragraph or a list item, as plain text on one line."""

    kind: str
    text: str


def decode(raw: bytes, source: str) -> str:
    """Bytes → text; refuses what is not a text file rather than drafting from junk."""
    if len(raw) > MAX_BYTES:
        raise PolicyImportError(f"is larger than {MAX_BYTES // 1024} KiB; not a privacy policy", source)
    if b"\x00" in raw:
        raise PolicyImportError("contains NUL bytes; give a policy as UTF-8 text, Markdown or HTML", source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PolicyImportError(
            f"is not UTF-8 text (bad byte at offset {exc.start}); give a policy as UTF-8 text, Markdown or HTML",
            source,
        ) from None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\n\r\f")
    if controls > max(8, len(text) // 100):
        raise PolicyImportError("looks like a binary file, not a policy text", source)
    return text


_HTML_HINT = re.compile(r"<(?:!doctype\s+html|html|body|p|div|h[1-6]|ul|ol|li|br|table|section|article)\b", re.I)


def is_html(text: str) -> bool:
    return bool(_HTML_HINT.search(text[:20000]))


# What YAML cannot hold (its printable set, YAML 1.1 §5.1): the draft quotes every sentence in a comment, so a stray
# control character in the text (or a character reference such as `&#27;` in HTML) must not reach it.
_UNPRINTABLE = re.compile(r"[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def read_blocks(text: str) -> list[Block]:
    """The blocks of a policy text in reading order, whatever its format."""
    blocks = _html_blocks(text) if is_html(text) else _text_blocks(text)
    cleaned = (Block(b.kind, _UNPRINTABLE.sub("", b.text).strip()) for b in blocks)
    return [b for b in cleaned if b.text]


# --- HTML -----------------------------------------------------------------------------------------------------

_SKIP = {"script", "style", "noscript", "template", "head", "nav", "svg", "button", "select", "form"}
_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "main", "aside", "br", "tr", "td", "th", "dt", "dd",
    "blockquote", "pre", "table", "ul", "ol", "dl", "hr", "figure", "figcaption", "address", "body", "html",
}  # fmt: skip
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.buffer: list[str] = []
        self.kind = PARAGRAPH
        self.skipping: list[str] = []

    def flush(self, next_kind: str = PARAGRAPH) -> None:
        text = _clean(" ".join(self.buffer))
        if text:
            self.blocks.append(Block(self.kind, text))
        self.buffer = []
        self.kind = next_kind

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            if tag == self.skipping[-1] and tag not in ("br", "hr"):
                self.skipping.append(tag)
            return
        if tag in _SKIP:
            self.skipping.append(tag)
        elif tag in _HEADINGS:
            self.flush(HEADING)
        elif tag == "li":
            self.flush(ITEM)
        elif tag in _BLOCK:
            # A break inside a list item or heading continues it; elsewhere it ends the paragraph.
            self.flush(self.kind if tag == "br" else PARAGRAPH)

    def handle_endtag(self, tag):
        if self.skipping:
            if tag == self.skipping[-1]:
                self.skipping.pop()
            return
        if tag in _HEADINGS or tag == "li" or tag in _BLOCK:
            self.flush()

    def handle_data(self, data):
        if not self.skipping:
            self.buffer.append(data)


def _html_blocks(text: str) -> list[Block]:
    parser = _Html()
    parser.feed(text)
    parser.close()
    parser.flush()
    return parser.blocks


# --- Markdown and plain text ------------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*$")
_ITEM = re.compile(r"^(?:[-*+•·▪◦]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+(.*)$")
_LONE_BULLET = re.compile(r"^[-*+•·▪◦]$")
_RULE = re.compile(r"^(?:[-*_=]\s*){3,}$")
_LINK = re.compile(r"!?\[([^\]]*)\]\(([^)\s]*)[^)]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{2,3})(?=\S)(.+?)(?<=\S)\1|(?<!\w)(_)(?=\S)(.+?)(?<=\S)_(?!\w)")
_BOLD_LINE = re.compile(r"^\*{2,3}([^*]+?)\*{2,3}$")


def _clean(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"(?<=\w) (?=[.,;:!?](?:\s|$))", "", text)


def _inline(text: str) -> str:
    """Markdown inline markup → plain text: link texts kept, emphasis dropped."""
    text = _LINK.sub(lambda m: m.group(1) or m.group(2), text)
    for _ in range(2):
        text = _EMPHASIS.sub(lambda m: m.group(2) if m.group(1) else m.group(4), text)
    text = text.replace("\\", "")
    return _clean(text.replace("**", "").strip("*"))


def _title_ratio(text: str) -> float:
    words = [w for w in re.findall(r"[A-Za-z][A-Za-z'’-]*", text)]
    if not words:
        return 0.0
    small = {"a", "an", "the", "of", "and", "or", "to", "in", "on", "for", "with", "at", "by", "we", "do", "is"}
    counted = [w for w in words if w.lower() not in small] or words
    return sum(1 for w in counted if w[0].isupper()) / len(counted)


def looks_like_heading(text: str) -> bool:
    """A short line that does not read as a sentence: a question, a title, a label ending with a colon."""
    words = text.split()
    if not words or len(words) > 15 or re.search(r"https?://|www\.|@|\d{4}", text):
        return False
    if text.endswith("?"):
        return True
    if text.endswith(":"):
        return _title_ratio(text) >= 0.6
    if text[-1] in '.;,!)”"':
        return False
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return True
    return len(words) <= 10


def _text_blocks(text: str) -> list[Block]:
    blocks: list[Block] = []
    pending_item = False
    for raw_line in text.splitlines():
        indented = raw_line[:1] in (" ", "\t")
        line = raw_line.strip().lstrip(">").strip()
        if not line or _RULE.match(line):
            pending_item = False if not line else pending_item
            if not line and blocks and blocks[-1].kind != HEADING:
                blocks.append(Block(PARAGRAPH, ""))  # a blank line ends a paragraph
            continue
        if _LONE_BULLET.match(line):
            pending_item = True
            continue
        if match := _MD_HEADING.match(line):
            blocks.append(Block(HEADING, _inline(match.group(1))))
            pending_item = False
            continue
        if match := _ITEM.match(line):
            content = _inline(match.group(1))
            blocks.append(Block(_item_or_heading(content), content))
            pending_item = False
            continue
        bold = _BOLD_LINE.match(line)
        content = _inline(line)
        if not content:
            continue
        if pending_item:
            blocks.append(Block(ITEM, content))
            pending_item = False
        elif bold:
            # A line all in bold is a heading, or the lead-in of a list when it ends with a colon.
            blocks.append(Block(PARAGRAPH if content.endswith(":") else HEADING, content))
        elif blocks and _continues(blocks[-1], content, indented):
            last = blocks.pop()
            blocks.append(Block(last.kind, f"{last.text} {content}"))
        elif (looks_like_heading(content) and not content.endswith(":")) or _is_title_colon(content):
            blocks.append(Block(HEADING, content.rstrip(":")))
        else:
            blocks.append(Block(PARAGRAPH, content))
    return [b for b in blocks if b.text]


def _is_title_colon(text: str) -> bool:
    return text.endswith(":") and looks_like_heading(text)


def _item_or_heading(text: str) -> str:
    """`1. WHAT INFORMATION DO WE COLLECT?` is a numbered heading, not a list item."""
    letters = [c for c in text if c.isalpha()]
    if letters and all(c.isupper() for c in letters) and len(text.split()) <= 15:
        return HEADING
    return ITEM


def _continues(previous: Block, text: str, indented: bool) -> bool:
    """A hard-wrapped line continues the block before it (a paragraph, or an indented item line)."""
    if not previous.text or previous.kind == HEADING:
        return False
    if previous.kind == ITEM and not indented and not text[:1].islower():
        return False
    ended = previous.text.endswith((".", "!", "?", ":", ";"))
    return (not ended and (text[:1].islower() or len(previous.text) > 60)) or (indented and previous.kind == ITEM)
