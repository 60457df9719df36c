# Shared by scripts/main-job.sh and scripts/tests/75-e2e-netns.sh: two iked gateways in network
# namespaces joined by a veth pair, and an ETSI GS QKD 014 KME simulator in a third namespace.
# Namespaces, configuration files and checked transfers come from `pqlab` (scripts/lib/lab.sh).
#
# Source it after common.sh and lab.sh, with P set to a unique prefix starting with `pqm-` or
# `pqd-` (e.g. pqm-$$-) and WORK to a scratch directory; call pqm_cleanup from an EXIT trap.
# Needs root.
#
#   namespace ${P}a: veth 10.250.0.1/24, iked "a", TUN ${stem}ta
#   namespace ${P}b: veth 10.250.0.2/24, iked "b", TUN ${stem}tb
#   namespace ${P}k: qkd-kme-sim on 127.0.0.1:8441 (KME A) and :8442 (KME B). The simulator
#     listens on loopback only (and its certificates name only loopback), so each gateway
#     reaches its KME through a socat relay on its own 127.0.0.1 that enters ${P}k.

CONF=()
OUTER_A=10.250.0.1
OUTER_B=10.250.0.2
KME_PORT_A=8441
KME_PORT_B=8442
PQM_PIDS=()
declare -A IKED_PID=()

# Interface names are limited to 15 bytes: the prefix's first 3 letters (pqm, pqd) + up to 8
# digits of the prefix + a suffix.
pqm_stem() { printf '%s%s' "${P:0:3}" "$(printf '%s' "$P" | tr -cd '0-9' | tail -c 8)"; }

# in_ns SIDE COMMAND...: runs COMMAND in namespace ${P}SIDE.
in_ns() { local side=$1; shift; nsenter "--net=/run/netns/${P}$side" -- "$@"; }

# bg_ns SIDE COMMAND...: starts COMMAND in the background in ${P}SIDE and sets BG_PID to the
# command's own PID (nsenter execs it; `ip netns exec` would fork), so it can be signalled.
bg_ns() {
    local side=$1
    shift
    nsenter "--net=/run/netns/${P}$side" -- "$@" &
    BG_PID=$!
}

pqm_netns_up() {
    local s; s=$(pqm_stem)
    pqlab netns add "${P}a" "${P}b" "${P}k"
    pqlab netns link "${P}a" "${s}va" "$OUTER_A/24" "${P}b" "${s}vb" "$OUTER_B/24"
}

# pqm_kme_up BIN_DIR: certificates for SAEs gw-a and gw-b, the KME pair, and the relays.
pqm_kme_up() {
    local bin=$1
    mkdir -p "$WORK/kme"
    "$bin/qkd-kme-sim" certs --dir "$WORK/kme" --sae gw-a --sae gw-b 2>"$WORK/kme-certs.log"
    pqm_kme_start "$bin"
    local side port
    for side in a b; do
        port=$KME_PORT_A
        [ "$side" = b ] && port=$KME_PORT_B
        printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s -- socat STDIO TCP:127.0.0.1:%s\n' "${P}k" "$port" >"$WORK/relay-$side.sh"
        chmod 700 "$WORK/relay-$side.sh"
        bg_ns "$side" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "EXEC:$WORK/relay-$side.sh" 2>>"$WORK/relay-$side.log"
        PQM_PIDS+=("$BG_PID")
        wait_until 5 in_ns "$side" sh -c "ss -ltn | grep -q '127.0.0.1:$port '" || { echo "relay in $side did not start" >&2; return 1; }
    done
}

# pqm_kme_start BIN_DIR: (re)starts the KME pair in ${P}k.
pqm_kme_start() {
    local bin=$1
    rm -f "$WORK/kme.ports"
    bg_ns k "$bin/qkd-kme-sim" serve --certs "$WORK/kme" --listen-a "127.0.0.1:$KME_PORT_A" \
        --listen-b "127.0.0.1:$KME_PORT_B" --port-file "$WORK/kme.ports" 2>>"$WORK/kme.log"
    KME_PID=$BG_PID
    wait_until 10 test -s "$WORK/kme.ports" || { echo "KME simulator did not start: $(cat "$WORK/kme.log")" >&2; return 1; }
}

pqm_kme_stop() {
    [ -n "${KME_PID:-}" ] || return 0
    kill "$KME_PID" 2>/dev/null || true
    wait "$KME_PID" 2>/dev/null || true
    KME_PID=
}

# pqm_daemon_args SIDE: appends to the array CONF the `pqlab iked-conf` flags of a side's
# [daemon], [dataplane] and (when the KME exists) [qkd]. Inner networks: A 10.1.X.0/24, B
# 10.2.X.0/24 for X in $INNER_NETS (default "1").
pqm_daemon_args() {
    local side=$1 outer me peer_side x port=$KME_PORT_A
    if [ "$side" = a ]; then outer=$OUTER_A me=1 peer_side=2; else outer=$OUTER_B me=2 peer_side=1; fi
    CONF+=(--socket "$WORK/$side.sock" --listen "$outer" --log "${IKED_LOG:-info}")
    [ "$side" = a ] && [ -n "${KEY_LOG_A:-}" ] && CONF+=(--key-log "$KEY_LOG_A")
    CONF+=(--tun "$(pqm_stem)t$side" --mtu 1400 --encap "${ENCAP:-udp}")
    for x in ${INNER_NETS:-1}; do
        CONF+=(--address "10.$me.$x.1/24" --route "10.$peer_side.$x.0/24")
    done
    if [ -d "$WORK/kme" ]; then
        [ "$side" = b ] && port=$KME_PORT_B
        CONF+=(--qkd-url "https://127.0.0.1:$port" --qkd-sae "gw-$side" --qkd-ca kme/ca.pem
            --qkd-cert "kme/sae-gw-$side.pem" --qkd-key "kme/sae-gw-$side.key" --qkd-timeout 3s)
    fi
}

# pqm_conn_args SIDE NAME X PROPOSAL PPK [CONN_EXTRA] [CHILD_EXTRA]: appends to CONF a
# connection between the gateways for inner network X. A initiates (start_action none: `ikectl
# up`), B responds. PPK is "none", "static" or "qkd". Keys and PPK_IDs are derived from X, so
# both sides of pair X agree. The extras are TOML lines added to the connection and to its
# child. AUTH=pubkey uses the certificates of pqm_pki.
pqm_conn_args() {
    local side=$1 name=$2 x=$3 proposal=$4 ppk=$5 conn_extra=${6:-} child_extra=${7:-} me peer remote lnet rnet
    if [ "$side" = a ]; then
        me=a peer=b remote=$OUTER_B lnet="10.1.$x.0/24" rnet="10.2.$x.0/24"
    else
        me=b peer=a remote=$OUTER_A lnet="10.2.$x.0/24" rnet="10.1.$x.0/24"
    fi
    CONF+=(--conn "$name" --remote-addr "$remote" --proposal "$proposal")
    case "$ppk" in
        static) CONF+=(--ppk-id "pair$x-ppk" --ppk-required true
            --ppk-secret "$(printf 'pair%s-ppk' "$x" | sha256sum | cut -c1-64)") ;;
        qkd) CONF+=(--ppk-qkd "gw-$peer" --hybrid pqc+qkd) ;;
    esac
    [ -n "$conn_extra" ] && CONF+=(--conn-line "$conn_extra")
    CONF+=(--local-id "gw-$me-$x.example" --remote-id "gw-$peer-$x.example")
    if [ "${AUTH:-psk}" = pubkey ]; then
        CONF+=(--auth pubkey --cert "pki/gw-$me.pem" --key "pki/gw-$me.key" --cacert pki/ca.pem)
    else
        CONF+=(--psk "0x$(printf 'pair%s-psk' "$x" | sha256sum | cut -c1-64)"
            --psk-id "gw-$me-$x.example" --psk-id "gw-$peer-$x.example")
    fi
    CONF+=(--child net --local-ts "$lnet" --remote-ts "$rnet" --esp aes256gcm16)
    [ -n "$child_extra" ] && CONF+=(--child-line "$child_extra")
    return 0
}

# pqm_write_conf SIDE: writes $WORK/SIDE.toml from CONF (mode 0600) and empties CONF.
pqm_write_conf() {
    pqlab_iked_conf "$WORK/$1.toml" "${CONF[@]}"
    CONF=()
}

# pqm_pki X...: a test CA (Ed25519) and, for each gateway, an ECDSA P-256 certificate whose
# subjectAltNames are gw-SIDE-X.example for every inner network X, with its PKCS#8 key, in
# $WORK/pki (generated here: no private key is ever committed).
pqm_pki() {
    local d="$WORK/pki" side x sans
    mkdir -p "$d"
    openssl req -x509 -newkey ed25519 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 \
        -subj "/CN=pqike test CA" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$WORK/pki.log"
    for side in a b; do
        sans=""
        for x in "$@"; do sans+="DNS:gw-$side-$x.example,"; done
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/gw-$side.key" \
            -out "$d/gw-$side.csr" -subj "/CN=gw-$side/O=pqike test" 2>>"$WORK/pki.log"
        printf 'subjectAltName=%s\nkeyUsage=digitalSignature\n' "${sans%,}" >"$d/gw-$side.ext"
        openssl x509 -req -in "$d/gw-$side.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
            -days 2 -extfile "$d/gw-$side.ext" -out "$d/gw-$side.pem" 2>>"$WORK/pki.log"
    done
    chmod 600 "$d"/*.key
}

# pqm_iked_start SIDE BIN_DIR: starts iked in its namespace with $WORK/SIDE.toml and waits for
# its control socket.
pqm_iked_start() {
    local side=$1 bin=$2
    chmod 600 "$WORK/$side.toml"
    bg_ns "$side" "$bin/iked" --config "$WORK/$side.toml" 2>>"$WORK/$side.log" </dev/null >/dev/null
    IKED_PID[$side]=$BG_PID
    wait_until 10 "$bin/ikectl" --socket "$WORK/$side.sock" version ||
        { echo "iked $side did not start:" >&2; tail -20 "$WORK/$side.log" >&2; return 1; }
}

# pqm_iked_stop SIDE: SIGTERM and wait; fails if iked exits with an error.
pqm_iked_stop() {
    local side=$1 pid=${IKED_PID[$1]:-}
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    local rc=0
    wait "$pid" || rc=$?
    unset 'IKED_PID[$side]'
    return "$rc"
}

pqm_cleanup() {
    local side pid
    for side in "${!IKED_PID[@]}"; do
        kill -TERM "${IKED_PID[$side]}" 2>/dev/null || true
    done
    for side in "${!IKED_PID[@]}"; do
        wait "${IKED_PID[$side]}" 2>/dev/null || true
    done
    IKED_PID=()
    pqm_kme_stop
    for pid in "${PQM_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PQM_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    PQM_PIDS=()
    for side in a b k; do
        ip netns del "${P}$side" 2>/dev/null || true
    done
}

# tcp_transfer FROM_SIDE TO_ADDR [BIND_ADDR] [MB]: sends MB (default 32) MiB over TCP through
# the tunnel, checks every byte on arrival (pqlab transfer), prints the throughput in Mbit/s.
tcp_transfer() {
    local from=$1 to=$2 bind=${3:-} mb=${4:-32} to_side=b
    [ "$from" = b ] && to_side=a
    pqlab transfer --from "${P}$from" --to "${P}$to_side" --dst "$to" ${bind:+--src "$bind"} \
        --mib "$mb" --timeout-s 60
}
