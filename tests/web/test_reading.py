"""Reading a pasted report into the case form: what is proposed (absent bridging bone, hedges, negations), what is
listed as not understood, which study and level a finding carries, and how it merges with rows entered by hand."""

from __future__ import annotations

from fbss.web import reading

REPORT = """CT LUMBAR SPINE
HISTORY: Pain after L4-S1 fusion.
FINDINGS: No bridging bone at L5-S1. Lucency around the left S1 screw, concerning for loosening.
No evidence of infection. The conus ends at L1.
IMPRESSION: Pseudarthrosis at L5-S1."""


def by_code(found: reading.Reading) -> dict[str, list[dict[str, object]]]:
    grouped: dict[str, list[dict[str, object]]] = {}
    for proposal in found.proposals:
        grouped.setdefault(str(proposal["code"]), []).append(proposal)
    return grouped


def test_absent_bridging_bone_hedges_and_negations_are_all_proposed() -> None:
    found = reading.propose(REPORT)
    codes = by_code(found)
    absent_bridge = codes["pseudarthrosis"][0]
    assert absent_bridge["quote"] == "No bridging bone" and absent_bridge["presence"] == "present"
    assert absent_bridge["level"] == "L5-S1" and absent_bridge["choosable"]
    loosening = codes["screw_loosening"][0]
    assert loosening["hedged"] and loosening["choosable"] and "concerning for" in str(loosening["before"])
    assert loosening["level"] == "S1"
    infection = codes["discitis_osteomyelitis"][0]
    assert infection["presence"] == "absent" and infection["choosable"]
    assert found.not_understood == ["The conus ends at L1."]
    assert found.modality == "ct" and absent_bridge["modality"] == "ct"


def test_a_report_without_a_heading_takes_the_study_entered_on_the_form() -> None:
    found = reading.propose("No bridging bone at L4-5.", {"studies-0-modality": "xray"})
    assert found.modality == "xray" and found.proposals[0]["modality"] == "xray"
    assert reading.propose("No bridging bone at L4-5.").proposals[0]["modality"] is None


def test_levels_to_enter() -> None:
    assert reading._place(["L4-L5", "L5-S1"]) == "L4-S1"  # contiguous segments: one range
    assert reading._place(["S1"]) == "S1"
    assert reading._place(["L2-L3", "L4-L5"]) == "L2-L3"
    assert reading._place(["nonsense"]) is None


def proposal(key: str, code: str, presence: str = "present", level: str | None = None) -> dict[str, object]:
    return {
        "key": key,
        "code": code,
        "presence": presence,
        "level": level,
        "side": None,
        "modality": None,
        "contrast": None,
        "choosable": True,
    }


def test_accepted_findings_merge_with_rows_entered_by_hand() -> None:
    values = {
        "diagnostics-0-finding": "pseudarthrosis",
        "diagnostics-0-presence": "present",
        "diagnostics-0-modality": "other",
        "diagnostics-0-level": "",
        "diagnostics-1-finding": "screw_loosening",
        "diagnostics-1-presence": "absent",
        "diagnostics-1-level": "S1",
    }
    proposals = [
        proposal("0", "pseudarthrosis", level="L5-S1"),
        proposal("1", "screw_loosening", level="S1"),
        proposal("2", "rod_fracture", level="L4-L5"),
        proposal("3", "cage_migration"),
    ]
    decisions = {"0": "accept", "1": "accept", "2": "accept", "3": "reject"}
    applied = reading.apply(values, proposals, decisions, "ct")
    out = applied.values
    assert (applied.added, applied.merged) == (1, 1)
    assert out["diagnostics-0-level"] == "L5-S1" and out["diagnostics-0-modality"] == "ct"  # the blanks filled
    assert out["diagnostics-1-presence"] == "absent"  # entered by hand, contradicted: kept, and named
    assert applied.kept == ["Finding 2 (Screw loosening)"]
    assert out["diagnostics-2-finding"] == "rod_fracture" and out["diagnostics-2-level"] == "L4-L5"
    assert "cage_migration" not in out.values()  # rejected: never added
    again = reading.apply(out, proposals, decisions, "ct")
    assert again.added == 0  # the same report twice adds nothing new
