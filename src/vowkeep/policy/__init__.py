"""The declaration: a privacy policy as code — model, loading, and the tools that read it."""

from vowkeep.policy.duration import Duration
from vowkeep.policy.errors import PolicyError, Problem
from vowkeep.policy.load import LoadedPolicy, load_bytes, load_file, load_text
from vowkeep.policy.model import Policy

__all__ = [
    "Duration",
    "LoadedPolicy",
    "Policy",
    "PolicyError",
    "Problem",
    "load_bytes",
    "load_file",
    "load_text",
]
