# Helpers sourced by the project's shell scripts (test sections, set-up, benchmarks).

# Prints a loud skip banner; sections call it when they need root and do not have it.
skip_loudly() {
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
    echo "!!! SKIPPED: $*"
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
}

is_root() {
    [ "$(id -u)" -eq 0 ]
}

# as_root SCRIPT ARGS...: returns when already root; otherwise re-executes SCRIPT with sudo
# (keeping PATH and the cargo/rustup homes, so the same toolchain builds), or explains what to
# do when this machine has no sudo. Call it as `as_root "$0" "$@"` before anything else.
as_root() {
    is_root && return 0
    local script=$1
    shift
    if command -v sudo >/dev/null 2>&1; then
        echo "$(basename "$script"): not root, re-running with sudo" >&2
        exec sudo env PATH="$PATH" CARGO_HOME="${CARGO_HOME:-$HOME/.cargo}" \
            RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}" \
            ${CARGO_TARGET_DIR:+CARGO_TARGET_DIR="$CARGO_TARGET_DIR"} \
            ${PQIKE_CACHE:+PQIKE_CACHE="$PQIKE_CACHE"} ${PQIO_RUNS:+PQIO_RUNS="$PQIO_RUNS"} \
            bash "$script" "$@"
    fi
    return 1
}

# need_root_tun_netns NAME WHY "$@": the start of a section that runs gateways in network
# namespaces. Re-runs the script as root (see as_root), or says loudly why NAME is skipped and
# returns 1. Usage: need_root_tun_netns 75-e2e-netns "network namespaces, ..." "$@" || exit 0
need_root_tun_netns() {
    local name=$1 why=$2
    shift 2
    if ! as_root "$0" "$@"; then
        skip_loudly "$name needs root ($why) and there is no sudo here"
        return 1
    fi
    if [ ! -c /dev/net/tun ] || ! ip netns list >/dev/null 2>&1; then
        skip_loudly "$name needs /dev/net/tun and ip netns"
        return 1
    fi
}

# no_root_hint SCRIPT: what to do without root and without sudo.
no_root_hint() {
    echo "$(basename "$1") needs root for this part, and this machine has no sudo: run it from a" \
        "root shell (su -), or install sudo (apt-get install sudo, as root)." >&2
}

# give_back_to_sudo_user PATH...: after a run through sudo, files that root created under
# PATH (cargo's target directory, its registry cache) belong to the user who ran sudo again.
give_back_to_sudo_user() {
    [ -n "${SUDO_UID:-}" ] && is_root || return 0
    local p
    for p in "$@"; do
        [ -e "$p" ] && chown -R --from=0:0 "$SUDO_UID:$SUDO_GID" "$p" 2>/dev/null
    done
    return 0
}

# Installs Debian packages once (idempotent); a no-op when they are all present.
apt_install() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if ! is_root; then
        echo "missing packages (need root to install): ${missing[*]}" >&2
        return 1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# wait_until SECONDS COMMAND...: polls COMMAND every 50 ms until it succeeds or time runs out.
wait_until() {
    local limit=$1 i
    shift
    for ((i = 0; i < limit * 20; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    return 1
}

# check NAME COMMAND...: runs one check of a test script, prints "ok" or "FAIL" with its name,
# and counts it in $passed or $failed (the script sets both to 0 first).
check() {
    local name=$1
    shift
    if "$@"; then
        echo "ok   - $name"
        passed=$((passed + 1))
    else
        echo "FAIL - $name"
        failed=$((failed + 1))
    fi
}
