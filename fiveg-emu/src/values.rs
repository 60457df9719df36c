//! Public values of the authentication exchange (they travel in clear in NAS), as newtypes.

use subtle::ConstantTimeEq;

/// RAND, the 128-bit challenge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rand(pub [u8; 16]);

/// SQN, the 48-bit sequence number (TS 33.102 §6.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sqn(u64);

impl Sqn {
    /// Largest SQN (48 bits).
    pub const MAX: Self = Self((1 << 48) - 1);

    /// `None` when `value` does not fit in 48 bits.
    pub fn new(value: u64) -> Option<Self> {
        (value <= Self::MAX.0).then_some(Self(value))
    }

    /// From the six octets of the wire.
    pub fn from_bytes(bytes: [u8; 6]) -> Self {
        let mut wide = [0u8; 8];
        wide[2..].copy_from_slice(&bytes);
        Self(u64::from_be_bytes(wide))
    }

    /// The six octets of the wire.
    pub fn to_bytes(self) -> [u8; 6] {
        let wide = self.0.to_be_bytes();
        let mut out = [0u8; 6];
        out.copy_from_slice(&wide[2..]);
        out
    }

    /// The numeric value.
    pub fn value(self) -> u64 {
        self.0
    }

    /// The next SQN, `None` at the 48-bit limit.
    pub fn next(self) -> Option<Self> {
        Self::new(self.0 + 1)
    }
}

/// The 16-bit Authentication Management Field (TS 33.102 Annex H). Bit 0 of the first octet
/// (the most significant bit) is the "AMF separation bit", which 5G-AKA requires to be 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AuthMgmtField(pub [u8; 2]);

impl AuthMgmtField {
    /// The value networks use for 5G-AKA: separation bit set, the rest zero.
    pub const SEPARATION: Self = Self([0x80, 0x00]);
    /// The dummy value that MAC-S is computed with (TS 33.102 §6.3.3).
    pub const RESYNC: Self = Self([0x00, 0x00]);

    /// Whether the AMF separation bit is set (TS 33.102 Annex H).
    pub fn has_separation_bit(self) -> bool {
        self.0[0] & 0x80 != 0
    }
}

/// MAC-A (f1) or MAC-S (f1*), 64 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mac64(pub [u8; 8]);

impl Mac64 {
    /// Constant-time equality (the check of a received MAC).
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// RES, the 64-bit response of MILENAGE f2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Res(pub [u8; 8]);

/// AUTN = SQN xor AK || AMF || MAC-A (TS 33.102 §6.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Autn(pub [u8; 16]);

impl Autn {
    /// SQN xor AK, the first six octets.
    pub fn concealed_sqn(&self) -> [u8; 6] {
        let mut out = [0u8; 6];
        out.copy_from_slice(&self.0[..6]);
        out
    }

    /// The AMF field.
    pub fn amf(&self) -> AuthMgmtField {
        AuthMgmtField([self.0[6], self.0[7]])
    }

    /// MAC-A.
    pub fn mac(&self) -> Mac64 {
        let mut out = [0u8; 8];
        out.copy_from_slice(&self.0[8..]);
        Mac64(out)
    }
}

/// AUTS = SQN_MS xor AK* || MAC-S (TS 33.102 §6.3.3), sent in an AUTHENTICATION FAILURE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Auts(pub [u8; 14]);

/// RES* or XRES* (TS 33.501 Annex A.4), 128 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResStar(pub [u8; 16]);

impl ResStar {
    /// Constant-time equality (the AUSF's check of RES* against XRES*).
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// HRES* or HXRES* (TS 33.501 Annex A.5), 128 bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HresStar(pub [u8; 16]);

impl HresStar {
    /// Constant-time equality (the SEAF's check).
    pub fn ct_eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

/// The ABBA parameter (TS 33.501 Annex A.7.1): 2 to 255 octets, `0x0000` today.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Abba(Vec<u8>);

impl Abba {
    /// The value the SEAF sets (TS 33.501 Annex A.7.1).
    pub fn current() -> Self {
        Self(vec![0x00, 0x00])
    }

    /// `None` unless 2 to 255 octets (TS 24.501 §9.11.3.10).
    pub fn new(bytes: &[u8]) -> Option<Self> {
        (2..=255)
            .contains(&bytes.len())
            .then(|| Self(bytes.to_vec()))
    }

    /// The octets.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}
