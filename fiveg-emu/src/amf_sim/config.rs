//! What the emulated AMF is and whom it knows: identity, REGISTRATION ACCEPT placement,
//! subscribers and faults, from a small TOML file (and the binary's flags).
//!
//! ```toml
//! name = "amf-sim"
//! plmn = "208-93"
//! amf_region = 202          # AMF Region ID, Set ID and Pointer of its GUAMI
//! amf_set = 1022
//! amf_pointer = 1
//! accept_mode = "after-context-setup"   # or "in-context-setup"
//! slices = ["1", "1-010203"]            # allowed NSSAI and NG SETUP RESPONSE slices
//!
//! [[subscribers]]
//! supi = "imsi-208930000000001"
//! k = "465b5ce8b199b49faa5f0a2ee238a6bc"
//! opc = "cd63cb71954a9f4e48a5994e37a02baf"
//! sqn = "000000000020"                  # optional, hex
//!
//! [faults]
//! ng_setup_refusals = 1
//! ng_setup_time_to_wait = 2             # seconds: 1, 2, 5, 10, 20 or 60
//! answer_delay_ms = 200
//! answers_before_silence = 3
//! wrong_amf_ue_ngap_id = false
//! keep_context_after_reject = false
//! ignore_release_requests = false
//! registration_reject = 7               # 5GMM cause of REGISTRATION REJECT
//! corrupt_downlink_mac = false
//! ```

use std::fmt;
use std::time::Duration;

use n3iwf::ngap::{Cause, MiscCause, TimeToWait};
use serde::Deserialize;
use zeroize::Zeroizing;

use crate::amf::{
    AcceptMode, AmfConfig, AmfFaults, AmfNode, AmfNodeConfig, NodeFaults, Subscriber, SubscriberDb,
};
use crate::identity::{AmfId, Plmn, Supi};
use crate::nas::{GmmCause, Nssai, SNssai};
use crate::secret::{Opc, SubscriberKey};
use crate::values::{AuthMgmtField, Sqn};

/// The emulated AMF's configuration.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The AMF's identity, accept mode and faults; each association starts from it.
    pub node: AmfNodeConfig,
    pub subscribers: Vec<SubscriberSpec>,
}

/// A subscriber: SUPI, K, OPc, and the SQN its next vector goes above.
#[derive(Clone)]
pub struct SubscriberSpec {
    pub supi: Supi,
    pub k: Zeroizing<[u8; 16]>,
    pub opc: Zeroizing<[u8; 16]>,
    pub sqn: u64,
}

/// A configuration the emulator cannot run with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl SimConfig {
    /// An AMF of `plmn` (`MCC-MNC`) with TS 35.208 test set 1 as subscriber 1 of that PLMN.
    ///
    /// # Errors
    /// When `plmn` is not `MCC-MNC`.
    pub fn new(plmn: &str) -> Result<Self, ConfigError> {
        let plmn = parse_plmn(plmn)?;
        let amf_id = AmfId::new(0xca, 0x3fe, 0x01).ok_or_else(|| err("AMF identifier"))?;
        let nas = AmfConfig {
            plmn,
            amf_id,
            allowed_nssai: Nssai(vec![SNssai::new(1, None)]),
            faults: AmfFaults::default(),
        };
        let node = AmfNodeConfig {
            name: "amf-sim".into(),
            relative_capacity: 255,
            nas,
            plmn_support: Vec::new(),
            extra_guamis: Vec::new(),
            accept_mode: AcceptMode::AfterContextSetup,
            faults: NodeFaults::default(),
            seed: 1,
            smf: crate::amf::smf::SmfConfig::default(),
        };
        let supi = format!(
            "imsi-{}{}{:0w$}",
            plmn.mcc(),
            plmn.mnc(),
            1,
            w = 12 - plmn.mnc().len()
        );
        let subscriber = SubscriberSpec {
            supi: parse_supi(&supi, plmn)?,
            k: Zeroizing::new(TEST_SET_1_K),
            opc: Zeroizing::new(TEST_SET_1_OPC),
            sqn: 0x20,
        };
        Ok(Self {
            node,
            subscribers: vec![subscriber],
        })
    }

    /// Reads the TOML format of the module documentation; what it leaves out keeps the
    /// defaults of [`SimConfig::new`] (without its subscriber when it lists some).
    ///
    /// # Errors
    /// The first problem found, naming the field.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let raw: RawSim = toml::from_str(text).map_err(|e| err(&e.to_string()))?;
        let mut config = Self::new(raw.plmn.as_deref().unwrap_or("208-93"))?;
        raw.apply_identity(&mut config)?;
        if let Some(f) = &raw.faults {
            f.apply(&mut config.node)?;
        }
        if !raw.subscribers.is_empty() {
            let plmn = config.node.nas.plmn;
            config.subscribers = raw
                .subscribers
                .iter()
                .map(|s| s.spec(plmn))
                .collect::<Result<_, _>>()?;
        }
        Ok(config)
    }

    /// A fresh AMF context with every subscriber.
    pub fn node(&self) -> AmfNode {
        let mut db = SubscriberDb::default();
        for s in &self.subscribers {
            db.insert(Subscriber::new(
                s.supi.clone(),
                &SubscriberKey::from_bytes(*s.k),
                Opc::from_bytes(*s.opc),
                Sqn::new(s.sqn).unwrap_or_else(|| Sqn::from_bytes([0; 6])),
                AuthMgmtField::SEPARATION,
            ));
        }
        AmfNode::new(self.node.clone(), db)
    }

    /// Parses an accept mode as the file and the flags write it.
    ///
    /// # Errors
    /// For another word.
    pub fn accept_mode(text: &str) -> Result<AcceptMode, ConfigError> {
        match text {
            "after-context-setup" => Ok(AcceptMode::AfterContextSetup),
            "in-context-setup" => Ok(AcceptMode::InContextSetup),
            other => Err(err(&format!(
                "accept_mode '{other}': use after-context-setup or in-context-setup"
            ))),
        }
    }

    /// NG SETUP FAILURE for the first `n` requests, with a Time to Wait of `secs` seconds.
    ///
    /// # Errors
    /// When `secs` is not one of TS 38.413's values (1, 2, 5, 10, 20, 60).
    pub fn refuse_ng_setup(&mut self, n: usize, secs: Option<u8>) -> Result<(), ConfigError> {
        let wait = secs.map(time_to_wait).transpose()?;
        self.node.faults.ng_setup_refusals = n;
        self.node.faults.ng_setup_failure =
            Some((Cause::Misc(MiscCause::CONTROL_PROCESSING_OVERLOAD), wait));
        Ok(())
    }
}

impl fmt::Debug for SubscriberSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubscriberSpec")
            .field("supi", &self.supi)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSim {
    name: Option<String>,
    plmn: Option<String>,
    amf_region: Option<u8>,
    amf_set: Option<u16>,
    amf_pointer: Option<u8>,
    relative_capacity: Option<u8>,
    accept_mode: Option<String>,
    slices: Option<Vec<String>>,
    seed: Option<u64>,
    #[serde(default)]
    subscribers: Vec<RawSubscriber>,
    faults: Option<RawFaults>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSubscriber {
    supi: String,
    k: String,
    opc: String,
    sqn: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaults {
    answer_delay_ms: Option<u64>,
    answers_before_silence: Option<usize>,
    wrong_amf_ue_ngap_id: Option<bool>,
    ng_setup_refusals: Option<usize>,
    ng_setup_time_to_wait: Option<u8>,
    keep_context_after_reject: Option<bool>,
    ignore_release_requests: Option<bool>,
    registration_reject: Option<u8>,
    corrupt_downlink_mac: Option<bool>,
}

impl RawSim {
    fn apply_identity(&self, config: &mut SimConfig) -> Result<(), ConfigError> {
        let node = &mut config.node;
        if let Some(n) = &self.name {
            node.name.clone_from(n);
        }
        let id = node.nas.amf_id;
        let (region, set, pointer) = (
            self.amf_region.unwrap_or_else(|| id.region()),
            self.amf_set.unwrap_or_else(|| id.set()),
            self.amf_pointer.unwrap_or_else(|| id.pointer()),
        );
        node.nas.amf_id = AmfId::new(region, set, pointer)
            .ok_or_else(|| err("amf_set is 10 bits (0-1023), amf_pointer 6 bits (0-63)"))?;
        if let Some(c) = self.relative_capacity {
            node.relative_capacity = c;
        }
        if let Some(m) = &self.accept_mode {
            node.accept_mode = SimConfig::accept_mode(m)?;
        }
        if let Some(slices) = &self.slices {
            let parsed = slices.iter().map(|s| slice(s)).collect::<Result<_, _>>()?;
            node.nas.allowed_nssai = Nssai(parsed);
        }
        if let Some(s) = self.seed {
            node.seed = s;
        }
        Ok(())
    }
}

impl RawFaults {
    fn apply(&self, node: &mut AmfNodeConfig) -> Result<(), ConfigError> {
        let f = &mut node.faults;
        if let Some(ms) = self.answer_delay_ms {
            f.answer_delay = Duration::from_millis(ms);
        }
        f.answers_before_silence = self.answers_before_silence.or(f.answers_before_silence);
        f.wrong_amf_ue_ngap_id = self.wrong_amf_ue_ngap_id.unwrap_or(f.wrong_amf_ue_ngap_id);
        f.keep_context_after_reject = self
            .keep_context_after_reject
            .unwrap_or(f.keep_context_after_reject);
        f.ignore_release_requests = self
            .ignore_release_requests
            .unwrap_or(f.ignore_release_requests);
        if let Some(n) = self.ng_setup_refusals {
            let wait = self.ng_setup_time_to_wait.map(time_to_wait).transpose()?;
            f.ng_setup_refusals = n;
            f.ng_setup_failure = Some((Cause::Misc(MiscCause::CONTROL_PROCESSING_OVERLOAD), wait));
        }
        if let Some(c) = self.registration_reject {
            node.nas.faults.registration_reject = Some(GmmCause(c));
        }
        if let Some(b) = self.corrupt_downlink_mac {
            node.nas.faults.corrupt_downlink_mac = b;
        }
        Ok(())
    }
}

impl RawSubscriber {
    fn spec(&self, plmn: Plmn) -> Result<SubscriberSpec, ConfigError> {
        let sqn = match &self.sqn {
            Some(s) => u64::from_str_radix(s, 16)
                .ok()
                .filter(|v| *v < 1 << 48)
                .ok_or_else(|| err(&format!("subscribers.sqn '{s}': up to 12 hex digits")))?,
            None => 0x20,
        };
        Ok(SubscriberSpec {
            supi: parse_supi(&self.supi, plmn)?,
            k: Zeroizing::new(hex16("subscribers.k", &self.k)?),
            opc: Zeroizing::new(hex16("subscribers.opc", &self.opc)?),
            sqn,
        })
    }
}

/// `MCC-MNC`.
pub(crate) fn parse_plmn(text: &str) -> Result<Plmn, ConfigError> {
    text.split_once('-')
        .and_then(|(mcc, mnc)| Plmn::new(mcc, mnc))
        .ok_or_else(|| err(&format!("plmn '{text}': MCC-MNC, e.g. 208-93")))
}

/// `imsi-` and the 15 digits of an IMSI of `plmn`.
pub(crate) fn parse_supi(text: &str, plmn: Plmn) -> Result<Supi, ConfigError> {
    let prefix = format!("imsi-{}{}", plmn.mcc(), plmn.mnc());
    text.strip_prefix(&prefix)
        .and_then(|msin| Supi::new(plmn, msin))
        .ok_or_else(|| {
            err(&format!(
                "supi '{text}': imsi- and an IMSI of PLMN {}",
                plmn
            ))
        })
}

pub(crate) fn hex16(field: &str, text: &str) -> Result<[u8; 16], ConfigError> {
    let bad = || err(&format!("{field}: 32 hex digits"));
    if text.len() != 32 {
        return Err(bad());
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

/// `SST` or `SST-SD`.
fn slice(text: &str) -> Result<SNssai, ConfigError> {
    let bad = || {
        err(&format!(
            "slice '{text}': SST or SST-SD (\"1\", \"1-010203\")"
        ))
    };
    let (sst, sd) = match text.split_once('-') {
        Some((sst, sd)) if sd.len() == 6 => {
            let [_, a, b, c] = u32::from_str_radix(sd, 16)
                .map_err(|_| bad())?
                .to_be_bytes();
            (sst, Some([a, b, c]))
        }
        Some(_) => return Err(bad()),
        None => (text, None),
    };
    Ok(SNssai::new(sst.parse().map_err(|_| bad())?, sd))
}

fn time_to_wait(secs: u8) -> Result<TimeToWait, ConfigError> {
    Ok(match secs {
        1 => TimeToWait::V1S,
        2 => TimeToWait::V2S,
        5 => TimeToWait::V5S,
        10 => TimeToWait::V10S,
        20 => TimeToWait::V20S,
        60 => TimeToWait::V60S,
        other => {
            return Err(err(&format!(
                "time to wait {other} s: use 1, 2, 5, 10, 20 or 60"
            )));
        }
    })
}

fn err(message: &str) -> ConfigError {
    ConfigError(message.to_string())
}

/// TS 35.208 test set 1.
const TEST_SET_1_K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
const TEST_SET_1_OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_sets_identity_subscribers_and_faults() {
        let c = SimConfig::from_toml(
            r#"
            name = "amf-b"
            plmn = "310-410"
            amf_set = 5
            accept_mode = "in-context-setup"
            slices = ["1-010203", "2"]
            [[subscribers]]
            supi = "imsi-310410000000007"
            k = "465b5ce8b199b49faa5f0a2ee238a6bc"
            opc = "cd63cb71954a9f4e48a5994e37a02baf"
            sqn = "000000000040"
            [faults]
            ng_setup_refusals = 2
            ng_setup_time_to_wait = 5
            answer_delay_ms = 150
            registration_reject = 7
            "#,
        )
        .unwrap();
        assert_eq!(c.node.name, "amf-b");
        assert_eq!(c.node.nas.amf_id.set(), 5);
        assert_eq!(c.node.accept_mode, AcceptMode::InContextSetup);
        assert_eq!(c.node.nas.allowed_nssai.0.len(), 2);
        assert_eq!(c.subscribers.len(), 1);
        assert_eq!(c.subscribers[0].sqn, 0x40);
        // 310-410 has a three-digit MNC: the MSIN is the nine digits after it.
        assert_eq!(c.subscribers[0].supi.msin(), "000000007");
        assert_eq!(c.node.faults.ng_setup_refusals, 2);
        assert_eq!(
            c.node.faults.ng_setup_failure.as_ref().map(|f| f.1),
            Some(Some(TimeToWait::V5S))
        );
        assert_eq!(c.node.faults.answer_delay, Duration::from_millis(150));
        assert_eq!(c.node.nas.faults.registration_reject, Some(GmmCause(7)));
    }

    #[test]
    fn mistakes_name_the_field() {
        let cases = [
            ("plmn = \"20893\"", "plmn '20893'"),
            ("accept_mode = \"later\"", "accept_mode 'later'"),
            ("amf_set = 2000", "amf_set is 10 bits"),
            ("slices = [\"1-01\"]", "slice '1-01'"),
            (
                "[faults]\nng_setup_refusals = 1\nng_setup_time_to_wait = 3",
                "time to wait 3 s",
            ),
            (
                "[[subscribers]]\nsupi = \"imsi-001010000000001\"\nk = \"00\"\nopc = \"00\"",
                "supi 'imsi-001010000000001'",
            ),
            ("colour = 1", "unknown field"),
        ];
        for (text, want) in cases {
            let e = SimConfig::from_toml(text).unwrap_err();
            assert!(e.0.contains(want), "{text}: {e}");
        }
    }

    #[test]
    fn the_default_subscriber_is_an_imsi_of_the_plmn() {
        let c = SimConfig::new("001-001").unwrap();
        assert_eq!(c.subscribers[0].supi.imsi_digits(), "001001000000001");
        let c = SimConfig::new("208-93").unwrap();
        assert_eq!(c.subscribers[0].supi.imsi_digits(), "208930000000001");
    }
}
