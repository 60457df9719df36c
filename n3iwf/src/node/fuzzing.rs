//! Drives a node with arbitrary inputs, for the `n3iwf_core` fuzz target and a unit test: a
//! script of operations read from the input mixes well-formed messages (so that UEs get deep
//! into their states) with arbitrary NGAP, EAP and TCP octets, and checks after every step that
//! the node keeps its bounds and answers each EAP packet at most once. Operations from 0xf0 on
//! drive PDU sessions (setup with valid or arbitrary transfers, the engine's Child SA outcomes
//! and rekeys, releases, GTP-U Error Indications); the checks add one CREATE_CHILD_SA at a time
//! per UE, DL TEIDs never 0 and never twice in the datapath, and the session bound.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use super::{
    AmfPeer, AmfRef, ChildRequestId, EapAnswer, GuardTimers, IkeSaGone, IkeSaRef, InnerPoolConfig,
    Limits, N3iwf, N3iwfConfig, NasConnId, Output, StreamId,
};
use crate::ids::{
    AmfPointer, AmfRegionId, AmfSetId, FiveQi, Guami, PduSessionId, Plmn, Qfi, Snssai, Tac, Teid,
};
use crate::ngap::{
    AmfUeNgapId, Arp, Cause, DownlinkNasTransport, GlobalN3iwfId, GtpTunnel,
    InitialContextSetupRequest, N3iwfId, NasCause, NgReset, NgSetupResponse, NgapMessage,
    PagingDrx, PduSessionResourceReleaseCommand, PduSessionResourceSetupRequest,
    PduSessionResourceSetupRequestTransfer, PduSessionSetupItem, PduSessionTransfer,
    PduSessionType, PlmnSlices, QosCharacteristics, QosFlowRequest, ResetScope, SecurityKey,
    ServedGuami, SupportedTa, TransportAddress, UeContextReleaseCommand, UeNgapIdentity, UeNgapIds,
    UeSecurityCapabilities,
};
use crate::wire::an_params::AnParameters;
use crate::wire::eap5g::{Eap5g, EapIdentifier};

const AMF: AmfRef = AmfRef(0);
const MAX_UES: usize = 6;
const UE_SLOTS: u8 = 8;
const MAX_PDU_SESSIONS: usize = 8;
const UPF: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);

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
    /// The CREATE_CHILD_SA out per IKE SA: never two at once.
    child_requests: HashMap<IkeSaRef, ChildRequestId>,
    /// Our SPIs of the Child SAs created, per IKE SA.
    children: HashMap<IkeSaRef, Vec<u32>>,
    /// The DL TEIDs in the datapath.
    datapath: HashSet<Teid>,
    next_spi: u32,
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
            child_requests: HashMap::new(),
            children: HashMap::new(),
            datapath: HashSet::new(),
            next_spi: 0x100,
        };
        driver.ngap(response.into());
        driver.drain();
        driver
    }

    fn step(&mut self, op: u8, arg: u8, octets: &[u8]) {
        let sa = IkeSaRef(u64::from(arg % UE_SLOTS));
        if op >= 0xf0 {
            self.session_step(op, sa, arg, octets);
            self.drain();
            return;
        }
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

    fn session_step(&mut self, op: u8, sa: IkeSaRef, arg: u8, octets: &[u8]) {
        match op % 5 {
            0 => self.session_setup(sa, arg, octets),
            1 => {
                if let Some(request) = self.child_requests.remove(&sa) {
                    self.next_spi += 1;
                    let spi = self.next_spi;
                    self.children.entry(sa).or_default().push(spi);
                    self.node
                        .handle_child_sa_created(sa, request, spi, !spi, self.now);
                }
            }
            2 => {
                let request = self
                    .child_requests
                    .remove(&sa)
                    .unwrap_or_else(|| ChildRequestId(u64::from(arg)));
                self.node.handle_child_sa_failed(sa, request, self.now);
            }
            3 => {
                let old = self.children.get(&sa).and_then(|c| c.last().copied());
                self.next_spi += 1;
                let new = self.next_spi;
                let old = old.unwrap_or_else(|| u32::from(arg));
                self.node
                    .handle_child_sa_rekeyed(sa, old, new, !new, self.now);
                if let Some(spis) = self.children.get_mut(&sa) {
                    spis.push(new);
                }
            }
            _ => self.session_release(sa, arg),
        }
    }

    /// PDU SESSION RESOURCE SETUP REQUEST: each octet names a session (ID and UL TEID) with a
    /// valid transfer, or with the rest of the octets as its transfer when bit 6 of `arg` is set.
    fn session_setup(&mut self, sa: IkeSaRef, arg: u8, octets: &[u8]) {
        let Some(ids) = self.ids(sa) else {
            return;
        };
        let (names, raw) = match octets.len() {
            0 => (&[1][..], &[][..]),
            len => octets.split_at(len.min(4)),
        };
        let sessions = names
            .iter()
            .map(|n| PduSessionSetupItem {
                pdu_session_id: PduSessionId(n % 8),
                nas_pdu: Some(vec![0x2e, *n]),
                snssai: Snssai::new(1),
                transfer: match arg & 0x40 {
                    0 => session_transfer(sa, *n),
                    _ => raw.to_vec(),
                },
            })
            .collect();
        let request = PduSessionResourceSetupRequest {
            ids,
            nas_pdu: None,
            sessions,
            ue_ambr: None,
        };
        self.ngap(request.into());
    }

    /// A release of session `arg % 8`, or (bit 7) a GTP-U Error Indication for its UL TEID.
    fn session_release(&mut self, sa: IkeSaRef, arg: u8) {
        let id = arg % 8;
        if arg & 0x80 != 0 {
            let teid = ul_teid(sa, id);
            self.node
                .handle_gtpu_error_indication(IpAddr::V4(UPF), teid, self.now);
            return;
        }
        let Some(ids) = self.ids(sa) else {
            return;
        };
        let command = PduSessionResourceReleaseCommand {
            ids,
            nas_pdu: None,
            sessions: vec![PduSessionTransfer {
                pdu_session_id: PduSessionId(id),
                transfer: vec![0x10],
            }],
        };
        self.ngap(command.into());
    }

    fn ngap(&mut self, message: NgapMessage) {
        if let Ok(octets) = message.encode() {
            self.node.handle_ngap(AMF, StreamId(1), &octets, self.now);
        }
    }

    /// Takes every output and checks the bounds.
    fn drain(&mut self) {
        while let Some(output) = self.node.poll_output() {
            self.user_plane(&output);
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
        assert!(self.node.pdu_sessions_in_use() <= MAX_PDU_SESSIONS);
        assert!(self.datapath.len() <= self.node.pdu_sessions_in_use());
    }

    /// Checks a user-plane output against what came before it.
    fn user_plane(&mut self, output: &Output) {
        match output {
            Output::CreateChildSa { sa, request } => {
                let earlier = self.child_requests.insert(*sa, request.id);
                assert!(earlier.is_none(), "{sa:?}: two CREATE_CHILD_SAs at once");
            }
            Output::UserPlaneAdd(session) => {
                assert_ne!(session.dl_teid, Teid(0));
                assert!(self.datapath.insert(session.dl_teid), "DL TEID twice");
            }
            Output::UserPlaneUpdate(session) => {
                assert!(
                    self.datapath.contains(&session.dl_teid),
                    "update of nothing"
                );
            }
            Output::UserPlaneRemove { dl_teid } => {
                assert!(self.datapath.remove(dl_teid), "removal of nothing");
            }
            Output::CloseIkeSa { sa } => {
                self.child_requests.remove(sa);
            }
            _ => {}
        }
    }
}

/// The UL TEID of session `id % 8` of `sa`: the UPF gives each session its own.
fn ul_teid(sa: IkeSaRef, id: u8) -> Teid {
    Teid(1000 + 8 * sa.0 as u32 + u32::from(id % 8))
}

/// A valid setup request transfer of session `n % 8` of `sa`, with QFI `n % 64`.
fn session_transfer(sa: IkeSaRef, n: u8) -> Vec<u8> {
    let transfer = PduSessionResourceSetupRequestTransfer {
        ul_tunnel: GtpTunnel {
            address: TransportAddress::V4(UPF),
            teid: ul_teid(sa, n),
        },
        session_type: PduSessionType::Ipv4,
        qos_flows: vec![QosFlowRequest {
            qfi: Qfi::from_octet(n),
            characteristics: QosCharacteristics::NonDynamic { five_qi: FiveQi(9) },
            arp: Arp {
                priority_level: 8,
                may_trigger_pre_emption: false,
                pre_emptable: false,
            },
            gbr: None,
        }],
        session_ambr: None,
        security: None,
        network_instance: None,
    };
    transfer.encode().unwrap_or_default()
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
        up_address: None,
        n3_address: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200))),
        timers: GuardTimers::default(),
        limits: Limits {
            max_ues: MAX_UES,
            dl_nas_queue: 3,
            max_nas_message: 64,
            max_pdu_sessions: MAX_PDU_SESSIONS,
            max_sessions_per_ue: 3,
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
        // Registration, then a session set up and its Child SA created.
        const FLOW: [u8; 11] = [2, 3, 4, 3, 4, 3, 5, 7, 9, 0xf0, 0xf1];
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
                    let op = any_op(next());
                    push(&mut script, op, next() as u8, &mut next);
                }
                push(&mut script, *step, ue, &mut next);
            }
            for _ in 0..next() % 20 {
                let op = any_op(next());
                push(&mut script, op, next() as u8, &mut next);
            }
            script
        })
    }

    /// One of the 14 operations of the registration, or one of the 5 of sessions.
    fn any_op(random: u64) -> u8 {
        match (random % 19) as u8 {
            op @ 0..14 => op,
            op => 0xf0 + op - 14,
        }
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
        let mut with_sessions = 0;
        for script in scripts(2_000) {
            let mut driver = Driver::new(start);
            let mut input = &script[..];
            while let [op, arg, len, rest @ ..] = input {
                let take = usize::from(*len).min(rest.len());
                driver.step(*op, *arg, &rest[..take]);
                input = &rest[take..];
            }
            registered += usize::from(driver.node.stats().registrations > 0);
            with_sessions += usize::from(driver.node.stats().sessions_set_up > 0);
        }
        eprintln!("{registered} scripts registered a UE, {with_sessions} set up a session");
        // The scripts do reach registration, so the bounds are checked in every state.
        assert!(
            registered > 200,
            "only {registered} scripts registered a UE"
        );
        assert!(
            with_sessions > 20,
            "only {with_sessions} scripts set up a session"
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
        // Two sessions, each Child SA created, one rekeyed, then one released.
        driver.step(0xf0, 1, &[1, 2]);
        driver.step(0xf1, 1, &[]);
        driver.step(0xf1, 1, &[]);
        assert_eq!(driver.node.stats().sessions_set_up, 2);
        assert_eq!(driver.datapath.len(), 2);
        driver.step(0xf3, 1, &[]);
        assert_eq!(driver.node.stats().child_sa_rekeys, 1);
        driver.step(0xf4, 1, &[]);
        assert_eq!(driver.node.stats().sessions_released, 1);
        assert_eq!(driver.node.pdu_sessions_in_use(), 1);
    }
}
