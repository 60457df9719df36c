#!/usr/bin/env bash
# The n3iwf crate checked by a decoder that is not ours: pycrate (PyPI) decodes every NGAP PDU
# the facade builds and must find the values n3iwf/tests/pycrate/ngap_vectors.py describes, and
# encode them back to the same octets. It shares the pycrate environment of section 15
# (scripts/nas-oracle-venv.sh: the same pycrate release carries both NAS and NGAP). The userplane
# crate's GTP-U and GRE codecs are checked the same way by tshark, which decodes a pcap of every
# message they write. Unlike section 10, this section fails rather than skips when pycrate or
# tshark cannot be installed.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

python=$(bash scripts/nas-oracle-venv.sh | tail -n 1)
# cargo runs the test from the crate's directory: hand it an absolute path (not resolving the
# venv's symlink to the system interpreter).
python=$(realpath --no-symlinks "$python")
"$python" -c 'from pycrate_asn1dir import NGAP' || { echo "pycrate has no NGAP module" >&2; exit 1; }
echo "pycrate $("$python" -c 'import importlib.metadata as m; print(m.version("pycrate"))')"
N3IWF_PYCRATE_PYTHON="$python" N3IWF_REQUIRE_PYCRATE=1 \
    cargo test --release -p n3iwf --test ngap -- --nocapture pycrate

if ! apt_install tshark; then
    echo "45-n3iwf-decoders: tshark could not be installed from the Debian mirror (see above)" >&2
    exit 1
fi
echo "$(tshark -v 2>/dev/null | head -n 1)"
USERPLANE_REQUIRE_TSHARK=1 cargo test --release -p userplane --test tshark -- --nocapture
