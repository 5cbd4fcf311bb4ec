"""Cohort benchmark: bare read-and-parse (json.loads and orjson) vs the full local run (lean and strict validation)
vs the Spark local run, on the same synthetic exports.

    uv run python bench/cohort_bench.py                      # 10,000 patients
    uv run python bench/cohort_bench.py --sizes 10000,100000 # both sizes (100k takes the better part of an hour)
    uv run python bench/cohort_bench.py --skip spark         # without Spark
    uv run python bench/cohort_bench.py --baseline /tmp/old  # also the runs of another source tree (its src/)

Each measurement runs in a fresh subprocess; its peak memory is the largest sum of resident memory over the whole
process tree (driver, workers, the Spark JVM), sampled from /proc every 0.2 s, and its CPU time that of the whole
tree (the figure to compare when other jobs share the machine: wall time then depends on their load). Exports are
generated once per size and seed under --data (default: a temporary directory kept between runs).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

PHASES = ("read", "orjson", "local", "strict", "spark")
FLOORS = ("read", "orjson")


# --- the measured phases (run in a child process) ------------------------------------------------------------------


def phase_read(export: Path, loads: Callable[[str], Any] = json.loads) -> dict[str, Any]:
    """json.loads (or orjson.loads) of every line and grouping by patient, in memory, in one process: the floor."""
    from fbss.cohort.routing import patient_of

    grouped: dict[str, list[str]] = {}
    lines = 0
    for path in sorted(export.glob("*.ndjson")):
        with path.open(encoding="utf-8") as handle:
            for text in handle:
                lines += 1
                owner = patient_of(loads(text))
                if owner is not None:
                    grouped.setdefault(owner, []).append(text)
    return {"patients": len(grouped), "lines": lines}


def phase_local(export: Path, out: Path, strict: bool = False) -> dict[str, Any]:
    import fbss.cli  # noqa: F401  (what `fbss cohort run` has loaded when it forks its workers)
    from fbss.cohort.local import run_local
    from fbss.fhir.resources import Validation

    validation = Validation.strict if strict else Validation.lean
    summary = run_local(export, out / "local.parquet", validation=validation)
    return {"patients": summary.patients, "seconds": summary.seconds, "buckets": summary.buckets}


def phase_spark(export: Path, out: Path) -> dict[str, Any]:
    from fbss.cohort.spark import run_spark, session

    started = time.perf_counter()
    spark = session(f"local[{os.cpu_count() or 1}]")
    startup = time.perf_counter() - started
    summary = run_spark(str(export), out / "spark.parquet", spark=spark)
    spark.stop()
    return {"patients": summary.patients, "seconds": {"startup": startup, **summary.seconds}}


def phase_profile(export: Path, sample: int = 1000) -> dict[str, Any]:
    """Where a patient's time goes, on one core (CPU time), over the first `sample` patients of the export.

    Each step is timed patient by patient and its results dropped at once, as in a worker: holding the decoded
    resources of every sampled patient alive would mostly measure the garbage collector walking them.
    """
    import datetime as dt

    from fbss.cohort.patient import PatientLine, RunSettings, assess_patient
    from fbss.cohort.routing import export_files, route_line
    from fbss.fhir.importer import import_resources
    from fbss.fhir.resources import Validation, validate_resource
    from fbss.reasoning.assess import assess

    grouped: dict[str, list[PatientLine]] = {}
    patients: list[str] = []
    for path in (f.path for f in export_files(export)):  # Patient.ndjson first
        with path.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                owner = route_line(text.rstrip("\n")).patient
                if owner is None:
                    continue
                if path.name.startswith("Patient") and len(patients) < sample:
                    patients.append(owner)
                    grouped[owner] = []
                if owner in grouped:
                    grouped[owner].append(PatientLine(path.name, number, text.rstrip("\n")))
    settings = RunSettings(as_of=dt.date(2026, 11, 1))
    kb = settings.knowledge()
    for patient in patients[:20]:  # compile the engine's memos once, as a worker does on its first patient
        assess_patient(patient, grouped[patient], settings)
    clock = time.process_time
    steps = (
        "decode (orjson)",
        "FHIR validation, lean read models",
        "FHIR validation, full models (--strict)",
        "import mapping",
        "assess (engine)",
    )
    spent = dict.fromkeys(steps, 0.0)
    for patient in patients:
        t0 = clock()
        decoded = [orjson.loads(line.text) for line in grouped[patient]]
        t1 = clock()
        for item in decoded:
            validate_resource(item, remember=False, validation=Validation.lean)
        t2 = clock()
        for item in decoded:
            validate_resource(item, remember=False, validation=Validation.strict)
        t3 = clock()
        case = import_resources([(None, r) for r in decoded], remember_valid=False).case
        t4 = clock()
        assess(case if case.assessment_date else case.model_copy(update={"assessment_date": settings.as_of}), kb)
        t5 = clock()
        spent[steps[0]] += t1 - t0
        spent[steps[1]] += t2 - t1
        spent[steps[2]] += t3 - t2
        spent[steps[3]] += (t4 - t3) - (t2 - t1)  # the import validates again (lean): mapping is the difference
        spent[steps[4]] += t5 - t4
    started = clock()
    for patient in patients:
        assess_patient(patient, grouped[patient], settings)
    spent["whole per-patient function"] = clock() - started
    return {"patients": len(patients), "ms_per_patient": {k: 1000 * v / len(patients) for k, v in spent.items()}}


def child(phase: str, export: Path, out: Path) -> None:
    started = time.perf_counter()
    if phase == "read":
        result = phase_read(export)
    elif phase == "orjson":
        result = phase_read(export, orjson.loads)
    elif phase in ("local", "baseline"):
        result = phase_local(export, out)
    elif phase == "strict":
        result = phase_local(export, out, strict=True)
    elif phase in ("spark", "spark_baseline"):
        result = phase_spark(export, out)
    else:
        result = phase_profile(export)
    result["wall"] = time.perf_counter() - started
    result["maxrss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["maxrss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("RESULT " + json.dumps(result))


# --- the orchestrator ------------------------------------------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK")


def _tree_sample(root: int) -> tuple[float, float]:
    """(resident memory in MB, CPU seconds) of a process and all its descendants, from /proc.

    CPU counts each process's own time plus that of the children it has reaped, so it grows steadily as pool workers
    finish; processes nobody reaps (the Spark JVM) count as long as they are seen.
    """
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
        times = stat[stat.rindex(")") + 2 :].split()[11:15]  # utime, stime, cutime, cstime
        cpu[int(entry)] = sum(int(t) for t in times) / TICK
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child_pid, parent in parents.items():
            if parent == pid and child_pid not in tree:
                tree.add(child_pid)
                frontier.append(child_pid)
    return sum(rss.get(pid, 0) for pid in tree) / 1024, sum(cpu.get(pid, 0.0) for pid in tree)


def measure(phase: str, export: Path, out: Path, baseline: Path | None = None) -> dict[str, Any]:
    environment = dict(os.environ)
    if phase in ("baseline", "spark_baseline") and baseline is not None:  # the other tree's package is found first
        environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(baseline / "src"), os.environ.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", phase, "--export", str(export), "--out", str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env=environment,
    )
    peak = [0.0, 0.0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def sample() -> None:
        while process.poll() is None:
            rss, cpu = _tree_sample(process.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], cpu)
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{phase} failed with exit code {process.returncode}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next(x for x in stdout.splitlines() if x.startswith("RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("RESULT "))
    result["peak_tree_mb"] = peak[0]
    # the child and every process it reaped, exactly; plus what was sampled of any process it left unreaped
    reaped = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    result["cpu_seconds"] = max(reaped, peak[1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000", help="comma-separated cohort sizes (patients)")
    parser.add_argument("--skip", default="", help="comma-separated phases to skip: read, local, spark, profile")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--baseline", type=Path, help="a source tree (e.g. `git archive main`) whose local and Spark runs are measured"
    )
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "fbss-cohort-bench")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--export", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.export, args.out)
        return
    from fbss.cohort.synth import write_population

    skip = set(filter(None, args.skip.split(",")))
    report: dict[str, Any] = {"cpus": os.cpu_count(), "sizes": {}}
    for size in (int(s) for s in args.sizes.split(",")):
        export = args.data / f"export-{size}-seed{args.seed}"
        if not (export / "Patient.ndjson").exists():
            started = time.perf_counter()
            write_population(size, export, seed=args.seed)
            print(f"synth {size:,}: {time.perf_counter() - started:.1f} s", flush=True)
        size_mb = sum(p.stat().st_size for p in export.glob("*.ndjson")) / 1e6
        results: dict[str, Any] = {"export_mb": size_mb}
        for phase in (*PHASES, "baseline", "spark_baseline", "profile"):
            of = {"baseline": "local", "spark_baseline": "spark"}.get(phase)  # a baseline phase is skipped with its own
            if phase in skip or of in skip or (of is not None and args.baseline is None):
                continue
            with tempfile.TemporaryDirectory(dir=args.data) as out:
                results[phase] = measure(phase, export, Path(out), args.baseline)
            print(f"{size:,} {phase}: {json.dumps(results[phase])}", flush=True)
        for phase in ("local", "baseline", "strict", "spark", "spark_baseline"):
            for floor in FLOORS:
                if floor in results and phase in results:
                    results[f"{phase}_vs_{floor}"] = results[phase]["wall"] / results[floor]["wall"]
                    results[f"{phase}_vs_{floor}_cpu"] = results[phase]["cpu_seconds"] / results[floor]["cpu_seconds"]
        report["sizes"][size] = results
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
