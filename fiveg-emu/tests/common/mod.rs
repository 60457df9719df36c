//! Reads the vector files in tests/vectors/: `# comment` lines, `[name]` sections and
//! `key = value` lines.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

pub mod exchange;
pub mod session_world;

use std::collections::HashMap;
use std::path::Path;

/// One `[section]` of a vector file.
pub struct Section {
    pub name: String,
    fields: HashMap<String, String>,
}

impl Section {
    /// The text of a field; panics (failing the test) when it is missing.
    pub fn text(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("[{}] has no field {key}", self.name))
    }

    /// A hexadecimal field as octets.
    pub fn hex(&self, key: &str) -> Vec<u8> {
        hex::decode(self.text(key)).unwrap_or_else(|e| panic!("[{}] {key}: {e}", self.name))
    }

    /// A hexadecimal field as a fixed-size array.
    pub fn array<const N: usize>(&self, key: &str) -> [u8; N] {
        self.hex(key).try_into().unwrap_or_else(|v: Vec<u8>| {
            panic!("[{}] {key}: {} octets, want {N}", self.name, v.len())
        })
    }

    /// Asserts that `actual` is the hexadecimal field `key`, naming the section and the field
    /// when it is not.
    pub fn assert_hex(&self, key: &str, actual: &[u8]) {
        assert_eq!(actual, self.hex(key).as_slice(), "[{}] {key}", self.name);
    }

    /// A decimal field.
    pub fn number(&self, key: &str) -> u64 {
        self.text(key)
            .parse()
            .unwrap_or_else(|e| panic!("[{}] {key}: {e}", self.name))
    }

    /// A hexadecimal number field.
    pub fn hex_number(&self, key: &str) -> u64 {
        u64::from_str_radix(self.text(key), 16)
            .unwrap_or_else(|e| panic!("[{}] {key}: {e}", self.name))
    }
}

/// All sections of `tests/vectors/<file>`.
pub fn sections(file: &str) -> Vec<Section> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<Section> = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Section {
                name: name.to_owned(),
                fields: HashMap::new(),
            });
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let section = out
            .last_mut()
            .unwrap_or_else(|| panic!("field before a section: {line:?}"));
        section
            .fields
            .insert(key.trim().to_owned(), value.trim().to_owned());
    }
    out
}
