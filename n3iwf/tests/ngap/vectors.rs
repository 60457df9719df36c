//! Golden vectors: each sample encodes to exactly the octets pycrate encoded from the same
//! meaning (tests/vectors/ngap/<name>.hex), and those octets decode to the sample.

use n3iwf::ngap::NgapMessage;

use crate::samples;

/// The octets of a vector file: every line that is not a comment, as hex.
pub(crate) fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/vectors/ngap/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let digits: String = text.lines().filter(|l| !l.starts_with('#')).collect();
    hex::decode(digits.trim()).unwrap()
}

#[test]
fn samples_encode_to_their_vectors() {
    for (name, message) in samples::all() {
        assert_eq!(
            hex::encode(message.encode().unwrap()),
            hex::encode(vector(name)),
            "{name}"
        );
    }
}

#[test]
fn vectors_decode_to_their_samples() {
    for (name, message) in samples::all() {
        let decoded = NgapMessage::decode(&vector(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(decoded.message, message, "{name}");
        assert_eq!(decoded.report, None, "{name}");
    }
}

#[test]
fn every_vector_has_a_sample() {
    let dir = format!("{}/tests/vectors/ngap", env!("CARGO_MANIFEST_DIR"));
    let names: Vec<_> = samples::all()
        .into_iter()
        .map(|(name, _)| format!("{name}.hex"))
        .collect();
    for entry in std::fs::read_dir(dir).unwrap() {
        let file = entry.unwrap().file_name().into_string().unwrap();
        if file.ends_with(".hex") {
            assert!(names.contains(&file), "{file} has no sample");
        }
    }
}
