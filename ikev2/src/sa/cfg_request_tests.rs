//! A CP(CFG_REQUEST) in the last IKE_AUTH request of EAP (RFC 7296 §2.16 allows it there as
//! well as in the first): our initiator puts it in the first, so this test moves it, which
//! needs the engine's internals (the responder's keys to open the request, the initiator's to
//! seal the rewritten one).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use ipsec_crypto::SecretBytes;

use super::config_payload::{cfg_request_ip4, has_cfg_request};
use super::tests::{PSK, Sink};
use crate::auth_reply::{ConfigReply, FinalAuthReply};
use crate::config::{AuthConfig, ConnectionConfig, EndpointConfig};
use crate::endpoint::Endpoint;
use crate::event::{Event, SaId};
use crate::sa::EapStep;
use crate::wire::{ExchangeType, Message, Payload, parse_payloads};

const INNER: Ipv4Addr = Ipv4Addr::new(10, 1, 0, 9);

/// The PSK connection of the other engine tests, with EAP for the initiator.
fn conn(side: &str) -> Arc<ConnectionConfig> {
    let mut c = super::tests::conn(side);
    c.auth = AuthConfig::Eap(Box::new(AuthConfig::Psk(SecretBytes::from_slice(PSK))));
    Arc::new(c)
}

struct Run {
    now: Instant,
    i: Endpoint,
    r: Endpoint,
    i_addr: SocketAddr,
    r_addr: SocketAddr,
    i_sa: SaId,
    i_events: Vec<Event>,
    rewritten: usize,
}

impl Run {
    fn new() -> Self {
        let r_cfg = EndpointConfig {
            connections: vec![conn("responder")],
            ..EndpointConfig::default()
        };
        let now = Instant::now();
        let (i_addr, r_addr) = ("192.0.2.1:500".parse(), "192.0.2.2:500".parse());
        let (i_addr, r_addr) = (i_addr.expect("addr"), r_addr.expect("addr"));
        let mut i = Endpoint::new(EndpointConfig::default(), super::tests::provider());
        let i_sa = i
            .connect(now, conn("initiator"), i_addr, r_addr)
            .expect("connect");
        Self {
            now,
            i,
            r: Endpoint::new(r_cfg, super::tests::provider()),
            i_addr,
            r_addr,
            i_sa,
            i_events: Vec::new(),
            rewritten: 0,
        }
    }

    /// Delivers and answers everything, bounded; the initiator's IKE_AUTH requests with AUTH
    /// (the last one of EAP) get a CP(CFG_REQUEST).
    fn run(&mut self) {
        for _ in 0..50 {
            let mut moved = false;
            while let Some(t) = self.i.poll_transmit() {
                let data = self.with_cfg_request_in_auth(t.data);
                self.r
                    .handle_datagram(self.now, self.r_addr, self.i_addr, &data);
                moved = true;
            }
            while let Some(t) = self.r.poll_transmit() {
                self.i
                    .handle_datagram(self.now, self.i_addr, self.r_addr, &t.data);
                moved = true;
            }
            moved |= self.answer_eap();
            if !moved {
                return;
            }
        }
    }

    /// A scripted EAP method without MSK: one Identity round, then Success.
    fn answer_eap(&mut self) -> bool {
        let mut any = false;
        while let Some(e) = self.r.poll_event() {
            let step = match e {
                Event::EapStarted { .. } => EapStep::Message(vec![1, 1, 0, 5, 1]),
                Event::EapMessage { .. } => EapStep::Success {
                    msk: None,
                    reply: reply(),
                },
                _ => continue,
            };
            let sa = self.r.sas()[0].id;
            self.r.eap_respond(self.now, sa, step).expect("EAP running");
            any = true;
        }
        while let Some(e) = self.i.poll_event() {
            if let Event::EapMessage { sa, message } = &e {
                let step = match message[0] {
                    1 => EapStep::Message(vec![2, message[1], 0, 5, 1]),
                    _ => EapStep::Success {
                        msk: None,
                        reply: FinalAuthReply::default(),
                    },
                };
                self.i
                    .eap_respond(self.now, *sa, step)
                    .expect("EAP running");
                any = true;
            }
            self.i_events.push(e);
        }
        any
    }

    /// Opens an initiator's request with the responder's keys; if it is an IKE_AUTH with AUTH,
    /// has the initiator seal it again, under the same Message ID, with a CP(CFG_REQUEST).
    fn with_cfg_request_in_auth(&mut self, data: Vec<u8>) -> Vec<u8> {
        let msg = Message::parse(&data).expect("parses");
        let Some(Payload::Sk(sk)) = msg.payloads.last() else {
            return data;
        };
        if msg.header.exchange != ExchangeType::IKE_AUTH {
            return data;
        }
        let r_id = self.r.sas()[0].id;
        let r_sa = self.r.sa_mut(r_id).expect("responder SA");
        let prot = r_sa.prot_in.as_ref().expect("keys");
        let plain = prot.open(&data, sk.body.len()).expect("opens");
        let mut payloads = parse_payloads(sk.first_inner, &plain).expect("inner payloads");
        if has_cfg_request(&payloads) {
            panic!("the initiator was not asked for a CFG_REQUEST");
        }
        if !payloads.iter().any(|p| matches!(p, Payload::Auth(_))) {
            return data;
        }
        payloads.push(cfg_request_ip4());
        let mut sink = Sink::default();
        let i_sa = self.i.sa_mut(self.i_sa).expect("initiator SA");
        i_sa.window.next_id = msg.header.message_id;
        i_sa.window.pending = None;
        let mut ctx = sink.ctx();
        i_sa.send_request(self.now, ExchangeType::IKE_AUTH, &payloads, &mut ctx)
            .expect("sealed");
        self.rewritten += 1;
        sink.transmits.pop_front().expect("request").data
    }
}

fn reply() -> FinalAuthReply {
    FinalAuthReply {
        config: Some(ConfigReply {
            internal_ip4: Some(INNER),
            internal_netmask: None,
        }),
        notifies: Vec::new(),
        narrow_remote_ts: Some(INNER),
    }
}

#[test]
fn a_cfg_request_in_the_last_ike_auth_request_is_answered() {
    let mut run = Run::new();
    run.run();
    assert_eq!(run.rewritten, 1, "the last request carried the CFG_REQUEST");
    let config = run.i_events.iter().find_map(|e| match e {
        Event::AuthReply { config, .. } => Some(*config),
        _ => None,
    });
    let expected = ConfigReply {
        internal_ip4: Some(INNER),
        internal_netmask: None,
    };
    assert_eq!(config, Some(Some(expected)), "{:?}", run.i_events);
    assert!(
        run.i_events
            .iter()
            .any(|e| matches!(e, Event::ChildSaEstablished { .. }))
    );
}
