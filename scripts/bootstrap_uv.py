"""Fetch the uv binary from its PyPI wheel, with the Python standard library only, for machines without uv.

    python3 scripts/bootstrap_uv.py VERSION DIRECTORY    # writes DIRECTORY/uv and prints its path

Debian 12 and Ubuntu 23.04 or later refuse `pip install` outside a virtual environment (PEP 668), and a stock
install has no `venv` module with pip either; the uv wheel is a zip file holding one static binary, so it is
downloaded, checked against the SHA-256 digest PyPI publishes for it, and unpacked. Nothing outside DIRECTORY is
touched.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import re
import stat
import sys
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

# The package index's "simple" API (PEP 503 HTML or PEP 691 JSON); a mirror can be set as for pip.
INDEX = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/")
ANCHOR = re.compile(r'href="([^"#]+)#sha256=([0-9a-f]{64})"')
MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


def wanted_tags() -> list[str]:
    """Wheel platform tags this machine can run, best first."""
    machine = MACHINES.get(platform.machine().lower())
    if machine is None:
        raise SystemExit(f"no uv wheel for this processor ({platform.machine()}); install uv by hand")
    if sys.platform == "darwin":
        return ["macosx_11_0_arm64" if machine == "aarch64" else "macosx_10_12_x86_64"]
    if not sys.platform.startswith("linux"):
        raise SystemExit(f"this script installs uv on Linux and macOS, not on {sys.platform}; install uv by hand")
    libc, _ = platform.libc_ver()
    return [f"manylinux_2_17_{machine}", f"manylinux2014_{machine}", f"musllinux_1_1_{machine}"] if libc == "glibc" \
        else [f"musllinux_1_1_{machine}"]


def fetch(url: str, accept: str = "*/*") -> bytes:
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            data: bytes = response.read()
            return data
    except urllib.error.URLError as exc:
        hint = " (is the ca-certificates package installed?)" if "CERTIFICATE" in str(exc.reason).upper() else ""
        raise SystemExit(f"could not download {url}: {exc.reason}{hint}") from None


def index_files(page: str) -> list[tuple[str, str, str]]:
    """(file name, absolute URL, SHA-256) of every file the index lists for a project."""
    body = fetch(page, accept="application/vnd.pypi.simple.v1+json, text/html;q=0.5")
    if body.lstrip().startswith(b"{"):
        files = json.loads(body)["files"]
        return [(f["filename"], urllib.parse.urljoin(page, f["url"]), f["hashes"].get("sha256", "")) for f in files]
    found = []
    for href, digest in ANCHOR.findall(body.decode("utf-8", "replace")):
        url = urllib.parse.urljoin(page, href.replace("&amp;", "&"))
        found.append((urllib.parse.unquote(url.rsplit("/", 1)[-1]), url, digest))
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    version, directory = argv[0], Path(argv[1])
    wheels = {name: (url, digest) for name, url, digest in index_files(f"{INDEX}/uv/")
              if name.startswith(f"uv-{version}-") and name.endswith(".whl")}
    for tag in wanted_tags():
        chosen = next((name for name in wheels if tag in name), None)
        if chosen is not None:
            break
    else:
        raise SystemExit(f"the package index has no uv {version} wheel for {platform.machine()} on {sys.platform}")
    url, expected = wheels[chosen]
    data = fetch(url)
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise SystemExit(f"{chosen}: SHA-256 {digest} does not match the index's {expected}; not installed")
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        member = next((n for n in wheel.namelist() if n.endswith("/scripts/uv")), None)
        if member is None:
            raise SystemExit(f"{chosen} holds no uv binary")
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "uv"
        partial = directory / "uv.partial"
        partial.write_bytes(wheel.read(member))
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(target)  # atomic: an interrupted download never leaves a broken uv behind
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
