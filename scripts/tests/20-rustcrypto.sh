#!/usr/bin/env bash
# The same crypto and engine tests with the pure-Rust provider only (no C code), then with both
# providers compiled in so the cross-provider tests run.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --release -p ipsec-crypto -p ikev2 --no-default-features --features rustcrypto
cargo test --release -p ipsec-crypto -p ikev2 --all-features
