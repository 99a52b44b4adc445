#!/usr/bin/env bash
# The upload server against tuspy, in a venv (python3 -m venv; pip from PyPI).
# TUSPY_VENV names a venv to reuse (made if missing); default: a temp one.
source "$(dirname "$0")/common.sh"
build_server
VENV="${TUSPY_VENV:-$WORK/venv}"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check tuspy==1.1.0
fi
"$VENV/bin/python" "$(dirname "$0")/tus_py.py" "$BIN"
