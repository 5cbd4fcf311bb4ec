"""A scripted clinician in a real browser: launched from the test EHR into the prefilled case form, confirms it, fills
what the chart did not say (the index operation), decides on the findings read from the chart's letter, and saves.
Shared by the browser test and bench/smart_confirm_bench.py; it counts each click and keystroke it makes."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tests.smart.ehr import Ehr
from tests.web.server import CLINICIAN_PASSWORD

# Keystroke-level model operator times (Card, Moran & Newell, Commun ACM 1980;23(7):396-410): mental preparation
# M 1.35 s, pointing P 1.1 s, a button press and release 2 x B 0.1 s, homing between mouse and keyboard H 0.4 s,
# a keystroke K 0.28 s (an average non-secretarial typist).
KLM_M, KLM_P, KLM_B, KLM_H, KLM_K = 1.35, 1.1, 0.1, 0.4, 0.28


@dataclass
class Walk:
    prefilled: int = 0  # answers the chart filled in (the marks on the form)
    clicks: int = 0
    keystrokes: int = 0
    fields_typed: int = 0
    seconds: float = 0.0  # the scripted clinician's wall time, form shown to assessment shown
    proposals_decided: int = 0
    notes: list[str] = field(default_factory=list)

    def click(self) -> None:
        self.clicks += 1

    def type(self, text: str) -> None:
        self.fields_typed += 1
        self.keystrokes += len(text)

    @property
    def klm_seconds(self) -> float:
        """The keystroke-level model's estimate of a clinician's time for the same clicks and typing."""
        clicks = self.clicks * (KLM_M + KLM_P + 2 * KLM_B)
        typing = self.fields_typed * (KLM_M + KLM_P + 2 * KLM_B + 2 * KLM_H) + self.keystrokes * KLM_K
        return clicks + typing


def sign_in(page: Any, app_url: str) -> None:
    page.goto(app_url + "/login")
    page.fill("#username", "clinician")
    page.fill("#password", CLINICIAN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(app_url + "/patients")


def launcher_url(ehr: Ehr, app_url: str, patient: str) -> str:
    """The test EHR's "open FBSS Navigator" button for this patient."""
    return f"{ehr.url}/launcher?" + urlencode({"patient": patient, "app_launch_url": app_url + "/smart/launch"})


def confirm_prefilled_case(page: Any, launcher_url: str, app_url: str) -> Walk:
    """Open the app from the EHR's launcher (already signed in) and confirm the case; return what it took."""
    walk = Walk()
    page.goto(launcher_url)
    page.wait_for_url(re.compile(re.escape(app_url) + r"/smart/callback"))
    started = time.perf_counter()
    walk.prefilled = page.locator(".from-chart-list li").count()

    page.select_option("#f-index_surgery-type", "microdiscectomy")
    walk.click()
    walk.click()
    page.fill("#f-index_surgery-date", "2025-11-03")
    walk.type("2025-11-03")
    page.fill("#f-index_surgery-levels", "L4-L5")
    walk.type("L4-L5")

    page.get_by_role("button", name="5. Imaging, labs and treatments").click()
    walk.click()
    choosable = page.locator("fieldset.proposal:has(input[value=accept])")
    for index in range(choosable.count()):
        proposal = choosable.nth(index)
        choice = "accept" if "Recurrent disc herniation" in proposal.inner_text() else "reject"
        proposal.locator(f"input[value={choice}]").check()
        walk.click()
        walk.proposals_decided += 1
    if walk.proposals_decided:
        page.get_by_role("button", name="Add the accepted findings").click()
        walk.click()

    page.get_by_role("button", name="Save and assess").click()
    walk.click()
    page.wait_for_url(re.compile(r"/assessment$"))
    walk.seconds = time.perf_counter() - started
    return walk
