//! One established association: send whole messages on a stream with a PPID, receive them (and
//! the association's fate) as events.
//!
//! A reader task per association moves messages from the socket into a bounded queue. When the
//! queue is full the task stops reading, the socket's receive buffer fills, and SCTP's receive
//! window holds the peer back: memory stays bounded by `receive_queue × max_message_size` plus
//! the socket buffer, whatever the peer sends.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ipsec_sys::sctp::{NotificationCodes, Received, SendInfo};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tracing::{debug, warn};

use crate::config::AssociationConfig;
use crate::error::N2Error;
use crate::notification::{self, AssocState, Notification, NotificationBuffer};
use crate::reassembly::{Assembled, Reassembler};
use crate::socket::SctpIo;
use crate::types::{N2Message, Ppid, StreamCounts, StreamId};

/// What happens on an association, in order.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum N2Event {
    /// A whole message.
    Message(N2Message),
    /// The peer restarted the association (RFC 9260 §5.2.2: a new INIT from the same
    /// endpoint): it has lost its state, so NGAP starts over (NG Setup). The stream counts may
    /// have changed.
    Restarted(StreamCounts),
    /// The association is gone; this is the last event.
    Down(DownReason),
}

/// Why an association went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownReason {
    /// This side closed it (graceful SHUTDOWN completed).
    Closed,
    /// A socket error ended it.
    Failed(io::ErrorKind),
    /// The peer aborted it or stopped answering (`SCTP_COMM_LOST`).
    Lost,
    /// The peer shut it down gracefully (SHUTDOWN).
    PeerShutdown,
}

/// Counters of one association.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AssociationStats {
    pub messages_sent: u64,
    pub messages_received: u64,
    /// Received messages larger than `max_message_size`, dropped.
    pub oversized_dropped: u64,
    /// Received messages without stream and PPID, and notifications that did not parse.
    pub malformed_dropped: u64,
    pub restarts: u64,
}

/// An established association: a sender and the receiver of its events.
#[derive(Debug)]
pub struct Association {
    sender: N2Sender,
    receiver: N2Receiver,
}

/// The sending half; clones share the association and send one message at a time.
#[derive(Clone, Debug)]
pub struct N2Sender {
    shared: Arc<Shared>,
}

/// The receiving half. Dropping it stops the reading of the association.
#[derive(Debug)]
pub struct N2Receiver {
    events: mpsc::Receiver<N2Event>,
}

impl Association {
    /// Splits into the halves, for a sender task and a receiver task.
    pub fn into_split(self) -> (N2Sender, N2Receiver) {
        (self.sender, self.receiver)
    }

    /// The next event; `None` after [`N2Event::Down`].
    pub async fn recv(&mut self) -> Option<N2Event> {
        self.receiver.recv().await
    }

    /// Sends one message; see [`N2Sender::send`].
    ///
    /// # Errors
    /// As [`N2Sender::send`].
    pub async fn send(&self, stream: StreamId, ppid: Ppid, payload: &[u8]) -> Result<(), N2Error> {
        self.sender.send(stream, ppid, payload).await
    }

    /// Shuts the association down gracefully (data already queued is delivered first) and waits
    /// for the end, at most the connect timeout. Events still queued are dropped.
    pub async fn close(mut self) {
        let shared = self.sender.shared.clone();
        shared.closing.store(true, Ordering::Relaxed);
        if shared.io.shutdown().is_err() {
            return;
        }
        let wait = async {
            while let Some(event) = self.receiver.recv().await {
                if matches!(event, N2Event::Down(_)) {
                    break;
                }
            }
        };
        let _ = timeout(shared.config.connect_timeout, wait).await;
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.sender.peer()
    }

    /// The negotiated stream counts.
    pub fn streams(&self) -> StreamCounts {
        self.sender.streams()
    }

    /// The counters so far.
    pub fn stats(&self) -> AssociationStats {
        self.sender.stats()
    }

    /// Sets up the association on `io` once the stack reports it up (`SCTP_COMM_UP`).
    pub(crate) async fn establish(
        io: SctpIo,
        peer: SocketAddr,
        config: &AssociationConfig,
    ) -> Result<Self, N2Error> {
        let codes = io.codes();
        let streams = timeout(config.connect_timeout, wait_comm_up(&io, &codes, peer))
            .await
            .map_err(|_| N2Error::ConnectTimeout {
                peer,
                timeout: config.connect_timeout,
            })??;
        if streams.outbound < config.min_outbound_streams {
            return Err(N2Error::TooFewStreams {
                outbound: streams.outbound,
                min: config.min_outbound_streams,
            });
        }
        debug!(%peer, ?streams, "SCTP association up");
        let shared = Arc::new(Shared {
            io,
            peer,
            config: *config,
            streams: Mutex::new(streams),
            up: AtomicBool::new(true),
            closing: AtomicBool::new(false),
            send_lock: tokio::sync::Mutex::new(()),
            counters: Counters::default(),
        });
        let (tx, events) = mpsc::channel(config.receive_queue);
        tokio::spawn(Reader::new(shared.clone(), codes).run(tx));
        Ok(Self {
            sender: N2Sender { shared },
            receiver: N2Receiver { events },
        })
    }
}

impl N2Sender {
    /// Sends `payload` as one message on `stream` with `ppid`, waiting while the send buffer is
    /// full (the peer's receive window applies).
    ///
    /// # Errors
    /// [`N2Error::AssociationDown`] once the association is gone;
    /// [`N2Error::MessageTooLarge`] above `max_message_size` (and for an empty message, which
    /// SCTP cannot carry); [`N2Error::StreamOutOfRange`] for a stream beyond the negotiated
    /// count; [`N2Error::Io`] for other socket errors.
    pub async fn send(&self, stream: StreamId, ppid: Ppid, payload: &[u8]) -> Result<(), N2Error> {
        let shared = &*self.shared;
        if !shared.up.load(Ordering::Relaxed) {
            return Err(N2Error::AssociationDown);
        }
        let max = shared.config.max_message_size;
        if payload.is_empty() || payload.len() > max {
            return Err(N2Error::MessageTooLarge {
                len: payload.len(),
                max,
            });
        }
        let outbound = self.streams().outbound;
        if stream.0 >= outbound {
            return Err(N2Error::StreamOutOfRange { stream, outbound });
        }
        let info = SendInfo {
            stream: stream.0,
            ppid: ppid.0,
        };
        let _one_at_a_time = shared.send_lock.lock().await;
        match shared.io.send(payload, info).await {
            Ok(_) => {
                shared.counters.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(e) if is_gone(&e) => {
                shared.up.store(false, Ordering::Relaxed);
                Err(N2Error::AssociationDown)
            }
            Err(e) => Err(N2Error::io("send")(e)),
        }
    }

    /// The peer's address.
    pub fn peer(&self) -> SocketAddr {
        self.shared.peer
    }

    /// The negotiated stream counts (updated by a restart).
    pub fn streams(&self) -> StreamCounts {
        *self
            .shared
            .streams
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the association is still up, as far as this side knows.
    pub fn is_up(&self) -> bool {
        self.shared.up.load(Ordering::Relaxed)
    }

    /// The counters so far.
    pub fn stats(&self) -> AssociationStats {
        self.shared.counters.snapshot()
    }
}

impl N2Receiver {
    /// The next event; `None` after [`N2Event::Down`].
    pub async fn recv(&mut self) -> Option<N2Event> {
        self.events.recv().await
    }
}

/// What the halves share with the reader task.
struct Shared {
    io: SctpIo,
    peer: SocketAddr,
    config: AssociationConfig,
    streams: Mutex<StreamCounts>,
    up: AtomicBool,
    closing: AtomicBool,
    send_lock: tokio::sync::Mutex<()>,
    counters: Counters,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Association")
            .field("peer", &self.peer)
            .field("up", &self.up)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    received: AtomicU64,
    oversized: AtomicU64,
    malformed: AtomicU64,
    restarts: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> AssociationStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        AssociationStats {
            messages_sent: get(&self.sent),
            messages_received: get(&self.received),
            oversized_dropped: get(&self.oversized),
            malformed_dropped: get(&self.malformed),
            restarts: get(&self.restarts),
        }
    }
}

/// The reader task's state.
struct Reader {
    shared: Arc<Shared>,
    codes: NotificationCodes,
    messages: Reassembler,
    notifications: NotificationBuffer,
}

/// What one read led to.
enum Step {
    Nothing,
    Event(N2Event),
    Down(DownReason),
}

impl Reader {
    fn new(shared: Arc<Shared>, codes: NotificationCodes) -> Self {
        let max = shared.config.max_message_size;
        Self {
            shared,
            codes,
            messages: Reassembler::new(max),
            notifications: NotificationBuffer::default(),
        }
    }

    async fn run(mut self, tx: mpsc::Sender<N2Event>) {
        let mut buf = vec![0u8; READ_CHUNK];
        let reason = loop {
            let got = tokio::select! {
                biased;
                () = tx.closed() => return,
                r = self.shared.io.recv(&mut buf) => r,
            };
            match self.step(got, &buf) {
                Step::Nothing => {}
                Step::Event(event) => {
                    if tx.send(event).await.is_err() {
                        return;
                    }
                }
                Step::Down(reason) => break reason,
            }
        };
        self.shared.up.store(false, Ordering::Relaxed);
        debug!(peer = %self.shared.peer, ?reason, "SCTP association down");
        let _ = tx.send(N2Event::Down(reason)).await;
    }

    fn step(&mut self, got: io::Result<Received>, buf: &[u8]) -> Step {
        match got {
            Ok(Received::Data {
                len,
                info,
                end_of_record,
            }) => self.data(&buf[..len], info, end_of_record),
            Ok(Received::Notification { len, end_of_record }) => {
                match self.notifications.push(&buf[..len], end_of_record) {
                    None => Step::Nothing,
                    Some(Ok(whole)) => self.notification(&whole),
                    Some(Err(_)) => self.malformed("notification too long"),
                }
            }
            Ok(Received::Closed) => Step::Down(self.shutdown_reason()),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => Step::Down(DownReason::Lost),
            Err(e) => Step::Down(DownReason::Failed(e.kind())),
        }
    }

    fn data(&mut self, piece: &[u8], info: Option<ipsec_sys::sctp::RecvInfo>, end: bool) -> Step {
        let counters = &self.shared.counters;
        match self.messages.push(piece, info, end) {
            None => Step::Nothing,
            Some(Assembled::Message(message)) => {
                counters.received.fetch_add(1, Ordering::Relaxed);
                Step::Event(N2Event::Message(message))
            }
            Some(Assembled::Oversized { stream, len }) => {
                counters.oversized.fetch_add(1, Ordering::Relaxed);
                warn!(peer = %self.shared.peer, %stream, len, "dropped an oversized N2 message");
                Step::Nothing
            }
            Some(Assembled::MissingInfo) => self.malformed("message without stream and PPID"),
        }
    }

    fn notification(&mut self, bytes: &[u8]) -> Step {
        let Ok(note) = notification::parse(bytes, &self.codes) else {
            return self.malformed("notification does not parse");
        };
        match note {
            Notification::AssocChange {
                state: AssocState::Restart,
                outbound,
                inbound,
            } => {
                let counts = StreamCounts { outbound, inbound };
                *self
                    .shared
                    .streams
                    .lock()
                    .unwrap_or_else(|p| p.into_inner()) = counts;
                self.shared
                    .counters
                    .restarts
                    .fetch_add(1, Ordering::Relaxed);
                warn!(peer = %self.shared.peer, "SCTP association restarted by the peer");
                Step::Event(N2Event::Restarted(counts))
            }
            Notification::AssocChange {
                state: AssocState::CommLost | AssocState::CantStartAssoc,
                ..
            } => Step::Down(DownReason::Lost),
            Notification::AssocChange {
                state: AssocState::ShutdownComplete,
                ..
            }
            | Notification::PeerShutdown => Step::Down(self.shutdown_reason()),
            Notification::AssocChange { .. } | Notification::Other { .. } => Step::Nothing,
        }
    }

    fn shutdown_reason(&self) -> DownReason {
        if self.shared.closing.load(Ordering::Relaxed) {
            DownReason::Closed
        } else {
            DownReason::PeerShutdown
        }
    }

    fn malformed(&self, what: &'static str) -> Step {
        self.shared
            .counters
            .malformed
            .fetch_add(1, Ordering::Relaxed);
        warn!(peer = %self.shared.peer, what, "dropped from the SCTP socket");
        Step::Nothing
    }
}

/// Reads socket pieces until `SCTP_COMM_UP`, which is queued before any data.
async fn wait_comm_up(
    io: &SctpIo,
    codes: &NotificationCodes,
    peer: SocketAddr,
) -> Result<StreamCounts, N2Error> {
    let failed = |source| N2Error::ConnectFailed { peer, source };
    let mut buf = [0u8; 512];
    let mut notes = NotificationBuffer::default();
    loop {
        match io.recv(&mut buf).await.map_err(failed)? {
            Received::Notification { len, end_of_record } => {
                let Some(Ok(whole)) = notes.push(&buf[..len], end_of_record) else {
                    continue;
                };
                match notification::parse(&whole, codes) {
                    Ok(Notification::AssocChange {
                        state: AssocState::CommUp,
                        outbound,
                        inbound,
                    }) => return Ok(StreamCounts { outbound, inbound }),
                    Ok(Notification::AssocChange {
                        state: AssocState::CantStartAssoc | AssocState::CommLost,
                        ..
                    }) => return Err(failed(io::ErrorKind::ConnectionRefused.into())),
                    _ => {}
                }
            }
            Received::Data { .. } => return Err(N2Error::Protocol("data before COMM_UP")),
            Received::Closed => return Err(failed(io::ErrorKind::ConnectionReset.into())),
        }
    }
}

fn is_gone(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::BrokenPipe | io::ErrorKind::NotConnected | io::ErrorKind::ConnectionReset
    )
}

/// The read buffer; larger messages arrive in several pieces.
const READ_CHUNK: usize = 64 * 1024;
