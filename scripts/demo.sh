#!/usr/bin/env bash
# The main job: install, then assess a bundled example case and print the assessment.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec uv run --frozen --quiet fbss assess examples/cases/recurrent_herniation_after_discectomy.json "$@"
