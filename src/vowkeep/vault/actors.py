"""Who asks: every call to the gate names an actor."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ActorKind(StrEnum):
    operator = "operator"  # a person signed in to the console, with a role from the declaration
    service = "service"  # a program holding a scoped API key
    subject = "subject"  # the person the data is about, verified
    agent = "agent"  # an authorized agent acting for a subject (Data Rights Protocol)
    system = "system"  # vowkeep itself: workers, the sweeper, request fulfilment


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    id: str
    role: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def label(self) -> str:
        """How the actor appears in the audit log: `operator:alice`, `service:shop-backend`."""
        return f"{self.kind.value}:{self.id}"

    @classmethod
    def system(cls, job: str) -> Actor:
        return cls(ActorKind.system, job)

    @classmethod
    def subject(cls, subject_id: str) -> Actor:
        return cls(ActorKind.subject, subject_id)
