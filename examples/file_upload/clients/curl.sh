#!/usr/bin/env bash
# The upload server against curl: PUT -T FILE (Content-Length), PUT -T -
# from a pipe (chunked), -F (multipart), with Expect: 100-continue as curl
# sends it for large bodies, and the refusals 409, 400, 413.
# Needs: curl, sha256sum, python3 (JSON), cargo.
source "$(dirname "$0")/common.sh"
build_server
start_server --max-size 8M

sha() { sha256sum "$1" | cut -c1-64; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }

head -c 3000000 /dev/urandom > "$WORK/a.bin"
head -c 5000000 /dev/urandom > "$WORK/b.bin"
head -c 9000000 /dev/urandom > "$WORK/big.bin"

check "PUT -T file: 201" 201 "$(code -T "$WORK/a.bin" "$URL/files/a.bin")"
check "PUT -T file: sha256 in the body" "$(sha "$WORK/a.bin")" "$(json 'd["sha256"]' < "$WORK/body")"
check "stored bytes" "$(sha "$WORK/a.bin")" "$(sha "$DIR/a.bin")"

cp "$WORK/a.bin" "$WORK/root.bin"
check "PUT -T file URL/ (curl appends the name): 201" 201 "$(code -T "$WORK/root.bin" "$URL/")"
check "PUT -T file URL/: stored" "$(sha "$WORK/a.bin")" "$(sha "$DIR/root.bin")"

check "PUT -T - from a pipe (chunked): 201" 201 "$(cat "$WORK/b.bin" | code -T - "$URL/files/piped.bin")"
check "chunked: sha256" "$(sha "$WORK/b.bin")" "$(json 'd["sha256"]' < "$WORK/body")"
check "chunked: stored bytes" "$(sha "$WORK/b.bin")" "$(sha "$DIR/piped.bin")"

check "-F two files: 201" 201 "$(code -F "file=@$WORK/a.bin;filename=form-a.bin" -F "file=@$WORK/b.bin;filename=form-b.bin" -F note=hello "$URL/files")"
check "-F: sha256 of both" "$(sha "$WORK/a.bin") $(sha "$WORK/b.bin")" "$(json '" ".join(x["sha256"] for x in d)' < "$WORK/body")"
check "-F: stored" "$(sha "$WORK/b.bin")" "$(sha "$DIR/form-b.bin")"

check "PUT an existing name: 409" 409 "$(code -T "$WORK/b.bin" "$URL/files/a.bin")"
check "the first file is intact" "$(sha "$WORK/a.bin")" "$(sha "$DIR/a.bin")"
check "-F an existing name: 409" 409 "$(code -F "file=@$WORK/b.bin;filename=a.bin" "$URL/files")"
check "name ..: 400" 400 "$(code --path-as-is -X PUT --data-binary "@$WORK/a.bin" "$URL/files/..")"
check "name %2e%2e: 400" 400 "$(code -T "$WORK/a.bin" "$URL/files/%2e%2e")"
check "name a%2Fb: 400" 400 "$(code -T "$WORK/a.bin" "$URL/files/a%2Fb")"
check "hidden name: 400" 400 "$(code -T "$WORK/a.bin" "$URL/files/.x.part-1-1")"
check "name my..notes.txt: 201" 201 "$(code -T "$WORK/a.bin" "$URL/files/my..notes.txt")"
check "over --max-size (Content-Length): 413" 413 "$(code -T "$WORK/big.bin" "$URL/files/big.bin")"
check "over --max-size (chunked): 413" 413 "$(cat "$WORK/big.bin" | code -T - "$URL/files/big2.bin")"
check "over --max-size (form): 413" 413 "$(code -F "file=@$WORK/big.bin" "$URL/files")"
check "nothing of the refused bodies stored" "" "$(ls "$DIR" | grep big || true)"
check "GET /files lists 6 files" 6 "$(curl -s "$URL/files" | json 'len(d)')"
check "GET / is the page" 200 "$(code "$URL/")"
summary
