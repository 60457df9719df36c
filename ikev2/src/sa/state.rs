//! Where an IKE SA is, with the data only that stage has (one type per stage, moved on each
//! transition). The initial exchanges carry a [`Handshake`]; once the SA is established it is
//! dropped, so nothing of it can be used later by mistake.

use std::time::Instant;

use ipsec_crypto::ActiveKeyExchange;

use super::auth::AuthSent;
use super::dispatch::Inner;
use super::eap::EapServer;
use super::intermediate::IntermediateSent;
use super::{Ctx, IkeSa};
use crate::config::Identity;
use crate::event::{Event, IkeSaInfo};
use crate::keys::IntAuthChain;
use crate::wire::{Header, Payload, PayloadType};

/// Where the IKE SA is.
pub(crate) enum State {
    /// The initial exchanges (RFC 7296 §1.2, RFC 9242): what they need, and the step.
    Handshake(Box<Handshake>, Step),
    Established,
    /// Failed or closed; the endpoint removes the SA.
    Dead,
}

/// What the initial exchanges keep until the IKE SA is established: the inputs of AUTH and of
/// the first Child SA's KEYMAT (RFC 7296 §2.15, §2.17) and the RFC 9242 IntAuth chain.
pub(crate) struct Handshake {
    pub(crate) ni: Vec<u8>,
    pub(crate) nr: Vec<u8>,
    /// RealMessage1 and RealMessage2 of RFC 7296 §2.15.
    pub(crate) msg1: Vec<u8>,
    pub(crate) msg2: Vec<u8>,
    pub(crate) int_auth: IntAuthChain,
    /// IKE_INTERMEDIATE exchanges done.
    pub(crate) intermediate_count: u8,
    /// Responder: when the half-open SA is given up.
    pub(crate) half_open_deadline: Option<Instant>,
}

impl Handshake {
    pub(crate) fn new(ni: Vec<u8>) -> Self {
        Self {
            ni,
            nr: Vec::new(),
            msg1: Vec::new(),
            msg2: Vec::new(),
            int_auth: IntAuthChain::new(),
            intermediate_count: 0,
            half_open_deadline: None,
        }
    }
}

/// The step of the initial exchanges.
pub(crate) enum Step {
    /// Initiator: IKE_SA_INIT sent.
    InitSent(InitSent),
    /// Initiator: IKE_INTERMEDIATE sent.
    IntermediateSent(IntermediateSent),
    /// Initiator: the next IKE_INTERMEDIATE or IKE_AUTH waits for the PPK from its source.
    AwaitPpk,
    /// Initiator: IKE_AUTH sent (with EAP, also between its exchanges).
    AuthSent(AuthSent),
    /// Responder: waiting for the IKE_INTERMEDIATE of additional exchange `index`, or for the
    /// PPK of the one parked.
    AwaitIntermediate {
        index: usize,
        parked: Option<ParkedIntermediate>,
    },
    /// Responder: waiting for IKE_AUTH, or working on it.
    AwaitAuth(AuthWait),
}

/// Initiator: our IKE_SA_INIT request is out.
pub(crate) struct InitSent {
    pub(crate) ke: Box<dyn ActiveKeyExchange>,
    pub(crate) cookie: Option<Vec<u8>>,
    pub(crate) ke_retries: u8,
}

/// Responder: an IKE_INTERMEDIATE request waiting for an external PPK (RFC 9867), as received:
/// header, first inner payload type and plaintext (for IntAuth).
pub(crate) struct ParkedIntermediate {
    pub(crate) header: Header,
    pub(crate) first: PayloadType,
    pub(crate) plain: Vec<u8>,
}

impl From<Inner<'_>> for ParkedIntermediate {
    fn from(inner: Inner<'_>) -> Self {
        Self {
            header: inner.header.clone(),
            first: inner.first,
            plain: inner.plain.to_vec(),
        }
    }
}

/// Responder: what IKE_AUTH waits for (an application that holds IKE_AUTH while it asks
/// elsewhere, as an N3IWF asks the AMF, would add its own variant).
pub(crate) enum AuthWait {
    /// The initiator's IKE_AUTH request.
    Request,
    /// That request, received, waits for an external PPK (RFC 8784).
    Parked(Vec<Payload>),
    /// EAP authentication of the initiator (RFC 7296 §2.16).
    Eap(Box<EapServer>),
}

impl IkeSa {
    /// The handshake data, while the SA is in its initial exchanges (and not taken out by a
    /// handler).
    pub(crate) fn handshake(&self) -> Option<&Handshake> {
        match &self.state {
            State::Handshake(hs, _) => Some(hs),
            _ => None,
        }
    }

    /// Whether a request is parked for its PPK: later requests wait (window size 1).
    pub(super) fn holds_parked_request(&self) -> bool {
        let parked_handshake = matches!(
            &self.state,
            State::Handshake(
                _,
                Step::AwaitIntermediate {
                    parked: Some(_),
                    ..
                }
            ) | State::Handshake(_, Step::AwaitAuth(AuthWait::Parked(_)))
        );
        parked_handshake || self.parked_cc.is_some()
    }

    /// Responder: when the half-open SA is given up, while it is half-open.
    pub(super) fn half_open_deadline(&self) -> Option<Instant> {
        self.handshake().and_then(|hs| hs.half_open_deadline)
    }

    /// The initial exchanges are done: the SA is up (`hs` goes with the caller).
    pub(super) fn established(&mut self, now: Instant, hs: &Handshake, ctx: &mut Ctx<'_>) {
        self.state = State::Established;
        self.arm_timers(now, ctx);
        if self.nat_local {
            self.timers.keepalive = Some(now + self.conn.nat_keepalive);
        }
        ctx.stats.ike_sas_established += 1;
        let (local_spi, remote_spi) = if self.initiator {
            (self.spi_i, self.spi_r)
        } else {
            (self.spi_r, self.spi_i)
        };
        let info = IkeSaInfo {
            connection: self.conn.name.clone(),
            initiator: self.initiator,
            local_spi,
            remote_spi,
            local: self.local,
            remote: self.remote,
            proposal: (self.suite.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default(),
            ppk_used: self.ppk_used,
            nat_detected: self.nat_detected(),
            intermediate_exchanges: hs.intermediate_count,
            peer_id: self.peer_id.clone().map(Identity),
        };
        tracing::info!(sa = %self.id, proposal = %info.proposal, ppk = info.ppk_used, "IKE SA established");
        ctx.events
            .push_back(Event::IkeSaEstablished { sa: self.id, info });
        self.export_keys(ctx);
    }
}
