#!/usr/bin/env bash
# The README's two commands on a fresh, stock Debian 12 (bookworm) with Python 3.11 and no uv: a throw-away root
# file system made by debootstrap, entered with chroot (no container engine needed). Run as root; slow (it downloads
# Debian, every Python dependency and the test suite's Debian packages), so it is not part of the test suite.
#
#   sudo bash scripts/fresh-install-test.sh [--keep]      # --keep leaves the root file system for a look inside
#
# Checks: `bash scripts/demo.sh` installs the app and serves the sign-in page; `CI=true bash scripts/test.sh`
# passes. The last lines it prints are the result (docs/install.md keeps those of the last run).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
keep=false
[[ "${1:-}" == "--keep" ]] && keep=true
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

if [[ $(id -u) -ne 0 ]]; then
  echo "fresh-install-test.sh: run as root (debootstrap and chroot need it)" >&2
  exit 2
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

root=$(mktemp -d /var/tmp/fbss-fresh.XXXXXX)
chmod 755 "$root"  # it becomes "/": other users (postgres) must be able to enter it
mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  if $keep; then echo "kept: $root"; else rm -rf --one-file-system "$root"; fi
}
trap cleanup EXIT
started=$(date +%s)
step() { echo "[$(( $(date +%s) - started ))s] $*"; }

# A stock Debian 12 with Python 3.11: python3 and CA certificates, no pip, no venv module, no uv.
step "debootstrap bookworm into $root"
debootstrap --include=python3,ca-certificates bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 \
  || { tail -20 "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
for fs in proc sys dev dev/pts; do
  mount --bind "/$fs" "$root/$fs"
  mounted+=("$root/$fs")
done
mount -t tmpfs tmpfs "$root/dev/shm" && mounted+=("$root/dev/shm")
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This network's own certificate authorities (a TLS-inspecting proxy, say), installed the way its IT would install
# them on any machine; uv reads SSL_CERT_FILE when the host sets it.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  chroot "$root" update-ca-certificates >/dev/null 2>&1
fi
tls=()
[[ -n "${SSL_CERT_FILE:-}" ]] && tls=("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")

# The repository as a fresh clone has it: the committed files of HEAD.
mkdir -p "$root/src/fbss-navigator"
git -C "$repo" archive HEAD | tar -x -C "$root/src/fbss-navigator"
inside() { chroot "$root" /usr/bin/env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  LANG=C.UTF-8 CI=true "${tls[@]}" bash -c "cd /src/fbss-navigator && $1"; }
step "inside: $(inside 'python3 --version; command -v uv || echo no uv; python3 -m pip --version 2>&1 | tail -1')"

port=$((20000 + RANDOM % 20000))
step "README command 1: bash scripts/demo.sh --port $port"
inside "bash scripts/demo.sh --port $port >/tmp/demo.log 2>&1 & echo \$! >/tmp/demo.pid"
for _ in $(seq 1 900); do
  grep -q "stop with Ctrl+C" "$root/tmp/demo.log" 2>/dev/null && break
  if ! kill -0 "$(cat "$root/tmp/demo.pid")" 2>/dev/null; then cat "$root/tmp/demo.log"; exit 1; fi
  sleep 1
done
sed 's/^/  demo: /' "$root/tmp/demo.log" | head -12
code=$(python3 -c "import urllib.request; print(urllib.request.urlopen('http://127.0.0.1:$port/login').status)")
step "GET /login -> $code"
pkill -INT -P "$(cat "$root/tmp/demo.pid")" 2>/dev/null || true
kill -INT "$(cat "$root/tmp/demo.pid")" 2>/dev/null || true
sleep 2
[[ "$code" == 200 ]] || { echo "the demo did not serve its sign-in page"; exit 1; }
step "app install size: $(du -sh "$root/src/fbss-navigator/.venv" | cut -f1) (.venv, app only)"

step "README command 2: CI=true bash scripts/test.sh"
if inside "bash scripts/test.sh" >"$root/tmp/test.log" 2>&1; then result=passed; else result=FAILED; fi
tail -n 15 "$root/tmp/test.log" | sed 's/^/  test: /'
step "full install size: $(du -sh "$root/src/fbss-navigator/.venv" | cut -f1) (.venv with Spark, test and lint tools)"
step "fresh Debian 12, Python $(inside 'python3 -c "import platform; print(platform.python_version())"'), no uv: demo served, test suite $result"
[[ $result == passed ]]
