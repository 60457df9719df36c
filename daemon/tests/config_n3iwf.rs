//! `[n3iwf]` in the configuration: a valid section becomes the core's configuration, the N2
//! associations and a generated EAP-5G connection; every mistake is reported with its file,
//! line and field.

#[allow(dead_code, unreachable_pub)]
#[path = "common/pki.rs"]
mod pki;

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Duration;

use iked::config::{AuthMethod, Config, HybridPolicy, N3IWF_CONNECTION, SIGNALLING_CHILD};
use ikev2::AuthConfig;
use n2_transport::{LowerLayer, TransportKind};

/// A valid file; the line numbers of the cases below count from its first line.
const BASE: &str = r#"[daemon]
listen = ["127.0.0.1"]
[dataplane]
local = "127.0.0.1"
encapsulation = "raw"

[n3iwf]
plmn = "208-93"
n3iwf_id = 135
nas_address = "10.45.0.1"
ue_pool = "10.45.0.0/24"

[[n3iwf.tracking_areas]]
tac = 1
plmns = [{ plmn = "208-93", slices = ["1", "1-010203"] }]

[[n3iwf.amfs]]
name = "amf-1"
address = "10.100.0.5"

[n3iwf.ike]
certs = ["n3iwf.pem"]
key = "n3iwf.key"
"#;

struct Dir(tempfile::TempDir);

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        pki::write_pki(dir.path(), &["n3iwf"]);
        Self(dir)
    }

    fn parse(&self, text: &str) -> Result<Config, String> {
        Config::parse(&self.0.path().join("iked.toml"), text).map_err(|e| e.to_string())
    }

    /// The error of `BASE` with `from` replaced by `to`, without the directory.
    fn error(&self, from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "{from}");
        let text = BASE.replacen(from, to, 1);
        match self.parse(&text) {
            Ok(_) => panic!("accepted: {to}"),
            Err(e) => e.replace(&format!("{}/", self.0.path().display()), ""),
        }
    }
}

#[test]
fn a_valid_section_becomes_the_core_config_the_amfs_and_a_generated_connection() {
    let dir = Dir::new();
    let config = dir.parse(BASE).unwrap_or_else(|e| panic!("{e}"));
    let n = config.n3iwf.as_ref().expect("n3iwf");
    assert_eq!(n.core.global_id.n3iwf_id.0, 135);
    assert_eq!(n.core.global_id.plmn.to_string(), "208-93");
    assert_eq!(n.core.nas_address, Ipv4Addr::new(10, 45, 0, 1));
    assert_eq!(n.core.nas_tcp_port, 20_000);
    assert_eq!(n.core.inner_pool.prefix_len, 24);
    assert_eq!(n.core.supported_tas[0].broadcast_plmns[0].slices.len(), 2);
    assert_eq!(n.core.amfs[0].label, "amf-1");
    assert_eq!(n.amfs[0].address, "10.100.0.5:38412".parse().expect("addr"));
    assert_eq!(n.amfs[0].transport, TransportKind::Kernel);
    assert_eq!(
        (n.reconnect, n.reconnect_max),
        (Duration::from_secs(1), Duration::from_secs(30))
    );

    let conn = config.connections.last().expect("generated");
    assert_eq!(conn.name, N3IWF_CONNECTION);
    assert_eq!(conn.auth_method(), AuthMethod::Eap5g);
    assert_eq!(
        conn.proposals,
        ["aes256gcm16-prfsha384-x25519-ke1_mlkem768"]
    );
    assert_eq!(conn.hybrid, HybridPolicy::Pqc);
    assert_eq!(conn.local_id, "CN=n3iwf, O=Test");
    let child = conn.child(SIGNALLING_CHILD).expect("signalling child");
    let ts = |t: &[ikev2::wire::IpSelector]| -> Vec<String> {
        t.iter().map(iked::config::format_selector).collect()
    };
    assert_eq!(ts(&child.local_ts), ["10.45.0.1[tcp/20000]"]);
    assert_eq!(ts(&child.remote_ts), ["10.45.0.0/24"]);
    let engine = conn.to_engine();
    assert!(
        matches!(&engine.auth, AuthConfig::Eap(inner) if matches!(**inner, AuthConfig::Certificate(_)))
    );
    assert!(engine.remote_addrs.is_empty() && engine.remote_id.is_none());

    let d = config.dataplane.as_ref().expect("dataplane");
    assert!(d.addresses.contains(&(IpAddr::from([10, 45, 0, 1]), 32)));
    assert!(d.routes.contains(&(IpAddr::from([10, 45, 0, 0]), 24)));
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn usrsctp_amfs_take_their_lower_layer_and_ports() {
    let dir = Dir::new();
    let text = BASE.replace(
        "address = \"10.100.0.5\"\n",
        "address = \"10.100.0.5\"\nport = 38413\ntransport = \"usrsctp\"\nlower = \"udp\"\nlocal_udp_port = 0\nlocal = \"10.100.0.10\"\n",
    );
    let config = dir.parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let amf = &config.n3iwf.as_ref().expect("n3iwf").amfs[0];
    assert_eq!(amf.address.port(), 38413);
    assert_eq!(
        amf.transport,
        TransportKind::Usrsctp(LowerLayer::Udp {
            local_port: 0,
            remote_port: 9899
        })
    );
    assert_eq!(amf.local, Some(IpAddr::from([10, 100, 0, 10])));
}

#[test]
fn a_listed_proposal_without_ml_kem_is_accepted_with_a_warning_unless_hybrid_forbids_it() {
    let dir = Dir::new();
    let legacy = "key = \"n3iwf.key\"\nproposals = [\"aes256gcm16-prfsha384-x25519-ke1_mlkem768\", \"aes256-sha256-modp2048\"]\n";
    let config = dir
        .parse(&BASE.replace("key = \"n3iwf.key\"\n", legacy))
        .unwrap_or_else(|e| panic!("{e}"));
    let conn = config.connection(N3IWF_CONNECTION).expect("conn");
    assert_eq!(conn.hybrid, HybridPolicy::Classical);
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(
        config.warnings[0].ends_with(":24: n3iwf.ike.proposals: 'aes256-sha256-modp2048' has no ML-KEM key exchange: UEs that choose it get a classical IKE SA"),
        "{}",
        config.warnings[0]
    );
    let strict = format!("{legacy}hybrid = \"pqc\"\n");
    let e = dir.error("key = \"n3iwf.key\"\n", &strict);
    assert!(
        e.starts_with("iked.toml:25: n3iwf.ike.hybrid: \"pqc\" needs an ML-KEM key exchange in every IKE proposal"),
        "{e}"
    );
}

/// free5GC's UE offers only `aes256-sha1-modp2048` and ESP `aes256-sha1`: an N3IWF that lists
/// them next to the hybrid default serves it, says at load which algorithms are legacy, and
/// still offers and prefers the hybrid suite.
#[test]
fn the_legacy_profile_of_free5gc_ue_is_accepted_when_listed_and_named_in_warnings() {
    use ikev2::wire::{IntegId, PrfId};
    let dir = Dir::new();
    let default = dir.parse(BASE).unwrap_or_else(|e| panic!("{e}"));
    let engine = default
        .connection(N3IWF_CONNECTION)
        .expect("conn")
        .to_engine();
    let esp = engine.children.iter().flat_map(|c| c.esp_proposals.iter());
    assert!(
        engine.ike_proposals.iter().chain(esp).all(|p| {
            !p.integ.contains(&IntegId::HMAC_SHA1_96) && !p.prf.contains(&PrfId::HMAC_SHA1)
        }),
        "SHA-1 is never a default"
    );

    let legacy = "key = \"n3iwf.key\"\nproposals = [\"aes256gcm16-prfsha384-x25519-ke1_mlkem768\", \"aes256-sha1-modp2048\"]\nesp_proposals = [\"aes256gcm16\", \"aes256-sha1\"]\n";
    let config = dir
        .parse(&BASE.replace("key = \"n3iwf.key\"\n", legacy))
        .unwrap_or_else(|e| panic!("{e}"));
    let conn = config.connection(N3IWF_CONNECTION).expect("conn");
    assert_eq!(conn.hybrid, HybridPolicy::Classical);
    let engine = conn.to_engine();
    assert_eq!(engine.ike_proposals.len(), 2);
    let ue = &engine.ike_proposals[1];
    assert_eq!(
        (ue.integ.as_slice(), ue.prf.as_slice()),
        (&[IntegId::HMAC_SHA1_96][..], &[PrfId::HMAC_SHA1][..])
    );
    assert_eq!(
        engine.children[0].esp_proposals[1].integ,
        [IntegId::HMAC_SHA1_96]
    );
    let tail = |w: &String| w.split_once(".toml:").map(|(_, t)| t.to_string());
    let warnings: Vec<_> = config.warnings.iter().filter_map(tail).collect();
    assert_eq!(
        warnings,
        [
            "24: n3iwf.ike.proposals: 'aes256-sha1-modp2048' names legacy algorithms (HMAC-SHA1-96, PRF-HMAC-SHA1, MODP-2048 without ML-KEM, not post-quantum): keep it only for peers that offer nothing better, such as free5GC's UE",
            "24: n3iwf.ike.proposals: 'aes256-sha1-modp2048' has no ML-KEM key exchange: UEs that choose it get a classical IKE SA",
            "25: n3iwf.ike.esp_proposals: 'aes256-sha1' names legacy algorithms (HMAC-SHA1-96): keep it only for peers that offer nothing better, such as free5GC's UE",
        ],
        "{:?}",
        config.warnings
    );
}

#[test]
fn each_mistake_names_its_line_and_field() {
    let dir = Dir::new();
    let cases = [
        (
            "[dataplane]\nlocal = \"127.0.0.1\"\nencapsulation = \"raw\"\n",
            "",
            "iked.toml:4: n3iwf: needs [dataplane]: NAS over TCP terminates on the datapath's TUN device, where the UEs' signalling SAs deliver it",
        ),
        (
            "plmn = \"208-93\"",
            "plmn = \"20893\"",
            "iked.toml:8: n3iwf.plmn: '20893' is not MCC-MNC (3 digits, a dash, 2 or 3 digits: 208-93)",
        ),
        (
            "n3iwf_id = 135",
            "n3iwf_id = 70000",
            "iked.toml:9: n3iwf.n3iwf_id: 70000 is outside 0..=65535",
        ),
        (
            "nas_address = \"10.45.0.1\"",
            "nas_address = \"fd00::1\"",
            "iked.toml:10: n3iwf.nas_address: 'fd00::1' must be IPv4 (NAS_IP6_ADDRESS is not supported yet)",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"10.45.0.0/31\"",
            "iked.toml:11: n3iwf.ue_pool: /31: the prefix length must be between 8 and 30",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"fd00::/64\"",
            "iked.toml:11: n3iwf.ue_pool: must be an IPv4 prefix",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"10.45.0.0/24\"\nnas_port = 0",
            "iked.toml:12: n3iwf.nas_port: 0 is outside 1..=65535",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"10.45.0.0/24\"\npaging_drx = 100",
            "iked.toml:12: n3iwf.paging_drx: 100 is not a paging DRX cycle (32, 64, 128 or 256)",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"10.45.0.0/24\"\nmax_ues = 0",
            "iked.toml:12: n3iwf.max_ues: 0 is outside 1..=16777216",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"10.45.0.0/24\"\namf_reconnect = \"5s\"\namf_reconnect_max = \"1s\"",
            "iked.toml:13: n3iwf.amf_reconnect_max: must not be shorter than amf_reconnect",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"",
            "ue_pool = \"10.45.0.0/24\"\ncolour = \"blue\"",
            "iked.toml:12: n3iwf.colour: unknown field `colour`, expected one of `n3iwf_id`, `plmn`, `name`, `paging_drx`, `nas_address`, `nas_port`, `ue_pool`, `max_ues`, `dl_nas_queue`, `amf_reconnect`, `amf_reconnect_max`, `n3_address`, `up_address`, `max_pdu_sessions`, `max_sessions_per_ue`, `gre_protocol_type`, `ue_mtu`, `mtu_policy`, `gtpu_echo_interval`, `timers`, `tracking_areas`, `amfs`, `ike`",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"\n",
            "ue_pool = \"10.45.0.0/24\"\n[n3iwf.timers]\namf_answer = \"0s\"\n",
            "iked.toml:13: n3iwf.timers.amf_answer: must be longer than zero",
        ),
        (
            "ue_pool = \"10.45.0.0/24\"\n",
            "ue_pool = \"10.45.0.0/24\"\n[n3iwf.timers]\nng_setup = \"2h\"\n",
            "iked.toml:13: n3iwf.timers.ng_setup: '2h' is longer than the maximum of 1h",
        ),
        (
            "tac = 1",
            "tac = 16777216",
            "iked.toml:14: n3iwf.tracking_areas.tac: a TAC is a number up to 16777215 or six hex digits (\"000001\")",
        ),
        (
            "tac = 1",
            "tac = \"00001\"",
            "iked.toml:14: n3iwf.tracking_areas.tac: a TAC is a number up to 16777215 or six hex digits (\"000001\")",
        ),
        (
            "slices = [\"1\", \"1-010203\"]",
            "slices = [\"1\", \"1-0102\"]",
            "iked.toml:15: n3iwf.tracking_areas.plmns.slices: '1-0102' is not SST or SST-SD (SST 0-255, SD six hex digits: \"1\", \"1-010203\")",
        ),
        (
            "slices = [\"1\", \"1-010203\"]",
            "slices = []",
            "iked.toml:15: n3iwf.tracking_areas.plmns.slices: needs at least one slice",
        ),
        (
            "plmns = [{ plmn = \"208-93\", slices = [\"1\", \"1-010203\"] }]",
            "plmns = []",
            "iked.toml:15: n3iwf.tracking_areas.plmns: needs at least one PLMN",
        ),
        (
            "address = \"10.100.0.5\"",
            "address = \"amf.example\"",
            "iked.toml:19: n3iwf.amfs.address: 'amf.example' is not a unicast IP address (host names are not resolved)",
        ),
        (
            "address = \"10.100.0.5\"",
            "address = \"10.100.0.5\"\ntransport = \"sctp\"",
            "iked.toml:20: n3iwf.amfs.transport: unknown transport 'sctp' (use kernel or usrsctp)",
        ),
        (
            "address = \"10.100.0.5\"",
            "address = \"10.100.0.5\"\nlower = \"udp\"",
            "iked.toml:20: n3iwf.amfs.lower: only with transport = \"usrsctp\"",
        ),
        (
            "address = \"10.100.0.5\"",
            "address = \"10.100.0.5\"\ntransport = \"usrsctp\"\nudp_port = 9900",
            "iked.toml:21: n3iwf.amfs.udp_port: only with lower = \"udp\"",
        ),
        (
            "address = \"10.100.0.5\"",
            "address = \"10.100.0.5\"\nport = 0",
            "iked.toml:20: n3iwf.amfs.port: 0 is outside 1..=65535",
        ),
        (
            "address = \"10.100.0.5\"",
            "address = \"10.100.0.5\"\nlocal = \"fd00::1\"",
            "iked.toml:20: n3iwf.amfs.local: 'fd00::1' is not an IP address of the AMF's family",
        ),
        (
            "name = \"amf-1\"",
            "name = \"amf 1\"",
            "iked.toml:18: n3iwf.amfs.amf 1: names are 1-64 characters of A-Z, a-z, 0-9, '-', '_' and '.'",
        ),
        (
            "address = \"10.100.0.5\"\n",
            "address = \"10.100.0.5\"\ntransport = \"usrsctp\"\n[[n3iwf.amfs]]\nname = \"amf-2\"\naddress = \"10.100.0.6\"\ntransport = \"usrsctp\"\nlower = \"udp\"\n",
            "iked.toml:25: n3iwf.amfs.lower: every AMF on usrsctp must use the same lower layer and local_udp_port: usrsctp runs one stack per process",
        ),
        (
            "address = \"10.100.0.5\"\n",
            "address = \"10.100.0.5\"\n[[n3iwf.amfs]]\nname = \"amf-1\"\naddress = \"10.100.0.5\"\n",
            "iked.toml:21: n3iwf.amfs.name: name used twice\niked.toml:22: n3iwf.amfs.address: 10.100.0.5:38412 listed twice",
        ),
        (
            "certs = [\"n3iwf.pem\"]\n",
            "",
            "iked.toml:21: n3iwf.ike.certs: required: the N3IWF authenticates itself to UEs with a certificate (certs, a list of PEM files) and its PKCS#8 key (key)",
        ),
        (
            "certs = [\"n3iwf.pem\"]",
            "certs = [\"n3iwf.key\"]",
            "iked.toml:22: n3iwf.ike.certs: n3iwf.key: holds a 'PRIVATE KEY' block where a CERTIFICATE was expected",
        ),
        (
            "key = \"n3iwf.key\"",
            "key = \"n3iwf.key\"\nid = \"other.example\"",
            "iked.toml:24: n3iwf.ike.id: 'other.example' is not a subjectAltName of the certificate (the peer would refuse it); omit id to use the subject 'CN=n3iwf, O=Test'",
        ),
        (
            "key = \"n3iwf.key\"",
            "key = \"n3iwf.key\"\nproposals = [\"aes256gcm16-prfsha384-kyber\"]",
            "iked.toml:24: n3iwf.ike.proposals: unknown algorithm 'kyber'",
        ),
        (
            "key = \"n3iwf.key\"",
            "key = \"n3iwf.key\"\nppk_source = \"qkd\"\nqkd_peer_sae_id = \"ue\"",
            "iked.toml:24: n3iwf.ike.ppk_source: \"qkd\" needs a [qkd] section",
        ),
        (
            "key = \"n3iwf.key\"",
            "key = \"n3iwf.key\"\ndpd_delay = \"2d\"",
            "iked.toml:24: n3iwf.ike.dpd_delay: '2d' is longer than the maximum of 1d",
        ),
        (
            "[n3iwf]\n",
            "[connections.n3iwf]\nproposals = [\"aes256gcm16-prfsha384-x25519\"]\nlocal = { auth = \"psk\", id = \"a.example\" }\nremote = { auth = \"psk\" }\nchildren.net = { local_ts = [\"10.1.0.0/16\"], remote_ts = [\"10.2.0.0/16\"] }\n[secrets.ike.x]\nsecret = \"0x000102030405060708090a0b0c0d0e0f\"\n\n[n3iwf]\n",
            "iked.toml:7: connections.n3iwf: this name belongs to the connection [n3iwf] generates; rename it",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(from, to, want)| {
            let got = dir.error(from, to);
            (got != *want).then(|| format!("{to}\n  got:  {got}\n  want: {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_site_connection_that_answers_any_address_is_reported() {
    let dir = Dir::new();
    let site = "[connections.road]\nremote_addrs = [\"%any\"]\nproposals = [\"aes256gcm16-prfsha384-x25519\"]\nlocal = { auth = \"psk\", id = \"a.example\" }\nremote = { auth = \"psk\" }\nchildren.net = { local_ts = [\"10.1.0.0/16\"], remote_ts = [\"10.2.0.0/16\"] }\n[secrets.ike.x]\nsecret = \"0x000102030405060708090a0b0c0d0e0f\"\n\n[n3iwf]\n";
    let config = dir
        .parse(&BASE.replacen("[n3iwf]\n", site, 1))
        .unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = config.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["road", N3IWF_CONNECTION],
        "the N3IWF's connection comes last"
    );
    assert_eq!(config.warnings.len(), 1, "{:?}", config.warnings);
    assert!(config.warnings[0].contains(":7: connections.road.remote_addrs: answers any address and comes before the N3IWF's connection"), "{}", config.warnings[0]);
}

#[test]
fn the_annotated_example_is_valid() {
    let dir = Dir::new();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/n3iwf.toml");
    let text = std::fs::read_to_string(&path).expect("example");
    // The example listens on a documentation address: check it as written otherwise.
    let config = dir.parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let n = config.n3iwf.as_ref().expect("n3iwf");
    assert_eq!(n.amfs.len(), 1);
    assert_eq!(n.core.nas_tcp_port, 20_000);
    assert_eq!(config.connections.len(), 1);
    assert_eq!(config.connections[0].hybrid, HybridPolicy::Pqc);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn a_ppk_for_ues_is_mixed_in_ike_intermediate_and_rfc8784_is_refused() {
    let dir = Dir::new();
    let ppk = "key = \"n3iwf.key\"\nppk_id = \"ue-ppk\"";
    let secret = "\n[secrets.ppk.ue]\nid = \"ue-ppk\"\nsecret = \"0x000102030405060708090a0b0c0d0e0f000102030405060708090a0b0c0d0e0f\"\n";
    let text = format!("{}{secret}", BASE.replacen("key = \"n3iwf.key\"", ppk, 1));
    let config = dir.parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let conn = config.connections.last().expect("generated");
    let engine = conn.to_engine();
    let mode = engine.ppk.as_ref().map(|p| p.mode);
    assert_eq!(mode, Some(ikev2::PpkMode::Rfc9867));

    let explicit = text.replacen("ppk_id", "ppk_mode = \"rfc8784\"\nppk_id", 1);
    let error = dir.parse(&explicit).map(|_| ()).expect_err("refused");
    assert!(
        error.ends_with("iked.toml:24: n3iwf.ike.ppk_mode: UEs authenticate with EAP, and a PPK is mixed with EAP only in IKE_INTERMEDIATE: use rfc9867 (the default here)"),
        "{error}"
    );
}

/// `BASE` with user-plane lines after `ue_pool` (line 11): the first added is line 12.
fn with_user_plane(lines: &str) -> String {
    BASE.replacen(
        "ue_pool = \"10.45.0.0/24\"\n",
        &format!("ue_pool = \"10.45.0.0/24\"\n{lines}"),
        1,
    )
}

#[test]
fn the_user_plane_takes_its_addresses_bounds_gre_mtu_and_echo_settings() {
    use dataplane::{GreProtocolType, OversizePolicy};
    use iked::config::USER_PLANE_CHILD;
    let dir = Dir::new();
    let config = dir
        .parse(&with_user_plane(
            "n3_address = \"10.200.0.1\"\nup_address = \"10.45.0.254\"\nmax_pdu_sessions = 1000\nmax_sessions_per_ue = 4\ngre_protocol_type = \"zero\"\nue_mtu = 1400\nmtu_policy = \"drop\"\ngtpu_echo_interval = \"0\"\n",
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let n = config.n3iwf.as_ref().expect("n3iwf");
    assert_eq!(n.core.n3_address, Some(IpAddr::from([10, 200, 0, 1])));
    assert_eq!(n.core.user_plane_address(), IpAddr::from([10, 45, 0, 254]));
    assert_eq!(
        (
            n.core.limits.max_pdu_sessions,
            n.core.limits.max_sessions_per_ue
        ),
        (1000, 4)
    );
    assert_eq!(n.user_plane.gre_protocol, GreProtocolType::Zero);
    assert_eq!(n.user_plane.echo_interval, None, "0 turns supervision off");
    let d = config.dataplane.as_ref().expect("dataplane");
    assert_eq!(d.n3, Some("10.200.0.1:2152".parse().expect("addr")));
    assert_eq!((d.n3_ue_mtu, d.n3_oversize), (1400, OversizePolicy::Drop));
    let child = config.connections[0]
        .child(USER_PLANE_CHILD)
        .expect("template");
    let ts: Vec<String> = child
        .local_ts
        .iter()
        .chain(&child.remote_ts)
        .map(iked::config::format_selector)
        .collect();
    assert_eq!(ts, ["10.45.0.254", "10.45.0.0/24"]);
    assert_eq!(child.esp_proposals, ["aes256gcm16", "aes128gcm16"]);
}

#[test]
fn user_plane_defaults_follow_the_nas_address_and_supervise_every_minute() {
    use iked::config::USER_PLANE_CHILD;
    let dir = Dir::new();
    let config = dir.parse(BASE).unwrap_or_else(|e| panic!("{e}"));
    let n = config.n3iwf.as_ref().expect("n3iwf");
    assert_eq!(
        n.core.n3_address, None,
        "no N3 address: sessions are refused"
    );
    assert_eq!(n.core.user_plane_address(), IpAddr::from([10, 45, 0, 1]));
    assert_eq!(n.user_plane.echo_interval, Some(Duration::from_secs(60)));
    assert_eq!(n.user_plane.ue_mtu, 1500);
    assert_eq!(config.dataplane.as_ref().expect("dp").n3, None);
    let child = config.connections[0]
        .child(USER_PLANE_CHILD)
        .expect("template");
    assert_eq!(
        iked::config::format_selector(&child.local_ts[0]),
        "10.45.0.1"
    );
    let pfs = dir
        .parse(&BASE.replacen(
            "key = \"n3iwf.key\"",
            "key = \"n3iwf.key\"\nup_esp_proposals = [\"aes256gcm16-mlkem768\"]",
            1,
        ))
        .unwrap_or_else(|e| panic!("{e}"));
    let child = pfs.connections[0]
        .child(USER_PLANE_CHILD)
        .expect("template");
    assert_eq!(
        child.esp_proposals,
        ["aes256gcm16-mlkem768"],
        "PFS by a KE method"
    );
}

#[test]
fn every_user_plane_mistake_names_its_line_and_field() {
    let dir = Dir::new();
    let cases = [
        (
            "n3_address = \"10.200.0\"\n",
            "iked.toml:12: n3iwf.n3_address: '10.200.0' is not an IP address",
        ),
        (
            "n3_address = \"0.0.0.0\"\n",
            "iked.toml:12: n3iwf.n3_address: '0.0.0.0' must be a unicast address of this host",
        ),
        (
            "up_address = \"224.0.0.1\"\n",
            "iked.toml:12: n3iwf.up_address: '224.0.0.1' must be a unicast address of this host",
        ),
        (
            "up_address = \"2001:db8::1\"\n",
            "iked.toml:12: n3iwf.up_address: must be IPv4: the UEs' inner addresses are IPv4 (UP_IP6_ADDRESS is not supported yet)",
        ),
        (
            "max_pdu_sessions = 0\n",
            "iked.toml:12: n3iwf.max_pdu_sessions: 0 is outside 1..=1048576",
        ),
        (
            "max_pdu_sessions = 1048577\n",
            "iked.toml:12: n3iwf.max_pdu_sessions: 1048577 is outside 1..=1048576",
        ),
        (
            "max_sessions_per_ue = 16\n",
            "iked.toml:12: n3iwf.max_sessions_per_ue: 16 is outside 1..=15",
        ),
        (
            "gre_protocol_type = \"ip\"\n",
            "iked.toml:12: n3iwf.gre_protocol_type: 'ip' is not \"ethertype\" (the inner packet's) or \"zero\" (TS 24.502 §9.3.3)",
        ),
        (
            "ue_mtu = 1279\n",
            "iked.toml:12: n3iwf.ue_mtu: 1279 is outside 1280..=9000",
        ),
        (
            "ue_mtu = 9001\n",
            "iked.toml:12: n3iwf.ue_mtu: 9001 is outside 1280..=9000",
        ),
        (
            "mtu_policy = \"truncate\"\n",
            "iked.toml:12: n3iwf.mtu_policy: 'truncate' is not \"fragment\" (the inner packet, before ESP) or \"drop\"",
        ),
        (
            "gtpu_echo_interval = \"500ms\"\n",
            "iked.toml:12: n3iwf.gtpu_echo_interval: must be 0 (off) or at least 1s (TS 29.281 §7.2.1 asks for no more than one Echo Request a minute per path; seconds are for tests)",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(line, want)| {
            let text = with_user_plane(line);
            let got = match dir.parse(&text) {
                Ok(_) => "accepted".to_string(),
                Err(e) => e.replace(&format!("{}/", dir.0.path().display()), ""),
            };
            (got != *want).then(|| format!("{line}  got:  {got}\n  want: {want}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let e = dir.error(
        "key = \"n3iwf.key\"",
        "key = \"n3iwf.key\"\nup_esp_proposals = [\"aes256cbc\"]",
    );
    assert!(
        e.starts_with("iked.toml:24: n3iwf.ike.up_esp_proposals:"),
        "{e}"
    );
}
