//! Caps on concurrent KME requests. A responder fetches the key a peer names (`dec_keys`)
//! before it can check the peer's AUTH, so unauthenticated peers could otherwise make it open
//! any number of requests and TLS connections: at most `max_requests` run at once (each on one
//! of as many kept-alive connections), as many more wait in a queue, and one peer address has
//! at most `max_requests_per_peer` running or queued. Everything else is refused at once.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;

/// Running and queued requests, by peer address.
pub(super) struct KmeRequests<T> {
    running: usize,
    by_peer: HashMap<IpAddr, usize>,
    queue: VecDeque<(IpAddr, T)>,
}

/// What became of a new request.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Admission<T> {
    /// Start it now.
    Run(T),
    /// Queued behind the running ones.
    Queued,
    /// Refused, and why.
    Refused(String),
}

impl<T> Default for KmeRequests<T> {
    fn default() -> Self {
        Self {
            running: 0,
            by_peer: HashMap::new(),
            queue: VecDeque::new(),
        }
    }
}

impl<T> KmeRequests<T> {
    /// Admits `job` for `peer` under the caps.
    pub(super) fn admit(
        &mut self,
        peer: IpAddr,
        job: T,
        max: usize,
        max_per_peer: usize,
    ) -> Admission<T> {
        let from_peer = self.by_peer.get(&peer).copied().unwrap_or(0);
        if from_peer >= max_per_peer {
            return Admission::Refused(format!(
                "{from_peer} KME requests for IKE SAs with {peer} already (qkd.max_requests_per_peer)"
            ));
        }
        if self.running < max {
            self.running += 1;
            *self.by_peer.entry(peer).or_default() += 1;
            return Admission::Run(job);
        }
        if self.queue.len() >= max {
            return Admission::Refused(format!(
                "{} KME requests running and {} queued (qkd.max_requests)",
                self.running,
                self.queue.len()
            ));
        }
        *self.by_peer.entry(peer).or_default() += 1;
        self.queue.push_back((peer, job));
        Admission::Queued
    }

    /// A request for `peer` ended; returns the next queued one to start, if any (it runs in
    /// the slot just freed).
    pub(super) fn finished(&mut self, peer: IpAddr, max: usize) -> Option<T> {
        self.running = self.running.saturating_sub(1);
        self.release(peer);
        if self.running >= max {
            return None;
        }
        let (_, job) = self.queue.pop_front()?;
        self.running += 1;
        Some(job)
    }

    /// Running and queued requests.
    #[cfg(test)]
    fn load(&self) -> (usize, usize) {
        (self.running, self.queue.len())
    }

    fn release(&mut self, peer: IpAddr) {
        if let Some(n) = self.by_peer.get_mut(&peer) {
            *n -= 1;
            if *n == 0 {
                self.by_peer.remove(&peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([192, 0, 2, last])
    }

    #[test]
    fn caps_run_then_queue_then_refuse_and_queued_requests_start_in_order() {
        let mut r = KmeRequests::default();
        assert_eq!(r.admit(ip(1), 1, 2, 2), Admission::Run(1));
        assert_eq!(r.admit(ip(2), 2, 2, 2), Admission::Run(2));
        assert_eq!(r.admit(ip(3), 3, 2, 2), Admission::Queued);
        assert_eq!(r.admit(ip(4), 4, 2, 2), Admission::Queued);
        assert_eq!(
            r.admit(ip(5), 5, 2, 2),
            Admission::Refused("2 KME requests running and 2 queued (qkd.max_requests)".into())
        );
        assert_eq!(r.load(), (2, 2));
        assert_eq!(r.finished(ip(1), 2), Some(3));
        assert_eq!(r.finished(ip(2), 2), Some(4));
        assert_eq!(r.finished(ip(3), 2), None);
        assert_eq!(r.finished(ip(4), 2), None);
        assert_eq!(r.load(), (0, 0));
        assert!(r.by_peer.is_empty());
    }

    #[test]
    fn one_peer_gets_at_most_its_share_running_or_queued() {
        let mut r = KmeRequests::default();
        assert_eq!(r.admit(ip(1), 1, 2, 2), Admission::Run(1));
        assert_eq!(r.admit(ip(1), 2, 2, 2), Admission::Run(2));
        assert_eq!(
            r.admit(ip(1), 3, 2, 2),
            Admission::Refused(
                "2 KME requests for IKE SAs with 192.0.2.1 already (qkd.max_requests_per_peer)"
                    .into()
            )
        );
        assert_eq!(
            r.admit(ip(2), 4, 2, 2),
            Admission::Queued,
            "others still queue"
        );
        assert_eq!(r.finished(ip(1), 2), Some(4));
        assert_eq!(r.admit(ip(1), 5, 2, 2), Admission::Queued);
        assert_eq!(r.load(), (2, 1));
    }
}
