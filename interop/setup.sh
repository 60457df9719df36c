#!/usr/bin/env bash
# Builds, once per machine, the strongSwan peers of the interop lab as podman images.
#
#   interop/setup.sh [--rebuild] [PEER...]     PEER: trixie, sid (default: both)
#
# trixie  strongSwan 6.0.1 from Debian trixie(-security). Debian does not ship the `ml` plugin,
#         so it is compiled from Debian's own source package of exactly the installed version,
#         fetched from whichever suite carries it, in a throwaway copy of the root filesystem.
# sid     strongSwan 6.1 from Debian sid; ML-KEM comes from the openssl plugin (OpenSSL >= 3.5).
#
# Per peer: $PQIKE_CACHE/strongswan-PEER -> strongswan-PEER-VERSION/{rootfs/,stamp} (default
# cache /var/cache/pqike) and the image localhost/pqike-strongswan:PEER (also tagged with the
# package version). Each image is checked by starting charon in a container inside a throwaway
# network namespace and asking `swanctl --list-algs` for ML-KEM. The stamp is written last; a
# run that finds a complete build of the current recipe and its image does nothing. Runs as
# root; re-runs itself with sudo otherwise.
#
# Environment: PQIKE_SS_PEERS (default "trixie sid"), PQIKE_CACHE, PQIKE_DEBIAN_MIRROR and
# PQIKE_DEBIAN_SECURITY_MIRROR (tried first; then the mirrors configured in /etc/apt, then
# deb.debian.org).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../scripts/lib/common.sh
source "$HERE/../scripts/lib/common.sh"
as_root "$0" "$@" || { no_root_hint "$0"; exit 1; }
# shellcheck source=../scripts/lib/podman.sh
source "$HERE/../scripts/lib/podman.sh"
# shellcheck source=lib/debian.sh
source "$HERE/lib/debian.sh"

# Bump when the recipe changes what ends up in a root filesystem or image.
RECIPE=4
CACHE=${PQIKE_CACHE:-/var/cache/pqike}
IMAGE_REPO=localhost/pqike-strongswan
PACKAGES=(strongswan-charon strongswan-swanctl libstrongswan-extra-plugins libcharon-extra-plugins)

REBUILD=no
PEERS=()
for a in "$@"; do
    case "$a" in
        --rebuild) REBUILD=yes ;;
        trixie | sid) PEERS+=("$a") ;;
        -h | --help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "usage: $0 [--rebuild] [trixie] [sid]" >&2; exit 2 ;;
    esac
done
[ ${#PEERS[@]} -gt 0 ] || read -r -a PEERS <<<"${PQIKE_SS_PEERS:-trixie sid}"

log() { echo "[setup $(date +%T)] $*"; }
die() { echo "interop/setup.sh: $*" >&2; exit 1; }

ke_provider() { case "$1" in trixie) echo ml ;; *) echo openssl ;; esac; }

# stamp_get DIR KEY
stamp_get() { sed -n "s/^$2=//p" "$1/stamp" 2>/dev/null | head -n1; }

# A complete build: a stamp of the current recipe, the files the lab uses, and its image.
rootfs_complete() {
    local dir=$1 suite=$2
    [ -f "$dir/stamp" ] && grep -qx "recipe=$RECIPE" "$dir/stamp" &&
        [ -x "$dir/rootfs/usr/lib/ipsec/charon" ] && [ -x "$dir/rootfs/usr/sbin/swanctl" ] &&
        { [ "$(ke_provider "$suite")" != ml ] || [ -f "$dir/rootfs/usr/lib/ipsec/plugins/libstrongswan-ml.so" ]; }
}
image_present() { pq_podman image exists "$(stamp_get "$1" image)" 2>/dev/null; }

# build_rootfs SUITE ROOT: debootstrap and the strongSwan packages, trying each mirror.
build_rootfs() {
    local suite=$1 root=$2 mirror tried=()
    for mirror in "${MIRRORS[@]}"; do
        rm -rf "$root"
        log "$suite: debootstrap from $mirror"
        if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1; then
            tried+=("debootstrap $suite from $mirror: $(grep -E 'E:|W: Failure' "$WORK/debootstrap.log" | tail -n1)")
            log "$suite: ${tried[-1]}; trying the next mirror"
            continue
        fi
        write_sources "$root" "$suite" deb
        prepare_apt "$root"
        log "$suite: installing ${PACKAGES[*]}"
        if in_root "$root" "$(apt_cmd) update && $(apt_cmd) install -y --no-install-recommends ${PACKAGES[*]} && $(apt_cmd) -y upgrade" \
            >"$WORK/install.log" 2>&1; then
            USED_MIRROR=$mirror
            return 0
        fi
        tried+=("apt-get install in $suite from $mirror: $(grep -E '^(E|Err):' "$WORK/install.log" | tail -n2 | tr '\n' ' ')")
        log "$suite: ${tried[-1]}; trying the next mirror"
    done
    printf '  %s\n' "${tried[@]}" >&2
    tail -n 20 "$WORK/install.log" "$WORK/debootstrap.log" 2>/dev/null >&2 || true
    die "could not build a $suite root filesystem with strongSwan from any mirror (tried: ${MIRRORS[*]})"
}

# build_ml_plugin ROOT VERSION: compiles only the ml plugin from the source package of exactly
# VERSION in a throwaway copy of ROOT; the compiler never enters ROOT.
build_ml_plugin() {
    local root=$1 version=$2 build=$WORK/buildroot
    log "trixie: building the ml plugin from Debian's source of strongswan $version"
    cp -a "$root" "$build"
    in_root "$build" "$(apt_cmd) install -y --no-install-recommends gcc make pkg-config dpkg-dev libc6-dev" \
        >"$WORK/build-deps.log" 2>&1 || { tail -n 20 "$WORK/build-deps.log" >&2; die "installing the compiler in the build copy failed"; }
    fetch_source "$build" trixie strongswan "$version" /build
    in_root "$build" '
        cd /build
        dpkg-source -x --no-check strongswan_*.dsc src >/dev/null
        cd src
        # The Debian patches touch Makefile.am files; keep the shipped autotools output.
        find . \( -name Makefile.am -o -name configure.ac -o -path "./m4/*" \) -exec touch -d 2000-01-01 {} +
        export CFLAGS="$(dpkg-buildflags --get CFLAGS)" LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
        ./configure -q --disable-defaults --enable-ml >/build/configure.log 2>&1 || { tail -n 20 /build/configure.log; exit 1; }
        make -s -C src/libstrongswan/plugins/ml >/build/make.log 2>&1 || { tail -n 20 /build/make.log; exit 1; }
    ' >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; die "building the ml plugin failed"; }
    install -m 644 "$build/build/src/src/libstrongswan/plugins/ml/.libs/libstrongswan-ml.so" \
        "$root/usr/lib/ipsec/plugins/libstrongswan-ml.so"
    printf 'ml {\n    load = yes\n}\n' >"$root/etc/strongswan.d/charon/ml.conf"
    rm -rf "$build"
}

# The self-check's strongswan.conf: the ml plugin is checked against its test vectors (drbg
# and test-vectors load first); OpenSSL's ML-KEM cannot take the deterministic test DRBG, so
# with the openssl provider crypto_test stays off (charon would disable ML-KEM yet offer it).
check_conf() {
    local provider=$1 plugins="random nonce drbg test-vectors" on_add=no
    [ "$provider" = ml ] && plugins+=" ml" on_add=yes
    plugins+=" openssl aes sha1 sha2 hmac kdf curve25519 pem pkcs1 pkcs8 pubkey x509 kernel-libipsec kernel-netlink socket-default vici"
    cat <<EOF
charon {
    load = $plugins
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
        on_add = $on_add
    }
}
EOF
}

# check_image IMAGE PROVIDER DIR: charon in a container in a throwaway namespace must list
# ML_KEM_768 from PROVIDER (and, for ml, pass its test vectors). Leaves algs.txt, charon.log.
check_image() {
    local image=$1 provider=$2 dir=$3 ns="pqss-check-$$" name="pqss-check-$$"
    mkdir -p "$dir"
    check_conf "$provider" >"$dir/strongswan.conf"
    ip netns add "$ns"
    ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; ip link set lo up'
    local ok=0
    if pq_podman run -d --rm --name "$name" --network "ns:/run/netns/$ns" "${PQ_PODMAN_RUN[@]}" \
        -v "$dir:/run" -e STRONGSWAN_CONF=/run/strongswan.conf "$image" /usr/lib/ipsec/charon \
        >"$dir/podman.log" 2>&1; then
        if wait_until 20 test -S "$dir/charon.vici"; then
            pq_podman exec "$name" swanctl --list-algs >"$dir/algs.txt" 2>&1 || true
            ok=1
        fi
        pq_podman rm -f -t 5 "$name" >/dev/null 2>&1 || true
    fi
    ip netns del "$ns" 2>/dev/null || true
    if [ "$ok" != 1 ]; then
        cat "$dir/podman.log" "$dir/charon.log" 2>/dev/null >&2 || true
        die "charon did not start in a container of $image"
    fi
    grep -q "ML_KEM_768\[$provider\]" "$dir/algs.txt" || {
        cat "$dir/algs.txt" "$dir/charon.log" >&2
        die "charon in $image does not offer ML_KEM_768[$provider]"
    }
    if [ "$provider" = ml ] && ! grep -q "ML_KEM_768\[ml\]: passed" "$dir/charon.log"; then
        cat "$dir/charon.log" >&2
        die "ML_KEM_768[ml] did not pass its test vectors in $image"
    fi
}

# import_image ROOTFS TAG...: the root filesystem as an image (no registry), under every tag.
import_image() {
    local rootfs=$1 first=$2
    shift 2
    tar -C "$rootfs" -c . | pq_podman import -q --change 'CMD ["/usr/lib/ipsec/charon"]' \
        --message "pqike interop lab: strongSwan" - "$first" >/dev/null
    local t
    for t in "$@"; do pq_podman tag "$first" "$t"; done
}

# setup_peer SUITE: one peer, idempotently.
setup_peer() {
    local suite=$1 link=$CACHE/strongswan-$1 provider
    provider=$(ke_provider "$suite")
    if [ "$REBUILD" = no ] && rootfs_complete "$link" "$suite"; then
        if image_present "$link"; then
            log "$suite: reusing $(readlink -f "$link") and $(stamp_get "$link" image)"
            return 0
        fi
        log "$suite: the image is missing; importing $(readlink -f "$link")/rootfs again"
        local version tag
        version=$(stamp_get "$link" package_version)
        tag=$(image_tag "$version")
        import_image "$link/rootfs" "$IMAGE_REPO:$tag" "$IMAGE_REPO:$suite"
        check_image "$IMAGE_REPO:$tag" "$provider" "$WORK/check-$suite"
        sed -i "s/^image_id=.*/image_id=$(pq_podman image inspect -f '{{.Id}}' "$IMAGE_REPO:$tag")/" "$link/stamp"
        return 0
    fi

    local start root version openssl_version tag image
    start=$(date +%s) SOURCE_FROM=""
    root=$WORK/rootfs-$suite
    build_rootfs "$suite" "$root"
    version=$(chroot "$root" dpkg-query -W -f='${Version}' libstrongswan)
    openssl_version=$(chroot "$root" dpkg-query -W -f='${db:Status-Abbrev}${Version}\n' 'libssl3*' | sed -n 's/^ii *//p' | head -n1)
    log "$suite: strongSwan package $version, OpenSSL $openssl_version"
    [ "$provider" = ml ] && build_ml_plugin "$root" "$version"
    # What the lab never reads.
    rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb \
        "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/*

    tag=$(image_tag "$version")
    image=$IMAGE_REPO:$tag
    log "$suite: importing the root filesystem as $image"
    import_image "$root" "$image" "$IMAGE_REPO:$suite"
    log "$suite: checking that charon in $image offers ML-KEM ($provider)"
    check_image "$image" "$provider" "$WORK/check-$suite"
    local charon_version kems
    charon_version=$(sed -n 's/.*Starting IKE charon daemon (strongSwan \([^,]*\),.*/\1/p' "$WORK/check-$suite/charon.log" | head -n1)
    kems=$(grep -o "ML_KEM_[0-9]*\[$provider\]" "$WORK/check-$suite/algs.txt" | awk '!seen[$0]++' | tr '\n' ' ')

    local name=strongswan-$suite-$version out=$WORK/out-$suite
    mkdir -p "$out"
    mv "$root" "$out/rootfs"
    cat >"$out/stamp" <<EOF
recipe=$RECIPE
suite=$suite
package_version=$version
strongswan_version=$charon_version
openssl_version=$openssl_version
ke_provider=$provider
kems=${kems% }
image=$image
image_id=$(pq_podman image inspect -f '{{.Id}}' "$image")
mirror=$USED_MIRROR
source_from=${SOURCE_FROM:-}
built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
build_seconds=$(($(date +%s) - start))
EOF
    rm -rf "${CACHE:?}/$name"
    mv "$out" "$CACHE/$name"
    ln -sfn "$name" "$CACHE/.link-$suite"
    mv -T "$CACHE/.link-$suite" "$link"
    local old
    for old in "$CACHE"/strongswan-"$suite"-*; do
        [ "$old" = "$CACHE/$name" ] || rm -rf "$old"
    done
    log "$suite: built $CACHE/$name in $(($(date +%s) - start)) s ($(du -sh "$CACHE/$name" | cut -f1))"
}

# Docker-style tags allow [A-Za-z0-9_.-]: 6.0.1-6+deb13u7 -> 6.0.1-6_deb13u7.
image_tag() { printf '%s' "$1" | tr -c 'A-Za-z0-9_.-' '_'; }

apt_install debootstrap podman runc iproute2 iputils-ping util-linux tar ||
    die "could not install debootstrap, podman and runc from this machine's Debian mirror"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock -w 1800 9 || die "timed out waiting for another interop/setup.sh"
rm -rf "$CACHE"/.build.*
WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'umount_below "$WORK"; rm -rf "$WORK"' EXIT
find_mirrors

for peer in "${PEERS[@]}"; do
    setup_peer "$peer"
done
for peer in "${PEERS[@]}"; do
    link=$CACHE/strongswan-$peer
    echo "--- $peer: $(stamp_get "$link" image) = strongSwan $(stamp_get "$link" strongswan_version)" \
        "(Debian $(stamp_get "$link" package_version), OpenSSL $(stamp_get "$link" openssl_version)," \
        "ML-KEM from $(stamp_get "$link" ke_provider): $(stamp_get "$link" kems))"
done
