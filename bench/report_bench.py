"""Clinician-report PDF time and the weight and size of the web pages.

1. PDFs, in this process: every example case's clinician report (A4, English) rendered to PDF, the first one cold
   (WeasyPrint's import and the fonts load then), the rest warm; wall and CPU time, pages, the page the appendix
   starts on, bytes; and a few in Spanish and on Letter paper.
2. Page weight: the app as `fbss serve --demo` in a subprocess; each page's HTML as sent and gzipped, the stylesheet
   and script (cached after the first page), and the clinician PDF served over HTTP with its time.
3. Page size: each page in Debian's Chromium at 1280x900 and 390x844: document width and height in CSS pixels.

4. With --collector: each example's PDF rendered as before (the garbage collector at its default threshold) and as
   now (fewer collections during layout, fbss.reports.collector), alternately in one process: the CPU time ratio.

Run: uv run python bench/report_bench.py [--rounds 3] [--no-browser] [--collector]
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from web_bench import PASSWORD, free_port, start_app, wait_started

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "cases"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
console = Console()


def pdf_times(rounds: int) -> None:
    from fbss.case.parse import read_case
    from fbss.knowledge.loader import load_knowledge
    from fbss.reasoning.assess import assess
    from fbss.reports.documents import APPENDIX_ANCHOR, clinician_report_html, render_pdf

    kb = load_knowledge()
    cases = [(path.stem, assess(read_case(path), kb)) for path in sorted(EXAMPLES.glob("*.json"))]
    rows: list[tuple[str, float, float, int, int, int]] = []
    cold = None
    for name, assessment in cases:
        walls, cpus = [], []
        for _ in range(rounds if cold is not None else 1):
            wall, cpu = time.perf_counter(), time.process_time()
            html = clinician_report_html(assessment, kb)
            rendered = render_pdf(html)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        if cold is None:
            cold = (name, walls[0], cpus[0])
            continue  # the first is the cold start; it is rendered again below, warm
        rows.append((name, min(walls), min(cpus), rendered.pages, rendered.anchor_pages[APPENDIX_ANCHOR] + 1,
                     len(rendered.data)))
    name, assessment = cases[0]
    walls, cpus = [], []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        rendered = render_pdf(clinician_report_html(assessment, kb))
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    rows.append((name, min(walls), min(cpus), rendered.pages, rendered.anchor_pages[APPENDIX_ANCHOR] + 1,
                 len(rendered.data)))
    table = Table(title=f"Clinician report PDF, A4 English: {len(rows)} examples, best of {rounds}, warm")
    for column in ("example", "wall s", "CPU s", "pages", "appendix from page", "KiB"):
        table.add_column(column, justify="left" if column == "example" else "right")
    for name, wall, cpu, pages, appendix, size in sorted(rows, key=lambda r: -r[1]):
        table.add_row(name, f"{wall:.2f}", f"{cpu:.2f}", str(pages), str(appendix), f"{size / 1024:.0f}")
    console.print(table)
    walls = [r[1] for r in rows]
    cpus = [r[2] for r in rows]
    assert cold is not None
    console.print(
        f"cold first PDF ({cold[0]}): wall {cold[1]:.2f} s, CPU {cold[2]:.2f} s. Warm: wall median "
        f"{statistics.median(walls):.2f} s, max {max(walls):.2f} s; CPU median {statistics.median(cpus):.2f} s, "
        f"max {max(cpus):.2f} s; pages {min(r[3] for r in rows)}–{max(r[3] for r in rows)}, appendix from page "
        f"{min(r[4] for r in rows)}–{max(r[4] for r in rows)}; {sum(w < 1.5 for w in walls)} of {len(walls)} "
        f"under 1.5 s wall, {sum(c < 1.5 for c in cpus)} under 1.5 s CPU"
    )
    for lang, page in (("es", "A4"), ("en", "Letter")):
        times = []
        for _name, assessment in cases[:5]:
            wall = time.perf_counter()
            render_pdf(clinician_report_html(assessment, kb, lang=lang, page=page))
            times.append(time.perf_counter() - wall)
        median, most = statistics.median(times), max(times)
        console.print(f"{lang} {page}: 5 examples, wall median {median:.2f} s, max {most:.2f} s")


def collector_ratio() -> None:
    """Each example rendered with the collector's default threshold and with fewer collections, alternately."""
    import gc

    import weasyprint

    from fbss.case.parse import read_case
    from fbss.knowledge.loader import load_knowledge
    from fbss.reasoning.assess import assess
    from fbss.reports.documents import TEMPLATES, _fonts, clinician_report_html, render_pdf

    def before(html: str) -> bytes:  # render_pdf without fewer_collections
        document = weasyprint.HTML(string=html, base_url=str(TEMPLATES)).render(font_config=_fonts())
        return bytes(document.write_pdf())

    kb = load_knowledge()
    htmls = [clinician_report_html(assess(read_case(p), kb), kb) for p in sorted(EXAMPLES.glob("*.json"))]
    render_pdf(htmls[0])  # warm
    assert gc.get_threshold()[0] < 10_000, "run with the collector's default threshold"
    old_cpu, new_cpu = [], []
    for number, html in enumerate(htmls):
        order = ((before, old_cpu), (render_pdf, new_cpu))
        for render, times in order if number % 2 == 0 else order[::-1]:  # alternate who goes first
            cpu = time.process_time()
            render(html)
            times.append(time.process_time() - cpu)
    ratios = [new / old for new, old in zip(new_cpu, old_cpu, strict=True)]
    console.print(
        f"collector, {len(htmls)} examples, CPU s per PDF: default threshold median {statistics.median(old_cpu):.2f} "
        f"(max {max(old_cpu):.2f}); fewer collections median {statistics.median(new_cpu):.2f} "
        f"(max {max(new_cpu):.2f}); ratio of totals {sum(new_cpu) / sum(old_cpu):.2f}, median ratio "
        f"{statistics.median(ratios):.2f}; under 1.5 s CPU: {sum(c < 1.5 for c in old_cpu)} before, "
        f"{sum(c < 1.5 for c in new_cpu)} now"
    )


def signed_in(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=120)
    token = CSRF.search(client.get("/login").text)
    assert token
    client.post("/login", data={"csrf": token.group(1), "username": "clinician", "password": PASSWORD})
    return client


def pages_of(client: httpx.Client) -> dict[str, str]:
    ids = {r: p for p, r in re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', client.get("/patients").text)}
    one, red = ids["DEMO-001"], ids["DEMO-003"]
    return {
        "patient list": "/patients",
        "assessment (DEMO-001)": f"/patients/{one}/assessment",
        "assessment, red flag (DEMO-003)": f"/patients/{red}/assessment",
        "case form, first step": f"/patients/{one}/case/new",
        "case form, imaging step": f"/patients/{one}/case/new?step=imaging",
        "history": f"/patients/{one}/history",
        "outcomes": f"/patients/{one}/outcomes",
    }


def page_weight(client: httpx.Client, pages: dict[str, str]) -> None:
    table = Table(title="Page weight (HTML as sent; the stylesheet and script are cached after the first page)")
    for column in ("page", "HTML KiB", "gzip KiB"):
        table.add_column(column, justify="left" if column == "page" else "right")
    for label, path in pages.items():
        body = client.get(path).content
        table.add_row(label, f"{len(body) / 1024:.1f}", f"{len(gzip.compress(body)) / 1024:.1f}")
    for path in ("/static/app.css", "/static/app.js", "/static/favicon.svg"):
        body = client.get(path).content
        table.add_row(path, f"{len(body) / 1024:.1f}", f"{len(gzip.compress(body)) / 1024:.1f}")
    one = pages["assessment (DEMO-001)"].split("/")[2]
    for fmt in ("pdf", "html"):
        started = time.perf_counter()
        body = client.get(f"/patients/{one}/reports/clinician.{fmt}").content
        took = time.perf_counter() - started
        table.add_row(f"clinician report {fmt.upper()} (DEMO-001, with outcome charts; {took:.2f} s)",
                      f"{len(body) / 1024:.1f}", f"{len(gzip.compress(body)) / 1024:.1f}")
    console.print(table)


def page_sizes(base: str, pages: dict[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    table = Table(title="Document size in Chromium, CSS pixels (width x height)")
    for column in ("page", "1280x900", "390x844"):
        table.add_column(column, justify="left" if column == "page" else "right")
    found: dict[str, list[str]] = {label: [] for label in pages}
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=args)
        for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            page: Any = browser.new_context(viewport=viewport).new_page()
            page.goto(base + "/login")
            page.fill("#username", "clinician")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r"/patients$"))
            for label, path in pages.items():
                page.goto(base + path)
                width, height = page.evaluate(
                    "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
                )
                found[label].append(f"{width} x {height:,}")
        browser.close()
    for label, sizes in found.items():
        table.add_row(label, *sizes)
    console.print(table)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--collector", action="store_true", help="only the before/after ratio of the collector")
    args = parser.parse_args(argv)
    if args.collector:
        collector_ratio()
        return 0
    pdf_times(args.rounds)
    with tempfile.TemporaryDirectory() as scratch:
        data = Path(scratch)
        port = free_port()
        process = start_app(data, port)
        try:
            wait_started(process, data / "serve.log")
            base = f"http://127.0.0.1:{port}"
            client = signed_in(base)
            pages = pages_of(client)
            page_weight(client, pages)
            if not args.no_browser:
                page_sizes(base, pages)
        finally:
            process.terminate()
            process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
