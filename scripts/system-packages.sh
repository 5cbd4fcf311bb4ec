#!/usr/bin/env bash
# Debian packages for the parts of the suite that need real external components.
set -euo pipefail
packages=(postgresql chromium libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
