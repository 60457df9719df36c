//! Control socket lines (`iked` reads requests from `ikectl`; `ikectl` reads responses and
//! monitor events): any line either fails to parse or parses to a value that encodes and
//! parses back to itself.
#![no_main]

use iked_control::proto::{EventLine, MAX_LINE, Request, Response};
use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(line: &str) {
    let Ok(value) = serde_json::from_str::<T>(line) else {
        return;
    };
    let text = serde_json::to_string(&value).expect("a parsed line encodes");
    let back: T = serde_json::from_str(&text).expect("an encoded line parses");
    assert_eq!(back, value, "encode then parse changed the line");
}

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    if line.len() > MAX_LINE {
        return;
    }
    round_trip::<Request>(line);
    round_trip::<Response>(line);
    round_trip::<EventLine>(line);
});
