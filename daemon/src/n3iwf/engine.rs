//! Engine events as core inputs, and the core's EAP answers as engine steps.

use std::net::SocketAddr;
use std::time::Instant;

use ::n3iwf::node::IkeSaGone;
use ::n3iwf::{EapAnswer, EapSuccess, IkeSaRef};
use ikev2::{CloseReason, ConfigReply, EapStep, Error, FinalAuthReply, SaId, StatusNotify};
use ipsec_crypto::SecretBytes;

use super::N3iwfGlue;

impl N3iwfGlue {
    /// `Event::EapStarted` of the N3IWF's connection: a UE's first IKE_AUTH request (no AUTH),
    /// from its outer address (after any NAT).
    pub(crate) fn eap_started(&mut self, sa: SaId, outer: SocketAddr, now: Instant) {
        self.ues.insert(sa, None);
        self.core.handle_eap_started(IkeSaRef::from(sa), outer, now);
    }

    /// `Event::EapMessage`: the UE's EAP Response. Never logged (it carries NAS).
    pub(crate) fn eap_message(&mut self, sa: SaId, message: &[u8], now: Instant) {
        self.core
            .handle_eap_message(IkeSaRef::from(sa), message, now);
    }

    /// Whether `sa` is a UE's IKE SA.
    pub(crate) fn has_ue(&self, sa: SaId) -> bool {
        self.ues.contains_key(&sa)
    }

    /// The UE's first Child SA (the signalling SA) is installed in the datapath: the final
    /// IKE_AUTH is done.
    pub(crate) fn signalling_sa_up(&mut self, sa: SaId, now: Instant) {
        if self.has_ue(sa) {
            self.core.handle_signalling_sa_up(IkeSaRef::from(sa), now);
        }
    }

    /// `Event::IkeSaFailed`: kept for the close that follows.
    pub(crate) fn ike_sa_failed(&mut self, sa: SaId, error: &Error) {
        if let Some(why) = self.ues.get_mut(&sa) {
            *why = Some(gone_by_error(error));
        }
    }

    /// `Event::IkeSaClosed`. A rekeyed SA is not gone: its successor was reported with
    /// `Event::IkeSaRekeyed`.
    pub(crate) fn ike_sa_closed(&mut self, sa: SaId, reason: CloseReason, now: Instant) {
        if reason == CloseReason::Rekeyed {
            self.ues.remove(&sa);
            return;
        }
        let Some(failure) = self.ues.remove(&sa) else {
            return;
        };
        let why = match reason {
            CloseReason::Peer | CloseReason::PeerRestarted => IkeSaGone::DeletedByUe,
            CloseReason::Local => IkeSaGone::Local,
            _ => failure.unwrap_or(IkeSaGone::Failed),
        };
        self.core.handle_ike_sa_closed(IkeSaRef::from(sa), why, now);
    }

    /// `Event::IkeSaRekeyed`: the UE goes by its new IKE SA.
    pub(crate) fn ike_sa_rekeyed(&mut self, old: SaId, new: SaId, now: Instant) {
        if self.ues.remove(&old).is_some() {
            self.ues.insert(new, None);
            self.core
                .handle_ike_sa_rekeyed(IkeSaRef::from(old), IkeSaRef::from(new), now);
        }
    }

    /// `Event::PeerAddressChanged`: a NAT rebinding of the UE.
    pub(crate) fn peer_moved(&mut self, sa: SaId, remote: SocketAddr, now: Instant) {
        if self.has_ue(sa) {
            self.core
                .handle_ue_address_changed(IkeSaRef::from(sa), remote, now);
        }
    }
}

/// The engine's step for the core's answer to one EAP packet.
pub(crate) fn eap_step(answer: EapAnswer) -> EapStep {
    match answer {
        EapAnswer::Request(octets) => EapStep::Message(octets),
        EapAnswer::Success(success) => success_step(*success),
        EapAnswer::Failure => EapStep::Failure,
    }
}

/// EAP-Success for the final IKE_AUTH exchange (TS 24.502 §7.3.2): KN3IWF is the MSK of both
/// AUTH payloads (TS 33.501 §7.2.1); the response carries CP(CFG_REPLY) with the UE's inner
/// address and netmask (when the UE asked), the NAS_IP4_ADDRESS and NAS_TCP_PORT notifies, and
/// the signalling Child SA's UE-side selector narrowed to that address/32.
pub(crate) fn success_step(success: EapSuccess) -> EapStep {
    let msk = SecretBytes::from_slice(success.msk.dangerous_as_bytes());
    let reply = FinalAuthReply {
        config: Some(ConfigReply {
            internal_ip4: Some(success.internal_address),
            internal_netmask: Some(success.internal_netmask),
        }),
        notifies: status_notifies(&success),
        narrow_remote_ts: Some(success.internal_address),
    };
    EapStep::Success {
        msk: Some(msk),
        reply,
    }
}

/// The 3GPP notifies of EAP-Success in their TS 24.502 §9.2 layouts.
fn status_notifies(success: &EapSuccess) -> Vec<StatusNotify> {
    success
        .notifies()
        .iter()
        .filter_map(|n| match n.data() {
            Ok(data) => Some(StatusNotify {
                notify_type: n.notify_type().0,
                data,
            }),
            Err(e) => {
                tracing::error!(error = %e, "3GPP notify not encodable; left out");
                None
            }
        })
        .collect()
}

/// Why a UE's IKE SA failed, as the core distinguishes it.
fn gone_by_error(error: &Error) -> IkeSaGone {
    match error {
        Error::Timeout => IkeSaGone::UeUnreachable,
        Error::AuthenticationFailed(_) => IkeSaGone::AuthenticationFailed,
        _ => IkeSaGone::Failed,
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use ::n3iwf::ngap::SecurityKey;

    use super::*;

    #[test]
    fn answers_map_to_engine_steps_and_the_msk_is_kn3iwf() {
        assert!(matches!(
            eap_step(EapAnswer::Request(vec![1, 2, 3])),
            EapStep::Message(m) if m == [1, 2, 3]
        ));
        assert!(matches!(eap_step(EapAnswer::Failure), EapStep::Failure));
        let success = EapSuccess {
            msk: SecurityKey::new([0x5a; 32]),
            internal_address: Ipv4Addr::new(10, 45, 0, 2),
            internal_netmask: Ipv4Addr::new(255, 255, 255, 0),
            nas_address: Ipv4Addr::new(10, 45, 0, 1),
            nas_tcp_port: 20_000,
        };
        let EapStep::Success {
            msk: Some(msk),
            reply,
        } = eap_step(EapAnswer::Success(Box::new(success)))
        else {
            panic!("not a success with an MSK");
        };
        assert_eq!(msk.expose(), &[0x5a; 32]);
        let config = reply.config.expect("CFG_REPLY");
        assert_eq!(config.internal_ip4, Some(Ipv4Addr::new(10, 45, 0, 2)));
        assert_eq!(
            config.internal_netmask,
            Some(Ipv4Addr::new(255, 255, 255, 0))
        );
        assert_eq!(reply.narrow_remote_ts, Some(Ipv4Addr::new(10, 45, 0, 2)));
        let notifies: Vec<_> = reply
            .notifies
            .iter()
            .map(|n| (n.notify_type, n.data.as_slice()))
            .collect();
        // NAS_IP4_ADDRESS (55502) and NAS_TCP_PORT (55506), TS 24.502 §9.2.
        assert_eq!(
            notifies,
            [
                (55_502, &[10, 45, 0, 1][..]),
                (55_506, &20_000u16.to_be_bytes()[..])
            ]
        );
    }

    #[test]
    fn failures_map_to_the_cores_reasons() {
        assert_eq!(gone_by_error(&Error::Timeout), IkeSaGone::UeUnreachable);
        assert_eq!(
            gone_by_error(&Error::AuthenticationFailed("x")),
            IkeSaGone::AuthenticationFailed
        );
        assert_eq!(gone_by_error(&Error::NoProposalChosen), IkeSaGone::Failed);
    }
}
