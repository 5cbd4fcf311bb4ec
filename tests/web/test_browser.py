"""Browser walks through the real app (uvicorn on loopback, Debian's Chromium headless): a clinician from sign-in
through a new case to the assessment and both PDFs; a patient through the portal, including the PHQ-9 item 9
path; and accessibility checks with a keyboard walk."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from tests.web.a11y import audit, unreachable_by_tab
from tests.web.server import ADMIN_PASSWORD, CLINICIAN_PASSWORD, LiveServer

pytestmark = pytest.mark.browser

REPORT = """MRI LUMBAR SPINE WITH AND WITHOUT CONTRAST
FINDINGS: At L5-S1 there is a left paracentral recurrent disc herniation compressing the left S1 nerve root.
No epidural abscess. Possible enhancing epidural fibrosis.
IMPRESSION: Recurrent disc herniation L5-S1 left."""


def sign_in(page: Any, live: LiveServer, username: str = "clinician", password: str = CLINICIAN_PASSWORD) -> None:
    page.goto(live.url + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/(patients|admin/users)$"))


def pdf_text_and_ink(path: Path) -> tuple[str, tuple[float, float], float]:
    """All text, the first page's size in points, and the least inked page's share of dark pixels."""
    document = pdfium.PdfDocument(path.read_bytes())
    texts, ink = [], []
    for page in document:
        texts.append(page.get_textpage().get_text_range())
        image = page.render(scale=0.5).to_pil().convert("L")
        histogram = image.histogram()
        ink.append(sum(histogram[:200]) / sum(histogram))
    return "\n".join(texts), document[0].get_size(), min(ink)


def test_clinician_walk_from_sign_in_to_pdfs(live: LiveServer, browser: Any, tmp_path: Path) -> None:
    context = browser.new_context(accept_downloads=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live)
    assert page.get_by_role("heading", name="Patients", exact=True).is_visible()
    page.fill("#q", "Moreno")
    page.get_by_role("button", name="Search").click()
    assert page.locator("tbody tr").count() == 1

    page.goto(live.url + "/patients")
    page.fill("#identifier", "WALK-001")
    page.fill("#display_name", "Wanda Walker")
    page.get_by_role("button", name="Add and start a case").click()
    page.wait_for_url(re.compile(r"/case/new$"))

    # The index operation is the one required answer: the message sits next to the field.
    page.get_by_role("button", name="Next: Course and risk factors").click()
    assert page.locator(".error-summary").is_visible()
    assert "required" in page.locator("#f-index_surgery-type-error").inner_text()
    page.select_option("#f-index_surgery-type", "microdiscectomy")
    page.fill("#f-index_surgery-date", "2025-11-02")
    page.fill("#f-index_surgery-levels", "L5-S1")
    page.get_by_role("button", name="Next: Course and risk factors").click()

    assert page.locator("#f-course-relief_after_surgery-unknown").is_checked()  # unknown is the default answer
    page.check("#f-course-relief_after_surgery-present")
    page.fill("#f-course-pain_free_interval_months", "8")
    page.get_by_role("button", name="Next: Pain").click()

    page.fill("#f-pain-nrs_leg", "12")
    page.check("#f-pain-dermatomal-present")
    page.get_by_role("button", name="Next: Examination and red flags").click()
    assert "less than or equal to 10" in page.locator("#f-pain-nrs_leg-error").inner_text()
    page.fill("#f-pain-nrs_leg", "7")
    page.get_by_role("button", name="Next: Examination and red flags").click()

    page.check("#f-red_flags-urinary_retention-present")
    # a reflex row is entered on the examination step and travels with the other steps
    page.select_option("#f-reflexes-0-reflex", "achilles")
    page.select_option("#f-reflexes-0-side", "left")
    page.select_option("#f-reflexes-0-state", "absent")
    page.get_by_role("button", name="Next: Imaging, labs and treatments").click()

    page.fill("#f-report_text", REPORT)
    page.get_by_role("button", name="Read the report").click()
    proposals = page.locator("fieldset.proposal")
    assert proposals.count() >= 3
    page.get_by_role("button", name="Add the accepted findings").click()
    assert "accept or reject" in page.locator(".proposal .error-text").first.inner_text()  # nothing applied silently
    choosable = page.locator("fieldset.proposal:has(input[value=accept])")
    for index in range(choosable.count()):
        choice = "accept" if "Recurrent disc herniation" in choosable.nth(index).inner_text() else "reject"
        choosable.nth(index).locator(f"input[value={choice}]").check()
    page.get_by_role("button", name="Add the accepted findings").click()
    assert page.locator("#f-diagnostics-0-finding").input_value() == "recurrent_disc_herniation"
    assert page.locator("#f-diagnostics-1-finding").input_value() in ("", "recurrent_disc_herniation")
    page.get_by_role("button", name="Examination and red flags").click()
    assert page.locator("#f-reflexes-0-state").input_value() == "absent"
    page.get_by_role("button", name="Next: Imaging, labs and treatments").click()

    page.fill("#f-note", "walk-through")
    page.get_by_role("button", name="Save and assess").click()
    page.wait_for_url(re.compile(r"/assessment$"))
    content = page.content()
    assert content.index("EMERGENCY") < content.index("Likely causes")  # the red-flag banner comes first
    assert page.locator(".chart svg").count() == 1
    first = page.locator("details.cause").filter(has_text="Recurrent disc herniation").first
    first.locator("summary").click()
    assert first.get_by_role("heading", name="Raised by").is_visible()

    page.select_option("#report-lang", "es")
    page.select_option("#report-page", "Letter")
    with page.expect_download() as handout:
        page.get_by_role("button", name="Patient handout (PDF)").click()
    handout_path = tmp_path / "handout.pdf"
    handout.value.save_as(handout_path)
    page.select_option("#report-lang", "en")
    page.select_option("#report-page", "A4")
    with page.expect_download() as report:
        page.get_by_role("button", name="Clinician report (PDF)").click()
    report_path = tmp_path / "report.pdf"
    report.value.save_as(report_path)

    text, size, ink = pdf_text_and_ink(report_path)
    assert size == pytest.approx((595.3, 841.9), abs=1)
    assert "FBSS Navigator assessment" in text and "Recurrent disc herniation" in text
    assert "cauda equina" in text.lower()
    assert ink > 0.005
    text, size, ink = pdf_text_and_ink(handout_path)
    assert size == pytest.approx((612, 792), abs=1)
    assert "Su dolor de espalda después de la cirugía" in text
    assert ink > 0.005

    page.goto(live.url + "/patients")
    page.get_by_role("link", name="WALK-001").click()
    page.get_by_role("link", name="History").click()
    assert page.get_by_text("walk-through").is_visible()
    context.close()


def test_patient_portal_walk_with_the_item_9_alert(live: LiveServer, browser: Any) -> None:
    clinic = browser.new_context(viewport={"width": 1280, "height": 900})
    page = clinic.new_page()
    sign_in(page, live)
    page.fill("#q", "DEMO-002")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="DEMO-002").click()
    page.get_by_role("link", name="Outcomes and portal").click()
    page.select_option("#time_point", "baseline")
    page.get_by_role("button", name="Create a portal link").click()
    url = page.locator("#portal-url").input_value()
    assert "/portal/open/" in url

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    patient = phone.new_page()
    patient.goto(url)
    patient.wait_for_url(re.compile(r"/portal$"))
    assert "/open/" not in patient.url  # the token leaves the address bar
    assert patient.get_by_text("Your answers are not read in real time").is_visible()
    assert "emergency" in patient.locator(".crisis").inner_text()
    assert "DEMO-002" not in patient.content() and "Okafor" not in patient.content()
    patient.get_by_role("link", name="Español").click()
    assert patient.get_by_role("heading", name="Sus cuestionarios").is_visible()
    patient.get_by_role("link", name="English").click()
    patient.get_by_role("link", name="Start").click()

    for _ in range(2):  # back and leg pain, 0-10
        patient.locator("label").filter(has_text=re.compile(r"^6$")).click()
        patient.get_by_role("button", name="Send these answers").click()
    patient.wait_for_url(re.compile(r"/portal/q/phq9$"))
    crisis_now = patient.locator("#crisis-now")
    assert crisis_now.is_hidden()
    for item in range(1, 9):
        patient.locator(f"#q-item{item} input[value='0']").check()
    patient.locator("#q-item9 input[value='1']").check()
    assert crisis_now.is_visible()  # shown at once, before the answers are sent
    patient.get_by_role("button", name="Send these answers").click()
    alert = patient.get_by_role("alert")
    assert "not read in real time" in alert.inner_text()
    assert "emergency" in alert.inner_text()
    patient.get_by_role("link", name="Continue with the next questionnaire").click()
    for item in range(1, 8):
        patient.locator(f"#q-item{item} input[value='1']").check()
    patient.get_by_role("button", name="Send these answers").click()
    assert patient.get_by_role("heading", name="Thank you").is_visible()
    patient.goto(live.url + "/portal")
    assert patient.get_by_role("heading", name="This link does not work any more").is_visible()
    patient.goto(url)
    assert patient.get_by_role("heading", name="This link does not work any more").is_visible()
    phone.close()

    page.goto(live.url + "/patients")
    urgent = page.locator("section[aria-labelledby=urgent-heading]")
    assert "Brenda Okafor" in urgent.inner_text()
    assert "PHQ-9 item 9" in urgent.inner_text()
    clinic.close()


def test_pages_are_accessible_and_keyboard_navigable(live: LiveServer, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live.url + "/login")
    problems = {"/login": audit(page)}
    assert unreachable_by_tab(page) == []
    sign_in(page, live)
    ids = dict(re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', page.content()))
    by_record = {record: pid for pid, record in ids.items()}
    pages = [
        "/patients",
        f"/patients/{by_record['DEMO-003']}/assessment",
        f"/patients/{by_record['DEMO-001']}/assessment",
        f"/patients/{by_record['DEMO-001']}/history",
        f"/patients/{by_record['DEMO-001']}/outcomes",
        f"/patients/{by_record['DEMO-001']}/case/new",
        f"/patients/{by_record['DEMO-001']}/case/new?step=pain",
        f"/patients/{by_record['DEMO-001']}/case/new?step=exam",
        f"/patients/{by_record['DEMO-001']}/case/new?step=imaging",
    ]
    for path in pages:
        page.goto(live.url + path)
        problems[path] = audit(page)
    page.goto(live.url + f"/patients/{by_record['DEMO-001']}/case/new")
    assert unreachable_by_tab(page) == []
    page.goto(live.url + f"/patients/{by_record['DEMO-003']}/assessment")
    assert unreachable_by_tab(page) == []

    page.goto(live.url + f"/patients/{by_record['DEMO-007']}/outcomes")
    page.get_by_role("button", name="Create a portal link").click()
    url = page.locator("#portal-url").input_value()
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    patient = phone.new_page()
    patient.goto(url)
    problems["/portal"] = audit(patient)
    patient.goto(live.url + "/portal/q/phq9")
    problems["/portal/q/phq9"] = audit(patient)
    assert unreachable_by_tab(patient) == []
    phone.close()

    admin = browser.new_context().new_page()
    sign_in(admin, live, "admin", ADMIN_PASSWORD)
    problems["/admin/users"] = audit(admin)
    admin.goto(live.url + "/admin/audit")
    problems["/admin/audit"] = audit(admin)
    assert {path: found for path, found in problems.items() if found} == {}
    context.close()


def _demo_ids(page: Any) -> dict[str, str]:
    """Record number -> patient id, read from the patient list."""
    return {record: pid for pid, record in re.findall(r'href="/patients/(\d+)">(DEMO-\d+)<', page.content())}


def test_assessment_page_shows_work_up_option_grid_scs_and_plan(live: LiveServer, browser: Any, kb: Any) -> None:
    """DEMO-001 is the recurrent-herniation example without a deficit: examples/expected_plans.yaml says conservative
    care is appropriate, re-operation and revision discectomy "could be considered" (uncertain) while conservative
    care has not been tried, SCS stopped (a lesion surgery could fix), no MRI in the work-up (it is done)."""
    titles = {t.id: t.title for t in kb.care.treatments} | {t.id: t.title for t in kb.care.tests.tests}
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live)
    ids = _demo_ids(page)
    page.goto(live.url + f"/patients/{ids['DEMO-001']}/assessment")

    workup = page.locator("section#workup")
    assert workup.get_by_role("heading", name="Work-up").is_visible()
    rows = workup.locator("table.workup tbody tr")
    # investigations in the table, history and examination questions listed apart from them
    assert rows.count() >= 1
    assert rows.count() + workup.locator("ul.workup-questions li").count() >= 3
    first = rows.first
    cells = first.locator("td, th")
    assert cells.nth(0).inner_text().strip() == "1"
    assert cells.nth(2).inner_text().strip(), "a test without its reason"
    assert cells.nth(3).inner_text().strip(), "a test without what it separates"
    assert re.match(r"\d+(\.\d+)?", cells.nth(4).inner_text().strip()), "a test without its burden"
    assert workup.locator("[data-test=mri_gadolinium]").count() == 0  # already done: not suggested again
    assert "MRI of the operated spine" in workup.locator("details.not-suggested").text_content()

    options = page.locator("section#options")
    assert "appropriate 7/9" in options.locator("[data-category=conservative]").inner_text()
    assert "uncertain 6/9" in options.locator("[data-category=reoperation]").inner_text()
    assert "inappropriate" in options.locator("[data-category=neurostimulation]").inner_text()
    revision = options.locator("tr[data-option=revision_discectomy]")
    assert revision.is_visible()
    assert titles["revision_discectomy"] in revision.inner_text()
    assert "uncertain" in revision.locator(".pill.rating").inner_text()
    assert revision.locator("td").nth(1).locator("li").count() >= 1  # pros
    assert revision.locator("td").nth(2).locator("li").count() >= 1  # cons
    revision.get_by_text("Evidence and sources").click()
    assert revision.locator("details ol li").count() >= 1  # sources on demand
    hidden = options.locator("tr[data-option=scs_conventional]")
    assert hidden.is_hidden()  # rated inappropriate: folded away until asked for
    options.locator("details.inappropriate-options > summary").click()
    assert hidden.is_visible() and "inappropriate" in hidden.inner_text()

    scs = page.locator("section#scs")
    assert "Advice stopped" in scs.locator(".scs-advice").inner_text()
    assert scs.locator("table.nice tbody tr").count() >= 3

    plan = page.locator("section#plan")
    steps = plan.locator("ol.plan-steps > li")
    assert steps.count() >= 3
    assert titles["revision_discectomy"] in plan.inner_text()
    assert plan.get_by_role("heading", name="Follow-up").is_visible()

    content = page.content()
    order = [content.index(f'id="{name}-heading"') for name in ("causes", "workup", "options", "scs", "plan")]
    assert order == sorted(order)

    # A red-flag case: each banner gives the action, then the definitive treatment; the post-void residual already
    # measured is shown, not ordered again; the open questions are one checklist apart from the banners.
    page.goto(live.url + f"/patients/{ids['DEMO-003']}/assessment")
    banner = page.locator("[data-flag=cauda_equina]")
    text = banner.inner_text()
    assert text.index("Emergency MRI") < text.index("Definitive treatment") < text.index("Why: fired by")
    assert banner.locator("[data-option=emergency_decompression]").is_visible()
    assert "650" in banner.locator("[data-test=bladder_scan]").inner_text()
    urgent = page.locator("section#workup .urgent-test")
    assert urgent.evaluate_all("els => els.map(e => e.dataset.test)") == ["mri_plain"]
    assert "urgent test" in urgent.first.inner_text().lower()
    assert page.locator("section#workup [data-test=bladder_scan].recorded").is_visible()
    screen = page.locator("section.screen")
    assert screen.get_attribute("role") is None and banner.get_attribute("role") == "alert"
    assert re.match(r"Red-flag screen: \d+ questions open", screen.locator("h3").inner_text())
    offered = page.locator("section#options table.option-grid tr.option.appropriate")
    assert all("urgent, not elective" in text for text in offered.all_inner_texts())
    plan = page.locator("section#plan ol.plan-steps > li")
    assert plan.nth(0).get_attribute("class") == "step red_flag"
    assert plan.nth(1).get_attribute("class") == "step definitive"
    assert "Re-assess once the red flag is resolved" in page.locator("section#plan").inner_text()
    context.close()


def test_screen_negative_answers_the_whole_screen_in_one_step(live: LiveServer, browser: Any) -> None:
    """DEMO-003 (retention after a discectomy) has red-flag questions open. Ticking 'red-flag screen negative' on
    the case form answers them at once, recorded with who and when; the retention still fires its flag."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, live)
    ids = _demo_ids(page)
    page.goto(live.url + f"/patients/{ids['DEMO-003']}/assessment")
    before = int(page.locator("section.screen").get_attribute("data-open") or 0)
    assert before > 3
    page.goto(live.url + f"/patients/{ids['DEMO-003']}/case/new?step=exam")
    control = page.get_by_label("Red-flag screen negative")
    assert not control.is_checked()
    control.check()
    page.fill("#f-note", "screen negative")
    page.get_by_role("button", name="Save and assess").click()
    page.wait_for_url(re.compile(r"/assessment$"))
    assert page.locator("[data-flag=cauda_equina]").is_visible()  # a recorded 'present' still counts
    screen = page.locator("section.screen")
    after = int(screen.get_attribute("data-open") or 0) if screen.count() else 0
    assert after < before
    for item in page.locator("section.screen li").all():
        assert item.get_attribute("data-finding") not in ("meningism", "positional_headache", "sexual_dysfunction_new")
    page.goto(live.url + f"/patients/{ids['DEMO-003']}/case/new?step=exam")
    assert page.get_by_label("Red-flag screen negative").is_checked()  # recorded for this visit
    page.goto(live.url + f"/patients/{ids['DEMO-003']}/history")
    assert "red flag screen" in page.content().lower() and "clinician" in page.content()
    context.close()
