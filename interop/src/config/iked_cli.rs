//! `pqlab iked-conf`: an [`IkedToml`] from command-line flags, for shell scripts. Flags apply
//! to the section last opened: `--conn NAME` opens a connection, `--child NAME` a child of it.

use super::iked::{AuthSide, Child, ConnPpk, Connection, Dataplane, IkedToml, Qkd};

/// The flags, for `--help`.
pub const HELP: &str = "\
pqlab iked-conf [DAEMON] [DATAPLANE] [QKD] (--conn NAME [CONN] (--child NAME [CHILD])...)...
  DAEMON     --socket PATH --listen ADDR... [--ike-port N] [--natt-port N] [--log FILTER]
             [--key-log DIR] [--daemon-line 'key = value']...
  DATAPLANE  --tun NAME [--mtu 1400] [--address CIDR]... [--route CIDR]... [--dp-local ADDR]
             [--encap udp|raw] [--workers N]
  QKD        --qkd-url URL --qkd-sae ID --qkd-ca F --qkd-cert F --qkd-key F [--qkd-timeout 3s]
  CONN       [--remote-addr A]... [--local-addr A]... [--remote-port N] --proposal P...
             [--start-action A] [--fragment-size N] [--auth psk|pubkey] [--local-id ID]
             [--remote-id ID] [--cert F]... [--key F] [--cacert F]... [--psk SECRET]
             [--psk-id ID]... [--ppk-id ID [--ppk-required true|false] [--ppk-secret HEX]]
             [--ppk-qkd PEER_SAE [--hybrid POLICY]] [--conn-line 'key = value']...
  CHILD      --local-ts TS... --remote-ts TS... [--esp P]... [--child-line 'key = value']...
Repeated flags (...) add to a list; the TOML goes to stdout.";

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
    if toml.daemon.socket.is_empty() {
        return Err(format!("missing --socket\n{HELP}"));
    }
    Ok(toml.render())
}

fn apply(t: &mut IkedToml, flag: &str, v: &str) -> Result<(), String> {
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
