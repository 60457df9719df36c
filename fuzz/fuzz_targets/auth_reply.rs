//! The initiator's reading of an authenticated final IKE_AUTH response (CP(CFG_REPLY) and
//! private-use status notifies, `Event::AuthReply`): a payload chain as found inside SK, the
//! first octet being the first payload type. The responder's reading of a CREATE_CHILD_SA
//! request's status notifies (`ChildSa::peer_notifies`) takes the same chain. Nothing panics;
//! what is kept stays within the caps, and every dropped notify is counted.
#![no_main]

use ikev2::auth_reply_fuzzing::{read_child_notifies, read_final_reply};
use ikev2::wire::{Payload, PayloadType, parse_payloads};
use ikev2::{MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, PRIVATE_STATUS_MIN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((first, chain)) = data.split_first() else {
        return;
    };
    let Ok(payloads) = parse_payloads(PayloadType(*first), chain) else {
        return;
    };
    let (_, kept, stats) = read_final_reply(&payloads);
    assert!(kept.len() <= MAX_STATUS_NOTIFIES);
    assert!(kept.iter().all(|n| n.data.len() <= MAX_STATUS_NOTIFY_DATA));
    let private = payloads
        .iter()
        .filter(|p| matches!(p, Payload::Notify(n) if n.notify_type.0 >= PRIVATE_STATUS_MIN))
        .count();
    assert_eq!(
        kept.len() as u64 + stats.auth_reply_notifies_dropped,
        private as u64
    );
    let (child, dropped) = read_child_notifies(&payloads);
    assert_eq!(child, kept, "both readings keep the same notifies");
    assert_eq!(dropped, stats.auth_reply_notifies_dropped);
});
