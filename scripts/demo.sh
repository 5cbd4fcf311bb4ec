#!/usr/bin/env bash
# The main job: install the app, then start the clinic web app on its own SQLite file with demo patients.
# The address and the demo sign-in are printed first; stop with Ctrl+C; running it again keeps the same demo data
# and the same demo passwords. Options go to `fbss serve`: --port 8080, or --host 0.0.0.0 to open it to other
# devices on the network (a phone, say).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --app
if ! ldconfig -p 2>/dev/null | grep -q "libpango-1.0"; then
  echo "note: PDF reports need Pango; install it with: apt install libpango-1.0-0 libpangoft2-1.0-0" >&2
fi
exec .venv/bin/fbss serve --demo "$@"
