//! What a transition may touch besides its UE: the configuration, the output queue, the
//! counters, the AMFs and the allocators.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::time::Instant;

use super::amf::Amfs;
use super::config::N3iwfConfig;
use super::handles::{AmfRef, IkeSaRef, NasConnId, StreamId};
use super::output::{EapAnswer, Event, Output};
use super::pool::InnerPool;
use super::ran_ids::RanIds;
use super::stats::{Direction, Stats};
use super::teids::TeidPool;
use super::user_plane::ChildRequestId;
use crate::ids::{PduSessionId, Teid};
use crate::ngap::{ErrorIndication, NgapMessage};
use crate::node::UeId;

/// The UL tunnels of the node's sessions, by the UPF's address and the UL TEID: what a GTP-U
/// Error Indication names.
pub(crate) type UlTunnels = HashMap<(IpAddr, Teid), (UeId, PduSessionId)>;

pub(crate) struct Ctx<'a> {
    pub(crate) now: Instant,
    pub(crate) config: &'a N3iwfConfig,
    pub(crate) out: &'a mut VecDeque<Output>,
    pub(crate) stats: &'a mut Stats,
    pub(crate) amfs: &'a Amfs,
    pub(crate) ran_ids: &'a mut RanIds,
    pub(crate) pool: &'a mut InnerPool,
    pub(crate) teids: &'a mut TeidPool,
    pub(crate) ul_tunnels: &'a mut UlTunnels,
    pub(crate) next_child_request: &'a mut u64,
}

impl Ctx<'_> {
    /// Encodes and queues an NGAP message, counting it.
    pub(crate) fn send_ngap(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        message: impl Into<NgapMessage>,
    ) {
        send_ngap(self.out, self.stats, amf, stream, &message.into());
    }

    pub(crate) fn error_indication(
        &mut self,
        amf: AmfRef,
        stream: StreamId,
        indication: ErrorIndication,
    ) {
        self.stats.error_indications_sent += 1;
        self.send_ngap(amf, stream, indication);
    }

    pub(crate) fn eap(&mut self, sa: IkeSaRef, answer: EapAnswer) {
        self.out.push_back(Output::EapAnswer { sa, answer });
    }

    pub(crate) fn close_ike(&mut self, sa: IkeSaRef) {
        self.out.push_back(Output::CloseIkeSa { sa });
    }

    pub(crate) fn tcp_send(&mut self, conn: NasConnId, octets: Vec<u8>) {
        self.out.push_back(Output::NasTcpSend { conn, octets });
    }

    pub(crate) fn tcp_close(&mut self, conn: NasConnId) {
        self.out.push_back(Output::NasTcpClose { conn });
    }

    /// A fresh name for a CREATE_CHILD_SA.
    pub(crate) fn child_request_id(&mut self) -> ChildRequestId {
        *self.next_child_request += 1;
        ChildRequestId(*self.next_child_request)
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.out.push_back(Output::Event(event));
    }
}

/// Encodes and queues an NGAP message, counting it. A message the core built does not fail to
/// encode unless a value is out of its range; that is reported as an event instead of sent.
pub(crate) fn send_ngap(
    out: &mut VecDeque<Output>,
    stats: &mut Stats,
    amf: AmfRef,
    stream: StreamId,
    message: &NgapMessage,
) {
    match message.encode() {
        Ok(octets) => {
            stats.count_ngap(message.procedure_code(), Direction::Sent);
            out.push_back(Output::Ngap {
                amf,
                stream,
                octets,
            });
        }
        Err(error) => out.push_back(Output::Event(Event::NgapNotSent {
            amf,
            procedure_code: message.procedure_code(),
            reason: error.to_string(),
        })),
    }
}
