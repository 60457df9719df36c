#!/usr/bin/env bash
# N2 on the wire: the AMF side and the N3IWF side of n2-transport (usrsctp) in two network
# namespaces joined by a veth pair, exchanging real NGAP (NG Setup, then an INITIAL UE MESSAGE
# and a DOWNLINK NAS TRANSPORT per UE on the UE's stream), over
#   - SCTP directly over IP (protocol 132, usrsctp's raw sockets), and
#   - SCTP over UDP port 9899 (RFC 6951),
# captured with tshark, which must decode SCTP DATA chunks with PPID 60, every NGAP message
# without a malformed packet, valid CRC32c checksums, and stream 0 for NG Setup only.
# Needs root (namespaces, raw sockets); without it, skips loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
source scripts/lib/n2-capture.sh

as_root "$0" "$@" || {
    skip_loudly "48-n2-transport needs root (network namespaces, raw IP sockets) and there is no sudo here"
    exit 0
}
if ! ip netns list >/dev/null 2>&1; then
    skip_loudly "48-n2-transport needs ip netns"
    exit 0
fi

echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
if ! apt_install iproute2 tshark libusrsctp2; then
    echo "48-n2-transport: could not install iproute2, tshark and libusrsctp2 from the Debian" \
        "mirror (apt-get install failed; see above)" >&2
    exit 1
fi

cargo build --release -q -p n2-transport --example n2-peer
PEER=$PWD/${CARGO_TARGET_DIR:-target}/release/examples/n2-peer

P="n2t-$$-"
IF_A="n2a$$"
IF_B="n2b$$"
AMF_IP=10.238.$(($$ % 250)).1
N3IWF_IP=10.238.$(($$ % 250)).2
UES=8
WORK=$(mktemp -d /tmp/n2-transport.XXXXXX)
N2_PCAP=$WORK/cap.pcap
TSHARK_PID=
passed=0
failed=0

cleanup() {
    [ -n "$TSHARK_PID" ] && kill "$TSHARK_PID" 2>/dev/null
    ip netns del "${P}a" 2>/dev/null
    ip netns del "${P}b" 2>/dev/null
    [ -n "${N2_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT


netns_up() {
    ip netns add "${P}a"
    ip netns add "${P}b"
    ip link add "$IF_A" netns "${P}a" type veth peer name "$IF_B" netns "${P}b"
    ip -n "${P}a" addr add "$AMF_IP/24" dev "$IF_A"
    ip -n "${P}b" addr add "$N3IWF_IP/24" dev "$IF_B"
    for ns in a b; do
        ip -n "${P}$ns" link set lo up
    done
    ip -n "${P}a" link set "$IF_A" up
    ip -n "${P}b" link set "$IF_B" up
}

start_capture() {
    local filter=$1
    rm -f "$WORK/cap.pcap" "$WORK/tshark.log"
    ip netns exec "${P}a" timeout 60 tshark -q -F pcap -i "$IF_A" -f "$filter" \
        -w "$WORK/cap.pcap" >"$WORK/tshark.log" 2>&1 &
    TSHARK_PID=$!
    wait_until 10 grep -q "Capture started" "$WORK/tshark.log"
}

# The capture has the end of the association (SHUTDOWN COMPLETE) on file.
capture_complete() {
    [ "$(count "sctp.chunk_type == 14")" -ge 1 ]
}

stop_capture() {
    # libpcap hands packets over in batches: stopping at once would lose the last ones.
    wait_until 10 capture_complete || echo "   (the capture never showed SHUTDOWN COMPLETE)"
    kill -INT "$TSHARK_PID" 2>/dev/null || true
    wait "$TSHARK_PID" || true
    TSHARK_PID=
}

# run_peers LOWER: the AMF in namespace a, the N3IWF in b; both must succeed.
run_peers() {
    local lower=$1 amf_pid rc=0
    ip netns exec "${P}a" "$PEER" amf --address "$AMF_IP:38412" --lower "$lower" \
        >"$WORK/amf.log" 2>&1 &
    amf_pid=$!
    wait_until 10 grep -q "listening" "$WORK/amf.log" || true
    ip netns exec "${P}b" "$PEER" n3iwf --address "$AMF_IP:38412" --lower "$lower" --ues "$UES" \
        --udp-port 0 >"$WORK/n3iwf.log" 2>&1 || rc=1
    wait "$amf_pid" || rc=1
    sed 's/^/   /' "$WORK/amf.log" "$WORK/n3iwf.log"
    return "$rc"
}

data_chunks_have_ppid_60() {
    local ppids
    ppids=$(tshark_fields "sctp.data_payload_proto_id" sctp.data_payload_proto_id | tr ',' '\n' | sort | uniq -c | tr -s ' ')
    echo "   DATA chunk PPIDs (count ppid): ${ppids//$'\n'/; }"
    # NG Setup request and response, and two messages per UE; all with PPID 60.
    [ "$(tr ',' '\n' <<<"$(tshark_fields "sctp.data_payload_proto_id" sctp.data_payload_proto_id)" | grep -c '^60$')" -ge $((2 + 2 * UES)) ] &&
        ! tshark_fields "sctp.data_payload_proto_id" sctp.data_payload_proto_id | tr ',' '\n' | grep -qv '^60$'
}

ngap_decodes() {
    local codes
    codes=$(tshark_fields "ngap" ngap.procedureCode | tr ',' '\n' | sort -n | uniq -c | tr -s ' ')
    echo "   NGAP procedure codes (count code): ${codes//$'\n'/; }"
    # NGSetup (21) twice, InitialUEMessage (15) and DownlinkNASTransport (4) once per UE.
    grep -qx " 2 21" <<<"$codes" && grep -qx " $UES 15" <<<"$codes" && grep -qx " $UES 4" <<<"$codes"
}

ue_streams_avoid_zero() {
    local setup ue
    # tshark prints stream identifiers in hex (0x0000).
    setup=$(tshark_fields "ngap.procedureCode == 21" sctp.data_sid | tr ',' '\n' | sort -u | tr '\n' ' ')
    ue=$(tshark_fields "ngap.procedureCode == 15 || ngap.procedureCode == 4" sctp.data_sid | tr ',' '\n' | sort -u | tr '\n' ' ')
    echo "   NG Setup on streams: $setup; UE messages on streams: $ue"
    [ "$setup" = "0x0000 " ] && [ "$(wc -w <<<"$ue")" -ge 2 ] && ! grep -qw 0x0000 <<<"$ue"
}

association_lifecycle() {
    local init shutdown
    init=$(count "sctp.chunk_type == 1 || sctp.chunk_type == 2")
    shutdown=$(count "sctp.chunk_type == 7 || sctp.chunk_type == 8 || sctp.chunk_type == 14")
    echo "   INIT/INIT ACK: $init, SHUTDOWN/SHUTDOWN ACK/SHUTDOWN COMPLETE: $shutdown"
    [ "$init" -ge 2 ] && [ "$shutdown" -ge 3 ]
}

run_case() {
    local lower=$1 filter=$2 carrier=$3
    echo "# usrsctp over $lower"
    start_capture "$filter"
    check "$lower: NG Setup and $UES UEs between the AMF and N3IWF namespaces" run_peers "$lower"
    stop_capture
    check "$lower: packets are $carrier" bash -c "[ \"\$(tshark -r $WORK/cap.pcap -Y '$carrier' 2>/dev/null | wc -l)\" -gt 0 ]"
    check "$lower: tshark sees every DATA chunk with PPID 60" data_chunks_have_ppid_60
    check "$lower: tshark decodes every NGAP message" ngap_decodes
    check "$lower: no malformed packets" nothing_malformed
    check "$lower: CRC32c checksums valid" checksums_valid
    check "$lower: NG Setup on stream 0, UE signalling on others" ue_streams_avoid_zero
    check "$lower: INIT handshake and graceful SHUTDOWN on the wire" association_lifecycle
}

netns_up
if [ -d /proc/sys/net/sctp ]; then
    # The kernel's SCTP would answer usrsctp's packets for associations it does not know with
    # ABORT; where it exists, N2 uses it (transport = "kernel").
    skip_loudly "48-n2-transport: this kernel runs SCTP, so usrsctp over raw IP is not tested here"
else
    run_case raw "ip proto 132" "ip.proto == 132 && !udp"
fi
run_case udp "udp port 9899" "udp.port == 9899 && sctp"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
