"""Fuzzing support: a budget per target, a count of the inputs each target tried, and strategies that break valid
documents (cases, FHIR bundles, CDS Hooks requests) in the ways attackers and broken systems do.

The suite runs each target for a small fixed budget (derandomized, so CI is repeatable). The long run:

    FBSS_FUZZ_EXAMPLES=100000 FBSS_FUZZ_REPORT=fuzz-figures.jsonl \\
        nice uv run --frozen pytest tests/security/test_fuzz.py -n 2

draws fresh random inputs and appends how many each target tried (figures in docs/security.md).
"""

from __future__ import annotations

import copy
import json
import os
from collections import Counter
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
CI_EXAMPLES = 40
TRIED: Counter[str] = Counter()


def budget(ci_examples: int = CI_EXAMPLES) -> settings:
    """`FBSS_FUZZ_EXAMPLES` inputs (a long run, random), else `ci_examples` (derandomized for CI)."""
    long_run = os.environ.get("FBSS_FUZZ_EXAMPLES")
    return settings(
        max_examples=int(long_run) if long_run else ci_examples,
        derandomize=not long_run,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def tried(target: str) -> None:
    TRIED[target] += 1


def write_report() -> None:
    """Append one line per target to FBSS_FUZZ_REPORT (JSON lines: several worker processes may share the file)."""
    path = os.environ.get("FBSS_FUZZ_REPORT")
    if path and TRIED:
        with Path(path).open("a", encoding="utf-8") as handle:
            for target, inputs in sorted(TRIED.items()):
                handle.write(json.dumps({"target": target, "inputs": inputs}) + "\n")


# -- values ------------------------------------------------------------------------------------------------------

# Every character, lone surrogates (U+D800-DFFF) and control characters included.
any_char = st.characters(exclude_categories=())
odd_text = st.one_of(
    st.text(any_char, max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\n",
            "\x00",
            "\ud800",
            "²",
            "٣",
            "--1",
            "1_000",
            "nan",
            "inf",
            "-0",
            "1e400",
            "9" * 5000,
            "0001-01-01",
            "9999-12-31",
            "L4-\ud800",
            "../../etc",
            "%2e%2e",
            "é" * 300,
            "<script>",
            "' OR 1=1 --",
            "null",
            "[]",
            "{}",
        ]
    ),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=2**62, max_value=2**70),
    st.floats(allow_nan=True),
    st.just(10**400),
    st.booleans(),
)
scalars = st.one_of(st.none(), numbers, odd_text)
json_values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(odd_text, inner, max_size=4)),
    max_leaves=12,
)


class Deep(list[Any]):
    """Lists nested `levels` deep, shown short: Hypothesis could not print thousands of levels when it reports a
    failing input, and would report its own RecursionError instead of the failure."""

    levels = 0

    def __repr__(self) -> str:
        return f"deep({self.levels})"


def deep(levels: int) -> Any:
    value: Any = []
    for _ in range(levels - 1):
        value = [value]
    top = Deep([value])
    top.levels = levels
    return top


def _paths(value: Any, max_depth: int = 12) -> list[tuple[Any, ...]]:
    """Every place in a document (not below `max_depth`, where a deep nest planted earlier would be)."""
    found: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        node, path = stack.pop()
        found.append(path)
        if len(path) >= max_depth:
            continue
        if isinstance(node, dict):
            stack.extend((child, (*path, key)) for key, child in node.items())
        elif isinstance(node, list):
            stack.extend((child, (*path, index)) for index, child in enumerate(node))
    return sorted(found, key=len)


@st.composite
def broken(draw: st.DrawFn, document: Any, max_changes: int = 4) -> Any:
    """A valid document with a few changes: a value replaced, a key removed or added, a list emptied or nested
    thousands deep, a type swapped."""
    result = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, max_changes))):
        paths = _paths(result)
        path = draw(st.sampled_from(paths))
        parent: Any = result
        for part in path[:-1]:
            parent = parent[part]
        kind = draw(st.sampled_from(["replace", "replace", "remove", "add", "deep", "wrap", "null"]))
        if not path:
            if kind == "replace":
                result = draw(json_values)
            continue
        key = path[-1]
        if kind == "replace":
            parent[key] = draw(json_values)
        elif kind == "null":
            parent[key] = None
        elif kind == "remove":
            del parent[key]
        elif kind == "add" and isinstance(parent[key], dict):
            parent[key][draw(odd_text)] = draw(json_values)
        elif kind == "deep":
            parent[key] = deep(draw(st.sampled_from([40, 200, 3000])))
        elif kind == "wrap":
            parent[key] = [parent[key]]
    return result


def dumps(value: Any) -> str:
    """JSON text of a fuzzed document (surrogates escaped); documents too deep to write come back as a bracket run."""
    try:
        return json.dumps(value)
    except (RecursionError, ValueError):
        return "[" * 3000 + "]" * 3000


# -- valid starting points -------------------------------------------------------------------------------------------


def example_cases() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "examples" / "cases").glob("*.json"))]


def fhir_bundles() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((ROOT / "tests" / "fhir" / "bundles").glob("*.json"))]


REPORT_WORDS = [
    "no",
    "not",
    "without",
    "possible",
    "cannot exclude",
    "if",
    "history of",
    "recurrent herniation",
    "disc herniation",
    "stenosis",
    "foraminal",
    "epidural fibrosis",
    "pseudarthrosis",
    "screw loosening",
    "fluid collection",
    "L4-5",
    "L5-S1",
    "L3 through S1",
    "T2",
    "left",
    "right",
    "bilateral",
    "and",
    "or",
    ",",
    ".",
    ";",
    ":",
    "\n",
    "\n\n",
    "FINDINGS:",
    "IMPRESSION:",
    "HISTORY:",
    "L4-5:",
    "MRI LUMBAR SPINE",
    "with contrast",
    "-",
    "•",
    "1.",
    "(",
    ")",
    "at the level above the fusion",
    "post-operative changes",
]
# Short texts: long ones are the benchmark's (bench/nlp_adversarial_bench.py); here, many odd combinations.
report_text = st.one_of(
    st.text(any_char, max_size=300),
    st.lists(st.sampled_from(REPORT_WORDS), max_size=80).map(" ".join),
    st.lists(st.one_of(st.sampled_from(REPORT_WORDS), st.text(any_char, max_size=8)), max_size=60).map("".join),
)
