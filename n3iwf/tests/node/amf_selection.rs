//! Two AMFs: the GUAMI picks one, then the PLMN by relative capacity; AMF STATUS INDICATION and
//! AMF CONFIGURATION UPDATE change the choice.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use n3iwf::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn, Snssai, Tac};
use n3iwf::ngap::{
    AmfConfigurationUpdate, AmfStatusIndication, AmfUeNgapId, Cause, DownlinkNasTransport,
    GlobalN3iwfId, N3iwfId, NgSetupResponse, NgapMessage, PagingDrx, PlmnSlices, RadioNetworkCause,
    ServedGuami, SupportedTa, UeNgapIds, UnavailableGuami,
};
use n3iwf::node::{AmfPeer, EapAnswer, GuardTimers, InnerPoolConfig, Limits, N3iwfConfig};
use n3iwf::wire::an_params::AnParameters;
use n3iwf::wire::eap5g::Eap5g;
use n3iwf::{AmfRef, IkeSaRef, N3iwf, Output, StreamId};

pub(crate) fn plmn() -> Plmn {
    Plmn::new("001", "01").unwrap()
}

fn guami(region: u8) -> Guami {
    Guami {
        plmn: plmn(),
        region: AmfRegionId(region),
        set: AmfSetId::new(1).unwrap(),
        pointer: AmfPointer::new(1).unwrap(),
    }
}

/// Our N3 address in the tests: the DL end of every GTP-U tunnel.
pub(crate) const N3_ADDRESS: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 200);

pub(crate) fn config(amfs: usize) -> N3iwfConfig {
    N3iwfConfig {
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
        amfs: (0..amfs)
            .map(|i| AmfPeer {
                label: format!("amf-{i}"),
            })
            .collect(),
        inner_pool: InnerPoolConfig {
            network: Ipv4Addr::new(10, 0, 0, 0),
            prefix_len: 24,
        },
        nas_address: Ipv4Addr::new(10, 0, 0, 1),
        nas_tcp_port: 20_000,
        up_address: None,
        n3_address: Some(IpAddr::V4(N3_ADDRESS)),
        timers: GuardTimers::default(),
        limits: Limits::default(),
    }
}

pub(crate) struct Node {
    pub(crate) n3iwf: N3iwf,
    pub(crate) now: Instant,
}

impl Node {
    /// Two AMFs: region 1 with capacity 10, region 2 with capacity 200, both serving the PLMN.
    pub(crate) fn two_amfs() -> Self {
        Self::two_amfs_with(config(2))
    }

    /// The same two AMFs, with `config` (of two AMFs) otherwise.
    pub(crate) fn two_amfs_with(config: N3iwfConfig) -> Self {
        let mut node = Self {
            n3iwf: N3iwf::new(config).unwrap(),
            now: Instant::now(),
        };
        for (amf, region, capacity) in [(0, 1, 10), (1, 2, 200)] {
            node.n3iwf.handle_n2_up(AmfRef(amf), 2, node.now);
            let response = NgSetupResponse {
                amf_name: format!("amf-{amf}"),
                served_guamis: vec![ServedGuami {
                    guami: guami(region),
                    backup_amf_name: None,
                }],
                relative_amf_capacity: capacity,
                plmn_support: vec![PlmnSlices {
                    plmn: plmn(),
                    slices: vec![Snssai::new(1)],
                }],
                diagnostics: None,
            };
            node.receive(AmfRef(amf), response.into());
        }
        node.drain();
        node
    }

    pub(crate) fn receive(&mut self, amf: AmfRef, message: NgapMessage) {
        let octets = message.encode().unwrap();
        self.n3iwf.handle_ngap(amf, StreamId(0), &octets, self.now);
    }

    pub(crate) fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.n3iwf.poll_output()).collect()
    }

    /// A UE's first 5G-NAS response; returns the AMF its INITIAL UE MESSAGE went to.
    pub(crate) fn register(&mut self, n: u64, an: AnParameters) -> Option<AmfRef> {
        let sa = IkeSaRef(n);
        let outer = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, n as u8)), 500);
        self.n3iwf.handle_eap_started(sa, outer, self.now);
        let id = self
            .drain()
            .into_iter()
            .find_map(|o| match o {
                Output::EapAnswer {
                    answer: EapAnswer::Request(packet),
                    ..
                } => Some(Eap5g::parse(&packet).unwrap().id()),
                _ => None,
            })
            .unwrap();
        let response = Eap5g::NasResponse {
            id,
            an_parameters: an,
            nas_pdu: vec![0x7e, 0x00, 0x41],
        };
        self.n3iwf
            .handle_eap_message(sa, &response.to_bytes().unwrap(), self.now);
        self.drain().into_iter().find_map(|o| match o {
            Output::Ngap { amf, octets, .. } => {
                let decoded = NgapMessage::decode(&octets).unwrap();
                matches!(decoded.message, NgapMessage::InitialUeMessage(_)).then_some(amf)
            }
            _ => None,
        })
    }
}

pub(crate) fn by_guami(region: u8) -> AnParameters {
    AnParameters {
        guami: Some(guami(region)),
        ..AnParameters::default()
    }
}

#[test]
fn the_guami_picks_the_amf_then_the_plmn_by_capacity() {
    let mut node = Node::two_amfs();
    assert_eq!(node.register(1, by_guami(1)), Some(AmfRef(0)));
    assert_eq!(node.register(2, by_guami(2)), Some(AmfRef(1)));
    let by_plmn = AnParameters {
        selected_plmn: Some(plmn()),
        ..AnParameters::default()
    };
    assert_eq!(node.register(3, by_plmn), Some(AmfRef(1)));
    // A GUAMI nobody serves falls back to its PLMN.
    assert_eq!(node.register(4, by_guami(9)), Some(AmfRef(1)));
}

#[test]
fn status_indication_and_configuration_update_move_a_guami() {
    let mut node = Node::two_amfs();
    let indication = AmfStatusIndication {
        unavailable_guamis: vec![UnavailableGuami {
            guami: guami(1),
            apply_timer: false,
            backup_amf_name: None,
        }],
    };
    node.receive(AmfRef(0), indication.into());
    node.drain();
    assert_eq!(node.register(1, by_guami(1)), Some(AmfRef(1)));

    let update = AmfConfigurationUpdate {
        served_guamis: Some(vec![ServedGuami {
            guami: guami(1),
            backup_amf_name: None,
        }]),
        ..AmfConfigurationUpdate::default()
    };
    node.receive(AmfRef(0), update.into());
    let acks = node
        .drain()
        .into_iter()
        .filter(|o| {
            matches!(
                o,
                Output::Ngap {
                    amf: AmfRef(0),
                    stream: StreamId(0),
                    ..
                }
            )
        })
        .count();
    assert_eq!(acks, 1);
    assert_eq!(node.register(2, by_guami(1)), Some(AmfRef(0)));
}

/// A UE of one AMF is unknown to the other (UE NGAP IDs are per NG interface).
#[test]
fn a_ue_of_one_amf_is_unknown_to_the_other() {
    let mut node = Node::two_amfs();
    assert_eq!(node.register(1, by_guami(1)), Some(AmfRef(0)));
    let ran = node.n3iwf.ue(IkeSaRef(1)).unwrap().ran_ue_ngap_id.unwrap();
    let stray = DownlinkNasTransport {
        ids: UeNgapIds {
            amf: AmfUeNgapId::new(5).unwrap(),
            ran,
        },
        nas_pdu: vec![0x7e],
        allowed_nssai: None,
    };
    node.receive(AmfRef(1), stray.into());
    let replies: Vec<_> = node
        .drain()
        .into_iter()
        .filter_map(|o| match o {
            Output::Ngap { amf, octets, .. } => Some((amf, NgapMessage::decode(&octets).unwrap())),
            _ => None,
        })
        .collect();
    assert_eq!(replies.len(), 1);
    let (amf, decoded) = &replies[0];
    assert_eq!(*amf, AmfRef(1));
    let NgapMessage::ErrorIndication(indication) = &decoded.message else {
        panic!("{decoded:?}");
    };
    let unknown = Cause::RadioNetwork(RadioNetworkCause::UNKNOWN_LOCAL_UE_NGAP_ID);
    assert_eq!(indication.cause, Some(unknown));
    assert_eq!(node.n3iwf.ue(IkeSaRef(1)).unwrap().state, "eap-wait-amf");
}
