//! The classes of bad input that crashed or weakened free5GC's N3IWF (its issues #968, #972,
//! #973 and #974), replayed against this engine: each is refused without a panic, counted, and
//! leaves no state behind. (#938, #967 and #970 are EAP-5G and AN-parameter cases, covered by
//! the `n3iwf` crate's wire tests; #994's replays by `unauthenticated.rs`; #997's CBC padding
//! by the unit tests of `src/protect.rs`.)

mod sim;

use ikev2::wire::{
    ExchangeType, Flags, Header, IKE_VERSION, IkeSpi, KeId, Message, MessageId, Payload,
    PayloadType, TransformType,
};
use ikev2::{Event, ProposalSpec};
use sim::{Pair, Scenario};

const PSK: &[u8] = b"correct horse battery staple 0123456789";

/// A's IKE_SA_INIT requests rewritten by `f` on their way to B.
fn with_init_rewritten(ike: &str, f: fn(&mut Message)) -> Pair {
    let mut pair = Scenario::psk(PSK, ike, "aes256gcm16").start();
    pair.mutate = Some(Box::new(move |from_a, data| {
        let Ok(mut message) = Message::parse(data) else {
            return;
        };
        if from_a && message.header.exchange == ExchangeType::IKE_SA_INIT {
            f(&mut message);
            *data = message.emit();
        }
    }));
    pair.drive(1000);
    pair
}

fn failed_without_state(pair: &Pair) {
    assert!(pair.a_established().is_none());
    assert!(pair.b_established().is_none());
    assert_eq!(pair.b.sa_count(), 0, "B keeps no half-open SA");
}

fn rejections(pair: &Pair) -> usize {
    pair.b_events
        .iter()
        .filter(|e| matches!(e, Event::Rejected { .. }))
        .count()
}

/// free5GC #968: an IKE message with an empty payload list killed the process.
#[test]
fn an_ike_sa_init_request_without_payloads_is_dropped_and_counted() {
    let mut pair = Scenario::psk(PSK, "aes256gcm16-prfsha384-x25519", "aes256gcm16").start();
    let empty = Message {
        header: Header {
            spi_i: IkeSpi(0x0968_0968_0968_0968),
            spi_r: IkeSpi(0),
            next_payload: PayloadType::NONE,
            version: IKE_VERSION,
            exchange: ExchangeType::IKE_SA_INIT,
            flags: Flags::new(true, false),
            message_id: MessageId(0),
            length: 0,
        },
        payloads: Vec::new(),
    };
    let refused = |pair: &Pair| {
        let s = pair.b.stats();
        s.dropped_malformed + s.init_rejected_other
    };
    let before = refused(&pair);
    pair.inject(true, &empty.emit());
    assert_eq!(pair.b.sa_count(), 0);
    assert_eq!(refused(&pair) - before, 1, "{:?}", pair.b.stats());
    // The real handshake is untouched by it.
    pair.drive(1000);
    pair.assert_up();
}

/// free5GC #972: a Diffie-Hellman public value of 1 gives a known shared secret; it must be
/// refused (RFC 7296 §5, NIST SP 800-56A §5.6.2.3.1).
#[test]
fn a_modp_public_value_of_one_is_refused() {
    let pair = with_init_rewritten("aes256-sha256-modp2048", |m| {
        for p in &mut m.payloads {
            if let Payload::Ke(ke) = p {
                let len = ke.data.len();
                ke.data = vec![0; len];
                ke.data[len - 1] = 1;
            }
        }
    });
    failed_without_state(&pair);
    assert_eq!(rejections(&pair), 1);
    assert_eq!(pair.b.stats().init_rejected_other, 1);
}

/// free5GC #974: it accepted PRF_HMAC_MD5, AUTH_HMAC_MD5_96 and DH group 2. An offer of only
/// those gets NO_PROPOSAL_CHOSEN, and they cannot be configured.
#[test]
fn md5_and_modp1024_offers_get_no_proposal_chosen() {
    let pair = with_init_rewritten("aes256-sha256-modp2048", |m| {
        for p in &mut m.payloads {
            match p {
                Payload::Sa(proposals) => {
                    for t in proposals.iter_mut().flat_map(|p| p.transforms.iter_mut()) {
                        t.id = match t.transform_type {
                            TransformType::PRF => 1,   // PRF_HMAC_MD5
                            TransformType::INTEG => 1, // AUTH_HMAC_MD5_96
                            TransformType::KE => 2,    // MODP-1024
                            _ => t.id,
                        };
                    }
                }
                Payload::Ke(ke) => {
                    ke.group = KeId(2);
                    ke.data.truncate(128);
                }
                _ => {}
            }
        }
    });
    failed_without_state(&pair);
    assert_eq!(pair.b.stats().init_no_proposal_chosen, 1);
    for weak in [
        "aes128-md5-modp2048",
        "aes128-sha256-prfmd5-modp2048",
        "aes128-sha256-modp1024",
    ] {
        assert!(ProposalSpec::parse_ike(weak).is_err(), "{weak} is refused");
    }
}

/// free5GC #973: it accepted ESP with ENCR_NULL and no integrity. Neither NULL encryption nor
/// an ESP proposal without integrity protection can be configured.
#[test]
fn esp_without_confidentiality_or_integrity_cannot_be_configured() {
    for weak in ["null", "null-sha256", "aes256"] {
        assert!(ProposalSpec::parse_esp(weak).is_err(), "{weak} is refused");
    }
    assert!(ProposalSpec::parse_esp("aes256-sha256").is_ok());
}
