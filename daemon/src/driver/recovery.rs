//! Keeping connections up, as strongSwan users expect: a connection is initiated again after
//! an automatic attempt failed (`start_action = "start"`, `keyingtries`), after its peer died
//! (`dpd_action = "restart"`) or closed it (`close_action = "start"`). Attempts back off
//! exponentially; `keyingtries` failed attempts in a row end them (0: never). This module only
//! keeps the books; the driver supplies the time and does the initiating.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ikev2::{Error, EspSpi, SaId};

use super::{Driver, SaState};
use crate::config::{CloseAction, Connection, DpdAction, StartAction};

/// Why a connection is initiated again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Restart {
    /// An automatic attempt failed.
    AttemptFailed,
    /// The established IKE SA's peer stopped answering.
    DeadPeer,
    /// The peer closed the connection's SAs.
    ClosedByPeer,
}

impl Restart {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Self::AttemptFailed => "attempt failed",
            Self::DeadPeer => "dead peer",
            Self::ClosedByPeer => "closed by peer",
        }
    }
}

/// The restarts the driver owes.
#[derive(Default)]
pub(super) struct Restarts {
    due: BTreeMap<String, (Instant, Restart)>,
    /// Failed automatic attempts in a row, per connection.
    failures: HashMap<String, u32>,
    /// IKE SAs the daemon initiated by itself (their failure is an attempt that failed).
    automatic: HashSet<SaId>,
}

impl Restarts {
    /// Schedules connection `conn` again after `why`; returns the delay, or `None` when
    /// `keyingtries` (0: unlimited) failed attempts in a row used up its attempts.
    pub(super) fn schedule(
        &mut self,
        conn: &str,
        why: Restart,
        now: Instant,
        keyingtries: u32,
    ) -> Option<Duration> {
        let failures = self.failures.entry(conn.to_string()).or_default();
        if why == Restart::AttemptFailed {
            *failures += 1;
            if keyingtries != 0 && *failures >= keyingtries {
                self.failures.remove(conn);
                self.due.remove(conn);
                return None;
            }
        }
        let delay = backoff(why, *failures);
        let at = now + delay;
        // An earlier restart already owed stays: the sooner one wins.
        let slot = self.due.entry(conn.to_string()).or_insert((at, why));
        if at < slot.0 {
            *slot = (at, why);
        }
        Some(delay)
    }

    /// The daemon initiated `sa` for a restart (or `start_action = "start"`).
    pub(super) fn initiated(&mut self, sa: SaId) {
        self.automatic.insert(sa);
    }

    /// Whether `sa` was initiated by the daemon itself; forgets it.
    pub(super) fn was_automatic(&mut self, sa: SaId) -> bool {
        self.automatic.remove(&sa)
    }

    /// The connection is up: its failures are forgiven and nothing is owed.
    pub(super) fn established(&mut self, conn: &str, sa: SaId) {
        self.failures.remove(conn);
        self.due.remove(conn);
        self.automatic.remove(&sa);
    }

    /// The connection was taken down or unloaded: nothing is owed.
    pub(super) fn cancel(&mut self, conn: &str) {
        self.failures.remove(conn);
        self.due.remove(conn);
    }

    /// When the next restart is due.
    pub(super) fn deadline(&self) -> Option<Instant> {
        self.due.values().map(|(at, _)| *at).min()
    }

    /// The restarts due at `now`, removed from the books.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<(String, Restart)> {
        let names: Vec<String> = self
            .due
            .iter()
            .filter(|(_, (at, _))| *at <= now)
            .map(|(n, _)| n.clone())
            .collect();
        names
            .into_iter()
            .filter_map(|n| self.due.remove(&n).map(|(_, why)| (n, why)))
            .collect()
    }
}

/// The wait before attempt `failures + 1`: a dead peer is retried at once, a peer that closed
/// after a second (so a peer that keeps closing cannot make us spin), a failed attempt after
/// 1, 2, 4 … up to [`MAX_BACKOFF`] seconds.
fn backoff(why: Restart, failures: u32) -> Duration {
    match (why, failures) {
        (Restart::DeadPeer, 0) => Duration::ZERO,
        (_, 0) => Duration::from_secs(1),
        (_, n) => Duration::from_secs(1u64 << (n - 1).min(16)).min(MAX_BACKOFF),
    }
}

/// The longest wait between two automatic attempts.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl Driver {
    /// An IKE SA failed: an automatic attempt that failed is tried again (backing off); an
    /// established SA whose peer died follows its children's `dpd_action`.
    pub(super) fn recover_from_failure(&mut self, sa: SaId, lost: Option<&Lost>, error: &Error) {
        let automatic = self.restarts.was_automatic(sa);
        let Some(lost) = lost else {
            return;
        };
        let Some(conn) = self.conn(&lost.connection) else {
            return;
        };
        if !lost.established {
            let again = lost.initiator && (automatic || conn.start_action == StartAction::Start);
            let plan = Plan::new(conn, again, Vec::new());
            return self.carry_out(plan, Restart::AttemptFailed);
        }
        if *error != Error::Timeout {
            return;
        }
        let restart = conn
            .children
            .iter()
            .any(|c| c.dpd_action == DpdAction::Restart);
        let traps = conn
            .children
            .iter()
            .filter(|c| c.dpd_action == DpdAction::Trap);
        let plan = Plan::new(conn, restart, traps.map(|c| c.name.clone()).collect());
        self.carry_out(plan, Restart::DeadPeer);
    }

    /// The peer deleted an established IKE SA: unless another IKE SA of the connection stands,
    /// its children's `close_action` applies.
    pub(super) fn recover_from_peer_close(&mut self, lost: &Lost) {
        if self
            .sas
            .values()
            .any(|e| e.connection == lost.connection && e.state == SaState::Established)
        {
            return;
        }
        let Some(conn) = self.conn(&lost.connection) else {
            return;
        };
        let restart = conn
            .children
            .iter()
            .any(|c| c.close_action == CloseAction::Start);
        let traps = conn
            .children
            .iter()
            .filter(|c| c.close_action == CloseAction::Trap);
        let plan = Plan::new(conn, restart, traps.map(|c| c.name.clone()).collect());
        self.carry_out(plan, Restart::ClosedByPeer);
    }

    fn carry_out(&mut self, plan: Plan, why: Restart) {
        if plan.restart {
            self.owe_restart(&plan.connection, why, plan.keyingtries);
        }
        self.trap_children(&plan.connection, &plan.traps);
    }

    /// The peer deleted Child SA `child` of the IKE SA `sa`, which still stands, and no rekey
    /// replaced it: its `close_action` applies.
    pub(super) fn recover_child(&mut self, sa: SaId, child: &str) {
        let Some(entry) = self.sas.get(&sa) else {
            return;
        };
        if entry.children.iter().any(|c| c.name == child) || !self.endpoint.has_sa(sa) {
            return;
        }
        let connection = entry.connection.clone();
        let action = self
            .conn(&connection)
            .and_then(|c| c.children.iter().find(|c| c.name == child))
            .map(|c| c.close_action);
        match action {
            Some(CloseAction::Start) => {
                tracing::info!(%connection, %child, "peer closed the Child SA: creating it again (close_action = start)");
                self.count("child_sa_restarts");
                if let Err(e) = self.endpoint.create_child(Instant::now(), sa, child) {
                    tracing::warn!(child, "Child SA not restarted: {e}");
                }
            }
            Some(CloseAction::Trap) => self.trap_children(&connection, &[child.to_string()]),
            _ => {}
        }
    }

    /// Initiates the connections whose restart is due.
    pub(super) fn restarts_due(&mut self, now: Instant) {
        for (name, why) in self.restarts.take_due(now) {
            if self.sas.values().any(|e| e.connection == name) {
                continue;
            }
            tracing::info!(connection = %name, why = why.as_str(), "initiating again");
            self.count("connection_restarts");
            match self.initiate(&name) {
                Ok(sa) => self.restarts.initiated(sa),
                Err((_, e)) => {
                    tracing::warn!(connection = %name, error = %e, "cannot initiate");
                    let tries = self.conn(&name).map_or(0, |c| c.keyingtries);
                    self.owe_restart(&name, Restart::AttemptFailed, tries);
                }
            }
        }
    }

    /// The peer's NAT binding changed: the IKE SA's record and its installed Child SAs follow.
    pub(super) fn peer_moved(&mut self, sa: SaId, local: SocketAddr, remote: SocketAddr) {
        let Some(entry) = self.sas.get_mut(&sa) else {
            return;
        };
        entry.local = local;
        entry.remote = remote;
        let spis: Vec<EspSpi> = entry.children.iter().map(|c| c.inbound_spi).collect();
        entry.span.in_scope(
            || tracing::info!(%remote, children = spis.len(), "peer moved: Child SAs follow"),
        );
        self.count("peer_address_changes");
        for spi in spis {
            self.sink.move_peer(spi, remote);
        }
    }

    fn owe_restart(&mut self, name: &str, why: Restart, keyingtries: u32) {
        match self
            .restarts
            .schedule(name, why, Instant::now(), keyingtries)
        {
            Some(delay) => {
                tracing::info!(connection = %name, why = why.as_str(), delay_ms = delay.as_millis() as u64, "initiating again after a delay")
            }
            None => {
                self.count("restarts_given_up");
                tracing::warn!(connection = %name, keyingtries, "giving up after keyingtries failed attempts in a row");
            }
        }
    }
}

/// What to do for a connection that lost its IKE SA.
struct Plan {
    connection: String,
    keyingtries: u32,
    restart: bool,
    traps: Vec<String>,
}

impl Plan {
    /// A restart only for a connection that can initiate (it has a concrete remote address).
    fn new(conn: &Connection, restart: bool, traps: Vec<String>) -> Self {
        Self {
            connection: conn.name.clone(),
            keyingtries: conn.keyingtries,
            restart: restart && conn.initiate_to().is_some(),
            traps,
        }
    }
}

/// What the driver knew of an IKE SA it lost.
pub(super) struct Lost {
    pub(super) connection: String,
    pub(super) initiator: bool,
    pub(super) established: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use ikev2::wire::IkeSpi;

    #[test]
    fn failed_attempts_back_off_exponentially_up_to_the_cap() {
        let mut r = Restarts::default();
        let now = Instant::now();
        let delays: Vec<u64> = (0..9)
            .map(|_| {
                let d = r
                    .schedule("c", Restart::AttemptFailed, now, 0)
                    .expect("forever");
                r.take_due(now + d);
                d.as_secs()
            })
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn keyingtries_ends_the_attempts_and_success_forgives_failures() {
        let mut r = Restarts::default();
        let now = Instant::now();
        assert!(r.schedule("c", Restart::AttemptFailed, now, 3).is_some());
        assert!(r.schedule("c", Restart::AttemptFailed, now, 3).is_some());
        assert_eq!(
            r.schedule("c", Restart::AttemptFailed, now, 3),
            None,
            "third failure"
        );
        assert_eq!(r.deadline(), None, "nothing owed after giving up");
        r.schedule("c", Restart::AttemptFailed, now, 3);
        r.established("c", SaId(IkeSpi(7)));
        assert_eq!(r.deadline(), None);
        assert_eq!(
            r.schedule("c", Restart::AttemptFailed, now, 3),
            Some(Duration::from_secs(1)),
            "counting starts over"
        );
    }

    #[test]
    fn a_dead_peer_is_retried_at_once_and_a_close_after_a_second() {
        let mut r = Restarts::default();
        let now = Instant::now();
        assert_eq!(
            r.schedule("a", Restart::DeadPeer, now, 0),
            Some(Duration::ZERO)
        );
        assert_eq!(
            r.schedule("b", Restart::ClosedByPeer, now, 0),
            Some(Duration::from_secs(1))
        );
        let due = r.take_due(now);
        assert_eq!(due, [("a".to_string(), Restart::DeadPeer)]);
        assert_eq!(r.deadline(), Some(now + Duration::from_secs(1)));
        r.cancel("b");
        assert_eq!(r.deadline(), None);
    }

    #[test]
    fn the_sooner_of_two_owed_restarts_wins() {
        let mut r = Restarts::default();
        let now = Instant::now();
        r.schedule("c", Restart::ClosedByPeer, now, 0);
        r.schedule("c", Restart::DeadPeer, now, 0);
        assert_eq!(r.take_due(now), [("c".to_string(), Restart::DeadPeer)]);
    }
}
