//! pycrate (PyPI), an NGAP codec independent of ours, decodes every PDU we build; the result must
//! be what tests/pycrate/ngap_vectors.py says we meant, and pycrate must encode it back to the
//! same octets. Runs when the pycrate virtual environment of scripts/nas-oracle-venv.sh exists
//! (target/nas-venv, or N3IWF_PYCRATE_PYTHON), and skips loudly otherwise (or fails, with
//! N3IWF_REQUIRE_PYCRATE=1).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{samples, transfers};

fn python() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("N3IWF_PYCRATE_PYTHON") {
        return Some(PathBuf::from(path));
    }
    // Where scripts/nas-oracle-venv.sh puts it: under the target directory.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("nas-venv/bin/python");
    path.exists().then_some(path)
}

/// Runs the script's `command` on `lines` ("<name> <hex>"), asserts it succeeds, and gives its
/// report. The two tests run in parallel, so each input file has its own name.
fn run_check(python: &Path, command: &str, lines: &str) -> String {
    let input = std::env::temp_dir().join(format!(
        "n3iwf-pycrate-{command}-{}.txt",
        std::process::id()
    ));
    std::fs::write(&input, lines).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pycrate/ngap_vectors.py");
    let output = Command::new(python)
        .arg(script)
        .arg(command)
        .arg(&input)
        .output()
        .unwrap();
    std::fs::remove_file(&input).unwrap();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "pycrate disagrees:\n{report}");
    report
}

#[test]
fn pycrate_decodes_every_pdu_we_build_as_meant() {
    let Some(python) = python() else {
        assert!(
            std::env::var_os("N3IWF_REQUIRE_PYCRATE").is_none(),
            "N3IWF_REQUIRE_PYCRATE is set and no pycrate virtual environment was found"
        );
        eprintln!("!!! SKIPPED: no pycrate venv (run scripts/nas-oracle-venv.sh)");
        return;
    };
    let lines: String = samples::all()
        .iter()
        .map(|(name, message)| format!("{name} {}\n", hex::encode(message.encode().unwrap())))
        .collect();
    let report = run_check(&python, "check", &lines);
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": ok")).count(),
        samples::all().len()
    );
}

/// The setup transfers we encode (the request for the AMF emulator, the response the N3IWF
/// sends), decoded by pycrate as their own types with the values meant.
#[test]
fn pycrate_decodes_our_setup_transfers_as_meant() {
    let Some(python) = python() else {
        assert!(
            std::env::var_os("N3IWF_REQUIRE_PYCRATE").is_none(),
            "N3IWF_REQUIRE_PYCRATE is set and no pycrate virtual environment was found"
        );
        eprintln!("!!! SKIPPED: no pycrate venv (run scripts/nas-oracle-venv.sh)");
        return;
    };
    let transfers = [
        (
            "setup_request_transfer",
            transfers::full_request().encode().unwrap(),
        ),
        (
            "setup_response_transfer",
            transfers::response().encode().unwrap(),
        ),
    ];
    let lines: String = transfers
        .iter()
        .map(|(name, octets)| format!("{name} {}\n", hex::encode(octets)))
        .collect();
    let report = run_check(&python, "check-transfers", &lines);
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": ok")).count(),
        transfers.len()
    );
}
