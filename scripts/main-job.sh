#!/usr/bin/env bash
# The main job: two iked gateways in network namespaces bring up a hybrid X25519 + ML-KEM-768
# IKEv2 tunnel whose keys also mix in a QKD key (RFC 8784 PPK) that each gateway fetches from an
# ETSI GS QKD 014 KME simulator over mutual TLS; traffic then flows through the userspace ESP
# datapath (TUN), and the phase timings and throughput are printed.
#
#   scripts/main-job.sh               the namespace run (root; a few minutes on a fresh machine)
#   scripts/main-job.sh --static-ppk  the same with a static PPK instead of QKD
#   scripts/main-job.sh --in-memory   both IKEv2 endpoints and the ESP SAs in one process
#
# Run as root or as a user with sudo (it re-runs itself with sudo); without either it falls back
# to --in-memory, loudly. Exits non-zero if any step fails, and
# removes its namespaces and processes even when interrupted.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

in_memory() {
    cargo run --quiet --release -p benches --bin main_job
}

PPK=qkd
case "${1:-}" in
    --in-memory) in_memory; exit 0 ;;
    --static-ppk) PPK=static ;;
    "") ;;
    *) echo "usage: $0 [--in-memory | --static-ppk]" >&2; exit 2 ;;
esac
as_root "$0" "$@" || {
    skip_loudly "main job in namespaces needs root, and there is no sudo here: running the in-memory version instead"
    no_root_hint "$0"
    in_memory
    exit 0
}
if [ ! -c /dev/net/tun ] || ! ip netns list >/dev/null 2>&1; then
    skip_loudly "main job needs /dev/net/tun and ip netns: running the in-memory version instead"
    in_memory
    exit 0
fi

step() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "Packages and build"
apt_install iproute2 iputils-ping socat jq procps python3
HAVE_IPERF=1
apt_install iperf3 || HAVE_IPERF=0
command -v iperf3 >/dev/null || HAVE_IPERF=0
cargo build --release -p iked -p ikectl -p qkd-kme-sim --bin iked --bin ikectl --bin qkd-kme-sim
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
pqlab_build
IKECTL="$BIN/ikectl"

P="pqm-$$-"
WORK=$(mktemp -d /tmp/pqm-main.XXXXXX)
. scripts/lib/gateways.sh
cleanup() {
    pqm_cleanup
    rm -rf "$WORK"
    give_back_to_sudo_user "${CARGO_TARGET_DIR:-target}" "${CARGO_HOME:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Namespaces ${P}a and ${P}b (veth $OUTER_A <-> $OUTER_B)"
pqm_netns_up
if [ "$PPK" = qkd ]; then
    step "QKD: KME simulator in ${P}k (KME A for gw-a, KME B for gw-b; ETSI GS QKD 014, mTLS)"
    pqm_kme_up "$BIN"
    echo "   $(tr '\n' ' ' <"$WORK/kme.ports")(reached through relays on each gateway's 127.0.0.1)"
else
    step "PPK: a static PPK on both sides (--static-ppk; no KME)"
fi

PROPOSAL=aes256gcm16-prfsha384-x25519-ke1_mlkem768
pqm_daemon_args a
pqm_conn_args a site-b 1 "$PROPOSAL" "$PPK"
pqm_write_conf a
pqm_daemon_args b
pqm_conn_args b site-a 1 "$PROPOSAL" "$PPK"
pqm_write_conf b
step "iked in both namespaces: $PROPOSAL, PPK $PPK, ESP aes256gcm16 in UDP/4500"
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
A=(--socket "$WORK/a.sock")
B=(--socket "$WORK/b.sock")
if [ "$PPK" = qkd ]; then
    # Each daemon probes its KME at start (status, no key taken) and keeps the TLS session.
    wait_until 15 grep -q "KME reachable" "$WORK/a.log" || fail "A cannot reach its KME: $(grep -i kme "$WORK/a.log" | tail -3)"
    wait_until 15 grep -q "KME reachable" "$WORK/b.log" || fail "B cannot reach its KME: $(grep -i kme "$WORK/b.log" | tail -3)"
    echo "   both daemons reached their KME"
fi

step "ikectl up site-b (a UDP probe every 1 ms meanwhile, for the first packet through)"
# An echo server on B's inner address, and a client on A that sends a datagram every
# millisecond and prints the wall-clock time of the first echo: before the Child SA exists
# the datapath drops them (no policy).
bg_ns b python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.2.1.1", 7007))
while True:
    d, a = s.recvfrom(64)
    s.sendto(d, a)
' 2>"$WORK/echo.log"
PQM_PIDS+=("$BG_PID")
wait_until 10 in_ns b sh -c "ss -lun | grep -q '10.2.1.1:7007 '" || fail "echo server: $(cat "$WORK/echo.log")"
bg_ns a python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setblocking(False)
print("ready", file=sys.stderr, flush=True)
end = time.time() + 30
while time.time() < end:
    s.sendto(b"probe", ("10.2.1.1", 7007))
    time.sleep(0.001)
    try:
        s.recv(64)
        print("%.6f" % time.time(), flush=True)
        break
    except BlockingIOError:
        pass
' >"$WORK/first.txt" 2>"$WORK/probe.log"
PROBE_PID=$BG_PID
PQM_PIDS+=("$PROBE_PID")
wait_until 10 grep -q ready "$WORK/probe.log" || fail "probe: $(cat "$WORK/probe.log")"
"$IKECTL" "${A[@]}" --json up site-b --timeout 20 >"$WORK/up.json" || fail "ikectl up: $(tail -5 "$WORK/a.log")"
wait "$PROBE_PID" || true
first=$(cat "$WORK/first.txt")
[[ "$first" =~ ^[0-9]+\.[0-9]+$ ]] || fail "no packet through the tunnel: $first"
# The daemon logs (in UTC, to the microsecond) when it initiates: the start of the clock.
initiated=$(grep -m1 "initiating" "$WORK/a.log" | cut -d' ' -f1)
t_init=$(date -d "$initiated" +%s.%N) || fail "no initiation time in the log"
first_ms=$(awk -v a="$t_init" -v b="$first" 'BEGIN { printf "%.3f", (b - a) * 1000 }')
jq -r '.ike_sa | "   \(.connection): IKE SA \(.id) \(.proposal), policy \(.hybrid)"' "$WORK/up.json"
jq -r '.ike_sa.ppk // empty | "   PPK: \(.source), used: \(.used), id \(.id // "-"): \(.reason)"' "$WORK/up.json"
jq -e '.ike_sa.ppk_used' "$WORK/up.json" >/dev/null || fail "the PPK was not used"
jq -e '.ike_sa.proposal | contains("mlkem768")' "$WORK/up.json" >/dev/null || fail "no ML-KEM-768"

step "Traffic"
in_ns a ping -n -q -c 5 -i 0.2 -W 2 10.2.1.1 >"$WORK/ping.log" || fail "ping A -> B: $(cat "$WORK/ping.log")"
echo "   ping A -> B: $(grep -o '[0-9]* received' "$WORK/ping.log")/5, $(grep -o 'rtt.*' "$WORK/ping.log")"
in_ns b ping -n -q -c 5 -i 0.2 -W 2 10.1.1.1 >"$WORK/ping.log" || fail "ping B -> A: $(cat "$WORK/ping.log")"
echo "   ping B -> A: $(grep -o '[0-9]* received' "$WORK/ping.log")/5"
tcp_mbps=$(tcp_transfer a 10.2.1.1 "" 64) || fail "TCP transfer A -> B"
echo "   TCP A -> B: 64 MiB, every byte checked, $tcp_mbps Mbit/s"
tcp_back=$(tcp_transfer b 10.1.1.1 "" 16) || fail "TCP transfer B -> A"
echo "   TCP B -> A: 16 MiB, every byte checked, $tcp_back Mbit/s"
iperf_mbps="-"
if [ "$HAVE_IPERF" = 1 ]; then
    bg_ns b iperf3 -s -1 -B 10.2.1.1 >"$WORK/iperf-s.log" 2>&1
    PQM_PIDS+=("$BG_PID")
    wait_until 5 in_ns b sh -c "ss -ltn | grep -q ':5201 '" || fail "iperf3 server did not start"
    in_ns a timeout 30 iperf3 -c 10.2.1.1 -t 5 -J >"$WORK/iperf.json" || fail "iperf3: $(tail -5 "$WORK/iperf.json")"
    iperf_mbps=$(jq '.end.sum_received.bits_per_second / 1e6 | floor' "$WORK/iperf.json")
    echo "   iperf3 A -> B, 5 s: $iperf_mbps Mbit/s"
else
    echo "   iperf3 not available: skipped"
fi

step "ikectl list-sas on A"
"$IKECTL" "${A[@]}" list-sas
"$IKECTL" "${A[@]}" --json stats >"$WORK/stats.json"
jq -r '"   datapath: \(.datapath.esp_sent) ESP packets sent, \(.datapath.datagrams_in) received, \(.datapath.ike_packets) IKE messages on 4500; daemon: \(.daemon | to_entries | map("\(.key)=\(.value)") | join(", "))"' "$WORK/stats.json"

step "Phase timings (initiator, wall clock on a veth pair)"
jq -r '.ike_sa.timings[] | "\(.phase)\t\(.micros)"' "$WORK/up.json" | awk -F'\t' '{ printf "   %-30s %9.3f ms\n", $1, $2 / 1000 }'
printf '   %-30s %9.3f ms (first UDP echo back through the tunnel, probing every 1 ms)\n' "initiate -> first packet" "$first_ms"
step "Throughput through the tunnel"
printf '   %-30s %9s Mbit/s\n' "TCP A -> B (64 MiB)" "$tcp_mbps" "TCP B -> A (16 MiB)" "$tcp_back" "iperf3 A -> B (5 s)" "$iperf_mbps"

step "Shutdown"
pqm_iked_stop a || fail "iked A exited with an error"
pqm_iked_stop b || fail "iked B exited with an error"
echo "   both daemons stopped cleanly"
if [ "$PPK" = static ]; then
    echo
    echo "NOTE: this run used a static PPK (--static-ppk), not QKD."
fi
echo
echo "main job: OK"
