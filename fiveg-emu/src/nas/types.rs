//! Typed information elements of TS 24.501 §9.11 that registration needs.

use super::codec::DecodeError;
use crate::security::{CipheringAlgorithm, IntegrityAlgorithm};

/// NAS key set identifier (§9.11.3.32): type of security context flag and a 3-bit KSI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ngksi {
    /// TSC: `true` for a mapped security context.
    pub mapped: bool,
    /// The key set identifier; 7 means "no key is available".
    pub ksi: u8,
}

impl Ngksi {
    /// "No key is available" (native).
    pub const NO_KEY: Self = Self {
        mapped: false,
        ksi: 7,
    };

    /// A native KSI (0 to 6 name a key set).
    pub fn native(ksi: u8) -> Self {
        Self {
            mapped: false,
            ksi: ksi & 0x07,
        }
    }

    /// From the half octet.
    pub fn from_nibble(nibble: u8) -> Self {
        Self {
            mapped: nibble & 0x08 != 0,
            ksi: nibble & 0x07,
        }
    }

    /// The half octet.
    pub fn nibble(self) -> u8 {
        u8::from(self.mapped) << 3 | self.ksi & 0x07
    }
}

/// 5GS registration type (§9.11.3.7): follow-on request bit and a 3-bit value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistrationType {
    /// FOR: a follow-on request is pending.
    pub follow_on: bool,
    /// The registration type value.
    pub value: u8,
}

impl RegistrationType {
    /// Initial registration.
    pub const INITIAL: u8 = 1;
    /// Mobility registration updating.
    pub const MOBILITY: u8 = 2;
    /// Periodic registration updating.
    pub const PERIODIC: u8 = 3;

    /// From the half octet.
    pub fn from_nibble(nibble: u8) -> Self {
        Self {
            follow_on: nibble & 0x08 != 0,
            value: nibble & 0x07,
        }
    }

    /// The half octet.
    pub fn nibble(self) -> u8 {
        u8::from(self.follow_on) << 3 | self.value & 0x07
    }
}

/// De-registration type (§9.11.3.20).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeregistrationType {
    /// Switch off.
    pub switch_off: bool,
    /// Re-registration required (network-initiated only).
    pub re_registration_required: bool,
    /// Access type: 1 3GPP, 2 non-3GPP, 3 both.
    pub access: u8,
}

impl DeregistrationType {
    /// Access type "non-3GPP access".
    pub const NON_3GPP: u8 = 2;

    /// From the half octet.
    pub fn from_nibble(nibble: u8) -> Self {
        Self {
            switch_off: nibble & 0x08 != 0,
            re_registration_required: nibble & 0x04 != 0,
            access: nibble & 0x03,
        }
    }

    /// The half octet.
    pub fn nibble(self) -> u8 {
        u8::from(self.switch_off) << 3
            | u8::from(self.re_registration_required) << 2
            | self.access & 0x03
    }
}

/// 5GMM cause (§9.11.3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GmmCause(pub u8);

impl GmmCause {
    /// #3 Illegal UE.
    pub const ILLEGAL_UE: Self = Self(3);
    /// #7 5GS services not allowed.
    pub const SERVICES_NOT_ALLOWED: Self = Self(7);
    /// #9 UE identity cannot be derived by the network.
    pub const UE_IDENTITY_NOT_DERIVED: Self = Self(9);
    /// #11 PLMN not allowed.
    pub const PLMN_NOT_ALLOWED: Self = Self(11);
    /// #20 MAC failure.
    pub const MAC_FAILURE: Self = Self(20);
    /// #21 Synch failure.
    pub const SYNCH_FAILURE: Self = Self(21);
    /// #22 Congestion.
    pub const CONGESTION: Self = Self(22);
    /// #23 UE security capabilities mismatch.
    pub const UE_SECURITY_CAPABILITIES_MISMATCH: Self = Self(23);
    /// #24 Security mode rejected, unspecified.
    pub const SECURITY_MODE_REJECTED: Self = Self(24);
    /// #26 Non-5G authentication unacceptable.
    pub const NON_5G_AUTHENTICATION_UNACCEPTABLE: Self = Self(26);
    /// #111 Protocol error, unspecified.
    pub const PROTOCOL_ERROR: Self = Self(111);
}

/// UE security capability (§9.11.3.54): 2 to 8 octets; octet 1 is 5G-EA0..7, octet 2
/// 5G-IA0..7, each with algorithm 0 in the most significant bit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UeSecurityCapability(Vec<u8>);

impl UeSecurityCapability {
    /// The 5G capabilities only: bit masks with bit 7 for algorithm 0.
    pub fn new(ea: u8, ia: u8) -> Self {
        Self(vec![ea, ia])
    }

    /// From the IE value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        if !(2..=8).contains(&value.len()) {
            return Err(DecodeError::Invalid("UE security capability length"));
        }
        Ok(Self(value.to_vec()))
    }

    /// The IE value.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Whether 5G-EA`n` is supported.
    pub fn supports_ciphering(&self, algorithm: CipheringAlgorithm) -> bool {
        self.0[0] & 0x80 >> algorithm.identity() != 0
    }

    /// Whether 5G-IA`n` is supported.
    pub fn supports_integrity(&self, algorithm: IntegrityAlgorithm) -> bool {
        self.0[1] & 0x80 >> algorithm.identity() != 0
    }
}

/// NAS security algorithms (§9.11.3.34): the type of ciphering algorithm (bits 5-7) and the type
/// of integrity protection algorithm (bits 1-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NasSecurityAlgorithms {
    /// Ciphering.
    pub ciphering: CipheringAlgorithm,
    /// Integrity.
    pub integrity: IntegrityAlgorithm,
}

impl NasSecurityAlgorithms {
    /// From the octet; reserved values are invalid.
    pub fn decode(octet: u8) -> Result<Self, DecodeError> {
        let ciphering = CipheringAlgorithm::from_identity(octet >> 4 & 0x07);
        let integrity = IntegrityAlgorithm::from_identity(octet & 0x07);
        match (ciphering, integrity) {
            (Some(ciphering), Some(integrity)) => Ok(Self {
                ciphering,
                integrity,
            }),
            _ => Err(DecodeError::Invalid("NAS security algorithms")),
        }
    }

    /// The octet.
    pub fn octet(self) -> u8 {
        self.ciphering.identity() << 4 | self.integrity.identity()
    }
}

/// S-NSSAI (§9.11.2.8): SST, optional SD, and optional mapped HPLMN SST and SD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SNssai {
    /// Slice/service type.
    pub sst: u8,
    /// Slice differentiator.
    pub sd: Option<[u8; 3]>,
    /// Mapped HPLMN SST.
    pub mapped_sst: Option<u8>,
    /// Mapped HPLMN SD.
    pub mapped_sd: Option<[u8; 3]>,
}

impl SNssai {
    /// An S-NSSAI with an SST and an optional SD.
    pub fn new(sst: u8, sd: Option<[u8; 3]>) -> Self {
        Self {
            sst,
            sd,
            mapped_sst: None,
            mapped_sd: None,
        }
    }

    /// From the value (lengths 1, 2, 4, 5 or 8).
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let sd = |at: usize| {
            value
                .get(at..at + 3)
                .and_then(|s| <[u8; 3]>::try_from(s).ok())
        };
        let sst = value
            .first()
            .copied()
            .ok_or(DecodeError::Invalid("S-NSSAI length"))?;
        let (sd, mapped_sst, mapped_sd) = match value.len() {
            1 => (None, None, None),
            2 => (None, Some(value[1]), None),
            4 => (sd(1), None, None),
            5 => (sd(1), Some(value[4]), None),
            8 => (sd(1), Some(value[4]), sd(5)),
            _ => return Err(DecodeError::Invalid("S-NSSAI length")),
        };
        Ok(Self {
            sst,
            sd,
            mapped_sst,
            mapped_sd,
        })
    }

    /// The value. Combinations the IE cannot express (a mapped SD without a mapped SST, or
    /// mapped values after a missing SD) are written without the mapped part.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![self.sst];
        match (self.sd, self.mapped_sst, self.mapped_sd) {
            (None, Some(mapped), _) => out.push(mapped),
            (Some(sd), mapped_sst, mapped_sd) => {
                out.extend_from_slice(&sd);
                if let Some(mapped) = mapped_sst {
                    out.push(mapped);
                    if let Some(mapped_sd) = mapped_sd {
                        out.extend_from_slice(&mapped_sd);
                    }
                }
            }
            (None, None, _) => {}
        }
        out
    }
}

/// NSSAI (§9.11.3.37): a list of S-NSSAI values, each with a one-octet length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Nssai(pub Vec<SNssai>);

impl Nssai {
    /// From the value.
    pub fn decode(value: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = super::codec::Reader::new(value);
        let mut out = Vec::new();
        while !reader.is_empty() {
            out.push(SNssai::decode(reader.lv("S-NSSAI")?)?);
        }
        Ok(Self(out))
    }

    /// The value.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for snssai in &self.0 {
            let value = snssai.encode();
            // At most 8 octets, so the length fits one octet.
            out.push(value.len() as u8);
            out.extend_from_slice(&value);
        }
        out
    }
}

/// Payload container type (§9.11.3.40).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadContainerType(pub u8);

impl PayloadContainerType {
    /// N1 SM information (a 5GSM message).
    pub const N1_SM: Self = Self(1);
}
