//! Validation of the raw file into the model, collecting every error with its line and field.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ikev2::{Identity, Lifetime, ProposalSpec};
use ipsec_crypto::SecretBytes;
use sha2::{Digest, Sha256};
use toml::Spanned;
use tracing_subscriber::EnvFilter;

use super::bounds::{self, MAX_DPD_DELAY, MAX_LIFETIME};
use super::certs::CertCredentials;
use super::error::{ConfigError, ConfigErrors, line_of};
use super::raw::{IkeFields, RawAuth, RawChild, RawConnection, RawDaemon, RawFile, RawSecrets};
use super::values::{duration, identity, secret, traffic_selector};
use super::{
    AuthMethod, Child, CloseAction, Config, Connection, Credentials, DEFAULT_SOCKET_PATH,
    DaemonSettings, DataplaneSettings, DpdAction, Encapsulation, QkdSettings, RemoteAddr,
    StartAction,
};

pub(crate) fn parse(path: &Path, text: &str) -> Result<Config, ConfigErrors> {
    let raw: RawFile = toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))?;
    let mut v = Validator {
        file: path,
        text,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let daemon = v.daemon(&raw.daemon);
    let retransmit = v.retransmit(&raw.daemon);
    let keep_alive = v.keep_alive(&raw.daemon);
    let secrets = v.secrets(&raw.secrets);
    let qkd = v.qkd(raw.qkd.as_ref());
    let dataplane = v.dataplane(raw.dataplane.as_ref(), &daemon);
    let mut entries: Vec<_> = raw.connections.iter().collect();
    entries.sort_by_key(|(name, _)| name.span().start);
    let mut connections = Vec::new();
    let ctx = ConnCtx {
        daemon: &daemon,
        retransmit,
        keep_alive,
        secrets: &secrets,
        qkd: qkd.as_ref(),
        dataplane: dataplane.as_ref(),
    };
    for (name, conn) in entries {
        if let Some(c) = v.connection(name, conn, &ctx) {
            connections.push(c);
        }
    }
    let n3iwf = v.n3iwf(raw.n3iwf.as_ref(), &ctx).map(|(settings, conn)| {
        v.n3iwf_beside_connections(&raw, &connections);
        connections.push(conn);
        settings
    });
    let mut dataplane = dataplane;
    if let (Some(n), Some(d)) = (&n3iwf, dataplane.as_mut()) {
        n.extend_dataplane(d);
    }
    if v.errors.is_empty() {
        Ok(Config {
            path: path.to_path_buf(),
            daemon,
            connections,
            qkd,
            dataplane,
            n3iwf,
            warnings: v.warnings,
        })
    } else {
        v.errors.sort_by_key(|e| e.line);
        Err(ConfigErrors(v.errors))
    }
}

/// A warning when the file (which may hold secrets) is readable by others.
pub(crate) fn permission_warning(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then(|| {
        format!(
            "{}: readable by group or others (mode {:o}); it may hold secrets, chmod 600 it",
            path.display(),
            mode & 0o777
        )
    })
}

pub(super) struct Validator<'a> {
    pub(super) file: &'a Path,
    pub(super) text: &'a str,
    pub(super) errors: Vec<ConfigError>,
    pub(super) warnings: Vec<String>,
}

/// A pre-shared key and the identities it is for.
struct IkeSecret {
    name: String,
    ids: Vec<Identity>,
    secret: SecretBytes,
}

pub(super) struct PpkSecret {
    pub(super) id: String,
    pub(super) secret: SecretBytes,
}

pub(super) struct Secrets {
    ike: Vec<IkeSecret>,
    pub(super) ppk: Vec<PpkSecret>,
    /// Some entry failed to load, so "no matching secret" would be a misleading follow-up.
    ike_invalid: bool,
    /// PPK ids of entries that failed to load.
    pub(super) ppk_invalid: Vec<String>,
}

/// A connection's addresses, IKE proposals and start action.
struct ConnPeers {
    local_addrs: Vec<IpAddr>,
    remote_addrs: Vec<RemoteAddr>,
    proposals: Vec<String>,
    ike_specs: Vec<ProposalSpec>,
    start_action: StartAction,
}

/// A connection's IKE fragment size, DPD delay and lifetimes.
struct ConnTimers {
    fragment_size: Option<u32>,
    dpd_delay: Option<Duration>,
    ike_lifetime: Lifetime,
    reauth_time: Option<Duration>,
}

/// A connection's authentication method and identities, as far as they are valid.
struct ConnIdentities {
    method: Option<AuthMethod>,
    certs: Option<CertCredentials>,
    local_id: Option<String>,
    local_identity: Option<Identity>,
    remote_id: Option<String>,
    remote_identity: Option<Identity>,
}

/// What every connection is validated against.
pub(super) struct ConnCtx<'a> {
    pub(super) daemon: &'a DaemonSettings,
    pub(super) retransmit: ikev2::RetransmitConfig,
    pub(super) keep_alive: Option<Duration>,
    pub(super) secrets: &'a Secrets,
    pub(super) qkd: Option<&'a QkdSettings>,
    pub(super) dataplane: Option<&'a DataplaneSettings>,
}

impl Validator<'_> {
    pub(super) fn error(&mut self, span: &Range<usize>, field: &str, message: impl Into<String>) {
        self.errors.push(ConfigError::at(
            self.file,
            self.text,
            span,
            field,
            message.into(),
        ));
    }

    pub(super) fn warn(&mut self, span: &Range<usize>, field: &str, message: &str) {
        let line = line_of(self.text, span.start);
        self.warnings.push(format!(
            "{}:{line}: {field}: {message}",
            self.file.display()
        ));
    }

    /// The `[daemon]` table, field by field in the order its errors were always reported.
    fn daemon(&mut self, raw: &RawDaemon) -> DaemonSettings {
        let socket = self.socket(raw.socket.as_ref());
        let listen = self.listen(raw.listen.as_deref());
        let ike_port = raw.ike_port.unwrap_or(500);
        let natt_port = self.natt_port(raw.natt_port.unwrap_or(4500), ike_port);
        let metrics = raw.metrics.as_ref().and_then(|m| self.metrics(m));
        let log = raw.log.clone().unwrap_or_else(|| "info".into());
        if let Err(e) = EnvFilter::try_new(&log) {
            self.file_error("daemon.log", format!("invalid filter: {e}"));
        }
        let key_log = raw.key_log.as_ref().map(|k| self.key_log(k));
        let ike_rate_per_source = self.ike_rate(raw.ike_rate_per_source.as_ref());
        DaemonSettings {
            socket,
            listen,
            ike_port,
            natt_port,
            metrics,
            log,
            key_log,
            ike_rate_per_source,
            limits: self.limits(raw),
        }
    }

    /// An error about the file as a whole, for a field that has no line (a default, or a
    /// combination of fields).
    fn file_error(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(ConfigError {
            file: self.file.into(),
            line: None,
            field: field.into(),
            message: message.into(),
        });
    }

    /// `daemon.socket`: an absolute path.
    fn socket(&mut self, raw: Option<&Spanned<String>>) -> PathBuf {
        match raw {
            Some(s) if !Path::new(s.get_ref()).is_absolute() => {
                self.error(&s.span(), "daemon.socket", "must be an absolute path");
                PathBuf::from(DEFAULT_SOCKET_PATH)
            }
            Some(s) => PathBuf::from(s.get_ref()),
            None => PathBuf::from(DEFAULT_SOCKET_PATH),
        }
    }

    /// `daemon.listen`: distinct IP addresses, all of IPv4 when absent.
    fn listen(&mut self, raw: Option<&[Spanned<String>]>) -> Vec<IpAddr> {
        let mut listen = Vec::new();
        for a in raw.into_iter().flatten() {
            match a.get_ref().parse::<IpAddr>() {
                Ok(ip) if listen.contains(&ip) => {
                    self.error(&a.span(), "daemon.listen", format!("{ip} is listed twice"))
                }
                Ok(ip) => listen.push(ip),
                Err(_) => self.error(
                    &a.span(),
                    "daemon.listen",
                    format!("'{}' is not an IP address", a.get_ref()),
                ),
            }
        }
        if raw.is_none() {
            listen.push(IpAddr::from([0, 0, 0, 0]));
        } else if listen.is_empty() && self.errors.is_empty() {
            self.file_error("daemon.listen", "needs at least one address");
        }
        listen
    }

    /// `daemon.natt_port`: 0 turns NAT traversal off; it must differ from the IKE port.
    fn natt_port(&mut self, port: u16, ike_port: u16) -> Option<u16> {
        match port {
            0 => None,
            p if p == ike_port => {
                self.file_error("daemon.natt_port", "must differ from ike_port");
                None
            }
            p => Some(p),
        }
    }

    /// `daemon.metrics`: a loopback ADDRESS:PORT, since the endpoint has no authentication.
    fn metrics(&mut self, m: &Spanned<String>) -> Option<SocketAddr> {
        match m.get_ref().parse::<SocketAddr>() {
            Ok(a) if a.ip().is_loopback() => Some(a),
            Ok(_) => {
                self.error(
                    &m.span(),
                    "daemon.metrics",
                    "must be a loopback address (the endpoint has no authentication)",
                );
                None
            }
            Err(_) => {
                self.error(
                    &m.span(),
                    "daemon.metrics",
                    format!(
                        "'{}' is not ADDRESS:PORT (e.g. 127.0.0.1:9716)",
                        m.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// `daemon.key_log`: a file beside the configuration; always warned about.
    fn key_log(&mut self, k: &Spanned<String>) -> PathBuf {
        let dir = self.file.parent().unwrap_or_else(|| Path::new("."));
        if k.get_ref().is_empty() {
            self.error(&k.span(), "daemon.key_log", "must not be empty");
        } else {
            self.warn(&k.span(), "daemon.key_log", "IKE and ESP keys are written there for Wireshark: anyone who reads them can decrypt the traffic (debugging only)");
        }
        dir.join(k.get_ref())
    }

    /// `daemon.ike_rate_per_source`: 0 (no limit) up to [`MAX_IKE_RATE`].
    fn ike_rate(&mut self, raw: Option<&Spanned<i64>>) -> u32 {
        let Some(r) = raw else {
            return dataplane::DEFAULT_IKE_RATE_PER_SOURCE;
        };
        match u32::try_from(*r.get_ref()) {
            Ok(v) if v <= MAX_IKE_RATE => v,
            _ => {
                self.error(
                    &r.span(),
                    "daemon.ike_rate_per_source",
                    format!(
                        "{} is not a rate from 0 (no limit) to {MAX_IKE_RATE} datagrams per second",
                        r.get_ref()
                    ),
                );
                dataplane::DEFAULT_IKE_RATE_PER_SOURCE
            }
        }
    }

    fn secrets(&mut self, raw: &RawSecrets) -> Secrets {
        let mut out = Secrets {
            ike: Vec::new(),
            ppk: Vec::new(),
            ike_invalid: false,
            ppk_invalid: Vec::new(),
        };
        for (name, s) in &raw.ike {
            let field = format!("secrets.ike.{}", name.get_ref());
            let mut ids = Vec::new();
            for id in &s.get_ref().ids {
                match identity(id.get_ref()) {
                    Ok(i) => ids.push(i),
                    Err(e) => self.error(&id.span(), &format!("{field}.ids"), e),
                }
            }
            let (secret_field, file_field) = (&s.get_ref().secret, &s.get_ref().file);
            match self.secret_value(
                &field,
                &s.span(),
                secret_field.as_ref(),
                file_field.as_ref(),
            ) {
                Some(secret) => out.ike.push(IkeSecret {
                    name: name.get_ref().clone(),
                    ids,
                    secret,
                }),
                None => out.ike_invalid = true,
            }
        }
        for (name, s) in &raw.ppk {
            let field = format!("secrets.ppk.{}", name.get_ref());
            let p = s.get_ref();
            if p.id.get_ref().is_empty() {
                self.error(&p.id.span(), &format!("{field}.id"), "empty PPK identity");
            } else if out.ppk.iter().any(|q| q.id == *p.id.get_ref()) {
                self.error(
                    &p.id.span(),
                    &format!("{field}.id"),
                    format!("PPK identity '{}' is defined twice", p.id.get_ref()),
                );
            }
            let Some(secret) =
                self.secret_value(&field, &s.span(), p.secret.as_ref(), p.file.as_ref())
            else {
                out.ppk_invalid.push(p.id.get_ref().clone());
                continue;
            };
            if secret.len() < 32 {
                let span = p
                    .secret
                    .as_ref()
                    .or(p.file.as_ref())
                    .map_or_else(|| s.span(), Spanned::span);
                self.error(
                    &span,
                    &field,
                    format!(
                        "a PPK needs at least 32 bytes (256 bits) of key material, this one has {}",
                        secret.len()
                    ),
                );
                out.ppk_invalid.push(p.id.get_ref().clone());
                continue;
            }
            out.ppk.push(PpkSecret {
                id: p.id.get_ref().clone(),
                secret,
            });
        }
        out
    }

    /// Exactly one of `secret` (inline) and `file` (relative to the configuration's directory).
    fn secret_value(
        &mut self,
        field: &str,
        span: &Range<usize>,
        inline: Option<&Spanned<String>>,
        file: Option<&Spanned<String>>,
    ) -> Option<SecretBytes> {
        match (inline, file) {
            (Some(s), None) => secret(s.get_ref())
                .map_err(|e| self.error(&s.span(), &format!("{field}.secret"), e))
                .ok(),
            (None, Some(f)) => {
                let dir = self.file.parent().unwrap_or_else(|| Path::new("."));
                let path = dir.join(f.get_ref());
                match std::fs::read_to_string(&path) {
                    Ok(t) => secret(t.trim_end_matches(['\n', '\r']))
                        .map_err(|e| {
                            self.error(
                                &f.span(),
                                &format!("{field}.file"),
                                format!("{}: {e}", path.display()),
                            )
                        })
                        .ok(),
                    Err(e) => {
                        self.error(
                            &f.span(),
                            &format!("{field}.file"),
                            format!("cannot read {}: {e}", path.display()),
                        );
                        None
                    }
                }
            }
            (Some(s), Some(_)) => {
                self.error(&s.span(), field, "give either 'secret' or 'file', not both");
                None
            }
            (None, None) => {
                self.error(span, field, "needs 'secret' or 'file'");
                None
            }
        }
    }

    /// One `[connections.NAME]` table, section by section; `None` when any part is invalid
    /// (each error is recorded where it was found).
    fn connection(
        &mut self,
        name: &Spanned<String>,
        raw: &Spanned<RawConnection>,
        ctx: &ConnCtx<'_>,
    ) -> Option<Connection> {
        let base = format!("connections.{}", name.get_ref());
        let errors_before = self.errors.len();
        self.check_name(name, "connections");
        let c = raw.get_ref();
        let peers = self.conn_peers(&base, c, ctx);
        let timers = self.conn_timers(&base, c);
        let mut ids = self.conn_identities(&base, c, peers.local_addrs.first().copied());
        let children = self.conn_children(&base, raw);
        let ppk = self.ppk_policy(&base, &c.ike_fields(), &peers.ike_specs, ctx);
        if let Some(r) = &c.reauth_time {
            self.warn(
                &r.span(),
                &format!("{base}.reauth_time"),
                "accepted but not enforced yet (the engine rekeys, it does not reauthenticate)",
            );
        }
        let credentials = self.conn_credentials(&base, c, &mut ids, ctx.secrets);
        if self.errors.len() > errors_before {
            return None;
        }
        let (Some(local_identity), Some(credentials)) = (ids.local_identity, credentials) else {
            return None;
        };
        let mut conn = Connection {
            name: name.get_ref().clone(),
            local_addrs: peers.local_addrs,
            remote_addrs: peers.remote_addrs,
            remote_port: c.remote_port.unwrap_or(match ctx.daemon.ike_port {
                0 => 500,
                port => port,
            }),
            proposals: peers.proposals,
            start_action: peers.start_action,
            keyingtries: c.keyingtries.as_ref().map_or(0, |k| *k.get_ref()),
            fragment_size: timers.fragment_size,
            dpd_delay: timers.dpd_delay,
            ike_lifetime: timers.ike_lifetime,
            reauth_time: timers.reauth_time,
            local_id: ids.local_id.unwrap_or_default(),
            remote_id: ids.remote_id,
            children,
            ppk: ppk.ppk,
            hybrid: ppk.hybrid,
            hybrid_explicit: ppk.hybrid_explicit,
            qkd_fallback: ppk.qkd_fallback,
            qkd_peer_sae_id: ppk.peer_sae_id,
            force_encap: ctx
                .dataplane
                .is_some_and(|d| d.encapsulation == Encapsulation::Udp),
            local_identity,
            remote_identity: ids.remote_identity,
            ike_specs: peers.ike_specs,
            credentials,
            ppk_key: ppk.key,
            fingerprint: [0; 32],
            retransmit: ctx.retransmit,
            nat_keepalive: ctx.keep_alive,
        };
        conn.fingerprint = fingerprint(&conn);
        Some(conn)
    }

    /// Whom a connection talks to, with what, and when it starts.
    fn conn_peers(&mut self, base: &str, c: &RawConnection, ctx: &ConnCtx<'_>) -> ConnPeers {
        let f = |s: &str| format!("{base}.{s}");
        let local_addrs = self.local_addrs(&f("local_addrs"), &c.local_addrs, ctx.daemon);
        let before_remotes = self.errors.len();
        let remote_addrs = self.remote_addrs(&f("remote_addrs"), &c.remote_addrs);
        let remotes_valid = self.errors.len() == before_remotes;
        let (proposals, ike_specs) =
            self.proposals(&f("proposals"), &c.proposals, ProposalSpec::parse_ike);
        let start_action = self.start_action(
            &f("start_action"),
            c.start_action.as_ref(),
            &remote_addrs,
            remotes_valid,
        );
        if let Some(s) = c
            .start_action
            .as_ref()
            .filter(|_| start_action == StartAction::Trap && ctx.dataplane.is_none())
        {
            self.warn(
                &s.span(),
                &f("start_action"),
                "\"trap\" needs the datapath ([dataplane]) and acts like \"none\" without it",
            );
        }
        ConnPeers {
            local_addrs,
            remote_addrs,
            proposals,
            ike_specs,
            start_action,
        }
    }

    /// Fragmentation, liveness checks and lifetimes of the IKE SA.
    fn conn_timers(&mut self, base: &str, c: &RawConnection) -> ConnTimers {
        let f = |s: &str| format!("{base}.{s}");
        let fragment_size = self.fragment_size(&f("fragment_size"), &c.ike_fields());
        let dpd_delay = self
            .opt_duration(&f("dpd_delay"), c.dpd_delay.as_ref(), MAX_DPD_DELAY)
            .filter(|d| !d.is_zero());
        let ike_lifetime = self.ike_lifetime(base, &c.ike_fields());
        let reauth_time =
            self.opt_duration(&f("reauth_time"), c.reauth_time.as_ref(), MAX_LIFETIME);
        ConnTimers {
            fragment_size,
            dpd_delay,
            ike_lifetime,
            reauth_time,
        }
    }

    /// The authentication method and both identities (from the certificates with `pubkey`).
    fn conn_identities(
        &mut self,
        base: &str,
        c: &RawConnection,
        first_local: Option<IpAddr>,
    ) -> ConnIdentities {
        let method = self.auth_method(base, &c.local, &c.remote);
        let certs = (method == Some(AuthMethod::Pubkey))
            .then(|| self.certificates(base, &c.local, &c.remote))
            .flatten();
        let (local_id, local_identity) = match &certs {
            Some((_, text, id)) => (Some(text.clone()), Some(id.clone())),
            None if method != Some(AuthMethod::Psk) => (None, None),
            None => self.auth_side(&format!("{base}.local"), &c.local, first_local),
        };
        let (remote_id, remote_identity) =
            self.auth_side(&format!("{base}.remote"), &c.remote, None);
        ConnIdentities {
            method,
            certs: certs.map(|(creds, _, _)| creds),
            local_id,
            local_identity,
            remote_id,
            remote_identity,
        }
    }

    /// The `children` tables, in file order; at least one is required.
    fn conn_children(&mut self, base: &str, raw: &Spanned<RawConnection>) -> Vec<Child> {
        let c = raw.get_ref();
        let mut children = Vec::new();
        let mut child_entries: Vec<_> = c.children.iter().collect();
        child_entries.sort_by_key(|(n, _)| n.span().start);
        for (child_name, child) in child_entries {
            children.extend(self.child(&format!("{base}.children"), child_name, child));
        }
        if c.children.is_empty() {
            self.error(
                &raw.span(),
                &format!("{base}.children"),
                "at least one child ([connections.NAME.children.CHILD]) is required",
            );
        }
        children
    }

    /// The certificate credentials, or the pre-shared key that matches both identities.
    fn conn_credentials(
        &mut self,
        base: &str,
        c: &RawConnection,
        ids: &mut ConnIdentities,
        secrets: &Secrets,
    ) -> Option<Credentials> {
        match (ids.method, ids.certs.take()) {
            (Some(AuthMethod::Pubkey), Some(creds)) => Some(Credentials::Certificate(creds)),
            (Some(AuthMethod::Psk), _) => self
                .find_psk(
                    base,
                    &c.local,
                    ids.local_identity.as_ref(),
                    ids.remote_identity.as_ref(),
                    secrets,
                )
                .map(Credentials::Psk),
            _ => None,
        }
    }

    pub(super) fn check_name(&mut self, name: &Spanned<String>, table: &str) {
        let n = name.get_ref();
        let ok = !n.is_empty()
            && n.len() <= 64
            && n.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.'));
        if !ok {
            self.error(
                &name.span(),
                &format!("{table}.{n}"),
                "names are 1-64 characters of A-Z, a-z, 0-9, '-', '_' and '.'",
            );
        }
    }

    fn local_addrs(
        &mut self,
        field: &str,
        raw: &[Spanned<String>],
        daemon: &DaemonSettings,
    ) -> Vec<IpAddr> {
        let mut out = Vec::new();
        for a in raw {
            let Ok(ip) = a.get_ref().parse::<IpAddr>() else {
                self.error(
                    &a.span(),
                    field,
                    format!("'{}' is not an IP address", a.get_ref()),
                );
                continue;
            };
            if !daemon.listens_on(ip) {
                self.error(
                    &a.span(),
                    field,
                    format!("{ip} is not covered by daemon.listen"),
                );
            }
            out.push(ip);
        }
        out
    }

    fn remote_addrs(&mut self, field: &str, raw: &[Spanned<String>]) -> Vec<RemoteAddr> {
        let mut out = Vec::new();
        for a in raw {
            match a.get_ref().as_str() {
                "%any" => out.push(RemoteAddr::Any),
                s => match s.parse::<IpAddr>() {
                    Ok(ip) => out.push(RemoteAddr::Ip(ip)),
                    Err(_) => self.error(
                        &a.span(),
                        field,
                        format!("'{s}' is not an IP address or %any (host names are not resolved)"),
                    ),
                },
            }
        }
        if raw.is_empty() {
            out.push(RemoteAddr::Any);
        }
        out
    }

    pub(super) fn proposals(
        &mut self,
        field: &str,
        raw: &Spanned<Vec<Spanned<String>>>,
        parse: fn(&str) -> Result<ProposalSpec, ikev2::ProposalError>,
    ) -> (Vec<String>, Vec<ProposalSpec>) {
        let mut texts = Vec::new();
        let mut specs = Vec::new();
        for p in raw.get_ref() {
            match parse(p.get_ref()) {
                Ok(spec) => {
                    self.legacy_warning(field, p, &spec);
                    texts.push(p.get_ref().clone());
                    specs.push(spec);
                }
                Err(e) => self.error(&p.span(), field, e.reason),
            }
        }
        if raw.get_ref().is_empty() {
            self.error(&raw.span(), field, "needs at least one proposal");
        }
        (texts, specs)
    }

    fn close_action(&mut self, field: &str, c: &RawChild) -> CloseAction {
        let Some(s) = c.close_action.as_ref() else {
            return CloseAction::None;
        };
        match s.get_ref().as_str() {
            "none" => CloseAction::None,
            "trap" => CloseAction::Trap,
            "start" | "restart" => CloseAction::Start,
            other => {
                self.error(
                    &s.span(),
                    &format!("{field}.close_action"),
                    format!("unknown action '{other}' (use none, trap or start)"),
                );
                CloseAction::None
            }
        }
    }

    fn start_action(
        &mut self,
        field: &str,
        raw: Option<&Spanned<String>>,
        remotes: &[RemoteAddr],
        remotes_valid: bool,
    ) -> StartAction {
        let Some(s) = raw else {
            return StartAction::None;
        };
        let action = match s.get_ref().as_str() {
            "none" => StartAction::None,
            "start" => StartAction::Start,
            "trap" => StartAction::Trap,
            other => {
                self.error(
                    &s.span(),
                    field,
                    format!("unknown start action '{other}' (use none, start or trap)"),
                );
                return StartAction::None;
            }
        };
        // A bad remote address was reported already; "no concrete address" would follow from it.
        if action != StartAction::None
            && remotes_valid
            && !remotes.iter().any(|r| matches!(r, RemoteAddr::Ip(_)))
        {
            self.error(
                &s.span(),
                field,
                "needs a concrete address in remote_addrs to initiate to",
            );
        }
        action
    }

    pub(super) fn fragment_size(&mut self, field: &str, c: &IkeFields<'_>) -> Option<u32> {
        let size = c.fragment_size.map_or(1280, |s| *s.get_ref());
        if let Some(s) = c.fragment_size
            && !(576..=65_535).contains(s.get_ref())
        {
            self.error(
                &s.span(),
                field,
                format!("{} is outside 576..65535", s.get_ref()),
            );
        }
        c.fragmentation.unwrap_or(true).then_some(size)
    }

    /// A duration of at most `max` (see [`bounds`](super::bounds)).
    pub(super) fn opt_duration(
        &mut self,
        field: &str,
        raw: Option<&Spanned<String>>,
        max: Duration,
    ) -> Option<Duration> {
        let s = raw?;
        let d = duration(s.get_ref())
            .map_err(|e| self.error(&s.span(), field, e))
            .ok()?;
        if d > max {
            let (value, max) = (s.get_ref().trim(), bounds::format(max));
            self.error(
                &s.span(),
                field,
                format!("'{value}' is longer than the maximum of {max}"),
            );
            return None;
        }
        Some(d)
    }

    /// `psk` or `pubkey`, the same on both sides (the engine uses one method both ways);
    /// certificate settings only with `pubkey`.
    fn auth_method(
        &mut self,
        base: &str,
        local: &Spanned<RawAuth>,
        remote: &Spanned<RawAuth>,
    ) -> Option<AuthMethod> {
        let mut parse = |side: &str, a: &RawAuth| match a.auth.get_ref().as_str() {
            "psk" => Some(AuthMethod::Psk),
            "pubkey" => Some(AuthMethod::Pubkey),
            other => {
                self.error(
                    &a.auth.span(),
                    &format!("{base}.{side}.auth"),
                    format!("unknown method '{other}' (use psk or pubkey)"),
                );
                None
            }
        };
        let (l, r) = (
            parse("local", local.get_ref())?,
            parse("remote", remote.get_ref())?,
        );
        if l != r {
            self.error(
                &remote.get_ref().auth.span(),
                &format!("{base}.remote.auth"),
                "must equal local.auth: mixing psk and pubkey is not supported",
            );
            return None;
        }
        if l == AuthMethod::Psk {
            for (side, a) in [("local", local.get_ref()), ("remote", remote.get_ref())] {
                let first = [a.certs.first(), a.cacerts.first(), a.key.as_ref()];
                let names = ["certs", "cacerts", "key"];
                for (v, name) in first.into_iter().zip(names) {
                    if let Some(v) = v {
                        self.error(
                            &v.span(),
                            &format!("{base}.{side}.{name}"),
                            "only with auth = \"pubkey\"",
                        );
                    }
                }
            }
        }
        Some(l)
    }

    /// Returns the identity as written and parsed. For `local`, a missing id defaults to the
    /// first local address, as in swanctl.
    fn auth_side(
        &mut self,
        field: &str,
        raw: &Spanned<RawAuth>,
        default_ip: Option<IpAddr>,
    ) -> (Option<String>, Option<Identity>) {
        let a = raw.get_ref();
        let is_local = default_ip.is_some() || field.ends_with(".local");
        match (&a.id, default_ip) {
            (Some(id), _) => match identity(id.get_ref()) {
                Ok(i) => (Some(id.get_ref().clone()), Some(i)),
                Err(e) => {
                    self.error(&id.span(), &format!("{field}.id"), e);
                    (None, None)
                }
            },
            (None, Some(ip)) => (Some(ip.to_string()), Some(Identity::ip(ip))),
            (None, None) if is_local => {
                self.error(
                    &raw.span(),
                    &format!("{field}.id"),
                    "required (or set local_addrs to use the address as identity)",
                );
                (None, None)
            }
            (None, None) => (None, None),
        }
    }

    fn child(
        &mut self,
        table: &str,
        name: &Spanned<String>,
        raw: &Spanned<RawChild>,
    ) -> Option<Child> {
        self.check_name(name, table);
        let field = format!("{table}.{}", name.get_ref());
        let errors_before = self.errors.len();
        let c = raw.get_ref();
        let local_ts = self.selectors(&format!("{field}.local_ts"), &c.local_ts);
        let remote_ts = self.selectors(&format!("{field}.remote_ts"), &c.remote_ts);
        let (esp_proposals, esp_specs) = match &c.esp_proposals {
            Some(p) => self.proposals(
                &format!("{field}.esp_proposals"),
                p,
                ProposalSpec::parse_esp,
            ),
            None => {
                let default = "aes256gcm16";
                (
                    vec![default.to_string()],
                    ProposalSpec::parse_esp(default).into_iter().collect(),
                )
            }
        };
        if let Some(m) = &c.mode
            && m.get_ref() != "tunnel"
        {
            let msg = if m.get_ref() == "transport" {
                "only \"tunnel\" is supported (the datapath is a TUN device)".to_string()
            } else {
                format!("unknown mode '{}' (use tunnel)", m.get_ref())
            };
            self.error(&m.span(), &format!("{field}.mode"), msg);
        }
        let lifetime = self.child_lifetime(&field, c);
        let limits = self.traffic_limits(&field, c);
        let dpd_action = match c
            .dpd_action
            .as_ref()
            .map(|s| (s.get_ref().as_str(), s.span()))
        {
            None | Some(("clear", _)) => DpdAction::Clear,
            Some(("restart", _)) => DpdAction::Restart,
            Some(("trap", _)) => DpdAction::Trap,
            Some((other, span)) => {
                self.error(
                    &span,
                    &format!("{field}.dpd_action"),
                    format!("unknown action '{other}' (use clear, restart or trap)"),
                );
                DpdAction::Clear
            }
        };
        let close_action = self.close_action(&field, c);
        (self.errors.len() == errors_before).then(|| Child {
            name: name.get_ref().clone(),
            local_ts,
            remote_ts,
            esp_proposals,
            lifetime,
            dpd_action,
            close_action,
            limits,
            esp_specs,
        })
    }

    /// strongSwan's IKE rules: rekey after `rekey_time` (4h; 0 never rekeys) less up to
    /// `rand_time` (default `over_time`), give up `over_time` (default 10 % of `rekey_time`)
    /// later.
    pub(super) fn ike_lifetime(&mut self, base: &str, c: &IkeFields<'_>) -> Lifetime {
        let rekey = self
            .opt_duration(&format!("{base}.rekey_time"), c.rekey_time, MAX_LIFETIME)
            .unwrap_or(Duration::from_secs(4 * 3600));
        if rekey.is_zero() {
            return Lifetime::NONE;
        }
        let over = self
            .opt_duration(&format!("{base}.over_time"), c.over_time, MAX_LIFETIME)
            .unwrap_or(rekey / 10);
        let jitter = self
            .opt_duration(&format!("{base}.rand_time"), c.rand_time, MAX_LIFETIME)
            .unwrap_or(over);
        if let Some(r) = c.rand_time.filter(|_| jitter >= rekey) {
            self.error(
                &r.span(),
                &format!("{base}.rand_time"),
                "must be shorter than rekey_time",
            );
        }
        Lifetime {
            rekey_after: Some(rekey),
            expire_after: Some(rekey.saturating_add(over)),
            jitter,
        }
    }

    /// strongSwan's Child SA rules: rekey after `rekey_time` (1h; 0 never rekeys) less up to
    /// `rand_time` (default `life_time - rekey_time`), expire at `life_time` (default 110 % of
    /// `rekey_time`).
    fn child_lifetime(&mut self, field: &str, c: &RawChild) -> Lifetime {
        let rekey = self
            .opt_duration(
                &format!("{field}.rekey_time"),
                c.rekey_time.as_ref(),
                MAX_LIFETIME,
            )
            .unwrap_or(Duration::from_secs(3600));
        let life = self.opt_duration(
            &format!("{field}.life_time"),
            c.life_time.as_ref(),
            MAX_LIFETIME,
        );
        if rekey.is_zero() {
            return Lifetime {
                rekey_after: None,
                expire_after: life.filter(|l| !l.is_zero()),
                jitter: Duration::ZERO,
            };
        }
        let life = life.unwrap_or_else(|| rekey.saturating_add(rekey / 10));
        if let Some(l) = c.life_time.as_ref().filter(|_| life <= rekey) {
            self.error(
                &l.span(),
                &format!("{field}.life_time"),
                "must be longer than rekey_time",
            );
            return Lifetime::CHILD_DEFAULT;
        }
        let jitter = self
            .opt_duration(
                &format!("{field}.rand_time"),
                c.rand_time.as_ref(),
                MAX_LIFETIME,
            )
            .unwrap_or_else(|| life.saturating_sub(rekey));
        if let Some(r) = c.rand_time.as_ref().filter(|_| jitter >= rekey) {
            self.error(
                &r.span(),
                &format!("{field}.rand_time"),
                "must be shorter than rekey_time",
            );
        }
        Lifetime {
            rekey_after: Some(rekey),
            expire_after: Some(life),
            jitter,
        }
    }

    fn selectors(
        &mut self,
        field: &str,
        raw: &Spanned<Vec<Spanned<String>>>,
    ) -> Vec<ikev2::wire::IpSelector> {
        if raw.get_ref().is_empty() {
            self.error(&raw.span(), field, "needs at least one traffic selector");
        }
        raw.get_ref()
            .iter()
            .filter_map(|s| {
                traffic_selector(s.get_ref())
                    .map_err(|e| self.error(&s.span(), field, e))
                    .ok()
            })
            .collect()
    }

    /// The PSK for a connection, strongSwan-style: the `[secrets.ike.*]` entry whose `ids` match
    /// most of our and the peer's identities; an entry without `ids` matches anyone.
    fn find_psk(
        &mut self,
        base: &str,
        local: &Spanned<RawAuth>,
        local_id: Option<&Identity>,
        remote_id: Option<&Identity>,
        secrets: &Secrets,
    ) -> Option<SecretBytes> {
        let score = |s: &IkeSecret| -> Option<usize> {
            if s.ids.is_empty() {
                return Some(0);
            }
            let n = [local_id, remote_id]
                .into_iter()
                .flatten()
                .filter(|id| s.ids.contains(id))
                .count();
            (n > 0).then_some(n)
        };
        let mut ranked: BTreeMap<usize, Vec<&IkeSecret>> = BTreeMap::new();
        for s in &secrets.ike {
            if let Some(n) = score(s) {
                ranked.entry(n).or_default().push(s);
            }
        }
        let span = local.get_ref().auth.span();
        let Some((_, best)) = ranked.into_iter().next_back() else {
            if secrets.ike_invalid {
                return None;
            }
            self.error(
                &span,
                &format!("{base}.local.auth"),
                "no [secrets.ike.*] entry matches this connection's identities",
            );
            return None;
        };
        if best.len() > 1 {
            let names: Vec<&str> = best.iter().map(|s| s.name.as_str()).collect();
            self.error(
                &span,
                &format!("{base}.local.auth"),
                format!(
                    "ambiguous: secrets {} match equally well",
                    names.join(" and ")
                ),
            );
            return None;
        }
        best.first().map(|s| s.secret.dangerous_duplicate())
    }
}

/// A digest of everything the engine sees, secrets included, to tell changed connections apart
/// on reload. It is compared, never shown.
pub(super) fn fingerprint(c: &Connection) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut put = |b: &[u8]| {
        h.update((b.len() as u64).to_be_bytes());
        h.update(b);
    };
    let public = format!(
        "{}|{:?}|{:?}|{}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{}|{}|{:?}|{}",
        c.name,
        c.local_addrs,
        c.remote_addrs,
        c.remote_port,
        c.proposals,
        c.start_action.as_str(),
        c.fragment_size,
        c.dpd_delay,
        c.ike_lifetime,
        c.reauth_time,
        c.local_id,
        c.remote_id,
        c.ppk,
        c.hybrid,
        c.hybrid_explicit,
        c.qkd_fallback,
        c.qkd_peer_sae_id,
        c.force_encap,
    );
    put(public.as_bytes());
    for ch in &c.children {
        put(format!("{ch:?}").as_bytes());
    }
    match &c.credentials {
        Credentials::Psk(psk) => put(psk.expose()),
        Credentials::Certificate(cert) | Credentials::EapServer(cert) => {
            if matches!(c.credentials, Credentials::EapServer(_)) {
                put(b"eap-server");
            }
            cert.chain.iter().for_each(|d| put(d));
            put(b"cacerts");
            cert.cacerts.iter().for_each(|d| put(d));
            put(cert.key.expose());
        }
    }
    if let Some(k) = &c.ppk_key {
        put(k.expose());
    }
    h.finalize().into()
}

/// The highest `daemon.ike_rate_per_source`: beyond this a limit limits nothing.
const MAX_IKE_RATE: u32 = 1_000_000;
