"""Collection over HTTP: `POST /api/v1/collect/inquiry` on `vowkeep serve` vs a bare FastAPI endpoint that only
parses the same JSON, served the same way (uvicorn, one process) and driven by the same clients in the same run.

A collection is: API-key check, validation of every field (e-mail syntax, card-number scan), finding the subject by
blind index, encrypting each value under the subject's data key (a new subject also gets a new key in the key
store), and an audit record — all committed before the answer.
"""

from __future__ import annotations

from benchmarks._http import free_port, load, python, server
from benchmarks._instance import make
from benchmarks._table import table


def body(k: int, n: int) -> dict:
    return {"email": f"load{k}-{n}@example.org", "first_name": "Load", "message": f"Question {n}"}


def returning_body(k: int, n: int) -> dict:
    """The same 50 people again and again: found by blind index, no new key (module-level so it pickles)."""
    return body(k, n % 50)


def main() -> None:
    instance, result, data_dir = make()
    instance.close()
    rows = []
    port = free_port()
    with server(
        [
            python(),
            "-m",
            "uvicorn",
            "benchmarks._bare_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        port=port,
    ):
        bare, bare_errors = load(f"http://127.0.0.1:{port}/bare", body)
    rows.append(["bare FastAPI POST (baseline)", bare, bare_errors, "100%"])
    port = free_port()
    with server(
        [python(), "-m", "vowkeep.cli", "serve", "--port", str(port), "--no-worker"],
        port=port,
        env={"VOWKEEP_DATA_DIR": str(data_dir)},
    ):
        headers = {"Authorization": f"Bearer {result.api_key}"}
        new, new_errors = load(f"http://127.0.0.1:{port}/api/v1/collect/inquiry", body, headers=headers)
        again, again_errors = load(f"http://127.0.0.1:{port}/api/v1/collect/inquiry", returning_body, headers=headers)
    rows.append(["collect, a new subject each time", new, new_errors, f"{new / bare:.0%}"])
    rows.append(["collect, returning subjects (found by blind index)", again, again_errors, f"{again / bare:.0%}"])
    print(table(["endpoint", "requests/s", "errors", "vs bare"], rows))
    print("\n2 client processes × 4 keep-alive connections, 8 s each, on the same machine as the server.")
