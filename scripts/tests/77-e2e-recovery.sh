#!/usr/bin/env bash
# Recovery end to end: two iked gateways in namespaces joined by a veth pair, with the userspace
# datapath. A initiates net1 by itself (start_action = "start") with a 1 s liveness check
# (dpd_delay), dpd_action = "restart" and short retransmissions (0.5 s growing by 1.5, twice:
# a dead peer is given up after about 2.4 s); B answers and has no liveness check.
#
#   (a) B is killed (SIGKILL: no DELETE) and started again with no SA: A finds it dead and
#       re-establishes by itself; traffic flows again.
#   (b) A is killed and started again: its new IKE SA carries INITIAL_CONTACT, so B drops the
#       stale one at once (B lists one IKE SA, the new one) instead of keeping it forever.
#   (c) A's end of the link goes down for longer than DPD takes: A gives the SA up and keeps
#       trying; the link comes back and the tunnel comes back by itself.
#
# Every wait polls for its condition with a bound. Needs root; without it, skips loudly. About
# 30 s once built.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

need_root_tun_netns 77-e2e-recovery "network namespaces, TUN devices, UDP 500/4500" "$@" || exit 0

apt_install iproute2 iputils-ping jq
e2e_build_iked

P="pqd-rec-$$-"
WORK=$(mktemp -d /tmp/pqd-rec.XXXXXX)
. scripts/lib/gateways.sh
cleanup() {
    pqm_cleanup
    if [ "${failed:-0}" -ne 0 ]; then
        for f in a b; do echo "--- $f.log (last 30 lines)"; tail -30 "$WORK/$f.log" 2>/dev/null; done
    fi
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0

PROPOSAL=aes256gcm16-prfsha384-x25519-ke1_mlkem768
ikectl() { local side=$1; shift; "$BIN/ikectl" --socket "$WORK/$side.sock" "$@"; }

write_configs() {
    pqm_daemon_args a
    CONF+=(--retransmit-timeout 0.5 --retransmit-tries 2 --retransmit-base 1.5)
    pqm_conn_args a net1 1 "$PROPOSAL" none
    CONF+=(--start-action start --dpd-delay 1s --keyingtries 0 --dpd-action restart)
    pqm_write_conf a
    pqm_daemon_args b
    pqm_conn_args b net1 1 "$PROPOSAL" none
    pqm_write_conf b
}

# kill9 SIDE: the daemon dies without a word (no DELETE), as in a crash.
kill9() {
    local side=$1 pid=${IKED_PID[$1]}
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    unset 'IKED_PID[$side]'
}

sa_ids() { ikectl "$1" --json list-sas | jq -r '[.[] | select(.state == "established" and (.children | length) == 1) | .id] | join(" ")'; }
# up_with_new_sa SIDE OLD: SIDE has exactly one established IKE SA with its Child SA, not OLD.
up_with_new_sa() { local ids; ids=$(sa_ids "$1"); [ -n "$ids" ] && [ "${ids// /}" = "$ids" ] && [ "$ids" != "$2" ]; }
one_sa() { [ "$(ikectl "$1" --json list-sas | jq length)" = 1 ]; }
no_sa() { [ "$(ikectl "$1" --json list-sas | jq length)" = 0 ]; }
ping_ok() { in_ns a ping -n -q -c 2 -i 0.2 -W 1 -I 10.1.1.1 10.2.1.1 >/dev/null 2>&1; }
counter() { ikectl "$1" --json stats | jq -r ".daemon.$2 // 0"; }
counter_above() { [ "$(counter "$1" "$2")" -gt "$3" ]; }
transfer() { local mbps; mbps=$(tcp_transfer "$@") && echo "     $mbps Mbit/s"; }
# timed NAME SECONDS COMMAND...: a bounded wait, checked, with how long it took.
timed() {
    local name=$1 secs=$2 t0
    shift 2
    t0=$(date +%s%N)
    check "$name" wait_until "$secs" "$@"
    echo "     took $((($(date +%s%N) - t0) / 1000000)) ms"
}

echo "--- setup: A brings net1 up by itself (start_action = start)"
pqm_netns_up
write_configs
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
timed "A established net1 without ikectl up" 15 up_with_new_sa a ""
check "ping A -> B" wait_until 5 ping_ok
start=$(date +%s)

echo "--- (a) B is killed and restarted: A finds it dead and re-establishes"
a_old=$(sa_ids a)
restarts=$(counter a connection_restarts)
kill9 b
pqm_iked_start b "$BIN"
check "B came back with no SA" no_sa b
timed "A detected the dead peer and initiated again (connection_restarts)" 20 counter_above a connection_restarts "$restarts"
timed "A has a new IKE SA with its Child SA" 20 up_with_new_sa a "$a_old"
check "B lists the new IKE SA" wait_until 5 one_sa b
check "ping A -> B through the new SAs" wait_until 5 ping_ok
check "TCP A -> B, 4 MiB, every byte checked" transfer a 10.2.1.1 10.1.1.1 4

echo "--- (b) A is killed and restarted: INITIAL_CONTACT clears B's stale SA"
b_old=$(sa_ids b)
mark=$(wc -c <"$WORK/b.log")
kill9 a
check "B still holds the stale SA (nothing told it)" test "$(sa_ids b)" = "$b_old"
pqm_iked_start a "$BIN"
timed "A established a new SA by itself" 15 up_with_new_sa a ""
b_has_only_new() { up_with_new_sa b "$b_old" && one_sa b; }
timed "B dropped the stale SA at once: one IKE SA, the new one" 5 b_has_only_new
initial_contact_logged() { tail -c +"$((mark + 1))" "$WORK/b.log" | grep -q "peer sent INITIAL_CONTACT in a new IKE SA"; }
check "B's log says why (INITIAL_CONTACT)" initial_contact_logged
check "ping A -> B" wait_until 5 ping_ok

echo "--- (c) the link goes down for longer than DPD, then comes back"
a_old=$(sa_ids a)
restarts=$(counter a connection_restarts)
ip -n "${P}a" link set "$(pqm_stem)va" down
timed "A gave the SA up (DPD) and tries again (connection_restarts)" 20 counter_above a connection_restarts "$restarts"
a_lost_old() { [ "$(sa_ids a)" != "$a_old" ]; }
check "A no longer lists the old SA as established" a_lost_old
ip -n "${P}a" link set "$(pqm_stem)va" up
timed "the tunnel came back by itself: a new IKE SA with its Child SA" 30 up_with_new_sa a "$a_old"
check "B lists one IKE SA (the stale one went with INITIAL_CONTACT)" wait_until 5 one_sa b
check "ping A -> B" wait_until 5 ping_ok
check "TCP A -> B, 4 MiB, every byte checked" transfer a 10.2.1.1 10.1.1.1 4
check "iked A stops cleanly" pqm_iked_stop a
check "iked B stops cleanly" pqm_iked_stop b
echo "     after set-up: $(($(date +%s) - start)) s"

echo "77-e2e-recovery: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
