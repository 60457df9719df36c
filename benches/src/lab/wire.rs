//! Phase timings on the wire: iked ↔ iked, strongSwan ↔ strongSwan, iked → strongSwan and
//! strongSwan → iked, over the same kind of veth pair in one run.
//!
//! strongSwan's phases come from the initiator's log (`interop::timelines`); ours from the
//! initiating daemon's own clock (`ikectl --json list-sas`, `timings`). "first packet" is the
//! lab's `FirstPacketProbe` for both; for ours, counted from just before `ikectl up` less the
//! median round trip of `ikectl version` (starting ikectl and reaching the daemon). iked does not
//! time CREATE_CHILD_SA, so that phase is measured with strongSwan initiating only.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use interop::{
    Charon, CharonConfig, Encap, FirstPacketProbe, Iked, IkedBinaries, IkedConfig, Lab, Node,
    PhaseTimings, StrongSwan, Timestamp, timelines,
};
use serde_json::{Value, json};

use super::config::{iked_conn, swanctl_conn};
use super::kme::Kme;
use super::{ESP_PFS, Result};

const WAIT: Duration = Duration::from_secs(20);

/// Samples in µs by phase name.
type Samples = BTreeMap<String, Vec<f64>>;

/// A pair's name, initiator, responder and how to measure it.
type Case = (
    &'static str,
    &'static str,
    &'static str,
    fn(&StrongSwan, usize) -> Result<Samples>,
);

fn push(s: &mut Samples, phase: &str, d: Duration) {
    s.entry(phase.to_string())
        .or_default()
        .push(d.as_secs_f64() * 1e6);
}

/// Runs every pair `runs` times; a pair that fails is recorded with its error.
pub fn run_wire(strongswan: &StrongSwan, runs: usize) -> Result<Value> {
    let mut pairs = Vec::new();
    let cases: [Case; 5] = [
        ("iked ↔ iked", "iked", "iked", ours_ours),
        ("iked ↔ iked, QKD PPK", "iked", "iked", ours_ours_qkd),
        ("strongSwan ↔ strongSwan", "strongSwan", "strongSwan", ss_ss),
        ("iked → strongSwan", "iked", "strongSwan", |r, n| {
            mixed(r, n, true)
        }),
        ("strongSwan → iked", "strongSwan", "iked", |r, n| {
            mixed(r, n, false)
        }),
    ];
    for (name, init, resp, f) in cases {
        eprintln!("lab_bench wire: {name}, {runs} runs");
        let entry = match f(strongswan, runs) {
            Ok(samples) => {
                json!({"name": name, "initiator": init, "responder": resp, "samples_us": samples})
            }
            Err(e) => {
                eprintln!("lab_bench wire: {name}: {e}");
                json!({"name": name, "initiator": init, "responder": resp, "error": e})
            }
        };
        pairs.push(entry);
    }
    Ok(json!({
        "bench": "wire",
        "runs": runs,
        "ike_proposal": super::IKE,
        "esp_proposal": ESP_PFS,
        "encapsulation": "raw ESP (IP protocol 50), IKE on port 500",
        "strongswan": strongswan.describe(),
        "pairs": pairs,
    }))
}

fn err(what: &str) -> impl Fn(interop::Error) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn our_config() -> IkedConfig {
    IkedConfig {
        encap: Encap::Raw,
        log: "warn".into(),
        daemon: String::new(),
        files: Vec::new(),
    }
}

fn charon_config() -> CharonConfig {
    CharonConfig {
        raw_esp: true,
        crypto_test_on_add: false,
        ..CharonConfig::default()
    }
}

fn ours_ours(strongswan: &StrongSwan, runs: usize) -> Result<Samples> {
    let lab = Lab::for_daemon(strongswan, "pqbw").map_err(err("lab"))?;
    let (l, r) = (lab.left(), lab.right());
    let right = Iked::start(
        r,
        l,
        "r",
        &our_config(),
        &iked_conn(r, l, "r.example", "l.example", ESP_PFS, ""),
    )
    .map_err(err("iked r"))?;
    let left = Iked::start(
        l,
        r,
        "l",
        &our_config(),
        &iked_conn(l, r, "l.example", "r.example", ESP_PFS, ""),
    )
    .map_err(err("iked l"))?;
    let mut s = Samples::new();
    for _ in 0..runs {
        our_initiation(&left, l, r, &mut s)?;
        our_down(&left, || right.list_sas().is_ok_and(|v| v.is_empty()))?;
    }
    Ok(s)
}

/// iked ↔ iked with `hybrid = "pqc+qkd"`: a fresh QKD key per IKE SA from the KME simulator
/// (`enc_keys` by the initiator, `dec_keys` by the responder) mixed in as the PPK.
fn ours_ours_qkd(strongswan: &StrongSwan, runs: usize) -> Result<Samples> {
    let lab = Lab::for_daemon(strongswan, "pqbq").map_err(err("lab"))?;
    let (l, r) = (lab.left(), lab.right());
    let kme = Kme::start(l, r)?;
    let policy = |peer: &str| {
        format!("hybrid = \"pqc+qkd\"\nppk_source = \"qkd\"\nqkd_peer_sae_id = \"{peer}\"")
    };
    let start = |me: &Node, peer: &Node, name: &str, sae: &str, peer_sae: &str| -> Result<Iked> {
        let (section, files) = kme.gateway(sae)?;
        let cfg = IkedConfig {
            files,
            ..our_config()
        };
        let (my_id, peer_id) = (
            format!("{name}.example"),
            format!("{}.example", if name == "l" { "r" } else { "l" }),
        );
        let conn = iked_conn(me, peer, &my_id, &peer_id, ESP_PFS, &policy(peer_sae));
        Iked::start(me, peer, name, &cfg, &(section + &conn)).map_err(err("iked"))
    };
    let right = start(r, l, "r", "gw-b", "gw-a")?;
    let left = start(l, r, "l", "gw-a", "gw-b")?;
    let mut s = Samples::new();
    for _ in 0..runs {
        our_initiation(&left, l, r, &mut s)?;
        let ppk = left.list_sas().map_err(err("list-sas"))?;
        if !ppk.iter().all(|sa| sa.ppk_used) {
            return Err(format!("an IKE SA without its QKD PPK: {ppk:?}"));
        }
        our_down(&left, || right.list_sas().is_ok_and(|v| v.is_empty()))?;
    }
    Ok(s)
}

fn ss_ss(strongswan: &StrongSwan, runs: usize) -> Result<Samples> {
    let lab = Lab::new(strongswan, "pqbw").map_err(err("lab"))?;
    let (l, r) = (lab.left(), lab.right());
    let right =
        Charon::start(r, strongswan, "right", &charon_config()).map_err(err("charon right"))?;
    let left =
        Charon::start(l, strongswan, "left", &charon_config()).map_err(err("charon left"))?;
    right
        .load_conf(&swanctl_conn(r, l, "r.example", "l.example", ESP_PFS))
        .map_err(err("load right"))?;
    left.load_conf(&swanctl_conn(l, r, "l.example", "r.example", ESP_PFS))
        .map_err(err("load left"))?;
    charon_runs(&left, l, r, runs, || {
        right.list_sas().is_ok_and(|v| v.is_empty())
    })
}

/// iked (left) and strongSwan (right); `ours_initiate` says who initiates.
fn mixed(strongswan: &StrongSwan, runs: usize, ours_initiate: bool) -> Result<Samples> {
    let lab = Lab::for_daemon(strongswan, "pqbx").map_err(err("lab"))?;
    let (l, r) = (lab.left(), lab.right());
    let charon =
        Charon::start(r, strongswan, "strongswan", &charon_config()).map_err(err("charon"))?;
    charon
        .load_conf(&swanctl_conn(r, l, "r.example", "l.example", ESP_PFS))
        .map_err(err("load"))?;
    let iked = Iked::start(
        l,
        r,
        "iked",
        &our_config(),
        &iked_conn(l, r, "l.example", "r.example", ESP_PFS, ""),
    )
    .map_err(err("iked"))?;
    if !ours_initiate {
        return charon_runs(&charon, r, l, runs, || {
            iked.list_sas().is_ok_and(|v| v.is_empty())
        });
    }
    let mut s = Samples::new();
    for _ in 0..runs {
        our_initiation(&iked, l, r, &mut s)?;
        our_down(&iked, || charon.list_sas().is_ok_and(|v| v.is_empty()))?;
    }
    Ok(s)
}

/// `runs` initiations by `init` (each with a Child SA rekey and a terminate), phases from its
/// log.
fn charon_runs(
    init: &Charon,
    me: &Node,
    peer: &Node,
    runs: usize,
    peer_empty: impl Fn() -> bool,
) -> Result<Samples> {
    let mut first = Vec::new();
    let start_mark = init.log_mark();
    for _ in 0..runs {
        let probe = FirstPacketProbe::start(me, peer.inner(), WAIT).map_err(err("probe"))?;
        init.initiate("net").map_err(err("initiate"))?;
        first.push(probe.wait(WAIT).map_err(err("first packet"))?.reply);
        let mark = init.log_mark();
        init.rekey_child("net").map_err(err("rekey"))?;
        init.wait_log(mark, "rekeyed CHILD_SA", WAIT)
            .map_err(err("rekeyed"))?;
        init.terminate_ike("net").map_err(err("terminate"))?;
        interop::wait_until(WAIT, || peer_empty().then_some(()))
            .ok_or("the responder kept its SAs")?;
    }
    let log = init.log();
    let initiated: Vec<_> = timelines(log.get(start_mark..).unwrap_or(""))
        .into_iter()
        .filter(|t| t.initiated.is_some())
        .collect();
    if initiated.len() != runs {
        return Err(format!(
            "{} initiations in the log, expected {runs}",
            initiated.len()
        ));
    }
    let mut s = Samples::new();
    for (t, fp) in initiated.iter().zip(first) {
        let p = PhaseTimings::from_timeline(t).with_first_packet(t, fp);
        let mut put = |name: &str, d: Option<Duration>| {
            if let Some(d) = d {
                push(&mut s, name, d);
            }
        };
        put("IKE_SA_INIT", p.ike_sa_init);
        let inter: Duration = p.ike_intermediate.iter().sum();
        put(
            "IKE_INTERMEDIATE",
            (!p.ike_intermediate.is_empty()).then_some(inter),
        );
        put("IKE_AUTH", p.ike_auth);
        put("CREATE_CHILD_SA", p.create_child_sa.first().copied());
        put("initiate -> established", p.initiate_to_established);
        put("initiate -> child installed", p.initiate_to_child_installed);
        put("initiate -> first packet", p.initiate_to_first_packet);
    }
    Ok(s)
}

/// One `ikectl up` from `iked` in `me`, timed by the daemon and by the first-packet probe.
fn our_initiation(iked: &Iked, me: &Node, peer: &Node, s: &mut Samples) -> Result<()> {
    let overhead = ikectl_round_trip(iked)?;
    let probe = FirstPacketProbe::start(me, peer.inner(), WAIT).map_err(err("probe"))?;
    let t0 = Timestamp::now();
    let wall = Instant::now();
    let up = ikectl_direct(&["up", "net", "--timeout", "20"], iked)?;
    // `ikectl up` returns once the IKE SA is up: its wall time less ikectl's own round trip is
    // the daemon's initiate -> established as a client sees it.
    push(
        s,
        "ikectl up returned",
        wall.elapsed().saturating_sub(overhead),
    );
    if !up.status.success() {
        return Err(format!(
            "ikectl up: {}",
            String::from_utf8_lossy(&up.stderr)
        ));
    }
    let fp = probe.wait(WAIT).map_err(err("first packet"))?;
    push(
        s,
        "initiate -> first packet",
        fp.reply.since(t0).saturating_sub(overhead),
    );
    let out = iked
        .ikectl(&["--json", "list-sas"])
        .map_err(err("list-sas"))?;
    let sas: Value = serde_json::from_slice(&out.stdout).map_err(|e| format!("list-sas: {e}"))?;
    let sa = sas
        .as_array()
        .and_then(|a| a.iter().find(|sa| sa["initiator"] == true))
        .ok_or("no initiated IKE SA in list-sas")?;
    let mut inter = Duration::ZERO;
    for t in sa["timings"].as_array().into_iter().flatten() {
        let (Some(phase), Some(us)) = (t["phase"].as_str(), t["micros"].as_u64()) else {
            continue;
        };
        let d = Duration::from_micros(us);
        match phase {
            "IKE_INTERMEDIATE" => inter += d,
            p => push(s, p, d),
        }
    }
    if !inter.is_zero() {
        push(s, "IKE_INTERMEDIATE", inter);
    }
    Ok(())
}

/// `ikectl ARGS` against `iked`, run and waited for directly (no polling).
fn ikectl_direct(args: &[&str], iked: &Iked) -> Result<std::process::Output> {
    let bins = IkedBinaries::locate().map_err(err("ikectl"))?;
    std::process::Command::new(&bins.ikectl)
        .arg("--socket")
        .arg(iked.dir().join("iked.sock"))
        .args(args)
        .output()
        .map_err(|e| format!("ikectl {}: {e}", args.join(" ")))
}

/// The median of five `ikectl version` round trips (run and waited for directly, without the
/// lab's polling): what starting `ikectl` and reaching the daemon costs before `ikectl up` can
/// even ask for an initiation.
fn ikectl_round_trip(iked: &Iked) -> Result<Duration> {
    let mut v = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let out = ikectl_direct(&["version"], iked)?;
        v.push(t.elapsed());
        if !out.status.success() {
            return Err("ikectl version failed".into());
        }
    }
    v.sort();
    Ok(v[2])
}

fn our_down(iked: &Iked, peer_empty: impl Fn() -> bool) -> Result<()> {
    iked.ikectl(&["down", "net"]).map_err(err("ikectl down"))?;
    interop::wait_until(WAIT, || {
        (iked.list_sas().is_ok_and(|v| v.is_empty()) && peer_empty()).then_some(())
    })
    .ok_or_else(|| "SAs left after ikectl down".to_string())
}
