//! An N3IWF core, an emulated AMF and emulated UEs in one process, on a virtual clock. The
//! harness plays the IKE engine's part without IKE crypto: it carries EAP packets between the
//! core and each UE, and reports the signalling SA up only when the MSK the core handed out is
//! the KN3IWF the UE derived (the engine's AUTH check, reduced to its input).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use fiveg_emu::amf::{
    AcceptMode, AmfConfig, AmfFaults, AmfNode, AmfNodeConfig, AmfNodeEvent, NodeFaults, Subscriber,
    SubscriberDb,
};
use fiveg_emu::identity::{AmfId, Plmn as NasPlmn, Supi};
use fiveg_emu::nas::{Nssai, SNssai, UeSecurityCapability};
use fiveg_emu::secret::{Opc, SubscriberKey};
use fiveg_emu::ue::{NwuUe, PeerStep, UeConfig, UeEvent, UeNas};
use fiveg_emu::values::{AuthMgmtField, Sqn};
use n3iwf::ids::{Plmn, Snssai, Tac};
use n3iwf::ngap::{GlobalN3iwfId, N3iwfId, PagingDrx, PlmnSlices, SupportedTa};
use n3iwf::node::{
    AmfPeer, EapAnswer, Event, GuardTimers, IkeSaGone, InnerPoolConfig, Limits, N3iwfConfig,
};
use n3iwf::wire::an_params::{AnParameters, EstablishmentCause};
use n3iwf::{AmfRef, IkeSaRef, N3iwf, NasConnId, Output, StreamId};

/// TS 35.208 test set 1.
pub const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
pub const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];
pub const AMF: AmfRef = AmfRef(0);

/// How a scenario is set up.
pub struct Setup {
    pub mcc: &'static str,
    pub mnc: &'static str,
    pub accept_mode: AcceptMode,
    pub faults: NodeFaults,
    pub nas_faults: AmfFaults,
    pub limits: Limits,
    pub timers: GuardTimers,
    pub pool_prefix: u8,
    pub subscribers: usize,
    pub streams: u16,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            mcc: "208",
            mnc: "93",
            accept_mode: AcceptMode::AfterContextSetup,
            faults: NodeFaults::default(),
            nas_faults: AmfFaults::default(),
            limits: Limits::default(),
            timers: GuardTimers::default(),
            pool_prefix: 24,
            subscribers: 4,
            streams: 4,
        }
    }
}

/// What the final IKE_AUTH does after EAP-Success.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FinalAuth {
    /// The engine checks AUTH with the MSK: it completes when the MSK is the UE's KN3IWF.
    Completes,
    /// The UE's AUTH does not verify.
    Fails,
    /// The UE never sends it.
    Never,
}

/// One emulated UE and what the engine would know of it.
pub struct UeSide {
    pub peer: NwuUe,
    pub outer: SocketAddr,
    /// The last EAP response the UE sent (what a retransmission would carry).
    pub last_response: Option<Vec<u8>>,
    /// EAP answers the core gave this UE's IKE SA, in order.
    pub answers: Vec<&'static str>,
    /// Whether the MSK of EAP-Success equals the UE's KN3IWF.
    pub msk_matches: Option<bool>,
    pub inner: Option<Ipv4Addr>,
    pub nas_endpoint: Option<(Ipv4Addr, u16)>,
    pub ike_closed: Option<IkeSaGone>,
    pub conn: Option<NasConnId>,
    pub tcp_open: bool,
    /// Octets the UE received on its NAS TCP connection.
    pub tcp_received: Vec<u8>,
    /// Deliver EAP responses to the core (false: the UE falls silent).
    pub answers_eap: bool,
    /// How the final IKE_AUTH goes.
    pub final_auth: FinalAuth,
    /// Open the NAS TCP connection as soon as the signalling SA is up.
    pub connects: bool,
}

/// The scenario's parts and what they did.
pub struct World {
    pub now: Instant,
    pub n3iwf: N3iwf,
    pub amf: AmfNode,
    pub ues: BTreeMap<IkeSaRef, UeSide>,
    pub events: Vec<Event>,
    pub amf_events: Vec<AmfNodeEvent>,
    /// NGAP PDUs the core sent: (stream, procedure code).
    pub ngap_sent: Vec<(StreamId, u8)>,
    plmn: NasPlmn,
    amf_id: AmfId,
    next_conn: u64,
}

pub fn plmn_of(setup: &Setup) -> NasPlmn {
    NasPlmn::new(setup.mcc, setup.mnc).unwrap()
}

/// The SUPI of subscriber `n`: an IMSI of 15 digits.
pub fn supi(plmn: NasPlmn, n: usize) -> Supi {
    let width = 15 - 3 - plmn.mnc().len();
    Supi::new(plmn, &format!("{n:0width$}")).unwrap()
}

impl World {
    /// The core and the AMF, with the N2 association up and NG Setup done.
    pub fn new(setup: Setup) -> Self {
        let streams = setup.streams;
        let mut world = Self::without_n2(setup);
        world.n2_up(streams);
        assert!(
            world
                .events
                .iter()
                .any(|e| matches!(e, Event::AmfReady { .. })),
            "NG Setup did not complete: {:?}",
            world.events
        );
        world
    }

    pub fn without_n2(setup: Setup) -> Self {
        let plmn = plmn_of(&setup);
        let amf_id = AmfId::new(0xca, 0x3fe, 0x01).unwrap();
        let mut db = SubscriberDb::default();
        for n in 1..=setup.subscribers {
            db.insert(Subscriber::new(
                supi(plmn, n),
                &SubscriberKey::from_bytes(K),
                Opc::from_bytes(OPC),
                Sqn::new(0x20).unwrap(),
                AuthMgmtField::SEPARATION,
            ));
        }
        let nas = AmfConfig {
            plmn,
            amf_id,
            allowed_nssai: Nssai(vec![SNssai::new(1, None)]),
            faults: setup.nas_faults.clone(),
        };
        let node = AmfNodeConfig {
            name: String::from("amf-emulator"),
            relative_capacity: 100,
            nas,
            plmn_support: Vec::new(),
            extra_guamis: Vec::new(),
            accept_mode: setup.accept_mode,
            faults: setup.faults.clone(),
            seed: 7,
            smf: fiveg_emu::amf::smf::SmfConfig::default(),
        };
        let n3iwf = N3iwf::new(config(&setup)).unwrap();
        Self {
            now: Instant::now(),
            n3iwf,
            amf: AmfNode::new(node, db),
            ues: BTreeMap::new(),
            events: Vec::new(),
            amf_events: Vec::new(),
            ngap_sent: Vec::new(),
            plmn,
            amf_id,
            next_conn: 1,
        }
    }

    pub fn n2_up(&mut self, streams: u16) {
        self.n3iwf.handle_n2_up(AMF, streams, self.now);
        self.pump();
    }

    /// The AN parameters a UE of this network sends: GUAMI, selected PLMN, cause.
    pub fn an_parameters(&self) -> AnParameters {
        AnParameters {
            guami: Some(fiveg_emu::amf::node::guami(self.plmn, self.amf_id)),
            selected_plmn: Some(fiveg_emu::amf::node::plmn(self.plmn)),
            establishment_cause: Some(EstablishmentCause::MO_SIGNALLING),
            ..AnParameters::default()
        }
    }

    /// A UE of subscriber `n`, with the key of the subscriber database unless `key` says
    /// otherwise; nothing sent yet.
    pub fn add_ue(&mut self, n: usize, an: AnParameters) -> IkeSaRef {
        self.add_ue_with_key(n, an, K)
    }

    pub fn add_ue_with_key(&mut self, n: usize, an: AnParameters, k: [u8; 16]) -> IkeSaRef {
        self.add_ue_custom(n, an, k, 0)
    }

    /// A UE with its own K and the highest SQN its USIM accepted.
    pub fn add_ue_custom(
        &mut self,
        n: usize,
        an: AnParameters,
        k: [u8; 16],
        sqn_ms: u64,
    ) -> IkeSaRef {
        let sa = IkeSaRef(0x1000 + n as u64);
        let nas = UeNas::new(UeConfig {
            supi: supi(self.plmn, n),
            k: SubscriberKey::from_bytes(k),
            opc: Opc::from_bytes(OPC),
            sqn_ms: Sqn::new(sqn_ms).unwrap(),
            serving_plmn: self.plmn,
            capability: UeSecurityCapability::new(0xA0, 0x20),
            requested_nssai: Some(Nssai(vec![SNssai::new(1, None)])),
        });
        let outer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, n as u8)), 4500);
        self.ues.insert(
            sa,
            UeSide {
                peer: NwuUe::new(nas, an),
                outer,
                last_response: None,
                answers: Vec::new(),
                msk_matches: None,
                inner: None,
                nas_endpoint: None,
                ike_closed: None,
                conn: None,
                tcp_open: false,
                tcp_received: Vec::new(),
                answers_eap: true,
                final_auth: FinalAuth::Completes,
                connects: true,
            },
        );
        sa
    }

    /// The UE's first IKE_AUTH request without AUTH reaches the engine: EAP starts.
    pub fn start(&mut self, sa: IkeSaRef) {
        let outer = self.ues[&sa].outer;
        self.n3iwf.handle_eap_started(sa, outer, self.now);
        self.pump();
    }

    /// A UE registers end to end with the default AN parameters.
    pub fn register(&mut self, n: usize) -> IkeSaRef {
        let an = self.an_parameters();
        let sa = self.add_ue(n, an);
        self.start(sa);
        sa
    }

    /// The UE retransmits its last IKE_AUTH request (the engine would normally drop it).
    pub fn retransmit(&mut self, sa: IkeSaRef) {
        let last = self.ues[&sa].last_response.clone().unwrap();
        self.n3iwf.handle_eap_message(sa, &last, self.now);
        self.pump();
    }

    /// Opens the UE's NAS TCP connection to the core.
    pub fn connect(&mut self, sa: IkeSaRef) -> NasConnId {
        let conn = NasConnId(self.next_conn);
        self.next_conn += 1;
        let ue = self.ues.get_mut(&sa).unwrap();
        let inner = ue.inner.unwrap();
        ue.conn = Some(conn);
        ue.tcp_open = true;
        self.n3iwf
            .handle_nas_tcp_connected(conn, IpAddr::V4(inner), self.now);
        self.pump();
        conn
    }

    /// Moves every output and AMF transmission due now, until both sides are quiet.
    pub fn pump(&mut self) {
        for _ in 0..100_000 {
            if let Some(output) = self.n3iwf.poll_output() {
                self.on_output(output);
                continue;
            }
            if let Some((stream, octets)) = self.amf.poll_transmit(self.now) {
                self.n3iwf
                    .handle_ngap(AMF, StreamId(stream), &octets, self.now);
                continue;
            }
            while let Some(event) = self.amf.poll_event() {
                self.amf_events.push(event);
            }
            return;
        }
        panic!("the exchange did not settle");
    }

    /// Lets `duration` pass, acting on every deadline on the way.
    pub fn advance(&mut self, duration: Duration) {
        let target = self.now + duration;
        for _ in 0..10_000 {
            self.pump();
            let next = [self.n3iwf.poll_timeout(), self.amf.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= target => {
                    self.now = self.now.max(at);
                    self.n3iwf.handle_timeout(self.now);
                }
                _ => {
                    self.now = target;
                    self.n3iwf.handle_timeout(self.now);
                    self.pump();
                    return;
                }
            }
        }
        panic!("timers did not settle");
    }

    fn on_output(&mut self, output: Output) {
        match output {
            Output::EapAnswer { sa, answer } => self.on_eap_answer(sa, answer),
            Output::CloseIkeSa { sa } => {
                // The engine deletes the IKE SA and reports it gone.
                if let Some(ue) = self.ues.get_mut(&sa) {
                    ue.ike_closed.get_or_insert(IkeSaGone::Local);
                }
                self.n3iwf
                    .handle_ike_sa_closed(sa, IkeSaGone::Local, self.now);
            }
            Output::Ngap {
                amf,
                stream,
                octets,
            } => {
                assert_eq!(amf, AMF);
                let code = n3iwf::ngap::NgapMessage::decode(&octets)
                    .map(|d| d.message.procedure_code())
                    .unwrap_or(u8::MAX);
                self.ngap_sent.push((stream, code));
                self.amf.handle_ngap(stream.0, &octets, self.now);
            }
            Output::NasTcpSend { conn, octets } => self.on_tcp(conn, &octets),
            Output::NasTcpClose { conn } => {
                if let Some(ue) = self.ues.values_mut().find(|u| u.conn == Some(conn)) {
                    ue.tcp_open = false;
                }
                self.n3iwf.handle_nas_tcp_closed(conn, self.now);
            }
            Output::Event(event) => self.events.push(event),
            other => panic!("unexpected output {other:?}"),
        }
    }

    fn on_eap_answer(&mut self, sa: IkeSaRef, answer: EapAnswer) {
        let ue = self.ues.get_mut(&sa).expect("answer for a UE of the test");
        match answer {
            EapAnswer::Request(packet) => {
                ue.answers.push("request");
                match ue.peer.handle_eap(&packet) {
                    PeerStep::Respond(response) => {
                        ue.last_response = Some(response.clone());
                        if ue.answers_eap {
                            self.n3iwf.handle_eap_message(sa, &response, self.now);
                        }
                    }
                    other => panic!("UE did not answer a request: {other:?}"),
                }
            }
            EapAnswer::Success(success) => {
                ue.answers.push("success");
                let id = ue.peer.last_request().map_or(0, |i| i.0);
                assert_eq!(ue.peer.handle_eap(&[3, id, 0, 4]), PeerStep::Success);
                let ours = ue.peer.kn3iwf().map(|k| *k.dangerous_as_bytes());
                let matches = ours.as_ref() == Some(success.msk.dangerous_as_bytes());
                ue.msk_matches = Some(matches);
                ue.inner = Some(success.internal_address);
                ue.nas_endpoint = Some((success.nas_address, success.nas_tcp_port));
                // The engine's final IKE_AUTH: both AUTH payloads are keyed with the MSK.
                let final_auth = ue.final_auth;
                if final_auth == FinalAuth::Never {
                    return;
                }
                if matches && final_auth == FinalAuth::Completes {
                    let connects = ue.connects;
                    self.n3iwf.handle_signalling_sa_up(sa, self.now);
                    if connects {
                        self.pump();
                        self.connect(sa);
                    }
                } else {
                    ue.ike_closed = Some(IkeSaGone::AuthenticationFailed);
                    self.n3iwf
                        .handle_ike_sa_closed(sa, IkeSaGone::AuthenticationFailed, self.now);
                }
            }
            EapAnswer::Failure => {
                ue.answers.push("failure");
                let id = ue.peer.last_request().map_or(0, |i| i.0);
                assert_eq!(ue.peer.handle_eap(&[4, id, 0, 4]), PeerStep::Failure);
                // The engine sends EAP-Failure and fails the IKE SA.
                ue.ike_closed.get_or_insert(IkeSaGone::Failed);
                self.n3iwf
                    .handle_ike_sa_closed(sa, IkeSaGone::Failed, self.now);
            }
        }
    }

    fn on_tcp(&mut self, conn: NasConnId, octets: &[u8]) {
        let ue = self
            .ues
            .values_mut()
            .find(|u| u.conn == Some(conn))
            .expect("TCP data for a UE of the test");
        ue.tcp_received.extend_from_slice(octets);
        let uplink = ue.peer.handle_tcp(octets);
        if !uplink.is_empty() {
            self.n3iwf.handle_nas_tcp_data(conn, &uplink, self.now);
        }
    }

    /// The UE's NAS events so far.
    pub fn ue_events(&mut self, sa: IkeSaRef) -> Vec<UeEvent> {
        self.ues.get_mut(&sa).unwrap().peer.take_events()
    }

    /// The AMF UE NGAP ID the AMF gave the UE of `sa`.
    pub fn amf_ue_of(&self, sa: IkeSaRef) -> n3iwf::ngap::AmfUeNgapId {
        self.n3iwf.ue(sa).and_then(|v| v.amf_ue_ngap_id).unwrap()
    }

    pub fn count_amf(&self, f: impl Fn(&AmfNodeEvent) -> bool) -> usize {
        self.amf_events.iter().filter(|e| f(e)).count()
    }

    pub fn count_events(&self, f: impl Fn(&Event) -> bool) -> usize {
        self.events.iter().filter(|e| f(e)).count()
    }
}

/// The core's configuration for a scenario.
pub fn config(setup: &Setup) -> N3iwfConfig {
    let plmn = Plmn::new(setup.mcc, setup.mnc).unwrap();
    N3iwfConfig {
        global_id: GlobalN3iwfId {
            plmn,
            n3iwf_id: N3iwfId(0x0135),
        },
        ran_node_name: Some(String::from("n3iwf-test")),
        supported_tas: vec![SupportedTa {
            tac: Tac([0, 0, 1]),
            broadcast_plmns: vec![PlmnSlices {
                plmn,
                slices: vec![Snssai::new(1)],
            }],
        }],
        default_paging_drx: PagingDrx::V128,
        amfs: vec![AmfPeer {
            label: String::from("amf-1"),
        }],
        inner_pool: InnerPoolConfig {
            network: Ipv4Addr::new(10, 0, 0, 0),
            prefix_len: setup.pool_prefix,
        },
        nas_address: Ipv4Addr::new(10, 0, 0, 1),
        nas_tcp_port: 20_000,
        up_address: None,
        n3_address: None,
        timers: setup.timers,
        limits: setup.limits,
    }
}
