#!/usr/bin/env bash
# The userspace ESP datapath end to end: two network namespaces joined by a veth pair, esp-tunnel
# with manually keyed SAs in each, for ESP in UDP and raw ESP, with AES-GCM and
# ChaCha20-Poly1305:
#   - ping through the tunnel;
#   - a TCP transfer of a few MB whose every byte is checked on arrival (pqlab transfer);
#   - a capture of the outer packets, decrypted independently of our code: by tshark (AES-GCM;
#     Debian's tshark 4.0 has no ESP ChaCha20) and by a small Python check using the
#     `cryptography` package (every algorithm).
# Needs root; without it, skips loudly. About a minute on 2 cores once built.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
source scripts/lib/lab.sh

need_root_tun_netns 50-datapath-netns "network namespaces, TUN, raw sockets" "$@" || exit 0

echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt_install iproute2 iputils-ping tshark python3-cryptography

cargo build --release -q -p dataplane --bin esp-tunnel
ESP_TUNNEL=$PWD/${CARGO_TARGET_DIR:-target}/release/esp-tunnel
pqlab_build

P="pqdp-$$-"
WORK=$(mktemp -d /tmp/pqdp-test.XXXXXX)
source scripts/lib/esp-tunnel.sh
TSHARK_PID=
cleanup() {
    [ -n "$TSHARK_PID" ] && kill "$TSHARK_PID" 2>/dev/null
    netns_down
    rm -rf "$WORK"
}
trap cleanup EXIT

TRANSFER_MB=8
passed=0
failed=0


ping_through() {
    ip netns exec "${P}a" ping -q -c 3 -i 0.2 -W 2 "$INNER_B" >"$WORK/ping.log" 2>&1 ||
        { cat "$WORK/ping.log"; return 1; }
}

tcp_transfer() {
    pqlab transfer --from "${P}a" --to "${P}b" --dst "$INNER_B" --mib "$TRANSFER_MB" >/dev/null
}

# capture_ping: captures the outer packets of one ping exchange on B's veth into $WORK/cap.pcap.
capture_ping() {
    rm -f "$WORK/cap.pcap" "$WORK/tshark.log"
    ip netns exec "${P}b" timeout 30 tshark -q -F pcap -i "$(ifstem)vb" -a duration:20 \
        -f "udp port 4500 or ip proto 50" -w "$WORK/cap.pcap" >"$WORK/tshark.log" 2>&1 &
    TSHARK_PID=$!
    local i
    for i in $(seq 1 100); do
        grep -q "Capturing on" "$WORK/tshark.log" 2>/dev/null && break
        sleep 0.1
    done
    sleep 0.5
    ip netns exec "${P}a" ping -q -c 3 -i 0.2 -W 2 "$INNER_B" >/dev/null 2>&1 || true
    sleep 0.5
    kill -INT "$TSHARK_PID" 2>/dev/null || true
    wait "$TSHARK_PID" || true
    TSHARK_PID=
    [ -s "$WORK/cap.pcap" ]
}

tshark_decrypts() {
    local key_ab=$1 key_ba=$2
    local sa_ab="\"IPv4\",\"$OUTER_A\",\"$OUTER_B\",\"0x0000a001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x$key_ab\",\"NULL\",\"\""
    local sa_ba="\"IPv4\",\"$OUTER_B\",\"$OUTER_A\",\"0x0000b001\",\"AES-GCM with 16 octet ICV [RFC4106]\",\"0x$key_ba\",\"NULL\",\"\""
    local types
    types=$(tshark -r "$WORK/cap.pcap" -o esp.enable_encryption_decode:TRUE \
        -o "uat:esp_sa:$sa_ab" -o "uat:esp_sa:$sa_ba" -Y "esp && icmp" \
        -T fields -e esp.spi -e icmp.type 2>/dev/null | tr '\t' ' ' | sort | uniq -c | tr -s ' ')
    echo "   tshark: ${types//$'\n'/; }"
    # Three echo requests (type 8) A→B and three replies (type 0) B→A, each decrypted.
    grep -qE "^ ?[3-9] 0x0000a001 8" <<<"$types" && grep -qE "^ ?[3-9] 0x0000b001 0" <<<"$types"
}

tshark_decodes_esp_header() {
    local spis
    spis=$(tshark -r "$WORK/cap.pcap" -Y esp -T fields -e esp.spi 2>/dev/null | sort -u | tr '\n' ' ')
    echo "   tshark ESP SPIs: $spis"
    [ "$spis" = "0x0000a001 0x0000b001 " ]
}

python_decrypts() {
    local alg=$1 key_ab=$2 key_ba=$3
    python3 benches/datapath/esp_check.py "$WORK/cap.pcap" \
        "0x0000a001:$alg:$key_ab" "0x0000b001:$alg:$key_ba" >"$WORK/pycheck.log" 2>&1 ||
        { cat "$WORK/pycheck.log"; return 1; }
    echo "   python: $(tail -1 "$WORK/pycheck.log")"
}

no_drops() {
    local log=$1
    # Final counters are printed on exit; no SA may report authentication or replay drops.
    ! grep -E "drops \[[^]]*(authentication|replayed|bad_padding)" "$log"
}

run_case() {
    local encap=$1 alg=$2
    local n
    n=$(keymat_len "$alg")
    local key_ab key_ba
    key_ab=$(random_hex "$n")
    key_ba=$(random_hex "$n")
    write_config "$WORK/a.toml" a "$encap" "$alg" "$key_ab" "$key_ba"
    write_config "$WORK/b.toml" b "$encap" "$alg" "$key_ab" "$key_ba"
    echo "# $encap ESP, $alg"
    start_tunnel a "$WORK/a.toml" "$WORK/a.log"
    start_tunnel b "$WORK/b.toml" "$WORK/b.log"
    check "$encap/$alg: ping through the tunnel" ping_through
    check "$encap/$alg: ${TRANSFER_MB} MiB TCP transfer, every byte checked" tcp_transfer
    if capture_ping; then
        check "$encap/$alg: tshark decodes the ESP headers" tshark_decodes_esp_header
        if [ "$alg" != chacha20poly1305 ]; then
            check "$encap/$alg: tshark decrypts with the keys" tshark_decrypts "$key_ab" "$key_ba"
        fi
        check "$encap/$alg: independent decryption (python cryptography)" \
            python_decrypts "$alg" "$key_ab" "$key_ba"
    else
        check "$encap/$alg: capture" false
    fi
    stop_tunnels
    check "$encap/$alg: no authentication/replay drops" no_drops "$WORK/b.log"
    grep -hE "SA [0-9a-f]{8} " "$WORK/a.log" "$WORK/b.log" | sed 's/^/   /' | head -4 || true
}

netns_up
run_case udp aes256gcm16
run_case udp chacha20poly1305
run_case raw aes256gcm16
run_case raw chacha20poly1305

# A wrong inbound key must lose packets as authentication failures, never deliver them.
echo "# udp ESP, aes128gcm16, mismatched keys"
key=$(random_hex 20)
write_config "$WORK/a.toml" a udp aes128gcm16 "$key" "$key"
write_config "$WORK/b.toml" b udp aes128gcm16 "$(random_hex 20)" "$key"
start_tunnel a "$WORK/a.toml" "$WORK/a.log"
start_tunnel b "$WORK/b.toml" "$WORK/b.log"
check "wrong key: ping fails" bash -c "! ip netns exec ${P}a ping -q -c 2 -i 0.2 -W 1 $INNER_B >/dev/null 2>&1"
stop_tunnels
check "wrong key: counted as authentication drops" grep -qE "drops \[[^]]*authentication=[1-9]" "$WORK/b.log"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
