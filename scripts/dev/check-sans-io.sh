#!/usr/bin/env bash
# Checks the sans-IO rule of ikev2, esp, n3iwf and userplane (ARCHITECTURE.md): their libraries
# read no clock, open no socket or file, start no thread or process and link no async runtime.
#
# 1. The clippy.toml files that list what is forbidden are the same file.
# 2. No async runtime, socket or OS-interface crate is in their normal dependency trees.
# 3. clippy denies every call and type those files list, in the libraries (tests may start their
#    virtual clocks from Instant::now(), so test targets are not checked), and printing.
#
# Runs in the release profile so that it shares build-script outputs with `cargo test --release`.
set -euo pipefail
cd "$(dirname "$0")/../.."

crates=(ikev2 esp n3iwf userplane)
status=0

for c in "${crates[@]:1}"; do
    if ! cmp -s ikev2/clippy.toml "$c/clippy.toml"; then
        echo "sans-IO: $c/clippy.toml differs from ikev2/clippy.toml (keep them identical)" >&2
        status=1
    fi
done

forbidden='^(tokio|mio|async-std|async-io|async-net|smol|socket2|nix|tun|tun-rs|ipsec-sys|dataplane) '
for c in "${crates[@]}"; do
    if found=$(cargo tree -p "$c" -e normal --prefix none | grep -E "$forbidden" | sort -u) &&
        [ -n "$found" ]; then
        echo "sans-IO: $c depends on: $(echo "$found" | cut -d' ' -f1 | tr '\n' ' ')" >&2
        status=1
    fi
done

packages=()
for c in "${crates[@]}"; do packages+=(-p "$c"); done
if ! cargo clippy --release --quiet "${packages[@]}" --lib -- \
    -D clippy::disallowed_methods -D clippy::disallowed_types \
    -D clippy::print_stdout -D clippy::print_stderr -D clippy::dbg_macro; then
    echo "sans-IO: a library above uses a clock, socket, file, thread, process or tokio" >&2
    status=1
fi

[ "$status" -eq 0 ] && echo "sans-IO: ${crates[*]}: no clock, socket, file, thread or runtime"
exit "$status"
