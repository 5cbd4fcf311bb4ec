#!/usr/bin/env bash
# Install FBSS Navigator into .venv from uv.lock. Needs Python 3.11 and access to PyPI; uv is fetched when missing.
# Usage: scripts/setup.sh [--app] [--system]
#   --app     only what the app needs (no Spark, no test or lint tools): what `bash scripts/demo.sh` installs
#   --system  also the Debian packages the full test suite needs (PostgreSQL, Chromium, Pango; run as root)
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.9
app_only=false
system=false
for arg in "$@"; do
  case "$arg" in
    --app) app_only=true ;;
    --system) system=true ;;
    *) echo "setup.sh: unknown option $arg (expected --app or --system)" >&2; exit 2 ;;
  esac
done

if ! command -v python3.11 >/dev/null 2>&1 && ! python3 -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "FBSS Navigator needs Python 3.11 (Debian 12: apt install python3; Ubuntu 23.04/23.10: the default python3)." >&2
  echo "No python3.11 was found; uv will try to download one, which needs access to GitHub." >&2
fi

# uv: the one on PATH, else a copy in .tools/ fetched from its PyPI wheel (pip itself refuses to install
# outside a virtual environment on Debian 12 and Ubuntu 23.04+).
if command -v uv >/dev/null 2>&1; then
  uv=uv
else
  uv=".tools/uv-$UV_VERSION/uv"
  if [[ ! -x "$uv" ]]; then
    echo "uv not found: fetching uv $UV_VERSION from PyPI into .tools/ …" >&2
    python3 scripts/bootstrap_uv.py "$UV_VERSION" ".tools/uv-$UV_VERSION" >/dev/null
    echo "uv is in $(pwd)/.tools/uv-$UV_VERSION/ (add it to PATH for \`uv run\`, or use .venv/bin/fbss)" >&2
  fi
fi

if $app_only; then
  # --inexact: a developer's test tools already in .venv stay
  "$uv" sync --frozen --quiet --no-dev --inexact
else
  "$uv" sync --frozen --quiet --all-extras
fi

if $system; then
  bash scripts/system-packages.sh
fi
