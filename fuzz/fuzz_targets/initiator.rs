//! An initiator fed the answers to its own requests: it must never panic, and whatever it sends
//! must parse.
//!
//! Input: one mode byte, then
//! - even mode: datagrams, each preceded by a 2-octet length, delivered as responses; the first
//!   8 octets of each are replaced by the initiator's SPI so that they reach its IKE SA;
//! - odd mode: a real responder answers, and the datagrams between the two are changed on the
//!   way by the input's 4-octet edits (datagram index, 2-octet offset, XOR mask); offset
//!   0xffff drops the datagram and 0xfffe delivers it twice. Small IKE fragments make the
//!   IKE_INTERMEDIATE and IKE_AUTH messages go in several, so reassembly sees losses and
//!   duplicates.
#![no_main]

use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{ChildRequest, ChildTag, ConnectionConfig, Endpoint, StatusNotify};
use ikev2_fuzz::engine::{connection, drain, endpoint_config, length_prefixed};
use libfuzzer_sys::fuzz_target;

const INITIATOR: ([u8; 4], u16) = ([192, 0, 2, 1], 500);
const RESPONDER: ([u8; 4], u16) = ([192, 0, 2, 2], 500);
const DROP: usize = 0xffff;
const DUPLICATE: usize = 0xfffe;
/// IKE fragment size (octets of IKE message) of the relayed exchange.
const FRAGMENT_SIZE: usize = 400;
/// Bounds the relay: the IKE SA (4 round trips), a Child SA each way (the responder's with
/// status notifies, as an N3IWF's), an IKE SA rekey and a delete.
const MAX_ROUNDS: usize = 12;
/// Forged responses per input.
const MAX_DATAGRAMS: usize = 16;

fn endpoint(id: &str, fragment_size: Option<usize>) -> (Endpoint, Arc<ConnectionConfig>) {
    let mut conn = connection(id);
    if fragment_size.is_some() {
        conn.fragment_size = fragment_size;
    }
    let conn = Arc::new(conn);
    (
        Endpoint::new(
            endpoint_config(conn.clone()),
            ipsec_crypto::default_provider(),
        ),
        conn,
    )
}

/// Even mode: forged responses carrying the initiator's SPI.
fn forged(data: &[u8]) {
    let (mut ini, conn) = endpoint("initiator.example", None);
    let mut now = Instant::now();
    ini.connect(now, conn, INITIATOR.into(), RESPONDER.into())
        .expect("initiate");
    let request = drain(&mut ini);
    let spi_i = &request.first().expect("IKE_SA_INIT request")[..8];
    for d in length_prefixed(data, MAX_DATAGRAMS) {
        let mut d = d.to_vec();
        let n = d.len().min(8);
        d[..n].copy_from_slice(&spi_i[..n]);
        ini.handle_datagram(now, INITIATOR.into(), RESPONDER.into(), &d);
        now += Duration::from_millis(700);
        ini.handle_timeout(now);
        drain(&mut ini);
    }
    ini.handle_timeout(now + Duration::from_secs(300));
}

/// Odd mode: a real exchange whose datagrams are edited on the way.
fn relayed(data: &[u8]) {
    let edits: Vec<(usize, usize, u8)> = data
        .chunks_exact(4)
        .map(|e| {
            (
                usize::from(e[0]),
                usize::from(u16::from_be_bytes([e[1], e[2]])),
                e[3],
            )
        })
        .collect();
    let (mut ini, conn) = endpoint("initiator.example", Some(FRAGMENT_SIZE));
    let (mut resp, resp_conn) = endpoint("responder.example", Some(FRAGMENT_SIZE));
    let mut now = Instant::now();
    let sa = ini
        .connect(now, conn, INITIATOR.into(), RESPONDER.into())
        .expect("initiate");
    let mut index = 0;
    let mut edit = |mut d: Vec<u8>| {
        let mut copies = 1;
        for &(_, offset, mask) in edits.iter().filter(|e| e.0 == index) {
            match offset {
                DROP => copies = 0,
                DUPLICATE => copies = 2,
                _ => {
                    if let Some(b) = d.get_mut(offset) {
                        *b ^= mask;
                    }
                }
            }
        }
        index += 1;
        vec![d; copies]
    };
    for round in 0..MAX_ROUNDS {
        // Once the IKE SA is up (4 round trips), the initiator's other requests.
        match round {
            5 => _ = ini.create_child(now, sa, "any"),
            6 => {
                if let Some(theirs) = resp.sas().first().map(|s| s.id) {
                    _ = resp.create_child_with(now, theirs, n3iwf_style(&resp_conn));
                }
            }
            7 => _ = ini.rekey_ike(now, sa),
            10 => _ = ini.close(now, sa),
            _ => {}
        }
        let requests = drain(&mut ini);
        for d in requests.into_iter().flat_map(&mut edit) {
            resp.handle_datagram(now, RESPONDER.into(), INITIATOR.into(), &d);
        }
        let responses = drain(&mut resp);
        if responses.is_empty() {
            now += Duration::from_millis(1100);
            ini.handle_timeout(now);
            resp.handle_timeout(now);
        }
        for d in responses.into_iter().flat_map(&mut edit) {
            ini.handle_datagram(now, INITIATOR.into(), RESPONDER.into(), &d);
        }
    }
    ini.handle_timeout(now + Duration::from_secs(300));
    drain(&mut ini);
}

/// A user-plane Child SA as an N3IWF asks for it: the template's selectors, 5G_QOS_INFO and
/// UP_IP4_ADDRESS.
fn n3iwf_style(conn: &ConnectionConfig) -> ChildRequest {
    let template = &conn.children[0];
    ChildRequest {
        template: template.name.clone(),
        local_ts: template.local_ts.clone(),
        remote_ts: template.remote_ts.clone(),
        notifies: vec![
            StatusNotify {
                notify_type: 55501,
                data: vec![4, 1, 1, 9, 2],
            },
            StatusNotify {
                notify_type: 55504,
                data: vec![10, 0, 0, 1],
            },
        ],
        tag: ChildTag(1),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        forged(rest);
    } else {
        relayed(rest);
    }
});
