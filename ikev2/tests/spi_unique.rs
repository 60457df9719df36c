//! Inbound ESP SPIs are unique across every IKE SA of an endpoint, avoid the SPIs the driver
//! reserved (manual SAs), and are not reused while an SA being replaced may still be
//! installed. The responder's RNG is forced to collide: every 4-octet random value comes from
//! a cycle of four.

mod sim;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ikev2::{CommandError, ConnectionConfig, EndpointConfig, EspSpi, Lifetime};
use ipsec_crypto::{
    Aead, AeadAlgorithm, BlockCipher, CbcAlgorithm, CryptoError, CryptoProvider, Integ,
    IntegAlgorithm, KeGroup, KeyExchange, Prf, PrfAlgorithm, SignatureAlgorithm, SignatureError,
    SignatureScheme, SigningKey,
};
use sim::{Pair, conn, default_provider, live_children, responder};

const PSK: &[u8] = b"correct horse battery staple 0123456789";
const IKE: &str = "aes256gcm16-prfsha256-x25519";
const CYCLE: [u32; 4] = [0x1000, 0x2000, 0x3000, 0x4000];

/// The default provider, except that 4-octet random values repeat `CYCLE`.
struct Colliding {
    next: AtomicUsize,
}

impl CryptoProvider for Colliding {
    fn name(&self) -> &'static str {
        "colliding"
    }
    fn fill_random(&self, out: &mut [u8]) -> Result<(), CryptoError> {
        if out.len() == 4 {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % CYCLE.len();
            out.copy_from_slice(&CYCLE[i].to_be_bytes());
            return Ok(());
        }
        default_provider().fill_random(out)
    }
    fn prf(&self, alg: PrfAlgorithm) -> Option<&'static dyn Prf> {
        default_provider().prf(alg)
    }
    fn aead(&self, alg: AeadAlgorithm) -> Option<&'static dyn Aead> {
        default_provider().aead(alg)
    }
    fn cbc(&self, alg: CbcAlgorithm) -> Option<&'static dyn BlockCipher> {
        default_provider().cbc(alg)
    }
    fn integ(&self, alg: IntegAlgorithm) -> Option<&'static dyn Integ> {
        default_provider().integ(alg)
    }
    fn key_exchange(&self, group: KeGroup) -> Option<&'static dyn KeyExchange> {
        default_provider().key_exchange(group)
    }
    fn signature(&self, scheme: SignatureScheme) -> Option<&'static dyn SignatureAlgorithm> {
        default_provider().signature(scheme)
    }
    fn signing_key(&self, pkcs8: &[u8]) -> Result<Box<dyn SigningKey>, SignatureError> {
        default_provider().signing_key(pkcs8)
    }
}

fn colliding() -> &'static dyn CryptoProvider {
    Box::leak(Box::new(Colliding {
        next: AtomicUsize::new(0),
    }))
}

fn quiet(side: &str) -> ConnectionConfig {
    let mut c = conn(side, PSK, IKE, "aes256gcm16");
    c.ike_lifetime = Lifetime::NONE;
    c.children[0].lifetime = Lifetime::NONE;
    c
}

/// B's inbound SPIs of its live Child SAs.
fn b_spis(pair: &Pair) -> Vec<EspSpi> {
    let mut v: Vec<EspSpi> = live_children(&pair.b_events)
        .iter()
        .map(|c| c.inbound_spi)
        .collect();
    v.sort_unstable();
    v
}

fn pair_with_reserved(reserved: EspSpi) -> Pair {
    let mut rc = responder(quiet("responder"));
    rc.spi_reuse_delay = Duration::from_secs(60);
    let mut pair = Pair::new(
        EndpointConfig::default(),
        default_provider(),
        rc,
        colliding(),
    );
    pair.b
        .reserve_spi(reserved)
        .expect("the engine takes the command");
    assert_eq!(
        pair.b.reserve_spi(reserved),
        Err(CommandError::SpiTaken(reserved)),
        "a reservation is exclusive"
    );
    pair
}

#[test]
fn two_ike_sas_never_share_an_inbound_spi_nor_take_a_reserved_one() {
    let mut pair = pair_with_reserved(EspSpi(CYCLE[0]));
    let c = Arc::new(quiet("initiator"));
    pair.connect(c.clone());
    pair.drive(1000);
    pair.connect(c);
    pair.drive(1000);
    let spis = b_spis(&pair);
    assert_eq!(spis.len(), 2, "both IKE SAs have their Child SA");
    assert_ne!(spis[0], spis[1]);
    assert!(
        !spis.contains(&EspSpi(CYCLE[0])),
        "the driver's reservation is skipped"
    );
    assert!(spis.iter().all(|s| pair.b.spi_in_use(*s)));
    assert!(
        pair.b.reserve_spi(spis[0]) == Err(CommandError::SpiTaken(spis[0])),
        "the engine's SPIs cannot be reserved"
    );
}

#[test]
fn a_rekey_avoids_the_sa_it_replaces_and_spis_are_reused_only_after_the_delay() {
    let mut pair = pair_with_reserved(EspSpi(CYCLE[0]));
    let c = Arc::new(quiet("initiator"));
    let sa = pair.connect(c);
    pair.drive(1000);
    let first = b_spis(&pair)[0];
    let a_first = live_children(&pair.a_events)[0].inbound_spi;

    let now = pair.now;
    pair.a
        .rekey_child(now, sa, a_first)
        .expect("the engine takes the command");
    pair.drive(1000);
    let after = b_spis(&pair);
    assert_eq!(after.len(), 1, "the old Child SA was deleted");
    let second = after[0];
    assert!(second != first && second != EspSpi(CYCLE[0]));
    assert!(
        pair.b.spi_in_use(first),
        "the replaced SPI stays taken for a while"
    );

    // The next SPI must be the last value of the cycle that is neither reserved, in use, nor
    // just replaced.
    let a_second = live_children(&pair.a_events)[0].inbound_spi;
    let now = pair.now;
    pair.a
        .rekey_child(now, sa, a_second)
        .expect("the engine takes the command");
    pair.drive(1000);
    let third = b_spis(&pair)[0];
    let used = [EspSpi(CYCLE[0]), first, second];
    assert!(!used.contains(&third), "{third} was in use");

    let later = pair.now + Duration::from_secs(61);
    pair.b.handle_timeout(later);
    assert!(!pair.b.spi_in_use(first), "released after spi_reuse_delay");
    assert!(!pair.b.spi_in_use(second));
    let reserved = EspSpi(CYCLE[0]);
    assert!(pair.b.spi_in_use(third) && pair.b.spi_in_use(reserved));
    pair.b
        .release_spi(reserved)
        .expect("the engine takes the command");
    assert!(!pair.b.spi_in_use(reserved));
}
