//! The UE's handlers, one per received message.

use super::UeNas;
use crate::aka::AutnCheck;
use crate::identity::FiveGGuti;
use crate::keys;
use crate::nas::{
    AuthenticationFailure, AuthenticationRequest, AuthenticationResponse, GmmCause, GmmMessage,
    MobileIdentity, NasPdu, NasTransport, ProtectedPdu, RINMR, RegistrationAccept,
    RegistrationComplete, SecurityHeaderType, SecurityModeCommand, SecurityModeComplete,
    SecurityModeReject,
};
use crate::security::{NasSecurityContext, Role, SecurityError};
use crate::values::Abba;

/// An event from [`UeNas::handle_downlink`].
pub enum UeEvent {
    /// A NAS PDU for the network.
    Uplink(Vec<u8>),
    /// SECURITY MODE COMPLETE was sent; KN3IWF is available ([`UeNas::kn3iwf`]).
    SecurityEstablished,
    /// REGISTRATION ACCEPT received (REGISTRATION COMPLETE sent when a GUTI came with it).
    Registered(Option<FiveGGuti>),
    /// REGISTRATION REJECT received.
    RegistrationRejected(GmmCause),
    /// AUTHENTICATION REJECT received.
    AuthenticationRejected,
    /// The UE refused the network's challenge with this cause (AUTHENTICATION FAILURE sent).
    AuthenticationRefused(GmmCause),
    /// The UE refused the security mode (SECURITY MODE REJECT sent).
    SecurityModeRefused(GmmCause),
    /// DEREGISTRATION ACCEPT received.
    Deregistered,
    /// DL NAS TRANSPORT received, other than a 5GSM message of a PDU session procedure.
    DownlinkTransport(NasTransport),
    /// PDU SESSION ESTABLISHMENT ACCEPT received for a session the UE asked for.
    PduSessionEstablished(super::UePduSession),
    /// PDU SESSION ESTABLISHMENT REJECT received.
    PduSessionRejected {
        id: n3iwf::ids::PduSessionId,
        cause: crate::nas::sm::SmCause,
    },
    /// PDU SESSION RELEASE REJECT received: the session stays.
    PduSessionReleaseRefused {
        id: n3iwf::ids::PduSessionId,
        cause: crate::nas::sm::SmCause,
    },
    /// PDU SESSION RELEASE COMMAND received (RELEASE COMPLETE sent before this).
    PduSessionReleased {
        id: n3iwf::ids::PduSessionId,
        cause: crate::nas::sm::SmCause,
    },
    /// A message was dropped: undecodable, failing its MAC, replayed, or unexpected.
    Dropped(&'static str),
}

impl UeNas {
    /// Handles one downlink NAS PDU.
    pub fn handle_downlink(&mut self, pdu: &[u8]) -> Vec<UeEvent> {
        match NasPdu::decode(pdu) {
            Ok(NasPdu::Plain(message)) => self.on_plain(message),
            Ok(NasPdu::Protected(protected)) if protected.header_type.is_new_context() => {
                self.on_security_mode_command(&protected)
            }
            Ok(NasPdu::Protected(protected)) => self.on_protected(&protected),
            Err(_) => vec![UeEvent::Dropped("undecodable")],
        }
    }

    /// Plain messages the UE accepts without integrity (TS 24.501 §4.4.4.2).
    fn on_plain(&mut self, message: GmmMessage) -> Vec<UeEvent> {
        match message {
            GmmMessage::AuthenticationRequest(request) => self.on_authentication_request(request),
            GmmMessage::AuthenticationReject(_) => {
                self.security = None;
                vec![UeEvent::AuthenticationRejected]
            }
            GmmMessage::RegistrationReject(reject) => {
                vec![UeEvent::RegistrationRejected(reject.cause)]
            }
            _ => vec![UeEvent::Dropped("plain message that needs protection")],
        }
    }

    fn on_authentication_request(&mut self, request: AuthenticationRequest) -> Vec<UeEvent> {
        let (Some(rand), Some(autn)) = (request.rand, request.autn) else {
            return vec![UeEvent::Dropped(
                "authentication request without RAND and AUTN",
            )];
        };
        let (res, ck, ik) = match self.usim.check(&rand, &autn) {
            AutnCheck::Accepted { res, ck, ik } => (res, ck, ik),
            AutnCheck::MacFailure => return self.refuse_challenge(GmmCause::MAC_FAILURE, None),
            AutnCheck::NotFiveG => {
                return self.refuse_challenge(GmmCause::NON_5G_AUTHENTICATION_UNACCEPTABLE, None);
            }
            AutnCheck::SynchFailure(auts) => {
                return self.refuse_challenge(GmmCause::SYNCH_FAILURE, Some(auts));
            }
        };
        let res_star = keys::res_star(&ck, &ik, &self.snn, &rand, &res);
        let kausf = keys::kausf(&ck, &ik, &self.snn, &autn.concealed_sqn());
        let kseaf = keys::kseaf(&kausf, &self.snn);
        let abba = Abba::new(request.abba.as_bytes()).unwrap_or_else(Abba::current);
        self.pending = Some((request.ngksi, keys::kamf(&kseaf, &self.supi, &abba)));
        let response = AuthenticationResponse {
            res_star: Some(res_star),
            other_ies: Vec::new(),
        };
        uplink_plain(&GmmMessage::AuthenticationResponse(response))
    }

    fn refuse_challenge(
        &mut self,
        cause: GmmCause,
        auts: Option<crate::values::Auts>,
    ) -> Vec<UeEvent> {
        let failure = AuthenticationFailure {
            cause,
            auts,
            other_ies: Vec::new(),
        };
        let mut events = uplink_plain(&GmmMessage::AuthenticationFailure(failure));
        events.push(UeEvent::AuthenticationRefused(cause));
        events
    }

    /// SECURITY MODE COMMAND: read the algorithms from the (unciphered) payload, build the new
    /// context from the pending KAMF, check the MAC with it, then answer.
    fn on_security_mode_command(&mut self, protected: &ProtectedPdu) -> Vec<UeEvent> {
        let Ok(GmmMessage::SecurityModeCommand(command)) = GmmMessage::decode(&protected.payload)
        else {
            return vec![UeEvent::Dropped(
                "new-context header on something else than SECURITY MODE COMMAND",
            )];
        };
        let Some((ngksi, kamf)) = self
            .pending
            .take()
            .filter(|(ngksi, _)| *ngksi == command.ngksi)
        else {
            return self.refuse_security_mode(GmmCause::SECURITY_MODE_REJECTED);
        };
        let Ok(mut context) = NasSecurityContext::new(Role::Ue, kamf, ngksi, command.algorithms)
        else {
            return self.refuse_security_mode(GmmCause::UE_SECURITY_CAPABILITIES_MISMATCH);
        };
        if context.unprotect(protected).is_err() {
            return self.refuse_security_mode(GmmCause::SECURITY_MODE_REJECTED);
        }
        if command.replayed_capability != self.capability {
            return self.refuse_security_mode(GmmCause::UE_SECURITY_CAPABILITIES_MISMATCH);
        }
        self.complete_security_mode(context, &command)
    }

    fn complete_security_mode(
        &mut self,
        mut context: NasSecurityContext,
        command: &SecurityModeCommand,
    ) -> Vec<UeEvent> {
        let wants_initial = command
            .additional_security_information
            .is_some_and(|octet| octet & RINMR != 0);
        let complete = SecurityModeComplete {
            nas_message_container: wants_initial.then(|| self.initial_request.clone()),
            other_ies: Vec::new(),
        };
        let Some(uplink_count) = context.next_send_count() else {
            return vec![UeEvent::Dropped("NAS COUNT exhausted")];
        };
        let header = SecurityHeaderType::IntegrityProtectedAndCipheredNewContext;
        let Ok(pdu) = encode_protect(
            &mut context,
            &GmmMessage::SecurityModeComplete(complete),
            header,
        ) else {
            return vec![UeEvent::Dropped("SECURITY MODE COMPLETE did not encode")];
        };
        // KN3IWF uses the uplink COUNT of SECURITY MODE COMPLETE, the last uplink NAS message
        // before the AMF derives it (TS 33.501 §7.2.1, Annex A.9).
        self.kn3iwf = Some(context.kn3iwf(uplink_count));
        self.security = Some(context);
        vec![UeEvent::Uplink(pdu), UeEvent::SecurityEstablished]
    }

    fn refuse_security_mode(&mut self, cause: GmmCause) -> Vec<UeEvent> {
        let mut events = uplink_plain(&GmmMessage::SecurityModeReject(SecurityModeReject {
            cause,
        }));
        events.push(UeEvent::SecurityModeRefused(cause));
        events
    }

    fn on_protected(&mut self, protected: &ProtectedPdu) -> Vec<UeEvent> {
        let Some(context) = self.security.as_mut() else {
            return vec![UeEvent::Dropped(
                "protected message without a security context",
            )];
        };
        let verified = match context.unprotect(protected) {
            Ok(verified) => verified,
            Err(SecurityError::Replayed) => return vec![UeEvent::Dropped("replayed NAS COUNT")],
            Err(_) => return vec![UeEvent::Dropped("NAS MAC check failed")],
        };
        match GmmMessage::decode(&verified.plain) {
            Ok(GmmMessage::RegistrationAccept(accept)) => self.on_registration_accept(accept),
            Ok(GmmMessage::RegistrationReject(reject)) => {
                vec![UeEvent::RegistrationRejected(reject.cause)]
            }
            Ok(GmmMessage::DeregistrationAccept) => vec![UeEvent::Deregistered],
            Ok(GmmMessage::DlNasTransport(transport)) => self.on_downlink_transport(transport),
            Ok(_) => vec![UeEvent::Dropped("unexpected message")],
            Err(_) => vec![UeEvent::Dropped("undecodable protected payload")],
        }
    }

    fn on_registration_accept(&mut self, accept: RegistrationAccept) -> Vec<UeEvent> {
        let guti = match accept.guti {
            Some(MobileIdentity::Guti(guti)) => Some(guti),
            _ => None,
        };
        let mut events = Vec::new();
        if let Some(guti) = guti {
            self.guti = Some(guti);
            let complete = GmmMessage::RegistrationComplete(RegistrationComplete::default());
            match self.protect(&complete) {
                Ok(pdu) => events.push(UeEvent::Uplink(pdu)),
                Err(_) => {
                    return vec![UeEvent::Dropped(
                        "REGISTRATION COMPLETE could not be protected",
                    )];
                }
            }
        }
        events.push(UeEvent::Registered(guti));
        events
    }
}

fn encode_protect(
    context: &mut NasSecurityContext,
    message: &GmmMessage,
    header: SecurityHeaderType,
) -> Result<Vec<u8>, ()> {
    let plain = message.encode().map_err(|_| ())?;
    context.protect(&plain, header).map_err(|_| ())
}

fn uplink_plain(message: &GmmMessage) -> Vec<UeEvent> {
    match message.encode() {
        Ok(pdu) => vec![UeEvent::Uplink(pdu)],
        Err(_) => vec![UeEvent::Dropped("message did not encode")],
    }
}
