//! The responder process: one endpoint fed by the initiator process over stdin, answering on
//! stdout, so that its resident memory is its own.

use std::io::{self, BufReader, BufWriter, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use benches::{Scenario, connection};
use ikev2::{Endpoint, EndpointConfig, Event};

use super::link::{self, Frame, Report};
use super::{drive_timers, live, rss_bytes};

/// Serves until the initiator says [`Frame::Quit`] (or closes the pipe).
pub(crate) fn run(scenario: &Scenario) -> io::Result<()> {
    let mut rx = BufReader::new(io::stdin().lock());
    let mut tx = BufWriter::new(io::stdout().lock());
    let (rss0, heap0) = (rss_bytes(), live());
    let config = EndpointConfig {
        connections: vec![Arc::new(connection(scenario, false))],
        ..EndpointConfig::default()
    };
    let mut ep = Endpoint::new(config, ipsec_crypto::default_provider());
    let now = Instant::now();
    let mut report = Report::default();
    let mut cpu = Duration::ZERO;
    loop {
        let quit = match link::read(&mut rx)? {
            Frame::Datagram(d) => {
                let t = Instant::now();
                ep.handle_datagram(now, d.remote, d.local, &d.data);
                drive_timers(&mut ep, now);
                cpu += t.elapsed();
                continue;
            }
            Frame::Flush => false,
            Frame::Quit => true,
            Frame::Report(_) => return Err(io::Error::other("unexpected report frame")),
        };
        count_events(&mut ep, &mut report);
        while let Some(t) = ep.poll_transmit() {
            link::write(&mut tx, &Frame::Datagram(t))?;
        }
        report.cpu_ns = u64::try_from(cpu.as_nanos()).unwrap_or(u64::MAX);
        report.rss_bytes = rss_bytes().saturating_sub(rss0) as u64;
        report.heap_bytes = live().saturating_sub(heap0) as u64;
        report.sas = ep.sa_count() as u64;
        link::write(&mut tx, &Frame::Report(report))?;
        tx.flush()?;
        if quit {
            return Ok(());
        }
    }
}

fn count_events(ep: &mut Endpoint, r: &mut Report) {
    while let Some(e) = ep.poll_event() {
        match e {
            Event::IkeSaEstablished { .. } => r.established += 1,
            Event::IkeSaClosed { .. } => r.closed += 1,
            Event::IkeSaFailed { .. } => r.failures += 1,
            _ => {}
        }
    }
}
