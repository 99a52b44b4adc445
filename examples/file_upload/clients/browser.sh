#!/usr/bin/env bash
# The upload page in headless Chromium (Debian's /usr/bin/chromium) driven by
# playwright-core under node's test runner. Needs node/npm and chromium.
source "$(dirname "$0")/common.sh"
build_server
cd "$(dirname "$0")/browser"
npm ci --no-fund --no-audit --loglevel=error
SERVER_BIN="$BIN" npm test
