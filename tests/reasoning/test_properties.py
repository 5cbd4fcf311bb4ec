"""Properties that hold for every valid case: no crash, probabilities in range, monotone evidence, safe unknowns."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fbss.case.model import Case, Presence
from fbss.knowledge.base import KnowledgeBase
from fbss.knowledge.loader import default_knowledge
from fbss.reasoning.assess import assess
from fbss.reasoning.differential import scores
from fbss.reasoning.findings import evaluate_expression, read_findings
from fbss.reasoning.triage import triage
from tests.strategies import valid_cases

KB = default_knowledge()
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# findings read straight from a presence field of the case, so a test can switch them on and off
PRESENCE_FIELDS = {
    fid: f.field
    for fid, f in KB.findings.items()
    if f.field and not f.field.startswith("derived.") and f.threshold is None and f.one_of is None
}


def _set(case: Case, path: str, value: Presence) -> Case:
    section, name = path.split(".")
    part = getattr(case, section).model_copy(update={name: value})
    return case.model_copy(update={section: part})


@SETTINGS
@given(valid_cases())
def test_any_valid_case_is_assessed_with_probabilities_in_range(case: Case) -> None:
    result = assess(case, KB)
    assert [c.rank for c in result.differential.causes] == list(range(1, len(result.differential.causes) + 1))
    probabilities = [c.probability for c in result.differential.causes]
    assert probabilities == sorted(probabilities, reverse=True)
    assert len(result.differential.causes) + len(result.differential.excluded) == len(KB.causes)
    for cause in result.differential.causes:
        assert 0.0 < cause.low <= cause.probability <= cause.high < 1.0 or math.isclose(cause.low, cause.high)
        for question in cause.open_questions:
            assert 0.0 <= question.if_absent <= 1.0 and 0.0 <= question.if_present <= 1.0
        for reason in (*cause.raised_by, *cause.lowered_by):
            assert reason.sources or reason.evidence.value == "expert_estimate"
    for flag in result.triage.fired:
        assert flag.fired_by, flag.flag
    for flag in result.triage.ask_now:
        assert flag.ask_about, flag.flag
    if result.triage.fired:
        assert result.triage.level == result.triage.fired[0].urgency


@SETTINGS
@given(
    valid_cases(),
    st.sampled_from([(c.id, link) for c in KB.causes for link in c.links if link.finding in PRESENCE_FIELDS]),
)
def test_a_supporting_finding_never_lowers_its_cause(case: Case, pair: tuple[str, object]) -> None:
    """The causes compete, so a finding that supports two causes can lower the share of the weaker one; but it never
    lowers its cause's score, nor its probability against the unexplained share (which reads no finding)."""
    cause_id, link = pair
    path = PRESENCE_FIELDS[link.finding]  # type: ignore[attr-defined]

    def score(c: Case) -> tuple[float, float] | None:
        result = scores(read_findings(c, KB), KB)
        ids = [x.cause.id for x in result.causes]
        if cause_id not in ids:
            return None
        differential = assess(c, KB).differential
        share = next(x.probability for x in differential.causes if x.cause == cause_id)
        return result.log_score[ids.index(cause_id)], share / differential.unexplained

    base = score(_set(case, path, Presence.unknown))
    supported = Presence.present if link.lr_present >= link.lr_absent else Presence.absent  # type: ignore[attr-defined]
    after = score(_set(case, path, supported))
    if base is not None and after is not None:
        assert after[0] >= base[0] - 1e-12
        assert after[1] >= base[1] * (1 - 1e-9)


ASKABLE = sorted(f for f in PRESENCE_FIELDS if KB.findings[f].is_askable)
WHEN_ASKED = {fid: f.ask_if for fid, f in KB.findings.items() if f.ask_if is not None}


@SETTINGS
@given(valid_cases(), st.sampled_from(ASKABLE))
def test_unknown_never_lowers_an_urgency(case: Case, finding: str) -> None:
    """Turning a known bedside item into unknown never makes a fired flag disappear silently.

    Items that cannot be asked (a scan, a lab value, an examination sign looked for only when the differential raises
    it), and items asked only in a window they are outside of, are excluded by design: when unknown they do not
    raise 'ask now' (docs/differential-model.md, section 5).
    """
    path = PRESENCE_FIELDS[finding]
    known = _set(case, path, Presence.present)
    fired = {f.flag for f in triage(read_findings(known, KB), KB).fired}
    unknown = _set(case, path, Presence.unknown)
    if finding in WHEN_ASKED:
        # asked only in its window (a DVT question in the first 3 months) or once another item is reported (peritoneal
        # signs once abdominal pain is): outside it, unknown is not asked. An item that is not asked at the bedside
        # reads as not (yet) present there, as triage reads it
        states = {
            f: Presence.absent if s is Presence.unknown and not KB.findings[f].is_askable else s
            for f, s in read_findings(unknown, KB).state.items()
        }
        if evaluate_expression(WHEN_ASKED[finding], states) is Presence.absent:
            return
    after = triage(read_findings(unknown, KB), KB)
    still_shown = {f.flag for f in (*after.fired, *after.ask_now)}
    assert fired <= still_shown


def test_the_knowledge_fixture_is_the_default(kb: KnowledgeBase) -> None:
    assert kb is KB
