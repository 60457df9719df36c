//! SUPI of type IMSI (TS 23.003 §2.2 and §28.7.2) and the serving network name (TS 24.501
//! §9.12.1, TS 33.501 §6.1.1.4).

use std::fmt;

use super::plmn::{Plmn, digit};

/// An IMSI-type SUPI: MCC, MNC and MSIN, at most 15 digits (TS 23.003 §2.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Supi {
    plmn: Plmn,
    msin: String,
}

impl Supi {
    /// From the home PLMN and the MSIN digits; `None` unless the IMSI has 6 to 15 digits.
    pub fn new(plmn: Plmn, msin: &str) -> Option<Self> {
        let total = 3 + plmn.mnc().len() + msin.len();
        let valid = !msin.is_empty() && total <= 15 && msin.bytes().all(|c| digit(c).is_some());
        valid.then(|| Self {
            plmn,
            msin: msin.to_owned(),
        })
    }

    /// The home PLMN.
    pub fn plmn(&self) -> Plmn {
        self.plmn
    }

    /// The MSIN digits.
    pub fn msin(&self) -> &str {
        &self.msin
    }

    /// The IMSI digits, the KAMF input P0 (TS 33.501 Annex A.7.0: the IMSI as a character string).
    pub fn imsi_digits(&self) -> String {
        format!("{}{}{}", self.plmn.mcc(), self.plmn.mnc(), self.msin)
    }
}

impl fmt::Display for Supi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "imsi-{}", self.imsi_digits())
    }
}

/// The serving network name: `5G:mnc<MNC, three digits>.mcc<MCC>.3gppnetwork.org`. Always 32
/// ASCII octets for a PLMN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServingNetworkName(String);

impl ServingNetworkName {
    /// The name of a PLMN (TS 24.501 §9.12.1: the MNC is padded with a leading zero).
    pub fn from_plmn(plmn: Plmn) -> Self {
        Self(format!(
            "5G:mnc{:0>3}.mcc{}.3gppnetwork.org",
            plmn.mnc(),
            plmn.mcc()
        ))
    }

    /// "5G:" followed by an SN Id given as text (for a standalone non-public network the SN Id
    /// is not derived from a PLMN alone, TS 33.501 Annex I.3); `None` past 255 octets.
    pub fn from_sn_id(sn_id: &str) -> Option<Self> {
        (sn_id.len() <= 252).then(|| Self(format!("5G:{sn_id}")))
    }

    /// The octets used as a KDF parameter.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl fmt::Display for ServingNetworkName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
