#!/usr/bin/env bash
# Builds, once per machine, the Debian root filesystem that the interop lab runs strongSwan from.
#
#   interop/setup.sh [--rebuild]
#
# Result: $PQIKE_CACHE/strongswan-$SUITE -> strongswan-$SUITE-$VERSION/{rootfs/,stamp}
# (default cache /var/cache/pqike, default suite trixie). The stamp is written last, so a
# directory without one is incomplete; a run that finds a complete build of the current recipe
# does nothing. Builds happen in a temporary directory that is renamed into place.
#
# Suites:
#   trixie  strongSwan 6.0.1. Debian does not ship the `ml` plugin, so it is compiled from
#           Debian's own source package of the installed version (apt-get source), in a
#           throwaway copy of the root filesystem; only the plugin is kept.
#   sid     strongSwan 6.1.x, ML-KEM from the openssl plugin (OpenSSL >= 3.5). Moves daily.
#
# Environment: PQIKE_SS_SUITE (trixie|sid), PQIKE_CACHE, PQIKE_DEBIAN_MIRROR,
# PQIKE_DEBIAN_SECURITY_MIRROR (defaults: the Debian mirror configured in /etc/apt).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../scripts/lib.sh
source "$HERE/../scripts/lib.sh"

# Bump when the recipe changes what ends up in the root filesystem.
RECIPE=3
SUITE=${PQIKE_SS_SUITE:-trixie}
CACHE=${PQIKE_CACHE:-/var/cache/pqike}
LINK=$CACHE/strongswan-$SUITE
PACKAGES=(strongswan-charon strongswan-swanctl libstrongswan-extra-plugins libcharon-extra-plugins
    iproute2 iputils-ping netcat-openbsd tcpdump)
BUILD_PACKAGES=(gcc make pkg-config dpkg-dev libc6-dev)

REBUILD=no
case "${1:-}" in
    --rebuild) REBUILD=yes ;;
    "") ;;
    *) echo "usage: $0 [--rebuild]" >&2; exit 2 ;;
esac

case "$SUITE" in
    trixie) KE_PROVIDER=ml ;;
    sid) KE_PROVIDER=openssl ;;
    *) echo "unsupported suite '$SUITE' (trixie or sid)" >&2; exit 2 ;;
esac

if ! is_root; then
    echo "interop/setup.sh needs root (debootstrap, chroot, network namespaces)" >&2
    exit 1
fi

log() { echo "[setup $(date +%T)] $*"; }

# A complete build has a stamp of the current recipe and the files the lab uses.
complete() {
    local dir=$1
    [ -f "$dir/stamp" ] && grep -qx "recipe=$RECIPE" "$dir/stamp" &&
        [ -x "$dir/rootfs/usr/lib/ipsec/charon" ] && [ -x "$dir/rootfs/usr/sbin/swanctl" ] &&
        { [ "$KE_PROVIDER" != ml ] || [ -f "$dir/rootfs/usr/lib/ipsec/plugins/libstrongswan-ml.so" ]; }
}

if [ "$REBUILD" = no ] && complete "$LINK"; then
    log "reusing $(readlink -f "$LINK")"
    cat "$LINK/stamp"
    exit 0
fi

apt_install debootstrap iproute2 util-linux

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock-$SUITE"
if ! flock -w 900 9; then
    echo "timed out waiting for another interop/setup.sh" >&2
    exit 1
fi
# Another run may have finished while this one waited for the lock.
if [ "$REBUILD" = no ] && complete "$LINK"; then
    log "reusing $(readlink -f "$LINK") (built by a concurrent run)"
    cat "$LINK/stamp"
    exit 0
fi

# The Debian mirror configured on this machine (one-line and deb822 formats).
find_mirror() {
    local want=$1 files=() f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    {
        grep -h -E '^[[:space:]]*deb[[:space:]]' "${files[@]}" | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
        grep -h -i -E '^[[:space:]]*URIs:' "${files[@]}" | sed -E 's/^[^:]*:[[:space:]]*//' | tr ' ' '\n'
    } | sed -E 's:/+$::' | grep -E "/${want}\$" | head -n1
}
MIRROR=${PQIKE_DEBIAN_MIRROR:-$(find_mirror debian)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${PQIKE_DEBIAN_SECURITY_MIRROR:-$(find_mirror debian-security)}
SECURITY_MIRROR=${SECURITY_MIRROR:-${MIRROR%/debian}/debian-security}

# Left over by an interrupted run (the lock is held, so no other run owns them).
rm -rf "$CACHE"/.build-"$SUITE".*

START=$(date +%s)
WORK=$(mktemp -d "$CACHE/.build-$SUITE.XXXXXX")
cleanup() {
    local m
    # Mounts live in private mount namespaces; this only catches anything left behind.
    for m in $(awk -v w="$WORK" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

ROOT=$WORK/rootfs
# Runs a shell script inside a root filesystem with its own /proc, in a private mount namespace.
in_root() {
    local root=$1
    shift
    unshare -m --propagation private -- sh -c \
        'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i \
            PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
            DEBIAN_FRONTEND=noninteractive sh -euc "$1"' "$root" "$1"
}

log "debootstrap $SUITE from $MIRROR"
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 || {
    tail -n 30 "$WORK/debootstrap.log" >&2
    exit 1
}

{
    echo "deb $MIRROR $SUITE main"
    if [ "$SUITE" = trixie ]; then
        echo "deb $MIRROR $SUITE-updates main"
        echo "deb $SECURITY_MIRROR $SUITE-security main"
    fi
} >"$ROOT/etc/apt/sources.list"
# The mirror is used under this machine's own apt policy: where the host accepts expired
# Release files (a frozen mirror or snapshot), so does the root filesystem.
if apt-config dump Acquire::Check-Valid-Until 2>/dev/null | grep -qi '"false"'; then
    echo 'Acquire::Check-Valid-Until "false";' >"$ROOT/etc/apt/apt.conf.d/99pqike-mirror"
fi
# No service is ever started by package scripts inside the root filesystem.
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"

log "installing ${PACKAGES[*]}"
in_root "$ROOT" "apt-get update -qq && apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends ${PACKAGES[*]} && apt-get -y -qq upgrade" \
    >"$WORK/install.log" 2>&1 || {
    tail -n 30 "$WORK/install.log" >&2
    exit 1
}
VERSION=$(chroot "$ROOT" dpkg-query -W -f='${Version}' libstrongswan)
OPENSSL_VERSION=$(chroot "$ROOT" dpkg-query -W -f='${Version}' libssl3t64 2>/dev/null || echo unknown)
log "strongSwan $VERSION, OpenSSL $OPENSSL_VERSION"

if [ "$KE_PROVIDER" = ml ]; then
    # Only the plugin is compiled, from the source package of exactly the installed version;
    # the compiler stays in the throwaway copy.
    log "building the ml plugin from Debian source strongswan $VERSION"
    BUILD=$WORK/buildroot
    cp -a "$ROOT" "$BUILD"
    sed -n 's/^deb /deb-src /p' "$ROOT/etc/apt/sources.list" >>"$BUILD/etc/apt/sources.list"
    in_root "$BUILD" "
        apt-get update -qq
        apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends ${BUILD_PACKAGES[*]} >/dev/null
        mkdir -p /build && cd /build
        apt-get source -qq -o APT::Sandbox::User=root --download-only strongswan=$VERSION >/dev/null
        dpkg-source -x --no-check strongswan_*.dsc src >/dev/null
        cd src
        # The Debian patches touch Makefile.am files; keep the shipped autotools output.
        find . \\( -name Makefile.am -o -name configure.ac -o -path './m4/*' \\) -exec touch -d 2000-01-01 {} +
        export CFLAGS=\"\$(dpkg-buildflags --get CFLAGS)\" LDFLAGS=\"\$(dpkg-buildflags --get LDFLAGS)\"
        ./configure -q --disable-defaults --enable-ml >/build/configure.log 2>&1 || { tail -n 20 /build/configure.log; exit 1; }
        make -s -C src/libstrongswan/plugins/ml >/build/make.log 2>&1 || { tail -n 20 /build/make.log; exit 1; }
    " >"$WORK/build.log" 2>&1 || {
        tail -n 30 "$WORK/build.log" >&2
        exit 1
    }
    install -m 644 "$BUILD/build/src/src/libstrongswan/plugins/ml/.libs/libstrongswan-ml.so" \
        "$ROOT/usr/lib/ipsec/plugins/libstrongswan-ml.so"
    printf 'ml {\n    load = yes\n}\n' >"$ROOT/etc/strongswan.d/charon/ml.conf"
    rm -rf "$BUILD"
fi

# Trim what the lab never reads.
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/cache/apt/*.bin "$ROOT"/var/cache/apt/archives/*.deb \
    "$ROOT"/usr/share/doc/* "$ROOT"/usr/share/man/* "$ROOT"/usr/share/info/*

# Self-check: start charon in a throwaway network namespace and ask it for its algorithms.
log "checking that charon offers ML-KEM"
PLUGINS="random nonce drbg test-vectors"
[ "$KE_PROVIDER" = ml ] && PLUGINS="$PLUGINS ml"
PLUGINS="$PLUGINS openssl aes sha1 sha2 hmac kdf curve25519 pem pkcs1 pkcs8 pubkey x509 kernel-libipsec kernel-netlink socket-default vici"
CHECK=$WORK/check
mkdir -p "$CHECK"
cat >"$CHECK/strongswan.conf" <<EOF
charon {
    load = $PLUGINS
    filelog {
        log {
            path = /run/charon.log
            flush_line = yes
            default = 1
        }
    }
}
libstrongswan {
    crypto_test {
        on_add = yes
    }
}
EOF
unshare -n -m --propagation private -- sh -c '
    root=$0; run=$1
    mount -t proc proc "$root/proc"
    mount --bind /dev "$root/dev"
    mount --bind "$run" "$root/run"
    STRONGSWAN_CONF=/run/strongswan.conf chroot "$root" /usr/lib/ipsec/charon >/dev/null 2>&1 &
    pid=$!
    i=0
    while [ ! -S "$run/charon.vici" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
    STRONGSWAN_CONF=/run/strongswan.conf chroot "$root" swanctl --list-algs >"$run/algs.txt" 2>&1 || true
    kill "$pid"
    wait "$pid" || true
' "$ROOT" "$CHECK"
if ! grep -q "ML_KEM_768\[$KE_PROVIDER\]" "$CHECK/algs.txt"; then
    echo "charon from $SUITE does not offer ML_KEM_768[$KE_PROVIDER]:" >&2
    cat "$CHECK/algs.txt" "$CHECK/charon.log" >&2 || true
    exit 1
fi
CHARON_VERSION=$(sed -n 's/.*Starting IKE charon daemon (strongSwan \([^,]*\),.*/\1/p' "$CHECK/charon.log" | head -n1)
KEMS=$(grep -o "ML_KEM_[0-9]*\[$KE_PROVIDER\]" "$CHECK/algs.txt" | awk '!seen[$0]++' | tr '\n' ' ')

NAME=strongswan-$SUITE-$VERSION
DEST=$CACHE/$NAME
mkdir -p "$WORK/out"
mv "$ROOT" "$WORK/out/rootfs"
cat >"$WORK/out/stamp" <<EOF
recipe=$RECIPE
suite=$SUITE
package_version=$VERSION
strongswan_version=$CHARON_VERSION
openssl_version=$OPENSSL_VERSION
ke_provider=$KE_PROVIDER
kems=${KEMS% }
mirror=$MIRROR
built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$(($(date +%s) - START))
EOF
rm -rf "$DEST"
mv "$WORK/out" "$DEST"
ln -sfn "$NAME" "$CACHE/.link-$SUITE"
mv -T "$CACHE/.link-$SUITE" "$LINK"
# Older builds of this suite are no longer referenced.
for old in "$CACHE"/strongswan-"$SUITE"-*; do
    [ "$old" = "$DEST" ] || rm -rf "$old"
done
log "built $DEST in $(($(date +%s) - START)) s ($(du -sh "$DEST" | cut -f1))"
cat "$DEST/stamp"
