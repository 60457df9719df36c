//! The SMF's side of the UPF emulator's control socket: each established PDU session becomes
//! an `add` rule, each released one a `remove`, as newline-delimited JSON (the `upf-sim
//! --control` protocol), one answer line per command.
//!
//! [`UpfRules`] is the pure part (which line for which event, which sessions hold which UL
//! TEID); [`UpfControl`] writes the lines on a Unix socket from its own thread, so the AMF's
//! event loop never waits for the UPF.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc;
use std::thread;

use n3iwf::ids::{PduSessionId, Teid};
use serde_json::json;

use crate::amf::AmfNodeEvent;
use crate::amf::smf::EstablishedSession;

/// The most sessions whose rules are tracked; beyond it a new session gets no rule (and the
/// driver says so), so a runaway N3IWF cannot grow the map without bound.
pub const MAX_TRACKED: usize = 65_536;

/// Which UL TEID each installed rule has, by association, UE and session.
#[derive(Debug)]
pub struct UpfRules {
    installed: HashMap<(u64, u64, PduSessionId), Teid>,
    limit: usize,
}

impl Default for UpfRules {
    fn default() -> Self {
        Self::with_limit(MAX_TRACKED)
    }
}

impl UpfRules {
    /// Tracks at most `limit` rules.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            installed: HashMap::new(),
            limit,
        }
    }

    /// The control line for an event of association `association`, if it changes rules.
    pub fn line_for(&mut self, association: u64, event: &AmfNodeEvent) -> Option<String> {
        match event {
            AmfNodeEvent::PduSessionEstablished { session, .. } => self.add(association, session),
            AmfNodeEvent::PduSessionReleased { amf_ue, id } => {
                let teid = self.installed.remove(&(association, amf_ue.value(), *id))?;
                Some(json!({"remove": {"ul_teid": teid.0}}).to_string())
            }
            _ => None,
        }
    }

    fn add(&mut self, association: u64, session: &EstablishedSession) -> Option<String> {
        if self.installed.len() >= self.limit {
            return None;
        }
        let qfi = session.qfis.first()?;
        let key = (association, session.key.ue, session.key.id);
        self.installed.insert(key, session.uplink.teid);
        let rule = json!({
            "ul_teid": session.uplink.teid.0,
            "ue_address": session.ue_address.to_string(),
            "peer": session.downlink.address.to_string(),
            "dl_teid": session.downlink.teid.0,
            "qfi": qfi.value(),
        });
        Some(json!({ "add": rule }).to_string())
    }
}

/// A connection to the UPF emulator's control socket, served by its own thread.
pub struct UpfControl {
    lines: mpsc::Sender<String>,
}

impl UpfControl {
    /// Connects to `path`; the thread logs each command and the UPF's answer on stderr.
    ///
    /// # Errors
    /// When the socket cannot be connected.
    pub fn connect(path: &Path) -> std::io::Result<Self> {
        let stream = UnixStream::connect(path)?;
        let (lines, commands) = mpsc::channel::<String>();
        thread::spawn(move || serve(stream, &commands));
        Ok(Self { lines })
    }

    /// Queues a command line; `false` once the connection is gone.
    pub fn send(&self, line: String) -> bool {
        self.lines.send(line).is_ok()
    }
}

fn serve(stream: UnixStream, commands: &mpsc::Receiver<String>) {
    let Ok(reader) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(reader);
    let mut writer = stream;
    for line in commands {
        if writeln!(writer, "{line}").is_err() {
            eprintln!("upf control: the UPF closed the socket");
            return;
        }
        let mut answer = String::new();
        // The UPF answers every line with one line, bounded by its own limits.
        match reader.read_line(&mut answer) {
            Ok(0) | Err(_) => {
                eprintln!("upf control: no answer to {line}");
                return;
            }
            Ok(_) => eprintln!("upf control: {line} -> {}", answer.trim_end()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use n3iwf::ids::Qfi;
    use n3iwf::ngap::AmfUeNgapId;

    use super::*;
    use crate::amf::smf::{SessionKey, TunnelEnd};

    fn established() -> AmfNodeEvent {
        AmfNodeEvent::PduSessionEstablished {
            amf_ue: AmfUeNgapId::new(9).unwrap(),
            supi: None,
            session: EstablishedSession {
                key: SessionKey {
                    ue: 9,
                    id: PduSessionId(1),
                },
                ue_address: Ipv4Addr::new(10, 60, 0, 1),
                uplink: TunnelEnd {
                    address: IpAddr::V4(Ipv4Addr::new(10, 0, 3, 2)),
                    teid: Teid(1),
                },
                downlink: TunnelEnd {
                    address: IpAddr::V4(Ipv4Addr::new(10, 0, 3, 1)),
                    teid: Teid(7),
                },
                qfis: vec![Qfi::new(1).unwrap()],
            },
        }
    }

    #[test]
    fn a_session_adds_its_rule_and_its_release_removes_it() {
        let mut rules = UpfRules::default();
        let add: serde_json::Value =
            serde_json::from_str(&rules.line_for(1, &established()).unwrap()).unwrap();
        assert_eq!(
            add,
            json!({"add": {"ul_teid": 1, "ue_address": "10.60.0.1", "peer": "10.0.3.1",
                "dl_teid": 7, "qfi": 1}})
        );
        let released = AmfNodeEvent::PduSessionReleased {
            amf_ue: AmfUeNgapId::new(9).unwrap(),
            id: PduSessionId(1),
        };
        // Another association's session of the same numbers is not this one.
        assert_eq!(rules.line_for(2, &released), None);
        assert_eq!(
            rules.line_for(1, &released).unwrap(),
            r#"{"remove":{"ul_teid":1}}"#
        );
        assert_eq!(rules.line_for(1, &released), None);
    }

    #[test]
    fn the_tracking_bound_refuses_a_rule_until_one_goes() {
        let mut rules = UpfRules::with_limit(1);
        assert!(rules.line_for(1, &established()).is_some());
        assert_eq!(rules.line_for(2, &established()), None);
        let released = AmfNodeEvent::PduSessionReleased {
            amf_ue: AmfUeNgapId::new(9).unwrap(),
            id: PduSessionId(1),
        };
        assert!(rules.line_for(1, &released).is_some());
        assert!(rules.line_for(2, &established()).is_some());
    }
}
