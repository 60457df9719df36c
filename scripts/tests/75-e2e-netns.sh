#!/usr/bin/env bash
# iked end to end: two gateways in network namespaces with the userspace ESP datapath, and the
# KME simulator in a third. Two connections between them:
#   net1  10.1.1.0/24 <-> 10.2.1.0/24, static PPK; A rekeys its Child SA every 4 MiB (datapath
#         byte lifetime -> CREATE_CHILD_SA, make-before-break)
#   net2  10.1.2.0/24 <-> 10.2.2.0/24, no PPK at first, then a QKD PPK after a reload
# Checks: bring-up, ping and TCP with checked bytes both ways, a lifetime-driven rekey under
# load, `ikectl down`, a reload that changes net2 while net1 keeps passing traffic, the
# QKD-keyed tunnel, the KME down (fails closed; with qkd_fallback, ML-KEM alone), and a daemon
# restart with the Wireshark key log on, checked by decrypting a capture with tshark, `ikectl
# rekey` of a Child SA and of the IKE SA under traffic, and certificate authentication with a CA
# generated here. Needs root;
# without it, skips loudly. About a minute once built.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib/common.sh
. scripts/lib/lab.sh

need_root_tun_netns 75-e2e-netns "network namespaces, TUN devices, UDP 500/4500" "$@" || exit 0

apt_install iproute2 iputils-ping socat jq procps
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
HAVE_TSHARK=1
apt_install tshark || HAVE_TSHARK=0
e2e_build_iked -p qkd-kme-sim --bin qkd-kme-sim

P="pqd-e2e-$$-"
WORK=$(mktemp -d /tmp/pqd-e2e.XXXXXX)
INNER_NETS="1 2"
. scripts/lib/gateways.sh
cleanup() {
    pqm_cleanup
    if [ "${failed:-0}" -ne 0 ] && [ -z "${KEEP_LOGS:-}" ]; then
        for f in a b; do echo "--- $f.log (last 30 lines)"; tail -30 "$WORK/$f.log" 2>/dev/null; done
    fi
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0

P1=aes256gcm16-prfsha384-x25519-ke1_mlkem768
P2=aes128gcm16-prfsha256-x25519-ke1_mlkem768
ikectl() { local side=$1; shift; "$BIN/ikectl" --socket "$WORK/$side.sock" "$@"; }

# write_configs NET2_PPK [NET2_EXTRA]
write_configs() {
    local ppk2=$1 extra2=${2:-}
    pqm_daemon_args a
    pqm_conn_args a net1 1 "$P1" static "" 'rekey_bytes = "4M"'
    pqm_conn_args a net2 2 "$P2" "$ppk2" "$extra2"
    pqm_write_conf a
    pqm_daemon_args b
    pqm_conn_args b net1 1 "$P1" static
    pqm_conn_args b net2 2 "$P2" "$ppk2" "$extra2"
    pqm_write_conf b
}

ping_net() { # SIDE NET [COUNT]: pings the peer's address on inner network NET from ours
    local side=$1 net=$2 count=${3:-3} me=1 peer=2
    [ "$side" = b ] && me=2 peer=1
    in_ns "$side" ping -n -q -c "$count" -i 0.1 -W 1 -I "10.$me.$net.1" "10.$peer.$net.1" >"$WORK/ping-$side-$net.log" 2>&1
}
no_ping_net() { ! ping_net "$1" "$2" 1; }
sa_field() { # SIDE CONN JQ: a field of the connection's first IKE SA
    ikectl "$1" --json list-sas | jq -r --arg c "$2" "[.[] | select(.connection == \$c)][0] | $3"
}
established() { [ "$(sa_field "$1" "$2" .state)" = established ]; }
no_sa() { [ "$(ikectl "$1" --json list-sas | jq --arg c "$2" '[.[] | select(.connection == $c)] | length')" = 0 ]; }
counter() { ikectl "$1" --json stats | jq -r ".daemon.$2 // 0"; }
transfer() { local mbps; mbps=$(tcp_transfer "$@") && echo "     $mbps Mbit/s"; }
b_has_both() { established b net1 && established b net2; }
net1_rekeyed() { [ "$(sa_field a net1 '.children | length')" = 1 ] && [ "$(sa_field a net1 '.children[0].inbound_spi')" != "$spi_before" ]; }
reason_is_fallback() { sa_field a net2 .ppk.reason | grep -q 'ML-KEM alone (qkd_fallback)'; }
no_net2_anywhere() { no_sa a net2 && no_sa b net2; }
b_dropped_a() { no_sa b net1 && no_sa b net2; }
up_fails() { ! ikectl a up net2 --timeout 15 2>"$WORK/up-nokme.err"; }
reload_lost_nothing() { wait "$ping_pid"; grep -q ' 40 received' "$WORK/ping-reload.log"; }

echo "--- setup: namespaces, KME simulator, two daemons"
pqm_netns_up
pqm_kme_up "$BIN"
write_configs none
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"

echo "--- bring-up and traffic"
check "ikectl up net1 (static PPK)" ikectl a up net1 --timeout 15
check "ikectl up net2" ikectl a up net2 --timeout 15
check "B lists both IKE SAs as established" wait_until 5 b_has_both
check "net1 used the static PPK" test "$(sa_field a net1 .ppk_used)" = true
check "ping A -> B over net1" ping_net a 1
check "ping B -> A over net1" ping_net b 1
check "ping A -> B over net2" ping_net a 2
check "ping B -> A over net2" ping_net b 2
spi_before=$(sa_field a net1 '.children[0].inbound_spi')
check "TCP A -> B over net1, 16 MiB, every byte checked (rekeys under load)" transfer a 10.2.1.1 10.1.1.1 16
check "TCP B -> A over net2, 8 MiB, every byte checked" transfer b 10.1.2.1 10.2.2.1 8
check "the datapath's 4 MiB soft lifetime rekeyed net1" test "$(counter a child_sa_soft_lifetimes)" -ge 1
check "net1's Child SA was replaced and the old one deleted" wait_until 10 net1_rekeyed
check "per-SA counters show the traffic" test "$(ikectl a --json stats | jq '[.children[].counters.bytes_in] | add')" -gt 8000000

echo "--- ikectl rekey under traffic"
bg_ns a ping -n -q -c 40 -i 0.05 -W 1 -I 10.1.1.1 10.2.1.1 >"$WORK/ping-rekey.log" 2>&1
ping_pid=$BG_PID
spi_before=$(sa_field a net1 '.children[0].inbound_spi')
ike_before=$(sa_field a net1 .id)
rekey_child() { ikectl a --json rekey net1 --child net >"$WORK/rekey-child.json"; }
check "ikectl rekey net1 --child net" rekey_child
check "the answer names the old and a new inbound SPI" jq -e --arg o "$spi_before" '.old == $o and .new != $o and .child == "net"' "$WORK/rekey-child.json"
check "A lists the new Child SA alone" wait_until 10 net1_rekeyed
check "B sends on the new Child SA" test "$(sa_field b net1 '.children[0].outbound_spi')" = "$(jq -r .new "$WORK/rekey-child.json")"
rekey_ike() { ikectl a --json rekey net1 >"$WORK/rekey-ike.json"; }
check "ikectl rekey net1 (the IKE SA)" rekey_ike
ike_rekeyed() { [ "$(sa_field a net1 .id)" = "$(jq -r .new "$WORK/rekey-ike.json")" ] && [ "$(sa_field a net1 .id)" != "$ike_before" ]; }
check "A lists the new IKE SA" wait_until 5 ike_rekeyed
rekey_lost_nothing() { wait "$ping_pid"; grep -q ' 40 received' "$WORK/ping-rekey.log"; }
check "net1 lost no packet during both rekeys" rekey_lost_nothing
check "a rekey without an SA exits 1" test "$(ikectl a rekey net9 >/dev/null 2>&1; echo $?)" = 1

echo "--- ikectl down"
check "ikectl down net2" ikectl a down net2
check "B dropped net2 after the DELETE" wait_until 5 no_sa b net2
check "net2 carries no traffic" no_ping_net a 2
check "net1 still carries traffic" ping_net a 1

echo "--- reload: net2 changes to a QKD PPK while net1 keeps passing traffic"
net1_before="$(sa_field a net1 '"\(.id) \(.children[0].inbound_spi) \(.children[0].outbound_spi)"')"
bg_ns a ping -n -q -c 40 -i 0.05 -W 1 -I 10.1.1.1 10.2.1.1 >"$WORK/ping-reload.log" 2>&1
ping_pid=$BG_PID
write_configs qkd
ikectl b --json load >"$WORK/load-b.json"
ikectl a --json load >"$WORK/load-a.json"
reload_changed_net2() { jq -e '.changed == ["net2"] and .unchanged == ["net1"]' "$WORK/load-a.json" >/dev/null; }
check "reload on A: net2 changed, net1 unchanged" reload_changed_net2
check "ikectl up net2 with a QKD key" ikectl a up net2 --timeout 15
check "net2's PPK is a QKD key (enc_keys) and was used" test "$(sa_field a net2 '"\(.ppk.source) \(.ppk.used)"')" = "qkd true"
check "B fetched the same key (dec_keys)" test "$(sa_field b net2 .ppk.id)" = "$(sa_field a net2 .ppk.id)"
check "ping over the QKD-keyed net2" ping_net a 2
check "TCP B -> A over the QKD-keyed net2, 8 MiB, every byte checked" transfer b 10.1.2.1 10.2.2.1 8
check "net1 lost no packet during the reload" reload_lost_nothing
check "net1 kept its IKE SA and Child SA SPIs through the reload" test "$(sa_field a net1 '"\(.id) \(.children[0].inbound_spi) \(.children[0].outbound_spi)"')" = "$net1_before"
grep -o '[0-9]* received' "$WORK/ping-reload.log" | sed 's/^/     /'

echo "--- the KME goes down"
ikectl a down net2 >/dev/null
pqm_kme_stop
check "ikectl up net2 fails closed without the KME" up_fails
check "the failure names the KME" grep -q "QKD" "$WORK/up-nokme.err"
sed 's/^/     /' "$WORK/up-nokme.err"
check "no net2 SA on either side" wait_until 5 no_net2_anywhere
check "the failure is counted" test "$(counter a qkd_key_failures)" -ge 1
check "net1 is unaffected" ping_net a 1
write_configs qkd 'qkd_fallback = true'
ikectl b load >/dev/null
ikectl a load >/dev/null
check "with qkd_fallback = true, net2 comes up on ML-KEM alone" ikectl a up net2 --timeout 15
check "and says why the PPK was not used" reason_is_fallback
check "the fallback is counted" test "$(counter a qkd_fallbacks)" -ge 1
check "ping over net2 (fallback)" ping_net a 2

echo "--- daemon restart, with the Wireshark key log on"
check "iked A stops cleanly" pqm_iked_stop a
check "B dropped A's SAs after its DELETE" wait_until 5 b_dropped_a
KEY_LOG_A="$WORK/xdg/wireshark"
write_configs qkd 'qkd_fallback = true'
if [ "$HAVE_TSHARK" = 1 ]; then
    bg_ns b tshark -q -F pcap -i "$(pqm_stem)vb" -a duration:30 -f "udp port 500 or udp port 4500 or udp port 9" -w "$WORK/cap.pcap" >"$WORK/tshark.log" 2>&1
    tshark_pid=$BG_PID
    PQM_PIDS+=("$tshark_pid")
    # The capture runs once a probe datagram (to the discard port) has reached the file.
    capture_ready() {
        in_ns a bash -c "echo probe >/dev/udp/$OUTER_B/9" 2>/dev/null || true
        [ "$(stat -c %s "$WORK/cap.pcap" 2>/dev/null || echo 0)" -gt 24 ]
    }
    wait_until 15 capture_ready || echo "tshark did not start: $(cat "$WORK/tshark.log")"
fi
pqm_iked_start a "$BIN"
check "ikectl up net1 after the restart" ikectl a up net1 --timeout 15
check "ping A -> B over net1 after the restart" ping_net a 1
if [ "$HAVE_TSHARK" = 1 ]; then
    kill -INT "$tshark_pid" 2>/dev/null || true
    wait "$tshark_pid" 2>/dev/null || true
    XDG_CONFIG_HOME="$WORK/xdg" tshark -r "$WORK/cap.pcap" -o esp.enable_encryption_decode:TRUE -V >"$WORK/decoded.txt" 2>/dev/null || true
    check "the key log lets Wireshark decrypt IKE_AUTH (IDi gw-a-1.example)" grep -q "Identification Data:gw-a-1.example" "$WORK/decoded.txt"
    icmp_decrypted() { grep -q "Type: 8 (Echo (ping) request)" "$WORK/decoded.txt" && grep -q "Type: 0 (Echo (ping) reply)" "$WORK/decoded.txt"; }
    check "the key log lets Wireshark decrypt ESP both ways (pings inside)" icmp_decrypted
    check "the key files are mode 0600" test "$(stat -c %a "$KEY_LOG_A/esp_sa") $(stat -c %a "$KEY_LOG_A/ikev2_decryption_table")" = "600 600"
else
    skip_loudly "tshark unavailable: key log not checked"
fi
check "TCP A -> B over net1 after the restart, 4 MiB" transfer a 10.2.1.1 10.1.1.1 4

echo "--- raw ESP (IP protocol 50) instead of ESP in UDP"
check "iked A stops cleanly" pqm_iked_stop a
check "iked B stops cleanly" pqm_iked_stop b
ENCAP=raw KEY_LOG_A="" write_configs none
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
check "ikectl up net1 with raw ESP" ikectl a up net1 --timeout 15
check "IKE stayed on port 500 (no encapsulation)" test "$(sa_field a net1 .remote)" = "$OUTER_B:500"
check "ping A -> B over raw ESP" ping_net a 1
check "TCP B -> A over raw ESP, 4 MiB, every byte checked" transfer b 10.1.1.1 10.2.1.1 4
check "iked A stops cleanly" pqm_iked_stop a
check "iked B stops cleanly" pqm_iked_stop b

echo "--- certificates: a test CA generated now, ECDSA P-256 gateway certificates"
pqm_pki 1 2
AUTH=pubkey KEY_LOG_A="" write_configs none
check "iked --check accepts the certificate configuration" "$BIN/iked" --check --config "$WORK/a.toml"
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
check "list-conns shows auth pubkey" test "$(ikectl a --json list-conns | jq -r '.[0].auth')" = pubkey
check "ikectl up net1 with certificates" ikectl a up net1 --timeout 15
check "ikectl up net2 with certificates" ikectl a up net2 --timeout 15
check "ping A -> B over net1 (certificates)" ping_net a 1
check "ping B -> A over net2 (certificates)" ping_net b 2
check "TCP A -> B over net1 (certificates), 4 MiB, every byte checked" transfer a 10.2.1.1 10.1.1.1 4
check "TCP B -> A over net2 (certificates), 4 MiB, every byte checked" transfer b 10.1.2.1 10.2.2.1 4
check "iked A stops cleanly" pqm_iked_stop a
# A's key no longer matches its certificate: the reload fails with the precise error and the
# running configuration stays.
pqm_iked_start a "$BIN"
cp "$WORK/pki/gw-b.key" "$WORK/pki/gw-a.key"
bad_key_refused() {
    ! ikectl a load 2>"$WORK/load-badkey.err" &&
        grep -qF "a.toml:" "$WORK/load-badkey.err" &&
        grep -qF "connections.net1.local.key: $WORK/pki/gw-a.key does not match the certificate in $WORK/pki/gw-a.pem" "$WORK/load-badkey.err" &&
        grep -qF "the running configuration is unchanged" "$WORK/load-badkey.err"
}
check "a key that does not match its certificate is refused, naming both files" bad_key_refused
sed 's/^/     /' "$WORK/load-badkey.err"
check "the running certificate configuration still brings net1 up" ikectl a up net1 --timeout 15
check "iked A stops cleanly" pqm_iked_stop a
check "iked B stops cleanly" pqm_iked_stop b

echo "--- on-traffic initiation (start_action = trap) and INVALID_SPI"
KEY_LOG_A="" write_configs none 'start_action = "trap"'
pqm_iked_start b "$BIN"
pqm_iked_start a "$BIN"
check "no net2 SA before traffic" no_sa a net2
trap_ping() { ping_net a 2 1; }
check "a ping on net2 brings the tunnel up (acquire)" wait_until 10 trap_ping
check "net2 is established without ikectl up" established a net2
check "the acquire is counted (datapath and daemon)" test "$(ikectl a --json stats | jq '[.datapath.acquires, .daemon.acquires] | min')" -ge 1
check "the trapped packets were dropped, not sent in clear" test "$(ikectl a --json stats | jq '.datapath.trapped')" -ge 1
check "ping B -> A over the trapped net2" ping_net b 2
check "TCP A -> B over net2 (trap), 4 MiB, every byte checked" transfer a 10.2.2.1 10.1.2.1 4
received_before=$(ikectl b --json stats | jq '.engine.datagrams_received')
# ESP in UDP with an SPI A never gave out, five times from one socket (so one worker): one
# rate-limited report, one INVALID_SPI.
in_ns b bash -c "exec 3>/dev/udp/$OUTER_A/4500; for i in 1 2 3 4 5; do printf '\\xde\\xad\\xbe\\xef\\x00\\x00\\x00\\x0'\$i'%032d' 0 >&3; done"
invalid_spi_reported() { [ "$(counter a invalid_spi_reported)" = 1 ]; }
check "A reports the unknown SPI to B once (INVALID_SPI, rate-limited)" wait_until 5 invalid_spi_reported
b_got_it() { [ "$(ikectl b --json stats | jq '.engine.datagrams_received')" -gt "$received_before" ]; }
check "B received A's INFORMATIONAL" wait_until 5 b_got_it
check "the datapath counted 5 unknown-SPI packets, reported once" test "$(ikectl a --json stats | jq '"\(.datapath.unknown_spi) \(.datapath.unknown_spi_reports)"')" = '"5 1"'
check "net2 still carries traffic" ping_net a 2
check "iked A stops cleanly" pqm_iked_stop a
check "iked B stops cleanly" pqm_iked_stop b

echo "75-e2e-netns: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
