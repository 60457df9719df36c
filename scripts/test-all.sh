#!/usr/bin/env bash
# Runs every test: each section in scripts/tests/ in order. Run it as root, or as a user with
# sudo (it re-runs itself with sudo and gives the files cargo made back to that user). Without
# root and without sudo, the sections that need root (network namespaces, podman, TUN) skip
# with a loud message.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/common.sh
if ! as_root "$0" "$@"; then
    skip_loudly "not root and no sudo: the sections that need root will skip"
    no_root_hint "$0"
fi
trap 'give_back_to_sudo_user "${CARGO_TARGET_DIR:-target}" "${CARGO_HOME:-}"' EXIT

export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}
passed=0
failed=0
failed_names=()
for section in scripts/tests/[0-9]*.sh; do
    name=$(basename "$section" .sh)
    echo "=== section $name ==="
    start=$(date +%s)
    if bash "$section"; then
        passed=$((passed + 1))
        echo "=== section $name: ok ($(( $(date +%s) - start )) s) ==="
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        echo "=== section $name: FAILED ($(( $(date +%s) - start )) s) ==="
    fi
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed sections: ${failed_names[*]}"
echo "sections: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
