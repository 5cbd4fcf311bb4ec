"""Fetching uv on a machine without it: scripts/bootstrap_uv.py run as setup.sh runs it, against a package index
served over loopback HTTP (the simple API as HTML or JSON), and setup.sh itself with no uv on PATH."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import platform
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
BOOTSTRAP = SCRIPTS / "bootstrap_uv.py"
PINNED = re.search(r"^UV_VERSION=(\S+)$", (SCRIPTS / "setup.sh").read_text(), re.MULTILINE)
# A stock machine's PATH: bash, coreutils and python3, no uv.
BARE_PATH = "/usr/bin:/bin"
# This machine's wheel; the others are there to be passed over.
THIS_MACHINE = "manylinux_2_17_x86_64.manylinux2014_x86_64"
OTHER_MACHINES = ("win_amd64", "macosx_11_0_arm64", "manylinux_2_17_aarch64.manylinux2014_aarch64")

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.machine() != "x86_64" or platform.libc_ver()[0] != "glibc",
    reason="the wheel names below are those of Linux (glibc) on x86_64",
)


def fake_uv(label: str) -> bytes:
    """A uv wheel whose 'uv' says which wheel it came from and notes each call in $UV_CALLS."""
    script = f'#!/bin/sh\n[ -n "$UV_CALLS" ] && echo "$*" >> "$UV_CALLS"\necho "uv from {label}"\n'
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(f"uv-{label}.data/scripts/uv", script)
        wheel.writestr(f"uv-{label}.dist-info/METADATA", "Name: uv\n")
    return buffer.getvalue()


@dataclass
class Index:
    """A package index on disk, served at `url`; `requests` lists the paths asked for."""

    root: Path
    url: str
    requests: list[str] = field(default_factory=list)

    def publish(self, wheels: list[tuple[str, str]], *, json_api: bool = False, wrong_digest: bool = False) -> None:
        """List these (version, platform tag) wheels, in this order, as the project's files."""
        project = self.root / "simple" / "uv"
        project.mkdir(parents=True, exist_ok=True)
        files = []
        for version, tag in wheels:
            name = f"uv-{version}-py3-none-{tag}.whl"
            data = fake_uv(f"{version} {tag}")
            (project / name).write_bytes(data)
            files.append((name, "0" * 64 if wrong_digest else hashlib.sha256(data).hexdigest()))
        if json_api:
            body = {"files": [{"filename": n, "url": n, "hashes": {"sha256": d}} for n, d in files]}
            (project / "index.html").write_text(json.dumps(body))
        else:
            (project / "index.html").write_text("".join(f'<a href="{n}#sha256={d}">{n}</a>\n' for n, d in files))


@pytest.fixture
def index(tmp_path: Path) -> Iterator[Index]:
    root = tmp_path / "index"
    root.mkdir()
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Index(root, f"http://127.0.0.1:{server.server_address[1]}/simple", requests)
    finally:
        server.shutdown()
        server.server_close()


def bootstrap(index_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": BARE_PATH, "PIP_INDEX_URL": index_url, "LANG": "C.UTF-8"}
    return subprocess.run([sys.executable, str(BOOTSTRAP), *args], env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("json_api", [False, True], ids=["html", "json"])
def test_this_machines_wheel_is_fetched_checked_and_unpacked(index: Index, tmp_path: Path, json_api: bool) -> None:
    # first a version that only starts alike, then other machines' wheels
    index.publish(
        [("9.9.90", THIS_MACHINE), *[("9.9.9", t) for t in OTHER_MACHINES], ("9.9.9", THIS_MACHINE)], json_api=json_api
    )
    target = tmp_path / "tools"
    done = bootstrap(index.url, "9.9.9", str(target))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(target / "uv")
    ran = subprocess.run([str(target / "uv")], capture_output=True, text=True, env={"PATH": BARE_PATH})
    assert ran.stdout.strip() == f"uv from 9.9.9 {THIS_MACHINE}"
    assert sorted(p.name for p in target.iterdir()) == ["uv"]  # nothing half-written left beside it


def test_a_wheel_that_does_not_match_its_digest_is_not_installed(index: Index, tmp_path: Path) -> None:
    index.publish([("9.9.9", THIS_MACHINE)], wrong_digest=True)
    done = bootstrap(index.url, "9.9.9", str(tmp_path / "tools"))
    assert done.returncode != 0
    assert "does not match the index's" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "tools" / "uv").exists()


def test_an_index_without_a_wheel_for_this_machine_says_so(index: Index, tmp_path: Path) -> None:
    index.publish([("9.9.9", t) for t in OTHER_MACHINES])
    done = bootstrap(index.url, "9.9.9", str(tmp_path / "tools"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "the package index has no uv 9.9.9 wheel for x86_64 on linux"


def test_an_unreachable_index_is_one_line_naming_the_address(index: Index, tmp_path: Path) -> None:
    missing = index.url.replace("/simple", "/nowhere")
    done = bootstrap(missing, "9.9.9", str(tmp_path / "tools"))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"could not download {missing}/uv/: File not found"


def test_setup_fetches_uv_once_when_the_machine_has_none(index: Index, tmp_path: Path) -> None:
    """setup.sh on a machine without uv: uv fetched into .tools/ on the first run, reused on the next; the app
    install leaves out the extras and the dev group, the full one takes them."""
    assert PINNED is not None
    version = PINNED.group(1)
    index.publish([(version, t) for t in (*OTHER_MACHINES, THIS_MACHINE)])
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    for name in ("setup.sh", "bootstrap_uv.py"):
        shutil.copy(SCRIPTS / name, checkout / "scripts" / name)
    calls = tmp_path / "uv-calls.txt"
    env = {
        "PATH": BARE_PATH,
        "HOME": str(tmp_path),
        "PIP_INDEX_URL": index.url,
        "UV_CALLS": str(calls),
        "LANG": "C.UTF-8",
    }
    assert shutil.which("uv", path=BARE_PATH) is None

    first = subprocess.run(
        ["bash", "scripts/setup.sh", "--app"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60
    )
    assert first.returncode == 0, first.stderr
    assert f"uv not found: fetching uv {version} from PyPI" in first.stderr
    assert (checkout / ".tools" / f"uv-{version}" / "uv").is_file()
    fetched = [p for p in index.requests if p.endswith(".whl")]
    assert fetched == [f"/simple/uv/uv-{version}-py3-none-{THIS_MACHINE}.whl"]

    second = subprocess.run(
        ["bash", "scripts/setup.sh"], cwd=checkout, env=env, capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0, second.stderr
    assert "fetching uv" not in second.stderr
    assert [p for p in index.requests if p.endswith(".whl")] == fetched  # not downloaded again
    assert calls.read_text().splitlines() == [
        "sync --frozen --quiet --no-dev --inexact",  # bash scripts/demo.sh: the app alone
        "sync --frozen --quiet --all-extras",  # bash scripts/test.sh: Spark, test and lint tools too
    ]


def test_the_script_needs_only_the_standard_library() -> None:
    """It runs before anything is installed, on a Python that has no pip."""
    imported = [line.split()[1] for line in BOOTSTRAP.read_text().splitlines() if line.startswith(("import ", "from "))]
    assert all(name.split(".")[0] in sys.stdlib_module_names for name in imported), imported
