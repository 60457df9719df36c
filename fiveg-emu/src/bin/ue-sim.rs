//! `ue-sim`: emulated UEs that register through an N3IWF, on real UDP sockets, and print the
//! phase timings. It is an emulator (no UE stack with N3IWF support runs on the machines this
//! project is tested on); its IKEv2 side is our engine as initiator.
//!
//! ```text
//! ue-sim --n3iwf 10.0.0.1 --ca ca.pem --n3iwf-id n3iwf.example
//! ue-sim --n3iwf 10.0.0.1 --ca ca.pem --ppk qkd --kme-url https://127.0.0.1:8443 \
//!        --kme-cert ue.pem --kme-key ue.key --kme-ca kme-ca.pem --qkd-peer-sae-id n3iwf
//! ue-sim --n3iwf 10.0.0.1 --ca ca.pem --ues 200 --rate 100 --concurrency 64 --json
//! ue-sim --print-amf-subscribers 200 > amf.toml     # the same USIMs for amf-sim
//! ```
//!
//! When every UE has an outcome it prints the timings (text, or JSON with `--json`) and writes
//! the same JSON to `--result-file` (a readiness signal for scripts). With `--hold` the
//! registered UEs stay until SIGTERM or SIGINT; otherwise they delete their IKE SAs at once.
//! Exits 1 if any UE failed, naming each failure's UE, stage and reason; 2 on bad arguments.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use fiveg_emu::inner::gre::ProtocolType;
use fiveg_emu::ue_sim::kme::{KmeSettings, KmeSource};
use fiveg_emu::ue_sim::params::pem_der;
use fiveg_emu::ue_sim::session::PduSessionReport;
use fiveg_emu::ue_sim::traffic::TrafficPlan;
use fiveg_emu::ue_sim::{Fallback, HYBRID, PduSessionPlan, Plan, Run, Subscribers, UeParams};
use tokio::signal::unix::{SignalKind, signal};

/// Emulated UEs registering through an N3IWF (IKEv2 + EAP-5G, then NAS over TCP).
#[derive(Parser, Debug)]
#[command(version)]
struct Args {
    /// The N3IWF's IKE address.
    #[arg(long, required_unless_present = "print_amf_subscribers")]
    n3iwf: Option<IpAddr>,
    /// The N3IWF's IKE port.
    #[arg(long, default_value_t = 500)]
    n3iwf_port: u16,
    /// Our outer address (default: the route's source towards the N3IWF).
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::UNSPECIFIED))]
    local: IpAddr,
    /// The CA certificate (PEM) that signs the N3IWF's certificate.
    #[arg(long, required_unless_present = "print_amf_subscribers")]
    ca: Option<PathBuf>,
    /// The N3IWF's identity (FQDN) to require.
    #[arg(long)]
    n3iwf_id: Option<String>,
    /// Subscribers in amf-sim's TOML format (`plmn`, `[[subscribers]]`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// PLMN (MCC-MNC) without --config: TS 35.208 test set 1 as subscriber 1.
    #[arg(long, default_value = "208-93")]
    plmn: String,
    /// IKE proposal (strongSwan syntax).
    #[arg(long, default_value = HYBRID)]
    proposal: String,
    /// ESP proposal of the signalling SA.
    #[arg(long, default_value = "aes256gcm16")]
    esp_proposal: String,
    /// PPK: none, or a QKD key from the KME (ETSI GS QKD 014), required (fail closed).
    #[arg(long, default_value = "none", value_parser = ["none", "qkd"])]
    ppk: String,
    #[arg(long)]
    kme_url: Option<String>,
    /// Our SAE certificate (PEM) for the KME's mutual TLS.
    #[arg(long)]
    kme_cert: Option<PathBuf>,
    #[arg(long)]
    kme_key: Option<PathBuf>,
    /// The CA of the KME's certificate.
    #[arg(long)]
    kme_ca: Option<PathBuf>,
    /// The N3IWF's SAE ID at the KME.
    #[arg(long)]
    qkd_peer_sae_id: Option<String>,
    #[arg(long, default_value_t = 256)]
    qkd_key_bits: u32,
    /// Number of UEs.
    #[arg(long, default_value_t = 1)]
    ues: usize,
    /// UEs started per second (0: as fast as --concurrency allows).
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// UEs registering at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Seconds each UE may take to register.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// Inner address to use when the N3IWF's final IKE_AUTH response carries no CP reply.
    #[arg(long)]
    inner_address: Option<Ipv4Addr>,
    /// NAS address:port to use when the final IKE_AUTH response carries no NAS notifies.
    #[arg(long)]
    nas: Option<SocketAddrV4>,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
    /// Write the JSON result here once every UE has an outcome.
    #[arg(long)]
    result_file: Option<PathBuf>,
    /// Keep registered UEs until SIGTERM or SIGINT.
    #[arg(long)]
    hold: bool,
    /// TCP buffer octets per UE's inner stack.
    #[arg(long, default_value_t = 8192)]
    tcp_buffer: usize,
    /// After registering, ask for a PDU session (this ID, 1 to 15), answer the N3IWF's
    /// user-plane CREATE_CHILD_SA and send the traffic below through GRE on it.
    #[arg(long, num_args = 0..=1, default_missing_value = "1")]
    pdu_session: Option<u8>,
    /// Ping this address from the PDU address (with --pdu-session).
    #[arg(long)]
    ping: Option<Ipv4Addr>,
    /// Echo requests to send.
    #[arg(long, default_value_t = 5)]
    ping_count: u16,
    /// Milliseconds between echo requests.
    #[arg(long, default_value_t = 200)]
    ping_interval_ms: u64,
    /// A TCP echo server to send a known pattern to and read it back from (with --pdu-session).
    #[arg(long)]
    tcp_echo: Option<SocketAddrV4>,
    /// Octets of the TCP transfer.
    #[arg(long, default_value_t = 65536)]
    tcp_echo_bytes: usize,
    /// The GRE Protocol Type the UE writes: the EtherType, or 0 as TS 24.502 §9.3.3 has it.
    #[arg(long, default_value = "ethertype", value_parser = ["ethertype", "zero"])]
    gre_protocol_type: String,
    /// Print amf-sim's `[[subscribers]]` for this many UEs and exit.
    #[arg(long)]
    print_amf_subscribers: Option<usize>,
}

impl Args {
    /// Checks what clap cannot, before anything starts.
    fn validate(&self) -> Result<(), String> {
        if self.ues == 0 || self.ues > 100_000 {
            return Err("--ues: 1 to 100000".into());
        }
        if !(self.rate >= 0.0 && self.rate.is_finite()) {
            return Err("--rate: a finite number of UEs per second, 0 for no pacing".into());
        }
        if self.concurrency == 0 {
            return Err("--concurrency: at least 1".into());
        }
        if self.ues > 1 && self.inner_address.is_some() {
            return Err("--inner-address is one address: only with --ues 1".into());
        }
        if !(1024..=1 << 20).contains(&self.tcp_buffer) {
            return Err("--tcp-buffer: 1024 to 1048576".into());
        }
        if self.pdu_session.is_some_and(|id| !(1..=15).contains(&id)) {
            return Err("--pdu-session: an ID from 1 to 15".into());
        }
        if self.pdu_session.is_none() && (self.ping.is_some() || self.tcp_echo.is_some()) {
            return Err("--ping and --tcp-echo go through a PDU session: add --pdu-session".into());
        }
        if self.ping_count == 0 || self.ping_interval_ms == 0 {
            return Err("--ping-count and --ping-interval-ms: at least 1".into());
        }
        if !(1..=1 << 30).contains(&self.tcp_echo_bytes) {
            return Err("--tcp-echo-bytes: 1 to 1073741824".into());
        }
        if self.ppk == "qkd" {
            let missing: Vec<&str> = [
                ("--kme-url", self.kme_url.is_none()),
                ("--kme-cert", self.kme_cert.is_none()),
                ("--kme-key", self.kme_key.is_none()),
                ("--kme-ca", self.kme_ca.is_none()),
                ("--qkd-peer-sae-id", self.qkd_peer_sae_id.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            if !missing.is_empty() {
                return Err(format!("--ppk qkd needs {}", missing.join(", ")));
            }
        }
        Ok(())
    }

    fn subscribers(&self) -> Result<Subscribers, String> {
        match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                Subscribers::from_toml(&text).map_err(|e| format!("{}: {}", path.display(), e.0))
            }
            None => Subscribers::test_set_1(&self.plmn).map_err(|e| e.0),
        }
    }

    fn kme(&self) -> Result<Option<Arc<KmeSource>>, String> {
        if self.ppk != "qkd" {
            return Ok(None);
        }
        let need = |o: &Option<PathBuf>| o.clone().unwrap_or_default();
        let settings = KmeSettings {
            url: self.kme_url.clone().unwrap_or_default(),
            cert: need(&self.kme_cert),
            key: need(&self.kme_key),
            ca: need(&self.kme_ca),
            peer_sae_id: self.qkd_peer_sae_id.clone().unwrap_or_default(),
            key_bits: self.qkd_key_bits,
            timeout: Duration::from_secs(5),
        };
        Ok(Some(Arc::new(KmeSource::new(
            &settings,
            self.concurrency.min(16),
        )?)))
    }

    fn params(&self, subscribers: &Subscribers) -> Result<UeParams, String> {
        let ca = self.ca.as_deref().ok_or("--ca is required")?;
        let pem = std::fs::read_to_string(ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        let n3iwf = self.n3iwf.ok_or("--n3iwf is required")?;
        Ok(UeParams {
            n3iwf: SocketAddr::new(n3iwf, self.n3iwf_port),
            bind: self.local,
            ca_der: pem_der(&pem).map_err(|e| format!("{}: {e}", ca.display()))?,
            n3iwf_id: self.n3iwf_id.clone(),
            ike_proposal: self.proposal.clone(),
            esp_proposal: self.esp_proposal.clone(),
            ppk: self.kme()?,
            plmn: subscribers.plmn,
            fallback: Fallback {
                inner: self.inner_address,
                nas: self.nas,
            },
            timeout: Duration::from_secs(self.timeout),
            tcp_buffer: self.tcp_buffer,
            pdu_session: self.pdu_session.map(|id| PduSessionPlan {
                id,
                gre: if self.gre_protocol_type == "zero" {
                    ProtocolType::Zero
                } else {
                    ProtocolType::EtherType
                },
                traffic: TrafficPlan {
                    ping: self.ping.map(|target| {
                        let interval = Duration::from_millis(self.ping_interval_ms);
                        (target, self.ping_count, interval)
                    }),
                    echo: self.tcp_echo.map(|server| (server, self.tcp_echo_bytes)),
                },
            }),
        })
    }

    fn plan(&self) -> Plan {
        Plan {
            ues: self.ues,
            rate: self.rate,
            concurrency: self.concurrency,
            linger: Duration::from_secs(2),
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = args.validate() {
        eprintln!("ue-sim: {e}");
        return ExitCode::from(2);
    }
    let subscribers = match args.subscribers() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("ue-sim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(n) = args.print_amf_subscribers {
        return match subscribers.amf_toml(n) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ue-sim: {}", e.0);
                ExitCode::from(2)
            }
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ue-sim: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(&args, &subscribers))
}

async fn run(args: &Args, subscribers: &Subscribers) -> ExitCode {
    let params = match args.params(subscribers) {
        Ok(p) => Arc::new(p),
        Err(e) => {
            eprintln!("ue-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let provider = ipsec_crypto::default_provider();
    let run = match fiveg_emu::ue_sim::run(args.plan(), subscribers, params, provider).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ue-sim: {e}");
            return ExitCode::from(2);
        }
    };
    let failed = !run.failures.is_empty() || run.reports.iter().any(traffic_failed);
    report(args, &run);
    if args.hold && !run.reports.is_empty() {
        eprintln!(
            "ue-sim: {} UEs registered; holding until SIGTERM or SIGINT",
            run.reports.len()
        );
        wait_for_signal().await;
    }
    run.leave().await;
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints the result and writes the result file.
fn report(args: &Args, run: &Run) {
    let summary = run.summary();
    // Per-UE lines only for small runs; the summary carries the distribution.
    let ues = if run.reports.len() <= 20 {
        &run.reports[..]
    } else {
        &[]
    };
    let json = serde_json::json!({
        "summary": summary,
        "ues": ues,
        "failures": run.failures,
    });
    if args.json {
        println!("{json:#}");
    } else {
        for r in ues {
            println!(
                "UE {} {} registered: inner {} NAS {} EAP rounds {}{}",
                r.index,
                r.supi,
                r.inner_address.as_deref().unwrap_or("-"),
                r.nas_endpoint.as_deref().unwrap_or("-"),
                r.eap_rounds,
                r.ppk_id
                    .as_ref()
                    .map(|id| format!(" PPK_ID {id}"))
                    .unwrap_or_default()
            );
            for (phase, ms) in &r.phases {
                println!("  {:<20} {ms:>10.2} ms", phase.name());
            }
            if let Some(p) = &r.pdu_session {
                print_pdu_session(p);
            }
        }
        print!("{}", summary.to_text());
    }
    for f in &run.failures {
        eprintln!(
            "ue-sim: UE {} ({}) failed in {}: {}",
            f.index, f.supi, f.stage, f.error
        );
    }
    if let Some(path) = &args.result_file
        && let Err(e) = write_atomically(path, &format!("{json:#}\n"))
    {
        eprintln!("ue-sim: {}: {e}", path.display());
    }
}

/// Pings all lost, or a TCP transfer that did not come back intact.
fn traffic_failed(report: &fiveg_emu::ue_sim::UeReport) -> bool {
    let Some(t) = report.pdu_session.as_ref().and_then(|p| p.traffic.as_ref()) else {
        return false;
    };
    (t.ping_sent > 0 && t.ping_received == 0) || t.tcp_intact == Some(false) || t.error.is_some()
}

fn print_pdu_session(p: &PduSessionReport) {
    println!(
        "  PDU session {}: address {} QFIs {:?} N3IWF GRE end {} SPIs in {} out {}",
        p.id,
        p.pdu_address.as_deref().unwrap_or("-"),
        p.qfis,
        p.n3iwf_up_address.as_deref().unwrap_or("-"),
        p.spi_in.as_deref().unwrap_or("-"),
        p.spi_out.as_deref().unwrap_or("-"),
    );
    let Some(t) = &p.traffic else { return };
    if let Some(target) = &t.ping_target {
        let rtts: Vec<String> = t.rtt_ms.iter().map(|ms| format!("{ms:.2}")).collect();
        println!(
            "  ping {target}: {} sent, {} received, RTT ms [{}]",
            t.ping_sent,
            t.ping_received,
            rtts.join(" ")
        );
    }
    if let Some(target) = &t.tcp_target {
        println!(
            "  TCP echo {target}: {} octets sent, {} echoed, intact {}, {:.2} ms",
            t.tcp_bytes_sent,
            t.tcp_bytes_echoed,
            t.tcp_intact.map_or_else(|| "-".into(), |ok| ok.to_string()),
            t.tcp_ms.unwrap_or(f64::NAN)
        );
    }
    if let Some(e) = &t.error {
        println!("  traffic error: {e}");
    }
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(tmp, path)
}

async fn wait_for_signal() {
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["ue-sim", "--n3iwf", "10.0.0.1", "--ca", "ca.pem"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).expect("parses")
    }

    #[test]
    fn defaults_are_one_ue_with_the_hybrid_proposal_and_no_ppk() {
        let a = args(&[]);
        assert!(a.validate().is_ok());
        assert_eq!(
            (a.ues, a.proposal.as_str(), a.ppk.as_str()),
            (1, HYBRID, "none")
        );
        assert_eq!(a.plan().offset(5), Duration::ZERO);
    }

    #[test]
    fn qkd_names_every_missing_kme_option() {
        let e = args(&["--ppk", "qkd", "--kme-url", "https://k"])
            .validate()
            .unwrap_err();
        assert_eq!(
            e,
            "--ppk qkd needs --kme-cert, --kme-key, --kme-ca, --qkd-peer-sae-id"
        );
    }

    #[test]
    fn bounds_are_checked() {
        assert!(args(&["--ues", "0"]).validate().is_err());
        assert!(args(&["--ues", "100001"]).validate().is_err());
        assert!(args(&["--ues", "100000"]).validate().is_ok());
        assert!(args(&["--concurrency", "0"]).validate().is_err());
        assert!(args(&["--rate=-1"]).validate().is_err());
        assert!(args(&["--tcp-buffer", "1023"]).validate().is_err());
        let one_address = args(&["--ues", "2", "--inner-address", "10.45.0.2"]);
        assert!(one_address.validate().unwrap_err().contains("--ues 1"));
    }

    #[test]
    fn pdu_session_options_are_checked() {
        assert_eq!(args(&["--pdu-session"]).pdu_session, Some(1));
        assert!(args(&["--pdu-session"]).validate().is_ok());
        assert!(args(&["--pdu-session", "16"]).validate().is_err());
        assert!(args(&["--pdu-session", "0"]).validate().is_err());
        assert!(args(&["--pdu-session", "15"]).validate().is_ok());
        let no_session = args(&["--ping", "10.61.0.1"]).validate().unwrap_err();
        assert!(no_session.contains("--pdu-session"));
        assert!(
            args(&["--pdu-session", "--ping-count", "0"])
                .validate()
                .is_err()
        );
        assert!(
            args(&["--pdu-session", "--tcp-echo-bytes", "0"])
                .validate()
                .is_err()
        );
    }

    #[test]
    fn printing_amf_subscribers_needs_no_n3iwf() {
        let a = Args::try_parse_from(["ue-sim", "--print-amf-subscribers", "2"]).unwrap();
        let text = a.subscribers().unwrap().amf_toml(2).unwrap();
        assert_eq!(text.matches("[[subscribers]]").count(), 2);
    }
}
