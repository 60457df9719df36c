//! The control socket of the UPF emulator: newline-delimited JSON, one answer line per command,
//! as an SMF emulator would drive it.
//!
//! ```text
//! {"add": {"ul_teid": 1, "ue_address": "10.60.0.1", "peer": "10.0.3.1:2152", "dl_teid": 7, "qfi": 1, "rqi": false}}
//! {"remove": {"ul_teid": 1}}
//! {"stats": true}
//! ```
//!
//! Answers: `{"ok": true}`, `{"error": "..."}`, or `{"stats": {...}, "rules": N}`.

use std::net::{IpAddr, SocketAddr};

use serde::Deserialize;
use serde_json::{Value, json};
use userplane::{GTPU_PORT, LocalTeid, Qfi, Teid};

use crate::upf::SessionRule;

/// The longest command line accepted (octets, newline excluded).
pub const MAX_LINE: usize = 4096;

/// A session rule as JSON (`--rule` and the `add` command). `peer` is `IP` or `IP:PORT` (port
/// 2152 when absent).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub ul_teid: u32,
    pub ue_address: IpAddr,
    pub peer: String,
    pub dl_teid: u32,
    pub qfi: u8,
    #[serde(default)]
    pub rqi: bool,
}

impl RuleSpec {
    /// Parses a rule from JSON text.
    ///
    /// # Errors
    /// A message naming the field that is wrong.
    pub fn parse(text: &str) -> Result<SessionRule, String> {
        let spec: Self = serde_json::from_str(text).map_err(|e| format!("rule: {e}"))?;
        spec.into_rule()
    }

    /// Checks the values.
    ///
    /// # Errors
    /// A message naming the field that is wrong.
    pub fn into_rule(self) -> Result<SessionRule, String> {
        let ul_teid = LocalTeid::new(self.ul_teid).ok_or("ul_teid: 0 is not a valid TEID")?;
        let qfi = Qfi::new(self.qfi).map_err(|e| format!("qfi: {e}"))?;
        Ok(SessionRule {
            ul_teid,
            ue_address: self.ue_address,
            peer: parse_peer(&self.peer)?,
            dl_teid: Teid(self.dl_teid),
            qfi,
            rqi: self.rqi,
        })
    }
}

/// `IP` (port 2152) or `IP:PORT`.
pub fn parse_peer(text: &str) -> Result<SocketAddr, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, GTPU_PORT));
    }
    text.parse()
        .map_err(|_| format!("peer: {text:?} is not IP or IP:PORT"))
}

/// A command from the control socket.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Install a rule.
    Add(SessionRule),
    /// Remove the rule of this uplink TEID.
    Remove(LocalTeid),
    /// Report the counters.
    Stats,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    add: Option<RuleSpec>,
    remove: Option<Remove>,
    stats: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Remove {
    ul_teid: u32,
}

impl Command {
    /// Parses one line.
    ///
    /// # Errors
    /// A message for the `error` answer.
    pub fn parse(line: &str) -> Result<Self, String> {
        let wire: Wire = serde_json::from_str(line).map_err(|e| e.to_string())?;
        match (wire.add, wire.remove, wire.stats) {
            (Some(spec), None, None) => Ok(Self::Add(spec.into_rule()?)),
            (None, Some(r), None) => LocalTeid::new(r.ul_teid)
                .map(Self::Remove)
                .ok_or_else(|| "ul_teid: 0 is not a valid TEID".to_owned()),
            (None, None, Some(true)) => Ok(Self::Stats),
            _ => Err("expected exactly one of add, remove, stats: true".to_owned()),
        }
    }
}

/// The answer line for an error.
pub fn error_answer(message: &str) -> Value {
    json!({ "error": message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_ones_say_why() {
        let add = r#"{"add": {"ul_teid": 1, "ue_address": "10.60.0.1", "peer": "127.0.0.1", "dl_teid": 7, "qfi": 9}}"#;
        let Ok(Command::Add(rule)) = Command::parse(add) else {
            panic!("not an add");
        };
        assert_eq!(rule.peer, "127.0.0.1:2152".parse().unwrap());
        assert_eq!(rule.qfi.get(), 9);
        assert!(!rule.rqi);
        assert_eq!(
            Command::parse(r#"{"remove": {"ul_teid": 3}}"#),
            Ok(Command::Remove(LocalTeid::new(3).unwrap()))
        );
        assert_eq!(Command::parse(r#"{"stats": true}"#), Ok(Command::Stats));
        for (bad, says) in [
            (r#"{"remove": {"ul_teid": 0}}"#, "ul_teid"),
            (
                r#"{"stats": true, "remove": {"ul_teid": 1}}"#,
                "exactly one",
            ),
            (
                r#"{"add": {"ul_teid": 1, "ue_address": "10.60.0.1", "peer": "x", "dl_teid": 7, "qfi": 1}}"#,
                "peer",
            ),
            (
                r#"{"add": {"ul_teid": 1, "ue_address": "10.60.0.1", "peer": "127.0.0.1", "dl_teid": 7, "qfi": 64}}"#,
                "qfi",
            ),
            (r#"{"bogus": 1}"#, "unknown field"),
            ("not json", "expected"),
        ] {
            let e = Command::parse(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
