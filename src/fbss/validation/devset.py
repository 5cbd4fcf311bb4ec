"""The development set of published cases: read each case and its answer (kept in separate files), and split them.

Each case is assigned to the development or the held-out split by a hash of its id, never by choice: about one
third is held out. Per-case misses are looked at on the development split only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from fbss.case.model import Case
from fbss.case.parse import parse_case
from fbss.errors import FbssError

DEFAULT_ROOT = Path("validation")
HOLDOUT_SHARE = 3  # one case in three


class DevSetError(FbssError):
    """A development-set file is missing or malformed: the message names the file and the field."""


class Split(StrEnum):
    dev = "dev"
    holdout = "holdout"
    all = "all"


def split_of(case_id: str) -> Split:
    """The split of a case, by a stable hash of its id: about one third held out."""
    digest = hashlib.sha256(case_id.encode("utf-8")).hexdigest()
    return Split.holdout if int(digest[:8], 16) % HOLDOUT_SHARE == 0 else Split.dev


@dataclass(frozen=True, slots=True)
class Answer:
    cause: str
    coexisting: tuple[str, ...]
    emergency: bool
    expected_red_flags: tuple[str, ...]
    deciding_test: str
    deciding_test_text: str


@dataclass(frozen=True, slots=True)
class DevCase:
    id: str
    region: str
    url: str
    case: Case
    answer: Answer
    split: Split


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DevSetError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise DevSetError(f"{path}: expected a mapping at the top level")
    return data


def _field(data: dict[str, Any], key: str, path: Path) -> Any:
    if key not in data:
        raise DevSetError(f"{path}: missing '{key}'")
    return data[key]


def _answer(path: Path) -> Answer:
    data = _read(path)
    return Answer(
        cause=str(_field(data, "cause", path)),
        coexisting=tuple(str(c) for c in data.get("coexisting") or ()),
        emergency=bool(_field(data, "emergency", path)),
        expected_red_flags=tuple(str(f) for f in data.get("expected_red_flags") or ()),
        deciding_test=str(_field(data, "deciding_test", path)),
        deciding_test_text=str(data.get("deciding_test_text") or ""),
    )


def load_devset(root: Path = DEFAULT_ROOT, split: Split = Split.all) -> list[DevCase]:
    """Every case of `split` under `root` (cases/ and answers/), sorted by id."""
    cases_dir, answers_dir = root / "cases", root / "answers"
    if not cases_dir.is_dir():
        raise DevSetError(f"{cases_dir}: no development set here (expected validation/cases/<id>.yaml)")
    result = []
    for path in sorted(cases_dir.glob("*.yaml")):
        case_id = path.stem
        which = split_of(case_id)
        if split is not Split.all and which is not split:
            continue
        data = _read(path)
        answer_path = answers_dir / path.name
        if not answer_path.exists():
            raise DevSetError(f"{path}: no answer file {answer_path}")
        source = data.get("source") or {}
        result.append(
            DevCase(
                id=case_id,
                region=str(data.get("region") or "lumbar"),
                url=str(source.get("url") or "") if isinstance(source, dict) else "",
                case=parse_case(_field(data, "case", path), origin=str(path)),
                answer=_answer(answer_path),
                split=which,
            )
        )
    return result
