#!/usr/bin/env bash
# Flood benchmark (not a test): iked under IKE floods while an established tunnel carries
# iperf3 and legitimate peers keep connecting.
#
#   namespace a: iked "a", tunnel initiator, iperf3 client (10.1.1.1)
#   namespace b: iked "b", the gateway under attack, iperf3 server (10.2.1.1); its datapath
#                encapsulates ESP in UDP, so the tunnel's IKE and ESP share port 4500
#   namespace f: the flooder (raw sockets, spoofed sources) and the legitimate peers (ike_load),
#                behind a second veth into b; b routes everything else back into f, where the
#                answers to spoofed sources die
#
# Phases, each bounded in datagrams and time: IKE_SA_INIT from spoofed IPv4 sources to :500,
# the same from spoofed IPv6 sources (many /64s), a fragment flood (real initiators that send
# every fragment of a large IKE_AUTH but the last, so b holds partial messages: the half-open
# byte budget), and IKE_SA_INIT from spoofed sources to :4500 while the tunnel's soft lifetimes
# (10 s, and a byte count) come due, so it must rekey during the flood. Per phase: the flood rate, b's RSS
# against its half-open budget, the tunnel's throughput against the unflooded run, the
# legitimate handshakes that completed, b's counters, and the rekeys.
#
# usage: scripts/bench-flood.sh [--smoke] [--out FILE]
#   --smoke   seconds per phase, low rates, correctness checks only (scripts/tests/80-bench-smoke.sh)
#   --out     the JSON result (default benches/results/flood.json; --smoke: none)
# Environment: FLOOD_SECS (15), FLOOD_RATE datagrams/s (20000; 0 = as fast as possible),
# FRAG_RATE initiators/s (200), BUDGET (16M, b's half_open_memory). Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

SMOKE=0
OUT=benches/results/flood.json
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) SMOKE=1 OUT= ;;
        --out) OUT=$2; shift ;;
        -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
as_root "$0" "$@" || {
    skip_loudly "bench-flood needs root (network namespaces, TUN, raw sockets) and there is no sudo here"
    exit 0
}
if [ "$SMOKE" = 1 ]; then
    SECS=${FLOOD_SECS:-3} RATE=${FLOOD_RATE:-2000} FRAG_RATE=${FRAG_RATE:-50} COUNT=20000
else
    SECS=${FLOOD_SECS:-15} RATE=${FLOOD_RATE:-20000} FRAG_RATE=${FRAG_RATE:-200} COUNT=2000000
fi
BUDGET=${BUDGET:-16M}

apt_install iproute2 iperf3 jq socat procps iputils-ping
cargo build --release -q -p iked -p ikectl -p benches --bin iked --bin ikectl --bin ike_load --bin ike_flood
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
pqlab_build

P="pqf-$$-"
WORK=$(mktemp -d /tmp/pqf-bench.XXXXXX)
INNER_NETS=1
. scripts/lib/gateways.sh
. scripts/lib/flood.sh
ikectl() { local side=$1; shift; "$BIN/ikectl" --socket "$WORK/$side.sock" "$@"; }
cleanup() {
    flood_stop_background
    pqm_cleanup
    ip netns del "${P}f" 2>/dev/null || true
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "--- setup: namespaces a, b, f; iked a and b; the tunnel"
pqm_netns_up
flood_netns_up
flood_configs
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
ikectl a up net1 --timeout 15 >/dev/null
wait_until 5 in_ns a ping -n -q -c 1 -W 1 -I 10.1.1.1 10.2.1.1 || { echo "tunnel does not pass traffic" >&2; exit 1; }

passed=0
failed=0

echo "--- unflooded: ${SECS}s of iperf3 through the tunnel, legitimate handshakes alone"
flood_phase baseline none
# The fragment flood last: its half-open SAs hold the budget until they time out.
for phase in spoof4 spoof6 spoof4500 frag; do
    echo "--- flood: $phase (${SECS}s)"
    flood_phase "$phase" "$phase"
done

echo "--- after the floods"
check "iked b is still running" kill -0 "${IKED_PID[b]}"
tunnel_passes() { in_ns a ping -n -q -c 3 -i 0.2 -W 1 -I 10.1.1.1 10.2.1.1 >/dev/null 2>&1; }
check "the tunnel still passes traffic" tunnel_passes
check "every phase's flooder sent datagrams" flood_all_sent
check "legitimate handshakes completed in every phase" flood_all_legit
check "the tunnel rekeyed during the flood on 4500" flood_rekeyed spoof4500
check "b's half-open memory stayed within its budget in the fragment flood" flood_within_budget frag
flood_summary

if [ -n "$OUT" ]; then
    flood_json >"$OUT"
    echo "wrote $OUT"
fi
echo "bench-flood: $failed failed"
[ "$failed" -eq 0 ]
