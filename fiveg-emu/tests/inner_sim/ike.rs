//! The signalling Child SA negotiated for real: a UE-side and an N3IWF-side IKEv2 engine in
//! memory (PSK authentication stands in for EAP-5G, which changes nothing in the Child SA).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use ikev2::wire::IpSelector;
use ikev2::{
    ChildConfig, ChildSa, ConnectionConfig, Endpoint, EndpointConfig, Event, Identity, ProposalSpec,
};

use super::{NAS_IP, UE_INNER, ip};

const PSK: &[u8] = b"inner stack tests, not a real secret";

/// The Child SAs each engine hands to its datapath: (UE, N3IWF).
pub fn negotiate(esp_proposal: &str, force_encap: bool) -> (ChildSa, ChildSa) {
    let provider = ipsec_crypto::default_provider();
    let ue_conn = Arc::new(connection(
        "ue",
        UE_INNER,
        NAS_IP,
        esp_proposal,
        force_encap,
    ));
    let n3iwf_conn = connection("n3iwf", NAS_IP, UE_INNER, esp_proposal, force_encap);
    let mut ue = Endpoint::new(EndpointConfig::default(), provider);
    let mut n3iwf = Endpoint::new(
        EndpointConfig {
            connections: vec![Arc::new(n3iwf_conn)],
            ..EndpointConfig::default()
        },
        provider,
    );
    let ue_addr: SocketAddr = "192.0.2.10:500".parse().unwrap();
    let n3iwf_addr: SocketAddr = "192.0.2.1:500".parse().unwrap();
    let now = Instant::now();
    ue.connect(now, ue_conn, ue_addr, n3iwf_addr).unwrap();
    let (mut ue_child, mut n3iwf_child) = (None, None);
    for _ in 0..100 {
        while let Some(t) = ue.poll_transmit() {
            n3iwf.handle_datagram(now, t.remote, t.local, &t.data);
        }
        while let Some(t) = n3iwf.poll_transmit() {
            ue.handle_datagram(now, t.remote, t.local, &t.data);
        }
        take_child(&mut ue, &mut ue_child);
        take_child(&mut n3iwf, &mut n3iwf_child);
        if ue_child.is_some() && n3iwf_child.is_some() {
            break;
        }
    }
    (
        ue_child.expect("UE Child SA"),
        n3iwf_child.expect("N3IWF Child SA"),
    )
}

fn take_child(endpoint: &mut Endpoint, slot: &mut Option<ChildSa>) {
    while let Some(event) = endpoint.poll_event() {
        if let Event::ChildSaEstablished { child, .. } = event {
            *slot = Some(child);
        }
    }
}

fn connection(
    side: &str,
    local: &str,
    remote: &str,
    esp: &str,
    force_encap: bool,
) -> ConnectionConfig {
    let mut c = ConnectionConfig::new(
        "signalling",
        Identity::fqdn(&format!("{side}.example")),
        PSK,
        vec![ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519").unwrap()],
    );
    c.force_encap = force_encap;
    c.children.push(ChildConfig::new(
        "nas",
        vec![ProposalSpec::parse_esp(esp).unwrap()],
        vec![host(local)],
        vec![host(remote)],
    ));
    c
}

/// One address, any protocol and port.
fn host(addr: &str) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 65535,
        start_addr: ip(addr),
        end_addr: ip(addr),
    }
}
