"""The batched reading of findings gives exactly what reading each finding on its own gives."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from fbss.case.model import Case
from fbss.case.parse import read_case
from fbss.knowledge.loader import default_knowledge
from fbss.reasoning.findings import FindingStates, Observed, States, compiled_readers, index_case, read_findings
from tests.conftest import EXAMPLES
from tests.strategies import valid_cases


def one_by_one(case: Case) -> tuple[States, dict[str, Observed]]:
    kb = default_knowledge()
    ix = index_case(case)
    state: States = {}
    observed: dict[str, Observed] = {}
    for fid, reader in compiled_readers(kb):
        state[fid], seen = reader(ix, state)
        if seen is not None:
            observed[fid] = seen
    return state, observed


def same(batched: FindingStates, case: Case) -> bool:
    state, observed = one_by_one(case)
    return batched.state == state and batched.observed == observed


def test_every_example_case_reads_the_same() -> None:
    for path in sorted(EXAMPLES.glob("*.json")):
        case = read_case(path)
        assert same(read_findings(case, default_knowledge()), case), path.name


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_cases())
def test_random_cases_read_the_same(case: Case) -> None:
    assert same(read_findings(case, default_knowledge()), case)
