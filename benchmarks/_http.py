"""HTTP benchmarking without extra tools: start a server process, then drive it from client processes."""

from __future__ import annotations

import multiprocessing
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(args: list[str], *, port: int, env: dict | None = None, health: str = "/healthz", timeout: float = 30):
    """Run a server command until the block ends; yields (process, seconds until `health` answered 200)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{health}", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError("server did not become healthy")
            time.sleep(0.02)
        yield process, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=20)


def _client(url, body_fn, headers, seconds, threads, queue):
    import threading

    counts = [0] * threads
    errors = [0] * threads
    stop = time.perf_counter() + seconds

    def run(k):
        with httpx.Client(headers=headers, timeout=10) as client:
            n = 0
            while time.perf_counter() < stop:
                response = client.post(url, json=body_fn(k, n))
                n += 1
                if response.status_code < 300:
                    counts[k] += 1
                else:
                    errors[k] += 1

    workers = [threading.Thread(target=run, args=(k,)) for k in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    queue.put((sum(counts), sum(errors)))


def load(
    url: str, body_fn, *, headers: dict | None = None, seconds: float = 8, processes: int = 2, threads: int = 4
) -> tuple[float, int]:
    """POST as fast as `processes` × `threads` keep-alive clients can for `seconds`: (successes/s, errors)."""
    queue = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    procs = [
        ctx.Process(target=_client, args=(url, body_fn, headers or {}, seconds, threads, queue))
        for _ in range(processes)
    ]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    ok = sum(r[0] for r in results)
    return ok / seconds, sum(r[1] for r in results)


def python() -> str:
    return sys.executable
