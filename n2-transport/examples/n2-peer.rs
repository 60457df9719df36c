//! One end of an N2 association carrying real NGAP, for checks on the wire: the `n3iwf` role
//! connects, sends NG SETUP REQUEST on stream 0 and one INITIAL UE MESSAGE per UE on the UE's
//! stream; the `amf` role accepts, answers NG SETUP RESPONSE and one DOWNLINK NAS TRANSPORT per
//! UE. Both check streams, PPIDs and NGAP decoding, print what they saw, and exit non-zero on
//! any deviation. All messages use PPID 60 (TS 38.412 §7).
//!
//! ```text
//! n2-peer amf   --address 10.0.0.1:38412 --lower raw
//! n2-peer n3iwf --address 10.0.0.1:38412 --lower raw --ues 8
//! ```

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use n2_transport::{
    Association, AssociationConfig, DownReason, LowerLayer, N2Event, N2Message, N2Transport, Ppid,
    StreamId, UDP_ENCAPSULATION_PORT, UserspaceSctp,
};
use n3iwf::ids::{AmfPointer, AmfRegionId, AmfSetId, Guami, Plmn, Snssai, Tac};
use n3iwf::ngap::{
    AmfUeNgapId, DownlinkNasTransport, GlobalN3iwfId, InitialUeMessage, N3iwfId, N3iwfUserLocation,
    NgSetupRequest, NgSetupResponse, NgapMessage, PagingDrx, PlmnSlices, RanUeNgapId,
    RrcEstablishmentCause, ServedGuami, SupportedTa, TransportAddress, UeNgapIds,
};
use tokio::time::timeout;

#[derive(Parser)]
struct Args {
    role: Role,
    /// The AMF's SCTP address: listened on (amf) or connected to (n3iwf).
    #[arg(long)]
    address: SocketAddr,
    #[arg(long, value_enum, default_value = "udp")]
    lower: Lower,
    /// Local UDP port for SCTP over UDP (0: any).
    #[arg(long, default_value_t = UDP_ENCAPSULATION_PORT)]
    udp_port: u16,
    /// The peer's UDP port for SCTP over UDP.
    #[arg(long, default_value_t = UDP_ENCAPSULATION_PORT)]
    peer_udp_port: u16,
    /// UEs whose INITIAL UE MESSAGE the n3iwf sends.
    #[arg(long, default_value_t = 8)]
    ues: u32,
}

#[derive(Clone, Copy, ValueEnum)]
enum Role {
    Amf,
    N3iwf,
}

#[derive(Clone, Copy, ValueEnum)]
enum Lower {
    Raw,
    Udp,
}

type Failure = String;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    let run = async {
        match args.role {
            Role::Amf => amf(&args).await,
            Role::N3iwf => n3iwf(&args).await,
        }
    };
    let outcome = timeout(Duration::from_secs(30), run)
        .await
        .unwrap_or_else(|_| Err("no end within 30 s".into()));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("n2-peer: {e}");
            ExitCode::FAILURE
        }
    }
}

fn transport(args: &Args) -> Result<UserspaceSctp, Failure> {
    let lower = match args.lower {
        Lower::Raw => LowerLayer::RawIp,
        Lower::Udp => LowerLayer::Udp {
            local_port: args.udp_port,
            remote_port: args.peer_udp_port,
        },
    };
    UserspaceSctp::start(lower, AssociationConfig::default()).map_err(|e| e.to_string())
}

async fn amf(args: &Args) -> Result<(), Failure> {
    let listener = transport(args)?
        .listen(args.address)
        .map_err(|e| e.to_string())?;
    println!("amf: listening on {}", args.address);
    let mut assoc = listener.accept().await.map_err(|e| e.to_string())?;
    println!(
        "amf: association up with {}, {:?}",
        assoc.peer(),
        assoc.streams()
    );
    let setup = expect(&mut assoc).await?;
    check_stream(&setup, StreamId::NON_UE)?;
    let NgapMessage::NgSetupRequest(request) = decode(&setup)? else {
        return Err("the first message is no NG SETUP REQUEST".into());
    };
    println!("amf: NG SETUP REQUEST from {:?}", request.global_n3iwf_id);
    send(&assoc, StreamId::NON_UE, &ng_setup_response().into()).await?;
    let mut ues = 0;
    loop {
        match next(&mut assoc).await? {
            N2Event::Message(m) => {
                answer_ue(&assoc, &m).await?;
                ues += 1;
            }
            N2Event::Down(DownReason::PeerShutdown) => break,
            other => return Err(format!("unexpected {other:?}")),
        }
    }
    println!("amf: {ues} INITIAL UE MESSAGEs answered; the N3IWF shut the association down");
    Ok(())
}

/// Checks an INITIAL UE MESSAGE (its stream must be the one its RAN UE NGAP ID maps to) and
/// answers on the AMF's stream for that UE.
async fn answer_ue(assoc: &Association, m: &N2Message) -> Result<(), Failure> {
    let NgapMessage::InitialUeMessage(initial) = decode(m)? else {
        return Err(format!("no INITIAL UE MESSAGE on {}", m.stream));
    };
    let ran = initial.ran_ue_ngap_id;
    // The N3IWF's outbound streams are the AMF's inbound ones.
    let theirs = n2_transport::StreamCounts {
        outbound: assoc.streams().inbound,
        inbound: assoc.streams().outbound,
    };
    check_stream(m, theirs.stream_for_ue(u64::from(ran.0)))?;
    let ids = UeNgapIds {
        amf: AmfUeNgapId::new(0x100 + u64::from(ran.0)).ok_or("AMF UE NGAP ID")?,
        ran,
    };
    let downlink = DownlinkNasTransport {
        ids,
        nas_pdu: AUTHENTICATION_REQUEST.to_vec(),
        allowed_nssai: None,
    };
    let stream = assoc.streams().stream_for_ue(u64::from(ran.0));
    send(assoc, stream, &downlink.into()).await
}

async fn n3iwf(args: &Args) -> Result<(), Failure> {
    let t = transport(args)?;
    let mut assoc = t.connect(args.address).await.map_err(|e| e.to_string())?;
    println!(
        "n3iwf: association up with {}, {:?}",
        assoc.peer(),
        assoc.streams()
    );
    send(&assoc, StreamId::NON_UE, &ng_setup_request().into()).await?;
    let reply = expect(&mut assoc).await?;
    check_stream(&reply, StreamId::NON_UE)?;
    let NgapMessage::NgSetupResponse(response) = decode(&reply)? else {
        return Err("the answer is no NG SETUP RESPONSE".into());
    };
    println!("n3iwf: NG SETUP RESPONSE from {}", response.amf_name);
    for ran in 1..=args.ues {
        let stream = assoc.streams().stream_for_ue(u64::from(ran));
        send(&assoc, stream, &initial_ue_message(RanUeNgapId(ran)).into()).await?;
    }
    for _ in 0..args.ues {
        let m = expect(&mut assoc).await?;
        let NgapMessage::DownlinkNasTransport(dl) = decode(&m)? else {
            return Err(format!("no DOWNLINK NAS TRANSPORT on {}", m.stream));
        };
        let theirs = n2_transport::StreamCounts {
            outbound: assoc.streams().inbound,
            inbound: assoc.streams().outbound,
        };
        check_stream(&m, theirs.stream_for_ue(u64::from(dl.ids.ran.0)))?;
    }
    println!("n3iwf: {} UEs answered on their streams; closing", args.ues);
    assoc.close().await;
    Ok(())
}

async fn next(assoc: &mut Association) -> Result<N2Event, Failure> {
    assoc
        .recv()
        .await
        .ok_or_else(|| "the association ended".to_owned())
}

async fn expect(assoc: &mut Association) -> Result<N2Message, Failure> {
    match next(assoc).await? {
        N2Event::Message(m) if m.ppid == Ppid::NGAP => Ok(m),
        N2Event::Message(m) => Err(format!("{} instead of PPID 60", m.ppid)),
        other => Err(format!("unexpected {other:?}")),
    }
}

async fn send(assoc: &Association, stream: StreamId, message: &NgapMessage) -> Result<(), Failure> {
    let bytes = message.encode().map_err(|e| format!("encode: {e}"))?;
    assoc
        .send(stream, Ppid::NGAP, &bytes)
        .await
        .map_err(|e| e.to_string())
}

fn decode(m: &N2Message) -> Result<NgapMessage, Failure> {
    NgapMessage::decode(&m.payload)
        .map(|d| d.message)
        .map_err(|e| format!("NGAP on {}: {e:?}", m.stream))
}

fn check_stream(m: &N2Message, want: StreamId) -> Result<(), Failure> {
    if m.stream == want {
        Ok(())
    } else {
        Err(format!("message on {} instead of {want}", m.stream))
    }
}

fn plmn() -> Plmn {
    Plmn::new("001", "01").unwrap_or_else(|_| unreachable!("a valid PLMN"))
}

fn ng_setup_request() -> NgSetupRequest {
    NgSetupRequest {
        global_n3iwf_id: GlobalN3iwfId {
            plmn: plmn(),
            n3iwf_id: N3iwfId(0x0135),
        },
        ran_node_name: Some("n3iwf-1".into()),
        supported_tas: vec![SupportedTa {
            tac: Tac([0x00, 0x00, 0x01]),
            broadcast_plmns: vec![PlmnSlices {
                plmn: plmn(),
                slices: vec![Snssai::new(1)],
            }],
        }],
        default_paging_drx: PagingDrx::V128,
    }
}

fn ng_setup_response() -> NgSetupResponse {
    let guami = Guami {
        plmn: plmn(),
        region: AmfRegionId(0xca),
        set: AmfSetId::new(0x3f8).unwrap_or_else(|| unreachable!("10 bits")),
        pointer: AmfPointer::new(1).unwrap_or_else(|| unreachable!("6 bits")),
    };
    NgSetupResponse {
        amf_name: "amf-emulator".into(),
        served_guamis: vec![ServedGuami {
            guami,
            backup_amf_name: None,
        }],
        relative_amf_capacity: 255,
        plmn_support: vec![PlmnSlices {
            plmn: plmn(),
            slices: vec![Snssai::new(1)],
        }],
        diagnostics: None,
    }
}

fn initial_ue_message(ran: RanUeNgapId) -> InitialUeMessage {
    InitialUeMessage {
        ran_ue_ngap_id: ran,
        nas_pdu: REGISTRATION_REQUEST.to_vec(),
        location: N3iwfUserLocation {
            address: TransportAddress::V4(Ipv4Addr::new(192, 0, 2, 10)),
            port: 4500,
        },
        rrc_establishment_cause: RrcEstablishmentCause::MO_SIGNALLING,
        five_g_s_tmsi: None,
        amf_set_id: None,
        ue_context_requested: false,
        allowed_nssai: None,
        selected_plmn: None,
    }
}

/// A plain 5GMM REGISTRATION REQUEST (TS 24.501 §8.2.6): initial registration, no key (ngKSI
/// 7), SUCI of MSIN 12345678 in 001/01 with the null protection scheme.
const REGISTRATION_REQUEST: [u8; 18] = [
    0x7e, 0x00, 0x41, 0x79, 0x00, 0x0c, 0x01, 0x00, 0xf1, 0x10, 0xf0, 0xff, 0x00, 0x00, 0x21, 0x43,
    0x65, 0x87,
];

/// A plain 5GMM AUTHENTICATION REQUEST (TS 24.501 §8.2.1): ngKSI 0 and an ABBA of 0x0000.
const AUTHENTICATION_REQUEST: [u8; 7] = [0x7e, 0x00, 0x56, 0x00, 0x02, 0x00, 0x00];
