#!/usr/bin/env bash
# Creates (once) the Python virtual environment with pycrate, the independent NGAP codec that
# checks the n3iwf crate's encodings, and prints the path of its python. Idempotent: an existing
# environment with the right pycrate is reused.
#
#   N3IWF_VENV   where to put it (default target/n3iwf-venv)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

VENV=${N3IWF_VENV:-target/n3iwf-venv}
# The golden vectors in n3iwf/tests/vectors/ngap/ were encoded by this release.
WANTED=0.8.1

has_pycrate() {
    "$VENV/bin/python" - "$@" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
version = m.version("pycrate")
assert version == sys.argv[1] if len(sys.argv) > 1 else version.startswith("0.8.")
from pycrate_asn1dir import NGAP  # the NGAP module compiles
PY
}

if [ ! -x "$VENV/bin/python" ]; then
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv || { echo "python3-venv is missing and cannot be installed" >&2; exit 1; }
        python3 -m venv "$VENV"
    fi
fi
if ! has_pycrate "$WANTED"; then
    pip=("$VENV/bin/pip" install --quiet --disable-pip-version-check)
    # The exact release first; any 0.8.x if the index lacks it (same NGAP ASN.1 and codec).
    if ! "${pip[@]}" "pycrate==$WANTED" && ! "${pip[@]}" "pycrate>=0.8,<0.9"; then
        echo "cannot install pycrate $WANTED (nor any 0.8.x) from the Python package index" >&2
        exit 1
    fi
    has_pycrate || { echo "pycrate installed but its NGAP module does not load" >&2; exit 1; }
fi
realpath --no-symlinks "$VENV/bin/python"
