#!/usr/bin/env bash
# The N3IWF's N2 on the wire: `iked` with an [n3iwf] section in one network namespace, the
# emulated AMF (`amf-sim`) in another, joined by a veth pair, over usrsctp on raw IP (protocol
# 132). Checks that NG Setup completes and shows in `ikectl list-amfs` and `ikectl stats`, and
# that tshark decodes the capture: every SCTP DATA chunk with PPID 60, NG SETUP REQUEST and
# RESPONSE as NGAP on stream 0, valid CRC32c checksums and no malformed packet. Then the AMF
# goes away and comes back: the association is counted lost and NG Setup runs again. Also
# checks that transport = "kernel" without kernel SCTP is one clear line naming usrsctp.
# Needs root (namespaces, raw sockets, TUN); without it, skips loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh
source scripts/lib/lab.sh
source scripts/lib/n2-capture.sh

as_root "$0" "$@" || {
    skip_loudly "49-n3iwf-n2 needs root (network namespaces, raw IP sockets, TUN) and there is no sudo here"
    exit 0
}
if ! ip netns list >/dev/null 2>&1; then
    skip_loudly "49-n3iwf-n2 needs ip netns"
    exit 0
fi
if [ -d /proc/sys/net/sctp ]; then
    # The kernel's SCTP would answer usrsctp's raw packets with ABORT; there, N2 uses it.
    skip_loudly "49-n3iwf-n2: this kernel runs SCTP, so usrsctp over raw IP is not tested here"
    exit 0
fi

echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
if ! apt_install iproute2 tshark libusrsctp2 openssl curl; then
    echo "49-n3iwf-n2: could not install iproute2, tshark, libusrsctp2, openssl and curl from" \
        "the Debian mirror (apt-get install failed; see above)" >&2
    exit 1
fi

cargo build --release -q -p iked -p ikectl
cargo build --release -q -p fiveg-emu --bin amf-sim
pqlab_build
BIN=$PWD/${CARGO_TARGET_DIR:-target}/release

P="pqn-$$-"
STEM="pqn$(printf '%s' "$$" | tail -c 6)"
NET=10.237.$(($$ % 250))
AMF_IP=$NET.1
N3IWF_IP=$NET.2
METRICS_PORT=9716
WORK=$(mktemp -d /tmp/n3iwf-n2.XXXXXX)
N2_PCAP=$WORK/n2.pcap
chmod 755 "$WORK"
PIDS=()
TSHARK_PID=
passed=0
failed=0

cleanup() {
    local p
    [ -n "$TSHARK_PID" ] && kill "$TSHARK_PID" 2>/dev/null
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    pqlab netns del "${P}amf" "${P}n3iwf" 2>/dev/null || true
    [ -n "${N3IWF_KEEP:-}" ] && echo "kept $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT


in_ns() { local ns=$1; shift; nsenter "--net=/run/netns/${P}$ns" -- "$@"; }

# bg_ns NS LOG COMMAND...: COMMAND in the background in ${P}NS; its PID in BG_PID.
bg_ns() {
    local ns=$1 log=$2
    shift 2
    nsenter "--net=/run/netns/${P}$ns" -- "$@" >"$log" 2>&1 &
    BG_PID=$!
    PIDS+=("$BG_PID")
}

# The N3IWF's certificate: Ed25519, PKCS#8, subjectAltName n3iwf.example.
make_certificate() {
    openssl genpkey -algorithm ed25519 -out "$WORK/n3iwf.key" 2>/dev/null
    openssl req -x509 -key "$WORK/n3iwf.key" -subj "/CN=n3iwf" -days 2 \
        -addext "subjectAltName=DNS:n3iwf.example" -out "$WORK/n3iwf.pem" 2>/dev/null
    chmod 600 "$WORK/n3iwf.key"
}

# write_config AMF_LINE...: iked.toml of the N3IWF (pqlab iked-conf), mode 0600; each
# AMF_LINE is a `key = value` line of the AMF's table (its transport).
write_config() {
    local amf_lines=() line
    for line in "$@"; do amf_lines+=(--amf-line "$line"); done
    pqlab_iked_conf "$WORK/iked.toml" --socket "$WORK/iked.sock" --listen "$N3IWF_IP" \
        --log "info,iked=debug" --daemon-line "metrics = \"127.0.0.1:$METRICS_PORT\"" \
        --tun "${STEM}t" --dp-local "$N3IWF_IP" --encap udp \
        --n3iwf 208-93 --n3iwf-id 135 --n3iwf-name pqike-n3iwf --nas-address 10.46.0.1 \
        --ue-pool 10.46.0.0/24 --n3iwf-line 'amf_reconnect = "100ms"' \
        --n3iwf-line 'amf_reconnect_max = "1s"' --ta 000001/208-93/1 \
        --amf "amf-1@$AMF_IP" "${amf_lines[@]}" \
        --nwu-cert n3iwf.pem --nwu-key n3iwf.key --nwu-id n3iwf.example
}

start_amf() {
    rm -f "$WORK/amf.ready"
    bg_ns amf "$WORK/amf-$1.log" "$BIN/amf-sim" --listen "$AMF_IP:38412" --lower raw \
        --port-file "$WORK/amf.ready" --run-for 120
    AMF_PID=$BG_PID
    wait_until 10 test -s "$WORK/amf.ready"
}

ikectl() { "$BIN/ikectl" --socket "$WORK/iked.sock" "$@"; }

amf_state() { ikectl list-amfs --json 2>/dev/null | tr -d ' \n'; }
ng_setup_ready() { amf_state | grep -q '"association":"up".*"ng_setup":"ready"'; }
association_lost() { amf_state | grep -q '"association":"down".*"losses":1'; }
ng_setup_again() { amf_state | grep -q '"connects":2' && ng_setup_ready; }

start_capture() {
    # nsenter execs timeout, so $! is timeout's PID and SIGINT reaches tshark through it (a
    # shell function in the background would be a subshell that ignores SIGINT).
    nsenter "--net=/run/netns/${P}amf" -- timeout 120 tshark -q -F pcap -i "${STEM}a" \
        -f "ip proto 132" -w "$WORK/n2.pcap" >"$WORK/tshark.log" 2>&1 &
    TSHARK_PID=$!
    wait_until 10 grep -q "Capture started" "$WORK/tshark.log"
}

stop_capture() {
    # libpcap hands packets over in batches: give the last ones a moment.
    wait_until 5 bash -c "[ \$(tshark -r '$WORK/n2.pcap' -Y ngap 2>/dev/null | wc -l) -ge 4 ]" || true
    kill -INT "$TSHARK_PID" 2>/dev/null || true
    wait "$TSHARK_PID" || true
    TSHARK_PID=
}

ppid_60_only() {
    local all
    all=$(tshark_fields "sctp.data_payload_proto_id" sctp.data_payload_proto_id | tr ',' '\n')
    echo "   DATA chunk PPIDs: $(sort <<<"$all" | uniq -c | tr -s ' ' | tr '\n' ';')"
    [ -n "$all" ] && ! grep -qv '^60$' <<<"$all"
}

ng_setup_decoded_on_stream_0() {
    local codes streams
    codes=$(tshark_fields "ngap" ngap.procedureCode | tr ',' '\n' | sort -n | uniq -c | tr -s ' ')
    streams=$(tshark_fields "ngap.procedureCode == 21" sctp.data_sid | tr ',' '\n' | sort -u | tr '\n' ' ')
    echo "   NGAP procedure codes (count code): ${codes//$'\n'/; }; NG Setup on streams: $streams"
    # Two associations (the AMF went away and came back): NG Setup request and response each.
    # The N3IWF sends no NG Setup answer: four NG Setup PDUs are two requests and two responses.
    grep -qx " 4 21" <<<"$codes" && [ "$streams" = "0x0000 " ]
}

stats_show_ng_setup() {
    local s
    s=$(ikectl stats)
    grep -q "^N3IWF " <<<"$s" && grep -Eq '^NGSetup +sent +2$' <<<"$s" && grep -Eq '^NGSetup +received +2$' <<<"$s"
}

metrics_show_the_amf() {
    local m
    m=$(in_ns n3iwf curl -s "http://127.0.0.1:$METRICS_PORT/metrics")
    grep -E '^iked_n3iwf_(amf|ngap)' <<<"$m" | sed 's/^/   /'
    grep -qx 'iked_n3iwf_amf_ready{amf="amf-1"} 1' <<<"$m" &&
        grep -qx 'iked_n3iwf_amf_association_losses_total{amf="amf-1"} 1' <<<"$m" &&
        grep -qx 'iked_n3iwf_ngap_messages_total{procedure="NGSetup",direction="sent"} 2' <<<"$m"
}

# transport = "kernel" where the kernel has no SCTP: one line naming the alternative.
kernel_sctp_is_a_clear_error() {
    local rc=0
    write_config 'transport = "kernel"'
    in_ns n3iwf "$BIN/iked" --config "$WORK/iked.toml" >"$WORK/kernel.log" 2>&1 || rc=$?
    sed 's/^/   /' "$WORK/kernel.log" | tail -3
    [ "$rc" -eq 1 ] && grep -q 'the kernel has no SCTP; use transport = "usrsctp"' "$WORK/kernel.log" &&
        ! grep -qi "panicked\|backtrace" "$WORK/kernel.log"
}

pqlab netns add "${P}amf" "${P}n3iwf"
pqlab netns link "${P}amf" "${STEM}a" "$AMF_IP/24" "${P}n3iwf" "${STEM}n" "$N3IWF_IP/24"
make_certificate

echo "# iked as N3IWF and amf-sim over usrsctp on raw IP"
start_capture
start_amf 1
write_config 'transport = "usrsctp"' 'lower = "raw"'
check "iked --check accepts the N3IWF configuration" in_ns n3iwf "$BIN/iked" --check --config "$WORK/iked.toml"
bg_ns n3iwf "$WORK/iked.log" "$BIN/iked" --config "$WORK/iked.toml"
IKED_PID=$BG_PID
check "NG Setup completes and ikectl list-amfs shows it" wait_until 20 ng_setup_ready
ikectl list-amfs | sed 's/^/   /'
kill "$AMF_PID"
wait "$AMF_PID" 2>/dev/null || true
check "the AMF going away is seen and counted" wait_until 20 association_lost
start_amf 2
check "the association comes back and NG Setup runs again" wait_until 20 ng_setup_again
ikectl list-amfs | sed 's/^/   /'
check "ikectl stats shows the N3IWF's NGAP counters" stats_show_ng_setup
check "the metrics endpoint shows the AMF ready, its lost association and NG Setup" metrics_show_the_amf
stop_capture
check "tshark sees every DATA chunk with PPID 60" ppid_60_only
check "tshark decodes NG Setup as NGAP, on stream 0, for both associations" ng_setup_decoded_on_stream_0
check "no malformed packets" nothing_malformed
check "CRC32c checksums valid" checksums_valid
kill "$IKED_PID"
wait "$IKED_PID" 2>/dev/null || true
check "transport = \"kernel\" without kernel SCTP is a clear error naming usrsctp" kernel_sctp_is_a_clear_error

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
