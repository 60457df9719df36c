#!/usr/bin/env bash
# Unit, simulation and known-answer tests with the default crypto provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The strongSwan lab tests run in section 60 (after the lab is built), not twice.
cargo test --workspace --release --exclude interop
# The crash handling through the binary, with the test-only fault hook compiled in.
cargo test --release -p iked --features fault-injection --test binary
