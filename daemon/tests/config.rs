//! Configuration loading: every error names file, line and field; valid files become the
//! engine's connection configs.

#[path = "common/text.rs"]
mod text;

use std::path::Path;
use std::time::Duration;

use iked::config::{Config, Encapsulation, HybridPolicy, StartAction};
use ikev2::{Identity, Lifetime, PpkMode, PpkSource};
use text::{BASE, FILE};

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(Path::new(FILE), text).map_err(|e| e.to_string())
}

fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "BASE lacks {from:?}");
    BASE.replacen(from, to, 1)
}

#[test]
fn unknown_algorithm_names_file_line_and_field() {
    let text = edit("x25519-ke1_mlkem768\"]", "x25519-ke1_kyber\"]");
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:6: connections.site-b.proposals: unknown algorithm 'ke1_kyber'"
    );
}

#[test]
fn second_proposal_error_points_at_its_own_line() {
    let text = edit(
        "proposals = [\"aes256gcm16-prfsha384-x25519-ke1_mlkem768\"]",
        "proposals = [\n  \"aes256gcm16-prfsha384-x25519\",\n  \"aes256gcm16-x25519\",\n]",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:8: connections.site-b.proposals: no PRF (e.g. prfsha384)"
    );
}

#[test]
fn unknown_field_is_named_with_its_table() {
    let text = edit("start_action = \"start\"", "start_actoin = \"start\"");
    let e = error_of(&text);
    assert!(e.starts_with("/etc/iked/iked.toml:7: connections.site-b.start_actoin: unknown field `start_actoin`, expected one of"), "{e}");
}

#[test]
fn unknown_field_in_a_child() {
    let text = edit(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"]\nesp = \"aes256gcm16\"",
    );
    let e = error_of(&text);
    assert!(
        e.starts_with(
            "/etc/iked/iked.toml:20: connections.site-b.children.net.esp: unknown field `esp`"
        ),
        "{e}"
    );
}

#[test]
fn wrong_type_names_the_field() {
    let text = edit(
        "listen = [\"127.0.0.1\"]",
        "listen = [\"127.0.0.1\"]\nike_port = \"500\"",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:3: daemon.ike_port: invalid type: string \"500\", expected u16"
    );
}

#[test]
fn missing_required_field_names_the_table() {
    let text = edit(
        "proposals = [\"aes256gcm16-prfsha384-x25519-ke1_mlkem768\"]\n",
        "",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:4: connections.site-b: missing field `proposals`"
    );
}

#[test]
fn syntax_error_has_a_line() {
    let text = edit(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:21: missing comma between array elements, expected `,`"
    );
}

#[test]
fn bad_traffic_selector() {
    let text = edit(
        "local_ts = [\"10.1.0.0/16\"]",
        "local_ts = [\"10.1.0.1/16\"]",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:18: connections.site-b.children.net.local_ts: '10.1.0.1/16' has host bits set (did you mean 10.1.0.0/16?)"
    );
}

#[test]
fn bad_esp_proposal() {
    let text = edit(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"]\nesp_proposals = [\"aes256gcm16-prfsha256\"]",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:20: connections.site-b.children.net.esp_proposals: 'prfsha256' is not valid in an ESP proposal"
    );
}

#[test]
fn several_errors_are_all_reported_in_line_order() {
    let text = edit(
        "start_action = \"start\"",
        "start_action = \"later\"\ndpd_delay = \"30 parsecs\"",
    )
    .replace("id = \"site-b.example\"", "id = \"CN=site-b\"");
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:7: connections.site-b.start_action: unknown start action 'later' (use none, start or trap)\n\
         /etc/iked/iked.toml:8: connections.site-b.dpd_delay: unknown unit ' parsecs' in '30 parsecs' (use ms, s, m, h or d)\n\
         /etc/iked/iked.toml:16: connections.site-b.remote.id: 'CN=site-b' looks like a distinguished name; only our own id with auth = \"pubkey\" may be one (omit it to use the certificate subject)"
    );
}

#[test]
fn psk_must_match_an_identity() {
    let text = edit(
        "ids = [\"site-a.example\", \"site-b.example\"]",
        "ids = [\"other.example\"]",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:10: connections.site-b.local.auth: no [secrets.ike.*] entry matches this connection's identities"
    );
}

#[test]
fn psk_ambiguity_is_an_error() {
    let text = format!(
        "{BASE}\n[secrets.ike.again]\nids = [\"site-b.example\", \"site-a.example\"]\nsecret = \"x\"\n"
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:10: connections.site-b.local.auth: ambiguous: secrets ab and again match equally well"
    );
}

#[test]
fn pubkey_on_one_side_only_is_refused() {
    let text = edit(
        "auth = \"psk\"\nid = \"site-a.example\"",
        "auth = \"pubkey\"\nid = \"site-a.example\"",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:14: connections.site-b.remote.auth: must equal local.auth: mixing psk and pubkey is not supported"
    );
}

#[test]
fn ppk_must_exist_and_be_long_enough() {
    let text = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nppk_id = \"qkd-1\"",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:8: connections.site-b.ppk_id: no [secrets.ppk.*] entry has id = \"qkd-1\""
    );
    let short = format!("{text}\n[secrets.ppk.one]\nid = \"qkd-1\"\nsecret = \"too short\"\n");
    assert_eq!(
        error_of(&short),
        "/etc/iked/iked.toml:28: secrets.ppk.one: a PPK needs at least 32 bytes (256 bits) of key material, this one has 9"
    );
}

/// A `[qkd]` section whose PEM files exist in `dir`.
fn qkd_section(dir: &Path) -> String {
    for f in ["ca.pem", "a.pem", "a.key"] {
        std::fs::write(dir.join(f), "-----BEGIN CERTIFICATE-----\n").expect("write");
    }
    "\n[qkd]\nkme_url = \"https://127.0.0.1:8443\"\nsae_id = \"SAE-A\"\nca = \"ca.pem\"\ncert = \"a.pem\"\nkey = \"a.key\"\ntimeout = \"2s\"\n".into()
}

fn parse_in(dir: &Path, text: &str) -> Result<Config, String> {
    Config::parse(&dir.join("iked.toml"), text)
        .map_err(|e| e.to_string().replace(&dir.display().to_string(), "DIR"))
}

#[test]
fn qkd_source_reaches_the_engine_as_an_external_required_ppk() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nppk_source = \"qkd\"\nqkd_peer_sae_id = \"SAE-B\"\nppk_mode = \"rfc9867\"",
    );
    let config =
        parse_in(dir.path(), &format!("{text}{}", qkd_section(dir.path()))).expect("valid");
    let qkd = config.qkd.as_ref().expect("qkd");
    assert_eq!(
        (qkd.key_size, qkd.timeout, qkd.sae_id.as_str()),
        (256, Duration::from_secs(2), "SAE-A")
    );
    assert_eq!(qkd.cert, dir.path().join("a.pem"));
    let conn = &config.connections[0];
    assert_eq!(conn.hybrid, HybridPolicy::PqcQkd);
    assert!(!conn.hybrid_explicit);
    assert_eq!(conn.qkd_peer_sae_id.as_deref(), Some("SAE-B"));
    let ppk = conn.to_engine().ppk.expect("ppk");
    assert!(ppk.required, "QKD fails closed unless qkd_fallback");
    assert_eq!(ppk.mode, PpkMode::Rfc9867);
    assert!(
        matches!(ppk.source, PpkSource::External { timeout } if timeout == Duration::from_secs(3))
    );
    let fallback = text.replace(
        "ppk_mode = \"rfc9867\"",
        "hybrid = \"pqc+qkd\"\nqkd_fallback = true",
    );
    let config = parse_in(
        dir.path(),
        &format!("{fallback}{}", qkd_section(dir.path())),
    )
    .expect("valid");
    assert!(config.connections[0].hybrid_explicit);
    assert!(
        !config.connections[0].to_engine().ppk.expect("ppk").required,
        "qkd_fallback allows ML-KEM alone"
    );
}

#[test]
fn qkd_errors_name_file_line_and_field() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nppk_source = \"qkd\"\nppk_id = \"x\"",
    );
    assert_eq!(
        parse_in(dir.path(), &text).err().expect("error"),
        "DIR/iked.toml:8: connections.site-b.qkd_peer_sae_id: required with ppk_source = \"qkd\"\n\
         DIR/iked.toml:8: connections.site-b.ppk_source: \"qkd\" needs a [qkd] section\n\
         DIR/iked.toml:9: connections.site-b.ppk_id: not used with ppk_source = \"qkd\" (the KME's key_ID is the PPK_ID)"
    );
    let kme = qkd_section(dir.path())
        .replace("https://", "http://")
        .replace("a.key", "missing.key")
        .replace("timeout = \"2s\"", "key_size = 100");
    assert_eq!(
        parse_in(dir.path(), &format!("{BASE}{kme}"))
            .err()
            .expect("error"),
        "DIR/iked.toml:26: qkd.kme_url: must be an https:// URL (ETSI GS QKD 014 requires TLS)\n\
         DIR/iked.toml:30: qkd.key: cannot read DIR/missing.key: No such file or directory (os error 2)\n\
         DIR/iked.toml:31: qkd.key_size: 100 bits: use a multiple of 8 from 256 to 8192 (a PPK needs at least 256 bits)"
    );
}

#[test]
fn hybrid_policy_is_checked_against_the_proposals() {
    let dir = tempfile::tempdir().expect("tmp");
    let classical = edit("x25519-ke1_mlkem768\"]", "x25519\"]\nhybrid = \"pqc\"");
    assert_eq!(
        error_of(&classical),
        "/etc/iked/iked.toml:7: connections.site-b.hybrid: \"pqc\" needs an ML-KEM key exchange in every IKE proposal; 'aes256gcm16-prfsha384-x25519' has none that is mandatory (add e.g. ke1_mlkem768)"
    );
    let optional = edit(
        "x25519-ke1_mlkem768\"]",
        "x25519-ke1_mlkem768-ke1_none\"]\nhybrid = \"pqc\"",
    );
    assert!(error_of(&optional).contains("has none that is mandatory"));
    let no_qkd = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nhybrid = \"pqc+qkd\"",
    );
    assert_eq!(
        error_of(&no_qkd),
        "/etc/iked/iked.toml:8: connections.site-b.hybrid: \"pqc+qkd\" needs ppk_source = \"qkd\""
    );
    let unknown = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nhybrid = \"quantum\"",
    );
    assert_eq!(
        error_of(&unknown),
        "/etc/iked/iked.toml:8: connections.site-b.hybrid: unknown policy 'quantum' (use classical, pqc, qkd or pqc+qkd)"
    );
    let to_classical = edit(
        "x25519-ke1_mlkem768\"]",
        "x25519\"]\nppk_source = \"qkd\"\nqkd_peer_sae_id = \"B\"\nqkd_fallback = true",
    );
    assert_eq!(
        parse_in(
            dir.path(),
            &format!("{to_classical}{}", qkd_section(dir.path()))
        )
        .err()
        .expect("error"),
        "DIR/iked.toml:9: connections.site-b.qkd_fallback: would fall back to a classical key exchange; it needs hybrid = \"pqc+qkd\" (an ML-KEM key exchange in every proposal)"
    );
    let fallback_without_qkd = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nqkd_fallback = true",
    );
    assert_eq!(
        error_of(&fallback_without_qkd),
        "/etc/iked/iked.toml:8: connections.site-b.qkd_fallback: only used with ppk_source = \"qkd\""
    );
    let inferred = parse(BASE).expect("valid");
    assert_eq!(
        (
            inferred.connections[0].hybrid,
            inferred.connections[0].hybrid_explicit
        ),
        (HybridPolicy::Pqc, false)
    );
}

#[test]
fn dataplane_section_is_validated() {
    let section = "\n[dataplane]\ntun = \"pqm0\"\nmtu = 1400\naddresses = [\"10.1.0.1/24\"]\nroutes = [\"10.2.0.0/16\"]\n";
    let config = parse(&format!("{BASE}{section}")).expect("valid");
    let d = config.dataplane.as_ref().expect("dataplane");
    assert_eq!(
        (d.tun.as_str(), d.mtu, d.encapsulation),
        ("pqm0", 1400, Encapsulation::Udp)
    );
    assert_eq!(
        d.local,
        "127.0.0.1".parse::<std::net::IpAddr>().expect("ip"),
        "the only listen address"
    );
    assert_eq!(d.routes, vec![("10.2.0.0".parse().expect("ip"), 16)]);
    assert!(
        config.connections[0].to_engine().force_encap,
        "ESP in UDP forces encapsulation"
    );
    let raw = parse(&format!("{BASE}{section}encapsulation = \"raw\"\n")).expect("valid");
    assert!(!raw.connections[0].to_engine().force_encap);
    let bad = format!(
        "{BASE}\n[dataplane]\ntun = \"a-very-long-interface-name\"\naddresses = [\"10.1.0.1\"]\nroutes = [\"10.2.0.1/16\"]\nlocal = \"192.0.2.1\"\nencapsulation = \"gre\"\n"
    );
    assert_eq!(
        error_of(&bad),
        "/etc/iked/iked.toml:26: dataplane.tun: an interface name is 1-15 characters without '/', '%' or blanks\n\
         /etc/iked/iked.toml:27: dataplane.addresses: '10.1.0.1' is not ADDRESS/PREFIX (e.g. 10.1.0.0/16)\n\
         /etc/iked/iked.toml:28: dataplane.routes: '10.2.0.1/16' has host bits set (did you mean 10.2.0.0/16?)\n\
         /etc/iked/iked.toml:29: dataplane.local: 192.0.2.1 is not covered by daemon.listen\n\
         /etc/iked/iked.toml:30: dataplane.encapsulation: unknown encapsulation 'gre' (use udp or raw)"
    );
    let no_natt = edit(
        "listen = [\"127.0.0.1\"]",
        "listen = [\"127.0.0.1\"]\nnatt_port = 0",
    );
    assert_eq!(
        error_of(&format!("{no_natt}{section}")),
        "/etc/iked/iked.toml:26: dataplane.encapsulation: \"udp\" needs daemon.natt_port (ESP in UDP shares it with IKE, RFC 3948)"
    );
    let wildcard = edit("listen = [\"127.0.0.1\"]", "listen = [\"0.0.0.0\"]");
    assert_eq!(
        error_of(&format!("{wildcard}{section}")),
        "/etc/iked/iked.toml:25: dataplane.local: required unless daemon.listen holds exactly one concrete address (ESP and IKE must share our outer address)"
    );
}

#[test]
fn child_traffic_limits_are_checked() {
    let limits = edit(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"]\nrekey_bytes = \"500M\"\nlife_bytes = \"1G\"\nlife_packets = 1000000",
    );
    let config = parse(&limits).expect("valid");
    let l = config.connections[0].children[0].limits;
    assert_eq!(
        (l.rekey_bytes, l.life_bytes, l.rekey_packets, l.life_packets),
        (Some(500 << 20), Some(1 << 30), None, Some(1_000_000))
    );
    let reversed = limits.replace("life_bytes = \"1G\"", "life_bytes = \"100M\"");
    assert_eq!(
        error_of(&reversed),
        "/etc/iked/iked.toml:21: connections.site-b.children.net.life_bytes: must be larger than rekey_bytes"
    );
    let unit = limits.replace("\"500M\"", "\"5 parsecs\"");
    assert_eq!(
        error_of(&unit),
        "/etc/iked/iked.toml:20: connections.site-b.children.net.rekey_bytes: unknown unit ' parsecs' in '5 parsecs' (use K, M, G or T)"
    );
}

#[test]
fn metrics_must_stay_on_loopback() {
    let text = edit(
        "listen = [\"127.0.0.1\"]",
        "listen = [\"127.0.0.1\"]\nmetrics = \"0.0.0.0:9716\"",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:3: daemon.metrics: must be a loopback address (the endpoint has no authentication)"
    );
}

#[test]
fn start_needs_a_concrete_peer() {
    let text = edit(
        "remote_addrs = [\"192.0.2.2\"]",
        "remote_addrs = [\"%any\"]",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:7: connections.site-b.start_action: needs a concrete address in remote_addrs to initiate to"
    );
}

#[test]
fn local_addrs_must_be_listened_on() {
    let text = edit(
        "remote_addrs = [\"192.0.2.2\"]",
        "remote_addrs = [\"192.0.2.2\"]\nlocal_addrs = [\"192.0.2.1\"]",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:6: connections.site-b.local_addrs: 192.0.2.1 is not covered by daemon.listen"
    );
}

#[test]
fn child_lifetimes_are_checked() {
    let text = edit(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"]\nrekey_time = \"1h\"\nlife_time = \"30m\"",
    );
    assert_eq!(
        error_of(&text),
        "/etc/iked/iked.toml:21: connections.site-b.children.net.life_time: must be longer than rekey_time"
    );
}

#[test]
fn converts_to_the_engine_config() {
    let config = parse(BASE).expect("valid");
    assert_eq!(
        config.daemon.listen,
        vec!["127.0.0.1".parse::<std::net::IpAddr>().expect("ip")]
    );
    assert_eq!(config.daemon.ike_port, 500);
    assert_eq!(config.daemon.natt_port, Some(4500));
    let conn = config.connection("site-b").expect("site-b");
    assert_eq!(conn.start_action, StartAction::Start);
    assert_eq!(
        conn.initiate_to(),
        Some("192.0.2.2:500".parse().expect("addr"))
    );
    let engine = conn.to_engine();
    assert_eq!(engine.name, "site-b");
    assert_eq!(engine.local_id, Identity::fqdn("site-a.example"));
    assert_eq!(engine.remote_id, Some(Identity::fqdn("site-b.example")));
    assert_eq!(
        engine.ike_proposals,
        vec![
            ikev2::ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519-ke1_mlkem768").expect("p")
        ]
    );
    // strongSwan's fragment_size counts the IPv4 datagram; the engine counts the UDP payload.
    assert_eq!(engine.fragment_size, Some(1280 - 20 - 8));
    assert_eq!(engine.dpd_delay, None);
    assert_eq!(
        engine.ike_lifetime,
        Lifetime {
            rekey_after: Some(Duration::from_secs(14_400)),
            expire_after: Some(Duration::from_secs(15_840)),
            jitter: Duration::from_secs(1440)
        }
    );
    assert!(engine.ppk.is_none());
    let child = &engine.children[0];
    assert_eq!(child.name, "net");
    assert_eq!(
        child.esp_proposals,
        vec![ikev2::ProposalSpec::parse_esp("aes256gcm16").expect("p")]
    );
    assert_eq!(
        iked::config::format_selector(&child.local_ts[0]),
        "10.1.0.0/16"
    );
    assert_eq!(
        iked::config::format_selector(&child.remote_ts[0]),
        "10.2.0.0/16"
    );
    assert_eq!(child.lifetime, Lifetime::CHILD_DEFAULT);
    match &engine.auth {
        ikev2::AuthConfig::Psk(k) => assert_eq!(k.expose(), &(0u8..16).collect::<Vec<_>>()[..]),
        _ => panic!("psk expected"),
    }
}

#[test]
fn optional_settings_reach_the_engine() {
    let text = edit("start_action = \"start\"", "start_action = \"none\"\ndpd_delay = \"30s\"\nrekey_time = \"1h\"\nfragmentation = false\nppk_id = \"qkd-1\"\nppk_required = true")
        .replace("remote_ts = [\"10.2.0.0/16\"]", "remote_ts = [\"10.2.0.0/16\"]\nrekey_time = \"10m\"\nlife_time = \"12m\"");
    let text = format!(
        "{text}\n[secrets.ppk.one]\nid = \"qkd-1\"\nsecret = \"0x{}\"\n",
        "ab".repeat(32)
    );
    let config = parse(&text).expect("valid");
    let engine = config.connections[0].to_engine();
    assert_eq!(engine.dpd_delay, Some(Duration::from_secs(30)));
    assert_eq!(engine.fragment_size, None);
    assert_eq!(
        engine.ike_lifetime.rekey_after,
        Some(Duration::from_secs(3600))
    );
    assert_eq!(
        engine.ike_lifetime.expire_after,
        Some(Duration::from_secs(3960))
    );
    let ppk = engine.ppk.as_ref().expect("ppk");
    assert!(ppk.required);
    match &ppk.source {
        PpkSource::Static { id, key } => {
            assert_eq!(id, b"qkd-1");
            assert_eq!(key.expose(), &[0xab; 32]);
        }
        _ => panic!("static PPK expected"),
    }
    let child = &engine.children[0].lifetime;
    assert_eq!(
        *child,
        Lifetime {
            rekey_after: Some(Duration::from_secs(600)),
            expire_after: Some(Duration::from_secs(720)),
            jitter: Duration::from_secs(120)
        }
    );
}

#[test]
fn not_enforced_settings_warn() {
    let text = edit(
        "start_action = \"start\"",
        "start_action = \"trap\"\nreauth_time = \"8h\"",
    );
    let config = parse(&text).expect("valid");
    assert_eq!(
        config.warnings,
        vec![
            "/etc/iked/iked.toml:7: connections.site-b.start_action: \"trap\" needs the datapath ([dataplane]) and acts like \"none\" without it".to_string(),
            "/etc/iked/iked.toml:8: connections.site-b.reauth_time: accepted but not enforced yet (the engine rekeys, it does not reauthenticate)".to_string(),
        ]
    );
}

#[test]
fn secret_from_a_file_next_to_the_config() {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::write(dir.path().join("ab.psk"), "0x0a0b\n").expect("write");
    let text = BASE.replace(
        "secret = \"0x000102030405060708090a0b0c0d0e0f\"",
        "file = \"ab.psk\"",
    );
    let config = Config::parse(&dir.path().join("iked.toml"), &text).expect("valid");
    match &config.connections[0].to_engine().auth {
        ikev2::AuthConfig::Psk(k) => assert_eq!(k.expose(), &[0x0a, 0x0b]),
        _ => panic!("psk expected"),
    }
    let missing = BASE.replace(
        "secret = \"0x000102030405060708090a0b0c0d0e0f\"",
        "file = \"nope.psk\"",
    );
    let e = Config::parse(&dir.path().join("iked.toml"), &missing)
        .err()
        .expect("error")
        .to_string();
    assert!(
        e.contains("iked.toml:23: secrets.ike.ab.file: cannot read "),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn reload_detects_changes_including_secrets() {
    let a = parse(BASE).expect("valid");
    let b = parse(BASE).expect("valid");
    assert!(a.connections[0].same_as(&b.connections[0]));
    let c = parse(&BASE.replace("0e0f\"", "0e0e\"")).expect("valid");
    assert!(!a.connections[0].same_as(&c.connections[0]));
    let d = parse(&BASE.replace("10.2.0.0/16", "10.3.0.0/16")).expect("valid");
    assert!(!a.connections[0].same_as(&d.connections[0]));
}

#[test]
fn connections_keep_file_order() {
    let second = BASE.replace("[connections.site-b", "[connections.aaa").replace("[secrets.ike.ab]\nids = [\"site-a.example\", \"site-b.example\"]\nsecret = \"0x000102030405060708090a0b0c0d0e0f\"\n", "").replace("[daemon]\nlisten = [\"127.0.0.1\"]\n", "");
    let config = parse(&format!("{BASE}\n{second}")).expect("valid");
    let names: Vec<&str> = config.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["site-b", "aaa"]);
}

#[test]
fn the_annotated_example_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/iked.toml");
    let text = std::fs::read_to_string(&path).expect("example");
    let config = Config::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(config.connections.len(), 2);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    let site_b = config.connection("site-b").expect("site-b").to_engine();
    assert!(site_b.ppk.as_ref().is_some_and(|p| p.required));
    assert_eq!(site_b.children[0].esp_proposals.len(), 2);
}

#[test]
fn key_log_warns_and_is_relative_to_the_file() {
    let text = edit(
        "listen = [\"127.0.0.1\"]",
        "listen = [\"127.0.0.1\"]\nkey_log = \"wireshark\"",
    );
    let config = parse(&text).expect("valid");
    assert_eq!(
        config.daemon.key_log.as_deref(),
        Some(Path::new("/etc/iked/wireshark"))
    );
    assert_eq!(
        config.warnings,
        vec!["/etc/iked/iked.toml:3: daemon.key_log: IKE and ESP keys are written there for Wireshark: anyone who reads them can decrypt the traffic (debugging only)".to_string()]
    );
    let empty = edit(
        "listen = [\"127.0.0.1\"]",
        "listen = [\"127.0.0.1\"]\nkey_log = \"\"",
    );
    assert_eq!(
        error_of(&empty),
        "/etc/iked/iked.toml:3: daemon.key_log: must not be empty"
    );
}

/// One bad value per case, each with the exact message: file, line, field and reason.
#[test]
fn each_bad_value_gets_its_precise_error() {
    let sa = "start_action = \"start\"";
    let rts = "remote_ts = [\"10.2.0.0/16\"]";
    let cases: &[(&str, &str, &str)] = &[
        (
            "listen = [\"127.0.0.1\"]",
            "listen = [\"localhost\"]",
            "2: daemon.listen: 'localhost' is not an IP address",
        ),
        (
            "remote_addrs = [\"192.0.2.2\"]",
            "remote_addrs = [\"gw.example\"]",
            "5: connections.site-b.remote_addrs: 'gw.example' is not an IP address or %any (host names are not resolved)",
        ),
        (
            sa,
            "start_action = \"start\"\nremote_port = 70000",
            "8: connections.site-b.remote_port: invalid value: integer `70000`, expected u16",
        ),
        (
            sa,
            "start_action = \"start\"\nfragment_size = 100",
            "8: connections.site-b.fragment_size: 100 is outside 576..65535",
        ),
        (
            sa,
            "start_action = \"start\"\nrekey_time = \"4 hours\"",
            "8: connections.site-b.rekey_time: unknown unit ' hours' in '4 hours' (use ms, s, m, h or d)",
        ),
        (
            sa,
            "start_action = \"start\"\nbogus = 1",
            "8: connections.site-b.bogus: unknown field `bogus`, expected one of `local_addrs`, `remote_addrs`, `remote_port`, `proposals`, `start_action`, `keyingtries`, `fragmentation`, `fragment_size`, `dpd_delay`, `rekey_time`, `over_time`, `rand_time`, `reauth_time`, `ppk_id`, `ppk_required`, `ppk_source`, `ppk_mode`, `qkd_peer_sae_id`, `hybrid`, `qkd_fallback`, `local`, `remote`, `children`",
        ),
        (
            "local_ts = [\"10.1.0.0/16\"]",
            "local_ts = [\"10.1.0.0/33\"]",
            "18: connections.site-b.children.net.local_ts: prefix length /33 is too long for 10.1.0.0",
        ),
        (
            "local_ts = [\"10.1.0.0/16\"]",
            "local_ts = []",
            "18: connections.site-b.children.net.local_ts: needs at least one traffic selector",
        ),
        (
            rts,
            "remote_ts = [\"10.2.0.0/16\"]\nmode = \"transport\"",
            "20: connections.site-b.children.net.mode: only \"tunnel\" is supported (the datapath is a TUN device)",
        ),
        (
            rts,
            "remote_ts = [\"10.2.0.0/16\"]\nlife_time = \"30m\"",
            "20: connections.site-b.children.net.life_time: must be longer than rekey_time",
        ),
        (
            rts,
            "remote_ts = [\"10.2.0.0/16\"]\nclose_action = \"reconnect\"",
            "20: connections.site-b.children.net.close_action: unknown action 'reconnect' (use none, trap or start)",
        ),
        (
            rts,
            "remote_ts = [\"10.2.0.0/16\"]\ndpd_action = \"hold\"",
            "20: connections.site-b.children.net.dpd_action: unknown action 'hold' (use clear, restart or trap)",
        ),
        (
            sa,
            "start_action = \"start\"\nkeyingtries = -1",
            "8: connections.site-b.keyingtries: invalid value: integer `-1`, expected u32",
        ),
        (
            "secret = \"0x000102030405060708090a0b0c0d0e0f\"",
            "secret = \"0xnothex\"",
            "23: secrets.ike.ab.secret: invalid hex after '0x'",
        ),
        (
            "id = \"site-a.example\"",
            "id = \"\"",
            "11: connections.site-b.local.id: empty identity",
        ),
    ];
    for (from, to, expected) in cases {
        assert_eq!(
            error_of(&edit(from, to)),
            format!("{FILE}:{expected}"),
            "case {to:?}"
        );
    }
}

/// Every duration field has an upper bound (docs/config.md); one unit above it is refused with
/// file, line and field, and the bound itself loads. Values that used to overflow the
/// deadline arithmetic (`u64::MAX` seconds) are refused the same way.
#[test]
fn durations_beyond_their_bound_name_file_line_and_field() {
    let sa = "start_action = \"start\"";
    let rts = "remote_ts = [\"10.2.0.0/16\"]";
    let huge = "18446744073709551615";
    // (anchor, field, line, too long, the bound)
    let cases = [
        (
            sa,
            "dpd_delay",
            "8: connections.site-b.dpd_delay",
            "86401s",
            "1d",
            "1d",
        ),
        (
            sa,
            "dpd_delay",
            "8: connections.site-b.dpd_delay",
            huge,
            "1d",
            "1d",
        ),
        (
            sa,
            "rekey_time",
            "8: connections.site-b.rekey_time",
            "366d",
            "365d",
            "365d",
        ),
        (
            sa,
            "rekey_time",
            "8: connections.site-b.rekey_time",
            huge,
            "365d",
            "365d",
        ),
        (
            sa,
            "over_time",
            "8: connections.site-b.over_time",
            "8761h",
            "365d",
            "365d",
        ),
        (
            sa,
            "rand_time",
            "8: connections.site-b.rand_time",
            "525601m",
            "365d",
            "1h",
        ),
        (
            sa,
            "reauth_time",
            "8: connections.site-b.reauth_time",
            "366d",
            "365d",
            "365d",
        ),
        (
            rts,
            "rekey_time",
            "20: connections.site-b.children.net.rekey_time",
            "366d",
            "365d",
            "365d",
        ),
        (
            rts,
            "life_time",
            "20: connections.site-b.children.net.life_time",
            "31536000001ms",
            "365d",
            "365d",
        ),
        (
            rts,
            "rand_time",
            "20: connections.site-b.children.net.rand_time",
            "366d",
            "365d",
            "1m",
        ),
    ];
    for (anchor, field, at, too_long, max, ok) in cases {
        let text = edit(anchor, &format!("{anchor}\n{field} = \"{too_long}\""));
        assert_eq!(
            error_of(&text),
            format!("{FILE}:{at}: '{too_long}' is longer than the maximum of {max}"),
            "{field} = {too_long}"
        );
        let text = edit(anchor, &format!("{anchor}\n{field} = \"{ok}\""));
        if let Err(e) = parse(&text) {
            panic!("{field} = {ok} should load: {e}");
        }
    }
    let dir = tempfile::tempdir().expect("tmp");
    let qkd = qkd_section(dir.path());
    for (value, message) in [
        ("61s", "'61s' is longer than the maximum of 1m"),
        (huge, &format!("'{huge}' is longer than the maximum of 1m")),
        ("99ms", "must be at least 100ms (a KME round trip over TLS)"),
    ] {
        let text = format!("{BASE}{}", qkd.replace("\"2s\"", &format!("\"{value}\"")));
        let Err(e) = parse_in(dir.path(), &text) else {
            panic!("qkd.timeout = {value} was accepted");
        };
        assert!(
            e.lines()
                .any(|l| l == format!("DIR/iked.toml:31: qkd.timeout: {message}")),
            "qkd.timeout = {value}: {e}"
        );
    }
}

/// The longest lifetimes load and become deadlines without overflowing.
#[test]
fn the_longest_lifetimes_reach_the_engine_intact() {
    let text = edit(
        "start_action = \"start\"",
        "start_action = \"start\"\nrekey_time = \"365d\"\nover_time = \"365d\"\ndpd_delay = \"1d\"",
    )
    .replace(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"]\nrekey_time = \"365d\"",
    );
    let config = parse(&text).expect("valid");
    let engine = config.connections[0].to_engine();
    let year = Duration::from_secs(365 * 86_400);
    assert_eq!(engine.ike_lifetime.rekey_after, Some(year));
    assert_eq!(engine.ike_lifetime.expire_after, Some(2 * year));
    assert_eq!(engine.dpd_delay, Some(Duration::from_secs(86_400)));
    let child = &engine.children[0].lifetime;
    assert_eq!(child.expire_after, Some(year + year / 10));
    let now = std::time::Instant::now();
    for d in [child.expire_after, engine.ike_lifetime.expire_after] {
        assert!(now.checked_add(d.expect("set")).is_some());
    }
}

/// SHA-1 is never in a default proposal; a site tunnel that lists the legacy profile gets it,
/// with one warning per proposal naming the legacy algorithms.
#[test]
fn a_listed_sha1_profile_is_accepted_with_a_warning_naming_it() {
    use ikev2::wire::{IntegId, PrfId};
    let sha1 = |c: &ikev2::ConnectionConfig| {
        let esp = c.children.iter().flat_map(|ch| ch.esp_proposals.iter());
        c.ike_proposals
            .iter()
            .chain(esp)
            .any(|p| p.integ.contains(&IntegId::HMAC_SHA1_96) || p.prf.contains(&PrfId::HMAC_SHA1))
    };
    let plain = parse(BASE).expect("valid");
    assert!(
        !sha1(&plain.connections[0].to_engine()),
        "no SHA-1 by default"
    );

    let text = edit(
        "proposals = [\"aes256gcm16-prfsha384-x25519-ke1_mlkem768\"]",
        "proposals = [\"aes256-sha1-modp2048\"]",
    )
    .replacen(
        "remote_ts = [\"10.2.0.0/16\"]",
        "remote_ts = [\"10.2.0.0/16\"]\nesp_proposals = [\"aes256-sha1\"]",
        1,
    );
    let config = parse(&text).expect("valid");
    let conn = &config.connections[0];
    assert_eq!(conn.hybrid, HybridPolicy::Classical);
    assert!(sha1(&conn.to_engine()));
    assert_eq!(
        config.warnings,
        [
            "/etc/iked/iked.toml:6: connections.site-b.proposals: 'aes256-sha1-modp2048' names legacy algorithms (HMAC-SHA1-96, PRF-HMAC-SHA1, MODP-2048 without ML-KEM, not post-quantum): keep it only for peers that offer nothing better, such as free5GC's UE",
            "/etc/iked/iked.toml:20: connections.site-b.children.net.esp_proposals: 'aes256-sha1' names legacy algorithms (HMAC-SHA1-96): keep it only for peers that offer nothing better, such as free5GC's UE",
        ]
    );
    let strict = text.replacen(
        "start_action = \"start\"",
        "start_action = \"start\"\nhybrid = \"pqc\"",
        1,
    );
    assert!(error_of(&strict).contains("needs an ML-KEM key exchange in every IKE proposal"));
}
