"""The CDS Hooks service under a steady, bounded load on loopback: p50/p99 latency and requests/s per offered rate.

The service runs in `fbss cds serve` (uvicorn) in a subprocess, JWT authentication on as in production; an asyncio
httpx client offers a constant arrival rate with at most --concurrency requests in flight, for a bounded number of
requests per step. Latency is measured from the scheduled send time, so queueing inside the client counts (no
coordinated omission). Each step raises the rate until p99 reaches the target; the last rate that met it is reported.

Run: uv run python bench/cds_hooks_bench.py [--rates 100,200,300] [--seconds 10] [--workers 2] [--cold]

--cold gives every request resources the service has not seen (fresh ids), so every resource is validated;
the default repeats the example patients, as an EHR does when the same charts are opened again. Before the steps,
the first calls after start-up are timed one at a time (two per worker, each a new patient on a new connection).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from rich.console import Console
from rich.table import Table

from fbss.case.parse import read_case
from fbss.fhir.case_export import case_bundle

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "cases"
SERVICE = "/cds-services/fbss-patient-view"
ISSUER = "https://ehr.bench.local"
KID = "bench-key"
KEYS = {
    "Condition": "conditions",
    "Procedure": "procedures",
    "Observation": "observations",
    "QuestionnaireResponse": "questionnaireResponses",
    "DiagnosticReport": "diagnosticReports",
    "MedicationStatement": "medications",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def hook_bodies(fresh: int = 0) -> list[dict[str, Any]]:
    """One patient-view request per example case, every FHIR resource prefetched (ids made unique if fresh)."""
    bodies = []
    for path in sorted(EXAMPLES.glob("*.json")):
        case = read_case(path)
        if fresh:
            case = case.model_copy(update={"id": f"{case.id}-{fresh}"})
        entries = case_bundle(case)["entry"]
        patient = entries[0]["resource"]
        prefetch: dict[str, Any] = {"patient": patient}
        for kind, key in KEYS.items():
            found = [e for e in entries if e["resource"]["resourceType"] == kind]
            prefetch[key] = {"resourceType": "Bundle", "type": "searchset", "entry": found} if found else None
        bodies.append(
            {
                "hook": "patient-view",
                "hookInstance": str(uuid.uuid4()),
                "context": {"userId": "Practitioner/bench", "patientId": patient["id"]},
                "prefetch": prefetch,
            }
        )
    return bodies


@dataclass
class Step:
    rate: float
    sent: int
    ok: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    achieved_rps: float


def start_service(port: int, workers: int, key: ec.EllipticCurvePrivateKey) -> subprocess.Popen[bytes]:
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    issuers = {ISSUER: {"jwks": {"keys": [{**public, "kid": KID, "alg": "ES384"}]}}}
    env = {
        **os.environ,
        "FBSS_CDS_AUTH": "jwt",
        "FBSS_CDS_TRUSTED_ISSUERS": json.dumps(issuers),
        "FBSS_CDS_AUDIENCE_BASE": f"http://127.0.0.1:{port}",
    }
    command = [
        sys.executable,
        "-m",
        "fbss.cli",
        "cds",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env)


def tokens(key: ec.EllipticCurvePrivateKey, audience: str, count: int) -> list[str]:
    now = int(time.time())
    return [
        jwt.encode(
            {"iss": ISSUER, "aud": audience, "iat": now, "exp": now + 600, "jti": str(uuid.uuid4())},
            key,
            algorithm="ES384",
            headers={"kid": KID, "typ": "JWT"},
        )
        for _ in range(count)
    ]


async def wait_ready(base: str, key: ec.EllipticCurvePrivateKey, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            [token] = tokens(key, base + "/cds-services", 1)
            try:
                response = await client.get(base + "/cds-services", headers={"Authorization": f"Bearer {token}"})
                if response.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the service did not start")


async def run_step(
    client: httpx.AsyncClient, bodies: list[bytes], auth: list[str], rate: float, concurrency: int, time_limit: float
) -> Step:
    count = len(auth)
    latencies: list[float] = []
    errors = 0
    limiter = asyncio.Semaphore(concurrency)

    async def one(i: int, scheduled: float) -> None:
        nonlocal errors
        try:
            response = await client.post(
                SERVICE,
                content=bodies[i % len(bodies)],
                headers={"Authorization": f"Bearer {auth[i]}", "Content-Type": "application/json"},
            )
            if response.status_code == 200:
                latencies.append(time.perf_counter() - scheduled)
            else:
                errors += 1
        except httpx.HTTPError:
            errors += 1
        finally:
            limiter.release()

    start = time.perf_counter()
    tasks = []
    for i in range(count):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if time.perf_counter() - start > time_limit:
            break
        await limiter.acquire()
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=time_limit + 30)
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies) or [float("nan")]
    return Step(
        rate=rate,
        sent=len(tasks),
        ok=len(latencies),
        errors=errors,
        p50_ms=statistics.median(ordered) * 1000,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        max_ms=ordered[-1] * 1000,
        achieved_rps=len(latencies) / elapsed,
    )


async def first_calls(base: str, key: ec.EllipticCurvePrivateKey, count: int) -> list[float]:
    """Milliseconds of the first patient-view calls after start-up, one at a time, each on a new connection and with
    a patient not seen before (what a clinician opening a chart waits for right after the service starts)."""
    bodies = [json.dumps(b).encode() for b in hook_bodies(10_000)[:count]]
    latencies = []
    for body, token in zip(bodies, tokens(key, base + SERVICE, len(bodies)), strict=True):
        async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
            started = time.perf_counter()
            response = await client.post(
                SERVICE, content=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
            )
            latencies.append((time.perf_counter() - started) * 1000)
            response.raise_for_status()
    return latencies


async def main_async(args: argparse.Namespace) -> tuple[list[float], list[Step]]:
    key = ec.generate_private_key(ec.SECP384R1())
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    service = start_service(port, args.workers, key)
    try:
        await wait_ready(base, key)
        first = await first_calls(base, key, 2 * args.workers)
        warm = [json.dumps(b).encode() for b in hook_bodies()]
        # warm-up: every worker process sees every example patient (imports, caches, first validations)
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        client = httpx.AsyncClient(base_url=base, limits=limits, timeout=10.0)
        warm_count = len(warm) * 3 * args.workers
        await run_step(client, warm, tokens(key, base + SERVICE, warm_count), 60, args.concurrency, 60)
        steps = []
        for rate in args.rates:
            count = int(rate * args.seconds)
            # settle at the new rate first (not counted): the step measures the steady state
            settle = int(rate * args.settle_seconds)
            await run_step(client, warm, tokens(key, base + SERVICE, settle), rate, args.concurrency, args.seconds * 2)
            if args.cold:
                bodies = [json.dumps(b).encode() for n in range(count // len(warm) + 1) for b in hook_bodies(n + 1)]
            else:
                bodies = warm
            step = await run_step(
                client, bodies, tokens(key, base + SERVICE, count), rate, args.concurrency, args.seconds * 2
            )
            steps.append(step)
            if step.errors or step.p99_ms >= args.target_ms:
                break
        await client.aclose()
        return first, steps
    finally:
        service.terminate()
        try:
            service.wait(timeout=10)
        except subprocess.TimeoutExpired:
            service.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", default="100,200,300,400,500,600", help="offered rates, requests/s, ascending")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each step")
    parser.add_argument("--settle-seconds", type=float, default=3.0, help="unmeasured load before each step")
    parser.add_argument("--concurrency", type=int, default=50, help="clients: requests in flight at most")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--target-ms", type=float, default=100.0, help="p99 latency target")
    parser.add_argument("--cold", action="store_true", help="fresh resources in every request (no validation reuse)")
    args = parser.parse_args()
    args.rates = [float(r) for r in args.rates.split(",")]
    first, steps = asyncio.run(main_async(args))
    mode = "fresh resources every request" if args.cold else "the example patients, repeated"
    table = Table(title=f"CDS Hooks patient-view, {args.workers} worker(s), {args.concurrency} clients, JWT on; {mode}")
    for column in ("offered req/s", "sent", "ok", "errors", "p50 ms", "p99 ms", "max ms", "achieved req/s"):
        table.add_column(column, justify="right")
    for s in steps:
        table.add_row(
            f"{s.rate:g}",
            str(s.sent),
            str(s.ok),
            str(s.errors),
            f"{s.p50_ms:.1f}",
            f"{s.p99_ms:.1f}",
            f"{s.max_ms:.1f}",
            f"{s.achieved_rps:.0f}",
        )
    console = Console()
    firsts = ", ".join(f"{ms:.1f}" for ms in first)
    console.print(f"first calls after start-up (ms, one at a time, new patients): {firsts}")
    console.print(table)
    met = [s for s in steps if not s.errors and s.p99_ms < args.target_ms]
    best = f"{met[-1].rate:g} req/s" if met else "none of the rates"
    console.print(f"highest offered rate with p99 < {args.target_ms:g} ms: {best}")


if __name__ == "__main__":
    main()
