//! NAS security algorithm identities (TS 33.501 §5.11.1, TS 24.501 §9.11.3.34).

/// 5G NAS ciphering algorithms (4-bit identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CipheringAlgorithm {
    /// NEA0, null ciphering.
    Nea0,
    /// 128-NEA1 (SNOW 3G); not implemented by the emulator.
    Nea1,
    /// 128-NEA2 (AES-CTR).
    Nea2,
    /// 128-NEA3 (ZUC); not implemented by the emulator.
    Nea3,
}

impl CipheringAlgorithm {
    /// The algorithm identity, as in the NAS security algorithms IE and the KDF.
    pub fn identity(self) -> u8 {
        match self {
            Self::Nea0 => 0,
            Self::Nea1 => 1,
            Self::Nea2 => 2,
            Self::Nea3 => 3,
        }
    }

    /// From the identity; `None` for the values TS 24.501 marks reserved or "not used".
    pub fn from_identity(value: u8) -> Option<Self> {
        Some(match value {
            0 => Self::Nea0,
            1 => Self::Nea1,
            2 => Self::Nea2,
            3 => Self::Nea3,
            _ => return None,
        })
    }
}

/// 5G NAS integrity algorithms (4-bit identity).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrityAlgorithm {
    /// NIA0, null integrity (emergency only).
    Nia0,
    /// 128-NIA1 (SNOW 3G); not implemented by the emulator.
    Nia1,
    /// 128-NIA2 (AES-CMAC).
    Nia2,
    /// 128-NIA3 (ZUC); not implemented by the emulator.
    Nia3,
}

impl IntegrityAlgorithm {
    /// The algorithm identity.
    pub fn identity(self) -> u8 {
        match self {
            Self::Nia0 => 0,
            Self::Nia1 => 1,
            Self::Nia2 => 2,
            Self::Nia3 => 3,
        }
    }

    /// From the identity; `None` for reserved values.
    pub fn from_identity(value: u8) -> Option<Self> {
        Some(match value {
            0 => Self::Nia0,
            1 => Self::Nia1,
            2 => Self::Nia2,
            3 => Self::Nia3,
            _ => return None,
        })
    }
}
