#!/usr/bin/env bash
# The whole test suite: install, lint, type-check, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
uv run --frozen ruff check src tests bench
uv run --frozen mypy
uv run --frozen pytest -n 2 "$@"
