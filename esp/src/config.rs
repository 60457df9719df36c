//! What an SA is set up with: cipher, keys, ESN, replay window and lifetimes.

use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, IntegAlgorithm, SecretBytes};

use crate::Spi;

/// The replay window used when none is configured (RFC 4303 §3.4.3 asks for at least 32; a
/// large window tolerates the reordering of multi-queue receive paths).
pub const DEFAULT_REPLAY_WINDOW: u32 = 1024;

/// The largest replay window an [`InboundSa`](crate::InboundSa) accepts, in packets.
pub const MAX_REPLAY_WINDOW: u32 = 1 << 16;

/// The confidentiality and integrity transform of an SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cipher {
    /// A combined-mode cipher (RFC 4106, RFC 7634): key material is key || 4-octet salt.
    Aead(AeadAlgorithm),
    /// A CBC cipher with a truncated HMAC (RFC 3602, RFC 4868): key material is the cipher key
    /// followed by the integrity key.
    Cbc {
        /// The block cipher.
        cipher: CbcAlgorithm,
        /// The integrity algorithm.
        integ: IntegAlgorithm,
    },
}

/// Byte and packet lifetimes of an SA (RFC 4301 §4.4.2.1). `None` means no limit.
///
/// Bytes count the inner (plaintext) packets. A soft limit raises
/// [`SaEvent::SoftLifetime`](crate::SaEvent::SoftLifetime) once, so that the SA can be rekeyed;
/// a hard limit raises [`SaEvent::HardLifetime`](crate::SaEvent::HardLifetime) once and stops
/// the SA.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lifetime {
    /// Bytes after which to rekey.
    pub soft_bytes: Option<u64>,
    /// Bytes after which the SA stops.
    pub hard_bytes: Option<u64>,
    /// Packets after which to rekey.
    pub soft_packets: Option<u64>,
    /// Packets after which the SA stops.
    pub hard_packets: Option<u64>,
}

/// Everything one direction of a Child SA needs. Holds key material, so it is neither `Clone`
/// nor `Debug`.
pub struct SaConfig {
    /// The SPI, chosen by the receiving side.
    pub spi: Spi,
    /// The transform.
    pub cipher: Cipher,
    /// AEAD: key || salt. CBC: encryption key || integrity key.
    pub keymat: SecretBytes,
    /// Whether 64-bit extended sequence numbers were negotiated (RFC 4303 §2.2.1).
    pub esn: bool,
    /// Inbound only: anti-replay window in packets; 0 disables the replay check.
    pub replay_window: u32,
    /// Byte and packet lifetimes.
    pub lifetime: Lifetime,
}

impl SaConfig {
    /// A configuration without ESN, with the default replay window and no lifetimes.
    pub fn new(spi: Spi, cipher: Cipher, keymat: SecretBytes) -> Self {
        Self {
            spi,
            cipher,
            keymat,
            esn: false,
            replay_window: DEFAULT_REPLAY_WINDOW,
            lifetime: Lifetime::default(),
        }
    }
}
