"""Demo data: synthetic patients from examples/cases (main causes and red flags), questionnaires over time,
a second case version to show the history, an open safety alert; and the demo accounts."""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fbss.case.model import Case
from fbss.case.parse import parse_case, read_case
from fbss.errors import FbssError
from fbss.instruments import InstrumentCatalogue, load_instruments
from fbss.knowledge.base import KnowledgeBase
from fbss.store.accounts import Accounts, Role
from fbss.store.database import Database
from fbss.store.errors import StoreError
from fbss.store.installation import claim_for_demo
from fbss.store.outcomes import record_response
from fbss.store.repository import Repository

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "cases"
CRISIS_CONTACTS = EXAMPLES.parent / "crisis_contacts.yaml"  # the demo's crisis services (a clinic lists its own)
DEMO_USER = "demo-seed"
CLINICIAN_PASSWORD_VARIABLE = "FBSS_DEMO_CLINICIAN_PASSWORD"
ADMIN_PASSWORD_VARIABLE = "FBSS_DEMO_ADMIN_PASSWORD"

# (record number, synthetic name, birth year, example case). Names are invented.
PATIENTS: tuple[tuple[str, str, int, str], ...] = (
    ("DEMO-001", "Alex Moreno", 1984, "recurrent_herniation_after_discectomy"),
    ("DEMO-002", "Brenda Okafor", 1961, "pseudarthrosis_after_tlif"),
    ("DEMO-003", "Carlos Ibarra", 1972, "cauda_equina_retention_day2_after_microdiscectomy"),
    ("DEMO-004", "Dana Whitfield", 1958, "facet_pain_confirmed_by_medial_branch_blocks"),
    ("DEMO-005", "Elif Demir", 1966, "sij_pain_after_l4_s1_fusion"),
    ("DEMO-006", "Frank Lindqvist", 1979, "epidural_fibrosis_after_second_discectomy"),
    ("DEMO-007", "Grace Nakamura", 1955, "adjacent_segment_stenosis_above_l4_5_fusion"),
    ("DEMO-008", "Hugo Bernard", 1970, "depression_widespread_pain_after_fusion"),
    ("DEMO-009", "Irene Castillo", 1963, "discitis_six_weeks_after_microdiscectomy"),
    ("DEMO-010", "Jonas Keller", 1975, "battered_root_neuropathic_pain_after_discectomy"),
    ("DEMO-011", "Kemi Adeyemi", 1969, "epidural_haematoma_on_mri_day1_after_laminectomy"),
    ("DEMO-012", "Laura Esposito", 1960, "arachnoiditis_after_three_operations"),
)

# Questionnaires over time: (days before today, time point, {instrument: answers}).
ODI_WORSE = {
    "pain_intensity": 4,
    "personal_care": 2,
    "lifting": 4,
    "walking": 3,
    "sitting": 3,
    "standing": 3,
    "sleeping": 2,
    "sex_life": 2,
    "social_life": 3,
    "travelling": 3,
}
ODI_BETTER = {k: max(0, v - 2) for k, v in ODI_WORSE.items()}
PHQ_LOW = {f"item{i}": 1 if i in (3, 4) else 0 for i in range(1, 10)}


def _phq(total_items: int, item9: int) -> dict[str, int]:
    answers = {f"item{i}": 2 if i <= total_items else 1 for i in range(1, 9)}
    answers["item9"] = item9
    return answers


FOLLOW_UP: dict[str, tuple[tuple[int, str, dict[str, dict[str, int]]], ...]] = {
    "DEMO-001": (
        (190, "baseline", {"nrs_back": {"pain": 4}, "nrs_leg": {"pain": 8}, "odi": ODI_WORSE, "phq9": PHQ_LOW}),
        (148, "week_6", {"nrs_back": {"pain": 3}, "nrs_leg": {"pain": 6}, "odi": ODI_WORSE}),
        (
            100,
            "month_3",
            {
                "nrs_back": {"pain": 3},
                "nrs_leg": {"pain": 4},
                "odi": ODI_BETTER,
                "phq9": PHQ_LOW,
                "pgic": {"rating": 3},
            },
        ),
    ),
    "DEMO-004": (
        (120, "baseline", {"nrs_back": {"pain": 7}, "nrs_leg": {"pain": 2}, "odi": ODI_WORSE}),
        (75, "week_6", {"nrs_back": {"pain": 4}, "nrs_leg": {"pain": 2}, "odi": ODI_BETTER, "pgic": {"rating": 2}}),
    ),
    "DEMO-008": (
        (60, "baseline", {"nrs_back": {"pain": 7}, "nrs_leg": {"pain": 6}, "phq9": _phq(5, 0)}),
        (2, "week_6", {"nrs_back": {"pain": 7}, "nrs_leg": {"pain": 6}, "phq9": _phq(6, 1)}),
    ),
}


def _shift_dates(value: Any, delta: dt.timedelta) -> Any:
    if isinstance(value, dict):
        return {k: _shift_dates(v, delta) for k, v in value.items()}
    if isinstance(value, list):
        return [_shift_dates(v, delta) for v in value]
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            if len(value) == 10:
                return (dt.date.fromisoformat(value) + delta).isoformat()
            if value[10] == "T":  # a time stamp, such as when a red-flag screen was recorded
                return (dt.datetime.fromisoformat(value) + delta).isoformat()
        except ValueError:
            return value
    return value


def _shifted(case: Case, today: dt.date) -> Case:
    """The example moved in time so that it is assessed today, every interval (days after surgery) kept."""
    data = case.model_dump(mode="json")
    if case.assessment_date is not None:
        data = _shift_dates(data, today - case.assessment_date)
    data["assessment_date"] = today.isoformat()
    return parse_case(data)


@dataclass(frozen=True)
class DemoAccounts:
    clinician_password: str | None  # None: the account was not reset (disabled by an admin of the demo)
    admin_password: str | None
    notes: tuple[str, ...] = ()


def claim(db: Database) -> None:
    """Make sure the database is the demo's own (an empty one becomes it); a clinic's database is refused."""
    claim_for_demo(db, DEMO_USER)


PASSWORDS_FILE = "demo-passwords.json"


def _kept(path: Path | None) -> dict[str, str]:
    if path is None or not path.exists():
        return {}
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in kept.items() if isinstance(v, str) and len(v) >= 10} if isinstance(kept, dict) else {}


def _keep(path: Path, passwords: dict[str, str]) -> None:
    """Written owner-readable only, like the session key beside it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(passwords, handle)
    partial.replace(path)


def ensure_accounts(db: Database, keep_in: Path | None = None) -> DemoAccounts:
    """The demo clinician and admin. Passwords come from the environment; else, with `keep_in` (the data
    directory), the ones made at the first start and kept there, so that a restart does not change them; else new
    random ones. An account an admin of the demo disabled stays disabled."""
    path = keep_in / PASSWORDS_FILE if keep_in is not None else None
    kept = _kept(path)
    made = {role: kept.get(role) or secrets.token_urlsafe(12) for role in ("clinician", "admin")}
    if path is not None and made != kept:
        _keep(path, made)
    accounts = Accounts(db, user=DEMO_USER)
    passwords: list[str | None] = []
    notes = []
    for username, role, variable, name in (
        ("clinician", Role.clinician, CLINICIAN_PASSWORD_VARIABLE, "Dr Demo Clinician"),
        ("admin", Role.admin, ADMIN_PASSWORD_VARIABLE, "Demo Admin"),
    ):
        password = os.environ.get(variable) or made[username]
        try:
            accounts.ensure_user(username, password, role, display_name=name)
        except StoreError as exc:
            passwords.append(None)
            notes.append(str(exc))
        else:
            passwords.append(password)
    return DemoAccounts(passwords[0], passwords[1], tuple(notes))


def seed(
    db: Database, kb: KnowledgeBase, *, today: dt.date | None = None, catalogue: InstrumentCatalogue | None = None
) -> int:
    """Add the demo patients once (a database that has them is left alone); returns how many were added."""
    if not EXAMPLES.is_dir():
        raise FbssError(f"demo data: {EXAMPLES} is missing; run from a source checkout")
    repo = Repository(db, user=DEMO_USER)
    known = {p.identifier for p in repo.list_patients()}
    catalogue = catalogue or load_instruments()
    now = repo.now()
    today = today or now.date()
    added = 0
    for identifier, name, born, example in PATIENTS:
        if identifier in known:
            continue
        case = _shifted(read_case(EXAMPLES / f"{example}.json"), today)
        repo.add_patient(identifier, display_name=name, birth_year=born)
        if identifier == "DEMO-001":
            # a first version before the MRI, to show the case history and what changed
            earlier = case.model_copy(update={"studies": (), "diagnostics": ()})
            first = repo.save_case(identifier, earlier, note="first visit, before the MRI")
            repo.assess_case(identifier, kb, version=first.version)
        version = repo.save_case(identifier, case, note="after the MRI" if identifier == "DEMO-001" else None)
        repo.assess_case(identifier, kb, version=version.version)
        for days, time_point, forms in FOLLOW_UP.get(identifier, ()):
            when = now - dt.timedelta(days=days, hours=2)
            for instrument_id, answers in forms.items():
                record_response(
                    repo,
                    identifier,
                    instrument_id,
                    dict(answers),
                    completed_at=when,
                    time_point=time_point,
                    catalogue=catalogue,
                )
        added += 1
    return added
