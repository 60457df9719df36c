//! One task per AMF: sets up the N2 association (with backoff after a failure or a loss),
//! reports its events to the engine task, and sends the NGAP messages the core emits.
//!
//! Each association gets a generation number. Messages carry the generation they were
//! written for, so that a message meant for a lost association never goes out on the next
//! one, before its NG Setup.

use std::net::SocketAddr;
use std::time::Duration;

use ::n3iwf::AmfRef;
use n2_transport::{
    Association, AssociationConfig, N2Event, N2Transport, Ppid, StreamId, Transport,
};
use tokio::sync::{mpsc, watch};

use super::N3iwfInput;
use crate::config::AmfSettings;
use crate::net::route_source;

/// An NGAP message for the AMF.
#[derive(Debug)]
pub(crate) struct N2Out {
    pub(crate) generation: u64,
    pub(crate) stream: u16,
    pub(crate) payload: Vec<u8>,
}

/// The settings of every association (the transport's defaults: 16 streams each way, 64 KiB
/// messages).
pub(crate) fn association_config() -> AssociationConfig {
    AssociationConfig::default()
}

pub(crate) struct N2Task {
    pub(crate) amf: AmfRef,
    pub(crate) settings: AmfSettings,
    pub(crate) transport: Transport,
    /// First wait after a failure, and its cap (doubling in between).
    pub(crate) backoff: (Duration, Duration),
    pub(crate) inputs: mpsc::Sender<N3iwfInput>,
    pub(crate) out: mpsc::Receiver<N2Out>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

/// Why an association's service ended.
enum Ended {
    /// Down, or never up: connect again after the backoff.
    Reconnect,
    /// Shutdown, or the engine task is gone.
    Stop,
}

impl N2Task {
    /// Runs until shutdown: connect, serve, wait, connect again.
    pub(crate) async fn run(mut self) {
        let mut backoff = Backoff::new(self.backoff.0, self.backoff.1);
        let mut generation = 0u64;
        loop {
            // Bound to one address, so that INIT announces it alone: not the NAS address of
            // the TUN device, which the AMF cannot reach (RFC 9260 §5.1.2).
            let local = self
                .settings
                .local
                .or_else(|| route_source(self.settings.address))
                .map(|ip| SocketAddr::new(ip, 0));
            let connect = self.transport.connect_from(local, self.settings.address);
            let result = tokio::select! {
                _ = self.shutdown.changed() => return,
                r = connect => r,
            };
            let ended = match result {
                Ok(association) => {
                    generation += 1;
                    backoff.reset();
                    self.serve(association, generation).await
                }
                Err(e) => {
                    let failed = N3iwfInput::N2ConnectFailed {
                        amf: self.amf,
                        error: e.to_string(),
                    };
                    if self.inputs.send(failed).await.is_err() {
                        return;
                    }
                    Ended::Reconnect
                }
            };
            if matches!(ended, Ended::Stop) {
                return;
            }
            tokio::select! {
                _ = self.shutdown.changed() => return,
                () = tokio::time::sleep(backoff.next_wait()) => {}
            }
        }
    }

    /// Reports the association up, then forwards its events and our messages until it ends.
    /// At shutdown it is closed gracefully (SHUTDOWN), so that the AMF learns at once.
    async fn serve(&mut self, mut association: Association, generation: u64) -> Ended {
        let amf = self.amf;
        let up = N3iwfInput::N2Up {
            amf,
            generation,
            streams: association.streams(),
        };
        if self.inputs.send(up).await.is_err() {
            return Ended::Stop;
        }
        loop {
            tokio::select! {
                _ = self.shutdown.changed() => {
                    association.close().await;
                    return Ended::Stop;
                }
                event = association.recv() => {
                    let input = event_input(amf, generation, event);
                    let down = matches!(input, N3iwfInput::N2Down { .. });
                    if self.inputs.send(input).await.is_err() {
                        return Ended::Stop;
                    }
                    if down {
                        return Ended::Reconnect;
                    }
                }
                out = self.out.recv() => match out {
                    // Written before this association: not for it.
                    Some(m) if m.generation != generation => {}
                    Some(m) => {
                        let sent = association.send(StreamId(m.stream), Ppid::NGAP, &m.payload);
                        if let Err(e) = sent.await {
                            // A lost association also ends `recv`, which reports it.
                            tracing::debug!(error = %e, "NGAP message not sent");
                        }
                    }
                    None => {
                        association.close().await;
                        return Ended::Stop;
                    }
                },
            }
        }
    }
}

/// The engine task's input for an association event (`None`: the events ended).
fn event_input(amf: AmfRef, generation: u64, event: Option<N2Event>) -> N3iwfInput {
    match event {
        Some(N2Event::Message(m)) => N3iwfInput::N2Message {
            amf,
            generation,
            stream: m.stream.0,
            ppid: m.ppid.0,
            payload: m.payload,
        },
        Some(N2Event::Restarted(streams)) => N3iwfInput::N2Restarted {
            amf,
            generation,
            streams,
        },
        Some(N2Event::Down(reason)) => N3iwfInput::N2Down {
            amf,
            generation,
            reason: format!("{reason:?}"),
        },
        Some(_) | None => N3iwfInput::N2Down {
            amf,
            generation,
            reason: "the association's events ended".into(),
        },
    }
}

/// The wait before the next attempt to set up an association: `first` after an association
/// ended or the first failure, doubled after each further failure, at most `max`.
#[derive(Debug)]
pub(crate) struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            next: first,
        }
    }

    /// The wait now; the one after it is longer.
    pub(crate) fn next_wait(&mut self) -> Duration {
        let wait = self.next;
        self.next = wait.saturating_mul(2).min(self.max);
        wait
    }

    /// An association came up: the next loss waits `first` again.
    pub(crate) fn reset(&mut self) {
        self.next = self.first;
    }
}

/// Messages for one AMF waiting for its task; the glue counts what does not fit.
pub(crate) const OUT_BACKLOG: usize = 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_its_cap_and_starts_over_after_an_association() {
        let ms = Duration::from_millis;
        let mut b = Backoff::new(ms(50), ms(300));
        let waits: Vec<Duration> = (0..5).map(|_| b.next_wait()).collect();
        assert_eq!(waits, [ms(50), ms(100), ms(200), ms(300), ms(300)]);
        b.reset();
        assert_eq!(b.next_wait(), ms(50));
        let mut huge = Backoff::new(Duration::MAX, Duration::MAX);
        huge.next_wait();
        assert_eq!(huge.next_wait(), Duration::MAX, "no overflow");
    }
}
