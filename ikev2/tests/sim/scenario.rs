//! A builder for the usual test set-up: two connections, one per side, with the providers,
//! wall clocks and key source the test needs, connected on a fresh [`Pair`].

use std::sync::Arc;

use ikev2::{AuthConfig, ConnectionConfig, EndpointConfig};
use ipsec_crypto::CryptoProvider;

use super::{KeySource, Pair, conn, default_provider, responder};

/// A handshake about to run: A initiates `initiator`, B answers with `responder`.
pub struct Scenario {
    pub initiator: ConnectionConfig,
    pub responder: ConnectionConfig,
    providers: [&'static dyn CryptoProvider; 2],
    unix_times: [Option<u64>; 2],
    key_source: Option<KeySource>,
}

impl Scenario {
    /// Both sides with the default provider, no wall clock and no key source.
    pub fn new(initiator: ConnectionConfig, responder: ConnectionConfig) -> Self {
        Self {
            initiator,
            responder,
            providers: [default_provider(); 2],
            unix_times: [None; 2],
            key_source: None,
        }
    }

    /// The two sides of [`conn`]: PSK `psk`, IKE proposal `ike`, one child with `esp`.
    pub fn psk(psk: &[u8], ike: &str, esp: &str) -> Self {
        Self::new(
            conn("initiator", psk, ike, esp),
            conn("responder", psk, ike, esp),
        )
    }

    /// The crypto providers of A and B.
    pub fn providers(
        mut self,
        a: &'static dyn CryptoProvider,
        b: &'static dyn CryptoProvider,
    ) -> Self {
        self.providers = [a, b];
        self
    }

    /// Changes the initiator's connection.
    pub fn initiator(mut self, f: impl FnOnce(&mut ConnectionConfig)) -> Self {
        f(&mut self.initiator);
        self
    }

    /// Changes the responder's connection.
    pub fn responder(mut self, f: impl FnOnce(&mut ConnectionConfig)) -> Self {
        f(&mut self.responder);
        self
    }

    /// Changes both connections the same way.
    pub fn both(mut self, f: impl Fn(&mut ConnectionConfig)) -> Self {
        f(&mut self.initiator);
        f(&mut self.responder);
        self
    }

    pub fn initiator_auth(self, auth: AuthConfig) -> Self {
        self.initiator(|c| c.auth = auth)
    }

    pub fn responder_auth(self, auth: AuthConfig) -> Self {
        self.responder(|c| c.auth = auth)
    }

    /// Both ends told the same wall-clock time (seconds since 1970).
    pub fn unix_time(self, t: u64) -> Self {
        self.unix_times(Some(t), Some(t))
    }

    /// The wall-clock time each end is told; `None` leaves that end without one.
    pub fn unix_times(mut self, a: Option<u64>, b: Option<u64>) -> Self {
        self.unix_times = [a, b];
        self
    }

    /// Who answers `PpkNeeded` (see [`Pair::key_source`]).
    pub fn key_source(mut self, source: KeySource) -> Self {
        self.key_source = Some(source);
        self
    }

    /// The pair with A's IKE_SA_INIT queued, nothing delivered yet.
    pub fn start(self) -> Pair {
        let [pa, pb] = self.providers;
        let mut pair = Pair::new(EndpointConfig::default(), pa, responder(self.responder), pb);
        let now = pair.now;
        if let Some(t) = self.unix_times[0] {
            pair.a.set_unix_time(now, t);
        }
        if let Some(t) = self.unix_times[1] {
            pair.b.set_unix_time(now, t);
        }
        pair.key_source = self.key_source;
        pair.connect(Arc::new(self.initiator));
        pair
    }

    /// Starts and drives the pair until idle or `max_steps` (see [`Pair::drive`]).
    pub fn run(self, max_steps: usize) -> Pair {
        let mut pair = self.start();
        pair.drive(max_steps);
        pair
    }
}
