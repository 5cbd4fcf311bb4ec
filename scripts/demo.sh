#!/usr/bin/env bash
# The main job: install, then start the clinic web app on its own SQLite file with demo patients.
# The address and the demo sign-in are printed first; stop with Ctrl+C; running it again keeps the same demo data.
# Options go to `fbss serve` (e.g. --port 8080). FBSS_DEMO_CLINICIAN_PASSWORD / FBSS_DEMO_ADMIN_PASSWORD fix the
# demo passwords; without them each start prints new random ones.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if ! ldconfig -p 2>/dev/null | grep -q "libpango-1.0"; then
  echo "note: PDF downloads need Pango; install it with: bash scripts/system-packages.sh" >&2
fi
exec uv run --frozen --quiet fbss serve --demo "$@"
