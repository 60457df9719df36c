//! Drives a node with arbitrary inputs, for the `n3iwf_core` fuzz target and a unit test: a
//! script of operations read from the input mixes well-formed messages (so that UEs get deep
//! into their states) with arbitrary NGAP, EAP and TCP octets, and checks after every step that
//! the node keeps its bounds and answers each EAP packet at most once.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::{
    AmfPeer, AmfRef, EapAnswer, GuardTimers, IkeSaGone, IkeSaRef, InnerPoolConfig, Limits, N3iwf,
    N3iwfConfig, NasConnId, Output, StreamId,
};
use crate::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn, Snssai, Tac};
use crate::ngap::{
    AmfUeNgapId, Cause, DownlinkNasTransport, GlobalN3iwfId, InitialContextSetupRequest, N3iwfId,
    NasCause, NgReset, NgSetupResponse, NgapMessage, PagingDrx, PlmnSlices, ResetScope,
    SecurityKey, ServedGuami, SupportedTa, UeContextReleaseCommand, UeNgapIdentity, UeNgapIds,
    UeSecurityCapabilities,
};
use crate::wire::an_params::AnParameters;
use crate::wire::eap5g::{Eap5g, EapIdentifier};

const AMF: AmfRef = AmfRef(0);
const MAX_UES: usize = 6;
const UE_SLOTS: u8 = 8;

/// Runs the script in `data` against a node whose clock starts at `start`.
pub fn drive(data: &[u8], start: Instant) {
    let mut driver = Driver::new(start);
    let mut input = data;
    for _ in 0..256 {
        let [op, arg, rest @ ..] = input else {
            break;
        };
        let (len, rest) = rest.split_first().map_or((0, rest), |(l, r)| (*l, r));
        let take = usize::from(len).min(rest.len());
        let (octets, rest) = rest.split_at(take);
        driver.step(*op, *arg, octets);
        input = rest;
    }
}

struct Driver {
    node: N3iwf,
    now: Instant,
    /// EAP packets given per IKE SA, and answers received: answers never exceed them.
    given: HashMap<IkeSaRef, usize>,
    answered: HashMap<IkeSaRef, usize>,
    /// The last EAP Request Identifier per IKE SA.
    last_request: HashMap<IkeSaRef, EapIdentifier>,
}

impl Driver {
    fn new(start: Instant) -> Self {
        let mut node = N3iwf::new(config()).unwrap_or_else(|e| panic!("fuzz config: {e}"));
        node.handle_n2_up(AMF, 3, start);
        let response = NgSetupResponse {
            amf_name: String::from("amf"),
            served_guamis: vec![ServedGuami {
                guami: guami(),
                backup_amf_name: None,
            }],
            relative_amf_capacity: 255,
            plmn_support: vec![PlmnSlices {
                plmn: plmn(),
                slices: vec![Snssai::new(1)],
            }],
            diagnostics: None,
        };
        let mut driver = Self {
            node,
            now: start,
            given: HashMap::new(),
            answered: HashMap::new(),
            last_request: HashMap::new(),
        };
        driver.ngap(response.into());
        driver.drain();
        driver
    }

    fn step(&mut self, op: u8, arg: u8, octets: &[u8]) {
        let sa = IkeSaRef(u64::from(arg % UE_SLOTS));
        match op % 14 {
            0 => self
                .node
                .handle_ngap(AMF, StreamId(u16::from(arg)), octets, self.now),
            1 => self.eap(sa, octets),
            2 => self.start(sa, arg),
            3 => self.nas_response(sa, octets),
            4 => self.downlink(sa, octets),
            5 => self.context_setup(sa, octets),
            6 => self.release_command(sa, arg),
            7 => self.node.handle_signalling_sa_up(sa, self.now),
            8 => self.node.handle_ike_sa_closed(sa, gone(arg), self.now),
            9 => self.connect(sa, arg),
            10 => self
                .node
                .handle_nas_tcp_data(NasConnId(u64::from(arg % 4)), octets, self.now),
            11 => self.advance(arg),
            12 => self.interface(arg),
            _ => self
                .node
                .handle_nas_tcp_closed(NasConnId(u64::from(arg % 4)), self.now),
        }
        self.drain();
    }

    fn eap(&mut self, sa: IkeSaRef, octets: &[u8]) {
        *self.given.entry(sa).or_default() += 1;
        self.node.handle_eap_message(sa, octets, self.now);
    }

    fn start(&mut self, sa: IkeSaRef, arg: u8) {
        if self.node.ue(sa).is_none() {
            *self.given.entry(sa).or_default() += 1;
        }
        let outer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, arg)), 4500);
        self.node.handle_eap_started(sa, outer, self.now);
    }

    /// A 5G-NAS response with the Identifier the UE is expected to use.
    fn nas_response(&mut self, sa: IkeSaRef, octets: &[u8]) {
        let id = self
            .last_request
            .get(&sa)
            .copied()
            .unwrap_or(EapIdentifier(0));
        let an_parameters = match octets.first() {
            Some(0) | None => AnParameters {
                guami: Some(guami()),
                selected_plmn: Some(plmn()),
                ..AnParameters::default()
            },
            Some(_) => AnParameters::parse(octets).unwrap_or_default(),
        };
        let nas_pdu = if octets.is_empty() {
            vec![0x7e, 0x00, 0x41]
        } else {
            octets.to_vec()
        };
        let response = Eap5g::NasResponse {
            id,
            an_parameters,
            nas_pdu,
        };
        if let Ok(packet) = response.to_bytes() {
            self.eap(sa, &packet);
        }
    }

    fn ids(&self, sa: IkeSaRef) -> Option<UeNgapIds> {
        let view = self.node.ue(sa)?;
        Some(UeNgapIds {
            ran: view.ran_ue_ngap_id?,
            amf: view
                .amf_ue_ngap_id
                .or_else(|| AmfUeNgapId::new(0x100 + sa.0))?,
        })
    }

    fn downlink(&mut self, sa: IkeSaRef, octets: &[u8]) {
        let Some(ids) = self.ids(sa) else {
            return;
        };
        let nas_pdu = if octets.is_empty() {
            vec![0x7e, 0x00, 0x56]
        } else {
            octets.to_vec()
        };
        let message = DownlinkNasTransport {
            ids,
            nas_pdu,
            allowed_nssai: None,
        };
        self.ngap(message.into());
    }

    fn context_setup(&mut self, sa: IkeSaRef, octets: &[u8]) {
        let Some(ids) = self.ids(sa) else {
            return;
        };
        let mut key = [0u8; SecurityKey::LEN];
        key.iter_mut().zip(octets).for_each(|(k, o)| *k = *o);
        let request = InitialContextSetupRequest {
            ids,
            ue_ambr: None,
            guami: guami(),
            pdu_sessions: Vec::new(),
            allowed_nssai: vec![Snssai::new(1)],
            security_capabilities: UeSecurityCapabilities {
                nr_encryption: 0x4000,
                nr_integrity: 0x4000,
                eutra_encryption: 0,
                eutra_integrity: 0,
            },
            security_key: SecurityKey::new(key),
            nas_pdu: (octets.len() > SecurityKey::LEN).then(|| octets[SecurityKey::LEN..].to_vec()),
        };
        self.ngap(request.into());
    }

    fn release_command(&mut self, sa: IkeSaRef, arg: u8) {
        let Some(ids) = self.ids(sa) else {
            return;
        };
        let ue = if arg & 0x80 == 0 {
            UeNgapIdentity::Pair(ids)
        } else {
            UeNgapIdentity::AmfOnly(ids.amf)
        };
        let command = UeContextReleaseCommand {
            ue,
            cause: Cause::Nas(NasCause::NORMAL_RELEASE),
        };
        self.ngap(command.into());
    }

    fn connect(&mut self, sa: IkeSaRef, arg: u8) {
        let address = self
            .node
            .ue(sa)
            .and_then(|v| v.inner_address)
            .unwrap_or_else(|| Ipv4Addr::new(10, 1, 0, arg));
        let conn = NasConnId(u64::from(arg % 4));
        self.node
            .handle_nas_tcp_connected(conn, IpAddr::V4(address), self.now);
    }

    fn advance(&mut self, arg: u8) {
        self.now += Duration::from_millis(u64::from(arg) * 100);
        self.node.handle_timeout(self.now);
        if let Some(next) = self.node.poll_timeout() {
            assert!(next > self.now, "a deadline was left behind");
        }
    }

    fn interface(&mut self, arg: u8) {
        match arg % 4 {
            0 => self.node.handle_n2_down(AMF, self.now),
            1 => self.node.handle_n2_up(AMF, u16::from(arg), self.now),
            2 => {
                let reset = NgReset {
                    cause: Cause::Nas(NasCause::UNSPECIFIED),
                    scope: ResetScope::Interface,
                };
                self.ngap(reset.into());
            }
            _ => self.node.reset_amf(AMF, self.now),
        }
    }

    fn ngap(&mut self, message: NgapMessage) {
        if let Ok(octets) = message.encode() {
            self.node.handle_ngap(AMF, StreamId(1), &octets, self.now);
        }
    }

    /// Takes every output and checks the bounds.
    fn drain(&mut self) {
        while let Some(output) = self.node.poll_output() {
            if let Output::EapAnswer { sa, answer } = output {
                let answered = self.answered.entry(sa).or_default();
                *answered += 1;
                let given = self.given.get(&sa).copied().unwrap_or(0);
                assert!(*answered <= given, "{sa:?} answered more often than asked");
                if let EapAnswer::Request(packet) = answer
                    && let Ok(request) = Eap5g::parse(&packet)
                {
                    self.last_request.insert(sa, request.id());
                }
            }
        }
        assert!(self.node.ue_count() <= MAX_UES);
        assert!(self.node.inner_addresses_in_use() <= self.node.ue_count());
    }
}

fn gone(arg: u8) -> IkeSaGone {
    match arg % 5 {
        0 => IkeSaGone::DeletedByUe,
        1 => IkeSaGone::UeUnreachable,
        2 => IkeSaGone::AuthenticationFailed,
        3 => IkeSaGone::Failed,
        _ => IkeSaGone::Local,
    }
}

fn plmn() -> Plmn {
    Plmn::new("310", "410").unwrap_or_else(|_| unreachable!("decimal digits"))
}

fn guami() -> Guami {
    Guami {
        plmn: plmn(),
        region: AmfRegionId(1),
        set: AmfSetId::new(1).unwrap_or_else(|| unreachable!("10 bits")),
        pointer: AmfPointer::new(1).unwrap_or_else(|| unreachable!("6 bits")),
    }
}

fn config() -> N3iwfConfig {
    N3iwfConfig {
        global_id: GlobalN3iwfId {
            plmn: plmn(),
            n3iwf_id: N3iwfId(1),
        },
        ran_node_name: None,
        supported_tas: vec![SupportedTa {
            tac: Tac([0, 0, 1]),
            broadcast_plmns: vec![PlmnSlices {
                plmn: plmn(),
                slices: vec![Snssai::new(1)],
            }],
        }],
        default_paging_drx: PagingDrx::V128,
        amfs: vec![AmfPeer {
            label: String::from("amf"),
        }],
        inner_pool: InnerPoolConfig {
            network: Ipv4Addr::new(10, 1, 0, 0),
            prefix_len: 29,
        },
        nas_address: Ipv4Addr::new(10, 1, 0, 1),
        nas_tcp_port: 20_000,
        timers: GuardTimers::default(),
        limits: Limits {
            max_ues: MAX_UES,
            dl_nas_queue: 3,
            max_nas_message: 64,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scripts from a deterministic generator (xorshift): the registration flow of two UEs,
    /// with arbitrary operations and octets mixed in and after it, so that the arbitrary inputs
    /// hit UEs in every state.
    fn scripts(count: usize) -> impl Iterator<Item = Vec<u8>> {
        const FLOW: [u8; 9] = [2, 3, 4, 3, 4, 3, 5, 7, 9];
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count).map(move |_| {
            let mut script = Vec::new();
            for step in FLOW.iter().chain(&FLOW) {
                let ue = u8::from(script.len() % 2 == 1);
                if next() % 6 == 0 {
                    let op = (next() % 14) as u8;
                    push(&mut script, op, next() as u8, &mut next);
                }
                push(&mut script, *step, ue, &mut next);
            }
            for _ in 0..next() % 20 {
                let op = (next() % 14) as u8;
                push(&mut script, op, next() as u8, &mut next);
            }
            script
        })
    }

    /// One operation: `op`, `arg`, and now and then some octets.
    fn push(script: &mut Vec<u8>, op: u8, arg: u8, next: &mut dyn FnMut() -> u64) {
        let len = if next().is_multiple_of(4) {
            (next() % 40) as u8
        } else {
            0
        };
        script.extend([op, arg, len]);
        script.extend((0..len).map(|_| next() as u8));
    }

    #[test]
    fn arbitrary_scripts_keep_the_bounds() {
        let start = Instant::now();
        let mut registered = 0;
        for script in scripts(2_000) {
            let mut driver = Driver::new(start);
            let mut input = &script[..];
            while let [op, arg, len, rest @ ..] = input {
                let take = usize::from(*len).min(rest.len());
                driver.step(*op, *arg, &rest[..take]);
                input = &rest[take..];
            }
            registered += usize::from(driver.node.stats().registrations > 0);
        }
        // The scripts do reach registration, so the bounds are checked in every state.
        assert!(
            registered > 200,
            "only {registered} scripts registered a UE"
        );
    }

    /// A script that registers a UE as far as the signalling SA, then lets time pass.
    #[test]
    fn a_registration_script_reaches_the_deep_states() {
        let mut driver = Driver::new(Instant::now());
        let sa = IkeSaRef(1);
        driver.step(2, 1, &[]);
        driver.step(3, 1, &[]);
        driver.step(4, 1, &[]);
        driver.step(3, 1, &[0x00, 0x7e, 0x00, 0x57]);
        driver.step(5, 1, &[7; 32]);
        assert_eq!(
            driver.node.ue(sa).map(|v| v.state),
            Some("wait-signalling-sa")
        );
        driver.step(7, 1, &[]);
        assert_eq!(
            driver.node.ue(sa).map(|v| v.state),
            Some("registered-wait-nas-tcp")
        );
        driver.step(9, 1, &[]);
        driver.step(11, 200, &[]);
        assert_eq!(driver.node.ue(sa).map(|v| v.state), Some("registered"));
    }
}
