//! The AMF's handlers, one per received message.

use rand::Rng;

use super::{AmfEvent, AmfNas, Challenge, MAX_RESYNCHRONISATIONS, Pending, State, SubscriberDb};
use crate::aka::{home_vector, resynchronise};
use crate::identity::{FiveGGuti, FiveGTmsi, Supi};
use crate::keys;
use crate::nas::{
    AuthenticationFailure, AuthenticationReject, AuthenticationRequest, AuthenticationResponse,
    GmmCause, GmmMessage, MobileIdentity, NasSecurityAlgorithms, Ngksi, RINMR, RegistrationAccept,
    RegistrationReject, RegistrationRequest, SecurityHeaderType, SecurityModeCommand,
    SecurityModeComplete, UeSecurityCapability,
};
use crate::security::{CipheringAlgorithm, IntegrityAlgorithm, NasCount, NasSecurityContext, Role};
use crate::values::{Abba, Rand};

impl AmfNas {
    pub(super) fn on_registration_request(
        &mut self,
        db: &mut SubscriberDb,
        request: RegistrationRequest,
    ) -> Vec<AmfEvent> {
        if let Some(cause) = self.config.faults.registration_reject {
            return self.reject(cause);
        }
        let supi = match &request.identity {
            MobileIdentity::Suci(suci) => suci.to_supi(),
            _ => None,
        };
        let Some(supi) = supi.filter(|supi| db.get(supi).is_some()) else {
            // Unknown subscriber or an identity the emulator cannot resolve (no SIDF keys, no
            // GUTI context): TS 24.501 §5.5.1.2.5 cause #9 asks the UE to register with SUCI.
            return self.reject(GmmCause::UE_IDENTITY_NOT_DERIVED);
        };
        if request.ue_security_capability.is_none() {
            return self.reject(GmmCause::PROTOCOL_ERROR);
        }
        let ngksi = Ngksi::native(self.next_ksi);
        self.next_ksi = (self.next_ksi + 1) % 7;
        self.challenge(db, supi, request, ngksi, 0)
    }

    /// Sends AUTHENTICATION REQUEST with a new vector.
    fn challenge(
        &mut self,
        db: &mut SubscriberDb,
        supi: Supi,
        request: RegistrationRequest,
        ngksi: Ngksi,
        resynchronisations: u8,
    ) -> Vec<AmfEvent> {
        let Some(subscriber) = db.get_mut(&supi) else {
            return self.reject(GmmCause::UE_IDENTITY_NOT_DERIVED);
        };
        let Some(sqn) = subscriber.next_sqn() else {
            return self.reject(GmmCause::PROTOCOL_ERROR);
        };
        let rand = Rand(self.rng.r#gen());
        let vector = home_vector(
            subscriber.milenage(),
            rand,
            sqn,
            subscriber.amf_field(),
            &self.snn,
        );
        let message = GmmMessage::AuthenticationRequest(AuthenticationRequest {
            ngksi,
            abba: Abba::current(),
            rand: Some(vector.rand),
            autn: Some(vector.autn),
            other_ies: Vec::new(),
        });
        let challenge = Challenge {
            supi,
            request,
            vector,
            ngksi,
            resynchronisations,
        };
        self.state = State::Authenticating(Box::new(challenge));
        vec![AmfEvent::Downlink(plain(&message))]
    }

    pub(super) fn on_authentication_response(
        &mut self,
        challenge: Challenge,
        response: AuthenticationResponse,
    ) -> Vec<AmfEvent> {
        let Some(res_star) = response.res_star else {
            return self.authentication_reject();
        };
        // SEAF check (HRES* against HXRES*), then AUSF check (RES* against XRES*).
        let seaf_ok =
            keys::hres_star(&challenge.vector.rand, &res_star).ct_eq(&challenge.vector.hxres_star);
        if !seaf_ok || !res_star.ct_eq(&challenge.vector.xres_star) {
            return self.authentication_reject();
        }
        let capability = challenge.request.ue_security_capability.clone();
        let Some(algorithms) = capability.as_ref().and_then(select_algorithms) else {
            return self.reject(GmmCause::UE_SECURITY_CAPABILITIES_MISMATCH);
        };
        let kseaf = keys::kseaf(&challenge.vector.kausf, &self.snn);
        let kamf = keys::kamf(&kseaf, &challenge.supi, &Abba::current());
        match NasSecurityContext::new(Role::Amf, kamf, challenge.ngksi, algorithms) {
            Ok(context) => self.security = Some(context),
            Err(_) => return self.reject(GmmCause::UE_SECURITY_CAPABILITIES_MISMATCH),
        }
        self.security_mode_command(
            challenge,
            algorithms,
            capability.unwrap_or_else(|| UeSecurityCapability::new(0, 0)),
        )
    }

    fn security_mode_command(
        &mut self,
        challenge: Challenge,
        algorithms: NasSecurityAlgorithms,
        capability: UeSecurityCapability,
    ) -> Vec<AmfEvent> {
        let command = GmmMessage::SecurityModeCommand(SecurityModeCommand {
            algorithms,
            ngksi: challenge.ngksi,
            replayed_capability: capability,
            additional_security_information: Some(RINMR),
            other_ies: Vec::new(),
        });
        match self.protect(&command, SecurityHeaderType::IntegrityProtectedNewContext) {
            Ok(pdu) => {
                let pending = Pending {
                    supi: challenge.supi,
                    request: challenge.request,
                };
                self.state = State::SecurityMode(Box::new(pending));
                vec![AmfEvent::Downlink(pdu)]
            }
            Err(_) => vec![AmfEvent::Failed(GmmCause::PROTOCOL_ERROR)],
        }
    }

    pub(super) fn on_authentication_failure(
        &mut self,
        db: &mut SubscriberDb,
        challenge: Challenge,
        failure: AuthenticationFailure,
    ) -> Vec<AmfEvent> {
        if failure.cause != GmmCause::SYNCH_FAILURE
            || challenge.resynchronisations >= MAX_RESYNCHRONISATIONS
        {
            return vec![AmfEvent::Failed(failure.cause)];
        }
        let Some(subscriber) = db.get_mut(&challenge.supi) else {
            return vec![AmfEvent::Failed(failure.cause)];
        };
        let sqn_ms = failure
            .auts
            .and_then(|auts| resynchronise(subscriber.milenage(), &challenge.vector.rand, &auts));
        let Some(sqn_ms) = sqn_ms else {
            return vec![AmfEvent::Failed(failure.cause)];
        };
        subscriber.resync(sqn_ms);
        let Challenge {
            supi,
            request,
            ngksi,
            resynchronisations,
            ..
        } = challenge;
        self.challenge(db, supi, request, ngksi, resynchronisations + 1)
    }

    pub(super) fn on_security_mode_complete(
        &mut self,
        pending: Pending,
        complete: SecurityModeComplete,
        uplink_count: NasCount,
    ) -> Vec<AmfEvent> {
        let request = complete
            .nas_message_container
            .and_then(|container| match GmmMessage::decode(&container) {
                Ok(GmmMessage::RegistrationRequest(full)) => Some(full),
                _ => None,
            })
            .unwrap_or(pending.request);
        let guti = FiveGGuti {
            plmn: self.config.plmn,
            amf_id: self.config.amf_id,
            tmsi: FiveGTmsi(self.rng.r#gen()),
        };
        let accept = GmmMessage::RegistrationAccept(RegistrationAccept {
            result: RegistrationAccept::RESULT_NON_3GPP,
            guti: Some(MobileIdentity::Guti(guti)),
            allowed_nssai: Some(self.config.allowed_nssai.clone()),
            t3512: None,
            non_3gpp_deregistration_timer: None,
            other_ies: Vec::new(),
        });
        let Ok(registration_accept) =
            self.protect(&accept, SecurityHeaderType::IntegrityProtectedAndCiphered)
        else {
            return vec![AmfEvent::Failed(GmmCause::PROTOCOL_ERROR)];
        };
        let Some(context) = self.security.as_ref() else {
            return vec![AmfEvent::Failed(GmmCause::PROTOCOL_ERROR)];
        };
        let initial = super::InitialContext {
            kn3iwf: context.kn3iwf(uplink_count),
            uplink_count,
            ue_security_capability: request
                .ue_security_capability
                .unwrap_or_else(|| UeSecurityCapability::new(0, 0)),
            allowed_nssai: self.config.allowed_nssai.clone(),
            guti,
            registration_accept,
        };
        self.state = State::WaitingComplete {
            supi: pending.supi,
            guti,
        };
        vec![AmfEvent::ContextReady(Box::new(initial))]
    }

    pub(super) fn on_deregistration(&mut self, switch_off: bool) -> Vec<AmfEvent> {
        let mut events = Vec::new();
        if !switch_off {
            match self.protect(
                &GmmMessage::DeregistrationAccept,
                SecurityHeaderType::IntegrityProtectedAndCiphered,
            ) {
                Ok(pdu) => events.push(AmfEvent::Downlink(pdu)),
                Err(_) => return vec![AmfEvent::Failed(GmmCause::PROTOCOL_ERROR)],
            }
        }
        self.state = State::Finished;
        events.push(AmfEvent::Deregistered { switch_off });
        events
    }

    fn reject(&mut self, cause: GmmCause) -> Vec<AmfEvent> {
        self.state = State::Finished;
        let message = GmmMessage::RegistrationReject(RegistrationReject {
            cause,
            other_ies: Vec::new(),
        });
        vec![
            AmfEvent::Downlink(plain(&message)),
            AmfEvent::RegistrationRejected(cause),
        ]
    }

    fn authentication_reject(&mut self) -> Vec<AmfEvent> {
        self.state = State::Finished;
        let message = GmmMessage::AuthenticationReject(AuthenticationReject::default());
        vec![
            AmfEvent::Downlink(plain(&message)),
            AmfEvent::AuthenticationRejected,
        ]
    }
}

/// NIA2 is required; NEA2 when the UE has it, else NEA0.
fn select_algorithms(capability: &UeSecurityCapability) -> Option<NasSecurityAlgorithms> {
    if !capability.supports_integrity(IntegrityAlgorithm::Nia2) {
        return None;
    }
    let ciphering = if capability.supports_ciphering(CipheringAlgorithm::Nea2) {
        CipheringAlgorithm::Nea2
    } else {
        CipheringAlgorithm::Nea0
    };
    Some(NasSecurityAlgorithms {
        ciphering,
        integrity: IntegrityAlgorithm::Nia2,
    })
}

/// Messages the AMF builds encode; the codec refuses only over-long values.
fn plain(message: &GmmMessage) -> Vec<u8> {
    message.encode().unwrap_or_default()
}
