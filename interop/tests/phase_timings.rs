//! Phase timings of our daemon against strongSwan 6 in the lab (reported, never asserted on:
//! performance is measured, not tested). `PQIO_RUNS` (default 10) bring-ups each way with
//! `aes256gcm16-prfsha384-x25519-ke1_mlkem768`, PSK, ESP in UDP, the same veth pair as
//! `peer_baseline`'s strongSwan ↔ strongSwan table:
//!
//! - iked initiating: our own per-exchange timings from `ikectl --json list-sas`, and
//!   "initiate → first packet" from our log's `initiating` line to the first reply that came
//!   back through the tunnel (`FirstPacketProbe`);
//! - strongSwan initiating: phases from charon's log, as in `peer_baseline`.
//!
//! The test checks that every phase was measured in every run. Needs root and the lab.

use std::collections::BTreeMap;
use std::time::Duration;

use interop::{
    FirstPacketProbe, PhaseSummary, PhaseTimings, Role, Spec, Timestamp, WAIT, median, report,
    timelines,
};

const PROPOSAL: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

fn runs() -> usize {
    std::env::var("PQIO_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// `YYYY-MM-DDTHH:MM:SS.uuuuuuZ` at the start of one of our log lines.
fn our_timestamp(line: &str) -> Option<Timestamp> {
    Timestamp::parse(line.get(..26)?)
}

fn table(rows: &BTreeMap<String, Vec<Duration>>) -> String {
    let mut out = format!(
        "{:<34} {:>10} {:>10} {:>10} {:>4}\n",
        "phase (ms)", "median", "min", "max", "n"
    );
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1e3);
    for (phase, v) in rows {
        let (min, max) = (v.iter().min().copied(), v.iter().max().copied());
        if let (Some(m), Some(lo), Some(hi)) = (median(v), min, max) {
            out.push_str(&format!(
                "{phase:<34} {:>10} {:>10} {:>10} {:>4}\n",
                ms(m),
                ms(lo),
                ms(hi),
                v.len()
            ));
        }
    }
    out
}

#[test]
fn iked_and_strongswan_phase_timings() {
    let Some(pair) = interop::Pair::start(
        "phase_timings::iked_and_strongswan_phase_timings",
        Spec::new("timing", PROPOSAL, "aes256gcm16"),
    ) else {
        return;
    };
    let (l, r) = (pair.lab.left(), pair.lab.right());
    let n = runs();

    // iked initiates.
    let mut ours: BTreeMap<String, Vec<Duration>> = BTreeMap::new();
    for _ in 0..n {
        let mark = pair.iked.log_mark();
        let probe = FirstPacketProbe::start(l, r.inner(), Duration::from_secs(20)).expect("probe");
        pair.iked.up(interop::CONN).expect("ikectl up");
        let first = probe.wait(WAIT).expect("first packet");
        let sa = pair
            .iked
            .wait_established(interop::CONN, WAIT)
            .expect("established");
        for p in &sa.timings {
            ours.entry(p.phase.clone())
                .or_default()
                .push(Duration::from_micros(p.micros));
        }
        let line = pair
            .iked
            .wait_log(mark, &["initiating"], WAIT)
            .expect("initiating");
        let start = our_timestamp(&line).unwrap_or_else(|| panic!("no timestamp in {line}"));
        ours.entry("initiate -> first packet".into())
            .or_default()
            .push(first.reply.since(start));
        pair.down();
    }
    for phase in [
        "IKE_SA_INIT",
        "IKE_INTERMEDIATE",
        "IKE_AUTH",
        "initiate -> first packet",
    ] {
        assert_eq!(
            ours.get(phase).map(Vec::len),
            Some(n),
            "{phase} in every run: {ours:?}"
        );
    }
    report(&format!(
        "=== iked -> strongSwan phase timings (iked initiating, {PROPOSAL}, ESP in UDP, median of {n}, iked's own timings)\n{}",
        table(&ours)
    ));

    // strongSwan initiates.
    let mark = pair.charon.log_mark();
    let mut first_packets = Vec::new();
    for _ in 0..n {
        let probe = FirstPacketProbe::start(r, l.inner(), Duration::from_secs(20)).expect("probe");
        pair.initiate(Role::PeerInitiates)
            .expect("swanctl --initiate");
        first_packets.push(probe.wait(WAIT).expect("first packet"));
        pair.charon.terminate_ike(interop::CONN).expect("terminate");
        pair.iked
            .wait_sas(WAIT, |s| s.is_empty().then_some(()))
            .expect("our SAs gone");
    }
    let log = pair.charon.log();
    let initiated: Vec<_> = timelines(&log[mark..])
        .into_iter()
        .filter(|t| t.initiated.is_some())
        .collect();
    assert_eq!(
        initiated.len(),
        n,
        "one IKE SA per initiation in charon's log"
    );
    let phases: Vec<PhaseTimings> = initiated
        .iter()
        .zip(&first_packets)
        .map(|(t, fp)| PhaseTimings::from_timeline(t).with_first_packet(t, fp.reply))
        .collect();
    let summary = PhaseSummary::new(&phases);
    for phase in ["IKE_SA_INIT", "IKE_INTERMEDIATE", "IKE_AUTH"] {
        assert!(summary.median(phase).is_some(), "no {phase} timing");
    }
    report(&format!(
        "=== strongSwan -> iked phase timings (strongSwan initiating, median of {n}, charon's log)\n{summary}"
    ));
}
