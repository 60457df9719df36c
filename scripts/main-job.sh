#!/usr/bin/env bash
# The main job on its embedded default: a hybrid X25519 + ML-KEM-768 tunnel keyed with a PPK,
# with phase timings. Today it runs the two IKEv2 endpoints in memory; the namespace version
# with the daemon on both sides replaces it when the daemon lands.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -p benches --bin main_job
