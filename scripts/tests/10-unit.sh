#!/usr/bin/env bash
# Unit, simulation and known-answer tests with the default crypto provider.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/common.sh

# n2-transport loads usrsctp (libusrsctp.so.2) at run time; its tests and the N3IWF's (iked,
# ikectl) need the library, and with N2_REQUIRE_USRSCTP set they fail, naming the package,
# instead of skipping without it.
if apt_install libusrsctp2; then
    export N2_REQUIRE_USRSCTP=1
elif is_root; then
    echo "10-unit: libusrsctp2 could not be installed from the Debian mirror (see above); the" \
        "usrsctp tests of n2-transport will fail" >&2
    export N2_REQUIRE_USRSCTP=1
else
    skip_loudly "libusrsctp2 is not installed and this is not root: the usrsctp tests of n2-transport skip"
fi

# The UPF emulator's N6 TUN test (fiveg-emu/tests/upf_sim_tun.rs) needs root; as root it must
# run rather than skip.
if is_root; then
    export UPF_REQUIRE_TUN=1
fi

# The sans-IO crates (ikev2, esp, n3iwf, userplane) use no clock, socket, file, thread or async runtime.
bash scripts/dev/check-sans-io.sh
# The strongSwan lab tests run in section 60 (after the lab is built), not twice.
cargo test --workspace --release --exclude interop
# The crash handling through the binary, with the test-only fault hook compiled in.
cargo test --release -p iked --features fault-injection --test binary
