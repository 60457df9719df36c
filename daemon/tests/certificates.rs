//! Certificate authentication in the configuration (`auth = "pubkey"`): files load relative to
//! the configuration, every bad file gets its own precise error, and two daemons authenticate
//! each other with a generated test CA.

mod common;
#[allow(dead_code, unreachable_pub)]
#[path = "common/pki.rs"]
mod pki;

use std::path::Path;
use std::time::Duration;

use common::{HYBRID, TestDaemon, wait_for};
use iked::config::{AuthMethod, Config};
use iked::proto::{Command, ConnView, IkeSaView, UpView};
use ikev2::AuthConfig;
use pki::{write_other_ca, write_pki};

const T: Option<Duration> = Some(Duration::from_secs(20));

/// One side of a certificate pair: `me` and `peer` are certificate names in the same
/// directory; `id` is our `local.id` line (or nothing).
fn cert_site(name: &str, me: &str, peer: &str, peer_port: Option<u16>, id: &str) -> String {
    let (local_net, remote_net) = if me == "moon" {
        ("10.1.0.0/16", "10.2.0.0/16")
    } else {
        ("10.2.0.0/16", "10.1.0.0/16")
    };
    let remote = match peer_port {
        Some(p) => format!("remote_addrs = [\"127.0.0.1\"]\nremote_port = {p}"),
        None => "remote_addrs = [\"%any\"]".into(),
    };
    format!(
        r#"
[connections.{name}]
{remote}
proposals = ["{HYBRID}"]

[connections.{name}.local]
auth = "pubkey"
{id}
certs = ["{me}.pem"]
key = "{me}.key"

[connections.{name}.remote]
auth = "pubkey"
id = "{peer}.example"
cacerts = ["ca.pem"]

[connections.{name}.children.net]
local_ts = ["{local_net}"]
remote_ts = ["{remote_net}"]
"#
    )
}

/// Parses `body` as a file in `dir`, where the PEM files are.
fn parse_in(dir: &Path, body: &str) -> Result<Config, String> {
    let text = format!("[daemon]\nlisten = [\"127.0.0.1\"]\n{body}");
    Config::parse(&dir.join("iked.toml"), &text).map_err(|e| e.to_string())
}

#[test]
fn pubkey_connection_loads_with_the_subject_as_default_identity() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_pki(dir.path(), &["moon", "sun"]);
    let config = parse_in(dir.path(), &cert_site("c", "moon", "sun", Some(500), ""))
        .unwrap_or_else(|e| panic!("{e}"));
    let conn = &config.connections[0];
    assert_eq!(conn.auth_method(), AuthMethod::Pubkey);
    assert_eq!(conn.local_id, "CN=moon, O=Test");
    assert_eq!(conn.remote_id.as_deref(), Some("sun.example"));
    assert!(matches!(conn.to_engine().auth, AuthConfig::Certificate(_)));

    let with_id = cert_site("c", "moon", "sun", Some(500), "id = \"moon.example\"");
    let config = parse_in(dir.path(), &with_id).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.connections[0].local_id, "moon.example");
}

#[test]
fn each_bad_certificate_setting_gets_its_precise_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write_pki(d, &["moon", "sun"]);
    write_other_ca(d);
    std::fs::write(d.join("garbage.pem"), "not a certificate\n").expect("write");
    std::fs::write(
        d.join("sec1.key"),
        "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n",
    )
    .expect("write");
    let base = cert_site("c", "moon", "sun", Some(500), "");
    let p = d.display();
    // (replace, with, expected error); line numbers count the two [daemon] lines.
    let cases: Vec<(&str, &str, String)> = vec![
        (
            "certs = [\"moon.pem\"]",
            "certs = [\"missing.pem\"]",
            format!(
                "{p}/iked.toml:12: connections.c.local.certs: cannot read {p}/missing.pem: No such file or directory (os error 2)"
            ),
        ),
        (
            "certs = [\"moon.pem\"]",
            "certs = [\"garbage.pem\"]",
            format!(
                "{p}/iked.toml:12: connections.c.local.certs: {p}/garbage.pem: no PEM certificate (-----BEGIN CERTIFICATE-----) found"
            ),
        ),
        (
            "certs = [\"moon.pem\"]",
            "certs = [\"moon.key\"]",
            format!(
                "{p}/iked.toml:12: connections.c.local.certs: {p}/moon.key: holds a 'PRIVATE KEY' block where a CERTIFICATE was expected"
            ),
        ),
        (
            "key = \"moon.key\"",
            "key = \"sun.key\"",
            format!(
                "{p}/iked.toml:13: connections.c.local.key: {p}/sun.key does not match the certificate in {p}/moon.pem"
            ),
        ),
        (
            "key = \"moon.key\"",
            "key = \"sec1.key\"",
            format!(
                "{p}/iked.toml:13: connections.c.local.key: {p}/sec1.key: a 'EC PRIVATE KEY' is not PKCS#8; convert it with `openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY8`"
            ),
        ),
        (
            "key = \"moon.key\"",
            "key = \"moon.pem\"",
            format!(
                "{p}/iked.toml:13: connections.c.local.key: {p}/moon.pem: holds a 'CERTIFICATE' block where a PRIVATE KEY (PKCS#8) was expected"
            ),
        ),
        (
            "key = \"moon.key\"\n",
            "",
            format!(
                "{p}/iked.toml:9: connections.c.local.key: required with auth = \"pubkey\": the PKCS#8 PEM private key of certs[0]"
            ),
        ),
        (
            "cacerts = [\"ca.pem\"]\n",
            "",
            format!(
                "{p}/iked.toml:15: connections.c.remote.cacerts: required with auth = \"pubkey\" (a list of PEM files)"
            ),
        ),
        (
            "cacerts = [\"ca.pem\"]",
            "cacerts = [\"nope/ca.pem\"]",
            format!(
                "{p}/iked.toml:18: connections.c.remote.cacerts: cannot read {p}/nope/ca.pem: No such file or directory (os error 2)"
            ),
        ),
        (
            "auth = \"pubkey\"\n\ncerts",
            "auth = \"pubkey\"\nid = \"sun.example\"\ncerts",
            format!(
                "{p}/iked.toml:11: connections.c.local.id: 'sun.example' is not a subjectAltName of the certificate (the peer would refuse it); omit id to use the subject 'CN=moon, O=Test'"
            ),
        ),
        (
            "auth = \"pubkey\"\n\ncerts",
            "auth = \"pubkey\"\nid = \"CN=sun\"\ncerts",
            format!(
                "{p}/iked.toml:11: connections.c.local.id: 'CN=sun' is not the certificate's subject 'CN=moon, O=Test'"
            ),
        ),
        (
            "id = \"sun.example\"\ncacerts",
            "id = \"sun.example\"\ncerts = [\"sun.pem\"]\ncacerts",
            format!("{p}/iked.toml:18: connections.c.remote.certs: belongs in [local]"),
        ),
        (
            "auth = \"pubkey\"\nid = \"sun.example\"",
            "auth = \"psk\"\nid = \"sun.example\"",
            format!(
                "{p}/iked.toml:16: connections.c.remote.auth: must equal local.auth: mixing psk and pubkey is not supported"
            ),
        ),
        (
            "auth = \"pubkey\"\nid = \"sun.example\"",
            "auth = \"x509\"\nid = \"sun.example\"",
            format!(
                "{p}/iked.toml:16: connections.c.remote.auth: unknown method 'x509' (use psk or pubkey)"
            ),
        ),
    ];
    for (from, to, expected) in cases {
        assert!(base.contains(from), "base lacks {from:?}");
        let text = base.replacen(from, to, 1);
        match parse_in(d, &text) {
            Ok(_) => panic!("{to:?}: expected {expected}"),
            Err(e) => assert_eq!(e, expected, "case {to:?}"),
        }
    }
}

#[test]
fn certificate_settings_with_psk_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_pki(dir.path(), &["moon"]);
    let body = common::site("c", "a", "b", Some(500), "none", HYBRID).replace(
        "auth = \"psk\"\nid = \"a.example\"",
        "auth = \"psk\"\nid = \"a.example\"\ncerts = [\"moon.pem\"]",
    );
    let p = dir.path().display();
    assert_eq!(
        parse_in(dir.path(), &body).err().as_deref(),
        Some(
            format!("{p}/iked.toml:13: connections.c.local.certs: only with auth = \"pubkey\"")
                .as_str()
        )
    );
}

/// Writes the PKI into the daemon's directory, then loads the certificate connection.
fn start_with_certs(body: &str) -> TestDaemon {
    let d = TestDaemon::start("", "");
    write_pki(d.dir.path(), &["moon", "sun"]);
    reload(&d, body);
    d
}

/// Rewrites `d`'s configuration file with `body` and has it load the file.
fn reload(d: &TestDaemon, body: &str) {
    d.rewrite(body, "");
    let _: serde_json::Value = d
        .client()
        .call_as(Command::Load { path: None }, T)
        .unwrap_or_else(|e| panic!("load: {e}"));
}

#[test]
fn two_daemons_authenticate_with_certificates() {
    let sun = TestDaemon::start("", "");
    let moon = TestDaemon::start("", "");
    // One CA for both: generate it in sun's directory and copy it over.
    write_pki(sun.dir.path(), &["moon", "sun"]);
    for f in ["ca.pem", "moon.pem", "moon.key"] {
        std::fs::copy(sun.dir.path().join(f), moon.dir.path().join(f)).expect("copy");
    }
    // moon expects the FQDN, so sun must send it rather than its subject DN.
    reload(
        &sun,
        &cert_site("from-moon", "sun", "moon", None, "id = \"sun.example\""),
    );
    reload(
        &moon,
        &cert_site(
            "to-sun",
            "moon",
            "sun",
            Some(sun.ike_port()),
            "id = \"moon.example\"",
        ),
    );
    let conns: Vec<ConnView> = moon.client().call_as(Command::ListConns, T).expect("list");
    assert_eq!(conns[0].auth, "pubkey");
    let up: UpView = moon.up("to-sun").unwrap_or_else(|e| panic!("up: {e}"));
    assert_eq!(up.ike_sa.state, "established");
    assert_eq!(up.ike_sa.children.len(), 1);
    let on_sun = wait_for(Duration::from_secs(5), || {
        let sas: Vec<IkeSaView> = sun.client().call_as(Command::ListSas, T).ok()?;
        sas.into_iter().find(|s| !s.children.is_empty())
    })
    .expect("sun lists the SA");
    assert_eq!(on_sun.connection, "from-moon");
    assert_eq!(
        on_sun.children[0].inbound_spi,
        up.ike_sa.children[0].outbound_spi
    );
}

#[test]
fn a_peer_from_another_ca_is_refused() {
    let sun = start_with_certs(&cert_site(
        "from-moon",
        "sun",
        "moon",
        None,
        "id = \"sun.example\"",
    ));
    let moon = TestDaemon::start("", "");
    // moon has its own CA: sun's chain does not lead to it, nor moon's to sun's.
    write_pki(moon.dir.path(), &["moon"]);
    reload(
        &moon,
        &cert_site(
            "to-sun",
            "moon",
            "sun",
            Some(sun.ike_port()),
            "id = \"moon.example\"",
        ),
    );
    let err = moon.up("to-sun").expect_err("untrusted peer must fail");
    let msg = err.to_string();
    assert!(msg.contains("failed"), "{msg}");
    let sas: Vec<IkeSaView> = sun.client().call_as(Command::ListSas, T).expect("list");
    assert!(sas.iter().all(|s| s.state != "established"), "{sas:?}");
}
