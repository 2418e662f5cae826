#!/usr/bin/env bash
# Run a command while every core is kept busy by other processes: the check that no test depends
# on the machine's speed (docs/reliability.md, "Tests on a busy machine").
#
#   scripts/cpu-load.sh --runs 3 make test     # three runs in a row, all cores busy; stops at the first failure
#   scripts/cpu-load.sh make test              # once
#   scripts/cpu-load.sh --workers 4 -- CMD...  # more (or fewer) busy processes than cores
#
# One busy loop per core (`nproc`), at the same priority as the command (a niced load would yield to
# it and prove nothing). The busy processes are this script's children and are stopped when it
# exits, however it exits (Ctrl-C included). Exit status: the command's first non-zero status, else 0.
set -euo pipefail

runs=1
workers="$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --workers) workers="${2:?--workers needs a number}"; shift 2 ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "cpu-load.sh: unknown option '$1' (use --runs, --workers or --help)." >&2; exit 2 ;;
    *) break ;;
  esac
done
[[ $# -gt 0 ]] || { echo "cpu-load.sh: no command given (e.g. scripts/cpu-load.sh --runs 3 make test)." >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ && "$workers" =~ ^[1-9][0-9]*$ ]] || {
  echo "cpu-load.sh: --runs and --workers take a positive whole number." >&2
  exit 2
}

busy=()
stop_load() {
  if [[ ${#busy[@]} -gt 0 ]]; then
    kill "${busy[@]}" 2>/dev/null || true
    wait "${busy[@]}" 2>/dev/null || true
    busy=()
  fi
}
trap stop_load EXIT
trap 'exit 130' INT TERM

for _ in $(seq "$workers"); do
  bash -c 'while :; do :; done' &
  busy+=("$!")
done
echo "cpu-load.sh: $workers busy processes (pids ${busy[*]}) on $(nproc 2>/dev/null || echo '?') cores" >&2

for run in $(seq "$runs"); do
  echo "cpu-load.sh: run $run of $runs under load: $*" >&2
  started=$SECONDS
  status=0
  "$@" || status=$?
  echo "cpu-load.sh: run $run of $runs ended with status $status after $((SECONDS - started)) s" >&2
  if [[ "$status" -ne 0 ]]; then
    exit "$status"
  fi
done
echo "cpu-load.sh: all $runs run(s) passed under load" >&2
