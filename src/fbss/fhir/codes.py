"""Code systems and extension URLs this project defines, and the small Coding value both directions share."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

BASE = "http://fbss-navigator.org/fhir"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
V2_0074 = "http://terminology.hl7.org/CodeSystem/v2-0074"
V2_0136 = "http://terminology.hl7.org/CodeSystem/v2-0136"


def local_system(name: str) -> str:
    """A code system of this project, e.g. local_system('case-item')."""
    return f"{BASE}/CodeSystem/{name}"


def extension_url(name: str) -> str:
    """An extension defined by this project, e.g. extension_url('side')."""
    return f"{BASE}/StructureDefinition/{name}"


def kebab(name: str) -> str:
    """'SymptomPattern' -> 'symptom-pattern' (code-system names of case enums)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def enum_system(enum: type[Enum]) -> str:
    """The local code system of a case enum (Side -> .../CodeSystem/side)."""
    return local_system(kebab(enum.__name__))


CASE_ITEM = local_system("case-item")  # codes are case paths, e.g. red_flags.fever
DIAGNOSTIC_FINDING = local_system("diagnostic-finding")
TREATMENT = local_system("treatment")
SURGERY_TYPE = local_system("surgery-type")
MODALITY = local_system("modality")
SPINAL_SEGMENT = local_system("spinal-segment")
PROCEDURE_ROLE = local_system("procedure-role")  # index-surgery | earlier-surgery | prior-treatment
PRESENCE = local_system("presence")
DEVICE_KIND = local_system("device-kind")
CAUSE = local_system("cause")
RED_FLAG = local_system("red-flag")
INSTRUMENT_SCORE = local_system("instrument-score")  # the project's `fbss-local:` instrument codes
PLAN_STEP = local_system("plan-step")  # red_flag | definitive | done | screen | test | treatment | scs | refer | review
WORKUP_TEST = local_system("workup-test")  # the work-up catalogue's test ids (knowledge/data/tests.yaml)
TREATMENT_OPTION = local_system("treatment-option")  # the treatment catalogue's option ids (treatments.yaml)
APPROPRIATENESS = local_system("appropriateness")  # appropriate | uncertain | inappropriate (RAND/UCLA bands)
PANEL_CATEGORY = local_system("panel-category")  # conservative | minimally_invasive | neurostimulation | ...
FBSS_OUTPUT = local_system("output")  # marks resources this project produces (assessment outputs)

QUESTIONNAIRE_BASE = f"{BASE}/Questionnaire"

EXT_SIDE = extension_url("side")
EXT_CONTRAST = extension_url("contrast")
EXT_SEGMENT = extension_url("segment")
EXT_REPORTED_IN_FULL = extension_url("reported-in-full")
EXT_APPROACH = extension_url("surgical-approach")
EXT_REGION = extension_url("operated-region")
EXT_INSTRUMENTED = extension_url("instrumented")
EXT_CAGE = extension_url("interbody-cage")
EXT_ICBG = extension_url("iliac-crest-graft")
EXT_PREOP_SYMPTOMS = extension_url("preoperative-symptoms")
EXT_RELIEF_PERCENT = extension_url("relief-percent")
EXT_RELIEF_WEEKS = extension_url("relief-weeks")
EXT_MRI_CONDITIONAL = extension_url("mri-conditional")

SNOMED_PRESENT = "52101004"
SNOMED_ABSENT = "2667000"


@dataclass(frozen=True, slots=True)
class Coding:
    """A FHIR Coding reduced to what mapping needs."""

    system: str | None
    code: str | None
    display: str | None = None

    def fhir(self) -> dict[str, Any]:
        data = {"system": self.system, "code": self.code, "display": self.display}
        return {k: v for k, v in data.items() if v is not None}

    def label(self) -> str:
        """'http://loinc.org|97909-6' — the token form FHIR searches use."""
        return f"{self.system or '(no system)'}|{self.code or '(no code)'}"


def concept(*codings: Coding, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept from codings (and optional text)."""
    data: dict[str, Any] = {"coding": [c.fhir() for c in codings]} if codings else {}
    if text:
        data["text"] = text
    return data


PRESENT_CONCEPT = concept(Coding(SNOMED, SNOMED_PRESENT, "Present"))
ABSENT_CONCEPT = concept(Coding(SNOMED, SNOMED_ABSENT, "Absent"))


def instrument_coding(code: str, display: str | None = None) -> Coding:
    """A `loinc:`/`snomed:`/`fbss-local:` code from instruments.yaml as a FHIR Coding."""
    prefix, _, value = code.partition(":")
    system = {"loinc": LOINC, "snomed": SNOMED, "fbss-local": INSTRUMENT_SCORE}[prefix]
    return Coding(system, value, display)
