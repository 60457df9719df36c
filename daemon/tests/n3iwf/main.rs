//! The daemon as an N3IWF, in this process without privileges: N2 to the emulated AMF over
//! usrsctp's UDP encapsulation on loopback (NG Setup, an AMF that restarts or stays away), and
//! a UE that registers through our IKEv2 engine with EAP-5G, the AMF's 5G-AKA and KN3IWF as
//! the MSK of the final AUTH.
//!
//! The final IKE_AUTH response gives the UE its inner address (CP), the NAS_IP4_ADDRESS and
//! NAS_TCP_PORT notifies, and a signalling SA narrowed to that address; NAS over TCP itself is
//! not reached here (it needs the datapath's TUN device).

#[path = "../common/mod.rs"]
mod common;
mod harness;
#[allow(dead_code, unreachable_pub)]
#[path = "../common/pki.rs"]
mod pki;
mod ue;

use std::net::{IpAddr, Ipv4Addr};

use fiveg_emu::amf_sim::{SimConfig, SimStats};
use iked::client::ClientError;
use iked::proto::{Command, ErrorCode, IkeSaView, LoadView, UeView};
use n3iwf::wire::notify3gpp::N3gppNotify;

use common::{HYBRID, TestDaemon, site, wait_for};
use harness::{N3iwfDaemon, PLMN, Sim, T, WAIT, ready, stack};
use ue::Ue;

#[test]
fn ng_setup_succeeds_and_shows_in_list_amfs_and_stats() {
    let Some(udp) = stack() else { return };
    let sim = Sim::start(udp, 38711, SimConfig::new(PLMN).expect("sim"));
    let n3iwf = N3iwfDaemon::start(udp, 38711);
    let amf = n3iwf.wait_amf("NG Setup", ready);
    assert_eq!(amf.name, "amf-sim");
    assert_eq!(amf.amf_name.as_deref(), Some("amf-sim"));
    assert_eq!(amf.transport, "usrsctp/udp");
    assert_eq!(amf.address, "127.0.0.1:38711");
    assert!(amf.served_guamis >= 1);
    assert_eq!((amf.connects, amf.losses), (1, 0));
    assert_eq!(amf.outbound_streams, Some(16));
    assert_eq!(n3iwf.ngap("NGSetup", "sent"), 1);
    assert_eq!(n3iwf.ngap("NGSetup", "received"), 1);
    assert_eq!(SimStats::get(&sim.stats.ng_setup_requests), 1);
    let stats = n3iwf.stats();
    let metrics = iked::render_metrics(&stats);
    for line in [
        "iked_n3iwf_amf_association_up{amf=\"amf-sim\"} 1",
        "iked_n3iwf_amf_ready{amf=\"amf-sim\"} 1",
        "iked_n3iwf_ngap_messages_total{procedure=\"NGSetup\",direction=\"sent\"} 1",
        "iked_n3iwf_registrations_total 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing:\n{metrics}"
        );
    }
    assert!(n3iwf.ues().is_empty());
    sim.stop();
}

#[test]
fn an_amf_restart_brings_ng_setup_again() {
    let Some(udp) = stack() else { return };
    let sim = Sim::start(udp, 38712, SimConfig::new(PLMN).expect("sim"));
    let n3iwf = N3iwfDaemon::start(udp, 38712);
    n3iwf.wait_amf("first NG Setup", ready);
    sim.stop();
    let down = n3iwf.wait_amf("the association lost", |a| a.association == "down");
    assert_eq!(down.losses, 1);
    assert_eq!(down.ng_setup, "down");
    assert!(down.last_error.is_some());
    let again = Sim::start(udp, 38712, SimConfig::new(PLMN).expect("sim"));
    let amf = n3iwf.wait_amf("NG Setup after the restart", ready);
    assert_eq!(amf.connects, 2);
    assert_eq!(SimStats::get(&again.stats.ng_setup_requests), 1);
    assert_eq!(n3iwf.ngap("NGSetup", "sent"), 2);
    again.stop();
}

#[test]
fn an_amf_that_is_away_is_counted_and_tried_again_until_it_comes() {
    let Some(udp) = stack() else { return };
    let n3iwf = N3iwfDaemon::start(udp, 38713);
    let amf = n3iwf.wait_amf("failed attempts", |a| a.connect_failures >= 3);
    assert_eq!(amf.association, "down");
    assert_eq!(amf.connects, 0);
    let error = amf.last_error.expect("the reason");
    assert!(error.contains("127.0.0.1:38713"), "{error}");
    let sim = Sim::start(udp, 38713, SimConfig::new(PLMN).expect("sim"));
    let amf = n3iwf.wait_amf("NG Setup once the AMF is there", ready);
    assert_eq!(amf.connects, 1);
    assert_eq!(amf.last_error, None);
    sim.stop();
}

#[test]
fn a_refused_ng_setup_is_tried_again() {
    let Some(udp) = stack() else { return };
    let mut config = SimConfig::new(PLMN).expect("sim");
    config.refuse_ng_setup(1, Some(1)).expect("refusal");
    let sim = Sim::start(udp, 38714, config);
    let n3iwf = N3iwfDaemon::start(udp, 38714);
    n3iwf.wait_amf("NG Setup after a refusal", ready);
    assert_eq!(SimStats::get(&sim.stats.ng_setup_refusals), 1);
    assert_eq!(n3iwf.ngap("NGSetup", "sent"), 2);
    let counters = n3iwf.stats().n3iwf.expect("stats").counters;
    assert_eq!(counters.get("ng_setup_retries"), Some(&1));
    sim.stop();
}

#[test]
fn a_ue_registers_through_the_engine_with_eap_5g_and_kn3iwf_as_msk() {
    let Some(udp) = stack() else { return };
    let sim = Sim::start(udp, 38715, SimConfig::new(PLMN).expect("sim"));
    let n3iwf = N3iwfDaemon::start(udp, 38715);
    n3iwf.wait_amf("NG Setup", ready);
    let mut ue = Ue::new(n3iwf.daemon.ike_port(), n3iwf.pki.path());
    ue.connect();
    let up = ue.run_until(WAIT, |u| u.children == 1 || u.failed.is_some());
    assert!(up, "no signalling SA");
    assert_eq!(ue.failed, None);
    assert!(ue.established && !ue.eap_failure);
    let registered = wait_for(WAIT, || {
        let ues = n3iwf.ues();
        ues.into_iter()
            .find(|u| u.state == "registered-wait-nas-tcp")
    })
    .unwrap_or_else(|| panic!("not registered: {:?}", n3iwf.ues()));
    check_registered(&registered);
    check_final_auth(&ue, &registered, &n3iwf.body);
    check_signalling_sa_installed(&n3iwf, &registered, &n3iwf.body);
    let n = n3iwf.stats().n3iwf.expect("stats");
    assert_eq!((n.eap_started, n.registrations), (1, 1));
    assert!(n.failures.is_empty(), "{:?}", n.failures);
    for (procedure, direction) in [
        ("InitialUEMessage", "sent"),
        ("InitialContextSetup", "received"),
        ("InitialContextSetup", "sent"),
    ] {
        assert_eq!(
            n3iwf.ngap(procedure, direction),
            1,
            "{procedure} {direction}"
        );
    }
    assert!(n3iwf.ngap("DownlinkNASTransport", "received") >= 2);
    assert_eq!(SimStats::get(&sim.stats.initial_ue_messages), 1);

    // The UE leaves: the AMF is asked to release its context, and does.
    ue.close();
    assert!(ue.run_until(WAIT, |u| u.closed), "DELETE not answered");
    let released = wait_for(WAIT, || {
        let n = n3iwf.stats().n3iwf.expect("stats");
        (n.ues == 0).then_some(n)
    })
    .expect("the UE context ends");
    assert_eq!(released.releases.get("ike-sa-gone"), Some(&1));
    assert_eq!(n3iwf.ngap("UEContextReleaseRequest", "sent"), 1);
    assert_eq!(n3iwf.ngap("UEContextRelease", "sent"), 1);
    assert_eq!(released.inner_addresses_in_use, 0);
    sim.stop();
}

/// The daemon holds (and installed in its datapath) the signalling SA with the narrowed
/// selectors: the UE's /32 to the NAS address and port.
fn check_signalling_sa_installed(n3iwf: &N3iwfDaemon, u: &UeView, body: &str) {
    let sas: Vec<IkeSaView> = n3iwf
        .client()
        .call_as(Command::ListSas, T)
        .expect("list-sas");
    let sa = sas
        .iter()
        .find(|s| s.connection == "n3iwf")
        .unwrap_or_else(|| panic!("the UE's IKE SA: {sas:?}"));
    let [child] = sa.children.as_slice() else {
        panic!("one Child SA: {sa:?}");
    };
    assert_eq!(child.name, "signalling");
    let inner = u.inner_address.clone().expect("listed");
    assert_eq!(child.remote_ts, [inner]);
    assert_eq!(
        child.local_ts,
        [format!("127.0.0.1[tcp/{}]", nas_port(body))]
    );
}

fn nas_port(body: &str) -> u16 {
    body.lines()
        .find_map(|l| l.strip_prefix("nas_port = "))
        .expect("nas_port in the config")
        .parse()
        .expect("port")
}

/// TS 24.502 §7.3.2: what the UE learnt from the final IKE_AUTH response matches what the
/// N3IWF lists and is configured with.
fn check_final_auth(ue: &Ue, u: &UeView, body: &str) {
    let inner: Ipv4Addr = u
        .inner_address
        .as_deref()
        .expect("listed")
        .parse()
        .expect("IPv4");
    let config = ue.config.expect("a CFG_REPLY");
    assert_eq!(config.internal_ip4, Some(inner));
    assert_eq!(
        config.internal_netmask,
        Some(Ipv4Addr::new(255, 255, 255, 0))
    );
    let nas_port = nas_port(body);
    assert_eq!(
        ue.notifies,
        [
            N3gppNotify::NasIp4Address(Ipv4Addr::LOCALHOST),
            N3gppNotify::NasTcpPort(nas_port),
        ]
    );
    let (ours, theirs) = ue.signalling_ts.as_ref().expect("the signalling SA");
    let [own] = ours.as_slice() else {
        panic!("one selector: {ours:?}");
    };
    assert_eq!(
        (own.start_addr, own.end_addr),
        (IpAddr::V4(inner), IpAddr::V4(inner)),
        "narrowed to the inner address/32"
    );
    let [nas] = theirs.as_slice() else {
        panic!("one selector: {theirs:?}");
    };
    assert_eq!(nas.start_addr, IpAddr::V4(Ipv4Addr::LOCALHOST));
    assert_eq!((nas.ip_protocol, nas.start_port), (6, nas_port));
}

fn check_registered(u: &UeView) {
    assert!(u.outer.starts_with("127.0.0.1:"), "{u:?}");
    assert_eq!(u.amf.as_deref(), Some("amf-sim"));
    assert!(
        u.ran_ue_ngap_id.is_some() && u.amf_ue_ngap_id.is_some(),
        "{u:?}"
    );
    let inner = u.inner_address.as_deref().expect("an inner address");
    assert!(inner.starts_with("10.45.0."), "{inner}");
    let t = &u.timings;
    let (success, up) = (
        t.eap_success_micros.expect("EAP-Success"),
        t.signalling_sa_micros.expect("SA up"),
    );
    assert!(t.amf_wait_micros > 0 && success <= up, "{t:?}");
    assert_eq!(t.nas_tcp_micros, None);
}

#[test]
fn a_reload_keeps_the_running_n3iwf_and_says_when_its_section_changed() {
    let Some(udp) = stack() else { return };
    let sim = Sim::start(udp, 38718, SimConfig::new(PLMN).expect("sim"));
    let n3iwf = N3iwfDaemon::start(udp, 38718);
    n3iwf.wait_amf("NG Setup", ready);
    let mut ue = Ue::new(n3iwf.daemon.ike_port(), n3iwf.pki.path());
    ue.connect();
    assert!(ue.run_until(WAIT, |u| u.children == 1), "no signalling SA");
    let load = |client: &mut iked::client::Client| -> LoadView {
        client
            .call_as(Command::Load { path: None }, T)
            .expect("load")
    };
    let same = load(&mut n3iwf.client());
    assert_eq!(same.unchanged, ["n3iwf"]);
    assert!(same.warnings.is_empty(), "{:?}", same.warnings);
    let changed = n3iwf.body.replace("n3iwf_id = 7", "n3iwf_id = 8");
    n3iwf.daemon.rewrite(&changed, "");
    let view = load(&mut n3iwf.client());
    assert_eq!(view.unchanged, ["n3iwf"]);
    assert_eq!(
        view.warnings,
        ["[n3iwf] settings changed; they apply when iked restarts"]
    );
    let ues = n3iwf.ues();
    assert_eq!(ues.len(), 1, "the UE stays");
    assert_eq!(ues[0].state, "registered-wait-nas-tcp");
    let amf = n3iwf.amf();
    assert!(ready(&amf) && amf.connects == 1, "{amf:?}");
    sim.stop();
}

#[test]
fn an_n3iwf_without_an_amf_refuses_a_ue_with_eap_failure() {
    let Some(udp) = stack() else { return };
    let n3iwf = N3iwfDaemon::start(udp, 38716);
    n3iwf.wait_amf("a failed attempt", |a| a.connect_failures >= 1);
    let mut ue = Ue::new(n3iwf.daemon.ike_port(), n3iwf.pki.path());
    ue.connect();
    assert!(
        ue.run_until(WAIT, |u| u.failed.is_some()),
        "the UE was not refused"
    );
    let n = wait_for(WAIT, || {
        let n = n3iwf.stats().n3iwf.expect("stats");
        (!n.failures.is_empty()).then_some(n)
    })
    .expect("a failure counted");
    assert_eq!(n.failures.get("no-amf"), Some(&1));
    assert_eq!(n.eap_started, 1);
}

#[test]
fn list_ues_on_a_daemon_that_is_no_n3iwf_says_so() {
    let d = TestDaemon::start(&site("s", "a", "b", None, "none", HYBRID), "");
    let mut client = d.client();
    for command in [Command::ListUes, Command::ListAmfs] {
        match client.call(command, T) {
            Err(ClientError::Daemon(e)) => {
                assert_eq!(e.code, ErrorCode::NotFound);
                assert_eq!(
                    e.message,
                    "this daemon is not an N3IWF ([n3iwf] is not configured)"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let stats: iked::proto::StatsView = client.call_as(Command::Stats, T).expect("stats");
    assert!(stats.n3iwf.is_none());
}

#[test]
fn the_kernel_transport_without_kernel_sctp_is_a_clear_start_error() {
    if std::path::Path::new("/proc/sys/net/sctp").exists() {
        println!("SKIPPED: this kernel has SCTP");
        return;
    }
    let pki = tempfile::tempdir().expect("tempdir");
    pki::write_pki(pki.path(), &["n3iwf"]);
    let body = harness::n3iwf_body(0, 38717, pki.path()).replace(
        "transport = \"usrsctp\"\nlower = \"udp\"\nlocal_udp_port = 0\nudp_port = 0\n",
        "",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("iked.toml");
    common::write_config(&path, &dir.path().join("s.sock"), &body, "ike_port = 0");
    let config = iked::config::Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = rt.block_on(iked::Daemon::start(
        config,
        Box::new(iked::LoggingSink::new()),
    ));
    let Err(e) = started else {
        panic!("started without kernel SCTP")
    };
    assert_eq!(
        e.to_string(),
        "n3iwf.amfs 'amf-sim' (127.0.0.1:38717): the kernel has no SCTP; use transport = \"usrsctp\" (userspace SCTP over raw IP 132 or UDP 9899)"
    );
}

/// A registered UE rekeys its signalling SA and then its IKE SA (CREATE_CHILD_SA from the
/// UE): the N3IWF keeps its context (same NGAP IDs, same address, no release towards the AMF)
/// and follows it to the new IKE SA, which is what the UE's later DELETE then ends.
#[test]
fn a_registered_ue_rekeys_its_child_and_ike_sas_and_stays_registered() {
    let Some(udp) = stack() else { return };
    let sim = Sim::start(udp, 38719, SimConfig::new(PLMN).expect("sim"));
    let n3iwf = N3iwfDaemon::start(udp, 38719);
    n3iwf.wait_amf("NG Setup", ready);
    let mut ue = Ue::new(n3iwf.daemon.ike_port(), n3iwf.pki.path());
    ue.connect();
    assert!(ue.run_until(WAIT, |u| u.children == 1 || u.failed.is_some()));
    let before = registered(&n3iwf);

    ue.rekey_child();
    let rekeyed = ue.run_until(WAIT, |u| u.children == 2 && u.children_deleted == 1);
    assert!(rekeyed, "Child SA rekey: {:?}", ue.failed);
    let after_child = registered(&n3iwf);
    assert_eq!(after_child.ike_sa, before.ike_sa);

    ue.rekey_ike();
    assert!(ue.run_until(WAIT, |u| u.ike_rekeys == 1), "IKE SA rekey");
    let after_ike = wait_for(WAIT, || {
        let u = registered(&n3iwf);
        (u.ike_sa != before.ike_sa).then_some(u)
    })
    .expect("the UE goes by its new IKE SA");
    for u in [&after_child, &after_ike] {
        assert_eq!(
            (u.ran_ue_ngap_id, u.amf_ue_ngap_id, &u.inner_address),
            (
                before.ran_ue_ngap_id,
                before.amf_ue_ngap_id,
                &before.inner_address
            )
        );
    }
    assert_eq!(n3iwf.ngap("UEContextReleaseRequest", "sent"), 0);
    let n = n3iwf.stats().n3iwf.expect("stats");
    assert!(n.failures.is_empty() && n.releases.is_empty(), "{n:?}");

    ue.close();
    assert!(ue.run_until(WAIT, |u| u.closed), "DELETE not answered");
    let released = wait_for(WAIT, || {
        let n = n3iwf.stats().n3iwf.expect("stats");
        (n.ues == 0).then_some(n)
    })
    .expect("the UE context ends with the new IKE SA");
    assert_eq!(released.releases.get("ike-sa-gone"), Some(&1));
    sim.stop();
}

/// The one UE, once registered (waiting for NAS over TCP).
fn registered(n3iwf: &N3iwfDaemon) -> UeView {
    wait_for(WAIT, || {
        let ues = n3iwf.ues();
        (ues.len() == 1 && ues[0].state == "registered-wait-nas-tcp").then(|| ues[0].clone())
    })
    .unwrap_or_else(|| panic!("not one registered UE: {:?}", n3iwf.ues()))
}
