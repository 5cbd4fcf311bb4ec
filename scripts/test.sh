#!/usr/bin/env bash
# The whole test suite: install everything (Spark, test and lint tools, Debian packages), lint, type-check, test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
.venv/bin/ruff check src tests bench scripts
.venv/bin/mypy
.venv/bin/pytest -n 2 "$@"
