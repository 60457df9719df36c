//! Keeping connections up: `start_action = "start"` tries again (backing off, `keyingtries`),
//! `dpd_action = "restart"` brings a tunnel back after its peer died, `close_action = "start"`
//! after the peer closed it, and a restarted peer's INITIAL_CONTACT clears the SAs it lost.
//! Two daemons on 127.0.0.1; a "crash" stops one without any DELETE.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{HYBRID, TestDaemon, site, wait_for};
use iked::proto::{Command, IkeSaView, StatsView};

const T: Option<Duration> = Some(Duration::from_secs(20));
/// Fast failure detection: a request is given up after 0.2 + 0.2 s.
const FAST: &str = "retransmit_timeout = 0.2\nretransmit_tries = 1\nretransmit_limit = 0.2";

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("free port")
        .port()
}

/// A's connection to B on `port` with recovery settings (`conn_extra` in the connection,
/// `child_extra` in its child).
fn initiator(port: u16, start: &str, conn_extra: &str, child_extra: &str) -> String {
    site("to-b", "a", "b", Some(port), start, HYBRID)
        .replace("start_action =", &format!("{conn_extra}\nstart_action ="))
        .replace(
            "esp_proposals = [\"aes256gcm16\"]",
            &format!("esp_proposals = [\"aes256gcm16\"]\n{child_extra}"),
        )
}

fn responder(port: u16) -> TestDaemon {
    TestDaemon::start_on(port, &site("from-a", "b", "a", None, "none", HYBRID), FAST)
}

fn sas(d: &TestDaemon) -> Vec<IkeSaView> {
    d.client().call_as(Command::ListSas, T).unwrap_or_default()
}

fn established(d: &TestDaemon) -> Vec<IkeSaView> {
    sas(d)
        .into_iter()
        .filter(|s| s.state == "established" && !s.children.is_empty())
        .collect()
}

fn counter(d: &TestDaemon, name: &str) -> u64 {
    let s: StatsView = d.client().call_as(Command::Stats, T).expect("stats");
    s.daemon.get(name).copied().unwrap_or(0)
}

/// Waits (bounded) until `d` has exactly one established IKE SA other than `old`.
fn up_again(d: &TestDaemon, old: Option<&str>, within: Duration) -> IkeSaView {
    wait_for(within, || match &established(d)[..] {
        [one] if Some(one.id.as_str()) != old => Some(one.clone()),
        _ => None,
    })
    .unwrap_or_else(|| panic!("no new IKE SA; listed: {:?}", sas(d)))
}

#[test]
fn start_action_start_keeps_trying_until_the_peer_appears() {
    let port = free_port();
    let a = TestDaemon::start(&initiator(port, "start", "", ""), FAST);
    // Nobody answers: the first attempt fails and another is scheduled.
    wait_for(Duration::from_secs(10), || {
        (counter(&a, "connection_restarts") >= 1).then_some(())
    })
    .expect("A tried again");
    let _b = responder(port);
    up_again(&a, None, Duration::from_secs(20));
}

#[test]
fn keyingtries_ends_the_attempts() {
    let port = free_port();
    let a = TestDaemon::start(&initiator(port, "start", "keyingtries = 2", ""), FAST);
    wait_for(Duration::from_secs(15), || {
        (counter(&a, "restarts_given_up") == 1).then_some(())
    })
    .expect("A gave up");
    assert_eq!(
        counter(&a, "connection_restarts"),
        1,
        "one retry after the first attempt"
    );
    assert!(sas(&a).is_empty(), "{:?}", sas(&a));
}

#[test]
fn dpd_action_restart_brings_the_tunnel_back_after_the_peer_died() {
    let port = free_port();
    let b = responder(port);
    let a = TestDaemon::start(
        &initiator(
            port,
            "start",
            "dpd_delay = \"1s\"",
            "dpd_action = \"restart\"",
        ),
        FAST,
    );
    let first = up_again(&a, None, Duration::from_secs(15));
    b.crash();
    // DPD finds B gone; A keeps trying (backing off) until B is back.
    wait_for(Duration::from_secs(15), || {
        established(&a).is_empty().then_some(())
    })
    .expect("A noticed the dead peer");
    let _b = responder(port);
    let second = up_again(&a, Some(&first.id), Duration::from_secs(30));
    assert_ne!(
        second.children[0].inbound_spi,
        first.children[0].inbound_spi
    );
}

#[test]
fn dpd_action_clear_leaves_the_tunnel_down() {
    let port = free_port();
    let b = responder(port);
    let a = TestDaemon::start(&initiator(port, "none", "dpd_delay = \"1s\"", ""), FAST);
    let _ = a.up("to-b");
    up_again(&a, None, Duration::from_secs(15));
    b.crash();
    wait_for(Duration::from_secs(15), || sas(&a).is_empty().then_some(()))
        .expect("A cleared the SA");
    assert_eq!(counter(&a, "connection_restarts"), 0);
}

#[test]
fn close_action_start_creates_again_what_the_peer_closed() {
    let port = free_port();
    let b = responder(port);
    let a = TestDaemon::start(
        &initiator(port, "start", "", "close_action = \"start\""),
        FAST,
    );
    let first = up_again(&a, None, Duration::from_secs(15));
    let _ = b
        .client()
        .call(
            Command::Down {
                name: "from-a".into(),
            },
            T,
        )
        .expect("down on B");
    let second = up_again(&a, Some(&first.id), Duration::from_secs(15));
    assert_eq!(counter(&a, "connection_restarts"), 1);
    assert_eq!(established(&b).len(), 1, "B has the new SA only");
    assert_ne!(second.id, first.id);
}

#[test]
fn a_restarted_peer_with_initial_contact_replaces_its_lost_sa() {
    let b_port = free_port();
    let b = responder(b_port);
    let a = TestDaemon::start(&initiator(b_port, "start", "", ""), FAST);
    let first = up_again(&a, None, Duration::from_secs(15));
    assert_eq!(established(&b).len(), 1);
    a.crash();
    let a2 = TestDaemon::start(&initiator(b_port, "start", "", ""), FAST);
    up_again(&a2, None, Duration::from_secs(15));
    // B dropped the SA of A's first life at once (no DPD needed) and keeps the new one.
    let on_b = wait_for(Duration::from_secs(5), || match &established(&b)[..] {
        [one] if one.children[0].outbound_spi != first.children[0].inbound_spi => Some(one.clone()),
        _ => None,
    });
    assert!(on_b.is_some(), "B lists {:?}", sas(&b));
}
