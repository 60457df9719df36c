//! The UPF emulator in-process over loopback UDP (no root): uplink G-PDUs reach the reflector
//! and the replies come back as downlink G-PDUs with the rule's TEID and QFI; unknown TEIDs get
//! an Error Indication; Echo is answered and sent; the control socket installs, removes and
//! reports, within its bounds.

#![allow(clippy::unwrap_used)]

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use fiveg_emu::upf::{UpfConfig, UpfCounters};
use fiveg_emu::upf_sim::{MAX_LINE, N6Mode, RuleSpec, UpfSim, UpfSimConfig};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UdpSocket, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use userplane::{
    GtpuMessage, PduSessionInfo, Qfi, Teid, internet_checksum, write_echo_request,
    write_gpdu_header,
};

const UE: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 1);
const DN: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 254);
/// The bound of every wait: an answer on loopback takes microseconds.
const WAIT: Duration = Duration::from_secs(5);

struct Running {
    upf: SocketAddr,
    gnb: UdpSocket,
    control: PathBuf,
    stop: watch::Sender<bool>,
    task: JoinHandle<UpfCounters>,
}

impl Running {
    async fn start(name: &str, upf: UpfConfig, rule_for_gnb: bool) -> Self {
        let gnb = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let gnb_addr = gnb.local_addr().unwrap();
        let control = std::env::temp_dir().join(format!("upf-{name}-{}.sock", std::process::id()));
        let rules = if rule_for_gnb {
            vec![rule_json(1, UE, gnb_addr)]
        } else {
            vec![]
        };
        let config = UpfSimConfig {
            n3: "127.0.0.1:0".parse().unwrap(),
            n6: N6Mode::Reflect,
            control: Some(control.clone()),
            rules: rules.iter().map(|r| RuleSpec::parse(r).unwrap()).collect(),
            upf,
        };
        let sim = UpfSim::bind(config).await.unwrap();
        let upf = sim.local_addr().unwrap();
        let (stop, shutdown) = watch::channel(false);
        let task = tokio::spawn(sim.run(shutdown));
        Self {
            upf,
            gnb,
            control,
            stop,
            task,
        }
    }

    async fn recv(&self) -> Vec<u8> {
        let mut buf = vec![0u8; 2048];
        let (n, from) = tokio::time::timeout(WAIT, self.gnb.recv_from(&mut buf))
            .await
            .expect("an answer within the bound")
            .unwrap();
        assert_eq!(from, self.upf);
        buf.truncate(n);
        buf
    }

    async fn stop(self) -> UpfCounters {
        self.stop.send(true).unwrap();
        let counters = self.task.await.unwrap();
        assert!(!self.control.exists(), "control socket removed on exit");
        counters
    }
}

fn rule_json(ul: u32, ue: Ipv4Addr, peer: SocketAddr) -> String {
    format!(
        r#"{{"ul_teid": {ul}, "ue_address": "{ue}", "peer": "{peer}", "dl_teid": {}, "qfi": 5, "rqi": true}}"#,
        0x2000 + ul
    )
}

fn config() -> UpfConfig {
    UpfConfig {
        echo_interval: Duration::ZERO,
        error_indication_to_source_port: true,
        ..UpfConfig::default()
    }
}

fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![
        0x45, 0, 0, 32, 0, 1, 0x40, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        8, 0, 0, 0, 0x12, 0x34, 0, 1, 1, 2, 3, 4,
    ];
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let c = internet_checksum(&p[20..]);
    p[22..24].copy_from_slice(&c.to_be_bytes());
    let c = internet_checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p
}

fn gpdu(teid: u32, qfi: u8, inner: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32 + inner.len()];
    let session = PduSessionInfo::uplink(Qfi::new(qfi).unwrap());
    let n = write_gpdu_header(&mut out, Teid(teid), Some(session), inner.len()).unwrap();
    out.truncate(n);
    out.extend_from_slice(inner);
    out
}

#[tokio::test]
async fn icmp_echo_through_the_tunnel_comes_back_as_a_dl_gpdu() {
    let sim = Running::start("reflect", config(), true).await;
    sim.gnb
        .send_to(&gpdu(1, 9, &ping(UE, DN)), sim.upf)
        .await
        .unwrap();
    let reply = sim.recv().await;
    let Ok(GtpuMessage::GPdu {
        teid,
        pdu_session,
        payload,
    }) = GtpuMessage::parse(&reply)
    else {
        panic!("not a G-PDU: {reply:02x?}");
    };
    assert_eq!(teid, Teid(0x2001));
    assert_eq!(
        pdu_session,
        Some(PduSessionInfo::downlink(Qfi::new(5).unwrap(), true))
    );
    assert_eq!(payload[12..16], DN.octets(), "reply from the data network");
    assert_eq!(payload[16..20], UE.octets(), "to the UE");
    assert_eq!(payload[20], 0, "ICMP echo reply");
    assert_eq!(internet_checksum(&payload[..20]), 0);
    assert_eq!(internet_checksum(&payload[20..]), 0);
    let counters = sim.stop().await;
    assert_eq!(counters.ul_qfi(Qfi::new(9).unwrap()), 1);
    assert_eq!(counters.dl_qfi(Qfi::new(5).unwrap()), 1);
}

#[tokio::test]
async fn unknown_teid_gets_an_error_indication_and_echo_is_answered() {
    let sim = Running::start("errors", config(), true).await;
    sim.gnb
        .send_to(&gpdu(0x77, 1, &ping(UE, DN)), sim.upf)
        .await
        .unwrap();
    let Ok(GtpuMessage::ErrorIndication(ind)) = GtpuMessage::parse(&sim.recv().await) else {
        panic!("not an Error Indication");
    };
    assert_eq!(ind.teid_data, Teid(0x77));
    assert_eq!(ind.peer_address, sim.upf.ip());
    assert_eq!(ind.udp_port, Some(sim.gnb.local_addr().unwrap().port()));

    let mut req = [0u8; 16];
    let n = write_echo_request(&mut req, 0x4242).unwrap();
    sim.gnb.send_to(&req[..n], sim.upf).await.unwrap();
    assert_eq!(
        GtpuMessage::parse(&sim.recv().await),
        Ok(GtpuMessage::EchoResponse {
            sequence_number: 0x4242,
            recovery: 0
        })
    );
    let counters = sim.stop().await;
    assert_eq!(
        (counters.unknown_teid, counters.echo_requests_received),
        (1, 1)
    );
}

#[tokio::test]
async fn echo_requests_go_to_peers_with_rules() {
    let upf = UpfConfig {
        echo_interval: Duration::from_millis(50),
        ..config()
    };
    let sim = Running::start("echo", upf, true).await;
    let Ok(GtpuMessage::EchoRequest { .. }) = GtpuMessage::parse(&sim.recv().await) else {
        panic!("not an Echo Request");
    };
    let counters = sim.stop().await;
    assert!(counters.echo_requests_sent >= 1);
}

async fn command(lines: &mut BufReader<UnixStream>, line: &str) -> Value {
    lines
        .get_mut()
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, lines.read_line(&mut answer))
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{answer:?}: {e}"))
}

#[tokio::test]
async fn control_socket_adds_removes_reports_and_bounds_rules() {
    let upf = UpfConfig {
        max_rules: 2,
        ..config()
    };
    let sim = Running::start("control", upf, false).await;
    let gnb = sim.gnb.local_addr().unwrap();
    let stream = UnixStream::connect(&sim.control).await.unwrap();
    let mut c = BufReader::new(stream);
    let add = |ul: u32, ue: Ipv4Addr| format!(r#"{{"add": {}}}"#, rule_json(ul, ue, gnb));
    assert_eq!(command(&mut c, &add(1, UE)).await["ok"], true);

    // The rule works at once.
    sim.gnb
        .send_to(&gpdu(1, 9, &ping(UE, DN)), sim.upf)
        .await
        .unwrap();
    assert!(matches!(
        GtpuMessage::parse(&sim.recv().await),
        Ok(GtpuMessage::GPdu { .. })
    ));

    assert_eq!(
        command(&mut c, &add(2, Ipv4Addr::new(10, 60, 0, 2))).await["ok"],
        true
    );
    let full = command(&mut c, &add(3, Ipv4Addr::new(10, 60, 0, 3))).await;
    assert!(full["error"].as_str().unwrap().contains("full"), "{full}");
    let duplicate = command(&mut c, &add(4, UE)).await;
    assert!(
        duplicate["error"].as_str().unwrap().contains("UE address"),
        "{duplicate}"
    );

    let stats = command(&mut c, r#"{"stats": true}"#).await;
    assert_eq!(stats["rules"], 2);
    assert_eq!(stats["stats"]["ul_packets"], 1);
    assert_eq!(stats["stats"]["ul_per_qfi"]["9"], 1);
    assert_eq!(stats["stats"]["rules_refused"], 1);

    assert_eq!(
        command(&mut c, r#"{"remove": {"ul_teid": 1}}"#).await["ok"],
        true
    );
    assert!(command(&mut c, r#"{"remove": {"ul_teid": 1}}"#).await["error"].is_string());
    assert!(command(&mut c, "nonsense").await["error"].is_string());
    assert_eq!(command(&mut c, r#"{"stats": true}"#).await["rules"], 1);

    // After its rule is gone, TEID 1 is unknown.
    sim.gnb
        .send_to(&gpdu(1, 9, &ping(UE, DN)), sim.upf)
        .await
        .unwrap();
    assert!(matches!(
        GtpuMessage::parse(&sim.recv().await),
        Ok(GtpuMessage::ErrorIndication(_))
    ));

    // A line past the bound gets an error and the connection ends.
    let long = format!(r#"{{"stats": true, "pad": "{}"}}"#, "x".repeat(MAX_LINE));
    let answer = command(&mut c, &long).await;
    assert!(
        answer["error"].as_str().unwrap().contains("longer"),
        "{answer}"
    );
    let mut rest = String::new();
    let n = tokio::time::timeout(WAIT, c.read_line(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 0, "connection closed");
    sim.stop().await;
}
