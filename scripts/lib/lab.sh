# The interop crate's `pqlab` for shell scripts: namespaces, checked TCP transfers and iked
# configuration files are made by it, the same way the Rust labs make them.
#
#   pqlab_build        builds it (release) and sets PQLAB
#   e2e_build_iked     builds iked, ikectl (and what else is given) and pqlab; sets BIN
#   pqlab ARGS...      runs it (see interop/src/bin/pqlab.rs)

# Built on its own: with other packages in the same cargo invocation, shared dependencies would
# be built with other features and rebuilt.
pqlab_build() {
    cargo build --release -q -p interop --bin pqlab
    PQLAB="$PWD/${CARGO_TARGET_DIR:-target}/release/pqlab"
}

# e2e_build_iked [-p PKG --bin NAME]...: iked and ikectl in release, with the given extra
# packages in the same invocation, then pqlab; BIN is where the binaries are.
e2e_build_iked() {
    cargo build --release -p iked -p ikectl --bin iked --bin ikectl "$@"
    BIN="$PWD/${CARGO_TARGET_DIR:-target}/release"
    pqlab_build
}

pqlab() {
    [ -n "${PQLAB:-}" ] || pqlab_build
    "$PQLAB" "$@"
}

# pqlab_iked_conf FILE ARGS...: iked.toml from `pqlab iked-conf ARGS`, mode 0600.
pqlab_iked_conf() {
    local file=$1
    shift
    (umask 077 && pqlab iked-conf "$@" >"$file")
}
