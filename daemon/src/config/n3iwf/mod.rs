//! `[n3iwf]`: the daemon as a 5G N3IWF. Validated into the core's [`N3iwfConfig`], the N2
//! associations ([`AmfSettings`]) and a generated connection, [`N3IWF_CONNECTION`], that the
//! engine answers UEs with: our certificate, EAP-5G for the UE, remote `%any`, and one child
//! template for the signalling SA.

mod amfs;
mod areas;
mod ike;
pub(crate) mod raw;
mod user_plane;

pub use self::user_plane::UserPlaneSettings;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::Range;
use std::time::Duration;

use ::n3iwf::N3iwfConfig;
use ::n3iwf::ids::Plmn;
use ::n3iwf::ngap::{GlobalN3iwfId, N3iwfId, PagingDrx};
use ::n3iwf::node::{ConfigError as CoreConfigError, GuardTimers, InnerPoolConfig, Limits};
use n2_transport::TransportKind;
use toml::Spanned;

use self::raw::{RawN3iwf, RawTimers};
use super::load::{ConnCtx, Validator};
use super::values::prefix;
use super::{Connection, DataplaneSettings};

/// The name of the generated connection that answers UEs.
pub const N3IWF_CONNECTION: &str = "n3iwf";
/// The child template of the UE's signalling SA (NAS over TCP).
pub const SIGNALLING_CHILD: &str = "signalling";
/// The child template of the user-plane Child SAs of PDU sessions.
pub const USER_PLANE_CHILD: &str = "user-plane";

/// `[n3iwf]`, validated (without the generated connection, which joins the others).
#[derive(Clone, Debug)]
pub struct N3iwfSettings {
    /// What the core is given.
    pub core: N3iwfConfig,
    /// One N2 association each, in the order of the core's `AmfRef`s.
    pub amfs: Vec<AmfSettings>,
    /// The wait after a failed or lost N2 association, doubled after each failure up to
    /// `reconnect_max`.
    pub reconnect: Duration,
    pub reconnect_max: Duration,
    /// GRE, MTU and path supervision of the user plane.
    pub user_plane: UserPlaneSettings,
}

/// `[[n3iwf.amfs]]`, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmfSettings {
    /// The operator's name for it (listings, logs, metric labels).
    pub label: String,
    /// The AMF's SCTP address and port (38412 by default).
    pub address: SocketAddr,
    pub transport: TransportKind,
    /// Our address for the association; any when `None`.
    pub local: Option<IpAddr>,
}

impl N3iwfSettings {
    /// Puts the NAS address on the datapath's TUN device and routes the UE pool into it,
    /// unless the file already does.
    pub(crate) fn extend_dataplane(&self, d: &mut DataplaneSettings) {
        let nas = IpAddr::V4(self.core.nas_address);
        if !d.addresses.iter().any(|(a, _)| *a == nas) {
            d.addresses.push((nas, 32));
        }
        let pool = (
            IpAddr::V4(self.core.inner_pool.network),
            self.core.inner_pool.prefix_len,
        );
        if !d.routes.contains(&pool) {
            d.routes.push(pool);
        }
        d.n3 = self.n3_socket();
        d.n3_ue_mtu = self.user_plane.ue_mtu;
        d.n3_oversize = self.user_plane.mtu_policy;
    }

    /// A digest of the settings, to tell a reload that changed them.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Validator<'_> {
    /// Checks `[n3iwf]` and builds its settings and generated connection. The N3IWF needs the
    /// datapath: NAS over TCP runs on its TUN device.
    pub(super) fn n3iwf(
        &mut self,
        raw: Option<&Spanned<RawN3iwf>>,
        ctx: &ConnCtx<'_>,
    ) -> Option<(N3iwfSettings, Connection)> {
        let section = raw?;
        let errors_before = self.errors.len();
        let n = section.get_ref();
        if ctx.dataplane.is_none() {
            self.error(&section.span(), "n3iwf", "needs [dataplane]: NAS over TCP terminates on the datapath's TUN device, where the UEs' signalling SAs deliver it");
        }
        let (core, user_plane) = self.n3iwf_core(section).unzip();
        let amfs = self.amfs(&n.amfs, &section.span());
        let (reconnect, reconnect_max) = self.reconnect(n);
        let connection = self.nwu_connection(n, core.as_ref(), ctx);
        if self.errors.len() > errors_before {
            return None;
        }
        let (mut core, amfs, connection, user_plane) = (core?, amfs?, connection?, user_plane?);
        core.amfs = amfs
            .iter()
            .map(|a| ::n3iwf::node::AmfPeer {
                label: a.label.clone(),
            })
            .collect();
        if let Err(e) = core.validate() {
            self.core_error(section, &e);
            return None;
        }
        let settings = N3iwfSettings {
            core,
            amfs,
            reconnect,
            reconnect_max,
            user_plane,
        };
        Some((settings, connection))
    }

    /// The values of the core: identity, tracking areas, NAS endpoint, pool, limits, timers.
    fn n3iwf_core(
        &mut self,
        section: &Spanned<RawN3iwf>,
    ) -> Option<(N3iwfConfig, UserPlaneSettings)> {
        let n = section.get_ref();
        let errors_before = self.errors.len();
        let n3iwf_id = self.int_in("n3iwf.n3iwf_id", Some(&n.n3iwf_id), 0, 0xffff, 0);
        let plmn = self.plmn("n3iwf.plmn", &n.plmn);
        let ran_node_name = n.name.as_ref().map(|s| {
            let name = s.get_ref();
            if name.is_empty() || name.len() > 150 || !name.chars().all(|c| c.is_ascii_graphic()) {
                self.error(
                    &s.span(),
                    "n3iwf.name",
                    "1-150 printable ASCII characters without blanks (NGAP RAN node name)",
                );
            }
            name.clone()
        });
        let default_paging_drx = self.paging_drx(n.paging_drx.as_ref());
        let nas_address = self.nas_address(&n.nas_address);
        let nas_tcp_port = self.int_in("n3iwf.nas_port", n.nas_port.as_ref(), 1, 0xffff, 20_000);
        let inner_pool = self.ue_pool(&n.ue_pool);
        let supported_tas = self.tracking_areas(&n.tracking_areas, &section.span());
        let up = self.user_plane_values(n);
        let limits = Limits {
            max_ues: self.int_in("n3iwf.max_ues", n.max_ues.as_ref(), 1, 1 << 24, 10_000) as usize,
            dl_nas_queue: self.int_in("n3iwf.dl_nas_queue", n.dl_nas_queue.as_ref(), 1, 1024, 16)
                as usize,
            max_pdu_sessions: up.max_pdu_sessions,
            max_sessions_per_ue: up.max_sessions_per_ue,
            ..Limits::default()
        };
        let timers = self.guard_timers(&n.timers);
        if self.errors.len() > errors_before {
            return None;
        }
        let core = N3iwfConfig {
            global_id: GlobalN3iwfId {
                plmn: plmn?,
                n3iwf_id: N3iwfId(u16::try_from(n3iwf_id).ok()?),
            },
            ran_node_name,
            supported_tas,
            default_paging_drx,
            amfs: Vec::new(),
            inner_pool: inner_pool?,
            nas_address: nas_address?,
            nas_tcp_port: u16::try_from(nas_tcp_port).ok()?,
            up_address: up.up_address,
            n3_address: up.n3_address,
            timers,
            limits,
        };
        Some((core, up.settings))
    }

    /// An integer of `raw` within `min..=max`, or `default` when absent.
    pub(super) fn int_in(
        &mut self,
        field: &str,
        raw: Option<&Spanned<i64>>,
        min: i64,
        max: i64,
        default: i64,
    ) -> i64 {
        let Some(v) = raw else { return default };
        if !(min..=max).contains(v.get_ref()) {
            self.error(
                &v.span(),
                field,
                format!("{} is outside {min}..={max}", v.get_ref()),
            );
            return default;
        }
        *v.get_ref()
    }

    /// `MCC-MNC`, e.g. `208-93` or `310-410` (a 3-digit MNC stays 3 digits).
    pub(super) fn plmn(&mut self, field: &str, raw: &Spanned<String>) -> Option<Plmn> {
        let text = raw.get_ref();
        let parsed = text
            .split_once('-')
            .and_then(|(mcc, mnc)| Plmn::new(mcc, mnc).ok());
        if parsed.is_none() {
            self.error(
                &raw.span(),
                field,
                format!("'{text}' is not MCC-MNC (3 digits, a dash, 2 or 3 digits: 208-93)"),
            );
        }
        parsed
    }

    fn paging_drx(&mut self, raw: Option<&Spanned<i64>>) -> PagingDrx {
        match raw.map(|v| (*v.get_ref(), v.span())) {
            None | Some((128, _)) => PagingDrx::V128,
            Some((32, _)) => PagingDrx::V32,
            Some((64, _)) => PagingDrx::V64,
            Some((256, _)) => PagingDrx::V256,
            Some((other, span)) => {
                self.error(
                    &span,
                    "n3iwf.paging_drx",
                    format!("{other} is not a paging DRX cycle (32, 64, 128 or 256)"),
                );
                PagingDrx::V128
            }
        }
    }

    fn nas_address(&mut self, raw: &Spanned<String>) -> Option<Ipv4Addr> {
        let text = raw.get_ref();
        let why = match text.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) if !(a.is_unspecified() || a.is_multicast() || a.is_broadcast()) => {
                return Some(a);
            }
            Ok(IpAddr::V4(_)) => "must be a unicast address",
            Ok(IpAddr::V6(_)) => "must be IPv4 (NAS_IP6_ADDRESS is not supported yet)",
            Err(_) => "is not an IPv4 address",
        };
        self.error(&raw.span(), "n3iwf.nas_address", format!("'{text}' {why}"));
        None
    }

    fn ue_pool(&mut self, raw: &Spanned<String>) -> Option<InnerPoolConfig> {
        let field = "n3iwf.ue_pool";
        let (net, len) = prefix(raw.get_ref(), false)
            .map_err(|e| self.error(&raw.span(), field, e))
            .ok()?;
        let IpAddr::V4(network) = net else {
            self.error(&raw.span(), field, "must be an IPv4 prefix");
            return None;
        };
        if !(8..=30).contains(&len) {
            self.error(
                &raw.span(),
                field,
                format!("/{len}: the prefix length must be between 8 and 30"),
            );
            return None;
        }
        Some(InnerPoolConfig {
            network,
            prefix_len: len,
        })
    }

    fn guard_timers(&mut self, raw: &RawTimers) -> GuardTimers {
        let d = GuardTimers::default();
        let mut get = |name: &str, value: Option<&Spanned<String>>, default: Duration| {
            let field = format!("n3iwf.timers.{name}");
            let got = self.opt_duration(&field, value, MAX_GUARD_TIMER);
            if let (Some(v), Some(t)) = (value, got)
                && t.is_zero()
            {
                self.error(&v.span(), &field, "must be longer than zero");
            }
            got.filter(|t| !t.is_zero()).unwrap_or(default)
        };
        GuardTimers {
            amf_answer: get("amf_answer", raw.amf_answer.as_ref(), d.amf_answer),
            ue_answer: get("ue_answer", raw.ue_answer.as_ref(), d.ue_answer),
            signalling_sa: get("signalling_sa", raw.signalling_sa.as_ref(), d.signalling_sa),
            release_command: get(
                "release_command",
                raw.release_command.as_ref(),
                d.release_command,
            ),
            ng_setup: get("ng_setup", raw.ng_setup.as_ref(), d.ng_setup),
        }
    }

    /// `amf_reconnect` (first wait) and `amf_reconnect_max`.
    fn reconnect(&mut self, n: &RawN3iwf) -> (Duration, Duration) {
        let first = self.reconnect_wait("n3iwf.amf_reconnect", n.amf_reconnect.as_ref());
        let max = self.reconnect_wait("n3iwf.amf_reconnect_max", n.amf_reconnect_max.as_ref());
        let (first, max) = (
            first.unwrap_or(DEFAULT_RECONNECT),
            max.unwrap_or(DEFAULT_RECONNECT_MAX),
        );
        if let Some(m) = n.amf_reconnect_max.as_ref().filter(|_| max < first) {
            self.error(
                &m.span(),
                "n3iwf.amf_reconnect_max",
                "must not be shorter than amf_reconnect",
            );
        }
        (first, max.max(first))
    }

    fn reconnect_wait(&mut self, field: &str, raw: Option<&Spanned<String>>) -> Option<Duration> {
        let d = self.opt_duration(field, raw, MAX_RECONNECT)?;
        if d < MIN_RECONNECT {
            let span = raw.map(Spanned::span).unwrap_or_default();
            self.error(&span, field, "must be at least 10ms");
            return None;
        }
        Some(d)
    }

    /// The core's own check failed where ours did not: reported at the section.
    fn core_error(&mut self, section: &Spanned<RawN3iwf>, e: &CoreConfigError) {
        self.error(
            &section.span(),
            &format!("n3iwf.{}", e.field),
            e.reason.to_string(),
        );
    }
}

/// The span of an optional value, or of its table when absent.
pub(super) fn span_or<T>(value: Option<&Spanned<T>>, table: &Range<usize>) -> Range<usize> {
    value.map_or_else(|| table.clone(), Spanned::span)
}

const DEFAULT_RECONNECT: Duration = Duration::from_secs(1);
const DEFAULT_RECONNECT_MAX: Duration = Duration::from_secs(30);
const MIN_RECONNECT: Duration = Duration::from_millis(10);
const MAX_RECONNECT: Duration = Duration::from_secs(3600);
/// A guard timer beyond an hour is a typo: UEs retransmit for well under a minute.
const MAX_GUARD_TIMER: Duration = Duration::from_secs(3600);

impl Validator<'_> {
    /// The generated connection's name is taken; a site connection that answers any address
    /// is chosen before it for UEs whose proposals it matches (the engine takes the first
    /// match), so say so.
    pub(in crate::config) fn n3iwf_beside_connections(
        &mut self,
        raw: &super::raw::RawFile,
        connections: &[Connection],
    ) {
        for (name, conn) in &raw.connections {
            if name.get_ref() == N3IWF_CONNECTION {
                self.error(
                    &name.span(),
                    &format!("connections.{N3IWF_CONNECTION}"),
                    "this name belongs to the connection [n3iwf] generates; rename it",
                );
            }
            let answers_any = connections.iter().any(|c| {
                c.name == *name.get_ref() && c.remote_addrs.contains(&super::RemoteAddr::Any)
            });
            if answers_any {
                self.warn(
                    &conn.span(),
                    &format!("connections.{}.remote_addrs", name.get_ref()),
                    "answers any address and comes before the N3IWF's connection: a UE whose proposal it matches is answered by it and fails",
                );
            }
        }
    }
}
