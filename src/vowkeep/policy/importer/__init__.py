"""`policy import` (TOOL-2): draft a declaration from a privacy policy's text, and say what it could not use.

The pipeline, one module per step:

    reader      text, Markdown or HTML → blocks (headings, paragraphs, list items)
    statements  blocks → statements (sentences and list items, with their heading and list lead-in)
    classify    statement → practice class (OPP-115 style) and a confidence, by weighted cue phrases
    lexicon     the vocabulary: phrases → fideslang categories, data uses, recipient kinds, rights…
    extract     statements → facts, each remembering the statement it came from
    draft       facts → the declaration tree, with a comment quoting the sentence behind each rule
    emit        the tree → YAML text

`import_text` runs them, and refuses to return a draft that `vowkeep policy check` would not accept.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from vowkeep.policy.importer.errors import PolicyImportError

__all__ = ["ImportResult", "PolicyImportError", "import_bytes", "import_file", "import_text"]


@dataclass
class ImportResult:
    """A draft declaration, the statements it was read from, and what is left for a person to do."""

    source: str
    text: str
    loaded: object  # LoadedPolicy: the draft, validated
    statements: list = field(default_factory=list)
    facts: object = None
    todos: list[str] = field(default_factory=list)

    @property
    def policy(self):
        return self.loaded.policy

    @property
    def unmatched(self) -> list:
        """Statements no rule was drawn from, for a person to finish the draft."""
        return [s for s in self.statements if not s.rules]

    @property
    def stated_periods(self) -> list[str]:
        """The retention periods the text states (not the placeholders), as ISO-8601 durations."""
        return self.facts.stated_periods

    def as_dict(self, *, include_draft: bool = True) -> dict:
        """The JSON report: every statement with its class, confidence and the rules drawn from it."""
        report = {
            "source": self.source,
            "organization": self.policy.organization.name,
            "statements": [
                {
                    "index": s.index,
                    "section": s.section,
                    "text": s.text,
                    "class": s.cls,
                    "confidence": s.confidence,
                    "rules": list(s.rules),
                }
                for s in self.statements
            ],
            "unmatched": [s.index for s in self.unmatched],
            "todo": list(self.todos),
            "counts": {
                "statements": len(self.statements),
                "with_rules": len(self.statements) - len(self.unmatched),
                "unmatched": len(self.unmatched),
                "todo": len(self.todos),
                "categories": len(self.policy.categories),
                "purposes": len(self.policy.purposes),
                "recipients": len(self.policy.recipients),
            },
        }
        if include_draft:
            report["draft"] = self.text
        return report


def import_text(text: str, source: str = "<policy>", *, today: dt.date | None = None) -> ImportResult:
    """Draft a declaration from a policy's text (plain, Markdown or HTML)."""
    from vowkeep.policy import PolicyError, load_text
    from vowkeep.policy.importer.classify import classify_all
    from vowkeep.policy.importer.draft import Builder
    from vowkeep.policy.importer.emit import dump
    from vowkeep.policy.importer.extract import Facts, extract, organization
    from vowkeep.policy.importer.reader import read_blocks
    from vowkeep.policy.importer.statements import split_statements

    statements = split_statements(read_blocks(text))
    if not statements:
        raise PolicyImportError("has no sentences to read; give the text of a privacy policy", source)
    facts = Facts()
    aliases = organization(statements, facts)
    classify_all(statements, aliases)
    extract(statements, facts, aliases)
    if today is None:
        from vowkeep import clock

        today = clock.now().date()
    builder = Builder(facts, statements, today)
    document = builder.build()
    name = Path(source).name if source and not source.startswith("<") else source
    header = [
        f"Draft declaration imported by `vowkeep policy import` from {name} (TOOL-2).",
        "Each rule sits under a comment quoting the sentence it was read from. `TODO(review):` marks a default "
        "chosen without evidence in the text: decide each one, then run `vowkeep policy check` and "
        "`vowkeep policy lint`.",
    ]
    footer = _footer(statements)
    draft = dump(document, header=header, footer=footer)
    try:
        loaded = load_text(draft, f"draft of {name}")
    except PolicyError as exc:  # a draft that does not check is a bug of the importer, not of the input
        raise RuntimeError(f"policy import produced an invalid draft for {name}:\n{exc}") from exc
    return ImportResult(
        source=source, text=draft, loaded=loaded, statements=statements, facts=facts, todos=builder.todos
    )


def _footer(statements) -> list[str]:
    left = [s for s in statements if not s.rules]
    if not left:
        return ["Every statement of the text was turned into a rule."]
    lines = [f"Statements not turned into rules ({len(left)}), with their class — finish the draft from these:"]
    for s in left:
        text = " ".join(s.text.split())
        if len(text) > 300:
            text = text[:299].rsplit(" ", 1)[0] + " …"
        lines.append(f"[{s.index}] {s.cls}: {text}")
    return lines


def import_bytes(raw: bytes, source: str = "<policy>", *, today: dt.date | None = None) -> ImportResult:
    """Decode a policy file's bytes (UTF-8 text, Markdown or HTML) and draft its declaration."""
    from vowkeep.policy.importer.reader import decode

    return import_text(decode(raw, source), source, today=today)


def import_file(path: str | Path, *, today: dt.date | None = None) -> ImportResult:
    """Read a policy file and draft its declaration; a missing or unreadable file is a `PolicyImportError`."""
    source = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise PolicyImportError("file not found", source) from None
    except IsADirectoryError:
        raise PolicyImportError("is a directory, not a policy text", source) from None
    except OSError as exc:
        raise PolicyImportError(f"cannot be read: {exc.strerror}", source) from None
    if not raw.strip():
        raise PolicyImportError("is empty; give the text of a privacy policy", source)
    return import_bytes(raw, source, today=today)
