//! The UE emulator's PDU session user plane without sockets: GRE with the QFI inside an outer
//! IPv4 packet to the N3IWF's UP address, on an ESP link; pings answered by the UPF
//! emulator's reflector and a byte-checked TCP transfer to an echo server behind a second
//! stack, both through a stand-in N3IWF that opens and re-seals each packet independently.

#![allow(clippy::unwrap_used)]

mod inner_sim;

use std::net::{IpAddr, Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use fiveg_emu::inner::gre::{self, GreKey, ProtocolType, Qfi};
use fiveg_emu::inner::{ConnId, EspLink, InnerStack, Received, StackConfig, StackEvent};
use fiveg_emu::ue_sim::traffic::{Traffic, TrafficPlan};
use fiveg_emu::ue_sim::user_plane::{UpSetup, UserPlane};
use fiveg_emu::upf::reflect;
use inner_sim::{NAS_IP, UE_INNER, crafted_links, ipv4};

const PDU: Ipv4Addr = Ipv4Addr::new(10, 60, 0, 7);
const DN_HOST: Ipv4Addr = Ipv4Addr::new(10, 61, 0, 1);
const ECHO_PORT: u16 = 7000;
const QFI: u8 = 5;

/// The N3IWF and the data network: opens the UE's GRE, answers pings with the reflector and
/// TCP with an echo stack, and sends replies back in GRE with `QFI`.
struct Network {
    link: EspLink,
    dn: InnerStack,
    echo: Option<ConnId>,
    uplink_qfis: Vec<u8>,
    echoed: Vec<u8>,
    queue: Vec<Vec<u8>>,
}

impl Network {
    fn new(link: EspLink, now: Instant) -> Self {
        let mut dn = InnerStack::new(StackConfig::new(IpAddr::V4(DN_HOST)), now);
        dn.listen(ECHO_PORT).unwrap();
        Self {
            link,
            dn,
            echo: None,
            uplink_qfis: Vec::new(),
            echoed: Vec::new(),
            queue: Vec::new(),
        }
    }

    fn uplink(&mut self, mut datagram: Vec<u8>) {
        let Ok(Received::Inner(inner)) = self.link.receive(&mut datagram) else {
            panic!("the UE's ESP did not open");
        };
        assert_eq!(inner[9], 47, "GRE inside the user-plane SA");
        assert_eq!(
            &inner[12..20],
            &[10, 0, 0, 2, 10, 0, 0, 1],
            "inner → UP address"
        );
        let (key, user) = gre::decapsulate(&inner[20..]).unwrap();
        self.uplink_qfis.push(key.qfi.value());
        let mut reply = [0u8; 2048];
        match reflect(user, &mut reply) {
            Some(n) => {
                let sealed = self.downlink_packet(&reply[..n]);
                self.queue.push(sealed);
            }
            None => self.dn.push_inbound(user).unwrap(),
        }
    }

    fn downlink_packet(&mut self, user: &[u8]) -> Vec<u8> {
        let key = GreKey {
            qfi: Qfi::new(QFI).unwrap(),
            rqi: false,
        };
        let mut g = Vec::new();
        gre::encapsulate(key, ProtocolType::Zero, user, &mut g);
        let outer = ipv4(NAS_IP, UE_INNER, 47, &g);
        let mut sealed = Vec::new();
        self.link.send(&outer, &mut sealed).unwrap();
        sealed
    }

    /// The echo server's work and what it sends.
    fn poll(&mut self, now: Instant) -> Vec<Vec<u8>> {
        self.dn.poll(now);
        while let Some(e) = self.dn.poll_event() {
            if let StackEvent::Accepted { conn, .. } = e {
                self.echo = Some(conn);
            }
        }
        if let Some(conn) = self.echo {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = self.dn.recv(conn, &mut buf) {
                self.echoed.extend_from_slice(&buf[..n]);
            }
            if !self.echoed.is_empty() {
                let sent = self.dn.send(conn, &self.echoed).unwrap();
                self.echoed.drain(..sent);
            }
        }
        self.dn.poll(now);
        let mut out = std::mem::take(&mut self.queue);
        while let Some(p) = self.dn.poll_transmit() {
            out.push(self.downlink_packet(&p));
        }
        out
    }
}

fn user_plane(now: Instant) -> (UserPlane, Network) {
    let (ue, n3iwf) = crafted_links(true);
    let setup = UpSetup {
        inner: UE_INNER.parse().unwrap(),
        n3iwf: NAS_IP.parse().unwrap(),
        pdu_address: PDU,
        qfi: Qfi::new(1).unwrap(),
        protocol: ProtocolType::EtherType,
    };
    let config = StackConfig::new(IpAddr::V4(PDU));
    (
        UserPlane::new(ue, setup, config, now),
        Network::new(n3iwf, now),
    )
}

/// Runs the traffic on a simulated clock, 1 ms a step, for at most `steps`.
fn drive(up: &mut UserPlane, net: &mut Network, traffic: &mut Traffic, steps: usize) {
    let mut now = Instant::now();
    for _ in 0..steps {
        traffic.step(up, now);
        if traffic.is_done() {
            return;
        }
        for d in up.poll_transmit(now) {
            net.uplink(d);
        }
        for mut d in net.poll(now) {
            up.receive(&mut d, now);
        }
        now += Duration::from_millis(1);
    }
}

#[test]
fn pings_and_a_tcp_echo_cross_gre_on_the_user_plane_sa() {
    let now = Instant::now();
    let (mut up, mut net) = user_plane(now);
    let plan = TrafficPlan {
        ping: Some((DN_HOST, 4, Duration::from_millis(3))),
        echo: Some((SocketAddrV4::new(DN_HOST, ECHO_PORT), 100_000)),
    };
    let mut traffic = Traffic::new(plan, now);
    drive(&mut up, &mut net, &mut traffic, 20_000);
    let report = traffic.report();
    assert!(traffic.is_done(), "{report:?}");
    assert_eq!(
        (report.ping_sent, report.ping_received),
        (4, 4),
        "{report:?}"
    );
    assert_eq!(report.rtt_ms.len(), 4);
    assert_eq!(report.tcp_bytes_echoed, 100_000);
    assert_eq!(report.tcp_intact, Some(true), "{report:?}");
    assert!(net.uplink_qfis.iter().all(|&q| q == 1), "uplink QFI");
    let counters = up.counters();
    assert_eq!(counters.last_downlink_qfi, Some(QFI));
    assert_eq!(counters.gre_dropped + counters.esp_dropped, 0);
}
