"""Loading a declaration from YAML, with errors that name the YAML path and line.

Whatever the input — broken YAML, wrong types, an empty file, binary junk — the result is either a
`Policy` or a `PolicyError` listing clean problems; never a traceback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path as FsPath

import yaml
from pydantic import ValidationError

from vowkeep.policy.errors import Path, PolicyError, Problem
from vowkeep.policy.model import Policy
from vowkeep.policy.references import check_references
from vowkeep.policy.taxonomy import did_you_mean

MAX_BYTES = 2 * 1024 * 1024


@dataclass
class LoadedPolicy:
    """A validated declaration with the text it came from and where each YAML path sits in it."""

    policy: Policy
    text: str
    source: str
    lines: dict[Path, int] = field(default_factory=dict, repr=False)

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def line_for(self, path: Path) -> int | None:
        """The line of `path`, or of its deepest part the YAML spells out (defaults have no line)."""
        return line_for(path, self.lines)

    def locate(self, problems: Iterable[Problem]) -> None:
        """Give each problem that has no line the line of its path."""
        for problem in problems:
            if problem.line is None:
                problem.line = self.line_for(problem.path)


def load_file(path: str | FsPath) -> LoadedPolicy:
    """Read and validate a declaration file."""
    source = str(path)
    try:
        raw = FsPath(path).read_bytes()
    except FileNotFoundError:
        raise PolicyError([Problem((), "file not found")], source) from None
    except IsADirectoryError:
        raise PolicyError([Problem((), "is a directory, not a declaration file")], source) from None
    except OSError as exc:
        raise PolicyError([Problem((), f"cannot be read: {exc.strerror}")], source) from None
    return load_bytes(raw, source)


def load_bytes(raw: bytes, source: str = "<declaration>") -> LoadedPolicy:
    """Decode and validate a declaration given as bytes."""
    if len(raw) > MAX_BYTES:
        raise PolicyError([Problem((), f"is larger than {MAX_BYTES // 1024} KiB; not a declaration")], source)
    if b"\x00" in raw:
        raise PolicyError([Problem((), "contains NUL bytes; a declaration is a UTF-8 YAML text file")], source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(
            [Problem((), f"is not UTF-8 text (bad byte at offset {exc.start}); a declaration is YAML")], source
        ) from None
    return load_text(text, source)


def load_text(text: str, source: str = "<declaration>") -> LoadedPolicy:
    """Validate a declaration given as YAML text."""
    data, lines = _parse_yaml(text, source)
    if data is None:
        raise PolicyError([Problem((), "is empty; a declaration starts with `organization:`")], source)
    if not isinstance(data, dict):
        raise PolicyError(
            [Problem((), f"must be a YAML mapping of sections, not a {_yaml_kind(data)}", line=lines.get(()))],
            source,
        )
    try:
        policy = Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_from_validation(exc, lines), source) from None
    problems = check_references(policy)
    if problems:
        for problem in problems:
            problem.line = line_for(problem.path, lines)
        raise PolicyError(problems, source)
    return LoadedPolicy(policy=policy, text=text, source=source, lines=lines)


def _yaml_kind(value) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean"}.get(
        type(value), type(value).__name__
    )


# libyaml's parser when PyYAML was built with it (its wheels are): several times faster than the pure-Python one,
# which took a quarter of a second per declaration, paid by `policy check`, every start-up and every test instance.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_yaml(text: str, source: str) -> tuple[object, dict[Path, int]]:
    """YAML → (data, {path: line}); duplicate keys are errors rather than silently overwritten."""
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, {}
            lines: dict[Path, int] = {}
            duplicates: list[Problem] = []
            _index_lines(node, (), lines, duplicates, set())
            if duplicates:
                raise PolicyError(duplicates, source)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or exc.context or "malformed YAML"
        raise PolicyError([Problem((), f"is not valid YAML: {what}", line=line)], source) from None
    except yaml.YAMLError as exc:
        raise PolicyError([Problem((), f"is not valid YAML: {exc}")], source) from None
    except RecursionError:
        raise PolicyError([Problem((), "is nested too deeply to be a declaration")], source) from None
    return data, lines


def _index_lines(node, path: Path, lines: dict, duplicates: list, seen: set) -> None:
    # Aliases reuse nodes; visiting each node once keeps a "billion laughs" document cheap.
    if id(node) in seen:
        return
    seen.add(id(node))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        keys: set = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else repr(key_node.value)
            if key in keys:
                duplicates.append(
                    Problem((*path, key), "is given twice in the same mapping", line=key_node.start_mark.line + 1)
                )
            keys.add(key)
            lines.setdefault((*path, key), key_node.start_mark.line + 1)
            _index_lines(value_node, (*path, key), lines, duplicates, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, (*path, i), lines, duplicates, seen)


def line_for(path: Path, lines: Mapping[Path, int]) -> int | None:
    """The line of the deepest part of `path` that the YAML has."""
    for end in range(len(path), -1, -1):
        line = lines.get(tuple(path[:end]))
        if line is not None:
            return line
    return None


def _from_validation(exc: ValidationError, lines: dict[Path, int]) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        path = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        problems.append(Problem(path, _message(error, path), line=line_for(path, lines)))
    return problems


def _message(error: dict, path: Path) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(path[:-1])
        hint = did_you_mean(str(path[-1]), allowed) if allowed else ""
        return f"unknown key '{path[-1]}'{hint}"
    if kind == "missing":
        return "is required"
    if kind == "literal_error" and path == ("vowkeep",):
        return "unsupported declaration schema version; this vowkeep reads `vowkeep: 1`"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if message.startswith(prefix):
            message = message[len(prefix) :]
    if kind == "enum":
        hint = did_you_mean(str(error.get("input")), _enum_choices(error))
        message = f"'{error.get('input')}' is not allowed: {message.lower()}{hint}"
    elif kind == "string_pattern_mismatch" and "pattern" in error.get("ctx", {}):
        message = f"'{error.get('input')}' is not a valid key: use lower-case letters, digits and underscores"
    return message


def _enum_choices(error: dict) -> list[str]:
    expected = error.get("ctx", {}).get("expected", "")
    return [part.strip(" '") for part in expected.replace(" or ", ",").split(",") if part.strip(" '")]


def _allowed_keys(path: Path) -> list[str]:
    """Field names of the model found at `path`, for `did you mean` on unknown keys."""
    model = Policy
    for part in path:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return list(model.model_fields)


def _model_of(annotation):
    from typing import get_args

    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
