//! RFC 8784 PPKs from an ETSI GS QKD 014 KME (the `qkd-kme-sim` simulator) against strongSwan 6,
//! X25519 + ML-KEM-768, PSK, ESP in UDP.
//!
//! strongSwan cannot talk to a KME: its PPK must be a static secret. So strongSwan is the
//! INITIATOR and the test plays its SAE (the master): it calls `enc_keys` at KME A for our SAE,
//! with our own `qkd_client::KmeClient`, and writes the key (hex) with the key_ID as PPK_ID into
//! strongSwan's `swanctl.conf`. Our daemon responds with `ppk_source = "qkd"` (PPK required):
//! it must fetch the same key from KME B with `dec_keys` and the PPK_ID it received.
//!
//! Our daemon as initiator cannot be tested against strongSwan with a QKD key: it would call
//! `enc_keys` at the moment it initiates and send a key_ID strongSwan has no way to fetch
//! (strongSwan only knows PPKs configured before the exchange). That direction is covered
//! daemon-to-daemon (`scripts/tests/75-e2e-netns.sh`).
//!
//! Where the KMEs listen: the simulator serves loopback only, so both KMEs run in our daemon's
//! namespace on `127.0.0.1`; our daemon reaches KME B there without any relay, and nothing
//! KME-related leaves the lab's namespaces. The SAE calls of the test run in that namespace
//! too: the test re-executes its own binary there (`ip netns exec NS <this test binary> --exact
//! sae_client --ignored`, the call described in `PQQ_SAE_CALL`), which prints one result line.
//!
//! Cases:
//! - the QKD key works: both ends show the PPK used (`swanctl --list-sas` `.../PPK`, our
//!   `ikectl list-sas --json` `ppk`), checked traffic crosses both ways, KME A's status shows
//!   the key taken from the pool and KME B refuses to hand the key out a second time;
//! - a key_ID the KME does not know, and a known key_ID with other key bytes in strongSwan:
//!   AUTHENTICATION_FAILED, with our log saying why;
//! - the figure: strongSwan's IKE_AUTH round trip (from charon's log) with the QKD PPK against
//!   the same connection with a static PPK, and how long our `dec_keys` took (from our log: `ikectl
//!   list-sas` keeps phase timings only for IKE SAs we initiate). Reported, never asserted.
//!
//! Needs root, the lab (`interop/setup.sh`), `iked`/`ikectl` and `qkd-kme-sim` built.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use interop::{
    Encap, KmeSim, Pair, PhaseSummary, PhaseTimings, Ppk, QkdPair, Role, Spec, WAIT,
    assert_peer_view, median, report, swanctl_conf, timelines,
};

const PROPOSAL: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const IKE_SEEN: &str = "AES_GCM_16-256/PRF_HMAC_SHA2_384/CURVE_25519/KE1_ML_KEM_768";
/// Our SAE ID (the slave) and strongSwan's (the master).
const OUR_SAE: &str = "iked";
const PEER_SAE: &str = "strongswan";
/// The SAE call a re-executed test binary makes (tab-separated fields).
const SAE_ENV: &str = "PQQ_SAE_CALL";
/// Marks the result line of that call in its output.
const RESULT: &str = "PQQ-SAE-RESULT ";

fn spec(tag: &str) -> Spec {
    Spec::new(tag, PROPOSAL, "aes256gcm16")
}

// ---------------------------------------------------------------------------------------------
// The SAE side of the test, run inside the KME's namespace.

/// Not a test of its own: the KME calls the other tests make inside the lab's namespace.
#[test]
#[ignore = "run by the other tests of this file inside the lab namespace, with PQQ_SAE_CALL"]
fn sae_client() {
    let Ok(call) = std::env::var(SAE_ENV) else {
        report("sae_client: nothing to do without PQQ_SAE_CALL (the other tests run it)");
        return;
    };
    let f: Vec<&str> = call.split('\t').collect();
    let [op, url, certs, sae, other, key_id] = f[..] else {
        panic!("{SAE_ENV}: expected 6 fields, got {call:?}");
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let line = runtime.block_on(sae_call_here(op, url, certs, sae, other, key_id));
    println!("{RESULT}{line}");
}

async fn sae_call_here(
    op: &str,
    url: &str,
    certs: &str,
    sae: &str,
    other: &str,
    key_id: &str,
) -> String {
    let file = |name: String| std::path::Path::new(certs).join(name);
    let config = qkd_client::ClientConfig::new(
        url.to_owned(),
        file(format!("sae-{sae}.pem")),
        file(format!("sae-{sae}.key")),
        file("ca.pem".into()),
    );
    let client = qkd_client::KmeClient::new(config).expect("KME client");
    let keys = match op {
        "status" => {
            return match client.status(other).await {
                Ok(s) => format!("stored {}", s.stored_key_count),
                Err(e) => format!("error {e}"),
            };
        }
        "enc_keys" => client.enc_keys(other, 1, 256).await,
        "dec_keys" => {
            let id = key_id.parse().expect("key_ID");
            client.dec_keys(other, &[id]).await
        }
        _ => panic!("unknown SAE call {op}"),
    };
    match keys.as_deref() {
        Ok([k]) => format!("key {} {}", k.key_id(), hex(k.dangerous_key())),
        Ok(more) => format!("error {} keys", more.len()),
        Err(e) => format!("error {e}"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

// ---------------------------------------------------------------------------------------------
// The test side: KME calls as one SAE, made in the KME's namespace.

/// What a KME call answered.
#[derive(Debug)]
enum Answer {
    Stored(u64),
    Key { id: String, hex: String },
    Error(String),
}

fn sae_call(kme: &KmeSim, op: &str, url: &str, sae: &str, other: &str, key_id: &str) -> Answer {
    let exe = std::env::current_exe().expect("current_exe");
    let certs = kme.certs();
    let call = [op, url, &certs.to_string_lossy(), sae, other, key_id].join("\t");
    let mut c = std::process::Command::new("ip");
    c.args(["netns", "exec", kme.netns()])
        .arg(exe)
        .args(["--exact", "sae_client", "--ignored", "--nocapture"])
        .args(["--test-threads=1"])
        .env(SAE_ENV, call);
    let out = interop::run(&mut c, Duration::from_secs(30)).expect("SAE call");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.split_once(RESULT).map(|(_, r)| r.trim().to_owned()))
        .unwrap_or_else(|| {
            panic!(
                "SAE call {op} as {sae}: no result\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let mut w = line.splitn(3, ' ');
    match (w.next(), w.next(), w.next()) {
        (Some("stored"), Some(n), None) => Answer::Stored(n.parse().expect("count")),
        (Some("key"), Some(id), Some(hex)) => Answer::Key {
            id: id.into(),
            hex: hex.into(),
        },
        _ => Answer::Error(line.strip_prefix("error ").unwrap_or(&line).to_owned()),
    }
}

/// strongSwan's SAE takes a key for ours at KME A: (key_ID, key hex).
fn enc_key(kme: &KmeSim) -> (String, String) {
    match sae_call(kme, "enc_keys", &kme.url_a(), PEER_SAE, OUR_SAE, "-") {
        Answer::Key { id, hex } => (id, hex),
        other => panic!("enc_keys at KME A: {other:?}"),
    }
}

/// Keys KME A can still hand strongSwan's SAE for ours.
fn stored(kme: &KmeSim) -> u64 {
    match sae_call(kme, "status", &kme.url_a(), PEER_SAE, OUR_SAE, "-") {
        Answer::Stored(n) => n,
        other => panic!("status at KME A: {other:?}"),
    }
}

/// Loads strongSwan's connection with `id`/`hex` as its (required) PPK.
fn give_strongswan(q: &QkdPair, id: &str, hex: &str) {
    let mut spec = q.pair.spec.clone();
    spec.ppk.1 = Some(Ppk {
        id: id.into(),
        hex: hex.into(),
        required: true,
    });
    q.pair
        .charon
        .load_conf(&swanctl_conf(&q.pair.lab, &spec))
        .expect("swanctl --load-all with the QKD key");
}

/// Our IKE SA of `interop::CONN` as `ikectl --json list-sas` shows it (all fields).
fn our_sa_json(p: &Pair) -> serde_json::Value {
    let out = p.iked.ikectl(&["--json", "list-sas"]).expect("list-sas");
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    all.as_array()
        .and_then(|a| a.iter().find(|s| s["connection"] == interop::CONN))
        .cloned()
        .unwrap_or_else(|| panic!("no IKE SA of {} in {all}", interop::CONN))
}

// ---------------------------------------------------------------------------------------------

#[test]
fn strongswan_initiates_with_a_qkd_key_from_the_kme() {
    let test = "rfc8784_qkd_ppk::strongswan_initiates_with_a_qkd_key_from_the_kme";
    let Some(q) = QkdPair::start(test, spec("pqqok"), OUR_SAE, PEER_SAE, "pqc+qkd") else {
        return;
    };
    let p = &q.pair;
    let before = stored(&q.kme);
    let (key_id, key_hex) = enc_key(&q.kme);
    assert_eq!(
        stored(&q.kme),
        before - 1,
        "enc_keys took one key from the pool"
    );
    give_strongswan(&q, &key_id, &key_hex);

    let (our_mark, peer_mark) = (p.iked.log_mark(), p.charon.log_mark());
    let (ours, peer) = p.establish(Role::PeerInitiates);
    assert_peer_view(&peer, IKE_SEEN, "AES_GCM_16-256", Encap::Udp);
    assert!(ours.ppk_used, "our IKE SA without PPK: {ours:#?}");
    let json = our_sa_json(p);
    let ppk = &json["ppk"];
    assert_eq!(
        (
            ppk["source"].as_str(),
            ppk["used"].as_bool(),
            ppk["id"].as_str()
        ),
        (Some("qkd"), Some(true), Some(key_id.as_str())),
        "our PPK: {json:#}"
    );
    let got = p
        .iked
        .wait_log(our_mark, &["QKD key received", "dec_keys", &key_id], WAIT)
        .expect("our dec_keys");
    report(&format!("iked: {}", got.trim()));
    p.charon
        .wait_log(peer_mark, &format!("using PPK for PPK_ID '{key_id}'"), WAIT)
        .or_else(|_| p.charon.wait_log(peer_mark, "using PPK for PPK_ID", WAIT))
        .expect("strongSwan used the PPK");
    let text = p.charon.list_sas_text().expect("list-sas");
    assert!(
        text.contains("KE1_ML_KEM_768/PPK"),
        "strongSwan's IKE SA without PPK:\n{text}"
    );
    p.check_traffic(interop::TRANSFER_BYTES);

    // The key is consumed: taken from KME A's pool once, and KME B hands it out only once
    // (to our daemon), so asking again as our SAE fails.
    assert_eq!(stored(&q.kme), before - 1, "no other key was taken");
    match sae_call(
        &q.kme,
        "dec_keys",
        &q.kme.url_b(),
        OUR_SAE,
        PEER_SAE,
        &key_id,
    ) {
        Answer::Error(e) => assert!(e.contains("not found"), "second dec_keys: {e}"),
        other => panic!("KME B handed the key out twice: {other:?}"),
    }
    assert_eq!(p.iked.counter("daemon", "qkd_keys_received").ok(), Some(1));
    assert_eq!(p.iked.counter("daemon", "ike_sas_with_ppk").ok(), Some(1));
    p.show_peer("QKD PPK");
    report(&format!("--- ours: {json:#}"));
    p.down();
}

/// strongSwan initiates with `id`/`hex`; both ends must refuse, and our log must say why.
fn refused(q: &QkdPair, id: &str, hex: &str, our_line: &[&str]) -> String {
    let p = &q.pair;
    give_strongswan(q, id, hex);
    let (our_mark, peer_mark) = (p.iked.log_mark(), p.charon.log_mark());
    let err = p
        .initiate(Role::PeerInitiates)
        .expect_err("strongSwan's initiation must fail");
    p.charon
        .wait_log(
            peer_mark,
            "received AUTHENTICATION_FAILED notify error",
            WAIT,
        )
        .unwrap_or_else(|e| panic!("strongSwan: {e}\nswanctl: {err}"));
    let line = p.iked.wait_log(our_mark, our_line, WAIT).expect("our log");
    p.wait_peer_empty();
    p.iked
        .wait_sas(WAIT, |s| s.is_empty().then_some(()))
        .expect("no IKE SA left on our side");
    line
}

#[test]
fn unknown_key_id_or_other_key_fails_with_authentication_failed() {
    let test = "rfc8784_qkd_ppk::unknown_key_id_or_other_key_fails_with_authentication_failed";
    let Some(q) = QkdPair::start(test, spec("pqqbad"), OUR_SAE, PEER_SAE, "pqc+qkd") else {
        return;
    };
    let p = &q.pair;

    // A key_ID the KME never issued.
    let unknown = qkd_client::KeyId::random().to_string();
    let bytes = hex(&interop::pattern(32, 0x9e37_79b9));
    let line = refused(&q, &unknown, &bytes, &["no QKD key", "dec_keys"]);
    assert!(
        line.contains("not found"),
        "our log names the KME's answer: {line}"
    );
    report(&format!("iked, unknown key_ID: {}", line.trim()));
    assert_eq!(p.iked.counter("daemon", "qkd_key_failures").ok(), Some(1));

    // A key_ID the KME issued, with other bytes in strongSwan: we fetch the real key, so the
    // AUTH payloads differ.
    let (key_id, key_hex) = enc_key(&q.kme);
    let mut wrong = key_hex.into_bytes();
    wrong[0] = if wrong[0] == b'0' { b'1' } else { b'0' };
    let wrong = String::from_utf8(wrong).expect("hex");
    let our_mark = p.iked.log_mark();
    let line = refused(
        &q,
        &key_id,
        &wrong,
        &["IKE SA failed", "authentication failed"],
    );
    p.iked
        .wait_log(our_mark, &["QKD key received", &key_id], WAIT)
        .expect("we did get the real key");
    report(&format!("iked, other key bytes: {}", line.trim()));
    assert_eq!(p.iked.counter("daemon", "qkd_keys_received").ok(), Some(1));
}

// ---------------------------------------------------------------------------------------------
// The figure.

fn runs() -> usize {
    std::env::var("PQIO_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// strongSwan initiates `n` times (`before_each` configures it) and terminates; returns its
/// phase timings from charon's log, and how long each of our KME requests took.
fn bring_ups(p: &Pair, n: usize, before_each: impl Fn()) -> (PhaseSummary, Vec<Duration>) {
    let (mark, our_mark) = (p.charon.log_mark(), p.iked.log_mark());
    for _ in 0..n {
        before_each();
        p.initiate(Role::PeerInitiates).expect("swanctl --initiate");
        let ours = p.iked.wait_established(interop::CONN, WAIT).expect("ours");
        assert!(ours.ppk_used, "{ours:#?}");
        p.charon.terminate_ike(interop::CONN).expect("terminate");
        p.iked
            .wait_sas(WAIT, |s| s.is_empty().then_some(()))
            .expect("our SAs gone");
    }
    let log = p.charon.log();
    let mine: Vec<PhaseTimings> = timelines(&log[mark..])
        .iter()
        .filter(|t| t.initiated.is_some())
        .map(PhaseTimings::from_timeline)
        .collect();
    assert_eq!(mine.len(), n, "one IKE SA per initiation in charon's log");
    (
        PhaseSummary::new(&mine),
        kme_requests(&p.iked.log()[our_mark..]),
    )
}

/// The `micros` of our `QKD key received` log lines: the daemon times each KME request from
/// the engine asking for the PPK to the answer. (`ikectl list-sas` shows this step only for
/// IKE SAs we initiated; a responder's phases are not recorded.)
fn kme_requests(log: &str) -> Vec<Duration> {
    log.lines()
        .filter(|l| l.contains("QKD key received"))
        .filter_map(|l| {
            l.split_once("micros=")?
                .1
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .map(Duration::from_micros)
        .collect()
}

fn ms(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.3}", d.as_secs_f64() * 1e3))
}

#[test]
fn ike_auth_cost_of_the_kme_call() {
    let test = "rfc8784_qkd_ppk::ike_auth_cost_of_the_kme_call";
    let n = runs();
    let mut rows: BTreeMap<&str, (PhaseSummary, Vec<Duration>)> = BTreeMap::new();
    {
        let Some(q) = QkdPair::start(test, spec("pqqtq"), OUR_SAE, PEER_SAE, "pqc+qkd") else {
            return;
        };
        let (summary, steps) = bring_ups(&q.pair, n, || {
            let (id, hex) = enc_key(&q.kme);
            give_strongswan(&q, &id, &hex);
        });
        assert_eq!(steps.len(), n, "one dec_keys per run in our log");
        rows.insert("qkd", (summary, steps));
    }
    {
        let mut s = spec("pqqts");
        let ppk = Ppk {
            id: "pqq-static-ppk".into(),
            hex: hex(&interop::pattern(32, 0x5151)),
            required: true,
        };
        s.ppk = (Some(ppk.clone()), Some(ppk));
        let Some(p) = Pair::start(test, s) else {
            return;
        };
        rows.insert("static", bring_ups(&p, n, || ()));
    }
    let mut out = format!(
        "=== IKE phases with strongSwan initiating to iked (responder), {PROPOSAL}, PSK, PPK required, median of {n} (ms)\n{:<34} {:>10} {:>10} {:>10}\n",
        "phase", "static PPK", "QKD PPK", "added"
    );
    for phase in [
        "IKE_SA_INIT",
        "IKE_INTERMEDIATE",
        "IKE_AUTH",
        "initiate -> IKE_SA established",
        "initiate -> CHILD_SA installed",
    ] {
        let (s, q) = (rows["static"].0.median(phase), rows["qkd"].0.median(phase));
        let added = s.zip(q).map(|(s, q)| q.as_secs_f64() - s.as_secs_f64());
        let _ = writeln!(
            out,
            "{phase:<34} {:>10} {:>10} {:>10}",
            ms(s),
            ms(q),
            added.map_or_else(|| "-".into(), |a| format!("{:+.3}", a * 1e3))
        );
        assert!(s.is_some() && q.is_some(), "{phase} measured in both cases");
    }
    let steps = &rows["qkd"].1;
    let _ = writeln!(
        out,
        "{:<34} {:>10} {:>10}   (iked's log; min {} max {})",
        "iked: KME dec_keys (in IKE_AUTH)",
        "-",
        ms(median(steps)),
        ms(steps.iter().min().copied()),
        ms(steps.iter().max().copied())
    );
    out.push_str("(strongSwan's phases from charon's log; the QKD runs also reload swanctl.conf with each new key before initiating, outside the timed phases)");
    report(&out);
}
