#!/usr/bin/env bash
# Start (or reuse) a throwaway PostgreSQL server on 127.0.0.1 for the test suite and print its URL.
#
#   export VOICE_DOCTOR_TEST_POSTGRES_URL="$(scripts/postgres.sh)"   # start or reuse, print the URL
#   eval "$(scripts/postgres.sh --export)"                           # same, as an `export` line
#   scripts/postgres.sh --stop                                       # stop it and delete its files
#   scripts/postgres.sh --check                                      # exit 0 when the server binaries are here
#
# `make test` needs none of this: the test suite starts its own server with this script when the
# binaries are installed (tests/storage_backends.py) and stops it at the end.
#
# Why a private cluster rather than Debian's "main" one: tests must not depend on (or disturb) a
# system service, CI containers have no systemd, and a cluster under a temp dir with fsync off
# starts in about a second. Debian's `postgresql` package is installed when no server binaries are
# found (fresh CI machines). PostgreSQL refuses to run as root, so as root the server runs as the
# `postgres` user the package creates.
#
# Idempotent: a second call finds the running server (a lock serialises concurrent calls) and only
# prints the URL. The URL is also written to "$VOICE_DOCTOR_PG_DIR/url". Diagnostics go to stderr;
# stdout carries only the URL (or the export line), so command substitution is safe.
#
# The cluster trusts every connection from 127.0.0.1 (no password): it holds test data only.
set -euo pipefail

PG_DIR="${VOICE_DOCTOR_PG_DIR:-${TMPDIR:-/tmp}/voice-doctor-postgres}"
DB_NAME="voice_doctor_test"
DB_USER="postgres"
MODE="url"

case "${1:-}" in
  "") ;;
  --export) MODE="export" ;;
  --stop) MODE="stop" ;;
  --check) MODE="check" ;;
  -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "postgres.sh: unknown option '$1' (use --export, --stop, --check or --help)." >&2; exit 2 ;;
esac

log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$dir" && -x "$dir/pg_ctl" ]]; then
    echo "$dir"
  elif command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
  fi
}

install_postgres() {
  if [[ "$(id -u)" -ne 0 ]]; then
    log "PostgreSQL is not installed and installing it needs root: run 'apt-get install -y postgresql' as root."
    exit 1
  fi
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends postgresql >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
  fi
}

# Run a command as the cluster owner: `postgres` when we are root, ourselves otherwise.
as_owner() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local python
  python="$(command -v python3 || command -v python || true)"
  if [[ -n "$python" ]]; then
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 20000))
  fi
}

url_for() { echo "postgresql://${DB_USER}@127.0.0.1:$1/${DB_NAME}"; }

emit() {
  local url="$1"
  if [[ "$MODE" == "export" ]]; then
    echo "export VOICE_DOCTOR_TEST_POSTGRES_URL='$url'"
  else
    echo "$url"
  fi
}

BINDIR="$(find_bindir)"
if [[ "$MODE" == "check" ]]; then
  for tool in initdb pg_ctl postgres pg_isready psql createdb; do
    if [[ -z "$BINDIR" || ! -x "$BINDIR/$tool" ]]; then
      log "PostgreSQL's server binaries were not found (no $tool): install them with 'apt-get install postgresql'."
      exit 1
    fi
  done
  log "PostgreSQL's server binaries are in $BINDIR"
  exit 0
fi
if [[ "$MODE" == "stop" ]]; then
  if [[ -n "$BINDIR" && -f "$PG_DIR/data/PG_VERSION" ]]; then
    as_owner "$BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate stop >&2 || true
  fi
  rm -rf "$PG_DIR"
  log "stopped and removed $PG_DIR"
  exit 0
fi

if [[ -z "$BINDIR" ]]; then
  install_postgres
  BINDIR="$(find_bindir)"
  [[ -n "$BINDIR" ]] || { log "the postgresql package installed no pg_ctl; cannot start a server."; exit 1; }
fi

mkdir -p "$PG_DIR"
if [[ "$(id -u)" -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || { log "there is no 'postgres' user to run the server as (PostgreSQL refuses root)."; exit 1; }
  chown postgres: "$PG_DIR"
  runuser -u postgres -- test -x "$PG_DIR" || {
    log "the postgres user cannot reach $PG_DIR: choose a VOICE_DOCTOR_PG_DIR under a world-readable directory such as /tmp."
    exit 1
  }
fi

exec 9>"$PG_DIR/.lock"
flock 9

# Reuse a running server.
if [[ -f "$PG_DIR/port" && -f "$PG_DIR/data/postmaster.pid" ]]; then
  port="$(cat "$PG_DIR/port")"
  if as_owner "$BINDIR/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1 \
    && "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$port" -d "$DB_NAME" -U "$DB_USER"; then
    emit "$(url_for "$port")"
    exit 0
  fi
  # A stale pid file (killed server): stop whatever is left before starting again.
  as_owner "$BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
fi

if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
  log "creating a throwaway cluster in $PG_DIR/data"
  rm -rf "$PG_DIR/data"
  as_owner "$BINDIR/initdb" -D "$PG_DIR/data" -U "$DB_USER" -A trust -E UTF8 --locale=C --no-sync >/dev/null
fi

port="$(free_port)"
log "starting PostgreSQL ($("$BINDIR/postgres" --version)) on 127.0.0.1:$port"
as_owner "$BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/data/server.log" -w -t 60 start \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$PG_DIR/data -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  >/dev/null 9>&- || { log "the server did not start; its log follows."; tail -n 30 "$PG_DIR/data/server.log" >&2; exit 1; }
echo "$port" >"$PG_DIR/port"

if ! "$BINDIR/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'" | grep -q 1; then
  "$BINDIR/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"
fi

url="$(url_for "$port")"
echo "$url" >"$PG_DIR/url"
emit "$url"
