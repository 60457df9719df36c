#!/usr/bin/env bash
# Fuzzes every target in fuzz/ (the IKEv2 codec and engine, ESP, the configuration, control and
# QKD parsers, the NAS-5GS decoder of the 5G emulators, the N3IWF's EAP-5G, AN parameters,
# 3GPP notifies, NAS envelope, NGAP decoder and PDU session transfers, the user plane's GTP-U
# and GRE codecs and the dataplane's user-plane paths, and the N3IWF core driven by scripts of
# NGAP, EAP and NAS TCP inputs) for a bounded time with cargo-fuzz, starting from the committed
# seed corpus in fuzz/corpus/<target>/. Fails if any target crashes; crash inputs are kept in
# fuzz/artifacts/<target>/. Prints the executions of each target.
#
# FUZZ_SECONDS     time per engine target (default 20); the pure parsers, which run hundreds of
#                  thousands of inputs a second, get half of it
# FUZZ_SANITIZER   cargo-fuzz sanitizer (default none: the codec has no unsafe code, and without
#                  ASan a run executes several times more inputs; "address" also works)
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-20}
# Pure parsers: they reach their plateau within seconds.
quick=" ike_message payload_chain sa_proposals traffic_selectors proposal_strings control_proto"
quick+=" qkd_responses kme_requests cert_auth nas_5gs eap5g an_params notifies_3gpp"
quick+=" nas_envelope ngap_decode ngap_transfers gtpu gre user_plane "
sanitizer=${FUZZ_SANITIZER:-none}

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes unstable flags (-Zsanitizer, and more with some options). The toolchain is
# the pinned stable one (rust-toolchain.toml), so unlock them rather than require a nightly.
export RUSTC_BOOTSTRAP=1

opts=(--fuzz-dir fuzz --sanitizer "$sanitizer" --debug-assertions)
mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
[ ${#targets[@]} -gt 0 ] || { echo "no fuzz targets found" >&2; exit 1; }
# Build every target once, then run the binaries directly (cargo-fuzz's own `run` would rebuild).
cargo fuzz build "${opts[@]}"
bin_dir="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
for target in "${targets[@]}"; do
    # New inputs go to a scratch directory first, so the committed corpus stays as it is.
    mkdir -p "$work/$target" "fuzz/artifacts/$target" "fuzz/corpus/$target"
    log="$work/$target.log"
    status=ok
    limit=$seconds
    if [[ $quick == *" $target "* ]]; then
        limit=$(( (seconds + 1) / 2 ))
    fi
    if ! "$bin_dir/$target" -max_total_time="$limit" -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$target/" "$work/$target" "fuzz/corpus/$target" \
        >"$log" 2>&1; then
        status=CRASHED
        failed+=("$target")
        tail -n 40 "$log"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    echo "fuzz $target: ${runs:-unknown} executions in ${limit} s (${rate:-?}/s): $status"
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz targets that crashed: ${failed[*]} (inputs in fuzz/artifacts/)"
    exit 1
fi
echo "fuzz: ${#targets[@]} targets ran without a crash"
