//! `AmfSim`: the emulated AMF ([`AmfNode`]) on a real N2 transport, for tests and scripts
//! that run the N3IWF against it: it listens for SCTP associations (usrsctp over raw IP or
//! UDP, or the kernel's SCTP), and runs one `AmfNode` per association, as if each N3IWF had
//! its own AMF context. The `amf-sim` binary wraps it.
//!
//! What it did is counted in [`SimStats`] (and, optionally, each [`AmfNodeEvent`] is handed to
//! an observer), so that tests can wait for "NG Setup answered" without parsing logs.

pub(crate) mod config;
mod upf_control;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use n2_transport::{Association, N2Error, N2Event, N2Listener, N2Transport, Ppid, StreamId};
use tokio::sync::{mpsc, watch};

pub use config::{ConfigError, SimConfig, SubscriberSpec};
pub use upf_control::{MAX_TRACKED, UpfControl, UpfRules};

use crate::amf::{AmfNode, AmfNodeEvent};

/// A listening emulated AMF.
pub struct AmfSim {
    listener: N2Listener,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
    observer: Option<mpsc::UnboundedSender<(u64, AmfNodeEvent)>>,
}

/// What the emulated AMF did, over every association.
#[derive(Debug, Default)]
pub struct SimStats {
    pub associations: AtomicU64,
    pub associations_ended: AtomicU64,
    pub ng_setup_requests: AtomicU64,
    pub ng_setup_refusals: AtomicU64,
    pub initial_ue_messages: AtomicU64,
    pub registrations: AtomicU64,
    pub messages_received: AtomicU64,
    pub messages_sent: AtomicU64,
    /// Messages with another PPID than NGAP's 60, dropped.
    pub other_ppid: AtomicU64,
}

impl AmfSim {
    /// Listens on `address` with `transport`.
    ///
    /// # Errors
    /// When the address cannot be bound.
    pub fn listen(
        transport: &impl N2Transport,
        address: SocketAddr,
        config: SimConfig,
    ) -> Result<Self, N2Error> {
        Ok(Self {
            listener: transport.listen(address)?,
            config: Arc::new(config),
            stats: Arc::new(SimStats::default()),
            observer: None,
        })
    }

    /// Hands every event of every association to `observer`, with the association's number.
    #[must_use]
    pub fn observe(mut self, observer: mpsc::UnboundedSender<(u64, AmfNodeEvent)>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr()
    }

    pub fn stats(&self) -> Arc<SimStats> {
        Arc::clone(&self.stats)
    }

    /// Accepts and serves associations until `shutdown` turns true; then every association is
    /// dropped (closed), as when the AMF goes away.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let mut number = 0u64;
        loop {
            let accepted = tokio::select! {
                _ = shutdown.changed() => return,
                r = self.listener.accept() => r,
            };
            // One association that failed to come up does not stop the listener.
            let Ok(association) = accepted else { continue };
            number += 1;
            self.stats.associations.fetch_add(1, Ordering::Relaxed);
            let served = Served {
                number,
                node: self.config.node(),
                config: Arc::clone(&self.config),
                stats: Arc::clone(&self.stats),
                observer: self.observer.clone(),
            };
            tokio::spawn(served.run(association, shutdown.clone()));
        }
    }
}

/// One association and its AMF context.
struct Served {
    number: u64,
    node: AmfNode,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
    observer: Option<mpsc::UnboundedSender<(u64, AmfNodeEvent)>>,
}

impl Served {
    async fn run(mut self, association: Association, mut shutdown: watch::Receiver<bool>) {
        let (sender, mut receiver) = association.into_split();
        loop {
            let now = Instant::now();
            while let Some((stream, octets)) = self.node.poll_transmit(now) {
                if sender
                    .send(StreamId(stream), Ppid::NGAP, &octets)
                    .await
                    .is_err()
                {
                    break;
                }
                self.stats.messages_sent.fetch_add(1, Ordering::Relaxed);
            }
            self.events();
            let wake = self.node.poll_timeout().map(tokio::time::Instant::from_std);
            tokio::select! {
                _ = shutdown.changed() => break,
                event = receiver.recv() => match event {
                    Some(N2Event::Message(m)) if m.ppid == Ppid::NGAP => {
                        self.stats.messages_received.fetch_add(1, Ordering::Relaxed);
                        self.node.handle_ngap(m.stream.0, &m.payload, Instant::now());
                    }
                    Some(N2Event::Message(_)) => {
                        self.stats.other_ppid.fetch_add(1, Ordering::Relaxed);
                    }
                    // The N3IWF restarted the association: it lost its UE contexts.
                    Some(N2Event::Restarted(_)) => self.node = self.config.node(),
                    Some(_) | None => break,
                },
                () = sleep_until(wake) => {}
            }
        }
        self.stats
            .associations_ended
            .fetch_add(1, Ordering::Relaxed);
    }

    fn events(&mut self) {
        while let Some(event) = self.node.poll_event() {
            let counter = match &event {
                AmfNodeEvent::SetupRequested(_) => Some(&self.stats.ng_setup_requests),
                AmfNodeEvent::SetupRefused => Some(&self.stats.ng_setup_refusals),
                AmfNodeEvent::InitialUe { .. } => Some(&self.stats.initial_ue_messages),
                AmfNodeEvent::Registered { .. } => Some(&self.stats.registrations),
                _ => None,
            };
            if let Some(c) = counter {
                c.fetch_add(1, Ordering::Relaxed);
            }
            if let Some(o) = &self.observer {
                let _ = o.send((self.number, event));
            }
        }
    }
}

impl SimStats {
    /// A counter's value now.
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}
