//! The glue between the N2 tasks and the core: associations by generation, NG Setup, a
//! restart by the AMF, a late report of an old association, another PPID.

use std::collections::{BTreeMap, HashMap};
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use ::n3iwf::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn, Snssai, Tac};
use ::n3iwf::ngap::{
    GlobalN3iwfId, N3iwfId, NgSetupResponse, NgapMessage, PagingDrx, PlmnSlices, ServedGuami,
    SupportedTa,
};
use ::n3iwf::node::{AmfPeer, GuardTimers, InnerPoolConfig, Limits};
use ::n3iwf::{AmfRef, N3iwf, N3iwfConfig};
use n2_transport::{StreamCounts, TransportKind};
use tokio::sync::mpsc;

use super::n2::N2Out;
use super::{AmfLink, IkeSide, N3iwfGlue, N3iwfInput};
use crate::config::{AmfSettings, N3iwfSettings};

const AMF: AmfRef = AmfRef(0);
const STREAMS: StreamCounts = StreamCounts {
    outbound: 8,
    inbound: 8,
};

/// The engine's side, which these tests never reach.
struct NoIke;

impl IkeSide for NoIke {
    fn eap_respond(&mut self, _: ikev2::SaId, _: ikev2::EapStep) -> bool {
        panic!("no UE here")
    }

    fn close_ike_sa(&mut self, _: ikev2::SaId, _: &str) {
        panic!("no UE here")
    }

    fn create_child(&mut self, _: ikev2::SaId, _: ikev2::ChildRequest) -> Result<(), String> {
        panic!("no UE here")
    }

    fn close_child(&mut self, _: ikev2::SaId, _: ikev2::EspSpi) {
        panic!("no UE here")
    }

    fn sink(&mut self) -> &mut dyn crate::sink::ChildSaSink {
        panic!("no datapath here")
    }
}

fn plmn() -> Plmn {
    Plmn::new("208", "93").expect("plmn")
}

pub(super) fn glue() -> (N3iwfGlue, mpsc::Receiver<N2Out>) {
    let core = N3iwfConfig {
        global_id: GlobalN3iwfId {
            plmn: plmn(),
            n3iwf_id: N3iwfId(7),
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
            label: "amf-1".into(),
        }],
        inner_pool: InnerPoolConfig {
            network: Ipv4Addr::new(10, 45, 0, 0),
            prefix_len: 24,
        },
        nas_address: Ipv4Addr::new(10, 45, 0, 1),
        nas_tcp_port: 20_000,
        up_address: None,
        n3_address: Some(Ipv4Addr::new(10, 200, 0, 1).into()),
        timers: GuardTimers::default(),
        limits: Limits::default(),
    };
    let settings = N3iwfSettings {
        core: core.clone(),
        amfs: vec![AmfSettings {
            label: "amf-1".into(),
            address: SocketAddr::from(([10, 100, 0, 5], 38412)),
            transport: TransportKind::Kernel,
            local: None,
        }],
        reconnect: Duration::from_secs(1),
        reconnect_max: Duration::from_secs(30),
        user_plane: crate::config::UserPlaneSettings::default(),
    };
    let (tx, rx) = mpsc::channel(16);
    let glue = N3iwfGlue {
        core: N3iwf::new(core).expect("core"),
        settings,
        amfs: vec![AmfLink::new(tx)],
        conns: HashMap::new(),
        ues: HashMap::new(),
        counters: BTreeMap::new(),
        user_plane: super::user_plane::UserPlaneState::default(),
    };
    (glue, rx)
}

fn input(glue: &mut N3iwfGlue, input: N3iwfInput) {
    glue.input(input, Instant::now());
    glue.drain(&mut NoIke);
}

fn up(generation: u64) -> N3iwfInput {
    N3iwfInput::N2Up {
        amf: AMF,
        generation,
        streams: STREAMS,
    }
}

fn ng_setup_response(generation: u64, ppid: u32) -> N3iwfInput {
    let set = AmfSetId::new(0x3fe).expect("10 bits");
    let response = NgSetupResponse {
        amf_name: "amf-emulator".into(),
        served_guamis: vec![ServedGuami {
            guami: Guami {
                plmn: plmn(),
                region: AmfRegionId(0xca),
                set,
                pointer: AmfPointer::new(1).expect("6 bits"),
            },
            backup_amf_name: None,
        }],
        relative_amf_capacity: 255,
        plmn_support: vec![PlmnSlices {
            plmn: plmn(),
            slices: vec![Snssai::new(1)],
        }],
        diagnostics: None,
    };
    N3iwfInput::N2Message {
        amf: AMF,
        generation,
        stream: 0,
        ppid,
        payload: NgapMessage::from(response).encode().expect("encode"),
    }
}

/// The next message for the AMF: its generation, stream and procedure code.
fn sent(rx: &mut mpsc::Receiver<N2Out>) -> Option<(u64, u16, u8)> {
    let out = rx.try_recv().ok()?;
    let decoded = NgapMessage::decode(&out.payload).expect("decodes");
    Some((out.generation, out.stream, decoded.message.procedure_code()))
}

const NG_SETUP: u8 = 21;

#[test]
fn an_association_runs_ng_setup_and_a_restart_by_the_amf_runs_it_again() {
    let (mut glue, mut rx) = glue();
    input(&mut glue, up(1));
    assert_eq!(sent(&mut rx), Some((1, 0, NG_SETUP)));
    input(&mut glue, ng_setup_response(1, 60));
    let amf = &glue.amf_views(Instant::now())[0];
    assert_eq!(
        (amf.association.as_str(), amf.ng_setup.as_str()),
        ("up", "ready")
    );
    assert_eq!(amf.amf_name.as_deref(), Some("amf-emulator"));

    input(
        &mut glue,
        N3iwfInput::N2Restarted {
            amf: AMF,
            generation: 1,
            streams: STREAMS,
        },
    );
    assert_eq!(sent(&mut rx), Some((1, 0, NG_SETUP)), "NG Setup again");
    let amf = &glue.amf_views(Instant::now())[0];
    assert_eq!((amf.restarts, amf.ng_setup.as_str()), (1, "setting-up"));
    assert_eq!(sent(&mut rx), None);
}

#[test]
fn a_late_report_of_an_older_association_is_ignored() {
    let (mut glue, mut rx) = glue();
    input(&mut glue, up(1));
    input(
        &mut glue,
        N3iwfInput::N2Down {
            amf: AMF,
            generation: 1,
            reason: "Lost".into(),
        },
    );
    input(&mut glue, up(2));
    let _ = (sent(&mut rx), sent(&mut rx));
    // A message and a loss of association 1, read late: association 2 is not touched.
    input(&mut glue, ng_setup_response(1, 60));
    input(
        &mut glue,
        N3iwfInput::N2Down {
            amf: AMF,
            generation: 1,
            reason: "Lost".into(),
        },
    );
    let amf = &glue.amf_views(Instant::now())[0];
    assert_eq!(
        (
            amf.association.as_str(),
            amf.ng_setup.as_str(),
            amf.losses,
            amf.connects
        ),
        ("up", "setting-up", 1, 2)
    );
    input(&mut glue, ng_setup_response(2, 60));
    assert_eq!(glue.amf_views(Instant::now())[0].ng_setup, "ready");
}

#[test]
fn a_message_with_another_ppid_is_dropped_and_counted() {
    let (mut glue, mut rx) = glue();
    input(&mut glue, up(1));
    let _ = sent(&mut rx);
    input(&mut glue, ng_setup_response(1, 61));
    let stats = glue.stats_view(Instant::now());
    assert_eq!(stats.counters.get("n2_messages_other_ppid"), Some(&1));
    assert_eq!(stats.amfs[0].ng_setup, "setting-up");
}

#[test]
fn failed_attempts_are_counted_with_their_reason() {
    let (mut glue, _rx) = glue();
    for _ in 0..3 {
        input(
            &mut glue,
            N3iwfInput::N2ConnectFailed {
                amf: AMF,
                error: "no SCTP association with 10.100.0.5:38412: refused".into(),
            },
        );
    }
    let amf = &glue.amf_views(Instant::now())[0];
    assert_eq!((amf.connect_failures, amf.connects), (3, 0));
    assert_eq!(
        amf.last_error.as_deref(),
        Some("no SCTP association with 10.100.0.5:38412: refused")
    );
}

#[test]
fn a_nas_connection_from_no_registered_ue_is_closed_and_counted() {
    let (mut glue, _rx) = glue();
    let (writer, mut writes) = mpsc::channel(4);
    input(
        &mut glue,
        N3iwfInput::NasConnected {
            conn: ::n3iwf::NasConnId(1),
            peer: Ipv4Addr::new(10, 45, 0, 9).into(),
            writer,
        },
    );
    // The glue dropped its writer: the connection's task closes the socket.
    assert!(matches!(
        writes.try_recv(),
        Err(mpsc::error::TryRecvError::Disconnected)
    ));
    let stats = glue.stats_view(Instant::now());
    assert_eq!(stats.counters.get("nas_tcp_refused"), Some(&1));
}
