# An N3IWF lab in four network namespaces, shared by test section 52, scripts/n3iwf-demo.sh and
# scripts/bench-registration.sh:
#
#   ${P}ue  --(NWu: IKEv2 + ESP in UDP)--  ${P}n3iwf  --(N2: NGAP over usrsctp, raw IP)--  ${P}amf
#   ue-sim  $UE_IP                  $N3IWF_UE_IP | $N3IWF_N2_IP                    $AMF_IP  amf-sim
#                                          iked as N3IWF
#   ${P}k: the KME simulator (KME A for the UEs' SAE "ue", KME B for the N3IWF's SAE "n3iwf"),
#          reached from ${P}ue and ${P}n3iwf through relays on their 127.0.0.1.
#
# Source scripts/lib/common.sh and scripts/lib/lab.sh first, set P (namespace prefix), STEM
# (short interface stem), WORK (a directory) and BIN (release binaries), then call n3lab_up.
# n3lab_down removes everything n3lab_up made.

N3LAB_NET=$((($$ % 200) + 20))
UE_IP=10.238.$N3LAB_NET.1
N3IWF_UE_IP=10.238.$N3LAB_NET.2
AMF_IP=10.239.$N3LAB_NET.1
N3IWF_N2_IP=10.239.$N3LAB_NET.2
NAS_IP=10.46.0.1
NAS_PORT=20000
UE_POOL=10.46.0.0/16
N3LAB_KME_A=8441
N3LAB_KME_B=8442
N3LAB_METRICS=9716
N3LAB_PIDS=()
# Extra arguments of amf-sim, and extra `key = value` lines of iked's [n3iwf] (PDU sessions).
N3LAB_AMF_ARGS=()
N3LAB_N3IWF_LINES=()
# A function n3lab_up calls once the namespaces exist, before iked starts (the UPF's).
N3LAB_BEFORE_IKED=

in_ns() { local ns=$1; shift; nsenter "--net=/run/netns/${P}$ns" -- "$@"; }

# bg_ns NS LOG COMMAND...: COMMAND in the background in ${P}NS; its PID in BG_PID.
bg_ns() {
    local ns=$1 log=$2
    shift 2
    nsenter "--net=/run/netns/${P}$ns" -- "$@" >"$log" 2>&1 &
    BG_PID=$!
    N3LAB_PIDS+=("$BG_PID")
}

ikectl() { "$BIN/ikectl" --socket "$WORK/iked.sock" "$@"; }

n3lab_packages() {
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
    apt_install iproute2 libusrsctp2 openssl curl socat jq procps || {
        echo "n3iwf lab: could not install iproute2, libusrsctp2, openssl, curl, socat, jq and" \
            "procps from the Debian mirror (apt-get install failed; see above)" >&2
        return 1
    }
}

n3lab_build() {
    cargo build --release -q -p iked -p ikectl -p qkd-kme-sim --bin iked --bin ikectl --bin qkd-kme-sim
    cargo build --release -q -p fiveg-emu --bin amf-sim --bin ue-sim --bin upf-sim
    pqlab_build
}

# n3lab_up [UES]: namespaces, the N3IWF's certificate, the KME, amf-sim with the subscribers of
# UES emulated UEs (default 1), iked as N3IWF; returns once NG Setup is done.
n3lab_up() {
    local ues=${1:-1}
    pqlab netns add "${P}ue" "${P}n3iwf" "${P}amf" "${P}k"
    pqlab netns link "${P}ue" "${STEM}u" "$UE_IP/24" "${P}n3iwf" "${STEM}w" "$N3IWF_UE_IP/24"
    pqlab netns link "${P}amf" "${STEM}a" "$AMF_IP/24" "${P}n3iwf" "${STEM}n" "$N3IWF_N2_IP/24"
    if [ -n "$N3LAB_BEFORE_IKED" ]; then "$N3LAB_BEFORE_IKED" || return 1; fi
    n3lab_certificate
    n3lab_kme || return 1
    "$BIN/ue-sim" --print-amf-subscribers "$ues" >"$WORK/amf.toml"
    bg_ns amf "$WORK/amf.log" "$BIN/amf-sim" --listen "$AMF_IP:38412" --lower raw \
        --config "$WORK/amf.toml" --port-file "$WORK/amf.ready" --run-for 3600 "${N3LAB_AMF_ARGS[@]}"
    wait_until 10 test -s "$WORK/amf.ready" || { echo "amf-sim did not start: $(tail -3 "$WORK/amf.log")" >&2; return 1; }
    n3lab_config
    bg_ns n3iwf "$WORK/iked.log" "$BIN/iked" --config "$WORK/iked.toml"
    IKED_PID=$BG_PID
    wait_until 30 n3lab_ng_setup_ready || { echo "no NG Setup: $(tail -5 "$WORK/iked.log")" >&2; return 1; }
}

n3lab_ng_setup_ready() {
    ikectl list-amfs --json 2>/dev/null | tr -d ' \n' | grep -q '"association":"up".*"ng_setup":"ready"'
}

# The N3IWF's certificate: Ed25519, subjectAltName n3iwf.example, self-signed (the UEs' CA).
n3lab_certificate() {
    openssl genpkey -algorithm ed25519 -out "$WORK/n3iwf.key" 2>/dev/null
    openssl req -x509 -key "$WORK/n3iwf.key" -subj "/CN=n3iwf" -days 2 \
        -addext "subjectAltName=DNS:n3iwf.example" -out "$WORK/n3iwf.pem" 2>/dev/null
    chmod 600 "$WORK/n3iwf.key"
}

# The KME pair in ${P}k, and a relay to it on 127.0.0.1 of the UE's and the N3IWF's namespace.
n3lab_kme() {
    mkdir -p "$WORK/kme"
    "$BIN/qkd-kme-sim" certs --dir "$WORK/kme" --sae ue --sae n3iwf 2>"$WORK/kme-certs.log"
    bg_ns k "$WORK/kme.log" "$BIN/qkd-kme-sim" serve --certs "$WORK/kme" \
        --listen-a "127.0.0.1:$N3LAB_KME_A" --listen-b "127.0.0.1:$N3LAB_KME_B" --pool-size "${N3LAB_KME_POOL:-1000}" \
        --port-file "$WORK/kme.ports"
    wait_until 10 test -s "$WORK/kme.ports" || { echo "KME simulator did not start: $(cat "$WORK/kme.log")" >&2; return 1; }
    local ns port
    for ns in ue n3iwf; do
        port=$N3LAB_KME_A
        [ "$ns" = n3iwf ] && port=$N3LAB_KME_B
        printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- socat STDIO TCP:127.0.0.1:%s\n' "${P}k" "$port" >"$WORK/relay-$ns.sh"
        chmod 700 "$WORK/relay-$ns.sh"
        bg_ns "$ns" "$WORK/relay-$ns.log" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "EXEC:$WORK/relay-$ns.sh"
        wait_until 5 in_ns "$ns" sh -c "ss -ltn | grep -q '127.0.0.1:$port '" || { echo "KME relay in $ns did not start" >&2; return 1; }
    done
}

# iked.toml of the N3IWF (pqlab iked-conf): hybrid X25519 + ML-KEM-768 and a QKD PPK (RFC 9867,
# in the last IKE_INTERMEDIATE), both required. Every emulated UE comes from one address, so
# the per-peer bound of KME requests applies to all of them (N3LAB_KME_PER_PEER).
n3lab_config() {
    local extra=() line
    for line in "${N3LAB_N3IWF_LINES[@]}"; do extra+=(--n3iwf-line "$line"); done
    pqlab_iked_conf "$WORK/iked.toml" --socket "$WORK/iked.sock" --listen "$N3IWF_UE_IP" \
        --key-log "${N3LAB_KEY_LOG:-}" --log "${IKED_LOG:-info}" \
        --daemon-line "metrics = \"127.0.0.1:$N3LAB_METRICS\"" \
        --tun "${STEM}t" --dp-local "$N3IWF_UE_IP" --encap udp \
        --qkd-url "https://127.0.0.1:$N3LAB_KME_B" --qkd-sae n3iwf --qkd-ca kme/ca.pem \
        --qkd-cert kme/sae-n3iwf.pem --qkd-key kme/sae-n3iwf.key \
        --qkd-line "max_requests_per_peer = ${N3LAB_KME_PER_PEER:-4}" \
        --n3iwf 208-93 --n3iwf-id 135 --n3iwf-name pqike-n3iwf --nas-address "$NAS_IP" \
        --nas-port "$NAS_PORT" --ue-pool "$UE_POOL" --max-ues "${N3LAB_MAX_UES:-10000}" \
        --ta 000001/208-93/1 --amf "amf-1@$AMF_IP" --amf-line 'transport = "usrsctp"' \
        --amf-line 'lower = "raw"' --nwu-cert n3iwf.pem --nwu-key n3iwf.key \
        --nwu-id n3iwf.example --nwu-proposal aes256gcm16-prfsha384-x25519-ke1_mlkem768 \
        --nwu-esp aes256gcm16 --nwu-line 'ppk_source = "qkd"' --nwu-line 'ppk_mode = "rfc9867"' \
        --nwu-line 'qkd_peer_sae_id = "ue"' --nwu-line 'hybrid = "pqc+qkd"' "${extra[@]}"
}

# n3lab_ue_args: UE_ARGS, ue-sim's arguments towards the N3IWF with the QKD PPK. The inner
# address and the NAS endpoint come from the N3IWF's final IKE_AUTH response.
n3lab_ue_args() {
    UE_ARGS=(--n3iwf "$N3IWF_UE_IP" --ca "$WORK/n3iwf.pem" --n3iwf-id n3iwf.example
        --config "$WORK/amf.toml" --ppk qkd --kme-url "https://127.0.0.1:$N3LAB_KME_A"
        --kme-cert "$WORK/kme/sae-ue.pem" --kme-key "$WORK/kme/sae-ue.key"
        --kme-ca "$WORK/kme/ca.pem" --qkd-peer-sae-id n3iwf)
}

n3lab_down() {
    local p
    for p in "${N3LAB_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${N3LAB_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    pqlab netns del "${P}ue" "${P}n3iwf" "${P}amf" "${P}k" 2>/dev/null || true
    [ -e "/run/netns/${P}upf" ] && { pqlab netns del "${P}upf" 2>/dev/null || true; }
    return 0
}

# n3lab_session TAG: the names and work directory of one run of the lab from a script (P, STEM,
# WORK, UE_PID), removed with the namespaces and processes on exit, even when interrupted.
n3lab_session() {
    P="$1-$$-"
    STEM="$1$(printf '%s' "$$" | tail -c 6)"
    WORK=$(mktemp -d "/tmp/n3iwf-$1.XXXXXX")
    chmod 755 "$WORK"
    UE_PID=
    trap n3lab_session_end EXIT
    trap 'exit 130' INT TERM
}

n3lab_session_end() {
    [ -n "$UE_PID" ] && kill "$UE_PID" 2>/dev/null
    n3lab_down
    # N3LAB_KEEP=1 keeps the captures and logs for a look after a failure.
    if [ -n "${N3LAB_KEEP:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
    give_back_to_sudo_user "${CARGO_TARGET_DIR:-target}" "${CARGO_HOME:-}"
}
