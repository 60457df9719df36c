//! Phase timings of one UE's registration and their summary over many UEs.

use std::time::Duration;

use serde::Serialize;

use super::session::PduSessionReport;

/// The phases of one registration, as the UE sees them (milliseconds in the output).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The QKD key fetched from the KME for the PPK (only with a QKD PPK).
    KmeFetch,
    /// IKE_SA_INIT request sent to its response.
    IkeSaInit,
    /// IKE_INTERMEDIATE exchanges (the ML-KEM additional key exchange).
    IkeIntermediate,
    /// First IKE_AUTH request to the IKE SA established: EAP-5G rounds, the AMF's 5G-AKA and
    /// security mode, and the final AUTH with KN3IWF.
    IkeAuth,
    /// UE start to the signalling Child SA installed.
    SignallingSaUp,
    /// Signalling SA up to the NAS TCP connection established through it.
    NasTcpConnect,
    /// NAS TCP up to REGISTRATION COMPLETE sent (after REGISTRATION ACCEPT over TCP).
    NasRegistration,
    /// UE start to REGISTRATION COMPLETE sent.
    Total,
    /// PDU SESSION ESTABLISHMENT REQUEST sent to the N3IWF's CREATE_CHILD_SA request received.
    PduCreateChildSa,
    /// That CREATE_CHILD_SA request to the user-plane Child SA installed.
    PduChildSaUp,
    /// The user-plane Child SA up to PDU SESSION ESTABLISHMENT ACCEPT received.
    PduAccept,
    /// PDU SESSION ESTABLISHMENT REQUEST sent to the ACCEPT received.
    PduTotal,
}

impl Phase {
    pub const ALL: [Self; 12] = [
        Self::KmeFetch,
        Self::IkeSaInit,
        Self::IkeIntermediate,
        Self::IkeAuth,
        Self::SignallingSaUp,
        Self::NasTcpConnect,
        Self::NasRegistration,
        Self::Total,
        Self::PduCreateChildSa,
        Self::PduChildSaUp,
        Self::PduAccept,
        Self::PduTotal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::KmeFetch => "kme_fetch",
            Self::IkeSaInit => "ike_sa_init",
            Self::IkeIntermediate => "ike_intermediate",
            Self::IkeAuth => "ike_auth",
            Self::SignallingSaUp => "signalling_sa_up",
            Self::NasTcpConnect => "nas_tcp_connect",
            Self::NasRegistration => "nas_registration",
            Self::Total => "total",
            Self::PduCreateChildSa => "pdu_create_child_sa",
            Self::PduChildSaUp => "pdu_child_sa_up",
            Self::PduAccept => "pdu_accept",
            Self::PduTotal => "pdu_total",
        }
    }
}

/// What one UE measured: phase durations, EAP rounds and what it was given.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UeReport {
    pub index: usize,
    pub supi: String,
    /// (phase, milliseconds) in the order measured.
    pub phases: Vec<(Phase, f64)>,
    pub eap_rounds: u32,
    pub inner_address: Option<String>,
    pub nas_endpoint: Option<String>,
    pub ppk_id: Option<String>,
    /// The PDU session and its traffic, when one was asked for.
    pub pdu_session: Option<PduSessionReport>,
}

impl UeReport {
    pub fn record(&mut self, phase: Phase, took: Duration) {
        self.phases.retain(|(p, _)| *p != phase);
        self.phases.push((phase, took.as_secs_f64() * 1e3));
    }

    pub fn get(&self, phase: Phase) -> Option<f64> {
        self.phases
            .iter()
            .find(|(p, _)| *p == phase)
            .map(|(_, ms)| *ms)
    }
}

/// p50 and p90 of one phase over the UEs that measured it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseStats {
    pub phase: Phase,
    pub count: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub max_ms: f64,
}

/// The run over all UEs.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub ues: usize,
    pub registered: usize,
    pub failed: usize,
    /// First UE start to last REGISTRATION COMPLETE, seconds.
    pub wall_s: f64,
    pub registrations_per_s: f64,
    pub phases: Vec<PhaseStats>,
}

impl Summary {
    pub fn new(reports: &[UeReport], failed: usize, wall: Duration) -> Self {
        let wall_s = wall.as_secs_f64();
        let registered = reports.len();
        let phases = Phase::ALL
            .iter()
            .filter_map(|&phase| {
                let values: Vec<f64> = reports.iter().filter_map(|r| r.get(phase)).collect();
                phase_stats(phase, values)
            })
            .collect();
        Self {
            ues: registered + failed,
            registered,
            failed,
            wall_s,
            registrations_per_s: if wall_s > 0.0 {
                registered as f64 / wall_s
            } else {
                0.0
            },
            phases,
        }
    }

    /// The text form: one line per phase.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} of {} UEs registered in {:.3} s: {:.1} registrations/s ({} failed)\n",
            self.registered, self.ues, self.wall_s, self.registrations_per_s, self.failed
        );
        out.push_str(&format!(
            "  {:<18} {:>6} {:>10} {:>10} {:>10}\n",
            "phase", "UEs", "p50 ms", "p90 ms", "max ms"
        ));
        for s in &self.phases {
            out.push_str(&format!(
                "  {:<18} {:>6} {:>10.2} {:>10.2} {:>10.2}\n",
                s.phase.name(),
                s.count,
                s.p50_ms,
                s.p90_ms,
                s.max_ms
            ));
        }
        out
    }
}

fn phase_stats(phase: Phase, mut values: Vec<f64>) -> Option<PhaseStats> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    Some(PhaseStats {
        phase,
        count: values.len(),
        p50_ms: percentile(&values, 50),
        p90_ms: percentile(&values, 90),
        max_ms: values[values.len() - 1],
    })
}

/// Nearest-rank percentile of sorted, non-empty `values`.
pub fn percentile(values: &[f64], pct: usize) -> f64 {
    let rank = (pct * values.len()).div_ceil(100).max(1);
    values[rank.min(values.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(index: usize, ike_auth_ms: u64) -> UeReport {
        let mut r = UeReport {
            index,
            ..UeReport::default()
        };
        r.record(Phase::IkeAuth, Duration::from_millis(ike_auth_ms));
        r
    }

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&v, 50), 5.0);
        assert_eq!(percentile(&v, 90), 9.0);
        assert_eq!(percentile(&[7.0], 90), 7.0);
        assert_eq!(percentile(&[1.0, 2.0], 50), 1.0);
    }

    #[test]
    fn summary_counts_rates_and_orders_phases() {
        let reports: Vec<UeReport> = (0..20).map(|i| report(i, 100 + i as u64)).collect();
        let s = Summary::new(&reports, 2, Duration::from_secs(4));
        assert_eq!((s.ues, s.registered, s.failed), (22, 20, 2));
        assert_eq!(s.registrations_per_s, 5.0);
        assert_eq!(s.phases.len(), 1, "only measured phases");
        let auth = &s.phases[0];
        assert_eq!((auth.phase, auth.count), (Phase::IkeAuth, 20));
        assert_eq!(
            (auth.p50_ms, auth.p90_ms, auth.max_ms),
            (109.0, 117.0, 119.0)
        );
        let text = s.to_text();
        assert!(text.starts_with("20 of 22 UEs registered in 4.000 s: 5.0 registrations/s"));
        assert!(text.contains("ike_auth"));
    }

    #[test]
    fn recording_a_phase_again_replaces_it() {
        let mut r = report(0, 5);
        r.record(Phase::IkeAuth, Duration::from_millis(9));
        assert_eq!(r.get(Phase::IkeAuth), Some(9.0));
        assert_eq!(r.phases.len(), 1);
    }

    #[test]
    fn json_names_phases_in_snake_case() {
        let s = Summary::new(&[report(0, 3)], 0, Duration::ZERO);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"phase\":\"ike_auth\""), "{json}");
        assert_eq!(s.registrations_per_s, 0.0);
    }
}
