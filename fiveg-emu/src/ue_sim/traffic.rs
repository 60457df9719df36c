//! The traffic a UE sends through its PDU session once it is up, sans-IO: pings to a target,
//! counted with their round-trip times, then a byte-checked TCP transfer to an echo server
//! (a known pattern sent, read back and compared).

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::user_plane::UserPlane;
use crate::inner::{ConnId, StackEvent};

const PING_PAYLOAD: &[u8] = b"ue-sim pdu session ping";
/// How long the last echo request may wait for its reply.
const PING_GRACE: Duration = Duration::from_secs(2);

/// What to send.
#[derive(Clone, Copy, Debug)]
pub struct TrafficPlan {
    /// Echo requests: target, count and interval.
    pub ping: Option<(Ipv4Addr, u16, Duration)>,
    /// The TCP echo server and the octets to send it.
    pub echo: Option<(SocketAddrV4, usize)>,
}

/// What the traffic did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TrafficReport {
    pub ping_target: Option<String>,
    pub ping_sent: u16,
    pub ping_received: u16,
    /// Round-trip times in milliseconds, in the order the replies came.
    pub rtt_ms: Vec<f64>,
    pub tcp_target: Option<String>,
    pub tcp_bytes_sent: usize,
    pub tcp_bytes_echoed: usize,
    /// Every octet came back in order and equal.
    pub tcp_intact: Option<bool>,
    pub tcp_ms: Option<f64>,
    pub error: Option<String>,
}

enum Stage {
    Ping { next: u16, at: Instant },
    PingWait { until: Instant },
    Tcp,
    Done,
}

/// The traffic procedure of one UE.
pub struct Traffic {
    plan: TrafficPlan,
    stage: Stage,
    report: TrafficReport,
    conn: Option<ConnId>,
    sent: usize,
    echoed: usize,
    tcp_started: Option<Instant>,
}

/// Octet `i` of the TCP pattern: not periodic at any power of two a buffer might have.
fn pattern(i: usize) -> u8 {
    (i % 251) as u8
}

impl Traffic {
    pub fn new(plan: TrafficPlan, now: Instant) -> Self {
        let stage = match plan.ping {
            Some(_) => Stage::Ping { next: 0, at: now },
            None => Stage::Tcp,
        };
        Self {
            plan,
            stage,
            report: TrafficReport {
                ping_target: plan.ping.map(|(t, ..)| t.to_string()),
                tcp_target: plan.echo.map(|(a, _)| a.to_string()),
                ..TrafficReport::default()
            },
            conn: None,
            sent: 0,
            echoed: 0,
            tcp_started: None,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.stage, Stage::Done)
    }

    pub fn report(&self) -> &TrafficReport {
        &self.report
    }

    /// Runs what is due; returns when it wants to run again (besides on received packets).
    pub fn step(&mut self, up: &mut UserPlane, now: Instant) -> Option<Instant> {
        for (_, rtt) in up.take_replies() {
            self.report.ping_received += 1;
            self.report.rtt_ms.push(rtt.as_secs_f64() * 1e3);
        }
        match self.stage {
            Stage::Ping { next, at } => self.ping(up, next, at, now),
            Stage::PingWait { until } => {
                if now >= until || self.report.ping_received == self.report.ping_sent {
                    self.stage = Stage::Tcp;
                    return self.step(up, now);
                }
                Some(until)
            }
            Stage::Tcp => self.tcp(up, now),
            Stage::Done => None,
        }
    }

    fn ping(
        &mut self,
        up: &mut UserPlane,
        next: u16,
        at: Instant,
        now: Instant,
    ) -> Option<Instant> {
        let (target, count, interval) = self.plan.ping?;
        if next >= count {
            self.stage = Stage::PingWait {
                until: now + PING_GRACE,
            };
            return Some(now + PING_GRACE);
        }
        if now < at {
            return Some(at);
        }
        up.ping(target, next, PING_PAYLOAD, now);
        self.report.ping_sent += 1;
        let at = now + interval;
        self.stage = Stage::Ping { next: next + 1, at };
        Some(at)
    }

    fn tcp(&mut self, up: &mut UserPlane, now: Instant) -> Option<Instant> {
        let Some((server, total)) = self.plan.echo else {
            self.stage = Stage::Done;
            return None;
        };
        let stack = up.stack();
        let conn = match self.conn {
            Some(c) => c,
            None => match stack.connect(SocketAddr::V4(server)) {
                Ok(c) => {
                    self.conn = Some(c);
                    self.tcp_started = Some(now);
                    c
                }
                Err(e) => return self.fail(format!("TCP connect: {e}")),
            },
        };
        while let Some(event) = stack.poll_event() {
            if let StackEvent::Closed(..) | StackEvent::PeerClosed(_) = event
                && self.echoed < total
            {
                return self.fail(format!("TCP connection ended early: {event:?}"));
            }
        }
        while self.sent < total {
            let chunk: Vec<u8> = (self.sent..total.min(self.sent + 16384))
                .map(pattern)
                .collect();
            match stack.send(conn, &chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => self.sent += n,
            }
        }
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = stack.recv(conn, &mut buf) {
            if buf[..n]
                .iter()
                .enumerate()
                .any(|(i, b)| *b != pattern(self.echoed + i))
            {
                self.report.tcp_intact = Some(false);
            }
            self.echoed += n;
        }
        self.report.tcp_bytes_sent = self.sent;
        self.report.tcp_bytes_echoed = self.echoed;
        if self.echoed >= total {
            self.report.tcp_intact.get_or_insert(self.echoed == total);
            self.report.tcp_ms = self.tcp_started.map(|t| (now - t).as_secs_f64() * 1e3);
            let _ = stack.close(conn);
            self.stage = Stage::Done;
        }
        None
    }

    fn fail(&mut self, why: String) -> Option<Instant> {
        self.report.error = Some(why);
        self.report.tcp_intact = Some(false);
        self.stage = Stage::Done;
        None
    }
}

#[cfg(test)]
mod tests {
    use super::pattern;

    #[test]
    fn the_pattern_does_not_repeat_at_buffer_sizes() {
        for period in [256, 1024, 4096, 65536] {
            assert_ne!(pattern(1), pattern(1 + period), "{period}");
        }
    }
}
