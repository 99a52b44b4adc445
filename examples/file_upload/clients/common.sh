# Sourced by the client scripts: builds the upload server, starts it on
# 127.0.0.1 (port 0) in a fresh folder, and stops it on exit.
#   start_server [EXTRA SERVE ARGS...]  sets ADDR, URL, DIR, SERVER_PID
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
WORK="$(mktemp -d)"
SERVER_PID=""
PASSED=0
FAILED=0

cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

build_server() {
  (cd "$ROOT" && cargo build --release --quiet --example file_upload)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/examples/file_upload"
}

start_server() {
  DIR="$WORK/uploads-$RANDOM"
  mkdir -p "$DIR"
  "$BIN" serve --listen 127.0.0.1:0 --dir "$DIR" "$@" > "$WORK/server.out" 2> "$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$WORK/server.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  ADDR="$(sed -n 's/^listening on //p' "$WORK/server.out")"
  [ -n "$ADDR" ] || { echo "server did not start"; cat "$WORK/server.err"; exit 1; }
  URL="http://$ADDR"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# check NAME EXPECTED ACTUAL
check() {
  if [ "$2" = "$3" ]; then
    PASSED=$((PASSED + 1)); echo "ok   $1"
  else
    FAILED=$((FAILED + 1)); echo "FAIL $1: expected [$2], got [$3]"
  fi
}

summary() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}
