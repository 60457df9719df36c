#!/usr/bin/env bash
# The NAS-5GS messages of the 5G emulators (fiveg-emu) decoded by pycrate, an independent
# implementation from PyPI: provisions its virtual environment, then runs the test with the
# environment required (a missing one fails here instead of skipping).
set -euo pipefail
cd "$(dirname "$0")/../.."
python=$(bash scripts/nas-oracle-venv.sh | tail -n 1)
FIVEG_PYCRATE_PYTHON="$python" FIVEG_REQUIRE_PYCRATE=1 \
    cargo test --release -p fiveg-emu --test pycrate_decode
