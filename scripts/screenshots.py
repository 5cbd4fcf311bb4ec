"""Screenshots of the clinic web app for docs/screenshots/, taken from the demo data with Debian's Chromium.

    uv run --frozen python scripts/screenshots.py [--out docs/screenshots] [--chromium /usr/bin/chromium]

Runs the app on loopback (uvicorn in a thread) on a throw-away SQLite file seeded like `fbss serve --demo`, signs
in as the demo clinician on a desktop (1280x900) and on a phone (390x844), walks a patient through the portal on the
phone, and writes one PNG per page (`-phone` in the name: the phone's first screen or the stated part of the page),
plus page 1 of a clinician report.
"""

from __future__ import annotations

import argparse
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from PIL import Image

from fbss.knowledge.loader import load_knowledge
from fbss.store.database import Database
from fbss.store.portal import Portal
from fbss.web import demo
from fbss.web.app import create_app
from fbss.web.config import WebConfig

ROOT = Path(__file__).resolve().parents[1]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PASSWORD = "screenshot-clinician-pw"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def demo_app(directory: Path) -> Iterator[tuple[str, Database]]:
    """The app on a fresh demo database, served on a free loopback port; yields its address and the database."""
    db = Database.open(f"sqlite:///{directory / 'demo.sqlite3'}")
    db.upgrade()
    kb = load_knowledge()
    demo.seed(db, kb)
    demo.ensure_accounts(db)  # the clinician's password comes from FBSS_DEMO_CLINICIAN_PASSWORD (set in main)
    config = WebConfig(secret_key="screenshots-" + "k" * 40, crisis_contacts_file=demo.CRISIS_CONTACTS)
    app = create_app(db, kb, config)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/login", timeout=1)
            break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start") from None
            time.sleep(0.05)
    try:
        yield url, db
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        db.close()


def save_existing(path: Path) -> Path:
    """A PNG already written, reduced to a 256-colour palette."""
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def save(page: Any, path: Path, *, element: str | None = None, height: int | None = None) -> Path:
    """A PNG of the page (or one element), cut to `height` pixels, reduced to a 256-colour palette."""
    if element is not None:
        box = page.locator(element).first.bounding_box()
        clip = {"x": 0, "y": box["y"] - 8, "width": page.viewport_size["width"], "height": box["height"] + 16}
        if height is not None:
            clip["height"] = min(clip["height"], height)
        page.screenshot(path=str(path), full_page=True, clip=clip)
    elif height is not None:
        total = page.evaluate("() => document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": min(total, height)}
        page.screenshot(path=str(path), full_page=True, clip=clip)
    else:
        page.screenshot(path=str(path), full_page=True)
    with Image.open(path) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


REPORT = """CT LUMBAR SPINE
FINDINGS: L4-S1 posterolateral fusion. No bridging bone at L5-S1; solid bridging bone across L4-5.
Lucency around the left S1 screw, concerning for loosening. No evidence of infection.
The conus ends at L1.
IMPRESSION: Pseudarthrosis at L5-S1."""


def report_page_one(url: str, cookies: list[dict[str, Any]], pid: str, path: Path) -> Path:
    """Page 1 of the clinician report (the decision summary), rendered from the PDF the app serves."""
    import pypdfium2 as pdfium

    jar = {c["name"]: c["value"] for c in cookies}
    pdf = httpx.get(f"{url}/patients/{pid}/reports/clinician.pdf", cookies=jar, timeout=120).content
    pdfium.PdfDocument(pdf)[0].render(scale=1.4).to_pil().save(path)
    return save_existing(path)


def patient_ids(page: Any) -> dict[str, str]:
    return {record: pid for pid, record in re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', page.content())}


def take(out: Path, chromium: Path) -> list[Path]:
    """Every screenshot, written to `out`; returns the files."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with tempfile.TemporaryDirectory() as scratch, demo_app(Path(scratch)) as (url, db), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS)
        desk = browser.new_context(viewport=DESKTOP, device_scale_factor=1)
        page = desk.new_page()
        page.goto(url + "/login")
        written.append(save(page, out / "sign-in.png", height=600))
        page.fill("#username", "clinician")
        page.fill("#password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r"/patients$"))
        ids = patient_ids(page)
        written.append(save(page, out / "patients.png", height=1400))

        page.goto(url + f"/patients/{ids['DEMO-001']}/case/new?step=pain")
        page.fill("#f-pain-nrs_leg", "12")
        page.get_by_role("button", name="Next: Examination and red flags").click()  # an inline, specific message
        written.append(save(page, out / "case-form.png", height=1500))

        page.goto(url + f"/patients/{ids['DEMO-001']}/assessment")
        written.append(save(page, out / "assessment.png", height=1700))
        written.append(save(page, out / "assessment-work-up.png", element="section#workup", height=1500))
        written.append(save(page, out / "assessment-options.png", element="section#options", height=1700))
        written.append(save(page, out / "assessment-plan.png", element="section#plan", height=1700))
        page.goto(url + f"/patients/{ids['DEMO-003']}/assessment")
        written.append(save(page, out / "assessment-red-flag.png", height=1100))
        page.goto(url + f"/patients/{ids['DEMO-001']}/history")
        written.append(save(page, out / "history.png", height=1300))
        page.goto(url + f"/patients/{ids['DEMO-001']}/outcomes")
        written.append(save(page, out / "outcomes.png", height=2000))
        page.goto(url + f"/patients/{ids['DEMO-002']}/case/new?step=imaging")
        page.fill("#f-report_text", REPORT)
        page.get_by_role("button", name="Read the report").click()
        reading = "fieldset:has(> legend:text('Paste a radiology report'))"
        written.append(save(page, out / "report-reading.png", element=reading, height=1500))
        written.append(report_page_one(url, desk.cookies(), ids["DEMO-001"], out / "clinician-report-page-1.png"))

        mobile = browser.new_context(viewport=PHONE, device_scale_factor=1)
        small = mobile.new_page()
        small.goto(url + "/login")
        small.fill("#username", "clinician")
        small.fill("#password", PASSWORD)
        small.get_by_role("button", name="Sign in").click()
        small.wait_for_url(re.compile(r"/patients$"))
        written.append(save(small, out / "patients-phone.png", height=PHONE["height"]))
        small.goto(url + f"/patients/{ids['DEMO-001']}/assessment")
        written.append(save(small, out / "assessment-phone.png", height=PHONE["height"]))
        small.goto(url + f"/patients/{ids['DEMO-003']}/assessment")
        written.append(save(small, out / "assessment-red-flag-phone.png", height=PHONE["height"]))
        small.goto(url + f"/patients/{ids['DEMO-001']}/case/new?step=imaging")
        written.append(save(small, out / "case-form-phone.png", element="fieldset.rows", height=PHONE["height"]))
        mobile.close()

        token, _link = Portal(db, user="screenshots").create_link("DEMO-002", time_point="baseline")
        phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=1)
        patient = phone.new_page()
        patient.goto(url + f"/portal/open/{token}")
        patient.wait_for_url(re.compile(r"/portal$"))
        written.append(save(patient, out / "portal-phone.png"))
        patient.get_by_role("link", name="Start").click()
        for _ in range(2):  # back and leg pain, 0-10
            patient.locator("label").filter(has_text=re.compile(r"^6$")).click()
            patient.get_by_role("button", name="Send these answers").click()
        patient.wait_for_url(re.compile(r"/portal/q/phq9$"))
        written.append(save(patient, out / "portal-questionnaire.png", height=1600))
        for item in range(1, 9):
            patient.locator(f"#q-item{item} input[value='0']").check()
        patient.locator("#q-item9 label").filter(has=patient.locator("input[value='1']")).click()
        patient.screenshot(path=str(out / "portal-crisis-phone.png"))  # what the phone shows the moment it is chosen
        written.append(save_existing(out / "portal-crisis-phone.png"))
        patient.get_by_role("button", name="Send these answers").click()
        patient.get_by_role("alert").wait_for()
        written.append(save(patient, out / "portal-urgent.png"))
        phone.close()

        page.goto(url + "/patients")  # the urgent alert now heads the clinician's list
        written.append(save(page, out / "patients-urgent-alert.png", height=900))
        desk.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--chromium", type=Path, default=Path("/usr/bin/chromium"))
    args = parser.parse_args(argv)
    if not args.chromium.exists():
        print(f"no Chromium at {args.chromium}: run bash scripts/system-packages.sh", file=sys.stderr)
        return 1
    import os

    os.environ[demo.CLINICIAN_PASSWORD_VARIABLE] = PASSWORD
    for path in take(args.out, args.chromium):
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
