"""The vault: keys, field encryption, blind indexes, the audit chain, and the gate over all personal data."""

from vowkeep.vault.actors import Actor, ActorKind
from vowkeep.vault.decisions import SUBJECT_RIGHTS, Decision, GateDenied
from vowkeep.vault.gate import CollectResult, ItemValue, PolicyState, SubjectNotFound, SubjectState, Vault

__all__ = [
    "SUBJECT_RIGHTS",
    "Actor",
    "ActorKind",
    "CollectResult",
    "Decision",
    "GateDenied",
    "ItemValue",
    "PolicyState",
    "SubjectNotFound",
    "SubjectState",
    "Vault",
]
