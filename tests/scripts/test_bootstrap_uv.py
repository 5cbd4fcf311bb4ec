"""scripts/bootstrap_uv.py, which fetches uv on a machine without it: a wheel chosen for this machine from a package
index (HTML or JSON), checked against the index's digest, unpacked to one executable. Served here from files."""

from __future__ import annotations

import hashlib
import io
import json
import runpy
import stat
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bootstrap_uv.py"


def fake_wheel(version: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(f"uv-{version}.data/scripts/uv", "#!/bin/sh\necho uv " + version + "\n")
        wheel.writestr(f"uv-{version}.dist-info/METADATA", "Name: uv\n")
    return buffer.getvalue()


def index(tmp_path: Path, *, json_api: bool, digest: str | None = None) -> str:
    """A package index on disk for uv 9.9.9 with a wheel for this machine; returns its base address."""
    module: dict[str, Any] = runpy.run_path(str(SCRIPT))
    tag = module["wanted_tags"]()[0]
    name = f"uv-9.9.9-py3-none-{tag}.whl"
    data = fake_wheel("9.9.9")
    project = tmp_path / "simple" / "uv"
    project.mkdir(parents=True)
    (project / name).write_bytes(data)
    sha = digest or hashlib.sha256(data).hexdigest()
    if json_api:
        body = {"files": [{"filename": name, "url": name, "hashes": {"sha256": sha}}]}
        (project / "index.html").write_text(json.dumps(body))
    else:
        (project / "index.html").write_text(f'<a href="{name}#sha256={sha}">{name}</a>')
    return (tmp_path / "simple").as_uri()


@pytest.mark.parametrize("json_api", [False, True], ids=["html", "json"])
def test_uv_is_unpacked_from_the_index(tmp_path: Path, json_api: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", index(tmp_path, json_api=json_api))
    module: dict[str, Any] = runpy.run_path(str(SCRIPT))
    # file:// indexes have no directory page: point the script at the project's index file
    original = module["index_files"]
    monkeypatch.setitem(module["main"].__globals__, "index_files", lambda page: original(page + "index.html"))
    target = tmp_path / "tools"
    assert module["main"](["9.9.9", str(target)]) == 0
    uv = target / "uv"
    assert uv.read_text().startswith("#!/bin/sh") and uv.stat().st_mode & stat.S_IXUSR
    assert not (target / "uv.partial").exists()


def test_a_wheel_that_does_not_match_its_digest_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", index(tmp_path, json_api=False, digest="0" * 64))
    module: dict[str, Any] = runpy.run_path(str(SCRIPT))
    original = module["index_files"]
    monkeypatch.setitem(module["main"].__globals__, "index_files", lambda page: original(page + "index.html"))
    with pytest.raises(SystemExit, match="does not match"):
        module["main"](["9.9.9", str(tmp_path / "tools")])
    assert not (tmp_path / "tools" / "uv").exists()


def test_the_script_needs_only_the_standard_library() -> None:
    imported = [line.split()[1] for line in SCRIPT.read_text().splitlines() if line.startswith(("import ", "from "))]
    assert all(name.split(".")[0] in sys.stdlib_module_names or name == "__future__" for name in imported), imported
