"""The assessment page under a bounded concurrent load on loopback: p50/p95/p99 latency and requests/s.

The app runs as a user runs it, `fbss serve --demo` (one uvicorn process, SQLite in a fresh data directory), in a
subprocess on 127.0.0.1. A signed-in asyncio httpx client keeps exactly N requests in flight (closed loop, N = 1, 4,
16 by default) for a fixed time per step after an unmeasured warm-up, opening the demo patients' assessment pages
in turn. Each page view recomputes the assessment from the stored case, renders the full page (red flags, chart,
causes, work-up, option grid, SCS advice, plan) and writes its audit entry.

Run: uv run python bench/web_bench.py [--concurrency 1,4,16] [--seconds 10] [--warmup 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

PASSWORD = "bench-clinician-password"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PATIENT = re.compile(r'href="/patients/(\d+)">DEMO-\d+<')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_app(data: Path, port: int) -> subprocess.Popen[bytes]:
    """The app as `fbss serve --demo`; what it prints (the start banner, then its access log) goes to a file, which
    nobody has to keep reading for the server to go on writing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FBSS_")}
    env |= {"XDG_DATA_HOME": str(data), "FBSS_DATA_DIR": str(data / "fbss"), "FBSS_DEMO_CLINICIAN_PASSWORD": PASSWORD}
    with (data / "serve.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "fbss.cli", "serve", "--demo", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def wait_started(process: subprocess.Popen[bytes], log: Path, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if "stop with Ctrl+C" in log.read_text(errors="replace"):
            return
        if process.poll() is not None:
            break
        time.sleep(0.1)
    raise SystemExit("the app did not start:\n" + log.read_text(errors="replace"))


async def signed_in(base: str, limit: int) -> tuple[httpx.AsyncClient, list[str]]:
    """A client with the clinician's session cookie, and the assessment pages of the demo patients."""
    client = httpx.AsyncClient(
        base_url=base, limits=httpx.Limits(max_connections=limit, max_keepalive_connections=limit), timeout=60
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            login = await client.get("/login")
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise SystemExit("the app does not answer") from None
            await asyncio.sleep(0.1)
    token = CSRF.search(login.text)
    assert token, "no CSRF token on /login"
    response = await client.post(
        "/login", data={"csrf": token.group(1), "username": "clinician", "password": PASSWORD, "next": ""}
    )
    assert response.status_code == 303, response.status_code
    listing = await client.get("/patients")
    pages = [f"/patients/{pid}/assessment" for pid in PATIENT.findall(listing.text)]
    assert pages, "no demo patient on the list"
    return client, pages


@dataclass
class Step:
    concurrency: int
    requests: int
    errors: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float
    kib: float


def percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


async def run_step(
    client: httpx.AsyncClient, pages: list[str], concurrency: int, seconds: float, warmup: float
) -> Step:
    latencies: list[float] = []
    sizes: list[int] = []
    errors = 0
    counter = 0
    measuring_from = time.perf_counter() + warmup
    stop_at = measuring_from + seconds

    async def worker() -> None:
        nonlocal errors, counter
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                return
            path = pages[counter % len(pages)]
            counter += 1
            try:
                response = await client.get(path)
                ok = response.status_code == 200 and "Stepped care plan" in response.text
            except httpx.HTTPError:
                ok = False
            end = time.perf_counter()
            if start >= measuring_from:
                if ok:
                    latencies.append(end - start)
                    sizes.append(len(response.content))
                else:
                    errors += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    ordered = sorted(latencies) or [float("nan")]
    return Step(
        concurrency=concurrency,
        requests=len(latencies),
        errors=errors,
        p50_ms=statistics.median(ordered) * 1000,
        p95_ms=percentile(ordered, 0.95) * 1000,
        p99_ms=percentile(ordered, 0.99) * 1000,
        max_ms=ordered[-1] * 1000,
        rps=len(latencies) / seconds,
        kib=statistics.mean(sizes) / 1024 if sizes else 0.0,
    )


async def bench(base: str, levels: list[int], seconds: float, warmup: float) -> list[Step]:
    client, pages = await signed_in(base, max(levels))
    try:
        return [await run_step(client, pages, level, seconds, warmup) for level in levels]
    finally:
        await client.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,4,16", help="requests kept in flight, one step each")
    parser.add_argument("--seconds", type=float, default=10.0, help="measured time per step")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured time at the start of each step")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.concurrency.split(",") if x.strip()]
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        process = start_app(Path(data), port)
        try:
            wait_started(process, Path(data) / "serve.log")
            steps = asyncio.run(bench(f"http://127.0.0.1:{port}", levels, args.seconds, args.warmup))
        finally:
            process.terminate()
            process.wait(timeout=20)
    table = Table(title=f"Assessment page, `fbss serve --demo` on loopback, {args.seconds:g} s per step")
    for name in ("in flight", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s", "KiB/page"):
        table.add_column(name, justify="right")
    for s in steps:
        table.add_row(
            str(s.concurrency), str(s.requests), str(s.errors), f"{s.p50_ms:.1f}", f"{s.p95_ms:.1f}",
            f"{s.p99_ms:.1f}", f"{s.max_ms:.1f}", f"{s.rps:.1f}", f"{s.kib:.0f}",
        )
    Console().print(table)
    return 0 if all(s.errors == 0 for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
