//! RFC 7383 (IKEv2 fragmentation) against strongSwan 6, each direction: X25519 + ML-KEM-1024
//! with a 576-byte fragment size on both sides, so the IKE_INTERMEDIATE messages (1568-byte
//! encapsulation key, 1568-byte ciphertext) and IKE_AUTH travel in several fragments each way.
//!
//! Fragments are asserted from strongSwan's log: it split its own messages into several
//! fragments ("splitting IKE message ... into N fragments") and reassembled several of ours
//! ("received fragment #k of N"); our `ikectl stats` shows no dropped fragment. Needs root and
//! the lab.

use interop::{Pair, Role, Spec};

/// The largest `N` in log lines `... {prefix}N{suffix}...`.
fn max_count(log: &str, prefix: &str, suffix: &str) -> u32 {
    log.lines()
        .filter_map(|l| {
            let rest = &l[l.find(prefix)? + prefix.len()..];
            rest[..rest.find(suffix)?].trim().parse().ok()
        })
        .max()
        .unwrap_or(0)
}

#[test]
fn mlkem1024_small_fragments() {
    let mut spec = Spec::new(
        "frag",
        "aes256gcm16-prfsha384-x25519-ke1_mlkem1024",
        "aes256gcm16",
    );
    spec.fragment_size = Some(576);
    let Some(pair) = Pair::start("rfc7383_fragmentation::mlkem1024_small_fragments", spec) else {
        return;
    };
    let mark = std::cell::Cell::new(pair.charon.log_mark());
    pair.both_directions(
        "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_1024",
        "AES_GCM_16-256",
        |p, role, _, _| {
            let log = p.charon.log();
            let log = &log[mark.get()..];
            let sent = max_count(log, " into ", " fragments");
            let received = max_count(log, "received fragment #1 of ", ",");
            assert!(
                sent >= 3 && received >= 3,
                "{}: strongSwan split into {sent} and reassembled {received} fragments:\n{log}",
                role.label()
            );
            interop::report(&format!(
                "{}: strongSwan sent up to {sent} fragments per message and reassembled up to {received}",
                role.label()
            ));
            assert_eq!(
                p.iked.counter("engine", "dropped_fragments").expect("stats"),
                0
            );
            if role == Role::OursInitiates {
                mark.set(p.charon.log_mark());
            }
        },
    );
}
