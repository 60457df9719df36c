//! Requests reaching the KME simulator: the request path (method and SAE ID), then the GET query
//! or the POST body of enc_keys / dec_keys, fed to the simulator's engine. Nothing panics, and
//! keys that enc_keys delivers can be fetched once with dec_keys at the other KME.
//!
//! Input: the path with an optional `?query` (a GET), a newline, then the body (a POST).
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use qkd_client::api::{KeyIdsRequest, KeyRequest};
use qkd_client::{EtsiV1, KeyDeliveryApi, KeyId, Operation};
use qkd_kme_sim::query_fuzzing::{dec_query, enc_query};
use qkd_kme_sim::{CoreConfig, KmeCore, KmeSide};

const MASTER: &str = "sae-a";

fn enc_then_dec(core: &mut KmeCore, slave: &str, request: &KeyRequest) {
    let Ok(container) = core.enc_keys(Duration::ZERO, KmeSide::A, MASTER, slave, request) else {
        return;
    };
    let ids: Vec<KeyId> = container.keys.iter().map(|k| k.key_id()).collect();
    if ids.is_empty() {
        return;
    }
    let fetched = core
        .dec_keys(KmeSide::B, slave, MASTER, &ids)
        .expect("delivered keys are waiting at the peer KME");
    assert_eq!(
        fetched.keys.len(),
        ids.len(),
        "every delivered key is fetched"
    );
    assert!(
        core.dec_keys(KmeSide::B, slave, MASTER, &ids).is_err(),
        "a key is fetched only once"
    );
}

fn get(core: &mut KmeCore, op: Operation, sae: &str, query: Option<&str>) {
    match op {
        Operation::Status => {}
        Operation::EncKeys => {
            if let Ok(request) = enc_query(query) {
                enc_then_dec(core, sae, &request);
            }
        }
        Operation::DecKeys => {
            if let Ok(ids) = dec_query(query) {
                let _ = core.dec_keys(KmeSide::B, sae, MASTER, &ids);
            }
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (line, body) = text.split_once('\n').unwrap_or((text, ""));
    let (path, query) = match line.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (line, None),
    };
    let Some((op, sae)) = EtsiV1.parse_path(path) else {
        return;
    };
    let mut core = KmeCore::new(CoreConfig::default());
    if query.is_some() {
        get(&mut core, op, &sae, query);
        return;
    }
    match op {
        Operation::Status => {
            let _ = core.status(Duration::ZERO, KmeSide::A, MASTER, &sae);
        }
        Operation::EncKeys => {
            // As the server does, an empty body is the empty request.
            let request = if body.trim().is_empty() {
                Ok(KeyRequest::default())
            } else {
                serde_json::from_str::<KeyRequest>(body)
            };
            if let Ok(request) = request {
                enc_then_dec(&mut core, &sae, &request);
            }
        }
        Operation::DecKeys => {
            if let Ok(request) = serde_json::from_str::<KeyIdsRequest>(body) {
                let ids: Vec<KeyId> = request.key_ids.into_iter().map(|e| e.key_id).collect();
                let _ = core.dec_keys(KmeSide::B, &sae, MASTER, &ids);
            }
        }
    }
});
