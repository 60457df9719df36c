# Debian root filesystems for interop/setup.sh: mirrors with alternatives, apt inside a root
# filesystem, and source packages fetched from whichever suite carries the wanted version.
# Sourced; needs root. Sets MIRRORS and SECURITY_MIRRORS (find_mirrors) and SOURCE_FROM
# (fetch_source).

DEFAULT_MIRROR=http://deb.debian.org/debian
DEFAULT_SECURITY_MIRROR=http://deb.debian.org/debian-security

# configured_mirrors NAME: base URLs ending in /NAME from this machine's apt sources (one-line
# and deb822 formats).
configured_mirrors() {
    local want=$1 files=() f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] && files+=("$f")
    done
    [ ${#files[@]} -gt 0 ] || return 0
    {
        grep -h -E '^[[:space:]]*deb(-src)?[[:space:]]' "${files[@]}" | sed -E 's/\[[^]]*\]//' | awk '{print $2}'
        grep -h -i -E '^[[:space:]]*URIs:' "${files[@]}" | sed -E 's/^[^:]*:[[:space:]]*//' | tr ' ' '\n'
    } | sed -E 's:/+$::' | grep -E "/${want}\$" || true
}

# Unique words, in order.
uniq_words() { printf '%s\n' "$@" | awk 'NF && !seen[$0]++'; }

# MIRRORS / SECURITY_MIRRORS: the override, the configured ones, then Debian's default.
find_mirrors() {
    local m
    mapfile -t MIRRORS < <(uniq_words "${PQIKE_DEBIAN_MIRROR:-}" $(configured_mirrors debian) "$DEFAULT_MIRROR")
    mapfile -t SECURITY_MIRRORS < <(uniq_words "${PQIKE_DEBIAN_SECURITY_MIRROR:-}" \
        $(configured_mirrors debian-security) $(for m in "${MIRRORS[@]}"; do echo "${m%/debian}/debian-security"; done) \
        "$DEFAULT_SECURITY_MIRROR")
}

# suites_of SUITE: the suites a release's packages come from, security updates first.
suites_of() {
    case "$1" in
        sid | unstable) echo "$1" ;;
        *) echo "$1-security $1-updates $1" ;;
    esac
}

# sources_lines TYPE SUITE [ONLY_SUITE]: apt lines for every mirror of every suite of the
# release (apt falls back to the next source of a package when one mirror lacks the file).
sources_lines() {
    local type=$1 release=$2 only=${3:-} s m
    for s in $(suites_of "$release"); do
        [ -z "$only" ] || [ "$s" = "$only" ] || continue
        if [[ "$s" == *-security ]]; then
            for m in "${SECURITY_MIRRORS[@]}"; do echo "$type $m $s main"; done
        else
            for m in "${MIRRORS[@]}"; do echo "$type $m $s main"; done
        fi
    done
}

write_sources() { sources_lines "$3" "$2" >"$1/etc/apt/sources.list"; }

# apt inside a root filesystem: the mirror may be a frozen snapshot whose Release files have
# expired (signatures are still checked); no service starts from package scripts.
prepare_apt() {
    local root=$1
    cat >"$root/etc/apt/apt.conf.d/99pqike" <<'EOF'
Acquire::Check-Valid-Until "false";
Acquire::Retries "3";
APT::Sandbox::User "root";
Dpkg::Use-Pty "0";
EOF
    printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
    chmod 755 "$root/usr/sbin/policy-rc.d"
}

apt_cmd() { echo "apt-get -q -o Acquire::Check-Valid-Until=false"; }

# in_root ROOT SCRIPT: runs a shell script inside a root filesystem with its own /proc, in a
# private mount namespace.
in_root() {
    local root=$1
    unshare -m --propagation private -- sh -c \
        'mount -t proc proc "$0/proc" && exec chroot "$0" /usr/bin/env -i \
            PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
            DEBIAN_FRONTEND=noninteractive sh -euc "$1"' "$root" "$2"
}

# fetch_source ROOT RELEASE PACKAGE VERSION DIR: downloads the source package PACKAGE=VERSION
# into DIR (inside ROOT), asking one suite and mirror at a time, in the order of sources_lines: a
# security update's source may be missing from the main pool while the security pool has it.
# Fails naming every suite and mirror it tried.
fetch_source() {
    local root=$1 release=$2 pkg=$3 version=$4 dir=$5 line n=0 tried=()
    while read -r line; do
        n=$((n + 1))
        mkdir -p "$root/tmp/src-$n/lists/partial" "$root/tmp/src-$n/parts"
        echo "$line" >"$root/tmp/src-$n/sources.list"
        local opts="-o Dir::Etc::SourceList=/tmp/src-$n/sources.list -o Dir::Etc::SourceParts=/tmp/src-$n/parts -o Dir::State::Lists=/tmp/src-$n/lists"
        if in_root "$root" "
            $(apt_cmd) $opts update >/tmp/src-$n/update.log 2>&1 || { tail -n 3 /tmp/src-$n/update.log; exit 1; }
            ls /tmp/src-$n/lists/*Sources* >/dev/null 2>&1 ||
                { echo \"no source index: \$(grep -E '^(W|E|Err):' /tmp/src-$n/update.log | head -n 1)\"; exit 1; }
            mkdir -p $dir && cd $dir
            $(apt_cmd) $opts source --download-only $pkg=$version >/tmp/src-$n/source.log 2>&1 || { grep -E '^(E|Err):' /tmp/src-$n/source.log | tail -n 3; exit 1; }
        " >"$WORK/source-$n.log" 2>&1; then
            SOURCE_FROM=${line#deb-src }
            log "source $pkg $version from $SOURCE_FROM"
            return 0
        fi
        tried+=("${line#deb-src }: $(tr '\n' ' ' <"$WORK/source-$n.log")")
        rm -rf "${root:?}/$dir"
    done < <(sources_lines deb-src "$release")
    echo "source package $pkg=$version not found; tried:" >&2
    printf '  %s\n' "${tried[@]}" >&2
    die "no suite or mirror serves the source of $pkg $version"
}

# umount_below DIR: lifts mounts an interrupted run left under DIR.
umount_below() {
    local m
    for m in $(awk -v w="$1" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
}
