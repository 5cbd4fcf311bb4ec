"""A separate writer process for the reliability tests: `python writer.py URL MODE COUNT`.

Modes: `loop` saves COUNT case versions, printing `confirmed N` after each commit; `hold` does that, then
opens a transaction, writes an unconfirmed patient, prints `in-transaction` and waits to be killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from fbss.case.parse import read_case
from fbss.store.database import Database
from fbss.store.models import Patient
from fbss.store.repository import Repository, utc_now

EXAMPLE = sys.argv[4] if len(sys.argv) > 4 else "examples/cases/recurrent_herniation_after_discectomy.json"


def main(url: str, mode: str, count: int) -> None:
    db = Database.open(url)
    repo = Repository(db, f"writer-{mode}")
    case = read_case(Path(EXAMPLE))
    print("ready", flush=True)
    for _ in range(count):
        saved = repo.save_case("MRN-1", case)
        print(f"confirmed {saved.version}", flush=True)
    if mode == "hold":
        with db.sessions() as session, session.begin():
            session.add(Patient(identifier="UNCONFIRMED", created_by="writer", created_at=utc_now()))
            session.flush()
            print("in-transaction", flush=True)
            time.sleep(120)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
