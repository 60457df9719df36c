#!/usr/bin/env bash
# Unit, simulation and known-answer tests with the default crypto provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo test --workspace --release
