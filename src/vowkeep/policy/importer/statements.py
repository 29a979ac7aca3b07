"""Splitting blocks into statements: sentences of paragraphs and list items, each with its context.

A statement remembers the heading of its section, an inline label that opens its paragraph ("Payment Data.",
"Client Data:"), and, for a list item, the sentence that introduced the list ("We use your personal information
to:"), because "Email address." means nothing without "We may collect the following information:".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from vowkeep.policy.importer.reader import HEADING, ITEM, Block

# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "ltd", "inc", "co", "corp", "mr", "mrs", "ms", "dr", "st", "no", "vs", "approx", "pvt",
    "u.s", "u.k", "jr", "sr", "fig", "art", "sec", "para", "viz", "cf", "al",
}  # fmt: skip
_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"“'‘(\[]?[A-Z0-9])")
_LABEL = re.compile(
    r"^((?:[A-Z][\w'’&/-]*|and|or|of|the|to|with|from|for)(?:\s+(?:[A-Z][\w'’&/-]*|and|or|of|the|to|with|from|for)){0,5})[.:]\s+(?=\S)"
)
_TERMINAL_LABEL = re.compile(r"^[A-Z][\w'’&/ -]{0,60}[.:]$")


@dataclass(eq=False)
class Statement:
    """One sentence or list item of the policy, with where it sits."""

    index: int
    text: str
    kind: str  # "sentence" or "item"
    section: str | None = None
    label: str | None = None
    lead: str | None = None
    cls: str = "other"
    confidence: float = 0.0
    rules: list[str] = field(default_factory=list)

    @property
    def context(self) -> str:
        """What frames the statement: its section heading, its label and the lead-in of its list."""
        return " ".join(part for part in (self.section, self.label, self.lead) if part)

    def add_rule(self, rule: str) -> None:
        if rule not in self.rules:
            self.rules.append(rule)


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph; abbreviations (e.g., Ltd., etc.) and decimals do not end one."""
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()].rstrip("\"'”’)")
        word = re.search(r"([\w.]+)\.$", before)
        if word and (word.group(1).lower() in _ABBREVIATIONS or len(word.group(1)) == 1):
            continue
        sentence = text[start : match.start()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


def split_statements(blocks: list[Block]) -> list[Statement]:
    """Statements in reading order; headings become the `section` of what follows them."""
    statements: list[Statement] = []
    section: str | None = None
    lead: str | None = None
    for block in blocks:
        if block.kind == HEADING:
            section, lead = block.text.rstrip(":"), None
            continue
        text, label = _label(block.text)
        sentences = split_sentences(text)
        if block.kind != ITEM:
            # A paragraph that ends with a colon, or stops mid-sentence ("information may be shared with"),
            # introduces the list that follows it.
            lead = sentences[-1] if sentences and not sentences[-1].endswith((".", "!", "?")) else None
        for sentence in sentences:
            if not re.search(r"[A-Za-z]{2}", sentence):
                continue
            statements.append(
                Statement(
                    index=len(statements),
                    text=sentence,
                    kind="item" if block.kind == ITEM else "sentence",
                    section=section,
                    label=label,
                    lead=lead if block.kind == ITEM else None,
                )
            )
    return statements


def _label(text: str) -> tuple[str, str | None]:
    """`Payment Data. We collect…` → (`We collect…`, `Payment Data`): a short title opening a paragraph."""
    match = _LABEL.match(text)
    if match and len(match.group(1).split()) <= 6 and match.group(1)[0].isupper():
        rest = text[match.end() :]
        # Only a label if what follows is a sentence of its own, and the label is not a sentence's subject.
        if rest[:1].isupper() and not _TERMINAL_LABEL.match(text):
            return rest, match.group(1)
    return text, None
