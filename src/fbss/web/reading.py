"""The "paste a radiology report" step: proposed findings for the clinician to accept or reject one by one;
only accepted ones become diagnostic rows of the case (nothing is applied silently)."""

from __future__ import annotations

import json
from typing import Any

from fbss.case.vocabulary import DiagnosticFinding, Modality, parse_segment
from fbss.web import caseform

FLAG_WORDS = {"uncertain": "hedged", "hypothetical": "hypothetical", "historical": "historical"}
MAX_PROPOSALS = 60


def _segment(levels: tuple[str, ...] | list[str]) -> str | None:
    for level in levels:
        try:
            upper, lower = parse_segment(level)
        except ValueError:
            continue
        return f"{upper}-{lower}"
    return None


def propose(text: str) -> list[dict[str, Any]]:
    """Every finding mention in the report, as a proposal; hedged, hypothetical and historical mentions are
    listed for information only, since they do not say the finding is there now."""
    from fbss.nlp import extract  # loads the language pipeline on first use

    extraction = extract(text)
    proposals: list[dict[str, Any]] = []
    for index, finding in enumerate(extraction.findings[:MAX_PROPOSALS]):
        flags = [word for attr, word in FLAG_WORDS.items() if getattr(finding, attr)]
        modality = finding.modality or extraction.modality
        contrast = finding.contrast or extraction.contrast
        proposals.append(
            {
                "key": str(index),
                "code": finding.code.value,
                "title": caseform.humanise(finding.code.value),
                "presence": "absent" if finding.negated else "present",
                "level": _segment(finding.levels),
                "levels": list(finding.levels),
                "side": finding.side.value if finding.side else None,
                "modality": modality.value if modality else None,
                "contrast": None
                if contrast is None
                else ("absent" if contrast.value == "without_contrast" else "present"),
                "section": finding.section,
                "quote": finding.span.text,
                "flags": flags,
                "choosable": not flags,
            }
        )
    return proposals


def decode(text: str) -> list[dict[str, Any]]:
    """Proposals carried through the form, checked again: codes and values from the vocabularies only."""
    try:
        raw = json.loads(text)
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
        if item.get("level") is not None and _segment([str(item["level"])]) is None:
            item["level"] = None
        proposals.append(item)
    return proposals[:MAX_PROPOSALS]


def apply(values: dict[str, str], proposals: list[dict[str, Any]], decisions: dict[str, str]) -> dict[str, str]:
    """The form values with one diagnostic row added per accepted proposal."""
    values = dict(values)
    index = caseform.row_count(values, "diagnostics") - caseform.BLANK_ROWS["diagnostics"]
    for proposal in proposals:
        if not proposal.get("choosable") or decisions.get(str(proposal.get("key"))) != "accept":
            continue
        prefix = f"diagnostics-{index}-"
        values[prefix + "finding"] = str(proposal["code"])
        values[prefix + "presence"] = "absent" if proposal.get("presence") == "absent" else "present"
        values[prefix + "modality"] = str(proposal.get("modality") or "other")
        values[prefix + "contrast"] = str(proposal.get("contrast") or "unknown")
        values[prefix + "level"] = str(proposal.get("level") or "")
        side = proposal.get("side")
        values[prefix + "side"] = str(side) if side in ("left", "right", "bilateral") else "unknown"
        index += 1
    return values
