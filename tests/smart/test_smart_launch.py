"""SMART App Launch end to end, over HTTP on loopback: the test EHR's launcher opens the app, the app authorises with
PKCE and state, exchanges the code, reads the chart with the granted scopes and opens the case form prefilled with
each imported answer marked; and every way the protocol can go wrong is refused with a message, never a traceback."""

from __future__ import annotations

import html
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from fbss.fhir.smart import SCOPES, Grant, readable, s256
from tests.smart.app_server import App
from tests.smart.conftest import follow, signed_in
from tests.smart.ehr import Ehr, pkce_s256
from tests.smart.walk import launcher_url

CHART = "recurrent_leg_pain_on_warfarin"


def checked(page: str, name: str, value: str) -> bool:
    """Whether the radio button `name` = `value` is the one checked on the page."""
    dom_id = "f-" + name.replace(".", "-")
    return f'name="{name}" value="{value}" id="{dom_id}-{value}" checked' in page


def launch_url(ehr: Ehr, app: App, patient: str) -> str:
    return launcher_url(ehr, app.url, patient)


def test_pkce_s256_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert s256(verifier) == pkce_s256(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_granted_scopes_decide_what_is_read() -> None:
    grant = Grant("t", "p", frozenset({"patient/Patient.r", "patient/Observation.rs", "patient/Condition.read"}), "x")
    assert readable(grant, "Patient") and readable(grant, "Observation") and readable(grant, "Condition")
    assert not readable(grant, "MedicationRequest")
    assert not readable(Grant("t", "p", frozenset({"patient/Observation.r"}), "x"), "Observation")  # no search
    assert readable(Grant("t", "p", frozenset({"patient/*.rs"}), "x"), "DocumentReference")


def test_ehr_launch_opens_the_case_form_prefilled_from_the_chart(ehr: Ehr, app: App) -> None:
    patient = ehr.load_chart(CHART)
    client = signed_in(app)
    page, hops = follow(client, launch_url(ehr, app, patient))
    assert page.status_code == 200, page.text[:500]
    authorize = next(h for h in hops if "/auth/authorize" in h)
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["aud"] == [ehr.fhir] and set(query["scope"][0].split()) == set(SCOPES)
    assert "code_verifier" not in authorize  # the verifier never leaves the app before the token request

    text = html.unescape(page.text)
    assert "From the chart at" in text
    assert "The chart names no spine operation: enter the index operation." in text
    assert "finding(s) read from the chart's documents" in text
    # answers filled and marked with their source
    assert checked(page.text, "patient.anticoagulant", "present")
    assert "from the chart: MedicationRequest/warfarin" in text
    assert 'name="patient.egfr" value="58"' in page.text  # eGFR sent in mL/min
    # later steps travel as hidden fields; the list of imported answers names each source
    assert '<input type="hidden" name="pain.nrs_back" value="7">' in page.text
    assert "Back pain now, NRS 0-10: Observation/pain-1" in text
    assert '<input type="hidden" name="risk_factors.smoking" value="present">' in page.text
    assert '<input type="hidden" name="risk_factors.peripheral_neuropathy" value="present">' in page.text
    assert checked(page.text, "patient.contrast_allergy", "present")
    # a stopped clopidogrel is history: the antiplatelet question stays unknown
    assert checked(page.text, "patient.antiplatelet", "unknown")
    # searches paged, within the granted scopes, for this patient only
    assert f"GET Observation?patient={patient}" in ehr.requests
    assert "GET Binary/letter-1" in ehr.requests
    # the patient now exists in FBSS Navigator under the chart's record number
    assert client.get("/patients", params={"q": "MRN-7734"}).text.count("MRN-7734") >= 1


def test_the_clinician_confirms_and_the_case_is_assessed(ehr: Ehr, app: App) -> None:
    patient = ehr.load_chart(CHART)
    client = signed_in(app)
    page, _ = follow(client, launch_url(ehr, app, patient))
    form = _form_fields(page.text)
    form.update(
        {
            "index_surgery.type": "microdiscectomy",
            "index_surgery.date": "2025-11-03",
            "index_surgery.levels": "L4-L5",
            "go": "save",
        }
    )
    action = _form_action(page.text)
    saved = client.post(action, data=form)
    assert saved.status_code == 303 and saved.headers["location"].endswith("/assessment")
    assessment = client.get(saved.headers["location"])
    assert assessment.status_code == 200 and "Likely causes" in assessment.text


def test_a_launch_from_an_unregistered_ehr_is_refused(app: App) -> None:
    client = signed_in(app)
    response = client.get("/smart/launch", params={"iss": "http://127.0.0.1:9/fhir", "launch": "x"})
    assert response.status_code == 400 and "not registered" in html.unescape(response.text)


def authorised(ehr: Ehr, app: App) -> tuple[httpx.Client, str]:
    """A signed-in client stopped where the EHR redirects back with the code: the client and the code."""
    patient = ehr.load_chart(CHART)
    client = signed_in(app)
    response = client.get(launch_url(ehr, app, patient))  # the launcher
    response = client.get(response.headers["location"])  # the app's launch: the cookie is set here
    authorize = client.get(response.headers["location"])  # the EHR authorises
    return client, parse_qs(urlsplit(authorize.headers["location"]).query)["code"][0]


def test_a_callback_with_the_wrong_state_is_refused(ehr: Ehr, app: App) -> None:
    client, code = authorised(ehr, app)
    forged = client.get("/smart/callback", params={"code": code, "state": "not-the-state"})
    assert forged.status_code == 400 and "state mismatch" in html.unescape(forged.text)


def test_a_callback_without_a_launch_is_refused(app: App) -> None:
    client = signed_in(app)
    response = client.get("/smart/callback", params={"code": "abc", "state": "def"})
    assert response.status_code == 400 and "expired or was already used" in html.unescape(response.text)


def test_the_ehr_refuses_a_token_request_without_the_right_verifier(ehr: Ehr, app: App) -> None:
    """The test EHR is a real authorisation server: a stolen code is useless without the app's PKCE verifier."""
    _client, code = authorised(ehr, app)
    stolen = httpx.post(
        ehr.url + "/auth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.url + "/smart/callback",
            "client_id": "fbss-navigator",
            "code_verifier": "x" * 50,
        },
    )
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"


def test_withheld_scopes_are_not_read_and_are_named(ehr: Ehr, app: App) -> None:
    patient = ehr.load_chart(CHART)
    ehr.withheld_scopes = {"patient/MedicationRequest.rs"}
    try:
        client = signed_in(app)
        page, _ = follow(client, launch_url(ehr, app, patient))
    finally:
        ehr.withheld_scopes = set()
    text = html.unescape(page.text)
    assert page.status_code == 200 and "Not read: MedicationRequest: not granted" in text
    assert checked(page.text, "patient.anticoagulant", "unknown")


def test_a_launch_needs_a_signed_in_clinician(ehr: Ehr, app: App) -> None:
    client = httpx.Client(base_url=app.url, follow_redirects=False)
    response = client.get("/smart/launch", params={"iss": ehr.fhir, "launch": "abc"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def _form_action(page: str) -> str:
    import re

    match = re.search(r'<form method="post" action="([^"]+/case/new)"', page)
    assert match
    return match.group(1)


def _form_fields(page: str) -> dict[str, str]:
    """What the browser would post: hidden and text inputs, checked radios, selected options, textareas."""
    import re

    fields: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="radio"' in tag and " checked" not in tag:
            continue
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    for name, body in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        fields[name] = html.unescape(body)
    return fields


pytestmark = pytest.mark.slow
