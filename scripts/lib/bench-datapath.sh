# Measurement helpers for scripts/bench-datapath.sh (sourced after esp-tunnel.sh). Needs root.

# The boringtun-cli binary, built once into a cache directory.
BORINGTUN_VERSION=0.7.1
BENCH_CACHE=${PQDP_BENCH_CACHE:-$HOME/.cache/pqdp-bench}
BORINGTUN=$BENCH_CACHE/boringtun-$BORINGTUN_VERSION/bin/boringtun-cli
BT_PIDS=()

install_boringtun() {
    [ -x "$BORINGTUN" ] && return 0
    echo "building boringtun-cli $BORINGTUN_VERSION (once, cached in $BENCH_CACHE)"
    mkdir -p "$BENCH_CACHE"
    cargo install boringtun-cli --version "$BORINGTUN_VERSION" --locked \
        --root "$BENCH_CACHE/boringtun-$BORINGTUN_VERSION" >"$BENCH_CACHE/boringtun-install.log" 2>&1
}

# CPU seconds (user + system) used so far by process $1, all threads.
cpu_seconds() {
    local pid=$1
    [ -r "/proc/$pid/stat" ] || { echo 0; return; }
    awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$pid/stat"
}

# Busy and total jiffies of the whole machine.
machine_jiffies() { awk '/^cpu / { print $2+$3+$4+$7+$8+$9, $2+$3+$4+$5+$6+$7+$8+$9 }' /proc/stat; }

# iperf_tcp DST SECONDS OUT_JSON: one TCP stream from namespace a to DST in namespace b.
iperf_tcp() {
    local dst=$1 secs=$2 out=$3
    ip netns exec "${P}b" iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
    local server=$!
    local i
    for i in $(seq 1 50); do
        ip netns exec "${P}b" ss -ltn 2>/dev/null | grep -q ':5201 ' && break
        sleep 0.1
    done
    ip netns exec "${P}a" timeout $((secs + 20)) iperf3 -c "$dst" -t "$secs" -J >"$out" 2>/dev/null || true
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

# iperf_udp DST SECONDS PAYLOAD OUT_JSON: unlimited-rate UDP from a to DST.
iperf_udp() {
    local dst=$1 secs=$2 len=$3 out=$4
    ip netns exec "${P}b" iperf3 -s -1 -B "$dst" >/dev/null 2>&1 &
    local server=$!
    local i
    for i in $(seq 1 50); do
        ip netns exec "${P}b" ss -ltn 2>/dev/null | grep -q ':5201 ' && break
        sleep 0.1
    done
    ip netns exec "${P}a" timeout $((secs + 20)) iperf3 -c "$dst" -u -b 0 -l "$len" -t "$secs" -J \
        >"$out" 2>/dev/null || true
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

# gbps JSON: received Gbit/s of a TCP run (0 when the run failed).
gbps() {
    python3 - "$1" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    print(f"{d['end']['sum_received']['bits_per_second'] / 1e9:.2f}")
except Exception:
    print("0")
PY
}

# tcp_bytes JSON: bytes received in a TCP run.
tcp_bytes() {
    python3 - "$1" <<'PY'
import json, sys
try:
    print(int(json.load(open(sys.argv[1]))['end']['sum_received']['bytes']))
except Exception:
    print(0)
PY
}

# udp_pps JSON: "received-packets/s loss%" of a UDP run.
udp_pps() {
    python3 - "$1" <<'PY'
import json, sys
try:
    s = json.load(open(sys.argv[1]))['end']['sum']
    got = s['packets'] - s['lost_packets']
    print(f"{got / s['seconds']:.0f} {100.0 * s['lost_packets'] / max(s['packets'], 1):.1f}")
except Exception:
    print("0 100")
PY
}

# boringtun_up: a WireGuard tunnel between the namespaces with boringtun-cli --threads 1,
# inner addresses 10.98.0.1 / 10.98.0.2 on devices $(ifstem)wa / $(ifstem)wb.
boringtun_up() {
    local s ka kb pa pb
    s=$(ifstem)
    ka=$(wg genkey)
    kb=$(wg genkey)
    pa=$(wg pubkey <<<"$ka")
    pb=$(wg pubkey <<<"$kb")
    local side key peer_pub peer_outer inner
    for side in a b; do
        if [ $side = a ]; then
            key=$ka peer_pub=$pb peer_outer=$OUTER_B inner=10.98.0.1 peer_inner=10.98.0.2
        else
            key=$kb peer_pub=$pa peer_outer=$OUTER_A inner=10.98.0.2 peer_inner=10.98.0.1
        fi
        WG_LOG_FILE="$WORK/boringtun-$side.log" ip netns exec "${P}$side" "$BORINGTUN" \
            --foreground --threads 1 --disable-drop-privileges "${s}w$side" \
            >"$WORK/boringtun-$side.out" 2>&1 &
        BT_PIDS+=("$!")
        local i
        for i in $(seq 1 100); do
            [ -S "/var/run/wireguard/${s}w$side.sock" ] && break
            sleep 0.1
        done
        ip netns exec "${P}$side" wg set "${s}w$side" private-key <(echo "$key") listen-port 51820 \
            peer "$peer_pub" allowed-ips "$peer_inner/32" endpoint "$peer_outer:51820"
        ip -n "${P}$side" addr add "$inner/24" dev "${s}w$side"
        ip -n "${P}$side" link set "${s}w$side" mtu 1420 up
    done
}

boringtun_down() {
    local pid
    for pid in "${BT_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${BT_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    BT_PIDS=()
    rm -f "/var/run/wireguard/$(ifstem)wa.sock" "/var/run/wireguard/$(ifstem)wb.sock"
}

# veth_offloads on|off: TSO, GSO and GRO of both veth ends.
veth_offloads() {
    local s
    s=$(ifstem)
    ip netns exec "${P}a" ethtool -K "${s}va" tso "$1" gso "$1" gro "$1" >/dev/null 2>&1 || true
    ip netns exec "${P}b" ethtool -K "${s}vb" tso "$1" gso "$1" gro "$1" >/dev/null 2>&1 || true
}
