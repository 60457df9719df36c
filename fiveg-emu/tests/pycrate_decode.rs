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
use fiveg_emu::nas::sm::{SmMessage, SmPdu};

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

/// pycrate's name of a message we decode, with `same` when it re-encodes to the same octets.
fn expected_line(octets: &[u8]) -> String {
    if let Ok(sm) = SmPdu::decode(octets) {
        let name = match sm.message {
            SmMessage::PduSessionEstablishmentRequest(_) => "PDUSessionEstabRequest",
            SmMessage::PduSessionEstablishmentAccept(_) => "PDUSessionEstabAccept",
            SmMessage::PduSessionEstablishmentReject(_) => "PDUSessionEstabReject",
            SmMessage::PduSessionReleaseRequest(_) => "PDUSessionReleaseRequest",
            SmMessage::PduSessionReleaseReject(_) => "PDUSessionReleaseReject",
            SmMessage::PduSessionReleaseCommand(_) => "PDUSessionReleaseCommand",
            SmMessage::PduSessionReleaseComplete(_) => "PDUSessionReleaseComplete",
            SmMessage::Status(_) => "Status",
        };
        return format!("5GSM{name} same");
    }
    let ours = GmmMessage::decode(octets).unwrap();
    let our_name = format!("{ours:?}");
    let our_name = match our_name.split(['(', ' ', '{']).next().unwrap() {
        "UlNasTransport" => "ULNASTransport",
        "DlNasTransport" => "DLNASTransport",
        other => other,
    };
    format!("5GMM{our_name} same")
}

/// pycrate's answer for each message, one line each.
fn oracle(python: &PathBuf, messages: &[Vec<u8>]) -> Vec<String> {
    let input: String = messages.iter().map(|m| hex::encode(m) + "\n").collect();
    let mut child = Command::new(python)
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
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn python_or_skip() -> Option<PathBuf> {
    let python = python();
    if python.is_none() {
        assert!(
            std::env::var_os("FIVEG_REQUIRE_PYCRATE").is_none(),
            "FIVEG_REQUIRE_PYCRATE is set but the pycrate environment is missing"
        );
        eprintln!(
            "!!! SKIPPED: pycrate NAS oracle not provisioned (run scripts/nas-oracle-venv.sh)"
        );
    }
    python
}

fn check(messages: &[Vec<u8>]) {
    let Some(python) = python_or_skip() else {
        return;
    };
    let lines = oracle(&python, messages);
    assert_eq!(lines.len(), messages.len());
    for (octets, line) in messages.iter().zip(&lines) {
        assert_eq!(line, &expected_line(octets), "{}", hex::encode(octets));
    }
}

#[test]
fn pycrate_decodes_and_reencodes_every_message_the_emulators_send() {
    check(&common::exchange::produced_messages());
}

#[test]
fn pycrate_decodes_and_reencodes_every_pdu_session_message() {
    let messages = common::exchange::produced_sm_messages();
    // REQUEST, ACCEPT, REJECT, RELEASE REQUEST, COMMAND and COMPLETE, and UL NAS TRANSPORT.
    let kinds: std::collections::BTreeSet<String> =
        messages.iter().map(|m| expected_line(m)).collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    check(&messages);
}
