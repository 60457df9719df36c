#!/usr/bin/env bash
# Datapath benchmark (not a test): one TCP stream (iperf3) between two network namespaces
# through our ESP tunnel, through boringtun-cli 0.7.1 (--threads 1) and over the plain veth with
# offloads off (and on, for context), measured side by side in each round; then UDP packets/s at
# 64-byte and 1372-byte payloads (1400-byte IP packets); then a CPU profile of our tunnel under
# load. Writes benches/datapath/RESULTS.md.
#
# usage: scripts/bench-datapath.sh [ROUNDS [SECONDS]]      (defaults: 3 rounds of 10 s)
# Needs root. boringtun-cli is built once into ~/.cache/pqdp-bench (a few minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/lab.sh

ROUNDS=${1:-3}
SECS=${2:-10}
UDP_SECS=5
RESULTS=benches/datapath/RESULTS.md

if ! is_root; then
    skip_loudly "bench-datapath needs root (network namespaces, TUN)"
    exit 0
fi
apt_install iproute2 iperf3 wireguard-tools ethtool
cargo build --release -q -p dataplane --bin esp-tunnel
ESP_TUNNEL=$PWD/target/release/esp-tunnel

P="pqdp-b$$-"
WORK=$(mktemp -d /tmp/pqdp-bench.XXXXXX)
source scripts/lib/esp-tunnel.sh
source scripts/lib/bench-datapath.sh
install_boringtun
cleanup() {
    boringtun_down
    netns_down
    rm -rf "$WORK"
}
trap cleanup EXIT
netns_up

KEY_AB=$(random_hex 36)
KEY_BA=$(random_hex 36)
: >"$WORK/tcp.tsv"
: >"$WORK/udp.tsv"

# ours_up ENCAP ALGORITHM WORKERS
ours_up() {
    write_config "$WORK/a.toml" a "$1" "$2" "$KEY_AB" "$KEY_BA"
    write_config "$WORK/b.toml" b "$1" "$2" "$KEY_AB" "$KEY_BA"
    start_tunnel a "$WORK/a.toml" "$WORK/ours-a.log" --workers "$3"
    start_tunnel b "$WORK/b.toml" "$WORK/ours-b.log" --workers "$3"
}

# measure ROUND NAME DST PIDS...: one TCP run, with the CPU time the given processes used.
measure() {
    local round=$1 name=$2 dst=$3
    shift 3
    local before=0 after=0 pid
    for pid in "$@"; do before=$(awk -v a="$before" -v b="$(cpu_seconds "$pid")" 'BEGIN { print a + b }'); done
    iperf_tcp "$dst" "$SECS" "$WORK/run.json"
    for pid in "$@"; do after=$(awk -v a="$after" -v b="$(cpu_seconds "$pid")" 'BEGIN { print a + b }'); done
    local g
    g=$(gbps "$WORK/run.json")
    printf '%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$g" \
        "$(awk -v a="$after" -v b="$before" 'BEGIN { print a - b }')" \
        "$(tcp_bytes "$WORK/run.json")" >>"$WORK/tcp.tsv"
    echo "round $round: $name: $g Gbit/s"
}

for round in $(seq 1 "$ROUNDS"); do
    veth_offloads off
    measure "$round" "veth, offloads off" "$OUTER_B"
    veth_offloads on
    measure "$round" "veth, offloads on" "$OUTER_B"

    boringtun_up
    measure "$round" "boringtun --threads 1" 10.98.0.2 "${BT_PIDS[@]}"
    boringtun_down

    for cfg in "udp aes256gcm16 0" "udp aes256gcm16 1" "udp chacha20poly1305 0" "raw aes256gcm16 0"; do
        set -- $cfg
        ours_up "$1" "$2" "$3"
        workers=$([ "$3" = 0 ] && echo "$(nproc) workers" || echo "1 worker")
        encap=$([ "$1" = udp ] && echo ESP-in-UDP || echo "raw ESP")
        measure "$round" "ours, $encap, $2, $workers" "$INNER_B" "${DP_PIDS[@]}"
        [ "$round" = 1 ] && [ "$cfg" = "udp aes256gcm16 0" ] && cp "$WORK/run.json" "$WORK/ours.json"
        stop_tunnels
        [ "$cfg" = "udp aes256gcm16 0" ] && cp "$WORK/ours-a.log" "$WORK/stats-a.log" &&
            cp "$WORK/ours-b.log" "$WORK/stats-b.log"
    done
done

# UDP packets/s: our tunnel and boringtun, 64-byte and 1372-byte payloads.
for len in 64 1372; do
    ours_up udp aes256gcm16 0
    iperf_udp "$INNER_B" "$UDP_SECS" "$len" "$WORK/udp.json"
    stop_tunnels
    printf 'ours, ESP-in-UDP, aes256gcm16\t%s\t%s\n' "$len" "$(udp_pps "$WORK/udp.json" | tr ' ' '\t')" >>"$WORK/udp.tsv"
    boringtun_up
    iperf_udp 10.98.0.2 "$UDP_SECS" "$len" "$WORK/udp.json"
    boringtun_down
    printf 'boringtun --threads 1\t%s\t%s\n' "$len" "$(udp_pps "$WORK/udp.json" | tr ' ' '\t')" >>"$WORK/udp.tsv"
    echo "UDP $len B: $(tail -2 "$WORK/udp.tsv" | tr '\n' ' ')"
done

# CPU profile of our tunnel under one TCP stream (perf sampling on the cpu-clock: this VM has no
# hardware counters).
PROFILE="(perf unavailable: no profile)"
if perf record -e cpu-clock -o "$WORK/probe.data" true >/dev/null 2>&1; then
    ours_up udp aes256gcm16 0
    iperf_tcp "$INNER_B" $((SECS + 4)) "$WORK/prof.json" &
    iperf_pid=$!
    sleep 2
    perf record -q -e cpu-clock -F 1999 -a -o "$WORK/perf.data" -- sleep "$SECS" >/dev/null 2>&1 || true
    wait "$iperf_pid" || true
    stop_tunnels
    trim() { sed -E 's/[[:space:]]+-[[:space:]]+-[[:space:]]*$//; s/[[:space:]]+$//'; }
    PROFILE="by thread:
$(perf report -i "$WORK/perf.data" --stdio --no-children -g none --sort comm \
        --percent-limit 1 2>/dev/null | grep -E '^ +[0-9]' | trim)

by symbol:
$(perf report -i "$WORK/perf.data" --stdio --no-children -g none --sort comm,dso,symbol \
        --percent-limit 0.8 2>/dev/null | grep -E '^ +[0-9]' | trim | head -40)"
fi

# The user-space share per packet, without I/O (best of several runs).
cargo build --release -q -p dataplane --example pipeline --example user_plane
PIPELINE=$(target/release/examples/pipeline)
USER_PLANE=$(target/release/examples/user_plane)
if false; then
    :
fi

TABLE=$(python3 benches/datapath/report.py "$WORK/tcp.tsv" "$WORK/udp.tsv")
STATS_A=$(grep -o 'DataplaneStats {.*}' "$WORK/stats-a.log" | tail -1)
STATS_B=$(grep -o 'DataplaneStats {.*}' "$WORK/stats-b.log" | tail -1)
{
    echo "# Datapath benchmark results"
    echo
    echo "Written by \`scripts/bench-datapath.sh $ROUNDS $SECS\` on $(date -u +%Y-%m-%d)," \
        "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown) plus working tree."
    echo
    echo "## Machine"
    echo
    echo "- CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) vCPUs"
    echo "- kernel $(uname -r); iperf3 $(iperf3 --version | head -1 | cut -d' ' -f2);" \
        "boringtun-cli $BORINGTUN_VERSION from crates.io"
    echo "- Everything (both tunnel ends, iperf3 client and server, the kernel's TCP) shares these" \
        "cores; other builds may have been running too. Compare ratios, not absolutes."
    echo
    echo "## One TCP stream, $ROUNDS rounds of $SECS s, side by side"
    echo
    echo "Ours: esp-tunnel, manually keyed SAs, inner MTU 1420, TUN with TSO/checksum offload," \
        "UDP GSO/GRO on the outer socket. 'workers' is per tunnel end (two ends on two cores)."
    echo "CPU per packet: CPU time of both tunnel processes divided by the inner packets" \
        "(received bytes / $((1368)) B)."
    echo
    echo "$TABLE"
    echo
    echo "## Batching seen by our tunnel (first round, ESP-in-UDP, aes256gcm16, $(nproc) workers)"
    echo
    echo "- sender end: \`$STATS_A\`"
    echo "- receiver end: \`$STATS_B\`"
    echo
    cat <<'NOTES'
## Reading these numbers

- Targets (issue): at least 4x boringtun and 0.5x the plain veth without offloads, aiming for 6x
  boringtun. The ratios above are taken within each round, medians over the rounds.
- UDP rows: iperf3 offers unlimited load (`-b 0`) from the same 2 cores, so most datagrams are
  dropped before the tunnel (TUN queue, socket buffers); "received packets/s" is what the path
  carried. Inner UDP is not coalesced (one TUN read and one TUN write per datagram).
- Raw ESP (IP protocol 50) has no GSO/GRO: one datagram per ESP packet each way, batched only by
  sendmmsg/recvmmsg, hence its lower rate.
- Idle time (swapper) under one stream shows that the two tunnel ends and iperf3 leave the cores
  idle part of the time: the hand-offs between them, not only the CPU per packet, limit the rate.
NOTES
    echo
    echo "## User-space work per packet, no I/O (\`cargo run --release -p dataplane --example pipeline\`)"
    echo
    echo '```'
    echo "$PIPELINE"
    echo '```'
    echo
    echo "## N3IWF user plane per packet, no I/O (\`cargo run --release -p dataplane --example user_plane\`)"
    echo
    echo '```'
    echo "$USER_PLANE"
    echo '```'
    echo
    echo "## CPU profile under one TCP stream (perf, cpu-clock sampling, whole machine)"
    echo
    echo '```'
    echo "$PROFILE"
    echo '```'
} >"$RESULTS"
cat "$RESULTS"
