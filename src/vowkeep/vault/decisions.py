"""Decisions of the gate: allow or deny, always with the rule that decided.

`decide_declared` answers the part that depends only on the declaration — the purpose declares the categories,
the actor may serve the purpose, financial data only completes transactions, the recipient is declared for
them — so it can be cached per (declaration, actor, purpose, categories, recipient). The subject's state, holds
and consent are checked per call by the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from vowkeep.policy.model import Policy
from vowkeep.policy.taxonomy import TRANSACTION_DATA_USE, covers, is_financial
from vowkeep.vault.actors import Actor, ActorKind

# Built-in purpose: serving a data-subject request (access, rectification, erasure, portability). Every
# declaration implies it; it covers every category and only the subject, the system and reviewers serve it.
SUBJECT_RIGHTS = "subject_rights"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule: str
    reason: str
    categories: tuple[str, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {"allowed": self.allowed, "rule": self.rule, "reason": self.reason, "categories": list(self.categories)}


class GateDenied(Exception):
    """The gate refused: `decision.rule` names the rule, `decision.reason` says why, without any value."""

    def __init__(self, decision: Decision):
        super().__init__(decision.reason)
        self.decision = decision

    @property
    def rule(self) -> str:
        return self.decision.rule


def allow(categories=()) -> Decision:
    return Decision(True, "allowed", "allowed by the declaration", tuple(categories))


def deny(rule: str, reason: str, categories=()) -> Decision:
    return Decision(False, rule, reason, tuple(categories))


def actor_may_serve(policy: Policy, actor: Actor, purpose: str) -> Decision | None:
    """None if the actor may serve the purpose, else the denial (USE-5, SEC-2)."""
    if actor.kind == ActorKind.system:
        return None
    if actor.kind == ActorKind.subject:
        if purpose != SUBJECT_RIGHTS:
            return deny("subject-own-rights", "a subject reads their own data only through their rights")
        return None
    if actor.kind == ActorKind.operator:
        role = policy.role_by_key.get(actor.role or "")
        if role is None:
            return deny("unknown-role", f"role '{actor.role}' is not declared")
        if purpose == SUBJECT_RIGHTS:
            if "review_requests" in role.permissions:
                return None
            return deny("role-purpose", f"role '{role.key}' does not review rights requests")
        if purpose not in role.purposes:
            return deny("role-purpose", f"role '{role.key}' may not serve purpose '{purpose}'")
        return None
    if actor.kind == ActorKind.service:
        if "*" in actor.scopes or f"purpose:{purpose}" in actor.scopes:
            return None
        return deny("api-key-scope", f"this API key has no scope for purpose '{purpose}'")
    return deny("actor-kind", f"a {actor.kind.value} cannot read data directly")


def decide_declared(
    policy: Policy,
    actor: Actor,
    purpose: str,
    categories: tuple[str, ...],
    recipient: str | None = None,
) -> Decision:
    """The declaration's answer for (actor, purpose, categories[, recipient]) — USE-1, USE-2, USE-5, SHR-1, SHR-3."""
    if purpose != SUBJECT_RIGHTS:
        declared = policy.purpose_by_key.get(purpose)
        if declared is None:
            return deny("unknown-purpose", f"purpose '{purpose}' is not declared", categories)
        undeclared = [c for c in categories if not any(covers(d, c) for d in declared.categories)]
        if undeclared:
            return deny(
                "purpose-category",
                f"purpose '{purpose}' does not declare {', '.join(sorted(undeclared))}",
                categories,
            )
        financial = [c for c in categories if is_financial(c)]
        if financial and declared.data_use != TRANSACTION_DATA_USE:
            return deny(
                "financial-transaction-only",
                f"financial data ({', '.join(sorted(financial))}) is used only to complete a transaction",
                categories,
            )
    refused = actor_may_serve(policy, actor, purpose)
    if refused is not None:
        return deny(refused.rule, refused.reason, categories)
    if recipient is not None:
        return decide_recipient(policy, recipient, purpose, categories)
    return allow(categories)


def decide_recipient(policy: Policy, recipient_key: str, purpose: str, categories: tuple[str, ...]) -> Decision:
    """Whether data of `categories` may go to a recipient for `purpose` (SHR-1, SHR-3, SHR-5)."""
    recipient = policy.recipient_by_key.get(recipient_key)
    if recipient is None:
        return deny("recipient-undeclared", f"recipient '{recipient_key}' is not declared", categories)
    if recipient.aggregate_only is not None:
        return deny(
            "aggregate-only",
            f"recipient '{recipient_key}' receives aggregate reports only, never row-level data",
            categories,
        )
    if policy.limits.never_sell and (recipient.pays_for_data or recipient.own_promotions):
        return deny("never-sell", f"the declaration forbids selling data, and '{recipient_key}' buys it", categories)
    if purpose not in recipient.purposes:
        return deny("recipient-purpose", f"recipient '{recipient_key}' is not declared for '{purpose}'", categories)
    outside = [c for c in categories if not any(covers(d, c) for d in recipient.categories)]
    if outside:
        return deny(
            "recipient-category",
            f"recipient '{recipient_key}' is not declared to receive {', '.join(sorted(outside))}",
            categories,
        )
    return allow(categories)
