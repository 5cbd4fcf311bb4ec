"""How long a clinician's form work takes once the EHR has filled the case: the test EHR (launcher, authorisation
server, FHIR server) and the app on 127.0.0.1, Debian's Chromium driven by Playwright as a scripted clinician who
launches from the chart, fills what the chart did not say, decides on the findings read from the chart's letter and
saves. Reports the clicks and keystrokes it took, the scripted wall time (form shown to assessment shown) and the
keystroke-level model's estimate of a person's time for the same actions.

    uv run python bench/smart_confirm_bench.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test EHR and the scripted clinician live in the test tree

from tests.smart.app_server import running_app  # noqa: E402
from tests.smart.ehr import running_ehr  # noqa: E402
from tests.smart.walk import KLM_M, Walk, confirm_prefilled_case, launcher_url, sign_in  # noqa: E402
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

from fbss.knowledge.loader import load_knowledge  # noqa: E402

CHART = "recurrent_leg_pain_on_warfarin"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    walks: list[Walk] = []
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_ehr() as ehr,
        running_app(ehr, load_knowledge(), Path(tmp)) as app,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        for _round in range(args.rounds):
            patient = ehr.load_chart(CHART)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            sign_in(page, app.url)
            walks.append(confirm_prefilled_case(page, launcher_url(ehr, app.url, patient), app.url))
            context.close()
        browser.close()
    first = walks[0]
    table = Table("measure", "value")
    table.add_row("answers filled from the chart (marked on the form)", str(first.prefilled))
    table.add_row("findings from the chart's letter decided (accept or reject)", str(first.proposals_decided))
    table.add_row("clicks", str(first.clicks))
    table.add_row("fields typed / keystrokes", f"{first.fields_typed} / {first.keystrokes}")
    seconds = [w.seconds for w in walks]
    median = statistics.median(seconds)
    table.add_row(f"scripted clinician, form to assessment (median of {len(walks)})", f"{median:.2f} s")
    table.add_row("scripted clinician, range", f"{min(seconds):.2f}–{max(seconds):.2f} s")
    table.add_row("keystroke-level model estimate for a person (these clicks and keys)", f"{first.klm_seconds:.1f} s")
    checked = first.klm_seconds + first.prefilled * KLM_M
    table.add_row("… plus one mental operator (1.35 s) to check each prefilled answer", f"{checked:.1f} s")
    Console().print(table)


if __name__ == "__main__":
    main()
