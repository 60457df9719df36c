# Shared by scripts/tests/50-datapath-netns.sh and scripts/bench-datapath.sh: two network
# namespaces joined by a veth pair (made by pqlab, scripts/lib/lab.sh), and esp-tunnel
# configurations for them. Source it after common.sh and lab.sh, with P set to a unique prefix
# (e.g. pqdp-$$-) and WORK to a scratch directory. Needs root.
#
# Outer addresses: A 10.201.0.1, B 10.201.0.2 (veth ${P}va / ${P}vb).
# Inner addresses: A 10.99.0.1, B 10.99.0.2 (TUN device ${P}t in each namespace).

OUTER_A=10.201.0.1
OUTER_B=10.201.0.2
INNER_A=10.99.0.1
INNER_B=10.99.0.2
DP_PIDS=()

# The short interface-name stem: interface names are limited to 15 bytes.
ifstem() { printf 'pq%s' "$(printf '%s' "$P" | tr -cd '0-9' | tail -c 8)"; }

netns_up() {
    local s; s=$(ifstem)
    pqlab netns add "${P}a" "${P}b"
    pqlab netns link "${P}a" "${s}va" "$OUTER_A/24" "${P}b" "${s}vb" "$OUTER_B/24"
}

netns_down() {
    local pid
    for pid in "${DP_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${DP_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    DP_PIDS=()
    pqlab netns del "${P}a" "${P}b"
}

# Random key material of $1 bytes, as hex.
random_hex() { od -An -tx1 -N"$1" /dev/urandom | tr -d ' \n'; }

# keymat_len ALGORITHM
keymat_len() {
    case "$1" in
        aes128gcm16) echo 20 ;;
        aes256gcm16 | chacha20poly1305) echo 36 ;;
        *) echo "unknown algorithm $1" >&2; return 1 ;;
    esac
}

# write_config FILE SIDE(a|b) ENCAP(udp|raw) ALGORITHM KEY_AB KEY_BA [OFFLOADS(true|false)]
# SPI 0x0000a001 carries A→B, 0x0000b001 carries B→A.
write_config() {
    local file=$1 side=$2 encap=$3 alg=$4 key_ab=$5 key_ba=$6 offloads=${7:-true}
    local local_outer remote_outer inner peer_inner out_spi in_spi out_key in_key
    if [ "$side" = a ]; then
        local_outer=$OUTER_A remote_outer=$OUTER_B inner=$INNER_A peer_inner=$INNER_B
        out_spi=0x0000a001 in_spi=0x0000b001 out_key=$key_ab in_key=$key_ba
    else
        local_outer=$OUTER_B remote_outer=$OUTER_A inner=$INNER_B peer_inner=$INNER_A
        out_spi=0x0000b001 in_spi=0x0000a001 out_key=$key_ba in_key=$key_ab
    fi
    cat >"$file" <<CONF
[tunnel]
local = "$local_outer"
remote = "$remote_outer"
encapsulation = "$encap"

[tun]
name = "$(ifstem)t"
addresses = ["$inner/24"]
offloads = $offloads

[[child]]
local_ts = "$inner/32"
remote_ts = "$peer_inner/32"
algorithm = "$alg"
[child.outbound]
spi = "$out_spi"
key = "$out_key"
[child.inbound]
spi = "$in_spi"
key = "$in_key"
CONF
    chmod 600 "$file"
}

# start_tunnel SIDE CONFIG LOG [extra esp-tunnel args...]: starts esp-tunnel in the namespace
# and waits (at most 10 s) until it is up.
start_tunnel() {
    local side=$1 conf=$2 log=$3
    shift 3
    local ready="$WORK/ready-$side"
    rm -f "$ready"
    ip netns exec "${P}$side" "$ESP_TUNNEL" "$conf" --ready-file "$ready" "$@" >"$log" 2>&1 &
    DP_PIDS+=("$!")
    local i
    for i in $(seq 1 100); do
        [ -e "$ready" ] && return 0
        kill -0 "${DP_PIDS[-1]}" 2>/dev/null || break
        sleep 0.1
    done
    echo "esp-tunnel ($side) did not come up:" >&2
    cat "$log" >&2
    return 1
}

# stop_tunnels: SIGTERM every esp-tunnel started here and wait for it.
stop_tunnels() {
    local pid
    for pid in "${DP_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${DP_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    DP_PIDS=()
}
