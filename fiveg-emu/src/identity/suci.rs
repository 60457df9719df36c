//! SUCI of SUPI format IMSI (TS 23.003 §2.2B, TS 24.501 §9.11.3.4): home network, routing
//! indicator, protection scheme, home network public key identifier and scheme output. The
//! emulator conceals nothing (null scheme, TS 33.501 Annex C.2); other schemes are carried as
//! opaque octets so that they can be received, refused and counted.

use super::plmn::{Plmn, digit};
use super::supi::Supi;

/// The protection scheme identifier (TS 33.501 Annex C.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtectionScheme(pub u8);

impl ProtectionScheme {
    /// Null scheme: the output is the MSIN.
    pub const NULL: Self = Self(0);
    /// ECIES profile A.
    pub const PROFILE_A: Self = Self(1);
    /// ECIES profile B.
    pub const PROFILE_B: Self = Self(2);
}

/// The routing indicator: 1 to 4 decimal digits, coded in two octets with filler F.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoutingIndicator([u8; 2]);

impl RoutingIndicator {
    /// "0", the value of a UE without a provisioned routing indicator (TS 24.501 §9.11.3.4).
    pub const DEFAULT: Self = Self([0xF0, 0xFF]);

    /// From 1 to 4 decimal digits.
    pub fn new(text: &str) -> Option<Self> {
        if !(1..=4).contains(&text.len()) {
            return None;
        }
        let mut nibbles = [0x0Fu8; 4];
        for (slot, ch) in nibbles.iter_mut().zip(text.bytes()) {
            *slot = digit(ch)?;
        }
        Some(Self([
            nibbles[1] << 4 | nibbles[0],
            nibbles[3] << 4 | nibbles[2],
        ]))
    }

    /// From the two octets of the wire; `None` unless digits then fillers.
    pub fn from_octets(octets: [u8; 2]) -> Option<Self> {
        let nibbles = [
            octets[0] & 0x0F,
            octets[0] >> 4,
            octets[1] & 0x0F,
            octets[1] >> 4,
        ];
        let used = nibbles.iter().take_while(|&&d| d <= 9).count();
        let valid = used >= 1 && nibbles[used..].iter().all(|&d| d == 0x0F);
        valid.then_some(Self(octets))
    }

    /// The two octets.
    pub fn octets(self) -> [u8; 2] {
        self.0
    }
}

/// A SUCI of SUPI format IMSI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suci {
    plmn: Plmn,
    routing: RoutingIndicator,
    scheme: ProtectionScheme,
    key_id: u8,
    output: Vec<u8>,
}

impl Suci {
    /// The null-scheme SUCI of a SUPI.
    pub fn null_scheme(supi: &Supi, routing: RoutingIndicator) -> Self {
        Self {
            plmn: supi.plmn(),
            routing,
            scheme: ProtectionScheme::NULL,
            key_id: 0,
            output: bcd_encode(supi.msin()),
        }
    }

    /// A SUCI as received (any scheme).
    pub fn from_parts(
        plmn: Plmn,
        routing: RoutingIndicator,
        scheme: ProtectionScheme,
        key_id: u8,
        output: Vec<u8>,
    ) -> Self {
        Self {
            plmn,
            routing,
            scheme,
            key_id,
            output,
        }
    }

    /// The SUPI when the scheme is null and the output is a valid MSIN.
    pub fn to_supi(&self) -> Option<Supi> {
        if self.scheme != ProtectionScheme::NULL {
            return None;
        }
        Supi::new(self.plmn, &bcd_decode(&self.output)?)
    }

    /// Home network PLMN.
    pub fn plmn(&self) -> Plmn {
        self.plmn
    }

    /// Routing indicator.
    pub fn routing(&self) -> RoutingIndicator {
        self.routing
    }

    /// Protection scheme.
    pub fn scheme(&self) -> ProtectionScheme {
        self.scheme
    }

    /// Home network public key identifier.
    pub fn key_id(&self) -> u8 {
        self.key_id
    }

    /// Scheme output.
    pub fn output(&self) -> &[u8] {
        &self.output
    }
}

/// Digits in BCD, low nibble first, filler F after an odd count.
fn bcd_encode(text: &str) -> Vec<u8> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let low = pair[0] - b'0';
            let high = pair.get(1).map_or(0x0F, |c| c - b'0');
            high << 4 | low
        })
        .collect()
}

/// Inverse of [`bcd_encode`]; `None` on a non-digit nibble other than a final filler.
fn bcd_decode(octets: &[u8]) -> Option<String> {
    let mut text = String::with_capacity(octets.len() * 2);
    for (index, octet) in octets.iter().enumerate() {
        let (low, high) = (octet & 0x0F, octet >> 4);
        text.push(char::from(b'0' + (low <= 9).then_some(low)?));
        match high {
            0..=9 => text.push(char::from(b'0' + high)),
            0x0F if index + 1 == octets.len() => {}
            _ => return None,
        }
    }
    Some(text)
}
