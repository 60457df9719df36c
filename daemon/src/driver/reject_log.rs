//! Log lines for refused IKE_SA_INIT requests and failed IKE_AUTH exchanges. They come from
//! unauthenticated traffic, so at most [`PER_SECOND`] lines are written each second; the rest
//! are counted and summed up in one line when the next second starts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ikev2::wire::ExchangeType;

/// Lines per one-second window.
pub(crate) const PER_SECOND: u32 = 10;
const WINDOW: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct RejectLog {
    window_start: Option<Instant>,
    written: u32,
    suppressed: u64,
}

impl RejectLog {
    /// Logs one rejection (or counts it when over the limit).
    pub(crate) fn log(
        &mut self,
        now: Instant,
        remote: SocketAddr,
        connection: Option<&str>,
        exchange: ExchangeType,
        reason: &str,
    ) {
        if self
            .window_start
            .is_none_or(|s| now.saturating_duration_since(s) >= WINDOW)
        {
            if self.suppressed > 0 {
                tracing::warn!(
                    suppressed = self.suppressed,
                    "rejected IKE exchanges: suppressed {} log lines",
                    self.suppressed
                );
            }
            *self = Self {
                window_start: Some(now),
                ..Self::default()
            };
        }
        if self.written >= PER_SECOND {
            self.suppressed += 1;
            return;
        }
        self.written += 1;
        let conn = connection.unwrap_or("-");
        if exchange == ExchangeType::IKE_AUTH {
            tracing::warn!(peer = %remote, connection = conn, "IKE_AUTH failed from {remote} (connection {conn}): {reason}");
        } else if reason.starts_with("COOKIE") {
            tracing::info!(peer = %remote, "IKE_SA_INIT from {remote}: {reason}");
        } else {
            tracing::warn!(peer = %remote, connection = conn, "IKE_SA_INIT rejected from {remote} (connection {conn}): {reason}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_most_per_second_lines_then_a_summary() {
        let mut log = RejectLog::default();
        let t0 = Instant::now();
        let peer: SocketAddr = "192.0.2.1:500".parse().expect("addr");
        for _ in 0..25 {
            log.log(
                t0,
                peer,
                None,
                ExchangeType::IKE_SA_INIT,
                "NO_PROPOSAL_CHOSEN",
            );
        }
        assert_eq!((log.written, log.suppressed), (PER_SECOND, 15));
        log.log(t0 + WINDOW, peer, Some("net"), ExchangeType::IKE_AUTH, "x");
        assert_eq!((log.written, log.suppressed), (1, 0), "a new window");
    }
}
