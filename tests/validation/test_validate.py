"""`fbss validate`: the figures of the differential on published cases, and the guard against lowering them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from fbss.knowledge.base import KnowledgeBase
from fbss.validation.devset import Split, load_devset, split_of
from fbss.validation.metrics import Outcome, figures
from fbss.validation.record import compare, write_record
from fbss.validation.run import run
from tests.cli.test_cli import fbss

ROOT = Path(__file__).resolve().parents[2]
DEVSET = ROOT / "validation"


def _outcome(cause: str, ranked: list[str], **kw: object) -> Outcome:
    base: dict[str, object] = {
        "case_id": f"{cause}-case",
        "split": "dev",
        "cause": cause,
        "emergency": False,
        "deciding_test": "mri_plain",
        "ranked": tuple((c, 0.5 ** (i + 1)) for i, c in enumerate(ranked)),
        "urgent_flags": (),
        "investigations": (),
    }
    base.update(kw)
    return Outcome(**base)  # type: ignore[arg-type]


def test_split_is_a_stable_hash_of_the_id_holding_out_about_a_third() -> None:
    ids = [f"case-{i}" for i in range(900)]
    held = [i for i in ids if split_of(i) is Split.holdout]
    assert 250 < len(held) < 350
    assert [split_of(i) for i in ids] == [split_of(i) for i in ids]


def test_top1_top3_per_cause_and_confusion() -> None:
    outcomes = [
        _outcome("pseudarthrosis", ["pseudarthrosis", "implant_failure"]),
        _outcome("pseudarthrosis", ["implant_failure", "adjacent_segment_disease", "pseudarthrosis"]),
        _outcome("csf_leak", ["spinal_stenosis", "painful_disc", "facet_joint_pain", "csf_leak"]),
    ]
    f = figures(outcomes)
    assert (f.n, f.top1, f.top3) == (3, 1, 2)
    row = next(r for r in f.causes if r.cause == "pseudarthrosis")
    assert (row.n, row.top1, row.top3) == (2, 1, 2)
    assert f.confusion["csf_leak"] == {"spinal_stenosis": 1}


def test_a_cause_the_engine_does_not_know_is_a_miss_and_costs_the_full_brier_point() -> None:
    f = figures([_outcome("functional_neurological_disorder", ["spinal_stenosis"])])
    assert f.top3 == 0
    assert f.brier == pytest.approx(0.5**2 + 1.0)


def test_emergency_recall_and_false_alarms() -> None:
    outcomes = [
        _outcome("epidural_haematoma", ["epidural_haematoma"], emergency=True, urgent_flags=("epidural_haematoma",)),
        _outcome("spinal_infection", ["painful_disc"], emergency=True),
        _outcome("painful_disc", ["painful_disc"], urgent_flags=("cauda_equina",)),
    ]
    f = figures(outcomes)
    assert (f.emergencies, f.emergencies_caught, f.false_alarms) == (2, 1, 1)
    assert f.missed_emergencies == ("spinal_infection-case",)


def test_workup_hit_counts_the_first_three_investigations_and_a_test_that_contains_the_deciding_one() -> None:
    contained = _outcome("x", ["x"], deciding_test="mri_plain", investigations=("xray_standing", "mri_gadolinium"))
    too_late = _outcome("x", ["x"], deciding_test="ct_fusion", investigations=("a", "b", "c", "ct_fusion"))
    unstated = _outcome("x", ["x"], deciding_test="not_stated", investigations=())
    f = figures([contained, too_late, unstated])
    assert (f.workup_n, f.workup_hits) == (2, 1)


def test_every_published_case_assesses(kb: KnowledgeBase) -> None:
    cases = load_devset(DEVSET)
    outcomes = run(cases, kb)
    assert len(outcomes) == len(cases) > 0
    # the causes describe lumbar surgery: every lumbar case is ranked, cervical and thoracic ones are not
    assert all(o.ranked for o in outcomes if o.region == "lumbar")
    assert not any(o.ranked for o in outcomes if o.region == "cervical")


def test_validation_never_lowers_the_recorded_figures(kb: KnowledgeBase) -> None:
    """The recorded figures (validation/figures.yaml): no total may fall over the cases recorded there."""
    outcomes = run(load_devset(DEVSET), kb)
    drops = compare(outcomes, DEVSET / "figures.yaml")
    assert not drops, "; ".join(f"{d.check}: {d.recorded} -> {d.now} (now wrong: {', '.join(d.lost)})" for d in drops)


def test_the_guard_fails_when_a_recorded_hit_is_lost(kb: KnowledgeBase, tmp_path: Path) -> None:
    outcomes = run(load_devset(DEVSET), kb)
    hit = next(o for o in outcomes if o.rank is not None and o.rank <= 3)
    write_record(outcomes, tmp_path / "figures.yaml", kb.version)
    worse = [o if o is not hit else _outcome(o.cause, ["none"], case_id=o.case_id) for o in outcomes]
    drops = compare(worse, tmp_path / "figures.yaml")
    assert "top3" in {d.check for d in drops}
    assert any(hit.case_id in d.lost for d in drops)


def test_cli_reports_json_per_split_and_writes_the_reliability_plot(tmp_path: Path) -> None:
    run_ = fbss("validate", "--split", "all", "--format", "json", "--plot", str(tmp_path / "r.png"))
    assert run_.returncode == 0, run_.stderr
    data = json.loads(run_.stdout)
    assert set(data["splits"]) == {"dev", "holdout"}
    assert data["splits"]["dev"]["n"] + data["splits"]["holdout"]["n"] == len(list((DEVSET / "cases").glob("*.yaml")))
    assert (tmp_path / "r.png").read_bytes().startswith(b"\x89PNG")


def test_cli_shows_per_case_misses_only_on_the_development_split() -> None:
    refused = fbss("validate", "--split", "holdout", "--misses")
    assert refused.returncode == 2
    assert "development split only" in refused.stderr


def test_cli_names_a_broken_answer_file(tmp_path: Path) -> None:
    shutil.copytree(DEVSET, tmp_path / "set")
    answer = next((tmp_path / "set" / "answers").glob("*.yaml"))
    data = yaml.safe_load(answer.read_text())
    del data["cause"]
    answer.write_text(yaml.safe_dump(data))
    result = fbss("validate", "--set", str(tmp_path / "set"), "--split", "all")
    assert result.returncode == 1
    assert answer.name in result.stderr and "'cause'" in result.stderr


def test_a_deciding_examination_is_looked_for_among_the_questions_and_an_unnamed_test_is_not_counted() -> None:
    examined = _outcome("x", ["x"], deciding_test="ex_neuro", investigations=("mri_plain",), questions=("ex_neuro",))
    course = _outcome("x", ["x"], deciding_test="clinical_course", investigations=("mri_plain",))
    modality_only = _outcome("x", ["x"], deciding_test="ct", investigations=("ct_fusion",))
    f = figures([examined, course, modality_only])
    assert (f.workup_n, f.workup_hits) == (2, 2)


def test_cervical_and_thoracic_cases_are_reported_apart_from_lumbar_ones() -> None:
    outcomes = [
        _outcome("pseudarthrosis", ["pseudarthrosis"]),
        _outcome("epidural_haematoma", [], region="cervical", emergency=True, urgent_flags=("cord_compression",)),
        _outcome("csf_leak", ["spinal_stenosis", "csf_leak"], region="cervical"),
    ]
    rows = {r.region: r for r in figures(outcomes).regions}
    assert list(rows) == ["lumbar", "cervical"]
    assert (rows["lumbar"].n, rows["lumbar"].top1) == (1, 1)
    cervical = rows["cervical"]
    assert (cervical.n, cervical.ranked, cervical.top1, cervical.top3) == (2, 1, 0, 1)
    assert (cervical.emergencies, cervical.emergencies_caught) == (1, 1)
