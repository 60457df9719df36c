//! The user-plane glue: the engine request built from the core's, the datapath's form of a
//! session (through a recording sink), rekeys, removal, and GTP-U path supervision.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ::n3iwf::IkeSaRef;
use ::n3iwf::ids::{PduSessionId, Qfi as CoreQfi, Teid};
use ::n3iwf::ngap::GtpTunnel;
use ::n3iwf::node::{ChildRequestId, UserPlaneChild, UserPlaneChildRequest, UserPlaneSession};
use ::n3iwf::wire::qos_info::QosInfo;
use dataplane::{GreProtocolType, Qfi};
use esp::Spi;
use ikev2::{ChildRequest, ChildSa, ChildTag, EapStep, EspSpi, SaId};

use super::IkeSide;
use super::tests::glue;
use crate::config::{TrafficLimits, USER_PLANE_CHILD};
use crate::proto::ChildSaCounters;
use crate::sink::{ChildSaSink, SinkError};

/// The datapath's user-plane calls, recorded.
#[derive(Default)]
struct Recorder {
    added: Vec<dataplane::UserPlaneSession>,
    updated: Vec<(u32, dataplane::UserPlaneChildren)>,
    removed: Vec<u32>,
    echoes: Vec<SocketAddr>,
}

impl ChildSaSink for Recorder {
    fn install(&mut self, _: SaId, _: &str, _: ChildSa, _: TrafficLimits) -> Result<(), SinkError> {
        Ok(())
    }

    fn retire(&mut self, _: SaId, _: EspSpi) {}

    fn counters(&self) -> BTreeMap<EspSpi, ChildSaCounters> {
        BTreeMap::new()
    }

    fn add_user_plane(&mut self, session: dataplane::UserPlaneSession) -> Result<(), SinkError> {
        self.added.push(session);
        Ok(())
    }

    fn update_user_plane(
        &mut self,
        dl_teid: dataplane::Teid,
        children: dataplane::UserPlaneChildren,
    ) -> Result<(), SinkError> {
        self.updated.push((dl_teid.get(), children));
        Ok(())
    }

    fn remove_user_plane(&mut self, dl_teid: dataplane::Teid) {
        self.removed.push(dl_teid.get());
    }

    fn send_gtpu_echo(&mut self, to: SocketAddr) -> Result<u16, SinkError> {
        self.echoes.push(to);
        Ok(0)
    }
}

/// The engine's side: requests and closes recorded; `refuse` makes the engine refuse.
#[derive(Default)]
struct Engine {
    requests: Vec<(SaId, ChildRequest)>,
    closes: Vec<(SaId, EspSpi)>,
    refuse: bool,
    sink: Recorder,
}

impl IkeSide for Engine {
    fn eap_respond(&mut self, _: SaId, _: EapStep) -> bool {
        false
    }

    fn close_ike_sa(&mut self, _: SaId, _: &str) {}

    fn create_child(&mut self, sa: SaId, request: ChildRequest) -> Result<(), String> {
        if self.refuse {
            return Err("too many Child SA requests".into());
        }
        self.requests.push((sa, request));
        Ok(())
    }

    fn close_child(&mut self, sa: SaId, inbound_spi: EspSpi) {
        self.closes.push((sa, inbound_spi));
    }

    fn sink(&mut self) -> &mut dyn ChildSaSink {
        &mut self.sink
    }
}

const UE: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 2);
const UP: Ipv4Addr = Ipv4Addr::new(10, 45, 0, 1);
const UPF: Ipv4Addr = Ipv4Addr::new(10, 100, 200, 1);

fn qfi(v: u8) -> CoreQfi {
    CoreQfi::new(v).expect("qfi")
}

fn request() -> UserPlaneChildRequest {
    UserPlaneChildRequest {
        id: ChildRequestId(42),
        pdu_session_id: PduSessionId(5),
        ue_inner_address: UE,
        up_address: UP.into(),
        qos_info: QosInfo {
            pdu_session_id: PduSessionId(5),
            qfis: vec![qfi(1), qfi(9)],
            default_child_sa: true,
            dscp: None,
            additional_qos: None,
        },
    }
}

fn session(children: Vec<UserPlaneChild>) -> UserPlaneSession {
    UserPlaneSession {
        sa: IkeSaRef(0x1122),
        pdu_session_id: PduSessionId(5),
        dl_teid: Teid(7),
        upf: GtpTunnel {
            address: IpAddr::V4(UPF).into(),
            teid: Teid(0xabcd),
        },
        ue_inner_address: UE,
        up_address: UP.into(),
        children,
        session_ambr: None,
    }
}

fn child(inbound: u32, outbound: u32, qfis: &[u8], default: bool) -> UserPlaneChild {
    UserPlaneChild {
        inbound_spi: inbound,
        outbound_spi: outbound,
        qfis: qfis.iter().map(|&q| qfi(q)).collect(),
        default,
    }
}

#[test]
fn the_engine_request_has_host_selectors_the_3gpp_notifies_and_the_cores_id_as_tag() {
    let (mut glue, _rx) = glue();
    let mut engine = Engine::default();
    glue.create_child(&mut engine, IkeSaRef(0x1122), &request());
    let [(sa, r)] = engine.requests.as_slice() else {
        panic!("one request: {:?}", engine.requests.len());
    };
    assert_eq!(*sa, SaId::from(IkeSaRef(0x1122)));
    assert_eq!(
        (r.template.as_str(), r.tag),
        (USER_PLANE_CHILD, ChildTag(42))
    );
    let host = |s: &ikev2::wire::IpSelector| (s.start_addr, s.end_addr, s.ip_protocol);
    assert_eq!(host(&r.local_ts[0]), (UP.into(), UP.into(), 0));
    assert_eq!(host(&r.remote_ts[0]), (UE.into(), UE.into(), 0));
    // 5G_QOS_INFO (55501) then UP_IP4_ADDRESS (55504), TS 24.502 §9.2.
    let types: Vec<u16> = r.notifies.iter().map(|n| n.notify_type).collect();
    assert_eq!(types, [55_501, 55_504]);
    assert_eq!(r.notifies[1].data, UP.octets());
    let parsed = QosInfo::parse(&r.notifies[0].data).expect("5G_QOS_INFO");
    assert_eq!(parsed.qfis, [qfi(1), qfi(9)]);
    assert!(parsed.default_child_sa);
}

#[test]
fn a_request_the_engine_refuses_is_a_failed_child_for_the_core() {
    let (mut glue, _rx) = glue();
    let mut engine = Engine {
        refuse: true,
        ..Engine::default()
    };
    glue.create_child(&mut engine, IkeSaRef(0x1122), &request());
    assert!(engine.requests.is_empty());
    let stats = glue.stats_view(Instant::now());
    assert_eq!(
        stats.counters.get("user_plane_child_requests_refused"),
        Some(&1)
    );
}

#[test]
fn a_session_reaches_the_datapath_with_its_upf_teids_and_spis_per_qfi() {
    let (mut glue, _rx) = glue();
    let mut engine = Engine::default();
    let s = session(vec![
        child(0x100, 0x200, &[1], true),
        child(0x101, 0x201, &[5, 9], false),
    ]);
    glue.user_plane_add(&mut engine, &s);
    let [dp] = engine.sink.added.as_slice() else {
        panic!("one session added");
    };
    assert_eq!(dp.dl_teid.get(), 7);
    assert_eq!(dp.ul_teid.get(), 0xabcd);
    assert_eq!(dp.upf, SocketAddr::from((UPF, 2152)));
    assert_eq!((dp.ue_address, dp.up_address), (UE.into(), UP.into()));
    assert_eq!(dp.gre_protocol, GreProtocolType::InnerEtherType);
    assert_eq!(dp.default_qfi, Qfi::new(1).expect("qfi"));
    assert_eq!(dp.children.default_spi, Spi(0x200));
    let q = |v| Qfi::new(v).expect("qfi");
    assert_eq!(
        dp.children.by_qfi,
        [(q(1), Spi(0x200)), (q(5), Spi(0x201)), (q(9), Spi(0x201))]
    );
    assert_eq!(dp.children.inbound, [Spi(0x100), Spi(0x101)]);

    // A rekey: the new SPIs replace the old ones; removal takes the session out.
    glue.user_plane_update(&mut engine, &session(vec![child(0x300, 0x400, &[1], true)]));
    assert_eq!(engine.sink.updated[0].0, 7);
    assert_eq!(engine.sink.updated[0].1.default_spi, Spi(0x400));
    assert_eq!(engine.sink.updated[0].1.inbound, [Spi(0x300)]);
    glue.user_plane_remove(&mut engine, Teid(7));
    assert_eq!(engine.sink.removed, [7]);
    assert!(glue.user_plane_upfs().is_empty());
}

#[test]
fn each_upf_in_use_gets_echo_requests_and_silence_is_counted_until_it_answers() {
    let (mut glue, _rx) = glue();
    let mut engine = Engine::default();
    let interval = Duration::from_secs(60);
    let t0 = Instant::now();
    glue.supervise(&mut engine, t0);
    assert_eq!(glue.echo_deadline(), None, "no UPF in use: no round");
    glue.user_plane_add(&mut engine, &session(vec![child(1, 2, &[1], true)]));
    glue.supervise(&mut engine, t0);
    assert_eq!(glue.echo_deadline(), Some(t0 + interval));
    glue.supervise(&mut engine, t0 + interval / 2);
    assert!(engine.sink.echoes.is_empty(), "not due yet");

    let upf = SocketAddr::from((UPF, 2152));
    glue.supervise(&mut engine, t0 + interval);
    assert_eq!(engine.sink.echoes, [upf]);
    glue.supervise(&mut engine, t0 + 2 * interval);
    let missed = |g: &super::N3iwfGlue| {
        g.stats_view(Instant::now())
            .counters
            .get("gtpu_echo_responses_missed")
            .copied()
    };
    assert_eq!(missed(&glue), Some(1), "the first round went unanswered");
    glue.gtpu_echo_response(upf);
    glue.supervise(&mut engine, t0 + 3 * interval);
    assert_eq!(missed(&glue), Some(1), "answered: nothing more missed");
    assert_eq!(engine.sink.echoes.len(), 3);

    glue.user_plane_remove(&mut engine, Teid(7));
    glue.supervise(&mut engine, t0 + 4 * interval);
    assert_eq!(engine.sink.echoes.len(), 3, "no UPF in use any more");
    assert_eq!(glue.echo_deadline(), None);
}
