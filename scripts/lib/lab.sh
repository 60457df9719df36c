# The interop crate's `pqlab` for shell scripts: namespaces, checked TCP transfers and iked
# configuration files are made by it, the same way the Rust labs make them.
#
#   pqlab_build        builds it (release) and sets PQLAB
#   pqlab ARGS...      runs it (see interop/src/bin/pqlab.rs)

# Built on its own: with other packages in the same cargo invocation, shared dependencies would
# be built with other features and rebuilt.
pqlab_build() {
    cargo build --release -q -p interop --bin pqlab
    PQLAB="$PWD/${CARGO_TARGET_DIR:-target}/release/pqlab"
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
