#!/usr/bin/env bash
# `make run`: Voice Doctor on :3978 and the Microsoft 365 Agents Playground on :56150, together.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-3978}"
PLAYGROUND_PORT="${PLAYGROUND_PORT:-56150}"
export PORT TEAMSAPPTESTER_PORT="$PLAYGROUND_PORT"
# The Playground opens a browser unless told not to; on a machine without a desktop it then exits with 1.
export TEAMSAPPTESTER_BROWSER=none
# The demo's helpdesk channel is the Playground team's "Calls" channel (self-reports land there).
export HELPDESK_CHANNEL_ID="${HELPDESK_CHANNEL_ID:-19:helpdesk-calls@thread.tacv2}"
# The watch sweeps the demo tenant every minute and posts what is new into "Calls" (WATCH_INTERVAL=off: none).
export WATCH_INTERVAL="${WATCH_INTERVAL:-1m}"
# `make run AS=adele` chats as Adele Vance, an ordinary user, instead of Megan Bowen (helpdesk);
# `make run AS=grady` as Grady Archie, helpdesk without a Teams admin role (he may not confirm a fix).
case "${AS:-megan}" in
  megan) export M365_AGENTS_PLAYGROUND_CONFIG_PATH="$PWD/.m365agentsplayground.yml"; who="Megan Bowen (helpdesk)" ;;
  adele) export M365_AGENTS_PLAYGROUND_CONFIG_PATH="$PWD/tests/e2e/adele.m365agentsplayground.yml"; who="Adele Vance (an ordinary user)" ;;
  grady) export M365_AGENTS_PLAYGROUND_CONFIG_PATH="$PWD/tests/e2e/grady.m365agentsplayground.yml"; who="Grady Archie (helpdesk, no Teams admin role)" ;;
  *) echo "AS=${AS} is not a demo user: use AS=megan, AS=adele or AS=grady."; exit 2 ;;
esac
mkdir -p data
export M365_AGENTS_PLAYGROUND_LOGFILE="${M365_AGENTS_PLAYGROUND_LOGFILE:-data/playground.log}"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap 'cleanup; echo "Voice Doctor and the Playground have stopped."; exit 0' INT TERM
trap cleanup EXIT

.venv/bin/python app.py &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:${PORT}/healthz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { echo "Voice Doctor did not start (see the message above)."; exit 2; }
  sleep 0.2
done

node_modules/.bin/agentsplayground start -e "http://127.0.0.1:${PORT}/api/messages" -c msteams \
  -p "$PLAYGROUND_PORT" --dt &
pids+=($!)

cat <<MSG

  Voice Doctor           http://127.0.0.1:${PORT}/api/messages   (health: http://127.0.0.1:${PORT}/healthz)
  Agents Playground      http://localhost:${PLAYGROUND_PORT}      <- open this in your browser and chat

  You are ${who} in the demo tenant. Try: help · check calls for adele@contoso.example · check sync
  · check everyone · my calls don't ring (make run AS=adele to be an ordinary user; self-reports go to
  Helpdesk > Calls, and so does the watch's digest of what is new, every ${WATCH_INTERVAL})
  Press Ctrl-C to stop both.

MSG
wait -n "${pids[@]}"
