//! `[[n3iwf.amfs]]`: one N2 association per AMF, over the kernel's SCTP or usrsctp (raw IP
//! protocol 132, or UDP 9899).

use std::net::{IpAddr, SocketAddr};
use std::ops::Range;

use n2_transport::{LowerLayer, NGAP_PORT, TransportKind, UDP_ENCAPSULATION_PORT};
use toml::Spanned;

use super::raw::RawAmf;
use super::{AmfSettings, span_or};
use crate::config::load::Validator;

impl Validator<'_> {
    /// At least one AMF; names and addresses unique; all usrsctp AMFs on one lower layer
    /// (usrsctp runs one stack per process).
    pub(super) fn amfs(
        &mut self,
        raw: &[Spanned<RawAmf>],
        section: &Range<usize>,
    ) -> Option<Vec<AmfSettings>> {
        let errors_before = self.errors.len();
        if raw.is_empty() {
            self.error(section, "n3iwf.amfs", "needs at least one [[n3iwf.amfs]]");
        }
        let mut out: Vec<AmfSettings> = Vec::new();
        let mut stack: Option<LowerLayer> = None;
        for a in raw {
            let Some(amf) = self.amf(a) else { continue };
            let r = a.get_ref();
            if out.iter().any(|o| o.label == amf.label) {
                self.error(&r.name.span(), "n3iwf.amfs.name", "name used twice");
            }
            if out.iter().any(|o| o.address == amf.address) {
                let msg = format!("{} listed twice", amf.address);
                self.error(&r.address.span(), "n3iwf.amfs.address", msg);
            }
            if let TransportKind::Usrsctp(lower) = amf.transport {
                self.one_stack(&mut stack, lower, a);
            }
            out.push(amf);
        }
        (self.errors.len() == errors_before).then_some(out)
    }

    fn amf(&mut self, raw: &Spanned<RawAmf>) -> Option<AmfSettings> {
        let a = raw.get_ref();
        let errors_before = self.errors.len();
        self.check_name(&a.name, "n3iwf.amfs");
        let port = self.int_in(
            "n3iwf.amfs.port",
            a.port.as_ref(),
            1,
            0xffff,
            NGAP_PORT.into(),
        );
        let ip = a.address.get_ref().parse::<IpAddr>().ok();
        if ip.is_none_or(|ip| ip.is_unspecified() || ip.is_multicast()) {
            self.error(
                &a.address.span(),
                "n3iwf.amfs.address",
                format!(
                    "'{}' is not a unicast IP address (host names are not resolved)",
                    a.address.get_ref()
                ),
            );
        }
        let transport = self.amf_transport(raw);
        let local = a.local.as_ref().and_then(|l| {
            let parsed = l.get_ref().parse::<IpAddr>().ok();
            let same_family = parsed
                .zip(ip)
                .is_none_or(|(l, r)| l.is_ipv4() == r.is_ipv4());
            if parsed.is_none() || !same_family {
                self.error(
                    &l.span(),
                    "n3iwf.amfs.local",
                    format!("'{}' is not an IP address of the AMF's family", l.get_ref()),
                );
            }
            parsed
        });
        if self.errors.len() > errors_before {
            return None;
        }
        Some(AmfSettings {
            label: a.name.get_ref().clone(),
            address: SocketAddr::new(ip?, u16::try_from(port).ok()?),
            transport: transport?,
            local,
        })
    }

    /// `transport` (`kernel`, the default, or `usrsctp`) and, for usrsctp, `lower` (`raw` or
    /// `udp`) with the UDP ports.
    fn amf_transport(&mut self, raw: &Spanned<RawAmf>) -> Option<TransportKind> {
        let a = raw.get_ref();
        let usrsctp = match a
            .transport
            .as_ref()
            .map(|t| (t.get_ref().as_str(), t.span()))
        {
            None | Some(("kernel", _)) => false,
            Some(("usrsctp", _)) => true,
            Some((other, span)) => {
                self.error(
                    &span,
                    "n3iwf.amfs.transport",
                    format!("unknown transport '{other}' (use kernel or usrsctp)"),
                );
                return None;
            }
        };
        let udp = match a.lower.as_ref().map(|l| (l.get_ref().as_str(), l.span())) {
            None | Some(("raw", _)) => false,
            Some(("udp", _)) => true,
            Some((other, span)) => {
                let msg = format!("unknown lower layer '{other}' (use raw or udp)");
                self.error(&span, "n3iwf.amfs.lower", msg);
                return None;
            }
        };
        if !usrsctp {
            let extra = [("lower", a.lower.as_ref().map(Spanned::span))]
                .into_iter()
                .chain([
                    ("udp_port", a.udp_port.as_ref().map(Spanned::span)),
                    (
                        "local_udp_port",
                        a.local_udp_port.as_ref().map(Spanned::span),
                    ),
                ]);
            for (name, span) in extra {
                if let Some(span) = span {
                    let field = format!("n3iwf.amfs.{name}");
                    self.error(&span, &field, "only with transport = \"usrsctp\"");
                }
            }
            return Some(TransportKind::Kernel);
        }
        if !udp {
            for (name, v) in [
                ("udp_port", &a.udp_port),
                ("local_udp_port", &a.local_udp_port),
            ] {
                if let Some(v) = v {
                    let field = format!("n3iwf.amfs.{name}");
                    self.error(&v.span(), &field, "only with lower = \"udp\"");
                }
            }
            return Some(TransportKind::Usrsctp(LowerLayer::RawIp));
        }
        let default = i64::from(UDP_ENCAPSULATION_PORT);
        let remote = self.int_in(
            "n3iwf.amfs.udp_port",
            a.udp_port.as_ref(),
            1,
            0xffff,
            default,
        );
        let local = self.int_in(
            "n3iwf.amfs.local_udp_port",
            a.local_udp_port.as_ref(),
            0,
            0xffff,
            default,
        );
        Some(TransportKind::Usrsctp(LowerLayer::Udp {
            local_port: u16::try_from(local).ok()?,
            remote_port: u16::try_from(remote).ok()?,
        }))
    }

    /// usrsctp keeps one stack per process: every usrsctp AMF must ask for the same lower layer
    /// and local UDP port.
    fn one_stack(
        &mut self,
        stack: &mut Option<LowerLayer>,
        lower: LowerLayer,
        raw: &Spanned<RawAmf>,
    ) {
        let local = |l: LowerLayer| match l {
            LowerLayer::RawIp => None,
            LowerLayer::Udp { local_port, .. } => Some(local_port),
        };
        match *stack {
            None => *stack = Some(lower),
            Some(first) if local(first) == local(lower) => {}
            Some(_) => {
                let a = raw.get_ref();
                let span = span_or(a.lower.as_ref(), &raw.span());
                self.error(&span, "n3iwf.amfs.lower", "every AMF on usrsctp must use the same lower layer and local_udp_port: usrsctp runs one stack per process");
            }
        }
    }
}
