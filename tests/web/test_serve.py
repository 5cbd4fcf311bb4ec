"""`fbss serve --demo`, the README's first command, as a user runs it: a fresh data directory, the address and the
demo sign-in printed, the app answering, and a second start that keeps the same demo data."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from fbss.store.database import Database
from fbss.store.repository import Repository
from fbss.web.demo import PATIENTS
from tests.web.client import CSRF
from tests.web.server import free_port

STARTED = re.compile(r"running at (http://\S+)/")
CLINICIAN = re.compile(r"clinician: user name 'clinician', password '([^']+)'")


def start(data: Path, port: int) -> tuple[subprocess.Popen[str], str, str, str]:
    """The server process, its address, the clinician's demo password and all it printed before serving."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FBSS_")}
    env |= {"XDG_DATA_HOME": str(data), "FBSS_DATA_DIR": str(data / "fbss")}
    process = subprocess.Popen(
        [sys.executable, "-m", "fbss.cli", "serve", "--demo", "--port", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    printed = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        printed.append(line)
        if "stop with Ctrl+C" in line:
            text = "".join(printed)
            url, password = STARTED.search(text), CLINICIAN.search(text)
            assert url and password, text
            # keep reading what it prints (the access log), so that a full pipe never blocks the server
            threading.Thread(target=process.stderr.read, daemon=True).start()
            return process, url.group(1), password.group(1), text
    process.kill()
    raise AssertionError("the server did not start: " + "".join(printed))


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)  # as Ctrl+C
    try:
        process.wait(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()


def signed_in_patient_list(url: str, password: str) -> str:
    deadline = time.monotonic() + 20
    with httpx.Client(base_url=url, follow_redirects=True, timeout=10) as client:
        while True:
            try:
                login = client.get("/login")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        token = CSRF.search(login.text)
        assert token
        page = client.post("/login", data={"csrf": token.group(1), "username": "clinician", "password": password})
        assert page.status_code == 200 and "Patients" in page.text
        return page.text


def test_demo_starts_on_a_fresh_machine_and_restarts_with_the_same_data(tmp_path: Path) -> None:
    port = free_port()
    process, url, password, printed = start(tmp_path, port)
    try:
        assert url == f"http://127.0.0.1:{port}"
        assert "--host 0.0.0.0" in printed  # how to open it from a phone
        for jargon in ("schema", "->", "FBSS_CDS", "0002"):
            assert jargon not in printed, printed
        listed = signed_in_patient_list(url, password)
        for identifier, _name, _born, _example in PATIENTS:
            assert identifier in listed
        assert "PHQ-9 item 9" in listed  # the seeded safety alert is on the list
    finally:
        stop(process)
    demo_file = tmp_path / "fbss" / "demo.sqlite3"
    assert demo_file.exists() and not (tmp_path / "fbss" / "fbss.sqlite3").exists()  # its own database

    process, url, second_password, printed = start(tmp_path, port)
    try:
        signed_in_patient_list(url, second_password)
        assert second_password == password  # the same demo sign-in as yesterday
        assert "kept from the last start" in printed
    finally:
        stop(process)
    assert (tmp_path / "fbss" / "demo-passwords.json").stat().st_mode & 0o077 == 0  # owner-readable only
    db = Database.open(f"sqlite:///{demo_file}")
    try:
        repo = Repository(db, user="test")
        patients = repo.list_patients()
        assert len(patients) == len(PATIENTS)
        assert len(repo.case_history("DEMO-001")) == 2  # not seeded twice
    finally:
        db.close()
