#!/usr/bin/env bash
# WORK IN PROGRESS (moves to scripts/tests/53-n3iwf-pdu-session.sh once it passes): a PDU
# session through the N3IWF on the wire. The lab of section 52 (ue-sim, iked as N3IWF, amf-sim,
# KME) plus the emulated UPF (upf-sim) in a fifth namespace on N3, with a TUN device on N6 and
# the kernel answering pings and a TCP echo server behind it. The UE registers, asks for a PDU
# session, answers the N3IWF's CREATE_CHILD_SA, and sends pings and a byte-checked TCP transfer
# from its PDU address through GRE in the user-plane Child SA, the N3IWF's GTP-U and the UPF.
# tshark then decodes N3 (GTP-U with the PDU Session Container and its QFI), the NGAP PDU
# session messages on N2 and, with the key log, GRE with the QFI inside the user-plane ESP.
# Needs root; without it, skips loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
source scripts/lib/lab.sh
source scripts/lib/n2-capture.sh
source scripts/lib/n3iwf-lab.sh

as_root "$0" "$@" || {
    skip_loudly "53-n3iwf-pdu-session needs root (network namespaces, raw IP sockets, TUN) and there is no sudo here"
    exit 0
}
if ! ip netns list >/dev/null 2>&1 || [ ! -c /dev/net/tun ]; then
    skip_loudly "53-n3iwf-pdu-session needs ip netns and /dev/net/tun"
    exit 0
fi
if [ -d /proc/sys/net/sctp ]; then
    skip_loudly "53-n3iwf-pdu-session: this kernel runs SCTP, so usrsctp over raw IP is not tested here"
    exit 0
fi

n3lab_packages || exit 1
apt_install tshark || { echo "53-n3iwf-pdu-session: could not install tshark" >&2; exit 1; }
n3lab_build
BIN=$PWD/${CARGO_TARGET_DIR:-target}/release

n3lab_session pqp
N2_PCAP=$WORK/n2.pcap
NWU_PCAP=$WORK/nwu.pcap
N3_PCAP=$WORK/n3.pcap
UPF_IP=10.240.$N3LAB_NET.1
N3IWF_N3_IP=10.240.$N3LAB_NET.2
PDU_POOL=10.60.0.0/16
DN_IP=10.61.0.1
ECHO_PORT=7000
PINGS=5
TCP_BYTES=200000
CAPTURES=()
passed=0
failed=0

# capture NS IFACE FILTER FILE (as section 52)
capture() {
    nsenter "--net=/run/netns/${P}$1" -- timeout 300 tshark -q -F pcap -i "$2" -f "$3" -w "$4" >"$4.log" 2>&1 &
    CAPTURES+=("$!")
    N3LAB_PIDS+=("$!")
    wait_until 10 grep -q "Capture started" "$4.log"
}

stop_captures() {
    local p
    for p in "${CAPTURES[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    CAPTURES=()
}

# The UPF namespace: N3 towards the N3IWF, upf-sim with N6 on a TUN device, the data network's
# host address on it, and a TCP echo server there.
upf_up() {
    pqlab netns add "${P}upf"
    pqlab netns link "${P}upf" "${STEM}p" "$UPF_IP/24" "${P}n3iwf" "${STEM}3" "$N3IWF_N3_IP/24"
    bg_ns upf "$WORK/upf.log" "$BIN/upf-sim" --n3 "$UPF_IP" --n6 "tun:${STEM}6" \
        --control "$WORK/upf.sock" --json --run-for 3600
    wait_until 10 grep -q "listening on" "$WORK/upf.log" || { echo "upf-sim did not start: $(tail -3 "$WORK/upf.log")" >&2; return 1; }
    in_ns upf ip addr add "$DN_IP/32" dev "${STEM}6"
    in_ns upf ip link set "${STEM}6" up
    in_ns upf ip route add "$PDU_POOL" dev "${STEM}6"
    bg_ns upf "$WORK/echo.log" socat "TCP-LISTEN:$ECHO_PORT,bind=$DN_IP,reuseaddr,fork" EXEC:cat
    wait_until 5 in_ns upf sh -c "ss -ltn | grep -q '$DN_IP:$ECHO_PORT '"
}

result() { jq -r "$1" "$WORK/ue.json"; }

session_established() {
    echo "   $(result '.ues[0].pdu_session | {id, pdu_address, qfis, n3iwf_up_address}' | tr -d '\n ')"
    result '.ues[0].phases[] | select(.[0] | startswith("pdu_")) | "   \(.[0]) \(.[1]) ms"'
    [ "$(result '.failures | length')" = 0 ] && [ "$(result '.ues[0].pdu_session.pdu_address')" != null ]
}

pings_answered() {
    echo "   $(result '.ues[0].pdu_session.traffic | {ping_sent, ping_received, rtt_ms}' | tr -d '\n ')"
    [ "$(result '.ues[0].pdu_session.traffic.ping_received')" = "$PINGS" ]
}

tcp_intact() {
    echo "   $(result '.ues[0].pdu_session.traffic | {tcp_bytes_sent, tcp_bytes_echoed, tcp_intact, tcp_ms}' | tr -d '\n ')"
    [ "$(result '.ues[0].pdu_session.traffic.tcp_intact')" = true ] &&
        [ "$(result '.ues[0].pdu_session.traffic.tcp_bytes_echoed')" = "$TCP_BYTES" ]
}

# N3: G-PDUs (message type 255) both ways with the PDU Session Container (extension header
# 0x85) and the session's QFI, nothing malformed.
n3_decoded() {
    local gpdu qfi malformed
    gpdu=$(tshark -r "$N3_PCAP" -Y "gtp.message == 0xff && gtp.ext_hdr.pdu_ses_con.qos_flow_id" 2>/dev/null | wc -l)
    qfi=$(tshark -r "$N3_PCAP" -Y "gtp.message == 0xff" -T fields -e gtp.ext_hdr.pdu_ses_con.qos_flow_id 2>/dev/null | sort -u | tr '\n' ' ')
    malformed=$(tshark -r "$N3_PCAP" -Y _ws.malformed 2>/dev/null | wc -l)
    echo "   G-PDUs with a PDU Session Container: $gpdu; QFIs: $qfi; malformed: $malformed"
    [ "$gpdu" -ge $((2 * PINGS)) ] && [ -n "$qfi" ] && [ "$malformed" = 0 ]
}

# N2: PDUSessionResourceSetup (29) request and response.
n2_sessions_decoded() {
    local codes
    codes=$(tshark_fields "ngap" ngap.procedureCode | tr ',' '\n' | sort -n | uniq -c | tr -s ' ' | tr '\n' ';')
    echo "   NGAP procedure codes (count code): $codes"
    grep -Eq " ([2-9]|[1-9][0-9]+) 29;" <<<"$codes"
}

# NWu with the key log: a CREATE_CHILD_SA (36), then GRE (K=1, the QFI in the key) inside ESP.
gre_in_esp_decrypted() {
    local ccs gre malformed
    ccs=$(tshark -r "$NWU_PCAP" -Y "isakmp.exchangetype == 36" 2>/dev/null | wc -l)
    gre=$(XDG_CONFIG_HOME="$WORK/xdg" tshark -r "$NWU_PCAP" -o esp.enable_encryption_decode:TRUE \
        -Y "esp && gre && gre.flags.key == 1" -T fields -e gre.key 2>/dev/null | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    malformed=$(XDG_CONFIG_HOME="$WORK/xdg" tshark -r "$NWU_PCAP" \
        -o esp.enable_encryption_decode:TRUE -Y "_ws.malformed && !(isakmp.exchangetype == 43)" \
        2>/dev/null | wc -l)
    echo "   CREATE_CHILD_SA messages: $ccs; GRE keys inside ESP (count key): $gre; malformed: $malformed"
    [ "$ccs" -ge 2 ] && [ -n "$gre" ] && [ "$malformed" = 0 ]
}

echo "# a UE's PDU session through iked as N3IWF: CREATE_CHILD_SA, GRE in ESP, GTP-U to the UPF"
N3LAB_AMF_ARGS=(--upf "$UPF_IP" --pdu-pool "$PDU_POOL" --upf-control "$WORK/upf.sock")
N3LAB_N3IWF_LINES=("n3_address = \"$N3IWF_N3_IP\"")
N3LAB_BEFORE_IKED=upf_up
N3LAB_KEY_LOG="$WORK/xdg/wireshark" n3lab_up 1
capture n3iwf "${STEM}w" "udp port 500 or udp port 4500" "$NWU_PCAP"
capture amf "${STEM}a" "ip proto 132" "$N2_PCAP"
capture upf "${STEM}p" "udp port 2152" "$N3_PCAP"
n3lab_ue_args
bg_ns ue "$WORK/ue.log" "$BIN/ue-sim" "${UE_ARGS[@]}" --json --result-file "$WORK/ue.json" \
    --pdu-session 1 --ping "$DN_IP" --ping-count "$PINGS" --tcp-echo "$DN_IP:$ECHO_PORT" \
    --tcp-echo-bytes "$TCP_BYTES" --hold --timeout "${UE_TIMEOUT:-60}"
UE_PID=$BG_PID
check "ue-sim finishes its registration, PDU session and traffic" wait_until 70 test -s "$WORK/ue.json"
sed 's/^/   /' "$WORK/ue.log" | tail -40
check "the PDU session is established: CREATE_CHILD_SA answered, ACCEPT with a PDU address" session_established
check "pings from the PDU address are answered through GRE, GTP-U and the UPF's N6" pings_answered
check "a TCP transfer to the echo server behind the UPF comes back intact" tcp_intact
stop_captures
check "tshark decodes N3: G-PDUs with the PDU Session Container and the QFI" n3_decoded
check "tshark decodes N2: PDU SESSION RESOURCE SETUP request and response" n2_sessions_decoded
check "with the key log, tshark decrypts the user-plane ESP: GRE with the QFI in the key" gre_in_esp_decrypted
check "no malformed N2 packets" nothing_malformed

if [ "$failed" -ne 0 ]; then
    echo "   iked (child SAs, PDU sessions, warnings):"
    grep -iE "child|pdu|session|warn|error" "$WORK/iked.log" | tail -30 | sed 's/^/   /'
    echo "   amf-sim and upf-sim:"
    tail -10 "$WORK/amf.log" "$WORK/upf.log" | sed 's/^/   /'
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
