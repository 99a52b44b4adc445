#!/usr/bin/env bash
# The upload server out of descriptors, under `ulimit -n 256`: a flood of
# 300 connections (python3), then a normal upload with curl that must
# succeed. Twice: with the default --max-connections (derived from the
# limit: (256 - 32) / 2 = 112), where the connections past it get a 503;
# and with the limit set far too high, where `accept` itself fails with
# EMFILE and the server must log it, back off and go on.
# Needs: curl, sha256sum, python3, cargo.
source "$(dirname "$0")/common.sh"
build_server

sha() { sha256sum "$1" | cut -c1-64; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }

# start_limited EXTRA...: the server under ulimit -n 256 (the subshell execs it).
start_limited() {
  DIR="$WORK/uploads-$RANDOM"
  mkdir -p "$DIR"
  (ulimit -n 256 && exec "$BIN" serve --listen 127.0.0.1:0 --dir "$DIR" "$@") > "$WORK/server.out" 2> "$WORK/server.err" &
  SERVER_PID=$!
  for _ in $(seq 100); do
    if grep -q '^listening on ' "$WORK/server.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  ADDR="$(sed -n 's/^listening on //p' "$WORK/server.out")"
  [ -n "$ADDR" ] || { echo "server did not start"; cat "$WORK/server.err"; exit 1; }
  URL="http://$ADDR"
}

# flood N: opens N connections, holds them 2 s, prints how many got a 503
# (or were closed at once) and how many were left open.
flood() {
  python3 - "$ADDR" "$1" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
socks = [socket.create_connection((host, int(port)), timeout=5) for _ in range(int(sys.argv[2]))]
time.sleep(2)
busy = held = 0
for s in socks:
    s.settimeout(0.05)
    try:
        d = s.recv(200)
        busy += 1 if (d == b"" or d.startswith(b"HTTP/1.1 503 ")) else 0
    except socket.timeout:
        held += 1
    except ConnectionResetError:
        busy += 1
print(busy, held)
for s in socks:
    s.close()
PY
}

head -c 3000000 /dev/urandom > "$WORK/a.bin"
upload_after() {
  for _ in $(seq 50); do
    c="$(code -T "$WORK/a.bin" "$URL/files/$1")"
    [ "$c" = 201 ] && break
    sleep 0.1
  done
  check "$2: upload after the flood: 201" 201 "$c"
  check "$2: stored bytes" "$(sha "$WORK/a.bin")" "$(sha "$DIR/$1")"
}

start_limited
check "default limit from ulimit -n 256" yes "$(grep -q 'at most 112 connections' "$WORK/server.err" && echo yes)"
read -r busy held < <(flood 300)
check "300 connections: 112 served, the rest turned away" "112 188" "$held $busy"
check "the server is still running" yes "$(kill -0 "$SERVER_PID" 2>/dev/null && echo yes)"
upload_after limited.bin "--max-connections default"
stop_server

start_limited --max-connections 100000
read -r busy held < <(flood 300)
check "EMFILE: the server is still running" yes "$(kill -0 "$SERVER_PID" 2>/dev/null && echo yes)"
check "EMFILE: accept failure logged" yes "$(grep -q 'accept failed: Too many open files' "$WORK/server.err" && echo yes)"
upload_after emfile.bin "EMFILE"
stop_server

summary
