"""The EHR launch in a real browser (Debian's Chromium through Playwright): the test EHR's launcher opens the app,
the case form comes prefilled with each imported answer marked, the clinician fills the index operation, decides on
the findings read from the chart's clinic letter, and saves; the assessment follows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.smart.app_server import App
from tests.smart.ehr import Ehr
from tests.smart.walk import confirm_prefilled_case, launcher_url, sign_in
from tests.web.conftest import browser  # noqa: F401 (the shared Chromium fixture)

pytestmark = pytest.mark.browser


def test_ehr_launch_prefilled_draft_confirm_and_assessment(ehr: Ehr, app: App, browser: Any) -> None:  # noqa: F811
    patient = ehr.load_chart("recurrent_leg_pain_on_warfarin")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, app.url)
    launcher = launcher_url(ehr, app.url, patient)
    page.goto(launcher)
    page.wait_for_url(f"{app.url}/smart/callback*")
    # the draft: imported answers marked, what is missing asked for
    assert page.locator(".notice").inner_text().startswith("From the chart at")
    anticoagulant = page.locator("#f-patient-anticoagulant")
    assert anticoagulant.locator("input[value=present]").is_checked()
    assert "from the chart: MedicationRequest/warfarin" in anticoagulant.inner_text()
    page.locator(".from-chart-list summary").click()
    assert "Back pain now, NRS 0-10: Observation/pain-1" in page.locator(".from-chart-list").inner_text()

    walk = confirm_prefilled_case(page, launcher, app.url)
    assert walk.prefilled >= 9 and walk.proposals_decided >= 1
    assert "Likely causes" in page.content()
    diagnostics = page.locator("body").inner_text()
    assert "Recurrent disc herniation" in diagnostics  # the finding accepted from the clinic letter
    context.close()
