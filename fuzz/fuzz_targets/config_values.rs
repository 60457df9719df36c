//! The value parsers of the configuration (traffic selectors, addresses, identities, proposals,
//! durations, byte counts, secrets), each reached through a small complete file with one value
//! taken from the input. Nothing panics, and an accepted traffic selector, written back as the
//! daemon writes it (`ikectl list-conns`), reads back to the same selector.
//!
//! Input: one octet choosing the setting, then the value's text.
#![no_main]

use std::path::Path;

use iked::config::{Config, format_selector};
use libfuzzer_sys::fuzz_target;

const SLOTS: [&str; 8] = [
    "local_ts",
    "remote_addrs",
    "proposals",
    "esp_proposals",
    "local_id",
    "rekey_time",
    "rekey_bytes",
    "secret",
];

fn file(slot: &str, value: &str) -> String {
    let quoted = toml::Value::String(value.to_owned()).to_string();
    let pick = |name: &str, default: &str| {
        if name == slot {
            quoted.clone()
        } else {
            default.to_owned()
        }
    };
    format!(
        "[connections.c]\n\
         remote_addrs = [{}]\n\
         proposals = [{}]\n\
         rekey_time = {}\n\
         [connections.c.local]\nauth = \"psk\"\nid = {}\n\
         [connections.c.remote]\nauth = \"psk\"\nid = \"peer.example\"\n\
         [connections.c.children.lan]\n\
         local_ts = [{}]\n\
         remote_ts = [\"10.2.0.0/16\"]\n\
         esp_proposals = [{}]\n\
         rekey_bytes = {}\n\
         [secrets.ike.c]\nsecret = {}\n",
        pick("remote_addrs", "\"198.51.100.2\""),
        pick("proposals", "\"aes256gcm16-prfsha384-x25519\""),
        pick("rekey_time", "\"4h\""),
        pick("local_id", "\"site-a.example\""),
        pick("local_ts", "\"10.1.0.0/16\""),
        pick("esp_proposals", "\"aes256gcm16\""),
        pick("rekey_bytes", "\"8G\""),
        pick("secret", "\"0x00112233445566778899aabbccddeeff\""),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(rest) else {
        return;
    };
    // No setting here names a file, so nothing outside the process is touched.
    let path = Path::new("/nonexistent/iked.toml");
    let slot = SLOTS[usize::from(which) % SLOTS.len()];
    let Ok(config) = Config::parse(path, &file(slot, value)) else {
        return;
    };
    let conn = config.connection("c").expect("the file's connection");
    let _ = conn.to_engine();
    if slot != "local_ts" {
        return;
    }
    let ts = &conn.children[0].local_ts;
    for t in ts {
        let text = format_selector(t);
        let again = Config::parse(path, &file(slot, &text))
            .unwrap_or_else(|e| panic!("'{text}' written for '{value}' does not read back: {e:?}"));
        let back = &again.connection("c").expect("connection").children[0].local_ts;
        assert_eq!(back.len(), 1, "'{text}' is one selector");
        assert_eq!(
            &back[0], t,
            "'{value}' written as '{text}' reads back differently"
        );
    }
});
