"""The "paste a radiology report" step: proposed findings for the clinician to accept or reject one by one;
only accepted ones become diagnostic rows of the case (nothing is applied silently), merged with the rows already
entered by hand. The sentences in which nothing was recognised are listed, so nothing is dropped without a trace."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from fbss import jsonlimits
from fbss.case.vocabulary import MODALITY_LABEL, DiagnosticFinding, Modality, level_index, parse_place, parse_segment
from fbss.errors import FbssError
from fbss.web import caseform

FLAG_WORDS = {"uncertain": "hedged", "hypothetical": "hypothetical", "historical": "historical"}
MAX_PROPOSALS = 60
# One report is read at a time: reading is CPU-bound (a 100,000-character paste takes seconds), and pastes
# arriving together must not take the processor from everyone else's pages.
_READING = threading.BoundedSemaphore(1)
READING_WAIT_SECONDS = 20.0
_BOUNDARY = re.compile(r"[.!?\n]")


@dataclass
class Reading:
    """What the report reader proposes: findings to accept or reject, the sentences it could not read, and the
    study the findings come from (the report's own, else the first study entered on the form)."""

    proposals: list[dict[str, Any]]
    not_understood: list[str]
    modality: str | None


@dataclass
class Applied:
    values: dict[str, str]
    added: int = 0
    merged: int = 0
    kept: list[str] = field(default_factory=list)  # rows entered by hand that the report contradicts: kept as they are


def _place(levels: tuple[str, ...] | list[str]) -> str | None:
    """The level to enter for a finding: one vertebra or segment as it is; contiguous segments as one range
    (L4-L5 and L5-S1 -> L4-S1); otherwise the first."""
    places = []
    for level in levels:
        try:
            places.append(parse_place(str(level)))
        except ValueError:
            continue
    if not places:
        return None
    segments = [p for p in places if "-" in p]
    if len(segments) == len(places) and len(segments) > 1:
        bounds = sorted((parse_segment(s) for s in segments), key=lambda b: level_index(b[0]))
        contiguous = all(a[1] == b[0] for a, b in pairwise(bounds))
        if contiguous:
            return f"{bounds[0][0]}-{bounds[-1][1]}"
    return places[0]


def _sentence(text: str, start: int, end: int) -> tuple[str, str]:
    """The text of the sentence before and after a mention, so that the hedge or negation around it shows."""
    before_at = max((m.end() for m in _BOUNDARY.finditer(text, 0, start)), default=0)
    after = _BOUNDARY.search(text, end)
    return text[before_at:start].lstrip(), text[end : after.end() if after else len(text)].rstrip()


def _form_modality(values: dict[str, str]) -> str | None:
    """The modality of the first study entered on the form, if any."""
    for index in range(caseform.row_count(values, "studies")):
        given = values.get(f"studies-{index}-modality", "")
        if given in Modality.__members__:
            return given
    return None


def propose(text: str, values: dict[str, str] | None = None) -> Reading:
    """Every finding mention in the report, as a proposal. Negated ones are proposed as absent; hedged ones are
    proposed too, marked as hedged, for the clinician to accept or not; hypothetical and historical ones are listed
    for information only, since they do not say the finding is there now."""
    from fbss.nlp import extract  # loads the language pipeline on first use

    if not _READING.acquire(timeout=READING_WAIT_SECONDS):
        raise FbssError("other reports are being read at this moment; try again in a minute")
    try:
        extraction = extract(text)
    finally:
        _READING.release()
    report_modality = extraction.modality.value if extraction.modality else None
    fallback = report_modality if report_modality and report_modality != "other" else _form_modality(values or {})
    proposals: list[dict[str, Any]] = []
    for index, finding in enumerate(extraction.findings[:MAX_PROPOSALS]):
        flags = [word for attr, word in FLAG_WORDS.items() if getattr(finding, attr)]
        modality = finding.modality.value if finding.modality else fallback
        contrast = finding.contrast or extraction.contrast
        before, after = _sentence(text, finding.span.start, finding.span.end)
        proposals.append(
            {
                "key": str(index),
                "code": finding.code.value,
                "title": caseform.humanise(finding.code.value),
                "presence": "absent" if finding.negated else "present",
                "level": _place(finding.levels),
                "levels": list(finding.levels),
                "side": finding.side.value if finding.side else None,
                "modality": modality,
                "modality_label": MODALITY_LABEL[Modality(modality)] if modality else None,
                "contrast": None
                if contrast is None
                else ("absent" if contrast.value == "without_contrast" else "present"),
                "section": finding.section,
                "quote": finding.span.text,
                "before": before,
                "after": after,
                "flags": flags,
                "hedged": finding.uncertain,
                "choosable": not (finding.hypothetical or finding.historical),
            }
        )
    return Reading(proposals, [span.text for span in extraction.not_understood], fallback)


def decode(text: str) -> list[dict[str, Any]]:
    """Proposals carried through the form, checked again: codes and values from the vocabularies only."""
    try:
        raw = jsonlimits.loads(text)
    except ValueError:
        return []
    proposals = []
    codes = {f.value for f in DiagnosticFinding}
    modalities = {m.value for m in Modality}
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict) or item.get("code") not in codes:
            continue
        if item.get("modality") not in modalities:
            item["modality"] = None
        if item.get("level") is not None and _place([str(item["level"])]) is None:
            item["level"] = None
        proposals.append(item)
    return proposals[:MAX_PROPOSALS]


def _same_place(a: str, b: str) -> bool:
    """Two levels that name the same place, or one of them not given."""
    if not a or not b:
        return True
    try:
        return parse_place(a) == parse_place(b)
    except ValueError:
        return a.strip().upper() == b.strip().upper()


def apply(
    values: dict[str, str], proposals: list[dict[str, Any]], decisions: dict[str, str], modality: str | None = None
) -> Applied:
    """The form values with each accepted proposal merged into the row entered by hand for the same finding at the
    same level (filling what that row leaves blank), or added as a new row. A row entered by hand that the report
    contradicts (present against absent) is kept as entered and named, for the clinician to look at."""
    result = Applied(dict(values))
    out = result.values
    rows = caseform.row_count(out, "diagnostics") - caseform.BLANK_ROWS["diagnostics"]
    study = modality if modality in Modality.__members__ else None
    for proposal in proposals:
        if not proposal.get("choosable") or decisions.get(str(proposal.get("key"))) != "accept":
            continue
        code = str(proposal["code"])
        presence = "absent" if proposal.get("presence") == "absent" else "present"
        side = proposal.get("side")
        found = {
            "finding": code,
            "presence": presence,
            "modality": str(proposal.get("modality") or study or "other"),
            "contrast": str(proposal.get("contrast") or "unknown"),
            "level": str(proposal.get("level") or ""),
            "side": str(side) if side in ("left", "right", "bilateral") else "unknown",
        }
        match = next(
            (
                i
                for i in range(rows)
                if out.get(f"diagnostics-{i}-finding") == code
                and _same_place(out.get(f"diagnostics-{i}-level", ""), found["level"])
            ),
            None,
        )
        if match is None:
            if rows >= caseform.MAX_ROWS:
                raise FbssError(f"diagnostic findings: at most {caseform.MAX_ROWS} rows; accept fewer findings")
            for key, value in found.items():
                out[f"diagnostics-{rows}-{key}"] = value
            rows += 1
            result.added += 1
            continue
        prefix = f"diagnostics-{match}-"
        if out.get(prefix + "presence", "present") not in ("", presence):
            result.kept.append(caseform.row_label("diagnostics", match, out))
            continue
        blank = {"": True, "unknown": True, "other": True}
        for key in ("presence", "modality", "contrast", "level", "side"):
            if blank.get(out.get(prefix + key, ""), False) and found[key] not in ("", "unknown", "other"):
                out[prefix + key] = found[key]
        result.merged += 1
    return result
