#!/usr/bin/env bash
# Provisions the Python virtual environment with pycrate (PyPI), the independent NAS-5GS decoder
# that tests/pycrate_decode.rs in fiveg-emu uses. Idempotent: does nothing when the pinned
# version is already there. Prints the interpreter path on the last line.
#   NAS_ORACLE_VENV   where to put it (default target/nas-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

VENV=${NAS_ORACLE_VENV:-${CARGO_TARGET_DIR:-target}/nas-venv}
# Absolute, since the tests that run it start in their crate's directory.
VENV=$(realpath -m "$VENV")
PYCRATE_VERSION=0.8.1

if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv
        python3 -m venv "$VENV"
    fi
fi
if ! "$VENV/bin/python" -c "import importlib.metadata as m; assert m.version('pycrate') == '$PYCRATE_VERSION'; import pycrate_mobile.NAS5G" 2>/dev/null; then
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "pycrate==$PYCRATE_VERSION"
fi
echo "$VENV/bin/python"
