//! `pqlab iked-conf`: an [`IkedToml`] from command-line flags, for shell scripts. Flags apply
//! to the section last opened: `--conn NAME` opens a connection, `--child NAME` a child of it.

use super::iked::{AuthSide, Child, ConnPpk, Connection, Dataplane, IkedToml, Qkd};
use super::n3iwf::{self, N3iwf};

/// The flags, for `--help`.
pub const HELP: &str = "\
pqlab iked-conf [DAEMON] [DATAPLANE] [QKD] (--conn NAME [CONN] (--child NAME [CHILD])...)...
  DAEMON     --socket PATH --listen ADDR... [--ike-port N] [--natt-port N] [--log FILTER]
             [--key-log DIR] [--ike-rate-per-source N] [--retransmit-timeout SECS]
             [--retransmit-tries N] [--retransmit-base X] [--keep-alive DURATION]
             [--half-open-memory BYTES] [--half-open-limit N] [--cookie-threshold N]
             [--daemon-line 'key = value']...
  DATAPLANE  --tun NAME [--mtu 1400] [--address CIDR]... [--route CIDR]... [--dp-local ADDR]
             [--encap udp|raw] [--workers N]
  QKD        --qkd-url URL --qkd-sae ID --qkd-ca F --qkd-cert F --qkd-key F [--qkd-timeout 3s]
             [--qkd-line 'key = value']...
  N3IWF      --n3iwf PLMN --n3iwf-id N [--n3iwf-name S] --nas-address A [--nas-port N]
             --ue-pool CIDR [--max-ues N] [--n3-address A] [--up-address A]
             [--max-pdu-sessions N] [--gre-protocol-type ethertype|zero] [--ue-mtu N]
             [--mtu-policy fragment|drop] [--gtpu-echo-interval DURATION]
             [--n3iwf-line 'key = value']...
             (--ta TAC/PLMN/SLICE[,SLICE])... (--amf NAME@ADDR [--amf-line 'key = value']...)...
             --nwu-cert F... --nwu-key F [--nwu-id ID] [--nwu-proposal P]... [--nwu-esp P]...
             [--nwu-up-esp P]... [--nwu-line 'key = value']...
  CONN       [--remote-addr A]... [--local-addr A]... [--remote-port N] --proposal P...
             [--start-action A] [--fragment-size N] [--auth psk|pubkey] [--local-id ID]
             [--remote-id ID] [--cert F]... [--key F] [--cacert F]... [--psk SECRET]
             [--psk-id ID]... [--ppk-id ID [--ppk-required true|false] [--ppk-secret HEX]]
             [--ppk-qkd PEER_SAE [--hybrid POLICY]] [--dpd-delay DURATION]
             [--keyingtries N] [--conn-line 'key = value']...
  CHILD      --local-ts TS... --remote-ts TS... [--esp P]... [--dpd-action A]
             [--close-action A] [--child-rekey-time DURATION] [--child-rand-time DURATION]
             [--rekey-bytes BYTES] [--child-line 'key = value']...
Repeated flags (...) add to a list; the TOML goes to stdout.";

/// Where a setting flag's `key = value` line goes.
#[derive(Clone, Copy)]
enum Section {
    Daemon,
    Connection,
    Child,
}

/// Settings with a flag of their own: flag, section, key, and whether the value is TOML text
/// (quoted; durations, byte counts, actions) rather than a number.
const SETTINGS: &[(&str, Section, &str, bool)] = &[
    (
        "--ike-rate-per-source",
        Section::Daemon,
        "ike_rate_per_source",
        false,
    ),
    (
        "--retransmit-timeout",
        Section::Daemon,
        "retransmit_timeout",
        false,
    ),
    (
        "--retransmit-tries",
        Section::Daemon,
        "retransmit_tries",
        false,
    ),
    (
        "--retransmit-base",
        Section::Daemon,
        "retransmit_base",
        false,
    ),
    ("--keep-alive", Section::Daemon, "keep_alive", true),
    (
        "--half-open-memory",
        Section::Daemon,
        "half_open_memory",
        true,
    ),
    (
        "--half-open-limit",
        Section::Daemon,
        "half_open_limit",
        false,
    ),
    (
        "--cookie-threshold",
        Section::Daemon,
        "cookie_threshold",
        false,
    ),
    ("--dpd-delay", Section::Connection, "dpd_delay", true),
    ("--keyingtries", Section::Connection, "keyingtries", false),
    ("--dpd-action", Section::Child, "dpd_action", true),
    ("--close-action", Section::Child, "close_action", true),
    ("--child-rekey-time", Section::Child, "rekey_time", true),
    ("--child-rand-time", Section::Child, "rand_time", true),
    ("--rekey-bytes", Section::Child, "rekey_bytes", true),
];

/// The `key = value` line of a setting flag, or `None` when `flag` is not one.
fn setting(flag: &str, v: &str) -> Option<Result<(Section, String), String>> {
    let &(_, section, key, text) = SETTINGS.iter().find(|s| s.0 == flag)?;
    let line = if text {
        if v.contains(['"', '\\', '\n']) {
            return Some(Err("not a plain value".into()));
        }
        format!("{key} = \"{v}\"\n")
    } else {
        if v.parse::<f64>().map_or(true, |x| !x.is_finite()) {
            return Some(Err("not a number".into()));
        }
        format!("{key} = {v}\n")
    };
    Some(Ok((section, line)))
}

/// Parses `args` into the configuration's text.
pub fn iked_conf_cli(args: &[String]) -> Result<String, String> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Err(HELP.into());
    }
    let mut toml = IkedToml::default();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag}: missing value\n{HELP}"))?;
        apply(&mut toml, flag, value).map_err(|e| format!("{flag} {value}: {e}\n{HELP}"))?;
    }
    if let Some(n) = &toml.n3iwf
        && (n.nas_address.is_empty() || n.ue_pool.is_empty() || n.ike.key.is_empty())
    {
        return Err(format!(
            "--n3iwf needs --nas-address, --ue-pool and --nwu-key\n{HELP}"
        ));
    }
    if toml.daemon.socket.is_empty() {
        return Err(format!("missing --socket\n{HELP}"));
    }
    Ok(toml.render())
}

fn apply(t: &mut IkedToml, flag: &str, v: &str) -> Result<(), String> {
    if let Some(s) = setting(flag, v) {
        return put_setting(t, s?);
    }
    let num = |v: &str| v.parse::<u32>().map_err(|e| e.to_string());
    let d = &mut t.daemon;
    match flag {
        "--socket" => d.socket = v.into(),
        "--listen" => d.listen.push(v.into()),
        "--ike-port" => d.ike_port = Some(num(v)? as u16),
        "--natt-port" => d.natt_port = Some(num(v)? as u16),
        "--log" => d.log = Some(v.into()),
        "--key-log" => d.key_log = (!v.is_empty()).then(|| v.into()),
        "--daemon-line" => d.extra.push_str(&format!("{v}\n")),
        "--tun" => {
            t.dataplane = Some(Dataplane {
                tun: v.into(),
                mtu: 1400,
                encapsulation: "udp".into(),
                ..Dataplane::default()
            });
        }
        f if f.starts_with("--qkd-") => qkd(t.qkd.get_or_insert_with(Qkd::default), f, v)?,
        "--n3iwf" => {
            t.n3iwf = Some(N3iwf {
                plmn: v.into(),
                ..N3iwf::default()
            });
        }
        f if is_n3iwf_flag(f) => {
            let n = t.n3iwf.as_mut().ok_or("comes after --n3iwf")?;
            n3iwf::apply(n, f, v)?;
        }
        "--mtu" | "--address" | "--route" | "--dp-local" | "--encap" | "--workers" => {
            let dp = t.dataplane.as_mut().ok_or("comes after --tun")?;
            match flag {
                "--mtu" => dp.mtu = num(v)?,
                "--address" => dp.addresses.push(v.into()),
                "--route" => dp.routes.push(v.into()),
                "--dp-local" => dp.local = Some(v.into()),
                "--encap" => dp.encapsulation = v.into(),
                _ => dp.workers = Some(num(v)?),
            }
        }
        "--conn" => t.connections.push(Connection {
            name: v.into(),
            local: AuthSide::psk(None),
            remote: AuthSide::psk(None),
            ..Connection::default()
        }),
        _ => {
            let c = t.connections.last_mut().ok_or("comes after --conn")?;
            connection(c, flag, v)?;
        }
    }
    Ok(())
}

/// Flags of the `[n3iwf]` section (after `--n3iwf`).
fn is_n3iwf_flag(f: &str) -> bool {
    f.starts_with("--n3iwf-")
        || f.starts_with("--nwu-")
        || f.starts_with("--amf")
        || matches!(
            f,
            "--nas-address"
                | "--nas-port"
                | "--ue-pool"
                | "--max-ues"
                | "--ta"
                | "--n3-address"
                | "--up-address"
                | "--max-pdu-sessions"
                | "--gre-protocol-type"
                | "--ue-mtu"
                | "--mtu-policy"
                | "--gtpu-echo-interval"
        )
}

fn put_setting(t: &mut IkedToml, (section, line): (Section, String)) -> Result<(), String> {
    if let Section::Daemon = section {
        t.daemon.extra.push_str(&line);
        return Ok(());
    }
    let c = t.connections.last_mut().ok_or("comes after --conn")?;
    match section {
        Section::Daemon | Section::Connection => c.extra.push_str(&line),
        Section::Child => {
            c.children
                .last_mut()
                .ok_or("comes after --child")?
                .extra
                .push_str(&line);
        }
    }
    Ok(())
}

fn qkd(q: &mut Qkd, flag: &str, v: &str) -> Result<(), String> {
    if q.timeout.is_empty() {
        q.timeout = "3s".into();
    }
    match flag {
        "--qkd-url" => q.kme_url = v.into(),
        "--qkd-sae" => q.sae_id = v.into(),
        "--qkd-ca" => q.ca = v.into(),
        "--qkd-cert" => q.cert = v.into(),
        "--qkd-key" => q.key = v.into(),
        "--qkd-timeout" => q.timeout = v.into(),
        "--qkd-line" => q.extra.push_str(&format!("{v}\n")),
        _ => return Err("unknown flag".into()),
    }
    Ok(())
}

fn connection(c: &mut Connection, flag: &str, v: &str) -> Result<(), String> {
    let num = |v: &str| v.parse::<u32>().map_err(|e| e.to_string());
    match flag {
        "--remote-addr" => c.remote_addrs.push(v.into()),
        "--local-addr" => c.local_addrs.push(v.into()),
        "--remote-port" => c.remote_port = Some(num(v)? as u16),
        "--proposal" => c.proposals.push(v.into()),
        "--start-action" => c.start_action = Some(v.into()),
        "--fragment-size" => c.fragment_size = Some(num(v)?),
        "--auth" => (c.local.auth, c.remote.auth) = (v.into(), v.into()),
        "--local-id" => c.local.id = Some(v.into()),
        "--remote-id" => c.remote.id = Some(v.into()),
        "--cert" => c.local.certs.push(v.into()),
        "--key" => c.local.key = Some(v.into()),
        "--cacert" => c.remote.cacerts.push(v.into()),
        "--psk" => c.psk = Some((v.into(), Vec::new())),
        "--psk-id" => c.psk.as_mut().ok_or("comes after --psk")?.1.push(v.into()),
        "--ppk-id" => {
            c.ppk = Some(ConnPpk::Static {
                id: v.into(),
                required: true,
                secret_hex: None,
            });
        }
        "--ppk-required" | "--ppk-secret" => match &mut c.ppk {
            Some(ConnPpk::Static {
                required,
                secret_hex,
                ..
            }) => {
                if flag == "--ppk-required" {
                    *required = v.parse().map_err(|_| "true or false")?;
                } else {
                    *secret_hex = Some(v.into());
                }
            }
            _ => return Err("comes after --ppk-id".into()),
        },
        "--ppk-qkd" => {
            c.ppk = Some(ConnPpk::Qkd {
                peer_sae: v.into(),
                hybrid: None,
            });
        }
        "--hybrid" => match &mut c.ppk {
            Some(ConnPpk::Qkd { hybrid, .. }) => *hybrid = Some(v.into()),
            _ => return Err("comes after --ppk-qkd".into()),
        },
        "--conn-line" => c.extra.push_str(&format!("{v}\n")),
        "--child" => c.children.push(Child {
            name: v.into(),
            ..Child::default()
        }),
        _ => child(c.children.last_mut().ok_or("unknown flag")?, flag, v)?,
    }
    Ok(())
}

fn child(ch: &mut Child, flag: &str, v: &str) -> Result<(), String> {
    match flag {
        "--local-ts" => ch.local_ts.push(v.into()),
        "--remote-ts" => ch.remote_ts.push(v.into()),
        "--esp" => ch.esp_proposals.push(v.into()),
        "--child-line" => ch.extra.push_str(&format!("{v}\n")),
        _ => return Err("unknown flag".into()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| (*a).to_owned()).collect()
    }

    fn parse(s: &[&str]) -> toml::Table {
        let text = iked_conf_cli(&args(s)).unwrap();
        text.parse()
            .unwrap_or_else(|e| panic!("not TOML: {e}\n{text}"))
    }

    #[test]
    fn n3iwf_with_tracking_area_amf_and_nwu_ike() {
        let t = parse(&[
            "--socket",
            "/w/n.sock",
            "--listen",
            "10.238.0.2",
            "--qkd-url",
            "https://127.0.0.1:8442",
            "--qkd-sae",
            "n3iwf",
            "--qkd-ca",
            "ca.pem",
            "--qkd-cert",
            "n.pem",
            "--qkd-key",
            "n.key",
            "--qkd-line",
            "max_requests_per_peer = 64",
            "--n3iwf",
            "208-93",
            "--n3iwf-id",
            "135",
            "--n3iwf-name",
            "pqike-n3iwf",
            "--nas-address",
            "10.46.0.1",
            "--nas-port",
            "20000",
            "--ue-pool",
            "10.46.0.0/24",
            "--max-ues",
            "10000",
            "--n3-address",
            "10.239.0.2",
            "--up-address",
            "10.46.0.254",
            "--max-pdu-sessions",
            "4096",
            "--gre-protocol-type",
            "zero",
            "--ue-mtu",
            "1400",
            "--mtu-policy",
            "drop",
            "--gtpu-echo-interval",
            "10s",
            "--ta",
            "000001/208-93/1,1-000001",
            "--amf",
            "amf-1@10.239.0.1",
            "--amf-line",
            "transport = \"usrsctp\"",
            "--nwu-cert",
            "n3iwf.pem",
            "--nwu-key",
            "n3iwf.key",
            "--nwu-id",
            "n3iwf.example",
            "--nwu-proposal",
            "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
            "--nwu-up-esp",
            "aes256gcm16-mlkem768",
            "--nwu-line",
            "ppk_source = \"qkd\"",
        ]);
        assert_eq!(t["qkd"]["max_requests_per_peer"].as_integer(), Some(64));
        let n = &t["n3iwf"];
        assert_eq!(n["plmn"].as_str(), Some("208-93"));
        assert_eq!(n["n3iwf_id"].as_integer(), Some(135));
        assert_eq!(n["nas_port"].as_integer(), Some(20000));
        assert_eq!(n["max_ues"].as_integer(), Some(10000));
        assert_eq!(n["n3_address"].as_str(), Some("10.239.0.2"));
        assert_eq!(n["up_address"].as_str(), Some("10.46.0.254"));
        assert_eq!(n["max_pdu_sessions"].as_integer(), Some(4096));
        assert_eq!(n["gre_protocol_type"].as_str(), Some("zero"));
        assert_eq!(n["ue_mtu"].as_integer(), Some(1400));
        assert_eq!(n["mtu_policy"].as_str(), Some("drop"));
        assert_eq!(n["gtpu_echo_interval"].as_str(), Some("10s"));
        let ta = &n["tracking_areas"][0];
        assert_eq!(ta["tac"].as_str(), Some("000001"));
        assert_eq!(ta["plmns"][0]["slices"][1].as_str(), Some("1-000001"));
        let amf = &n["amfs"][0];
        assert_eq!(amf["address"].as_str(), Some("10.239.0.1"));
        assert_eq!(amf["transport"].as_str(), Some("usrsctp"));
        let ike = &n["ike"];
        assert_eq!(ike["certs"][0].as_str(), Some("n3iwf.pem"));
        assert_eq!(ike["ppk_source"].as_str(), Some("qkd"));
        assert_eq!(ike["proposals"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            ike["up_esp_proposals"][0].as_str(),
            Some("aes256gcm16-mlkem768")
        );
    }

    #[test]
    fn n3iwf_flags_need_the_section_and_its_required_fields() {
        let base = ["--socket", "/w/n.sock", "--listen", "10.0.0.1"];
        let with = |extra: &[&str]| iked_conf_cli(&args(&[&base[..], extra].concat()));
        let early = with(&["--ue-pool", "10.46.0.0/24"]).unwrap_err();
        assert!(
            early.starts_with("--ue-pool 10.46.0.0/24: comes after --n3iwf"),
            "{early}"
        );
        let missing = with(&["--n3iwf", "208-93", "--nas-address", "10.46.0.1"]).unwrap_err();
        assert!(missing.starts_with("--n3iwf needs"), "{missing}");
        let ta = with(&["--n3iwf", "208-93", "--ta", "000001/208-93"]).unwrap_err();
        assert!(ta.contains("expected TAC/PLMN/SLICE"), "{ta}");
    }

    #[test]
    fn gateway_with_static_ppk_qkd_and_dataplane() {
        let t = parse(&[
            "--socket",
            "/w/a.sock",
            "--listen",
            "10.250.0.1",
            "--log",
            "info",
            "--tun",
            "pqd1ta",
            "--encap",
            "raw",
            "--address",
            "10.1.1.1/24",
            "--route",
            "10.2.1.0/24",
            "--address",
            "10.1.2.1/24",
            "--route",
            "10.2.2.0/24",
            "--qkd-url",
            "https://127.0.0.1:8441",
            "--qkd-sae",
            "gw-a",
            "--qkd-ca",
            "kme/ca.pem",
            "--qkd-cert",
            "kme/a.pem",
            "--qkd-key",
            "kme/a.key",
            "--conn",
            "net1",
            "--remote-addr",
            "10.250.0.2",
            "--proposal",
            "aes256gcm16-x25519",
            "--ppk-id",
            "pair1-ppk",
            "--ppk-secret",
            "ab01",
            "--conn-line",
            "rekey_bytes = \"4M\"",
            "--local-id",
            "gw-a-1.example",
            "--remote-id",
            "gw-b-1.example",
            "--psk",
            "0x0102",
            "--psk-id",
            "gw-a-1.example",
            "--psk-id",
            "gw-b-1.example",
            "--child",
            "net",
            "--local-ts",
            "10.1.1.0/24",
            "--remote-ts",
            "10.2.1.0/24",
            "--esp",
            "aes256gcm16",
            "--conn",
            "net2",
            "--remote-addr",
            "10.250.0.2",
            "--proposal",
            "aes128gcm16-x25519",
            "--ppk-qkd",
            "gw-b",
            "--hybrid",
            "pqc+qkd",
            "--conn-line",
            "start_action = \"trap\"",
            "--child",
            "net",
            "--local-ts",
            "10.1.2.0/24",
            "--remote-ts",
            "10.2.2.0/24",
        ]);
        assert_eq!(t["daemon"]["listen"][0].as_str(), Some("10.250.0.1"));
        assert_eq!(t["dataplane"]["encapsulation"].as_str(), Some("raw"));
        assert_eq!(t["dataplane"]["mtu"].as_integer(), Some(1400));
        assert_eq!(t["dataplane"]["routes"].as_array().map(Vec::len), Some(2));
        assert_eq!(t["qkd"]["timeout"].as_str(), Some("3s"));
        let net1 = &t["connections"]["net1"];
        assert_eq!(net1["ppk_id"].as_str(), Some("pair1-ppk"));
        assert_eq!(net1["ppk_required"].as_bool(), Some(true));
        assert_eq!(net1["rekey_bytes"].as_str(), Some("4M"));
        assert_eq!(net1["local"]["auth"].as_str(), Some("psk"));
        assert_eq!(
            net1["children"]["net"]["esp_proposals"][0].as_str(),
            Some("aes256gcm16")
        );
        assert_eq!(
            t["secrets"]["ppk"]["net1"]["secret"].as_str(),
            Some("0xab01")
        );
        assert_eq!(
            t["secrets"]["ike"]["net1"]["ids"][1].as_str(),
            Some("gw-b-1.example")
        );
        let net2 = &t["connections"]["net2"];
        assert_eq!(net2["ppk_source"].as_str(), Some("qkd"));
        assert_eq!(net2["qkd_peer_sae_id"].as_str(), Some("gw-b"));
        assert_eq!(net2["start_action"].as_str(), Some("trap"));
        assert!(
            t["secrets"]["ike"].get("net2").is_none(),
            "no PSK given for net2"
        );
    }

    #[test]
    fn responder_for_anyone_with_pubkey() {
        let t = parse(&[
            "--socket",
            "s",
            "--listen",
            "127.0.0.2",
            "--ike-port",
            "500",
            "--natt-port",
            "4500",
            "--conn",
            "load",
            "--proposal",
            "p",
            "--auth",
            "pubkey",
            "--local-id",
            "gw",
            "--cert",
            "pki/gw.pem",
            "--key",
            "pki/gw.key",
            "--cacert",
            "pki/ca.pem",
            "--child",
            "net",
            "--local-ts",
            "10.2.0.0/16",
            "--remote-ts",
            "10.1.0.0/16",
        ]);
        assert_eq!(t["daemon"]["ike_port"].as_integer(), Some(500));
        let c = &t["connections"]["load"];
        assert!(c.get("remote_addrs").is_none());
        assert_eq!(c["remote"]["auth"].as_str(), Some("pubkey"));
        assert!(c["remote"].get("id").is_none());
        assert_eq!(c["remote"]["cacerts"][0].as_str(), Some("pki/ca.pem"));
        assert_eq!(c["local"]["key"].as_str(), Some("pki/gw.key"));
        assert!(t.get("secrets").is_none());
        assert!(t.get("dataplane").is_none());
    }

    #[test]
    fn setting_flags_land_in_their_section_typed() {
        let t = parse(&[
            "--socket",
            "s",
            "--listen",
            "10.0.0.1",
            "--half-open-memory",
            "16M",
            "--retransmit-timeout",
            "0.5",
            "--keep-alive",
            "2s",
            "--conn",
            "c",
            "--proposal",
            "p",
            "--dpd-delay",
            "2s",
            "--keyingtries",
            "0",
            "--child",
            "net",
            "--local-ts",
            "10.1.0.0/16",
            "--remote-ts",
            "10.2.0.0/16",
            "--dpd-action",
            "restart",
            "--child-rekey-time",
            "10s",
            "--rekey-bytes",
            "16M",
        ]);
        assert_eq!(t["daemon"]["half_open_memory"].as_str(), Some("16M"));
        assert_eq!(t["daemon"]["retransmit_timeout"].as_float(), Some(0.5));
        assert_eq!(t["daemon"]["keep_alive"].as_str(), Some("2s"));
        let c = &t["connections"]["c"];
        assert_eq!(c["dpd_delay"].as_str(), Some("2s"));
        assert_eq!(c["keyingtries"].as_integer(), Some(0));
        let net = &c["children"]["net"];
        assert_eq!(net["dpd_action"].as_str(), Some("restart"));
        assert_eq!(net["rekey_time"].as_str(), Some("10s"));
        assert_eq!(net["rekey_bytes"].as_str(), Some("16M"));
        let e = iked_conf_cli(&args(&["--socket", "s", "--keyingtries", "x"])).unwrap_err();
        assert!(e.starts_with("--keyingtries x: not a number"), "{e}");
        let e = iked_conf_cli(&args(&["--socket", "s", "--dpd-delay", "2s"])).unwrap_err();
        assert!(e.starts_with("--dpd-delay 2s: comes after --conn"), "{e}");
        let e = iked_conf_cli(&args(&[
            "--socket",
            "s",
            "--conn",
            "c",
            "--dpd-action",
            "x",
        ]))
        .unwrap_err();
        assert!(e.starts_with("--dpd-action x: comes after --child"), "{e}");
        let e = iked_conf_cli(&args(&["--socket", "s", "--keep-alive", "1\"s"])).unwrap_err();
        assert!(e.contains("not a plain value"), "{e}");
    }

    #[test]
    fn misplaced_or_missing_flags_are_refused_with_the_flag() {
        let e = iked_conf_cli(&args(&["--socket", "s", "--mtu", "1400"])).unwrap_err();
        assert!(e.starts_with("--mtu 1400: comes after --tun"), "{e}");
        let e = iked_conf_cli(&args(&["--socket", "s", "--local-ts", "x"])).unwrap_err();
        assert!(e.starts_with("--local-ts x: comes after --conn"), "{e}");
        let e = iked_conf_cli(&args(&["--listen", "a"])).unwrap_err();
        assert!(e.starts_with("missing --socket"), "{e}");
        let e = iked_conf_cli(&args(&["--socket"])).unwrap_err();
        assert!(e.starts_with("--socket: missing value"), "{e}");
        let e =
            iked_conf_cli(&args(&["--socket", "s", "--conn", "c", "--bogus", "1"])).unwrap_err();
        assert!(e.starts_with("--bogus 1: unknown flag"), "{e}");
    }
}
