//! `ikectl` as a user runs it: exit codes, output snapshots, and an end-to-end hybrid
//! X25519 + ML-KEM-768 IKE SA between two daemons on 127.0.0.1.

#[path = "../../daemon/tests/common/mod.rs"]
mod common;
mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{HYBRID, TestDaemon, site, wait_for};
use support::{ikectl, stderr, stdout};

#[test]
fn help_explains_commands_and_exit_codes() {
    let o = ikectl(Path::new("/nonexistent"), &["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for needle in [
        "list-sas",
        "monitor",
        "--json",
        "--socket",
        "Exit status: 0 success, 1 the daemon reported an error, 2 usage error",
        "4 timed out",
        "rekey site-b --child net",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}

#[test]
fn usage_errors_exit_2() {
    let o = ikectl(Path::new("/nonexistent"), &["up"]);
    assert_eq!(o.status.code(), Some(2));
    let o = ikectl(Path::new("/nonexistent"), &["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn unreachable_daemon_exits_3() {
    let o = ikectl(Path::new("/nonexistent/iked.sock"), &["list-sas"]);
    assert_eq!(o.status.code(), Some(3));
    assert_eq!(
        stderr(&o),
        "ikectl: cannot reach iked at /nonexistent/iked.sock: No such file or directory (os error 2) (is it running? are you root? see --socket)\n"
    );
}

#[test]
fn daemon_errors_exit_1_with_the_message() {
    let d = TestDaemon::start(&site("site-b", "a", "b", Some(9), "none", HYBRID), "");
    let o = ikectl(&d.socket, &["up", "nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "ikectl: no connection named 'nope'\n");
    d.rewrite(
        &site("site-b", "a", "b", Some(9), "none", HYBRID).replace("10.1.0.0/16", "10.1.0.1/16"),
        "",
    );
    let o = ikectl(&d.socket, &["load"]);
    assert_eq!(o.status.code(), Some(1));
    let file = d.config_path.display();
    assert_eq!(
        stderr(&o),
        format!(
            "ikectl: {file}:23: connections.site-b.children.net.local_ts: '10.1.0.1/16' has host bits set (did you mean 10.1.0.0/16?)\nthe running configuration is unchanged\n"
        )
    );
}

#[test]
fn list_conns_and_version_output() {
    let d = TestDaemon::start(&site("site-b", "a", "b", Some(4500), "none", HYBRID), "");
    let o = ikectl(&d.socket, &["list-conns"]);
    assert_eq!(o.status.code(), Some(0));
    let expected = "\
NAME    LOCAL ID   REMOTE ADDRS  PORT  REMOTE ID  AUTH  PPK  START  IKE SAS  PROPOSALS
site-b  a.example  127.0.0.1     4500  b.example  psk   -    none   0        aes256gcm16-prfsha384-x25519-ke1_mlkem768

CONNECTION  CHILD  LOCAL TS     REMOTE TS    ESP PROPOSALS
site-b      net    10.1.0.0/16  10.2.0.0/16  aes256gcm16
";
    assert_eq!(stdout(&o), expected);
    let o = ikectl(&d.socket, &["list-conns", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["name"], "site-b");
    assert_eq!(v[0]["children"][0]["remote_ts"][0], "10.2.0.0/16");
    let o = ikectl(&d.socket, &["version"]);
    let v = env!("CARGO_PKG_VERSION");
    assert_eq!(
        stdout(&o),
        format!("ikectl {v}\niked   {v}\ncontrol protocol 1\n")
    );
    let o = ikectl(&d.socket, &["list-sas"]);
    assert_eq!(stdout(&o), "no IKE SAs\n");
}

#[test]
fn hybrid_ike_sa_between_two_daemons_via_ikectl_up() {
    let b = TestDaemon::start(&site("site-a", "b", "a", None, "none", HYBRID), "");
    let a = TestDaemon::start(
        &site("site-b", "a", "b", Some(b.ike_port()), "none", HYBRID),
        "",
    );

    let (tx, rx) = mpsc::channel();
    let mut monitor = Command::new(env!("CARGO_BIN_EXE_ikectl"))
        .arg("--socket")
        .arg(&b.socket)
        .args(["monitor", "--json"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("monitor");
    let out = monitor.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    // The monitor subscribes before its first event only once its request is answered; a
    // version call on the same daemon after it starts is a cheap barrier.
    wait_for(Duration::from_secs(5), || {
        ikectl(&b.socket, &["version"])
            .status
            .success()
            .then_some(())
    })
    .expect("daemon answers");

    let o = ikectl(&a.socket, &["up", "site-b", "--timeout", "20"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let port = b.ike_port();
    assert!(text.starts_with("site-b: IKE SA "), "{text}");
    assert!(
        text.contains(&format!(
            " established with 127.0.0.1:{port} ({HYBRID})\n  child net: in "
        )),
        "{text}"
    );

    let sas = |d: &TestDaemon| -> serde_json::Value {
        let o = ikectl(&d.socket, &["list-sas", "--json"]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).expect("json")
    };
    let a_sas = sas(&a);
    let b_sas = wait_for(Duration::from_secs(5), || {
        Some(sas(&b)).filter(|v| v[0]["children"].as_array().is_some_and(|c| !c.is_empty()))
    })
    .expect("responder SA");
    for (v, conn, initiator) in [(&a_sas, "site-b", true), (&b_sas, "site-a", false)] {
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
        assert_eq!(v[0]["connection"], conn);
        assert_eq!(v[0]["state"], "established");
        assert_eq!(v[0]["initiator"], initiator);
        assert_eq!(v[0]["proposal"], HYBRID);
        assert_eq!(v[0]["intermediate_exchanges"], 1);
        assert_eq!(v[0]["children"][0]["proposal"], "aes256gcm16");
    }
    assert_eq!(a_sas[0]["local_spi"], b_sas[0]["remote_spi"]);
    assert_eq!(
        a_sas[0]["children"][0]["outbound_spi"],
        b_sas[0]["children"][0]["inbound_spi"]
    );
    assert_eq!(a_sas[0]["children"][0]["local_ts"][0], "10.1.0.0/16");
    assert_eq!(b_sas[0]["children"][0]["local_ts"][0], "10.2.0.0/16");

    let seen: Vec<String> = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(5)).ok())
        .take(2)
        .collect();
    let _ = monitor.kill();
    let _ = monitor.wait();
    assert!(
        seen.first()
            .is_some_and(|l| l.contains("\"type\":\"ike-sa-established\"") && l.contains(HYBRID)),
        "{seen:?}"
    );
    assert!(
        seen.get(1)
            .is_some_and(|l| l.contains("\"type\":\"child-sa-installed\"")),
        "{seen:?}"
    );

    let o = ikectl(&a.socket, &["stats"]);
    assert!(
        stdout(&o).contains("IKE SAs    1 (1 established)\nChild SAs  1\n"),
        "{}",
        stdout(&o)
    );
    let o = ikectl(&a.socket, &["down", "site-b"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).starts_with("site-b: closed IKE SA "),
        "{}",
        stdout(&o)
    );
    assert!(
        stdout(&o).ends_with(" (DELETE sent to the peer)\n"),
        "{}",
        stdout(&o)
    );
    assert_eq!(stdout(&ikectl(&a.socket, &["list-sas"])), "no IKE SAs\n");
    let gone = wait_for(Duration::from_secs(10), || {
        (stdout(&ikectl(&b.socket, &["list-sas"])) == "no IKE SAs\n").then_some(())
    });
    assert!(gone.is_some(), "the responder closes its SA on DELETE");
}

#[test]
fn rekey_prints_old_and_new_and_exits_by_outcome() {
    let b = TestDaemon::start(&site("site-a", "b", "a", None, "none", HYBRID), "");
    let a = TestDaemon::start(
        &site("site-b", "a", "b", Some(b.ike_port()), "none", HYBRID),
        "",
    );
    let o = ikectl(&a.socket, &["rekey", "site-b"]);
    assert_eq!(o.status.code(), Some(1), "no SA yet");
    assert_eq!(
        stderr(&o),
        "ikectl: connection 'site-b' has no established IKE SA (try: ikectl up site-b)\n"
    );
    let o = ikectl(&a.socket, &["up", "site-b", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let up: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let old_spi = up["ike_sa"]["children"][0]["inbound_spi"]
        .as_str()
        .expect("spi")
        .to_string();

    let o = ikectl(&a.socket, &["rekey", "site-b", "--child", "net", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["connection"], "site-b");
    assert_eq!(v["child"], "net");
    assert_eq!(v["old"], old_spi.as_str());
    let new_spi = v["new"].as_str().expect("new").to_string();
    assert_ne!(new_spi, old_spi);

    let o = ikectl(&a.socket, &["rekey", "site-b"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    let old_ike = up["ike_sa"]["id"].as_str().expect("id");
    assert!(
        text.starts_with(&format!("site-b: IKE SA {old_ike} rekeyed, now ")),
        "{text}"
    );
    let o = ikectl(&a.socket, &["rekey", "site-b", "--child", "web"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("has no Child SA named 'web'"),
        "{}",
        stderr(&o)
    );
}
