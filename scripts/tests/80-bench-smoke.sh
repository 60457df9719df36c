#!/usr/bin/env bash
# Smoke check of the handshake-rate load generator, so that it keeps working between benchmark
# runs: `ike_load` in one network namespace makes 50 hybrid (X25519 + ML-KEM-768, PSK)
# handshakes against `iked` in another, 8 at a time from 4 source addresses, and all 50 must
# complete, as ike_load reports them and as iked lists them. Then the flood benchmark in its
# short form (scripts/bench-flood.sh --smoke, a few seconds per phase): every flood is sent,
# iked survives, legitimate peers still connect, the tunnel rekeys during the flood on 4500 and
# b's memory stays within its half-open budget. Correctness only: no timing is asserted (the
# figures come from scripts/bench-all.sh). Needs root; without it, skips loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

as_root "$0" "$@" || {
    skip_loudly "80-bench-smoke needs root (network namespaces, UDP port 500) and there is no sudo here"
    exit 0
}
if ! ip netns list >/dev/null 2>&1; then
    skip_loudly "80-bench-smoke needs ip netns"
    exit 0
fi
apt_install iproute2 jq

N=50
cargo build --release -q -p iked -p ikectl -p benches --bin iked --bin ikectl --bin ike_load
BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
pqlab_build

P="pqb-smoke-$$-"
STEM="pqb$(printf '%s' "$$" | tail -c 7)"
WORK=$(mktemp -d /tmp/pqb-smoke.XXXXXX)
IKED_PID=
cleanup() {
    if [ -n "$IKED_PID" ]; then
        kill -TERM "$IKED_PID" 2>/dev/null || true
        wait "$IKED_PID" 2>/dev/null || true
    fi
    ip netns del "${P}i" 2>/dev/null || true
    ip netns del "${P}r" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOCALS=()
ADDRS=""
for x in 11 12 13 14; do
    ADDRS+="10.251.0.$x/24,"
    LOCALS+=(--local "10.251.0.$x")
done
pqlab netns add "${P}i" "${P}r"
pqlab netns link "${P}i" "${STEM}i" "$ADDRS" "${P}r" "${STEM}r" 10.251.0.2/24

PSK="pqb smoke pre-shared key 0123456789"
pqlab_iked_conf "$WORK/iked.toml" --socket "$WORK/iked.sock" --listen 10.251.0.2 --log warn \
    --conn load --proposal aes256gcm16-prfsha384-x25519-ke1_mlkem768 --local-id responder.example \
    --psk "$PSK" --child net --local-ts 10.2.0.0/16 --remote-ts 10.1.0.0/16 --esp aes256gcm16
nsenter "--net=/run/netns/${P}r" -- "$BIN/iked" --config "$WORK/iked.toml" 2>"$WORK/iked.log" </dev/null >/dev/null &
IKED_PID=$!
ikectl() { "$BIN/ikectl" --socket "$WORK/iked.sock" "$@"; }
ready=0
for _ in $(seq 200); do # bounded: 10 s
    if ikectl version >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.05
done
if [ "$ready" != 1 ]; then
    echo "FAIL - iked did not start:"; tail -20 "$WORK/iked.log"; exit 1
fi

passed=0
failed=0

rc=0
ip netns exec "${P}i" "$BIN/ike_load" --target 10.251.0.2:500 "${LOCALS[@]}" --count "$N" \
    --concurrency 8 --duration 60 --grace 10 --psk "$PSK" --responder-pid "$IKED_PID" \
    --label smoke --require-all >"$WORK/load.json" 2>"$WORK/load.err" || rc=$?
cat "$WORK/load.json"
sed 's/^/     /' "$WORK/load.err"
field() { jq -r ".$1" "$WORK/load.json"; }
responder_sas() { [ "$(ikectl --json list-sas | jq '[.[] | select(.state == "established" and (.children | length) == 1)] | length')" = "$N" ]; }
check "ike_load exits 0 (--require-all)" test "$rc" = 0
check "ike_load started $N and completed $N handshakes" test "$(field started) $(field completed)" = "$N $N"
check "ike_load saw no failed handshake" test "$(field failed)" = 0
# The daemon records an SA after its last message left, so the listing may trail ike_load a little.
check "iked lists $N established IKE SAs, each with its Child SA" wait_until 5 responder_sas
check "ike_load measured the responder's CPU" test "$(field responder_cpu_s)" != null

if [ "$failed" -ne 0 ]; then
    echo "--- iked.log (last 30 lines)"; tail -30 "$WORK/iked.log"
fi

echo "--- flood benchmark, short form"
check "bench-flood.sh --smoke passes its checks" bash scripts/bench-flood.sh --smoke
echo "80-bench-smoke: $failed failed"
[ "$failed" -eq 0 ]
