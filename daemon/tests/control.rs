//! The control protocol over a real Unix socket, against in-process daemons.

mod common;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use common::{HYBRID, TestDaemon, site, wait_for};
use iked::client::ClientError;
use iked::proto::{
    Command, ConnView, DownView, ErrorCode, IkeSaView, LoadView, MonitorEvent, StatsView, UpView,
    VersionView,
};

const T: Option<Duration> = Some(Duration::from_secs(20));

fn code(e: ClientError) -> ErrorCode {
    match e {
        ClientError::Daemon(b) => b.code,
        other => panic!("daemon error expected, got {other}"),
    }
}

#[test]
fn version_and_socket_mode() {
    let d = TestDaemon::start(&site("b", "a", "b", Some(9), "none", HYBRID), "");
    let v: VersionView = d.client().call_as(Command::Version, T).expect("version");
    assert_eq!(
        v,
        VersionView {
            daemon: env!("CARGO_PKG_VERSION").into(),
            protocol: 1
        }
    );
    let mode = std::fs::metadata(&d.socket)
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn malformed_requests_get_errors_and_the_connection_survives() {
    let d = TestDaemon::start(&site("b", "a", "b", Some(9), "none", HYBRID), "");
    let mut c = d.client();
    let r = c.send_raw("this is not json").expect("io").expect("answer");
    assert_eq!(r.error.expect("error").code, ErrorCode::BadRequest);
    let r = c
        .send_raw(r#"{"version":99,"command":"version"}"#)
        .expect("io")
        .expect("answer");
    let e = r.error.expect("error");
    assert_eq!(e.code, ErrorCode::UnsupportedVersion);
    assert_eq!(
        e.message,
        "this daemon speaks protocol version 1, the request has 99"
    );
    let r = c
        .send_raw(r#"{"version":1,"command":"explode"}"#)
        .expect("io")
        .expect("answer");
    assert_eq!(r.error.expect("error").code, ErrorCode::BadRequest);
    let v: VersionView = c.call_as(Command::Version, T).expect("still usable");
    assert_eq!(v.protocol, 1);
}

#[test]
fn unknown_names_are_not_found() {
    let d = TestDaemon::start(&site("b", "a", "b", Some(9), "none", HYBRID), "");
    let mut c = d.client();
    let e = c
        .call(
            Command::Up {
                name: "nope".into(),
                timeout_ms: None,
            },
            T,
        )
        .expect_err("unknown");
    assert_eq!(code(e), ErrorCode::NotFound);
    let e = c
        .call(
            Command::Down {
                name: "nope".into(),
            },
            T,
        )
        .expect_err("unknown");
    assert_eq!(code(e), ErrorCode::NotFound);
    let down: DownView = c
        .call_as(Command::Down { name: "b".into() }, T)
        .expect("idempotent");
    assert!(down.closed.is_empty());
}

#[test]
fn list_conns_shows_the_configuration() {
    let d = TestDaemon::start(&site("site-b", "a", "b", Some(4242), "none", HYBRID), "");
    let conns: Vec<ConnView> = d.client().call_as(Command::ListConns, T).expect("list");
    assert_eq!(conns.len(), 1);
    let c = &conns[0];
    assert_eq!(c.name, "site-b");
    assert_eq!(c.remote_addrs, vec!["127.0.0.1"]);
    assert_eq!(c.remote_port, 4242);
    assert_eq!(c.local_id, "a.example");
    assert_eq!(c.proposals, vec![HYBRID]);
    assert_eq!(c.children[0].local_ts, vec!["10.1.0.0/16"]);
    assert_eq!(c.children[0].esp_proposals, vec!["aes256gcm16"]);
}

#[test]
fn a_broken_file_leaves_the_running_configuration() {
    let d = TestDaemon::start(&site("site-b", "a", "b", Some(9), "none", HYBRID), "");
    d.rewrite(
        &site(
            "site-b",
            "a",
            "b",
            Some(9),
            "none",
            "aes256gcm16-prfsha384-x25519-ke1_kyber",
        ),
        "",
    );
    let e = d
        .client()
        .call(Command::Load { path: None }, T)
        .expect_err("broken");
    let ClientError::Daemon(body) = e else {
        panic!("daemon error expected")
    };
    assert_eq!(body.code, ErrorCode::Config);
    let file = d.config_path.display();
    assert_eq!(
        body.message,
        format!(
            "{file}:11: connections.site-b.proposals: unknown algorithm 'ke1_kyber'\nthe running configuration is unchanged"
        )
    );
    let conns: Vec<ConnView> = d.client().call_as(Command::ListConns, T).expect("list");
    assert_eq!(conns[0].proposals, vec![HYBRID]);
}

#[test]
fn load_reports_changes_and_monitor_sees_them() {
    let d = TestDaemon::start(
        &format!(
            "{}{}",
            site("one", "a", "b", Some(9), "none", HYBRID),
            site("two", "a", "c", Some(9), "none", HYBRID)
        ),
        "",
    );
    let mut monitor = d.client();
    let _: serde_json::Value = monitor.call(Command::Monitor, T).expect("monitor");
    d.rewrite(
        &format!(
            "{}{}",
            site("one", "a", "b", Some(9), "none", HYBRID),
            site("three", "a", "d", Some(9), "none", HYBRID)
        ),
        "",
    );
    let v: LoadView = d
        .client()
        .call_as(Command::Load { path: None }, T)
        .expect("load");
    assert_eq!(
        (v.added, v.removed, v.unchanged),
        (
            vec!["three".to_string()],
            vec!["two".to_string()],
            vec!["one".to_string()]
        )
    );
    let event = monitor.next_event(T).expect("event").expect("line");
    let MonitorEvent::ConfigLoaded { load } = event.event else {
        panic!("config-loaded expected")
    };
    assert_eq!(load.added, vec!["three"]);
}

#[test]
fn metrics_endpoint_serves_prometheus_text() {
    let d = TestDaemon::start(
        &site("b", "a", "b", Some(9), "none", HYBRID),
        "metrics = \"127.0.0.1:0\"\n",
    );
    let addr = d.daemon().metrics_addr().expect("metrics on");
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").expect("write");
        let mut out = String::new();
        s.read_to_string(&mut out).expect("read");
        out
    };
    let page = get("/metrics");
    assert!(
        page.starts_with("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4"),
        "{page}"
    );
    assert!(page.contains("\n# TYPE iked_ike_datagrams_received_total counter\niked_ike_datagrams_received_total 0\n"), "{page}");
    assert!(
        page.contains("\niked_ike_sas{state=\"established\"} 0\n"),
        "{page}"
    );
    assert!(get("/").starts_with("HTTP/1.1 404 Not Found"));
}

/// Two daemons: `up` on A brings up a hybrid IKE SA that both list; reloading an unchanged file
/// keeps it, changing the connection closes it, and `down` closes the new one.
#[test]
fn up_list_reload_and_down_between_two_daemons() {
    let b = TestDaemon::start(&site("from-a", "b", "a", None, "none", HYBRID), "");
    let a_body = site("to-b", "a", "b", Some(b.ike_port()), "none", HYBRID);
    let a = TestDaemon::start(&a_body, "");
    let up: UpView = a
        .client()
        .call_as(
            Command::Up {
                name: "to-b".into(),
                timeout_ms: Some(15_000),
            },
            T,
        )
        .expect("up");
    assert!(!up.already_up);
    assert_eq!(up.ike_sa.state, "established");
    assert_eq!(up.ike_sa.proposal.as_deref(), Some(HYBRID));
    assert_eq!(up.ike_sa.intermediate_exchanges, 1);
    assert_eq!(up.ike_sa.children.len(), 1);
    let b_sas = wait_for(Duration::from_secs(5), || {
        let sas: Vec<IkeSaView> = b.client().call_as(Command::ListSas, T).ok()?;
        sas.into_iter().find(|s| !s.children.is_empty())
    })
    .expect("responder lists the SA");
    assert_eq!(b_sas.connection, "from-a");
    assert_eq!(b_sas.proposal.as_deref(), Some(HYBRID));
    assert_eq!(
        b_sas.children[0].inbound_spi,
        up.ike_sa.children[0].outbound_spi
    );
    let again: UpView = a
        .client()
        .call_as(
            Command::Up {
                name: "to-b".into(),
                timeout_ms: None,
            },
            T,
        )
        .expect("up again");
    assert!(again.already_up);

    let v: LoadView = a
        .client()
        .call_as(Command::Load { path: None }, T)
        .expect("reload");
    assert_eq!(v.unchanged, vec!["to-b"]);
    let sas: Vec<IkeSaView> = a.client().call_as(Command::ListSas, T).expect("list");
    assert_eq!(sas.len(), 1, "unchanged connection keeps its SA");

    a.rewrite(&a_body.replace("10.2.0.0/16", "10.2.0.0/24"), "");
    let v: LoadView = a
        .client()
        .call_as(Command::Load { path: None }, T)
        .expect("reload");
    assert_eq!(v.changed, vec!["to-b"]);
    let sas: Vec<IkeSaView> = a.client().call_as(Command::ListSas, T).expect("list");
    assert!(sas.is_empty(), "changed connection's SA is closed: {sas:?}");

    let stats: StatsView = a.client().call_as(Command::Stats, T).expect("stats");
    assert_eq!(stats.engine["ike_sas_established"], 1);
    let down: DownView = a
        .client()
        .call_as(
            Command::Down {
                name: "to-b".into(),
            },
            T,
        )
        .expect("down");
    assert!(down.closed.is_empty());
}
