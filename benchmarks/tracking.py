"""Tracking benchmark: `POST /t` events per second over HTTP against a bare FastAPI endpoint, and roll-up speed.

Both servers run as uvicorn subprocesses on this machine (one worker each) and get the same load from the same
client: `CONCURRENCY` connections sending `REQUESTS` beacons of one page view each (and a batched run of 10 events
per beacon). vowkeep's beacon checks the visitor's consent in the ledger, reduces the user agent and the IP
address, and writes the event to SQLite. The roll-up turns `ROLLUP_EVENTS` raw events of one day into daily counts.

    python -m benchmarks.tracking            # or: make bench
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "examples" / "policies" / "wsoutsourcer.yaml"
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "20000"))  # fewer make the ratio noisy (41–56 % at 4,000)
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "16"))
VISITORS = 200
ROLLUP_EVENTS = int(os.environ.get("BENCH_ROLLUP_EVENTS", "100000"))
USER_AGENT = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], port: int, env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, *args], env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"server on port {port} did not start: {process.stderr.read().decode()[-2000:]}")


async def _load(port: int, bodies: list[bytes]) -> float:
    """Send every body once over CONCURRENCY keep-alive connections; returns seconds taken. Every answer must be 204.

    A raw HTTP/1.1 client on asyncio streams: an HTTP library would cost the client more than the servers measured.
    """
    queue = list(reversed(bodies))
    failures: list[bytes] = []

    async def connection():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                body = queue.pop()
                writer.write(
                    b"POST /t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                    b"User-Agent: " + USER_AGENT.encode() + b"\r\nContent-Length: " + str(len(body)).encode()
                    + b"\r\n\r\n" + body
                )  # fmt: skip
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                payload = await reader.readexactly(length) if length else b""
                if not head.startswith(b"HTTP/1.1 204"):
                    failures.append(head[:40] + payload[:200])
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} beacons were refused, e.g. {failures[0]!r}")
    return elapsed


def _beacons(visitors: list[tuple[str, str]], count: int, per_request: int) -> list[bytes]:
    out = []
    for i in range(count):
        cid, vid = visitors[i % len(visitors)]
        events = [{"type": "view", "page": f"/products/{(i + j) % 50}", "lang": "en-GB"} for j in range(per_request)]
        out.append(json.dumps({"cid": cid, "vid": vid, "events": events}).encode())
    return out


def _rollup(data_dir: Path) -> tuple[int, float]:
    from sqlalchemy import insert

    from vowkeep import config
    from vowkeep.instance import open_instance
    from vowkeep.store.tables import traffic_events
    from vowkeep.tracking.rollup import roll_up

    instance = open_instance(config.from_env(data_dir=data_dir))
    try:
        day = dt.date(2026, 1, 5)
        start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
        visitors = [secrets.token_hex(16) for _ in range(ROLLUP_EVENTS // 20)]
        rows = [
            {
                "at": start + dt.timedelta(seconds=i * 86000 // ROLLUP_EVENTS),
                "day": day,
                "kind": "view",
                "visitor": visitors[i % len(visitors)],
                "page": f"/products/{i % 500}",
                "referrer": ("news.example", "search.example", None)[i % 3],
                "browser": "Chrome",
                "os": ("Windows", "Mac OS X", "iOS")[i % 3],
                "device_class": ("desktop", "desktop", "mobile")[i % 3],
                "country": ("GB", "DE", "FR", "IN")[i % 4],
                "language": "en-GB",
                "rolled_up": False,
            }
            for i in range(ROLLUP_EVENTS)
        ]
        with instance.engine.begin() as conn:
            for i in range(0, len(rows), 10_000):
                conn.execute(insert(traffic_events), rows[i : i + 10_000])
        started = time.perf_counter()
        with instance.engine.begin() as conn:
            result = roll_up(conn, policy=instance.vault.policy, today=day + dt.timedelta(days=1))
        elapsed = time.perf_counter() - started
        return result.events, elapsed
    finally:
        instance.close()


def main() -> None:
    from vowkeep import config
    from vowkeep.instance import init_instance
    from vowkeep.policy import load_file

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        init_instance(config.from_env(data_dir=data_dir), load_file(POLICY))
        vk_port, bare_port = _free_port(), _free_port()
        env = {"VOWKEEP_DATA_DIR": str(data_dir)}
        serve = ["-c", "from vowkeep.cli import main; main()", "serve", "--no-worker", "--port", str(vk_port)]
        vowkeep = _start(serve, vk_port, env)
        bare = _start(["-m", "uvicorn", "benchmarks._bare:app", "--port", str(bare_port), "--log-level", "warning"],
                      bare_port)  # fmt: skip
        try:
            visitors = [(secrets.token_hex(16), secrets.token_hex(16)) for _ in range(VISITORS)]
            with httpx.Client() as client:
                for cid, _ in visitors:
                    client.post(f"http://127.0.0.1:{vk_port}/t/consent",
                                content=json.dumps({"cid": cid, "accepted": ["analytics"]}))  # fmt: skip
            single = _beacons(visitors, REQUESTS, 1)
            batched = _beacons(visitors, REQUESTS // 10, 10)
            warm = _beacons(visitors, 200, 1)
            asyncio.run(_load(bare_port, warm))
            asyncio.run(_load(vk_port, warm))
            bare_s = asyncio.run(_load(bare_port, single))
            vk_s = asyncio.run(_load(vk_port, single))
            batch_s = asyncio.run(_load(vk_port, batched))
        finally:
            for process in (vowkeep, bare):
                process.terminate()
                process.wait(timeout=10)
        rolled, rollup_s = _rollup(data_dir)
    bare_rate, vk_rate = REQUESTS / bare_s, REQUESTS / vk_s
    batch_rate = len(batched) * 10 / batch_s
    print(f"POST /t over HTTP: {REQUESTS} beacons, {CONCURRENCY} connections, one uvicorn worker each")
    print(f"{'endpoint':<44} {'events/s':>10} {'vs bare':>9}")
    print(f"{'bare FastAPI endpoint (reads body, 204)':<44} {bare_rate:>10.0f} {'100%':>9}")
    print(f"{'vowkeep POST /t, 1 event per beacon':<44} {vk_rate:>10.0f} {vk_rate / bare_rate:>9.0%}")
    print(f"{'vowkeep POST /t, 10 events per beacon':<44} {batch_rate:>10.0f} {batch_rate / bare_rate:>9.0%}")
    print(f"{'roll-up of one day (' + str(rolled) + ' raw events)':<44} {rolled / rollup_s:>10.0f}")
    print("target: vowkeep ≥ 50% of bare for one event per beacon")


if __name__ == "__main__":
    main()
