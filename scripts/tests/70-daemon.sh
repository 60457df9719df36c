#!/usr/bin/env bash
# iked and ikectl parts that need root: the systemd unit verifies cleanly; the control socket admits only root (checked as an
# unprivileged user), and two daemons on the real IKE ports 500/4500 in a network namespace
# bring up a hybrid X25519+ML-KEM-768 IKE SA. The rest runs without root in `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

as_root "$0" "$@" || {
    skip_loudly "70-daemon needs root (socket ownership, ports 500/4500, network namespaces) and there is no sudo here"
    exit 0
}

cargo build --release -p iked -p ikectl
bin="${CARGO_TARGET_DIR:-target}/release"
pqlab_build
iked="$PWD/$bin/iked"
ikectl="$PWD/$bin/ikectl"

work=$(mktemp -d /tmp/pqd-daemon.XXXXXX)
chmod 755 "$work"
ns="pqd-iked-$$"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Polls a command until it succeeds: up to $1 tries, 0.1 s apart.
retry() {
    local n=$1; shift
    for _ in $(seq "$n"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# write_config FILE SOCKET LISTEN IKE_PORT NATT_PORT NAME OWN_ID PEER_ID REMOTE START LOCAL_TS
# REMOTE_TS: [daemon] and one hybrid PSK connection (pqlab iked-conf), mode 0600.
write_config() {
    pqlab_iked_conf "$1" --socket "$2" --listen "$3" --ike-port "$4" --natt-port "$5" --log info \
        --conn "$6" --remote-addr "$9" --proposal aes256gcm16-prfsha384-x25519-ke1_mlkem768 \
        --start-action "${10}" --local-id "$7" --remote-id "$8" \
        --psk "0sVGhpcyBpcyBhIHRlc3Qga2V5IGZvciB0aGUgZGFlbW9uIHRlc3Rz" --psk-id "$7" --psk-id "$8" \
        --child net --local-ts "${11}" --remote-ts "${12}"
}

echo "--- systemd unit: dist/systemd/iked.service"
apt_install systemd
# verify checks that the binaries exist, so it reads a copy pointing at the ones just built;
# it reports unknown or misspelt settings as warnings with status 0, so any output fails.
sed -e "s|/usr/sbin/iked|$iked|g" dist/systemd/iked.service >"$work/iked.service"
if ! out=$(systemd-analyze verify "$work/iked.service" 2>&1) || [ -n "$out" ]; then
    fail "systemd-analyze verify: $out"
fi
grep -qx 'Restart=on-failure' dist/systemd/iked.service || fail "the unit does not restart on failure"
grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE' dist/systemd/iked.service ||
    fail "the unit's capability bounding set is not exactly NET_ADMIN, NET_RAW, NET_BIND_SERVICE"
echo "ok: the unit verifies cleanly"

echo "--- control socket: root only"
sock="$work/iked.sock"
write_config "$work/perm.toml" "$sock" 127.0.0.1 0 0 peer a.example b.example 127.0.0.1 none 10.1.0.0/16 10.2.0.0/16
"$iked" --config "$work/perm.toml" 2>"$work/perm.log" &
pids+=($!)
retry 100 "$ikectl" --socket "$sock" version || fail "iked did not start: $(cat "$work/perm.log")"
[ "$(stat -c '%a %U' "$sock")" = "600 root" ] || fail "socket is $(stat -c '%a %U' "$sock"), want 600 root"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups "$ikectl" --socket "$sock" version 2>"$work/err"
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "unprivileged ikectl exited $rc, want 3: $(cat "$work/err")"
grep -q "Permission denied" "$work/err" || fail "unexpected message: $(cat "$work/err")"
# Even with a careless chmod the daemon checks the peer's credentials.
chmod 666 "$sock"
set +e
setpriv --reuid=65534 --regid=65534 --clear-groups "$ikectl" --socket "$sock" list-sas 2>"$work/err"
rc=$?
set -e
[ "$rc" -eq 3 ] || fail "unprivileged ikectl on a 0666 socket exited $rc, want 3"
grep -q "permission denied: only root may control iked" "$work/err" || fail "unexpected message: $(cat "$work/err")"
"$ikectl" --socket "$sock" version >/dev/null || fail "root cannot use the socket"
echo "ok: mode 600 root, unprivileged users refused (exit 3), root admitted"

echo "--- two daemons on UDP 500/4500 in network namespace $ns"
pqlab netns add "$ns"
write_config "$work/b.toml" "$work/b.sock" 127.0.0.2 500 4500 site-a b.example a.example %any none 10.2.0.0/16 10.1.0.0/16
write_config "$work/a.toml" "$work/a.sock" 127.0.0.1 500 4500 site-b a.example b.example 127.0.0.2 start 10.1.0.0/16 10.2.0.0/16
ip netns exec "$ns" "$iked" --config "$work/b.toml" 2>"$work/b.log" &
pids+=($!)
retry 100 "$ikectl" --socket "$work/b.sock" version || fail "daemon B did not start: $(cat "$work/b.log")"
ip netns exec "$ns" "$iked" --config "$work/a.toml" 2>"$work/a.log" &
pids+=($!)
established() {
    "$ikectl" --socket "$1" list-sas --json | grep -q '"state": "established"'
}
retry 200 established "$work/a.sock" || fail "no IKE SA on A: $(cat "$work/a.log")"
retry 50 established "$work/b.sock" || fail "no IKE SA on B: $(cat "$work/b.log")"
"$ikectl" --socket "$work/a.sock" list-sas | tee "$work/a.sas"
grep -q "aes256gcm16-prfsha384-x25519-ke1_mlkem768" "$work/a.sas" || fail "unexpected proposal"
grep -q "127.0.0.2:500" "$work/a.sas" || fail "not on port 500"
echo "ok: start_action = start brought up the hybrid IKE SA on port 500"

# Graceful shutdown: SIGTERM on A sends DELETE, so B drops the SA; every daemon exits with 0.
a_pid=${pids[-1]}
kill -TERM "$a_pid"
wait "$a_pid" || fail "iked A exited with $?"
unset 'pids[-1]'
no_sas() { "$ikectl" --socket "$1" list-sas | grep -q "^no IKE SAs$"; }
retry 100 no_sas "$work/b.sock" || fail "B still lists the SA after A's shutdown"
echo "ok: A's shutdown sent DELETE and B closed the SA"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || fail "iked (pid $p) exited with $?"; done
pids=()
echo "ok: SIGTERM stopped every daemon cleanly"
