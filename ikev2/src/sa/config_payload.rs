//! The configuration payload and private-use status notifies of IKE_AUTH (RFC 7296 §3.15,
//! §3.10.1): the initiator's CFG_REQUEST, the responder's CFG_REPLY and notifies after EAP
//! ([`FinalAuthReply`]), and what the initiator takes from the final response.
//!
//! The responder answers CFG_REPLY only to a CFG_REQUEST, in the first or the last IKE_AUTH
//! request; narrowing of the first Child SA applies whether or not the initiator asked.

use std::net::{IpAddr, Ipv4Addr};

use super::{Ctx, IkeSa};
use crate::auth_reply::{
    ConfigReply, FinalAuthReply, MAX_STATUS_NOTIFIES, MAX_STATUS_NOTIFY_DATA, StatusNotify,
};
use crate::event::Event;
use crate::stats::Stats;
use crate::wire::{
    CfgAttrType, CfgAttribute, CfgType, Configuration, IpSelector, Notify, NotifyType, Payload,
};

/// Initiator: CP(CFG_REQUEST) with an empty INTERNAL_IP4_ADDRESS (RFC 7296 §3.15.1).
pub(super) fn cfg_request_ip4() -> Payload {
    Payload::Cp(Configuration {
        cfg_type: CfgType::CFG_REQUEST,
        attributes: vec![CfgAttribute {
            attr_type: CfgAttrType::INTERNAL_IP4_ADDRESS,
            value: Vec::new(),
        }],
    })
}

/// Whether `payloads` hold a CP(CFG_REQUEST).
pub(super) fn has_cfg_request(payloads: &[Payload]) -> bool {
    payloads
        .iter()
        .any(|p| matches!(p, Payload::Cp(c) if c.cfg_type == CfgType::CFG_REQUEST))
}

/// Responder: the CP(CFG_REPLY), when the initiator `requested` one and the driver gave
/// something to put in it, then the driver's private-use status notifies.
pub(super) fn final_reply_payloads(reply: &FinalAuthReply, requested: bool) -> Vec<Payload> {
    let cp = reply.config.filter(|_| requested).and_then(cfg_reply);
    let notifies = reply.notifies.iter().filter_map(|n| {
        if n.is_private_status() {
            let t = NotifyType(n.notify_type);
            return Some(Payload::Notify(Notify::new(t, n.data.clone())));
        }
        tracing::warn!(
            notify_type = n.notify_type,
            "not a private-use status notify; not sent"
        );
        None
    });
    cp.into_iter().chain(notifies).collect()
}

fn cfg_reply(config: ConfigReply) -> Option<Payload> {
    let address = config.internal_ip4?;
    let mut attributes = vec![ip4_attribute(CfgAttrType::INTERNAL_IP4_ADDRESS, address)];
    if let Some(mask) = config.internal_netmask {
        attributes.push(ip4_attribute(CfgAttrType::INTERNAL_IP4_NETMASK, mask));
    }
    Some(Payload::Cp(Configuration {
        cfg_type: CfgType::CFG_REPLY,
        attributes,
    }))
}

fn ip4_attribute(attr_type: CfgAttrType, a: Ipv4Addr) -> CfgAttribute {
    CfgAttribute {
        attr_type,
        value: a.octets().to_vec(),
    }
}

/// `a`/32, all protocols and ports: the limit of a narrowed remote selector.
pub(super) fn host_selector(a: Ipv4Addr) -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: u16::MAX,
        start_addr: IpAddr::V4(a),
        end_addr: IpAddr::V4(a),
    }
}

impl IkeSa {
    /// Initiator: [`Event::AuthReply`] from the authenticated final IKE_AUTH response, when it
    /// carries a CP or private-use status notifies.
    pub(super) fn report_auth_reply(&self, payloads: &[Payload], ctx: &mut Ctx<'_>) {
        let config = read_config(payloads, ctx.stats);
        let notifies = read_status_notifies(payloads, &mut ctx.stats.auth_reply_notifies_dropped);
        if config.is_some() || !notifies.is_empty() {
            ctx.events.push_back(Event::AuthReply {
                sa: self.id,
                config,
                notifies,
            });
        }
    }
}

/// The initiator's reading of an authenticated final IKE_AUTH response: its CFG_REPLY, its
/// private-use status notifies, and the counters that reading moved. For the fuzz target.
#[cfg(fuzzing)]
pub fn read_final_reply(payloads: &[Payload]) -> (Option<ConfigReply>, Vec<StatusNotify>, Stats) {
    let mut stats = Stats::default();
    let config = read_config(payloads, &mut stats);
    let notifies = read_status_notifies(payloads, &mut stats.auth_reply_notifies_dropped);
    (config, notifies, stats)
}

/// The responder's reading of the status notifies of a CREATE_CHILD_SA request for a new Child
/// SA ([`ChildSa::peer_notifies`](crate::ChildSa::peer_notifies)) and how many it dropped. For
/// the fuzz target.
#[cfg(fuzzing)]
pub fn read_child_notifies(payloads: &[Payload]) -> (Vec<StatusNotify>, u64) {
    let mut dropped = 0;
    let kept = read_status_notifies(payloads, &mut dropped);
    (kept, dropped)
}

/// The first CP of the response as a CFG_REPLY; a malformed one, and any further CP, is
/// counted and ignored.
fn read_config(payloads: &[Payload], stats: &mut Stats) -> Option<ConfigReply> {
    let mut cps = payloads.iter().filter_map(|p| match p {
        Payload::Cp(c) => Some(c),
        _ => None,
    });
    let first = cps.next()?;
    let extra = cps.count();
    stats.auth_reply_malformed_cp += extra as u64;
    let reply = parse_cfg_reply(first);
    if reply.is_none() {
        stats.auth_reply_malformed_cp += 1;
    }
    reply
}

/// The attributes we understand of a CFG_REPLY; `None` when it is another CFG type, or an
/// IPv4 attribute is not 4 octets, repeated, or the netmask is not contiguous. Other
/// attributes are skipped.
fn parse_cfg_reply(cp: &Configuration) -> Option<ConfigReply> {
    if cp.cfg_type != CfgType::CFG_REPLY {
        return None;
    }
    let mut reply = ConfigReply::default();
    for attribute in &cp.attributes {
        let slot = match attribute.attr_type {
            CfgAttrType::INTERNAL_IP4_ADDRESS => &mut reply.internal_ip4,
            CfgAttrType::INTERNAL_IP4_NETMASK => &mut reply.internal_netmask,
            _ => continue,
        };
        let octets: [u8; 4] = attribute.value.as_slice().try_into().ok()?;
        if slot.replace(Ipv4Addr::from(octets)).is_some() {
            return None;
        }
    }
    let contiguous = |m: Ipv4Addr| {
        let m = u32::from(m);
        m.leading_ones() + m.trailing_zeros() == 32
    };
    reply
        .internal_netmask
        .is_none_or(contiguous)
        .then_some(reply)
}

/// The private-use status notifies, in order, up to [`MAX_STATUS_NOTIFIES`] of at most
/// [`MAX_STATUS_NOTIFY_DATA`] octets each; the rest are counted in `dropped` and dropped.
pub(super) fn read_status_notifies(payloads: &[Payload], dropped: &mut u64) -> Vec<StatusNotify> {
    let mut kept = Vec::new();
    let private = payloads.iter().filter_map(|p| match p {
        Payload::Notify(n) if n.notify_type.0 >= crate::auth_reply::PRIVATE_STATUS_MIN => Some(n),
        _ => None,
    });
    for n in private {
        if kept.len() >= MAX_STATUS_NOTIFIES || n.data.len() > MAX_STATUS_NOTIFY_DATA {
            *dropped += 1;
            continue;
        }
        kept.push(StatusNotify {
            notify_type: n.notify_type.0,
            data: n.data.clone(),
        });
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(cfg_type: CfgType, attributes: &[(CfgAttrType, &[u8])]) -> Configuration {
        Configuration {
            cfg_type,
            attributes: attributes
                .iter()
                .map(|(attr_type, value)| CfgAttribute {
                    attr_type: *attr_type,
                    value: value.to_vec(),
                })
                .collect(),
        }
    }

    #[test]
    fn reads_address_and_netmask_and_skips_other_attributes() {
        let reply = parse_cfg_reply(&cp(
            CfgType::CFG_REPLY,
            &[
                (CfgAttrType::INTERNAL_IP4_DNS, &[8, 8, 8, 8]),
                (CfgAttrType::INTERNAL_IP4_ADDRESS, &[10, 45, 0, 2]),
                (CfgAttrType::INTERNAL_IP4_NETMASK, &[255, 255, 255, 0]),
            ],
        ));
        assert_eq!(
            reply,
            Some(ConfigReply {
                internal_ip4: Some(Ipv4Addr::new(10, 45, 0, 2)),
                internal_netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            })
        );
    }

    #[test]
    fn malformed_replies_are_refused() {
        let address = CfgAttrType::INTERNAL_IP4_ADDRESS;
        let mask = CfgAttrType::INTERNAL_IP4_NETMASK;
        for bad in [
            cp(CfgType::CFG_REQUEST, &[(address, &[10, 0, 0, 1])]),
            cp(CfgType::CFG_REPLY, &[(address, &[])]),
            cp(CfgType::CFG_REPLY, &[(address, &[10, 0, 0, 1, 0])]),
            cp(
                CfgType::CFG_REPLY,
                &[(address, &[10, 0, 0, 1]), (address, &[10, 0, 0, 2])],
            ),
            cp(CfgType::CFG_REPLY, &[(mask, &[255, 0, 255, 0])]),
        ] {
            assert_eq!(parse_cfg_reply(&bad), None, "{bad:?}");
        }
        let mut stats = Stats::default();
        let payloads = [
            Payload::Cp(cp(CfgType::CFG_REPLY, &[(address, &[1])])),
            Payload::Cp(cp(CfgType::CFG_REPLY, &[(address, &[10, 0, 0, 1])])),
        ];
        assert_eq!(read_config(&payloads, &mut stats), None);
        assert_eq!(stats.auth_reply_malformed_cp, 2);
    }

    #[test]
    fn reply_only_when_requested_and_only_private_status_notifies() {
        let reply = FinalAuthReply {
            config: Some(ConfigReply {
                internal_ip4: Some(Ipv4Addr::new(10, 45, 0, 2)),
                internal_netmask: None,
            }),
            notifies: vec![
                StatusNotify {
                    notify_type: 55_502,
                    data: vec![10, 45, 0, 1],
                },
                StatusNotify {
                    notify_type: NotifyType::INITIAL_CONTACT.0,
                    data: Vec::new(),
                },
            ],
            narrow_remote_ts: None,
        };
        let sent = final_reply_payloads(&reply, true);
        assert!(
            matches!(&sent[..], [Payload::Cp(_), Payload::Notify(n)] if n.notify_type.0 == 55_502)
        );
        let sent = final_reply_payloads(&reply, false);
        assert!(matches!(&sent[..], [Payload::Notify(_)]));
    }

    /// The payloads a N3IWF adds to its final IKE_AUTH response (TS 24.502 §7.3.2), as our
    /// emitter writes them and our parser reads them back.
    #[test]
    fn final_reply_golden_bytes() {
        let reply = FinalAuthReply {
            config: Some(ConfigReply {
                internal_ip4: Some(Ipv4Addr::new(10, 45, 0, 2)),
                internal_netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            }),
            notifies: vec![
                StatusNotify {
                    notify_type: 55_502,
                    data: vec![10, 45, 0, 1],
                },
                StatusNotify {
                    notify_type: 55_506,
                    data: vec![0x4e, 0x20],
                },
            ],
            narrow_remote_ts: None,
        };
        let golden = [
            0x29, 0x00, 0x00, 0x18, // CP, next Notify, length 24
            0x02, 0x00, 0x00, 0x00, // CFG_REPLY
            0x00, 0x01, 0x00, 0x04, 10, 45, 0, 2, // INTERNAL_IP4_ADDRESS
            0x00, 0x02, 0x00, 0x04, 255, 255, 255, 0, // INTERNAL_IP4_NETMASK
            0x29, 0x00, 0x00, 0x0c, // Notify, next Notify, length 12
            0x00, 0x00, 0xd8, 0xce, 10, 45, 0, 1, // no SPI, NAS_IP4_ADDRESS (55502)
            0x00, 0x00, 0x00, 0x0a, // Notify, last, length 10
            0x00, 0x00, 0xd8, 0xd2, 0x4e, 0x20, // NAS_TCP_PORT (55506): 20000
        ];
        let payloads = final_reply_payloads(&reply, true);
        let mut bytes = Vec::new();
        let first = crate::wire::emit_payloads(&payloads, &mut bytes);
        assert_eq!(first, crate::wire::PayloadType::CP);
        assert_eq!(bytes, golden);
        let parsed = crate::wire::parse_payloads(first, &golden).expect("parses");
        let mut stats = Stats::default();
        assert_eq!(read_config(&parsed, &mut stats), reply.config);
        assert_eq!(
            read_status_notifies(&parsed, &mut stats.auth_reply_notifies_dropped),
            reply.notifies
        );
        assert_eq!(stats, Stats::default());
    }
}
