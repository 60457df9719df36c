//! The emulated UEs' subscribers, in the `[[subscribers]]` format of `amf-sim`'s TOML so one
//! file can serve both ends:
//!
//! ```toml
//! plmn = "208-93"
//!
//! [[subscribers]]
//! supi = "imsi-208930000000001"
//! k = "465b5ce8b199b49faa5f0a2ee238a6bc"
//! opc = "cd63cb71954a9f4e48a5994e37a02baf"
//! ```
//!
//! UE `i` (from 0) takes subscriber `i`; past the listed ones it takes the last one's K and OPc
//! with the MSIN raised by the distance, so `--ues N` needs one entry (and the AMF the N
//! entries [`Subscribers::amf_toml`] writes). Other keys of amf-sim's file are ignored here.

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::amf_sim::ConfigError;
use crate::amf_sim::config::{hex16, parse_plmn, parse_supi};
use crate::identity::{Plmn, Supi};
use crate::secret::{Opc, SubscriberKey};

/// TS 35.208 test set 1, the emulated AMF's default subscriber 1.
const TEST_SET_1_K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const TEST_SET_1_OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";

/// One USIM: SUPI, K and OPc.
#[derive(Clone)]
pub struct UsimSpec {
    pub supi: Supi,
    pub k: Zeroizing<[u8; 16]>,
    pub opc: Zeroizing<[u8; 16]>,
}

impl UsimSpec {
    pub fn key(&self) -> SubscriberKey {
        SubscriberKey::from_bytes(*self.k)
    }

    pub fn opc(&self) -> Opc {
        Opc::from_bytes(*self.opc)
    }
}

/// The listed subscribers of one PLMN (never empty).
#[derive(Clone)]
pub struct Subscribers {
    pub plmn: Plmn,
    listed: Vec<UsimSpec>,
}

#[derive(Deserialize)]
struct RawFile {
    plmn: Option<String>,
    #[serde(default)]
    subscribers: Vec<RawSubscriber>,
}

#[derive(Deserialize)]
struct RawSubscriber {
    supi: String,
    k: String,
    opc: String,
}

impl Subscribers {
    /// Subscriber 1 of `plmn` with TS 35.208 test set 1, as amf-sim has by default.
    ///
    /// # Errors
    /// When `plmn` is not `MCC-MNC`.
    pub fn test_set_1(plmn: &str) -> Result<Self, ConfigError> {
        let plmn = parse_plmn(plmn)?;
        let msin = format!("{:0w$}", 1, w = 12 - plmn.mnc().len());
        let supi = Supi::new(plmn, &msin).ok_or_else(|| ConfigError("supi".into()))?;
        Ok(Self {
            plmn,
            listed: vec![UsimSpec {
                supi,
                k: Zeroizing::new(hex16("k", TEST_SET_1_K)?),
                opc: Zeroizing::new(hex16("opc", TEST_SET_1_OPC)?),
            }],
        })
    }

    /// From amf-sim's TOML format (its `plmn` and `[[subscribers]]`).
    ///
    /// # Errors
    /// The first problem, naming the field.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        let mut subs = Self::test_set_1(raw.plmn.as_deref().unwrap_or("208-93"))?;
        if !raw.subscribers.is_empty() {
            subs.listed = raw
                .subscribers
                .iter()
                .enumerate()
                .map(|(i, s)| s.spec(subs.plmn, i))
                .collect::<Result<_, _>>()?;
        }
        Ok(subs)
    }

    /// The USIM of UE `index` (from 0).
    ///
    /// # Errors
    /// When the raised MSIN no longer fits its digits.
    pub fn usim(&self, index: usize) -> Result<UsimSpec, ConfigError> {
        if let Some(listed) = self.listed.get(index) {
            return Ok(listed.clone());
        }
        let last = self
            .listed
            .last()
            .ok_or_else(|| ConfigError("no subscriber".into()))?;
        let beyond = (index - (self.listed.len() - 1)) as u128;
        let msin = last.supi.msin();
        let raised = msin
            .parse::<u128>()
            .ok()
            .map(|m| m + beyond)
            .map(|m| format!("{m:0w$}", w = msin.len()))
            .filter(|m| m.len() == msin.len())
            .and_then(|m| Supi::new(self.plmn, &m))
            .ok_or_else(|| ConfigError(format!("UE {index}: MSIN {msin} + {beyond} overflows")))?;
        Ok(UsimSpec {
            supi: raised,
            ..last.clone()
        })
    }

    /// The `[[subscribers]]` of UEs `0..count` in amf-sim's format (K and OPc included: the
    /// file is for the emulated AMF of a test).
    ///
    /// # Errors
    /// As [`Subscribers::usim`].
    pub fn amf_toml(&self, count: usize) -> Result<String, ConfigError> {
        let mut out = format!("plmn = \"{}-{}\"\n", self.plmn.mcc(), self.plmn.mnc());
        for i in 0..count {
            let u = self.usim(i)?;
            out.push_str(&format!(
                "\n[[subscribers]]\nsupi = \"imsi-{}\"\nk = \"{}\"\nopc = \"{}\"\n",
                u.supi.imsi_digits(),
                hex(&*u.k),
                hex(&*u.opc)
            ));
        }
        Ok(out)
    }
}

impl RawSubscriber {
    fn spec(&self, plmn: Plmn, i: usize) -> Result<UsimSpec, ConfigError> {
        let at = |e: ConfigError| ConfigError(format!("subscribers[{i}]: {}", e.0));
        Ok(UsimSpec {
            supi: parse_supi(&self.supi, plmn).map_err(at)?,
            k: Zeroizing::new(hex16("k", &self.k).map_err(at)?),
            opc: Zeroizing::new(hex16("opc", &self.opc).map_err(at)?),
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_amf_sims_subscriber_1() {
        let s = Subscribers::test_set_1("208-93").unwrap();
        assert_eq!(s.usim(0).unwrap().supi.imsi_digits(), "208930000000001");
        assert_eq!(hex(&*s.usim(0).unwrap().k), TEST_SET_1_K);
    }

    #[test]
    fn ues_past_the_list_raise_the_last_msin() {
        let s = Subscribers::from_toml(
            "plmn = \"001-01\"\n[[subscribers]]\nsupi = \"imsi-001010000000005\"\n\
             k = \"000102030405060708090a0b0c0d0e0f\"\nopc = \"0f0e0d0c0b0a09080706050403020100\"\n",
        )
        .unwrap();
        assert_eq!(s.usim(0).unwrap().supi.imsi_digits(), "001010000000005");
        assert_eq!(s.usim(3).unwrap().supi.imsi_digits(), "001010000000008");
        assert_eq!(
            hex(&*s.usim(3).unwrap().opc),
            "0f0e0d0c0b0a09080706050403020100"
        );
    }

    #[test]
    fn an_msin_that_would_grow_a_digit_is_refused() {
        let s = Subscribers::from_toml(
            "[[subscribers]]\nsupi = \"imsi-208939999999999\"\n\
             k = \"465b5ce8b199b49faa5f0a2ee238a6bc\"\nopc = \"cd63cb71954a9f4e48a5994e37a02baf\"\n",
        )
        .unwrap();
        assert!(s.usim(0).is_ok());
        let e = s.usim(1).err().unwrap();
        assert!(e.0.contains("overflows"), "{}", e.0);
    }

    #[test]
    fn bad_entries_name_the_subscriber_and_field() {
        let e = Subscribers::from_toml(
            "[[subscribers]]\nsupi = \"imsi-208930000000001\"\nk = \"00\"\nopc = \"cd63cb71954a9f4e48a5994e37a02baf\"\n",
        )
        .err()
        .unwrap();
        assert!(e.0.starts_with("subscribers[0]: k"), "{}", e.0);
    }

    #[test]
    fn the_amf_file_reads_back_as_the_same_subscribers() {
        let s = Subscribers::test_set_1("208-93").unwrap();
        let text = s.amf_toml(3).unwrap();
        let back = crate::amf_sim::SimConfig::from_toml(&text).unwrap();
        let supis: Vec<String> = back
            .subscribers
            .iter()
            .map(|s| s.supi.imsi_digits())
            .collect();
        assert_eq!(
            supis,
            ["208930000000001", "208930000000002", "208930000000003"]
        );
        let again = Subscribers::from_toml(&text).unwrap();
        assert_eq!(again.usim(2).unwrap().supi, s.usim(2).unwrap().supi);
    }
}
