"""Problems found in a declaration, each pointing at a YAML path and, where known, its line."""

from __future__ import annotations

from dataclasses import dataclass, field

Path = tuple[str | int, ...]


def format_path(path: Path) -> str:
    """`('purposes', 2, 'categories', 0)` → `purposes[2].categories[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


@dataclass
class Problem:
    path: Path
    message: str
    line: int | None = None
    severity: str = "error"
    rule: str = ""

    def format(self, source: str | None = None) -> str:
        where = f"{source}:{self.line}: " if source and self.line else (f"{source}: " if source else "")
        if not source and self.line:
            where = f"line {self.line}: "
        return f"{where}{format_path(self.path)}: {self.message}"

    def as_dict(self) -> dict:
        return {
            "path": format_path(self.path),
            "line": self.line,
            "severity": self.severity,
            "rule": self.rule,
            "message": self.message,
        }


@dataclass
class PolicyError(Exception):
    """A declaration that cannot be used; `problems` says every reason found."""

    problems: list[Problem] = field(default_factory=list)
    source: str | None = None

    def __str__(self) -> str:
        return "\n".join(p.format(self.source) for p in self.problems)
