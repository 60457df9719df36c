#!/usr/bin/env bash
# A full UE registration through the N3IWF on the wire: the emulated UE (ue-sim: our IKEv2
# engine as initiator, EAP-5G, NAS over TCP) in one network namespace, iked as N3IWF in a
# second, the emulated AMF (amf-sim, NGAP over usrsctp on raw IP) in a third, and the KME
# simulator in a fourth. The IKE SA uses the hybrid X25519 + ML-KEM-768 proposal and a QKD key
# as PPK, both required. Checks that the UE registers (REGISTRATION COMPLETE sent over TCP in
# the signalling SA), that `ikectl list-ues --json` shows it registered with its inner
# address, that the metrics count it, and that tshark decodes the NWu capture (IKEv2, ESP in
# UDP) and the N2 capture (NGAP with NAS-5GS). Needs root; without it, skips loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
source scripts/lib/lab.sh
source scripts/lib/n2-capture.sh
source scripts/lib/n3iwf-lab.sh

as_root "$0" "$@" || {
    skip_loudly "52-n3iwf-registration needs root (network namespaces, raw IP sockets, TUN) and there is no sudo here"
    exit 0
}
if ! ip netns list >/dev/null 2>&1 || [ ! -c /dev/net/tun ]; then
    skip_loudly "52-n3iwf-registration needs ip netns and /dev/net/tun"
    exit 0
fi
if [ -d /proc/sys/net/sctp ]; then
    skip_loudly "52-n3iwf-registration: this kernel runs SCTP, so usrsctp over raw IP is not tested here"
    exit 0
fi

n3lab_packages || exit 1
apt_install tshark || { echo "52-n3iwf-registration: could not install tshark" >&2; exit 1; }
n3lab_build
BIN=$PWD/${CARGO_TARGET_DIR:-target}/release

P="pqr-$$-"
STEM="pqr$(printf '%s' "$$" | tail -c 6)"
WORK=$(mktemp -d /tmp/n3iwf-reg.XXXXXX)
chmod 755 "$WORK"
N2_PCAP=$WORK/n2.pcap
NWU_PCAP=$WORK/nwu.pcap
CAPTURES=()
UE_PID=
passed=0
failed=0

cleanup() {
    local p
    [ -n "$UE_PID" ] && kill "$UE_PID" 2>/dev/null
    for p in "${CAPTURES[@]}"; do kill "$p" 2>/dev/null || true; done
    n3lab_down
    [ -n "${N3IWF_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

# capture NS IFACE FILTER FILE
capture() {
    # nsenter execs timeout, so $! is timeout's PID and SIGINT reaches tshark through it (a
    # shell function in the background would be a subshell that ignores SIGINT).
    nsenter "--net=/run/netns/${P}$1" -- timeout 300 tshark -q -F pcap -i "$2" -f "$3" -w "$4" >"$4.log" 2>&1 &
    CAPTURES+=("$!")
    wait_until 10 grep -q "Capture started" "$4.log"
}

stop_captures() {
    local p
    wait_until 5 bash -c "[ \$(tshark -r '$N2_PCAP' -Y ngap 2>/dev/null | wc -l) -ge 8 ]" || true
    for p in "${CAPTURES[@]}"; do kill -INT "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
    CAPTURES=()
}

result() { jq -r "$1" "$WORK/ue.json"; }

ue_registered() {
    [ "$(result '.summary.registered')" = 1 ] && [ "$(result '.failures | length')" = 0 ]
}

ue_used_hybrid_and_qkd() {
    local id
    id=$(result '.ues[0].ppk_id')
    echo "   PPK_ID (QKD key_ID) $id; KME fetch $(result '.ues[0].phases[] | select(.[0]=="kme_fetch") | .[1]') ms"
    [[ "$id" =~ ^[0-9a-f-]{36}$ ]] && grep -q "$id" "$WORK/iked.log"
}

list_ues_shows_it() {
    local ues
    ues=$(ikectl list-ues --json)
    jq -c '.[] | {state, inner_address, amf, timings}' <<<"$ues" | sed 's/^/   /'
    [ "$(jq 'length' <<<"$ues")" = 1 ] &&
        [ "$(jq -r '.[0].state' <<<"$ues")" = registered ] &&
        [ "$(jq -r '.[0].inner_address' <<<"$ues")" = "$(result '.ues[0].inner_address')" ] &&
        [ "$(jq -r '.[0].timings.nas_tcp_micros' <<<"$ues")" != null ]
}

metrics_count_it() {
    local m
    m=$(in_ns n3iwf curl -s "http://127.0.0.1:$N3LAB_METRICS/metrics")
    grep -E '^iked_n3iwf_(registrations|ues|eap)' <<<"$m" | sed 's/^/   /'
    grep -qx 'iked_n3iwf_registrations_total 1' <<<"$m"
}

nwu_decoded() {
    local ike esp
    ike=$(tshark -r "$NWU_PCAP" -Y isakmp -T fields -e isakmp.exchangetype 2>/dev/null | sort -n | uniq -c | tr -s ' ' | tr '\n' ';')
    esp=$(tshark -r "$NWU_PCAP" -Y esp 2>/dev/null | wc -l)
    echo "   IKEv2 exchange types (count type): $ike ESP in UDP packets: $esp"
    # 34 IKE_SA_INIT, 43 IKE_INTERMEDIATE (ML-KEM), 35 IKE_AUTH (EAP-5G rounds).
    grep -q " 34;" <<<"$ike" && grep -q " 43;" <<<"$ike" && grep -Eq " ([4-9]|[1-9][0-9]+) 35;" <<<"$ike" && [ "$esp" -ge 4 ]
}

# With iked's key log, Wireshark opens IKE_AUTH: EAP requests and responses of the expanded
# type (254) with the 3GPP vendor ID (10415 = 0x28af) and vendor type 3 (EAP-5G, TS 24.502
# §9.3.2), then one EAP-Success. (tshark 4.0 shows the two fields narrower than RFC 3748's
# 3 and 4 octets; the values are the same.)
eap_5g_decrypted() {
    local eap
    eap=$(XDG_CONFIG_HOME="$WORK/xdg" tshark -r "$NWU_PCAP" -Y eap -T fields -e eap.code \
        -e eap.type -e eap.ext.vendor_id -e eap.ext.vendor_type 2>/dev/null | sort | uniq -c |
        awk '{$1=$1; print}' | tr '\n' ';')
    echo "   EAP in IKE_AUTH (count code type vendor vendor-type): $eap"
    grep -Eq "(^|;)[0-9]+ 1 254 0x28af 0x03;" <<<"$eap" &&
        grep -Eq "(^|;)[0-9]+ 2 254 0x28af 0x03;" <<<"$eap" && grep -Eq "(^|;)1 3;" <<<"$eap"
}

# The key log also opens the signalling SA: NAS over TCP to the NAS port inside ESP in UDP,
# and nothing on NWu is malformed. IKE_INTERMEDIATE (43) is left out: tshark 4.0 knows no
# RFC 9242, and its SK payloads use the keys of before the ML-KEM exchange, not those of the
# key log, so it reads them as garbage.
nas_tcp_decrypted() {
    local tcp malformed
    tcp=$(XDG_CONFIG_HOME="$WORK/xdg" tshark -r "$NWU_PCAP" -o esp.enable_encryption_decode:TRUE \
        -Y "esp && tcp.port == $NAS_PORT && tcp.len > 0" 2>/dev/null | wc -l)
    malformed=$(XDG_CONFIG_HOME="$WORK/xdg" tshark -r "$NWU_PCAP" \
        -o esp.enable_encryption_decode:TRUE -Y "_ws.malformed && !(isakmp.exchangetype == 43)" \
        2>/dev/null | wc -l)
    echo "   NAS over TCP segments with data inside ESP: $tcp; malformed NWu packets: $malformed"
    [ "$tcp" -ge 2 ] && [ "$malformed" = 0 ]
}

n2_decoded() {
    local codes nas
    codes=$(tshark_fields "ngap" ngap.procedureCode | tr ',' '\n' | sort -n | uniq -c | tr -s ' ' | tr '\n' ';')
    nas=$(tshark_fields "nas-5gs" nas_5gs.mm.message_type | tr ',' '\n' | sort -u | tr '\n' ' ')
    echo "   NGAP procedure codes (count code): $codes NAS-5GS plain message types: $nas"
    # 15 InitialUEMessage, 4 DownlinkNASTransport, 46 UplinkNASTransport, 14 InitialContextSetup;
    # REGISTRATION REQUEST 0x41 and AUTHENTICATION REQUEST 0x56 travel in the clear.
    grep -q " 15;" <<<"$codes" && grep -q " 14;" <<<"$codes" && grep -q " 4;" <<<"$codes" &&
        grep -q "0x41" <<<"$nas" && grep -q "0x56" <<<"$nas"
}

ue_leaves_and_the_context_is_released() {
    kill -TERM "$UE_PID"
    wait "$UE_PID" 2>/dev/null || true
    UE_PID=
    wait_until 10 bash -c "[ \"\$('$BIN/ikectl' --socket '$WORK/iked.sock' list-ues --json | jq length)\" = 0 ]"
}

echo "# a UE registers through iked as N3IWF (hybrid X25519+ML-KEM-768, QKD PPK), NAS over TCP"
N3LAB_KEY_LOG="$WORK/xdg/wireshark" n3lab_up 1
capture n3iwf "${STEM}w" "udp port 500 or udp port 4500" "$NWU_PCAP"
capture amf "${STEM}a" "ip proto 132" "$N2_PCAP"
n3lab_ue_args
bg_ns ue "$WORK/ue.log" "$BIN/ue-sim" "${UE_ARGS[@]}" --json \
    --result-file "$WORK/ue.json" --hold --timeout 30
UE_PID=$BG_PID
check "ue-sim finishes its registration attempt" wait_until 40 test -s "$WORK/ue.json"
sed 's/^/   /' "$WORK/ue.log" | tail -40
check "the UE registers: REGISTRATION COMPLETE sent over NAS TCP" ue_registered
check "the IKE SA used the QKD key the N3IWF fetched (same key_ID)" ue_used_hybrid_and_qkd
check "ikectl list-ues --json shows the UE registered with its inner address" list_ues_shows_it
check "the metrics count the registration" metrics_count_it
stop_captures
check "tshark decodes NWu: IKE_SA_INIT, IKE_INTERMEDIATE, IKE_AUTH rounds, ESP in UDP" nwu_decoded
check "with the key log, tshark decrypts IKE_AUTH: EAP-5G requests and responses" eap_5g_decrypted
check "with the key log, tshark decrypts ESP: NAS over TCP inside, nothing malformed" nas_tcp_decrypted
check "tshark decodes N2: NGAP with NAS-5GS" n2_decoded
check "no malformed N2 packets" nothing_malformed
check "the UE leaves and the N3IWF drops its context" ue_leaves_and_the_context_is_released

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
