//! NAT traversal (RFC 7296 §2.23, RFC 3948): detection, the move to port 4500, UDP-encapsulated
//! Child SAs, keepalives and a NAT binding that changes under an established SA.

mod sim;

use std::sync::Arc;
use std::time::Duration;

use ikev2::{EndpointConfig, Lifetime};
use sim::{Nat, Pair, conn, current_sa, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

fn natted(tune: impl Fn(&mut ikev2::ConnectionConfig)) -> Pair {
    let p = default_provider();
    let mut r = conn("responder", PSK, HYBRID, "aes256gcm16");
    let mut i = conn("initiator", PSK, HYBRID, "aes256gcm16");
    for c in [&mut r, &mut i] {
        c.ike_lifetime = Lifetime::NONE;
        c.children[0].lifetime = Lifetime::NONE;
        tune(c);
    }
    let mut pair = Pair::new(EndpointConfig::default(), p, responder(r), p);
    pair.a_addr = "10.0.0.2:500".parse().expect("addr");
    pair.nat = Some(Nat::new("198.51.100.7"));
    pair.connect(Arc::new(i));
    pair.drive(1000);
    pair
}

#[test]
fn nat_is_detected_and_ike_moves_to_port_4500() {
    let pair = natted(|_| {});
    let a = pair.a_established().expect("up");
    assert!(a.nat_detected && pair.b_established().expect("up").nat_detected);
    pair.assert_child_keys_match();
    let (ca, cb) = (pair.a_children()[0], pair.b_children()[0]);
    assert!(ca.udp_encapsulation && cb.udp_encapsulation);
    assert_eq!(ca.remote, "192.0.2.2:4500".parse().expect("addr"));
    assert_eq!(ca.local.port(), 4500);
    assert_eq!(
        cb.remote.ip(),
        "198.51.100.7".parse::<std::net::IpAddr>().expect("addr"),
        "the responder sends to the NAT's public side"
    );
    assert_ne!(cb.remote.port(), 4500, "through the NAT's mapped port");
    assert_eq!(pair.b.sas()[0].remote, cb.remote);
}

#[test]
fn without_a_nat_esp_stays_raw_and_ike_on_500() {
    let p = default_provider();
    let mut pair = Pair::new(
        EndpointConfig::default(),
        p,
        responder(conn("responder", PSK, HYBRID, "aes256gcm16")),
        p,
    );
    pair.connect(Arc::new(conn("initiator", PSK, HYBRID, "aes256gcm16")));
    pair.drive(1000);
    assert!(!pair.a_established().expect("up").nat_detected);
    assert!(!pair.a_children()[0].udp_encapsulation);
    assert_eq!(pair.a_children()[0].remote.port(), 500);
}

#[test]
fn forced_encapsulation_without_a_nat() {
    let p = default_provider();
    let mut i = conn("initiator", PSK, HYBRID, "aes256gcm16");
    i.force_encap = true;
    let mut pair = Pair::new(
        EndpointConfig::default(),
        p,
        responder(conn("responder", PSK, HYBRID, "aes256gcm16")),
        p,
    );
    pair.connect(Arc::new(i));
    pair.drive(1000);
    assert!(pair.a_children()[0].udp_encapsulation && pair.b_children()[0].udp_encapsulation);
    assert_eq!(pair.b_children()[0].remote.port(), 4500);
}

#[test]
fn the_host_behind_the_nat_sends_keepalives() {
    let mut pair = natted(|_| {});
    let before = pair.wire.len();
    let until = pair.now + Duration::from_secs(65);
    pair.run_until(until);
    let keepalives: Vec<_> = pair.wire[before..]
        .iter()
        .filter(|s| s.data == [0xff])
        .collect();
    assert!(
        keepalives.len() >= 3,
        "one every 20 s, saw {}",
        keepalives.len()
    );
    assert!(
        keepalives.iter().all(|s| s.from_a),
        "only the side behind the NAT sends them"
    );
}

#[test]
fn a_changed_nat_binding_is_followed_after_an_authenticated_message() {
    let mut pair = natted(|c| c.dpd_delay = Some(Duration::from_secs(30)));
    let old = pair.b.sas()[0].remote;
    pair.nat.as_mut().expect("nat").rebind();
    // A's next message (a liveness check or a rekey) comes from a new public port.
    let sa = current_sa(&pair.a_events).expect("sa");
    let child = live_children(&pair.a_events)[0].inbound_spi;
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, child)
        .expect("the engine takes the command");
    pair.drive(1000);
    let new = pair.b.sas()[0].remote;
    assert_ne!(new, old);
    assert_eq!(pair.assert_live_children_match(), 1);
    assert_eq!(
        live_children(&pair.b_events)[0].remote,
        new,
        "the rekeyed Child SA uses the new binding"
    );
    assert!(pair.a_error().is_none() && pair.b_error().is_none());
}

#[test]
fn a_changed_nat_binding_is_reported_so_the_installed_esp_sas_can_move() {
    let mut pair = natted(|c| c.dpd_delay = Some(Duration::from_secs(30)));
    let old = pair.b.sas()[0].remote;
    pair.nat.as_mut().expect("nat").rebind();
    // A liveness check from A (DPD) is the first authenticated message from the new binding.
    let until = pair.now + Duration::from_secs(40);
    pair.run_until(until);
    let moved: Vec<_> = pair
        .b_events
        .iter()
        .filter_map(|e| match e {
            ikev2::Event::PeerAddressChanged { remote, .. } => Some(*remote),
            _ => None,
        })
        .collect();
    assert_eq!(moved.len(), 1, "one report for one rebinding: {moved:?}");
    assert_ne!(moved[0], old);
    assert_eq!(moved[0], pair.b.sas()[0].remote);
    assert!(
        !pair
            .a_events
            .iter()
            .any(|e| matches!(e, ikev2::Event::PeerAddressChanged { .. })),
        "the side behind the NAT saw no change"
    );
}
