#!/usr/bin/env bash
# The whole benchmark suite in one command (not a test). Writes raw results as JSON under
# benches/results/ and regenerates docs/benchmarks.md and the plots in docs/benchmarks/.
#
#   scripts/bench-all.sh            # everything, about 20 minutes on a 2-core machine
#   scripts/bench-all.sh --quick    # a few minutes: fewer scenarios, runs and handshakes
# Run as root, or as a user with sudo (it re-runs itself with sudo).
#
# Sections: CPU per exchange in memory (criterion, both crypto providers); phase timings on the
# wire in the interop lab (iked <-> iked, strongSwan <-> strongSwan, iked <-> strongSwan);
# handshake rate (ike_load against iked and against charon); memory and time of 100k SAs
# (sa_scale); datapath throughput (scripts/bench-datapath.sh); a tunnel and legitimate peers
# under IKE floods (scripts/bench-flood.sh). Without root, or without the
# strongSwan lab (interop/setup.sh), the lab sections are skipped loudly and the report says
# "not measured" for them. A section that fails leaves its old JSON out of the report.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/common.sh

QUICK=0
for a in "$@"; do
    case "$a" in
        --quick) QUICK=1 ;;
        -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "unknown argument $a" >&2; exit 2 ;;
    esac
done

# The lab sections need root: re-run with sudo when there is one (else they are skipped below).
as_root "$0" "$@" || true

RESULTS=benches/results
DOCS=docs/benchmarks.md
SVG=docs/benchmarks
TARGET=${CARGO_TARGET_DIR:-target}
BIN=$PWD/$TARGET/release
WORK=$(mktemp -d /tmp/pqb-bench.XXXXXX)
trap 'rm -rf "$WORK"; give_back_to_sudo_user "$TARGET" "${CARGO_HOME:-}"' EXIT
mkdir -p "$RESULTS" "$SVG"

if [ "$QUICK" = 1 ]; then
    WIRE_RUNS=5 LOAD_BURST=0 LOAD_COUNT=5000 LOAD_SECS=3 SCALE_SIZES="10000" DATAPATH="" CPU_MS=800 FLOOD_SECS=5
else
    WIRE_RUNS=30 LOAD_BURST=5000 LOAD_COUNT=200000 LOAD_SECS=10 SCALE_SIZES="10000 100000" DATAPATH="3 10" CPU_MS=4000 FLOOD_SECS=15
fi
LOAD_CONCURRENCY=64
LOAD_SOURCES=16

step() { echo; echo "=== $* ($(date -u +%H:%M:%S))"; }
# fresh NAME: the result file NAME is rewritten by this run (an old one would mislead).
fresh() { rm -f "$RESULTS/$1"; }

step "build (release profile)"
cargo build --release -p benches --features rustcrypto --bin bench_report --bin lab_bench --bin ike_load
# sa_scale is optional: without it the scale section says "not measured".
cargo build --release -p benches --bin sa_scale || echo "sa_scale did not build" >&2
cargo build --release -p iked -p ikectl -p interop -p qkd-kme-sim --bins

"$BIN/bench_report" machine "$RESULTS/machine.json" --date "$(date -u +%Y-%m-%d)" \
    --commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo '+changes')" \
    --rustc "$(rustc --version)"

step "CPU per exchange, in memory (criterion)"
fresh cpu.json
quick_env=()
[ "$QUICK" = 1 ] && quick_env=(PQB_QUICK=1)
env "${quick_env[@]}" PQB_WALL_PER_BENCH_MS="$CPU_MS" CRITERION_HOME="$WORK/criterion" \
    cargo bench -p benches --features rustcrypto --bench exchanges -- --noplot 2>&1 |
    grep -E '^[a-z].*(initiator|responder)/|time:' || true
"$BIN/bench_report" criterion "$WORK/criterion" "$RESULTS/cpu.json"

LAB=1
if ! is_root; then
    skip_loudly "bench-all: the wire, load and datapath sections need root (network namespaces)"
    LAB=0
fi

if [ "$LAB" = 1 ]; then
    step "phase timings on the wire ($WIRE_RUNS initiations per pair)"
    fresh wire.json
    "$BIN/lab_bench" wire --runs "$WIRE_RUNS" --out "$RESULTS/wire.json" || echo "wire section failed" >&2

    step "handshake rate (ike_load, up to $LOAD_COUNT handshakes or ${LOAD_SECS}s per responder)"
    fresh load.json
    "$BIN/lab_bench" load --count "$LOAD_COUNT" --duration "$LOAD_SECS" \
        --concurrency "$LOAD_CONCURRENCY" --sources "$LOAD_SOURCES" --burst "$LOAD_BURST" --out "$RESULTS/load.json" ||
        echo "load section failed" >&2
fi

step "scale (sa_scale)"
fresh scale.json
if [ -f benches/src/bin/sa_scale.rs ] && [ -x "$BIN/sa_scale" ]; then
    lines=()
    for n in $SCALE_SIZES; do
        if line=$(timeout 600 "$BIN/sa_scale" "$n" | tail -1) && [ -n "$line" ]; then
            lines+=("$line")
        else
            echo "sa_scale $n failed" >&2
        fi
    done
    if [ "${#lines[@]}" -gt 0 ]; then
        (IFS=,; printf '{"runs":[%s]}\n' "${lines[*]}") >"$RESULTS/scale.json"
    fi
else
    echo "sa_scale is not built: the report says 'not measured'"
fi

step "datapath throughput"
if [ "$LAB" = 1 ] && [ -n "$DATAPATH" ]; then
    # shellcheck disable=SC2086 # ROUNDS SECONDS
    bash scripts/bench-datapath.sh $DATAPATH || echo "datapath section failed; keeping the last RESULTS.md" >&2
else
    echo "not rerun (--quick or no root): the report uses benches/datapath/RESULTS.md as it is"
fi
"$BIN/bench_report" datapath benches/datapath/RESULTS.md "$RESULTS/datapath.json"

step "under flood (bench-flood.sh, ${FLOOD_SECS}s per phase)"
if [ "$LAB" = 1 ]; then
    fresh flood.json
    FLOOD_SECS=$FLOOD_SECS bash scripts/bench-flood.sh --out "$RESULTS/flood.json" ||
        echo "flood section: a check failed (the figures are kept)" >&2
else
    echo "not rerun (no root): the report uses the last flood.json"
fi

step "report"
"$BIN/bench_report" render "$RESULTS" "$DOCS" "$SVG"
echo "wrote $DOCS, $SVG/*.svg and $RESULTS/*.json"
sed -n '/^## Targets/,/^## CPU/p' "$DOCS" | sed '$d'
