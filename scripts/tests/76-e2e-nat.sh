#!/usr/bin/env bash
# NAT traversal end to end: gateway A behind a NAT router, gateway B outside, iked on both with
# the userspace datapath (ESP in UDP on 4500).
#
#   namespace a  10.253.1.2/24, default route via r          iked "a" (initiator), TUN ...ta
#   namespace r  10.253.1.1/24 | 10.253.2.1/24, forwarding, nftables masquerade of UDP onto
#                ports 20000-20999, and a counter of the 9-byte UDP datagrams (NAT keepalives)
#                it forwards towards B
#   namespace b  10.253.2.2/24, no route to A's network        iked "b" (responder), TUN ...tb
#
# Checks: the tunnel comes up through the NAT (B sees A as the router's address on a mapped
# port), traffic both ways; A sends NAT keepalives (keep_alive = 2s) and the NAT forwards them
# to B's datapath. Then the NAT's mapping changes: the masquerade moves to ports 30000-30999 and
# its conntrack table is flushed, so A's next datagram leaves on a new port. While A's IKE is
# held back (nftables in A drops its datagrams to 4500 that carry the non-ESP marker), A's ESP
# and keepalives reach B from the new port but move nothing: B still sends to the old mapping
# and its pings to A are lost. Once A's IKE goes out again, its liveness check (dpd_delay = 2s)
# is its next authenticated IKE message: B's IKE SA moves to the new port (`ikectl list-sas`),
# the installed ESP SAs follow it (counter `peer_address_changes`, same SPIs), traffic flows
# both ways again, and the keepalives go on through the new mapping.
# Needs root; without it, skips loudly. About 20 s once built.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

need_root_tun_netns 76-e2e-nat "network namespaces, nftables, TUN devices" "$@" || exit 0

apt_install iproute2 iputils-ping jq nftables conntrack
e2e_build_iked

P="pqd-nat-$$-"
WORK=$(mktemp -d /tmp/pqd-nat.XXXXXX)
. scripts/lib/gateways.sh
A_ADDR=10.253.1.2
NAT_LAN=10.253.1.1
NAT_WAN=10.253.2.1
B_ADDR=10.253.2.2
cleanup() {
    pqm_cleanup
    ip netns del "${P}r" 2>/dev/null || true
    if [ "${failed:-0}" -ne 0 ]; then
        for f in a b; do echo "--- $f.log (last 30 lines)"; tail -30 "$WORK/$f.log" 2>/dev/null; done
    fi
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0

ikectl() { local side=$1; shift; "$BIN/ikectl" --socket "$WORK/$side.sock" "$@"; }
in_r() { nsenter "--net=/run/netns/${P}r" -- "$@"; }

# nat_up: the three namespaces and the router's masquerade onto ports 20000-20999.
nat_up() {
    local s; s=$(pqm_stem)
    pqlab netns add "${P}a" "${P}r" "${P}b"
    pqlab netns link "${P}a" "${s}va" "$A_ADDR/24" "${P}r" "${s}ra" "$NAT_LAN/24"
    pqlab netns link "${P}r" "${s}rb" "$NAT_WAN/24" "${P}b" "${s}vb" "$B_ADDR/24"
    ip -n "${P}a" route add default via "$NAT_LAN"
    in_r sysctl -q -w net.ipv4.ip_forward=1
    in_r nft -f - <<EOF
table ip pqnat {
    counter keepalives {}
    chain post {
        type nat hook postrouting priority srcnat;
        oifname "${s}rb" meta l4proto udp masquerade to :20000-20999
    }
    chain pass {
        type filter hook forward priority filter;
        oifname "${s}rb" ip daddr $B_ADDR udp dport 4500 udp length 9 counter name "keepalives"
    }
}
EOF
}

# rebind: new UDP mappings take ports 30000-30999, and the old ones are forgotten.
rebind() {
    local s; s=$(pqm_stem)
    in_r nft flush chain ip pqnat post
    in_r nft add rule ip pqnat post oifname "${s}rb" meta l4proto udp masquerade to :30000-30999
    in_r conntrack -F 2>/dev/null
}

# hold_ike / release_ike: A's IKE to port 4500 (behind the non-ESP marker) is dropped in A, and
# let through again; its ESP and keepalives pass.
hold_ike() {
    in_ns a nft -f - <<EOF
table ip pqhold {
    chain out {
        type filter hook output priority filter;
        udp dport 4500 @th,64,32 0 drop
    }
}
EOF
}
release_ike() { in_ns a nft delete table ip pqhold; }

# keepalives_forwarded: the NAT keepalives the router has passed to B so far.
keepalives_forwarded() { in_r nft list counter ip pqnat keepalives | awk '/packets/ { print $2 }'; }

# write_configs: A initiates net1 towards B with a 2 s liveness check and 2 s keepalives; B
# knows A only as the router's address.
write_configs() {
    OUTER_A=$A_ADDR OUTER_B=$B_ADDR pqm_daemon_args a
    CONF+=(--keep-alive 2s)
    OUTER_B=$B_ADDR pqm_conn_args a net1 1 aes256gcm16-prfsha384-x25519-ke1_mlkem768 none
    CONF+=(--dpd-delay 2s)
    pqm_write_conf a
    OUTER_B=$B_ADDR pqm_daemon_args b
    OUTER_A=$NAT_WAN pqm_conn_args b net1 1 aes256gcm16-prfsha384-x25519-ke1_mlkem768 none
    pqm_write_conf b
}

ping_from() { # SIDE [COUNT]
    local side=$1 count=${2:-3} me=1 peer=2
    [ "$side" = b ] && me=2 peer=1
    in_ns "$side" ping -n -q -c "$count" -i 0.1 -W 1 -I "10.$me.1.1" "10.$peer.1.1" >/dev/null 2>&1
}
b_remote() { ikectl b --json list-sas | jq -r '[.[] | select(.connection == "net1")][0].remote // ""'; }
b_child_spis() { ikectl b --json list-sas | jq -r '[.[] | select(.connection == "net1")][0] | "\(.id) \(.children[0].inbound_spi) \(.children[0].outbound_spi)"'; }
counter() { ikectl "$1" --json stats | jq -r ".$2 // 0"; }
port_in() { # LOW HIGH: B sees A on the router's address with a port in [LOW, HIGH]
    local r port
    r=$(b_remote)
    port=${r##*:}
    [ "${r%:*}" = "$NAT_WAN" ] && [ "$port" -ge "$1" ] && [ "$port" -le "$2" ]
}
a_sent_keepalives() { [ "$(counter a daemon.nat_keepalives_sent)" -ge 1 ]; }
keepalives_above() { [ "$(keepalives_forwarded)" -gt "$1" ]; }
b_received_keepalives() { [ "$(counter b datapath.keepalives)" -gt "$1" ]; }
transfer() { local mbps; mbps=$(tcp_transfer "$@") && echo "     $mbps Mbit/s"; }

echo "--- setup: A behind a masquerading router, B outside"
nat_up
write_configs
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
start=$(date +%s)

echo "--- through the NAT"
check "ikectl up net1 through the NAT" ikectl a up net1 --timeout 15
check "B sees A as the router's address on a mapped port (20000-20999)" port_in 20000 20999
echo "     B's peer: $(b_remote)"
check "A detected the NAT" test "$(ikectl a --json list-sas | jq -r '.[0].nat_detected')" = true
check "ping A -> B" ping_from a
check "ping B -> A" ping_from b
check "TCP B -> A, 4 MiB, every byte checked" transfer b 10.1.1.1 10.2.1.1 4
check "A sends NAT keepalives (keep_alive = 2s)" wait_until 10 a_sent_keepalives
check "the router forwards them to B" wait_until 10 keepalives_above 0
check "B's datapath receives them" wait_until 10 b_received_keepalives 0

echo "--- the NAT's mapping changes (ports 30000-30999, conntrack flushed)"
before_spis=$(b_child_spis)
moves_before=$(counter b daemon.peer_address_changes)
ka_before=$(keepalives_forwarded)
hold_ike
rebind
no_ping_a() { ! ping_from a 2; }
no_ping_b() { ! ping_from b 2; }
b_packets_in() { ikectl b --json list-sas | jq '[.[] | select(.connection == "net1")][0].children[0].counters.packets_in'; }
in_before=$(b_packets_in)
check "A -> B pings get no answer: B answers to the old mapping" no_ping_a
check "yet A's ESP reached B from the new port (B's packets in grew)" test "$(b_packets_in)" -gt "$in_before"
check "B -> A pings are lost too" no_ping_b
check "B's IKE SA is still on the old mapping" port_in 20000 20999
check "no peer address change yet" test "$(counter b daemon.peer_address_changes)" = "$moves_before"
check "A's keepalives reach B through the new mapping meanwhile" wait_until 10 keepalives_above "$ka_before"
release_ike
moved_at=$(date +%s%N)
check "B's IKE SA moves to the new mapping with A's next IKE message (DPD, 2 s)" wait_until 15 port_in 30000 30999
echo "     B's peer: $(b_remote), $((($(date +%s%N) - moved_at) / 1000000)) ms after A's IKE was let through"
check "the installed ESP SAs followed (peer_address_changes)" test "$(counter b daemon.peer_address_changes)" -gt "$moves_before"
check "same IKE SA and Child SA (no rekey, no new SA)" test "$(b_child_spis)" = "$before_spis"
check "ping B -> A over the new mapping" wait_until 5 ping_from b 1
check "ping A -> B over the new mapping" ping_from a
check "TCP B -> A over the new mapping, 4 MiB, every byte checked" transfer b 10.1.1.1 10.2.1.1 4
check "TCP A -> B over the new mapping, 4 MiB, every byte checked" transfer a 10.2.1.1 10.1.1.1 4
ka_after=$(keepalives_forwarded)
b_ka_after=$(counter b datapath.keepalives)
check "keepalives go on through the new mapping" wait_until 10 keepalives_above "$ka_after"
check "and reach B" wait_until 10 b_received_keepalives "$b_ka_after"
check "B still has one IKE SA" test "$(ikectl b --json list-sas | jq length)" = 1
check "iked A stops cleanly" pqm_iked_stop a
check "iked B stops cleanly" pqm_iked_stop b
echo "     after set-up: $(($(date +%s) - start)) s"

echo "76-e2e-nat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
