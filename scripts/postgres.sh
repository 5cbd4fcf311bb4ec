#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite, in a temporary directory, on a loopback port.
#
#   eval "$(bash scripts/postgres.sh start)"   # starts it; prints export lines for FBSS_TEST_POSTGRES_URL and
#                                                 FBSS_TEST_POSTGRES_DIR
#   bash scripts/postgres.sh stop "$FBSS_TEST_POSTGRES_DIR"   # stops it and deletes the directory
#
# Needs Debian's `postgresql` package (scripts/system-packages.sh). As root, the server runs as the `postgres`
# user, since initdb refuses to run as root. The data is disposable: fsync is off.
set -euo pipefail

bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -z "$dir" || ! -x "$dir/initdb" ]]; then
    echo "postgres.sh: no PostgreSQL server found under /usr/lib/postgresql; run scripts/system-packages.sh" >&2
    exit 2
  fi
  echo "$dir"
}

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local bin dir port
  bin=$(bin_dir)
  dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/fbss-postgres.XXXXXX")}
  mkdir -p "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    chown postgres: "$dir"
  fi
  as_owner "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
    --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait --timeout=60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
          -c full_page_writes=off -c max_connections=200" start >/dev/null; then
      break
    fi
    if [[ $attempt -eq 3 ]]; then
      cat "$dir/server.log" >&2
      exit 1
    fi
  done
  as_owner "$bin/createdb" --host=127.0.0.1 --port="$port" --username=postgres fbss_test
  echo "export FBSS_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:$port/fbss_test"
  echo "export FBSS_TEST_POSTGRES_DIR=$dir"
}

stop() {
  local bin dir=${1:?usage: postgres.sh stop DIR}
  bin=$(bin_dir)
  if [[ -d "$dir/data" ]]; then
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

case "${1:-}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: postgres.sh start [DIR] | stop DIR" >&2; exit 2 ;;
esac
