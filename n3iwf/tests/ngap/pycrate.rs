//! pycrate (PyPI), an NGAP codec independent of ours, decodes every PDU we build; the result must
//! be what tests/pycrate/ngap_vectors.py says we meant, and pycrate must encode it back to the
//! same octets. Runs when the pycrate virtual environment of scripts/nas-oracle-venv.sh exists
//! (target/nas-venv, or N3IWF_PYCRATE_PYTHON), and skips loudly otherwise (or fails, with
//! N3IWF_REQUIRE_PYCRATE=1).

use std::path::PathBuf;
use std::process::Command;

use crate::samples;

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
    let input = std::env::temp_dir().join(format!("n3iwf-pycrate-{}.txt", std::process::id()));
    std::fs::write(&input, lines).unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pycrate/ngap_vectors.py");
    let output = Command::new(python)
        .arg(script)
        .arg("check")
        .arg(&input)
        .output()
        .unwrap();
    std::fs::remove_file(&input).unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "pycrate disagrees:\n{report}");
    assert_eq!(
        report.lines().filter(|l| l.ends_with(": ok")).count(),
        samples::all().len()
    );
}
