#!/usr/bin/env bash
# The n3iwf crate checked by decoders that are not ours: pycrate (PyPI) decodes every NGAP PDU
# the facade builds and must find the values n3iwf/tests/pycrate/ngap_vectors.py describes, and
# encode them back to the same octets. Unlike section 10, this section fails rather than skips
# when pycrate cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

python=$(scripts/n3iwf-pycrate-venv.sh)
echo "pycrate: $("$python" -c 'import importlib.metadata as m; print(m.version("pycrate"))')"
N3IWF_PYCRATE_PYTHON="$python" N3IWF_REQUIRE_PYCRATE=1 \
    cargo test --release -p n3iwf --test ngap -- --nocapture pycrate
