//! `ikectl list-amfs`, `list-ues` and the N3IWF section of `stats`, plain and `--json`, with
//! an N3IWF daemon, the emulated AMF over usrsctp's UDP encapsulation and a UE registered
//! through the engine, all in this process. Volatile values (SPIs, ports, times) are masked;
//! plain tables are compared by their header and their masked cells.

#[path = "../../daemon/tests/common/mod.rs"]
mod common;
#[allow(dead_code)]
#[path = "../../daemon/tests/n3iwf/harness.rs"]
mod harness;
#[allow(dead_code, unreachable_pub)]
#[path = "../../daemon/tests/common/pki.rs"]
mod pki;
#[allow(dead_code)]
#[path = "../../daemon/tests/n3iwf/ue.rs"]
mod ue;

use std::path::Path;
use std::process::Command;

use fiveg_emu::amf_sim::SimConfig;
use harness::{N3iwfDaemon, PLMN, Sim, WAIT, ready, stack};

fn ikectl(socket: &Path, args: &[&str]) -> String {
    let o = Command::new(env!("CARGO_BIN_EXE_ikectl"))
        .arg("--socket")
        .arg(socket)
        .args(args)
        .env_remove("IKED_SOCKET")
        .output()
        .expect("run ikectl");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("utf-8")
}

/// A cell with its volatile parts masked: SPIs, ports, times.
fn mask(cell: &str) -> String {
    if cell.len() == 16 && cell.chars().all(|c| c.is_ascii_hexdigit()) {
        return "<spi>".into();
    }
    if let Some((ip, port)) = cell.rsplit_once(':')
        && ip.contains('.')
        && port.chars().all(|c| c.is_ascii_digit())
    {
        return format!("{ip}:<port>");
    }
    let is_time = cell
        .strip_suffix('s')
        .is_some_and(|d| d.chars().all(|c| c.is_ascii_digit()))
        || (cell.contains('.')
            && cell
                .split('.')
                .all(|p| p.chars().all(|c| c.is_ascii_digit()))
            && !cell.starts_with("10."));
    if is_time && !cell.is_empty() {
        return "<t>".into();
    }
    cell.into()
}

/// The header line as printed and each row's masked cells.
fn table(text: &str) -> (String, Vec<Vec<String>>) {
    let mut lines = text.lines();
    let header = lines.next().expect("header").trim_end().to_string();
    let rows = lines
        .take_while(|l| !l.is_empty() && !l.starts_with('('))
        .map(|l| l.split_whitespace().map(mask).collect())
        .collect();
    (header, rows)
}

#[test]
fn list_amfs_list_ues_and_stats_show_the_n3iwf() {
    let Some(udp) = stack() else { return };
    let sim = Sim::start(udp, 38751, SimConfig::new(PLMN).expect("sim"));
    let n3iwf = N3iwfDaemon::start(udp, 38751);
    n3iwf.wait_amf("NG Setup", ready);
    let socket = n3iwf.daemon.socket.clone();

    let (header, rows) = table(&ikectl(&socket, &["list-amfs"]));
    assert_eq!(
        header,
        "AMF      ADDRESS          TRANSPORT    SCTP  UP  NG SETUP  AMF NAME  STREAMS OUT/IN  UES  UP/FAILED/LOST  LAST ERROR"
    );
    assert_eq!(
        rows,
        [[
            "amf-sim",
            "127.0.0.1:<port>",
            "usrsctp/udp",
            "up",
            "<t>",
            "ready",
            "amf-sim",
            "16/16",
            "0",
            "1/0/0",
            "-"
        ]]
    );

    let mut ue = ue::Ue::new(n3iwf.daemon.ike_port(), n3iwf.pki.path());
    ue.connect();
    assert!(ue.run_until(WAIT, |u| u.children == 1), "no signalling SA");
    common::wait_for(WAIT, || {
        let ues = n3iwf.ues();
        ues.first()
            .filter(|u| u.state == "registered-wait-nas-tcp")
            .map(|_| ())
    })
    .expect("registered");

    let (header, rows) = table(&ikectl(&socket, &["list-ues"]));
    assert_eq!(
        header,
        "IKE SA            OUTER            STATE                    AMF      RAN UE ID  AMF UE ID  INNER      AMF MS  EAP OK MS  SA UP MS  NAS TCP MS"
    );
    assert_eq!(
        rows,
        [[
            "<spi>",
            "127.0.0.1:<port>",
            "registered-wait-nas-tcp",
            "amf-sim",
            "0",
            "1048576",
            "10.45.0.1",
            "<t>",
            "<t>",
            "<t>",
            "-"
        ]]
    );
    let json: serde_json::Value =
        serde_json::from_str(&ikectl(&socket, &["list-ues", "--json"])).expect("json");
    let u = &json[0];
    assert_eq!(u["state"], "registered-wait-nas-tcp");
    assert_eq!(u["amf"], "amf-sim");
    assert_eq!(u["ran_ue_ngap_id"], 0);
    assert_eq!(u["amf_ue_ngap_id"], 1_048_576);
    assert_eq!(u["inner_address"], "10.45.0.1");
    assert!(u["timings"]["signalling_sa_micros"].is_u64());
    assert!(u["timings"]["nas_tcp_micros"].is_null());
    let keys: Vec<&str> = u
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "amf",
            "amf_ue_ngap_id",
            "ike_sa",
            "inner_address",
            "outer",
            "ran_ue_ngap_id",
            "state",
            "timings"
        ]
    );

    let stats = ikectl(&socket, &["stats"]);

    let section = stats.split_once("\nN3IWF ").expect("N3IWF section").1;
    assert!(
        section.starts_with("     1 UEs (1 inner addresses), 1 EAP-5G started, 1 registered\n"),
        "{section}"
    );
    for row in [
        "NGSetup               sent       1",
        "NGSetup               received   1",
        "InitialUEMessage      sent       1",
        "InitialContextSetup   received   1",
        "InitialContextSetup   sent       1",
    ] {
        let words = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            section.lines().any(|l| words(l) == words(row)),
            "{row} missing:\n{section}"
        );
    }
    let stats_json: serde_json::Value =
        serde_json::from_str(&ikectl(&socket, &["stats", "--json"])).expect("json");
    assert_eq!(stats_json["n3iwf"]["registrations"], 1);
    assert_eq!(stats_json["n3iwf"]["amfs"][0]["ng_setup"], "ready");
    sim.stop();
}
