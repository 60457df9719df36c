#!/usr/bin/env bash
# Interop lab against strongSwan (see interop/README.md): builds the strongSwan peers once per
# machine as podman images (interop/setup.sh, idempotent: 6.0.1 from Debian trixie, 6.1 from
# sid), builds iked, ikectl and the KME simulator, then runs every test of the interop crate
# one at a time against each peer in turn: strongSwan <-> strongSwan (peer_baseline) and the
# matrix of our daemon against strongSwan (tests/rfc*.rs, ikev2_mlkem.rs), each case with iked
# as initiator and as responder. Ends with a table of results per peer. Needs root (network
# namespaces, podman); re-runs itself with sudo, or skips loudly without either.
#
#   PQIKE_SS_PEERS="trixie sid"   the peers to run against (default both)
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

as_root "$0" "$@" || {
    skip_loudly "interop tests need root (network namespaces, podman) and there is no sudo here; run as root"
    exit 0
}
read -r -a PEERS <<<"${PQIKE_SS_PEERS:-trixie sid}"

start=$(date +%s)
bash interop/setup.sh "${PEERS[@]}"
echo "interop/setup.sh: $(($(date +%s) - start)) s"
# rfc7296_spoofed_response holds strongSwan's IKE answers with nftables in its namespace.
apt_install nftables

# The daemon under test, run by the tests exactly as built here; the lab's own helper binaries.
cargo build --release -p iked -p ikectl -p qkd-kme-sim --bin iked --bin ikectl --bin qkd-kme-sim
cargo test --release -p interop --no-run
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
export PQIKE_IKED="$BIN/iked" PQIKE_IKECTL="$BIN/ikectl" PQIKE_KME_SIM="$BIN/qkd-kme-sim"
# Missing lab pieces (root, peer image, iked) are failures here, not skips.
export PQIKE_INTEROP_REQUIRED=1

LOGS=$(mktemp -d /tmp/pqio-section.XXXXXX)
trap 'rm -rf "$LOGS"' EXIT
status=0
for peer in "${PEERS[@]}"; do
    echo "=== interop tests against the $peer peer ($(sed -n 's/^image=//p' "${PQIKE_CACHE:-/var/cache/pqike}/strongswan-$peer/stamp"))"
    start=$(date +%s)
    PQIKE_SS_PEER=$peer cargo test --release --no-fail-fast -p interop -- --test-threads=1 --nocapture 2>&1 |
        tee "$LOGS/$peer.log" || status=1
    echo "interop tests against $peer: $(($(date +%s) - start)) s"
done

# One line per peer and test file: its results, and the cases not run there with the reason.
echo "=== interop results by strongSwan version"
for peer in "${PEERS[@]}"; do
    version=$(sed -n 's/^strongswan_version=//p' "${PQIKE_CACHE:-/var/cache/pqike}/strongswan-$peer/stamp")
    awk -v v="strongSwan $version ($peer)" '
        /Running (unittests|tests\/)/ { file = $2; sub(/^tests\//, "", file); sub(/\.rs$/, "", file) }
        /Doc-tests/ { file = "" }
        /!!! SKIPPED: not run against/ { skipped[file]++ }
        /^test result:/ && file != "" {
            gsub(/;/, "", $0)
            printf "%-34s %-26s %s passed, %s failed, %d not run on this peer\n", v, file, $4, $6, skipped[file]
        }' "$LOGS/$peer.log" | grep -v "src/lib\|unittests" || true
    grep -A1 "!!! SKIPPED: not run against" "$LOGS/$peer.log" | grep -v "^--$" | sed 's/^/    /' || true
done
exit "$status"
