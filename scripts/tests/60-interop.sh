#!/usr/bin/env bash
# Interop lab against strongSwan 6 (see interop/README.md): builds the strongSwan root
# filesystem once per machine (interop/setup.sh, idempotent), then runs the interop crate's
# tests one at a time. Needs root for network namespaces and chroot; without it, skips loudly.
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

# Missing lab pieces are failures here, not skips.
export PQIKE_INTEROP_REQUIRED=1
cargo test --release -p interop -- --test-threads=1 --nocapture
