#!/usr/bin/env bash
# Interop lab against strongSwan 6 (see interop/README.md): builds the strongSwan root
# filesystem once per machine (interop/setup.sh, idempotent), builds iked and ikectl, then runs
# the interop crate's tests one at a time: strongSwan <-> strongSwan (peer_baseline) and the
# matrix of our daemon against strongSwan (tests/rfc*.rs, ikev2_mlkem.rs), each case with iked
# as initiator and as responder. Needs root for network namespaces and chroot; without it,
# skips loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib.sh

if ! is_root; then
    skip_loudly "interop tests need root (network namespaces, chroot, debootstrap); run as root"
    exit 0
fi

start=$(date +%s)
bash interop/setup.sh
echo "interop/setup.sh: $(( $(date +%s) - start )) s"

# The daemon under test, run by the tests exactly as built here.
cargo build --release -p iked -p ikectl --bin iked --bin ikectl
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
export PQIKE_IKED="$BIN/iked" PQIKE_IKECTL="$BIN/ikectl"

# Missing lab pieces (root, root filesystem, iked) are failures here, not skips.
export PQIKE_INTEROP_REQUIRED=1
start=$(date +%s)
cargo test --release -p interop -- --test-threads=1 --nocapture
echo "interop tests: $(( $(date +%s) - start )) s"
