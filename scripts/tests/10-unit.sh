#!/usr/bin/env bash
# Unit, simulation and known-answer tests with the default crypto provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
# The sans-IO crates (ikev2, esp, n3iwf) use no clock, socket, file, thread or async runtime.
bash scripts/dev/check-sans-io.sh
# The strongSwan lab tests run in section 60 (after the lab is built), not twice.
cargo test --workspace --release --exclude interop
# The crash handling through the binary, with the test-only fault hook compiled in.
cargo test --release -p iked --features fault-injection --test binary
