//! Network slice identifiers (TS 23.003 §28.4.2, TS 24.501 §9.11.2.8).

/// Slice/Service Type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sst(pub u8);

/// Slice Differentiator (3 octets).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sd(pub [u8; 3]);

/// S-NSSAI: an SST and an optional SD.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Snssai {
    pub sst: Sst,
    pub sd: Option<Sd>,
}

impl Snssai {
    /// An S-NSSAI with an SST only.
    pub fn new(sst: u8) -> Self {
        Self {
            sst: Sst(sst),
            sd: None,
        }
    }

    /// An S-NSSAI with an SST and an SD.
    pub fn with_sd(sst: u8, sd: [u8; 3]) -> Self {
        Self {
            sst: Sst(sst),
            sd: Some(Sd(sd)),
        }
    }
}
