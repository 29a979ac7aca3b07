"""Shared fixtures: paths to the seed declarations and a CLI runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies"
SEEDS = {
    "wespro": "000_4cfecbb56c2b2a6e.txt",
    "wescom": "001_5ffb2f286a488132.txt",
    "wsoutsourcer": "002_7bbfe2b80795aa5d.txt",
    "retailer": "003_d376061113b7be31.txt",
    "spera": "004_7430b612c1ad7840.txt",
}


@pytest.fixture
def cli():
    """Invoke `vowkeep …` in-process; returns the click Result (exit_code, stdout, stderr)."""
    from vowkeep.cli import app

    runner = CliRunner()

    def invoke(*args: str, **kwargs):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def sample_policy_path() -> Path:
    return POLICIES / "wsoutsourcer.yaml"
