//! The fuzz targets' seed corpus (fuzz/corpus/gtpu, fuzz/corpus/gre) holds messages the codecs
//! accept, so fuzzing starts from the paths that go deepest; this keeps it so.

use std::path::Path;

use userplane::{GreChecksum, GreHeader, GtpuMessage};

fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut seeds: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("directory entry").path();
            let name = path
                .file_name()
                .expect("file name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("seed"))
        })
        .collect();
    seeds.sort();
    seeds
}

#[test]
fn every_gtpu_seed_parses() {
    let seeds = seeds("gtpu");
    assert!(seeds.len() >= 8, "{} seeds", seeds.len());
    for (name, bytes) in seeds {
        let message = GtpuMessage::parse(&bytes);
        assert!(message.is_ok(), "{name}: {message:?}");
    }
}

#[test]
fn every_gre_seed_parses_and_verifies() {
    let seeds = seeds("gre");
    assert!(seeds.len() >= 4, "{} seeds", seeds.len());
    for (name, bytes) in seeds {
        let header = GreHeader::parse(&bytes, GreChecksum::Verify);
        assert!(header.is_ok(), "{name}: {header:?}");
    }
}
