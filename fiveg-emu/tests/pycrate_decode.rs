//! pycrate (an independent Python NAS-5GS implementation, from PyPI) decodes every plain message
//! the emulated ends send, names the same message type, and re-encodes it to the same octets.
//!
//! The virtual environment comes from `scripts/nas-oracle-venv.sh`. Without it the test says so
//! loudly and passes; `FIVEG_REQUIRE_PYCRATE=1` (set by scripts/tests/15-nas-oracle.sh) makes a
//! missing environment a failure.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use fiveg_emu::nas::GmmMessage;

const ORACLE: &str = r#"
import sys
from pycrate_mobile.NAS5G import parse_NAS5G
for line in sys.stdin:
    octets = bytes.fromhex(line.strip())
    msg, err = parse_NAS5G(octets)
    if err or msg is None:
        print("error", err)
    else:
        print(msg._name, "same" if msg.to_bytes() == octets else "different:" + msg.to_bytes().hex())
"#;

fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("FIVEG_PYCRATE_PYTHON") {
        return Some(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("nas-venv/bin/python");
    path.exists().then_some(path)
}

#[test]
fn pycrate_decodes_and_reencodes_every_message_the_emulators_send() {
    let Some(python) = python() else {
        assert!(
            std::env::var_os("FIVEG_REQUIRE_PYCRATE").is_none(),
            "FIVEG_REQUIRE_PYCRATE is set but the pycrate environment is missing"
        );
        eprintln!(
            "!!! SKIPPED: pycrate NAS oracle not provisioned (run scripts/nas-oracle-venv.sh)"
        );
        return;
    };
    let messages = common::exchange::produced_messages();
    let input: String = messages.iter().map(|m| hex::encode(m) + "\n").collect();
    let mut child = Command::new(&python)
        .args(["-c", ORACLE])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let lines: Vec<String> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), messages.len());
    for (octets, line) in messages.iter().zip(&lines) {
        let ours = GmmMessage::decode(octets).unwrap();
        let our_name = format!("{ours:?}");
        let our_name = our_name.split(['(', ' ', '{']).next().unwrap();
        assert_eq!(
            line,
            &format!("5GMM{our_name} same"),
            "{}",
            hex::encode(octets)
        );
    }
}
