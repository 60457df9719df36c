//! `rekey` over the control socket: the IKE SA and a Child SA are replaced on request, the
//! answer names the old and the new SA, both peers list the successor, and bad requests say why.

mod common;

use std::time::Duration;

use common::{HYBRID, TestDaemon, site, wait_for};
use iked::client::ClientError;
use iked::proto::{Command, ErrorCode, IkeSaView, RekeyView, UpView};

const T: Option<Duration> = Some(Duration::from_secs(20));

fn rekey(d: &TestDaemon, name: &str, child: Option<&str>) -> Result<RekeyView, ClientError> {
    d.client().call_as(
        Command::Rekey {
            name: name.into(),
            child: child.map(Into::into),
            timeout_ms: Some(15_000),
        },
        T,
    )
}

fn code(e: ClientError) -> ErrorCode {
    match e {
        ClientError::Daemon(b) => b.code,
        other => panic!("expected a daemon error, got {other}"),
    }
}

fn pair() -> (TestDaemon, TestDaemon, UpView) {
    let b = TestDaemon::start(&site("from-a", "b", "a", None, "none", HYBRID), "");
    let a = TestDaemon::start(
        &site("to-b", "a", "b", Some(b.ike_port()), "none", HYBRID),
        "",
    );
    let up: UpView = a.up("to-b").expect("up");
    (a, b, up)
}

/// The one IKE SA `d` lists once it has exactly one Child SA again (after the old one is
/// deleted).
fn settled(d: &TestDaemon) -> IkeSaView {
    wait_for(Duration::from_secs(5), || {
        let sas: Vec<IkeSaView> = d.client().call_as(Command::ListSas, T).ok()?;
        match &sas[..] {
            [one] if one.children.len() == 1 && one.state == "established" => Some(one.clone()),
            _ => None,
        }
    })
    .expect("one IKE SA with one Child SA")
}

#[test]
fn child_sa_rekey_replaces_the_spis_on_both_sides() {
    let (a, b, up) = pair();
    let old = &up.ike_sa.children[0];
    let v = rekey(&a, "to-b", Some("net")).expect("rekey child");
    assert_eq!(v.connection, "to-b");
    assert_eq!(v.child.as_deref(), Some("net"));
    assert_eq!(v.ike_sa, up.ike_sa.id);
    assert_eq!(v.old, old.inbound_spi);
    assert_ne!(v.new, old.inbound_spi);
    let on_a = settled(&a);
    assert_eq!(on_a.id, up.ike_sa.id, "the IKE SA stays");
    assert_eq!(on_a.children[0].inbound_spi, v.new);
    let on_b = settled(&b);
    assert_eq!(on_b.children[0].outbound_spi, v.new);
    assert_eq!(on_b.children[0].inbound_spi, on_a.children[0].outbound_spi);
}

#[test]
fn ike_sa_rekey_moves_the_child_sas_to_the_new_ike_sa() {
    let (a, b, up) = pair();
    let v = rekey(&a, "to-b", None).expect("rekey IKE");
    assert_eq!(v.child, None);
    assert_eq!(v.old, up.ike_sa.id);
    assert_ne!(v.new, up.ike_sa.id);
    assert_eq!(v.ike_sa, v.new);
    let on_a = settled(&a);
    assert_eq!(on_a.id, v.new);
    assert_eq!(
        on_a.children[0].inbound_spi, up.ike_sa.children[0].inbound_spi,
        "an IKE rekey keeps the Child SAs"
    );
    let on_b = settled(&b);
    assert_eq!(
        on_b.children[0].outbound_spi,
        up.ike_sa.children[0].inbound_spi
    );
    // The new IKE SA works: a Child SA rekey runs in it.
    let c = rekey(&a, "to-b", Some("net")).expect("child rekey in the new IKE SA");
    assert_eq!(c.ike_sa, v.new);
}

#[test]
fn rekey_errors_say_what_is_missing() {
    let (a, _b, _up) = pair();
    assert_eq!(
        code(rekey(&a, "nope", None).expect_err("unknown")),
        ErrorCode::NotFound
    );
    let e = rekey(&a, "to-b", Some("web")).expect_err("unknown child");
    assert!(e.to_string().contains("has no Child SA named 'web'"), "{e}");
    let down: serde_json::Value = a
        .client()
        .call_as(
            Command::Down {
                name: "to-b".into(),
            },
            T,
        )
        .expect("down");
    assert!(down["delete_sent"].as_bool().unwrap_or(false));
    let e = rekey(&a, "to-b", None).expect_err("no SA");
    assert!(
        e.to_string()
            .contains("connection 'to-b' has no established IKE SA (try: ikectl up to-b)"),
        "{e}"
    );
}
