"""The CLI a newcomer meets: init, serve, worker, operators and API keys (SEC-2)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import POLICIES
from tests.support.smtp import free_port


def _init(cli, tmp_path, *extra):
    return cli("init", "--policy", POLICIES / "wsoutsourcer.yaml", "--data-dir", tmp_path / "data", *extra)


def test_sec2_init_prints_first_credentials_once_and_refuses_to_run_twice(cli, tmp_path):
    result = _init(cli, tmp_path, "--json")
    assert result.exit_code == 0, result.output
    creds = json.loads(result.stdout)
    assert creds["version"] == 1 and creds["admin_role"] == "admin"
    assert creds["api_key"].startswith("vk_") and creds["api_key_scopes"] == ["collect"]
    assert len(creds["admin_password"]) >= 16
    assert oct((tmp_path / "data" / "master.key").stat().st_mode)[-3:] == "600"
    again = _init(cli, tmp_path)
    assert again.exit_code == 1 and "already holds a vowkeep instance" in again.stderr
    key_file_text = (tmp_path / "data" / "master.key").read_text()
    for secret in (creds["admin_password"], creds["api_key"]):
        assert all(secret not in p.read_bytes().decode("latin-1") for p in (tmp_path / "data").iterdir())
    assert creds["api_key"] not in key_file_text


def test_init_refuses_a_declaration_with_lint_errors(cli, tmp_path):
    result = cli("init", "--policy", POLICIES / "retailer.yaml", "--data-dir", tmp_path / "data")
    assert result.exit_code == 1
    assert "[never-sell]" in result.stderr and "lint errors" in result.stderr


def test_commands_on_a_missing_instance_explain_what_to_do(cli, tmp_path):
    result = cli("operators", "list", "--data-dir", tmp_path / "nothing")
    assert result.exit_code == 1 and "run `vowkeep init` first" in result.stderr


def test_sec2_operators_add_list_disable(cli, tmp_path):
    _init(cli, tmp_path)
    data = tmp_path / "data"
    added = cli("operators", "add", "sue", "--role", "support_agent", "--data-dir", data, "--json")
    assert added.exit_code == 0 and json.loads(added.stdout)["role"] == "support_agent"
    bad_role = cli("operators", "add", "bob", "--role", "janitor", "--data-dir", data)
    assert bad_role.exit_code == 1 and "role 'janitor' is not declared" in bad_role.stderr
    dup = cli("operators", "add", "sue", "--role", "marketer", "--data-dir", data)
    assert dup.exit_code == 1 and "already exists" in dup.stderr
    cli("operators", "disable", "sue", "--data-dir", data)
    listing = cli("operators", "list", "--data-dir", data).stdout
    assert "sue" in listing and "disabled" in listing and "admin" in listing
    assert cli("operators", "disable", "nobody", "--data-dir", data).exit_code == 1


def test_sec2_apikeys_create_list_revoke(cli, tmp_path):
    _init(cli, tmp_path)
    data = tmp_path / "data"
    made = cli(
        "apikeys",
        "create",
        "shop",
        "--scope",
        "collect:purchase",
        "--scope",
        "purpose:transaction",
        "--data-dir",
        data,
        "--json",
    )
    assert made.exit_code == 0, made.output
    key = json.loads(made.stdout)
    assert key["scopes"] == ["collect:purchase", "purpose:transaction"]
    bad = cli("apikeys", "create", "x", "--scope", "purpose:curiosity", "--data-dir", data)
    assert bad.exit_code == 1 and "unknown scope 'purpose:curiosity'" in bad.stderr
    listed = cli("apikeys", "list", "--data-dir", data).stdout
    assert f"vk_{key['prefix']}_…" in listed and key["key"] not in listed
    revoked = cli("apikeys", "revoke", key["key"], "--data-dir", data)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert "revoked" in cli("apikeys", "list", "--data-dir", data).stdout


def test_worker_once_runs_due_jobs(cli, tmp_path):
    _init(cli, tmp_path)
    result = cli("worker", "--once", "--data-dir", tmp_path / "data")
    assert result.exit_code == 0 and result.stdout.startswith("ran ")


def test_serve_starts_healthy_and_stops_cleanly(cli, tmp_path):
    """`vowkeep serve` as a newcomer runs it: a real process, a real port."""
    _init(cli, tmp_path)
    port = free_port()
    env = {**os.environ, "VOWKEEP_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "vowkeep.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "server did not come up"
                time.sleep(0.05)
        assert response.json() == {"status": "ok", "policy_version": 1}
        assert httpx.get(f"http://127.0.0.1:{port}/privacy").status_code == 200
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    assert process.returncode == 0
