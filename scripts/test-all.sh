#!/usr/bin/env bash
# Runs every test: each section in scripts/tests/ in order. A section that needs root, network
# namespaces or strongSwan skips with a loud message when run without root.
set -uo pipefail
cd "$(dirname "$0")/.."

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
