//! The UPF emulator with N6 on a TUN device (root): an ICMP echo request sent through the
//! tunnel reaches the kernel behind the device, and the kernel's echo reply comes back as a
//! downlink G-PDU. Without root (no TUN) the test prints "SKIPPED" and passes, unless
//! UPF_REQUIRE_TUN=1 (section 10 sets it when it runs as root).

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use fiveg_emu::upf::UpfConfig;
use fiveg_emu::upf_sim::{N6Mode, RuleSpec, UpfSim, UpfSimConfig};
use tokio::net::UdpSocket;
use tokio::sync::watch;
use userplane::{GtpuMessage, PduSessionInfo, Qfi, Teid, internet_checksum, write_gpdu_header};

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn kernel_behind_the_tun_device_answers_a_ping_through_the_tunnel() {
    let pid = std::process::id();
    // Unique per process: other tests and developers may run side by side.
    let device = format!("upft{}", pid % 100_000);
    let subnet = u8::try_from(pid % 250).unwrap();
    let ue = Ipv4Addr::new(10, 213, subnet, 1);
    let dn = Ipv4Addr::new(10, 213, subnet, 254);

    let gnb = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rule = format!(
        r#"{{"ul_teid": 1, "ue_address": "{ue}", "peer": "{}", "dl_teid": 9, "qfi": 3}}"#,
        gnb.local_addr().unwrap()
    );
    let config = UpfSimConfig {
        n3: "127.0.0.1:0".parse().unwrap(),
        n6: N6Mode::Tun(device.clone()),
        control: None,
        rules: vec![RuleSpec::parse(&rule).unwrap()],
        upf: UpfConfig {
            echo_interval: Duration::ZERO,
            ..UpfConfig::default()
        },
    };
    let sim = match UpfSim::bind(config).await {
        Ok(sim) => sim,
        Err(e) => {
            assert!(
                std::env::var("UPF_REQUIRE_TUN").as_deref() != Ok("1"),
                "UPF_REQUIRE_TUN=1 but the TUN device cannot be opened: {e}"
            );
            eprintln!("==== SKIPPED: no TUN device ({e}); run as root for the N6 TUN test ====");
            return;
        }
    };
    let status = Command::new("ip")
        .args(["addr", "add", &format!("{dn}/24"), "dev", &device])
        .status()
        .unwrap();
    assert!(status.success(), "ip addr add on {device}");
    let upf = sim.local_addr().unwrap();
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(sim.run(shutdown));

    gnb.send_to(&gpdu(&ping(ue, dn)), upf).await.unwrap();
    let mut buf = vec![0u8; 2048];
    let (n, _) = tokio::time::timeout(WAIT, gnb.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let Ok(GtpuMessage::GPdu {
        teid,
        pdu_session,
        payload,
    }) = GtpuMessage::parse(&buf[..n])
    else {
        panic!("not a G-PDU");
    };
    assert_eq!(teid, Teid(9));
    assert_eq!(pdu_session.map(|s| s.qfi()), Some(Qfi::new(3).unwrap()));
    assert_eq!(payload[12..16], dn.octets(), "the kernel answered");
    assert_eq!(payload[16..20], ue.octets());
    assert_eq!(payload[20], 0, "ICMP echo reply");
    assert_eq!(
        payload[24..],
        ping(ue, dn)[24..],
        "identifier, sequence and data"
    );

    stop.send(true).unwrap();
    let counters = task.await.unwrap();
    assert_eq!((counters.ul_packets, counters.dl_packets), (1, 1));
}

fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    let mut p = vec![
        0x45, 0, 0, 36, 0, 1, 0x40, 0, 64, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        8, 0, 0, 0, 0x51, 0x23, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8,
    ];
    p[12..16].copy_from_slice(&src.octets());
    p[16..20].copy_from_slice(&dst.octets());
    let c = internet_checksum(&p[20..]);
    p[22..24].copy_from_slice(&c.to_be_bytes());
    let c = internet_checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p
}

fn gpdu(inner: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 32 + inner.len()];
    let session = PduSessionInfo::uplink(Qfi::new(3).unwrap());
    let n = write_gpdu_header(&mut out, Teid(1), Some(session), inner.len()).unwrap();
    out.truncate(n);
    out.extend_from_slice(inner);
    out
}
