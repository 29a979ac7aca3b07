"""The one error a user can cause when importing: an input that is not a policy text."""

from __future__ import annotations


class PolicyImportError(Exception):
    """The input cannot be read as a policy text; `message` says why, without quoting its content."""

    def __init__(self, message: str, source: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.source = source

    def __str__(self) -> str:
        return f"{self.source}: {self.message}" if self.source else self.message
