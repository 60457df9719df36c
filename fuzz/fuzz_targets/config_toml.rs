//! The daemon's configuration loader (`iked --check`, `ikectl load`): any text is either
//! accepted or refused with errors that name the file; it never panics. An accepted file's
//! connections convert to engine configurations.
//!
//! File references resolve against the configuration's directory, a scratch directory holding
//! one secret file. Inputs naming a path outside it (absolute, or with `..`) are skipped, so a
//! run never reads devices such as /dev/zero.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use iked::config::Config;
use libfuzzer_sys::fuzz_target;

fn config_path() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join("iked-fuzz-config");
        std::fs::create_dir_all(&dir).expect("scratch directory");
        std::fs::write(dir.join("ppk.key"), "0x00112233445566778899aabbccddeeff\n")
            .expect("secret file");
        dir.join("iked.toml")
    })
}

/// Settings that are paths but never opened while loading.
const NOT_OPENED: [&str; 2] = ["socket", "key_log"];

/// Whether some string in the document could name a file outside the scratch directory.
fn escapes(value: &toml::Value) -> bool {
    match value {
        toml::Value::String(s) => s.starts_with('/') || s.contains(".."),
        toml::Value::Array(a) => a.iter().any(escapes),
        toml::Value::Table(t) => table_escapes(t),
        _ => false,
    }
}

fn table_escapes(table: &toml::Table) -> bool {
    table
        .iter()
        .any(|(k, v)| !NOT_OPENED.contains(&k.as_str()) && escapes(v))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.parse::<toml::Table>() {
        Ok(doc) if table_escapes(&doc) => return,
        Ok(_) => {}
        // Not TOML: the loader refuses it before looking at any value.
        Err(_) => {}
    }
    let path = config_path();
    match Config::parse(path, text) {
        Ok(config) => {
            for conn in &config.connections {
                let _ = conn.to_engine();
            }
        }
        Err(errors) => {
            assert!(!errors.0.is_empty(), "a refusal says why");
            for e in &errors.0 {
                assert_eq!(e.file, path, "every error names the file");
            }
        }
    }
});
