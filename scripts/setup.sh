#!/usr/bin/env bash
# Install everything FBSS Navigator needs on a fresh machine: uv, then the Python deps from uv.lock.
# Usage: scripts/setup.sh [--system]   (--system also installs the Debian packages the full test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
fi
uv sync --frozen --quiet

if [[ "${1:-}" == "--system" ]]; then
  bash scripts/system-packages.sh
fi
