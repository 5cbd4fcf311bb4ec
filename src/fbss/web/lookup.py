"""Opening a patient from outside the app (an EHR's CDS Hooks card): by the clinic's record number, never by an id
from another system, and only when the birth year the EHR knows agrees with the record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from fbss.store.errors import UnknownPatientError
from fbss.web.services import Repo
from fbss.web.templating import render

router = APIRouter()


@router.get("/patients/lookup")
def lookup(request: Request, repo: Repo, record: str = "", born: str = "") -> Response:
    """The patient with this record number, if the EHR's birth year (when given) agrees with the record's."""
    try:
        patient = repo.patient(record.strip()).patient
    except UnknownPatientError:
        return render(
            request,
            "error.html",
            status_code=404,
            message="No patient has this record number in FBSS Navigator. Add the patient from the patient list first.",
        )
    if born and patient.birth_year is not None and born != str(patient.birth_year):
        return render(
            request,
            "error.html",
            status_code=409,
            message="The record number matches a patient whose birth year differs from the one the EHR "
            "sent: this may be another person. Open the patient from the patient list.",
        )
    return RedirectResponse(f"/patients/{patient.id}/assessment", status_code=303)
