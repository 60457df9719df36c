//! NAS over TCP inside the signalling SA (TS 24.502 §9.4): the bounded downlink queue, the
//! connection of a registered UE, and uplink NAS strictly in the order it was read.

use std::collections::VecDeque;

use super::{Established, NasLink, NgIds, Step, UeCommon, UeState};
use crate::ngap::{Cause, NasNonDeliveryIndication, RadioNetworkCause, UplinkNasTransport};
use crate::node::{Ctx, NasConnId};
use crate::wire::nas_envelope::{LENGTH_LEN, NasEnvelopeReader, frame};

/// Downlink NAS messages waiting for the UE, oldest first, at most
/// [`Limits::dl_nas_queue`](crate::node::Limits) of them.
#[derive(Debug, Default)]
pub(crate) struct DlQueue(VecDeque<Vec<u8>>);

impl DlQueue {
    /// Queues a message; gives it back when the queue is full.
    pub(crate) fn push(&mut self, nas: Vec<u8>, limit: usize) -> Result<(), Vec<u8>> {
        if self.0.len() >= limit {
            return Err(nas);
        }
        self.0.push_back(nas);
        Ok(())
    }

    pub(crate) fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.0.pop_front()
    }

    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Vec<u8>> + '_ {
        self.0.drain(..)
    }
}

/// Queues a downlink message for `ng`'s UE, or tells the AMF it cannot be delivered.
pub(crate) fn queue_or_refuse(queue: &mut DlQueue, ng: NgIds, nas: Vec<u8>, ctx: &mut Ctx<'_>) {
    match queue.push(nas, ctx.config.limits.dl_nas_queue) {
        Ok(()) => ctx.stats.dl_nas_queued += 1,
        Err(nas) => not_delivered(ng, nas, RadioNetworkCause::UNSPECIFIED, ctx),
    }
}

/// NAS NON DELIVERY INDICATION (TS 38.413 §8.6.4).
pub(crate) fn not_delivered(ng: NgIds, nas: Vec<u8>, cause: RadioNetworkCause, ctx: &mut Ctx<'_>) {
    ctx.stats.dl_nas_not_delivered += 1;
    let indication = NasNonDeliveryIndication {
        ids: ng.ids,
        nas_pdu: nas,
        cause: Cause::RadioNetwork(cause),
    };
    ctx.send_ngap(ng.amf, ng.stream, indication);
}

impl Established {
    /// Downlink NAS: on the connection, or queued until there is one.
    pub(crate) fn on_downlink_nas(mut self, nas: Vec<u8>, ctx: &mut Ctx<'_>) -> Self {
        match &mut self.nas {
            NasLink::Waiting(queue) => queue_or_refuse(queue, self.ng, nas, ctx),
            NasLink::Connected { conn, .. } => send_framed(*conn, self.ng, nas, ctx),
        }
        self
    }

    /// The UE connected: a new connection replaces an older one (the UE reconnected), and the
    /// queued messages go out in order.
    pub(crate) fn on_connected(
        mut self,
        common: &mut UeCommon,
        conn: NasConnId,
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let mut queue = match std::mem::replace(&mut self.nas, NasLink::Waiting(DlQueue::default()))
        {
            NasLink::Waiting(queue) => queue,
            NasLink::Connected { conn: old, .. } => {
                ctx.tcp_close(old);
                DlQueue::default()
            }
        };
        for nas in queue.drain() {
            send_framed(conn, self.ng, nas, ctx);
        }
        let max = ctx.config.limits.max_nas_message;
        self.nas = NasLink::Connected {
            conn,
            reader: NasEnvelopeReader::with_limits(max, max + LENGTH_LEN),
        };
        common.keys.conn = Some(conn);
        common.timings.nas_tcp_ready.get_or_insert(ctx.now);
        self
    }

    /// Octets from the connection: each complete NAS message goes to the AMF in UPLINK NAS
    /// TRANSPORT, in order. A broken envelope closes the connection.
    pub(crate) fn on_data(
        mut self,
        common: &mut UeCommon,
        octets: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Self {
        let NasLink::Connected { conn, reader } = &mut self.nas else {
            return self;
        };
        let conn = *conn;
        let room = ctx.config.limits.max_nas_message + LENGTH_LEN;
        let mut rest = octets;
        while !rest.is_empty() {
            // After draining, less than one envelope is buffered, so there is room for more.
            let take = rest
                .len()
                .min(room.saturating_sub(reader.buffered()).max(1));
            let (chunk, tail) = rest.split_at(take);
            rest = tail;
            if reader.push(chunk).is_err() || drain(reader, self.ng, common, ctx).is_err() {
                ctx.stats.nas_tcp_framing_errors += 1;
                ctx.tcp_close(conn);
                self.nas = NasLink::Waiting(DlQueue::default());
                common.keys.conn = None;
                break;
            }
        }
        self
    }

    /// The connection closed: downlink NAS waits for the next one.
    pub(crate) fn on_closed(mut self, common: &mut UeCommon, conn: NasConnId) -> Self {
        if matches!(self.nas, NasLink::Connected { conn: c, .. } if c == conn) {
            self.nas = NasLink::Waiting(DlQueue::default());
            common.keys.conn = None;
        }
        self
    }
}

impl UeState {
    pub(crate) fn on_tcp_connected(
        self,
        common: &mut UeCommon,
        conn: NasConnId,
        ctx: &mut Ctx<'_>,
    ) -> Step {
        match self {
            Self::Established(e) => {
                Step::Next(Self::Established(e.on_connected(common, conn, ctx)))
            }
            other => {
                // Only a registered UE has a signalling SA that carries TCP.
                ctx.stats.nas_tcp_refused += 1;
                ctx.tcp_close(conn);
                Step::Next(other)
            }
        }
    }

    pub(crate) fn on_tcp_data(
        self,
        common: &mut UeCommon,
        octets: &[u8],
        ctx: &mut Ctx<'_>,
    ) -> Step {
        match self {
            Self::Established(e) => Step::Next(Self::Established(e.on_data(common, octets, ctx))),
            other => Step::Next(other),
        }
    }

    pub(crate) fn on_tcp_closed(self, common: &mut UeCommon, conn: NasConnId) -> Step {
        match self {
            Self::Established(e) => Step::Next(Self::Established(e.on_closed(common, conn))),
            other => Step::Next(other),
        }
    }
}

/// Takes every complete message out of the reader, in order.
fn drain(
    reader: &mut NasEnvelopeReader,
    ng: NgIds,
    common: &UeCommon,
    ctx: &mut Ctx<'_>,
) -> Result<(), ()> {
    while let Some(nas) = reader.next_message().map_err(|_| ())? {
        ctx.stats.ul_nas += 1;
        let transport = UplinkNasTransport {
            ids: ng.ids,
            nas_pdu: nas,
            location: super::location(common),
        };
        ctx.send_ngap(ng.amf, ng.stream, transport);
    }
    Ok(())
}

fn send_framed(conn: NasConnId, ng: NgIds, nas: Vec<u8>, ctx: &mut Ctx<'_>) {
    let mut octets = Vec::with_capacity(nas.len() + LENGTH_LEN);
    match frame(&nas, &mut octets) {
        Ok(()) => {
            ctx.stats.dl_nas += 1;
            ctx.tcp_send(conn, octets);
        }
        // An empty NAS PDU or one over 65,535 octets has no envelope.
        Err(_) => not_delivered(ng, nas, RadioNetworkCause::UNSPECIFIED, ctx),
    }
}
