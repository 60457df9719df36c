//! Output snapshots of `ikectl list-sas`, `stats` and `rekey`, plain and `--json`, between two
//! daemons on 127.0.0.1. Volatile values (SPIs, ports, ages, timings, counters that depend on
//! scheduling) are masked so that the layout, the names and the stable values are compared.

#[path = "../../daemon/tests/common/mod.rs"]
mod common;
mod support;

use std::path::Path;

use common::{HYBRID, TestDaemon, site};
use support::{ikectl, stderr};

fn run(socket: &Path, args: &[&str]) -> String {
    let o = ikectl(socket, args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    String::from_utf8(o.stdout).expect("utf-8")
}

/// Replaces each run of hex digits of `len` characters that stands alone with `mask`.
fn mask_hex(text: &str, len: usize, mask: &str) -> String {
    let mut out = String::new();
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.len() == len && word.chars().all(|c| c.is_ascii_hexdigit()) {
            out.push_str(mask);
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// Masks SPIs, the ports of 127.0.0.1 and ages.
fn mask_volatile(text: &str, ports: &[u16]) -> String {
    let mut t = mask_hex(&mask_hex(text, 16, "<IKE-SPI>"), 8, "<SPI>");
    for p in ports {
        t = t.replace(&format!("127.0.0.1:{p}"), "127.0.0.1:<port>");
    }
    // Ages ("0s", "1s"): the test is quick, so the width stays the same.
    t.split(' ')
        .map(|w| {
            let secs = w.strip_suffix('s').filter(|d| !d.is_empty());
            if secs.is_some_and(|d| d.chars().all(|c| c.is_ascii_digit())) {
                "<age>"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The JSON with volatile fields replaced, as pretty text.
fn mask_json(text: &str, ports: &[u16]) -> String {
    let mut v: serde_json::Value = serde_json::from_str(text).expect("json");
    mask_value(&mut v);
    mask_volatile(&serde_json::to_string_pretty(&v).expect("json"), ports)
}

fn mask_value(v: &mut serde_json::Value) {
    const VOLATILE: &[&str] = &[
        "established_secs",
        "age_secs",
        "installed_secs",
        "ms",
        "micros",
        "timings",
        "phases",
        "bytes_in",
        "bytes_out",
        "packets_in",
        "packets_out",
    ];
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if VOLATILE.contains(&k.as_str()) && !x.is_null() {
                    *x = serde_json::Value::String("<masked>".into());
                } else {
                    mask_value(x);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_value),
        _ => {}
    }
}

#[test]
fn list_sas_and_rekey_snapshots() {
    let b = TestDaemon::start(&site("site-a", "b", "a", None, "none", HYBRID), "");
    let a = TestDaemon::start(
        &site("site-b", "a", "b", Some(b.ike_port()), "none", HYBRID),
        "",
    );
    let ports = [a.ike_port(), b.ike_port()];
    run(&a.socket, &["up", "site-b"]);
    let plain = mask_volatile(&run(&a.socket, &["list-sas"]), &ports);
    assert_eq!(
        plain,
        "\
CONNECTION  IKE SA            STATE        ROLE       LOCAL            REMOTE           AGE  FLAGS  POLICY  PROPOSAL
site-b      <IKE-SPI>  established  initiator  127.0.0.1:<port>  127.0.0.1:<port>  <age>   int:1  pqc     aes256gcm16-prfsha384-x25519-ke1_mlkem768

IKE SA            CHILD  IN SPI    OUT SPI   LOCAL TS     REMOTE TS    BYTES IN  BYTES OUT  PKTS IN  PKTS OUT  DROPS  PROPOSAL
<IKE-SPI>  net    <SPI>  <SPI>  10.1.0.0/16  10.2.0.0/16  0         0          0        0         0      aes256gcm16
"
    );
    let json = mask_json(&run(&a.socket, &["list-sas", "--json"]), &ports);
    assert_eq!(json, LIST_SAS_JSON);
    let rekey = mask_volatile(
        &run(&a.socket, &["rekey", "site-b", "--child", "net"]),
        &ports,
    );
    assert_eq!(
        rekey,
        "site-b: Child SA net rekeyed in IKE SA <IKE-SPI>: inbound SPI <SPI> -> <SPI>\n"
    );
    let rekey_json = mask_json(&run(&a.socket, &["rekey", "site-b", "--json"]), &ports);
    assert_eq!(
        rekey_json,
        r#"{
  "child": null,
  "connection": "site-b",
  "ike_sa": "<IKE-SPI>",
  "new": "<IKE-SPI>",
  "old": "<IKE-SPI>"
}"#
    );
}

const LIST_SAS_JSON: &str = r#"[
  {
    "children": [
      {
        "counters": {
          "bytes_in": "<masked>",
          "bytes_out": "<masked>",
          "drops": 0,
          "packets_in": "<masked>",
          "packets_out": "<masked>"
        },
        "inbound_spi": "<SPI>",
        "installed_secs": "<masked>",
        "local_ts": [
          "10.1.0.0/16"
        ],
        "name": "net",
        "outbound_spi": "<SPI>",
        "proposal": "aes256gcm16",
        "remote_ts": [
          "10.2.0.0/16"
        ]
      }
    ],
    "connection": "site-b",
    "established_secs": "<masked>",
    "hybrid": "pqc",
    "id": "<IKE-SPI>",
    "initiator": true,
    "intermediate_exchanges": 1,
    "local": "127.0.0.1:<port>",
    "local_spi": "<IKE-SPI>",
    "nat_detected": false,
    "ppk": null,
    "ppk_used": false,
    "proposal": "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
    "remote": "127.0.0.1:<port>",
    "remote_spi": "<IKE-SPI>",
    "state": "established",
    "timings": "<masked>"
  }
]"#;
