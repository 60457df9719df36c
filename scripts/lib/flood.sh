# Helpers of scripts/bench-flood.sh, sourced after common.sh, lab.sh and gateways.sh (which
# provide namespaces a and b, iked start/stop, in_ns, bg_ns, wait_until). Needs root.
#
# Namespace ${P}f joins b through a second veth: b 10.252.0.2/24 and fd00:252::2/64, f
# 10.252.0.1/24 and fd00:252::1/64. f also holds the legitimate peers' addresses
# (10.252.0.11-14) and the fragment flood's (10.252.0.100-163). b routes everything it does not
# know into f, so answers to spoofed sources leave b and are dropped in f.

FLOOD_V4_SOURCES=198.18.0.0/15
FLOOD_V6_SOURCES=2001:db8:f000::/36
FLOOD_TARGET4=$OUTER_B
FLOOD_TARGET6=fd00:252::2
FLOOD_PSK="pqf legitimate peers' pre-shared key 0123456789"
# The peers in f offer another proposal than the tunnel's, so b answers them with connection
# "load" (iked does not select responder connections by remote_addrs).
LOAD_PROPOSAL=aes128gcm16-prfsha256-x25519-ke1_mlkem768
TUNNEL_PROPOSAL=aes256gcm16-prfsha384-x25519-ke1_mlkem768
FLOOD_PIDS=()
PHASES=()

flood_netns_up() {
    local s x f_addrs="10.252.0.1/24"
    s=$(pqm_stem)
    for x in 11 12 13 14 $(seq 100 163); do f_addrs+=",10.252.0.$x/24"; done
    pqlab netns add "${P}f"
    pqlab netns link "${P}b" "${s}fb" 10.252.0.2/24 "${P}f" "${s}ff" "$f_addrs"
    # pqlab makes namespaces without IPv6; the spoofed IPv6 flood needs it on this link
    # (`all` reaches the interfaces that exist now).
    ip netns exec "${P}f" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0
    ip netns exec "${P}b" sysctl -q -w net.ipv6.conf.all.disable_ipv6=0
    for x in all default "${s}fb"; do
        ip netns exec "${P}b" sysctl -q -w "net.ipv4.conf.$x.rp_filter=0"
    done
    ip -n "${P}b" addr add fd00:252::2/64 dev "${s}fb" nodad
    ip -n "${P}f" addr add fd00:252::1/64 dev "${s}ff" nodad
    ip -n "${P}f" route add "$OUTER_B/32" via 10.252.0.2
    ip -n "${P}b" route add default via 10.252.0.1
    ip -n "${P}b" -6 route add default via fd00:252::1
}

# flood_configs: a initiates net1 (its Child SA rekeys every 10 s and every REKEY_BYTES); b
# answers net1 and, for anyone with FLOOD_PSK, connection "load"; b's half-open byte budget.
# Both files come from `pqlab iked-conf` (gateways.sh).
flood_configs() {
    local rekey_bytes=512M
    [ "$SMOKE" = 1 ] && rekey_bytes=16M
    pqm_daemon_args a
    pqm_conn_args a net1 1 "$TUNNEL_PROPOSAL" none
    CONF+=(--child-rekey-time 10s --child-rand-time 2s --rekey-bytes "$rekey_bytes")
    pqm_write_conf a
    IKED_LOG=warn pqm_daemon_args b
    CONF+=(--listen 10.252.0.2 --listen "$FLOOD_TARGET6" --dp-local "$OUTER_B"
        --half-open-memory "$BUDGET")
    pqm_conn_args b net1 1 "$TUNNEL_PROPOSAL" none
    CONF+=(--conn load --proposal "$LOAD_PROPOSAL" --local-id responder.example
        --psk "$FLOOD_PSK" --child net --local-ts 10.2.0.0/16 --remote-ts 10.1.0.0/16
        --esp aes256gcm16)
    pqm_write_conf b
}

# bg_f COMMAND...: starts COMMAND in f in the background and records its PID.
bg_f() {
    bg_ns f "$@"
    FLOOD_PIDS+=("$BG_PID")
}

flood_stop_background() {
    local pid
    for pid in "${FLOOD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${FLOOD_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    FLOOD_PIDS=()
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# rss_sampler PID OUT STOPFILE: the peak RSS (KiB) of PID until STOPFILE exists; bounded to
# 10 minutes of 0.1 s samples.
rss_sampler() {
    local pid=$1 out=$2 stop=$3 peak=0 v i
    for ((i = 0; i < 6000; i++)); do
        v=$(rss_kib "$pid")
        [ "${v:-0}" -gt "$peak" ] && peak=$v
        [ -e "$stop" ] && break
        sleep 0.1
    done
    echo "$peak" >"$out"
}

# flood_start KIND NAME: the flooder of a phase, in the background.
flood_start() {
    local kind=$1 name=$2 out="$WORK/flood-$2.json"
    local common=(--count "$COUNT" --duration "$SECS" --label "$name")
    case "$kind" in
        spoof4) bg_f "$BIN/ike_flood" --mode spoof --target "$FLOOD_TARGET4:500" \
            --sources "$FLOOD_V4_SOURCES" --rate "$RATE" "${common[@]}" ;;
        spoof6) bg_f "$BIN/ike_flood" --mode spoof --target "[$FLOOD_TARGET6]:500" \
            --sources "$FLOOD_V6_SOURCES" --rate "$RATE" "${common[@]}" ;;
        spoof4500) bg_f "$BIN/ike_flood" --mode spoof --target "$FLOOD_TARGET4:4500" \
            --sources "$FLOOD_V4_SOURCES" --rate "$RATE" "${common[@]}" ;;
        frag)
            local locals=() x
            for x in $(seq 100 163); do locals+=(--local "10.252.0.$x"); done
            bg_f "$BIN/ike_flood" --mode frag --target "$FLOOD_TARGET4:500" "${locals[@]}" \
                --rate "$FRAG_RATE" --concurrency 64 --psk "$FLOOD_PSK" --proposal "$LOAD_PROPOSAL" \
                "${common[@]}" ;;
        *) return 0 ;;
    esac >"$out" 2>"$WORK/flood-$name.err"
    FLOOD_PID=$BG_PID
}

# iperf_tunnel SECONDS OUT: one TCP stream a -> b through the tunnel.
iperf_tunnel() {
    local secs=$1 out=$2
    bg_ns b iperf3 -s -1 -B 10.2.1.1 >/dev/null 2>&1
    local server=$BG_PID
    wait_until 5 in_ns b sh -c "ss -ltn | grep -q '10.2.1.1:5201 '" || true
    in_ns a timeout $((secs + 20)) iperf3 -c 10.2.1.1 -B 10.1.1.1 -t "$secs" -J >"$out" 2>/dev/null || true
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
}

child_spi() { ikectl a --json list-sas | jq -r '[.[] | select(.connection == "net1")][0].children[0].inbound_spi // ""'; }
b_stats() { ikectl b --json stats; }

# flood_phase NAME KIND: one bounded phase; its record goes to $WORK/phase-NAME.json.
flood_phase() {
    local name=$1 kind=$2 stop="$WORK/stop-$1" b_pid=${IKED_PID[b]}
    local rss0 spi0 soft0
    rss0=$(rss_kib "$b_pid")
    spi0=$(child_spi)
    soft0=$(ikectl a --json stats | jq -r '.daemon.child_sa_soft_lifetimes // 0')
    b_stats >"$WORK/stats0-$name.json"
    rm -f "$stop"
    rss_sampler "$b_pid" "$WORK/rss-$name" "$stop" &
    local sampler=$!
    FLOOD_PID=
    flood_start "$kind" "$name"
    local legit=()
    for x in 11 12 13 14; do legit+=(--local "10.252.0.$x"); done
    bg_f "$BIN/ike_load" --target "$FLOOD_TARGET4:500" "${legit[@]}" --count 100000 \
        --concurrency 4 --rate 20 --duration "$SECS" --grace 5 --psk "$FLOOD_PSK" \
        --proposal "$LOAD_PROPOSAL" \
        --label "legit-$name" >"$WORK/load-$name.json" 2>"$WORK/load-$name.err"
    local load_pid=$BG_PID
    iperf_tunnel "$SECS" "$WORK/iperf-$name.json"
    [ -n "$FLOOD_PID" ] && { wait "$FLOOD_PID" || true; }
    wait "$load_pid" || true
    touch "$stop"
    wait "$sampler" || true
    b_stats >"$WORK/stats1-$name.json"
    local spi1 soft1
    wait_until 5 test "$(ikectl a --json list-sas | jq '[.[] | select(.connection == "net1")][0].children | length')" = 1 || true
    spi1=$(child_spi)
    soft1=$(ikectl a --json stats | jq -r '.daemon.child_sa_soft_lifetimes // 0')
    phase_record "$name" "$kind" "$rss0" "$spi0" "$spi1" "$((soft1 - soft0))" >"$WORK/phase-$name.json"
    PHASES+=("$name")
    jq -c '{phase, flood_pps: .flood.rate_pps, tunnel_mbps, rss_growth_kib, legit: .legit.completed, rekeyed}' "$WORK/phase-$name.json"
}

# json_or_null FILE: the file's last line if it is JSON, else null.
json_or_null() {
    local v
    v=$(tail -1 "$1" 2>/dev/null | jq -c . 2>/dev/null) || v=
    echo "${v:-null}"
}

phase_record() {
    local name=$1 kind=$2 rss0=$3 spi0=$4 spi1=$5 soft=$6
    local mbps
    mbps=$(jq -r '.end.sum_received.bits_per_second // 0 | . / 1e6' "$WORK/iperf-$name.json" 2>/dev/null || echo 0)
    jq -n --arg phase "$name" --arg kind "$kind" \
        --argjson flood "$(json_or_null "$WORK/flood-$name.json")" \
        --argjson legit "$(json_or_null "$WORK/load-$name.json")" \
        --argjson mbps "$mbps" --argjson rss0 "$rss0" --argjson peak "$(cat "$WORK/rss-$name")" \
        --argjson s0 "$(b_counters "$WORK/stats0-$name.json")" \
        --argjson s1 "$(b_counters "$WORK/stats1-$name.json")" \
        --arg spi0 "$spi0" --arg spi1 "$spi1" --argjson soft "$soft" '
        {phase: $phase, kind: $kind, flood: $flood, legit: $legit, tunnel_mbps: $mbps,
         rss_before_kib: $rss0, rss_peak_kib: $peak, rss_growth_kib: ($peak - $rss0),
         counters: ($s1 | with_entries(.value -= ($s0[.key] // 0))),
         child_spi_before: $spi0, child_spi_after: $spi1,
         rekeyed: ($spi0 != $spi1 and $spi1 != ""), soft_lifetime_events: $soft}'
}

# b_counters FILE: b's engine counters that tell what the floods cost.
b_counters() {
    jq -c '.engine // {} | {cookies_sent, dropped_half_open_limit, dropped_half_open_memory,
        half_open_evicted, dropped_fragments, dropped_malformed, dropped_unknown_spi, ike_sas_established, ike_sas_failed,
        datagrams_received} | with_entries(.value //= 0)' "$1" 2>/dev/null || echo '{}'
}

flood_all_sent() {
    local n
    for n in "${PHASES[@]}"; do
        [ "$n" = baseline ] && continue
        [ "$(jq '.flood.sent // 0' "$WORK/phase-$n.json")" -gt 0 ] || return 1
    done
}

flood_all_legit() {
    local n
    for n in "${PHASES[@]}"; do
        [ "$(jq '.legit.completed // 0' "$WORK/phase-$n.json")" -gt 0 ] || return 1
    done
}

flood_rekeyed() { [ "$(jq '.rekeyed' "$WORK/phase-$1.json")" = true ]; }

# flood_within_budget PHASE: b's RSS grew by at most 1.5 times the budget plus 4 MiB
# (allocator slack, the legitimate SAs of the phase).
flood_within_budget() {
    local growth budget_kib
    growth=$(jq '.rss_growth_kib' "$WORK/phase-$1.json")
    budget_kib=$(budget_kib)
    [ "$growth" -le $((budget_kib * 3 / 2 + 4096)) ]
}

budget_kib() {
    local n=${BUDGET%[KMG]} u=${BUDGET##*[0-9]}
    case "$u" in K) echo "$n" ;; M) echo $((n * 1024)) ;; G) echo $((n * 1024 * 1024)) ;; *) echo $((n / 1024)) ;; esac
}

flood_json() {
    local files=() n
    for n in "${PHASES[@]}"; do files+=("$WORK/phase-$n.json"); done
    jq -s --arg date "$(date -u +%Y-%m-%dT%H:%MZ)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
        --argjson secs "$SECS" --argjson rate "$RATE" --argjson frag_rate "$FRAG_RATE" \
        --argjson budget_kib "$(budget_kib)" '
        {date: $date, commit: $commit, seconds_per_phase: $secs, spoof_rate_target: $rate,
         frag_rate_target: $frag_rate, half_open_budget_kib: $budget_kib,
         baseline_mbps: (.[] | select(.phase == "baseline") | .tunnel_mbps),
         phases: .}' "${files[@]}"
}

flood_summary() {
    local base
    base=$(jq '.tunnel_mbps' "$WORK/phase-baseline.json")
    printf '%-10s %12s %10s %9s %12s %14s %8s\n' phase flood_pps tunnel_Mb fraction rss_growth legit_done rekeyed
    local n
    for n in "${PHASES[@]}"; do
        jq -r --argjson base "$base" '[.phase, (.flood.rate_pps // 0), (.tunnel_mbps | floor),
            (if $base > 0 then (.tunnel_mbps / $base * 100 | floor / 100) else 0 end),
            "\(.rss_growth_kib) KiB", "\(.legit.completed // 0)/\(.legit.started // 0)", .rekeyed] | @tsv' \
            "$WORK/phase-$n.json" | awk -F'\t' '{ printf "%-10s %12s %10s %9s %12s %14s %8s\n", $1, $2, $3, $4, $5, $6, $7 }'
    done
    echo "half-open budget: $BUDGET"
}
