#!/usr/bin/env bash
# Registration benchmark: UEs registering through one N3IWF (iked), with ue-sim as the load
# generator, in the four-namespace lab of scripts/lib/n3iwf-lab.sh (emulated AMF over usrsctp,
# KME simulator; hybrid X25519 + ML-KEM-768 and a QKD PPK per UE, NAS over TCP to REGISTRATION
# COMPLETE). Measures registrations per second, the N3IWF's CPU seconds per registration (utime
# + stime of iked from /proc), its memory per registered UE (RSS after N UEs are registered and
# held, minus RSS before), and p50/p90 per phase. Writes benches/results/registration.json.
#
#   scripts/bench-registration.sh [UES] [RATE] [CONCURRENCY]     # defaults: 200 100 32
#
# Root or sudo, like scripts/main-job.sh. Every loop is bounded: ue-sim gives each UE --timeout
# seconds and stops; the script waits at most for the whole run's bound.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/common.sh
. scripts/lib/lab.sh
. scripts/lib/n3iwf-lab.sh

UES=${1:-200}
RATE=${2:-100}
CONCURRENCY=${3:-32}
as_root "$0" "$@" || {
    skip_loudly "bench-registration needs root (network namespaces, raw IP sockets, TUN) and there is no sudo here"
    no_root_hint "$0"
    exit 0
}
n3lab_packages
n3lab_build
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
# One UDP socket per UE in ue-sim, one NAS TCP connection per UE in iked.
NOFILE=$((UES + 1024))
[ "$(ulimit -Hn)" = unlimited ] || [ "$NOFILE" -le "$(ulimit -Hn)" ] || NOFILE=$(ulimit -Hn)
ulimit -n "$NOFILE"

n3lab_session pqg

cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# All UEs share one outer address, and each takes one QKD key: the N3IWF's per-peer bound of
# KME requests and the KME's key pool are raised to fit the load.
N3LAB_KME_PER_PEER=$CONCURRENCY N3LAB_KME_POOL=$((UES + 100)) IKED_LOG=warn n3lab_up "$UES"
CPU0=$(cpu_seconds "$IKED_PID")
RSS0=$(rss_kib "$IKED_PID")
n3lab_ue_args
TIMEOUT=60
bg_ns ue "$WORK/ue.log" "$BIN/ue-sim" "${UE_ARGS[@]}" --ues "$UES" --rate "$RATE" \
    --concurrency "$CONCURRENCY" --timeout "$TIMEOUT" --tcp-buffer 2048 --json \
    --result-file "$WORK/ue.json" --hold
UE_PID=$BG_PID
BOUND=$(awk -v u="$UES" -v r="$RATE" -v t="$TIMEOUT" 'BEGIN { printf "%d", (r > 0 ? u / r : 0) + 2 * t + 30 }')
wait_until "$BOUND" test -s "$WORK/ue.json" || { echo "no result within $BOUND s: $(tail -5 "$WORK/ue.log")" >&2; exit 1; }
# The N3IWF's own count, once every NAS TCP connection is accounted for.
REGISTERED=$(jq '.summary.registered' "$WORK/ue.json")
wait_until 30 bash -c "[ \"\$('$BIN/ikectl' --socket '$WORK/iked.sock' list-ues --json | jq '[.[] | select(.state == \"registered\")] | length')\" -ge $REGISTERED ]" || true
CPU1=$(cpu_seconds "$IKED_PID")
RSS1=$(rss_kib "$IKED_PID")
ON_N3IWF=$(ikectl list-ues --json | jq '[.[] | select(.state == "registered")] | length')
AMF_P50=$(ikectl list-ues --json | jq '[.[] | .timings.amf_wait_micros] | sort | .[(length * 50 / 100 | ceil) - 1] / 1000')
AMF_P90=$(ikectl list-ues --json | jq '[.[] | .timings.amf_wait_micros] | sort | .[(length * 90 / 100 | ceil) - 1] / 1000')

jq --argjson cpu0 "$CPU0" --argjson cpu1 "$CPU1" --argjson rss0 "$RSS0" --argjson rss1 "$RSS1" \
    --argjson on "$ON_N3IWF" --argjson amf50 "$AMF_P50" --argjson amf90 "$AMF_P90" \
    --arg rate "$RATE" --arg conc "$CONCURRENCY" '{
    ues: .summary.ues, registered: .summary.registered, failed: .summary.failed,
    registered_on_n3iwf: $on, rate_asked: ($rate | tonumber), concurrency: ($conc | tonumber),
    wall_s: .summary.wall_s, registrations_per_s: .summary.registrations_per_s,
    n3iwf_cpu_s: ($cpu1 - $cpu0),
    n3iwf_cpu_ms_per_registration: (if .summary.registered > 0 then ($cpu1 - $cpu0) * 1000 / .summary.registered else null end),
    n3iwf_rss_kib_before: $rss0, n3iwf_rss_kib_after: $rss1,
    n3iwf_rss_kib_per_registered_ue: (if $on > 0 then ($rss1 - $rss0) / $on else null end),
    n3iwf_amf_wait_ms: { p50: $amf50, p90: $amf90 },
    phases: .summary.phases }' "$WORK/ue.json" >"$WORK/registration.json"
mkdir -p benches/results
cp "$WORK/registration.json" benches/results/registration.json
jq -r '"\(.registered) of \(.ues) UEs registered (\(.registered_on_n3iwf) registered on the N3IWF) in \(.wall_s | . * 100 | round / 100) s: \(.registrations_per_s | . * 10 | round / 10) registrations/s",
    "N3IWF CPU: \(.n3iwf_cpu_s) s, \(.n3iwf_cpu_ms_per_registration | . * 100 | round / 100) ms per registration",
    "N3IWF RSS: \(.n3iwf_rss_kib_before) KiB -> \(.n3iwf_rss_kib_after) KiB, \(.n3iwf_rss_kib_per_registered_ue | . * 10 | round / 10) KiB per registered UE",
    "N3IWF wait on the AMF per UE: p50 \(.n3iwf_amf_wait_ms.p50) ms, p90 \(.n3iwf_amf_wait_ms.p90) ms",
    (.phases[] | "  \(.phase | . + "                  " | .[0:18]) p50 \(.p50_ms | . * 100 | round / 100) ms  p90 \(.p90_ms | . * 100 | round / 100) ms")' \
    "$WORK/registration.json"
echo "raw: benches/results/registration.json"
[ "$(jq '.failed' "$WORK/registration.json")" = 0 ] || { jq -c '.failures[:5]' "$WORK/ue.json" >&2; exit 1; }
