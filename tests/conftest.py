"""Shared fixtures: seed declarations, the CLI, real instances on SQLite and PostgreSQL, an HTTP client."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.support import backends, instances
from vowkeep import clock

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "examples" / "policies"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEEDS = {
    "wespro": "000_4cfecbb56c2b2a6e.txt",
    "wescom": "001_5ffb2f286a488132.txt",
    "wsoutsourcer": "002_7bbfe2b80795aa5d.txt",
    "retailer": "003_d376061113b7be31.txt",
    "spera": "004_7430b612c1ad7840.txt",
}


def pytest_generate_tests(metafunc):
    # Tests marked `postgres` that use the `backend` fixture run on both backends; others on SQLite only.
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("postgres") is not None
        metafunc.parametrize("backend", ["sqlite", "postgres"] if both else ["sqlite"], indirect=True)


@pytest.fixture
def backend(request):
    """`sqlite` or `postgres`; for postgres, yields a fresh database URL."""
    if request.param == "postgres":
        with backends.postgres_database() as url:
            yield url
    else:
        yield None


@pytest.fixture(autouse=True)
def _real_time():
    clock.reset()
    yield
    clock.reset()


@pytest.fixture
def cli():
    """Invoke `vowkeep …` in-process; returns the click Result (exit_code, stdout, stderr)."""
    from vowkeep.cli import app

    runner = CliRunner()

    def invoke(*args, **kwargs):
        return runner.invoke(app, [str(a) for a in args], catch_exceptions=False, **kwargs)

    return invoke


@pytest.fixture
def sample_policy_path() -> Path:
    return POLICIES / "wsoutsourcer.yaml"


@pytest.fixture
def instance_and_init(tmp_path, backend, sample_policy_path):
    """A fresh instance of the sample declaration, on the test's backend, with its first credentials."""
    instance, result = instances.create(tmp_path / "data", sample_policy_path, database_url=backend)
    yield instance, result
    instance.close()


@pytest.fixture
def instance(instance_and_init):
    return instance_and_init[0]


@pytest.fixture
def client(instance_and_init):
    """An HTTP client for the instance's app, and its credentials as `client.creds`."""
    from fastapi.testclient import TestClient

    from vowkeep.web.app import create_app

    instance, result = instance_and_init
    with TestClient(create_app(instance)) as test_client:
        test_client.creds = result
        test_client.service = {"Authorization": f"Bearer {result.api_key}"}
        yield test_client
