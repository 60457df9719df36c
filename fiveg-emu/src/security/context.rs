//! A 5G NAS security context for one access (TS 33.501 §6.4, TS 24.501 §4.4): KAMF, the
//! algorithm keys, the selected algorithms and the NAS COUNTs of both directions. It protects
//! outgoing messages and checks incoming ones, refusing a failed MAC and a replayed COUNT.

use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::crypto::nas_algorithms::{AlgorithmInput, Bearer, Direction, nea2_apply, nia2_mac};
use crate::keys::{kn3iwf, knas_enc, knas_int};
use crate::nas::{NasSecurityAlgorithms, Ngksi, ProtectedPdu, SecurityHeaderType};
use crate::secret::{Kamf, Kn3iwf, KnasEnc, KnasInt};

use super::{CipheringAlgorithm, IntegrityAlgorithm, NasCount};

/// Which end holds the context: it decides the direction of each COUNT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The UE: sends uplink, receives downlink.
    Ue,
    /// The AMF: sends downlink, receives uplink.
    Amf,
}

/// Why a context refuses to protect or accept a message.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum SecurityError {
    /// The emulator implements 128-NIA2 for integrity and NEA0/128-NEA2 for ciphering only.
    #[error("algorithm not implemented by the emulator")]
    UnsupportedAlgorithm,
    /// The MAC does not verify (TS 24.501 §4.4.4: the message is discarded).
    #[error("NAS MAC check failed")]
    IntegrityFailure,
    /// The MAC verifies with a COUNT that was already accepted: a replay.
    #[error("replayed NAS COUNT")]
    Replayed,
    /// The 24-bit NAS COUNT is used up: a new context is needed.
    #[error("NAS COUNT exhausted")]
    CountExhausted,
}

/// A checked incoming message.
#[derive(Debug)]
pub struct Verified {
    /// The header type it came with.
    pub header_type: SecurityHeaderType,
    /// The plain 5GMM message octets (deciphered).
    pub plain: Vec<u8>,
    /// The NAS COUNT it was protected with.
    pub count: NasCount,
}

/// A 5G NAS security context.
pub struct NasSecurityContext {
    role: Role,
    ngksi: Ngksi,
    algorithms: NasSecurityAlgorithms,
    bearer: Bearer,
    kamf: Kamf,
    knas_int: KnasInt,
    knas_enc: KnasEnc,
    next_send: Option<NasCount>,
    last_received: Option<NasCount>,
}

impl NasSecurityContext {
    /// A new context from KAMF with both COUNTs at zero, on the non-3GPP NAS connection.
    ///
    /// # Errors
    ///
    /// [`SecurityError::UnsupportedAlgorithm`] for algorithms the emulator does not implement.
    pub fn new(
        role: Role,
        kamf: Kamf,
        ngksi: Ngksi,
        algorithms: NasSecurityAlgorithms,
    ) -> Result<Self, SecurityError> {
        let supported = algorithms.integrity == IntegrityAlgorithm::Nia2
            && matches!(
                algorithms.ciphering,
                CipheringAlgorithm::Nea0 | CipheringAlgorithm::Nea2
            );
        if !supported {
            return Err(SecurityError::UnsupportedAlgorithm);
        }
        Ok(Self {
            role,
            ngksi,
            algorithms,
            bearer: Bearer::NAS_NON_3GPP,
            knas_int: knas_int(&kamf, algorithms.integrity),
            knas_enc: knas_enc(&kamf, algorithms.ciphering),
            kamf,
            next_send: Some(NasCount::ZERO),
            last_received: None,
        })
    }

    /// Protects a plain 5GMM message with the next sending COUNT.
    ///
    /// # Errors
    ///
    /// [`SecurityError::CountExhausted`] once the COUNT has passed its maximum.
    pub fn protect(
        &mut self,
        plain: &[u8],
        header_type: SecurityHeaderType,
    ) -> Result<Vec<u8>, SecurityError> {
        let count = self.next_send.ok_or(SecurityError::CountExhausted)?;
        let input = self.input(count, self.send_direction());
        let mut payload = plain.to_vec();
        if header_type.is_ciphered() && self.algorithms.ciphering == CipheringAlgorithm::Nea2 {
            nea2_apply(self.knas_enc.dangerous_as_bytes(), &input, &mut payload);
        }
        let mut pdu = ProtectedPdu {
            header_type,
            mac: [0; 4],
            sqn: count.sqn(),
            payload,
        };
        pdu.mac = nia2_mac(self.knas_int.dangerous_as_bytes(), &input, &pdu.mac_input());
        self.next_send = count.next();
        Ok(pdu.encode())
    }

    /// Checks the MAC of a received message with the estimated COUNT, refuses replays, and
    /// deciphers it. The receiving COUNT moves only when the MAC verifies.
    ///
    /// # Errors
    ///
    /// [`SecurityError::IntegrityFailure`], [`SecurityError::Replayed`] or
    /// [`SecurityError::CountExhausted`].
    pub fn unprotect(&mut self, pdu: &ProtectedPdu) -> Result<Verified, SecurityError> {
        let count =
            NasCount::estimate(self.last_received, pdu.sqn).ok_or(SecurityError::CountExhausted)?;
        if !self.mac_verifies(pdu, count) {
            return Err(self.classify_failure(pdu));
        }
        self.last_received = Some(count);
        let mut plain = pdu.payload.clone();
        if pdu.header_type.is_ciphered() && self.algorithms.ciphering == CipheringAlgorithm::Nea2 {
            let input = self.input(count, self.receive_direction());
            nea2_apply(self.knas_enc.dangerous_as_bytes(), &input, &mut plain);
        }
        Ok(Verified {
            header_type: pdu.header_type,
            plain,
            count,
        })
    }

    /// KN3IWF from this context's KAMF and an uplink NAS COUNT (TS 33.501 Annex A.9).
    pub fn kn3iwf(&self, uplink_count: NasCount) -> Kn3iwf {
        kn3iwf(&self.kamf, uplink_count)
    }

    /// The ngKSI of the context.
    pub fn ngksi(&self) -> Ngksi {
        self.ngksi
    }

    /// The selected algorithms.
    pub fn algorithms(&self) -> NasSecurityAlgorithms {
        self.algorithms
    }

    /// The COUNT the next sent message will use; `None` once exhausted.
    pub fn next_send_count(&self) -> Option<NasCount> {
        self.next_send
    }

    /// The COUNT of the last accepted message.
    pub fn last_received_count(&self) -> Option<NasCount> {
        self.last_received
    }

    /// Moves the sending COUNT (for tests of the COUNT bound and of wrap-around estimation).
    pub fn set_next_send_count(&mut self, count: NasCount) {
        self.next_send = Some(count);
    }

    /// KNASint, for tests that compare both ends.
    pub fn dangerous_knas_int(&self) -> &KnasInt {
        &self.knas_int
    }

    /// KNASenc, for tests that compare both ends.
    pub fn dangerous_knas_enc(&self) -> &KnasEnc {
        &self.knas_enc
    }

    fn mac_verifies(&self, pdu: &ProtectedPdu, count: NasCount) -> bool {
        let input = self.input(count, self.receive_direction());
        let expected = nia2_mac(self.knas_int.dangerous_as_bytes(), &input, &pdu.mac_input());
        expected.ct_eq(&pdu.mac).into()
    }

    /// A failed MAC is a replay when it verifies with a COUNT at or below the last accepted
    /// one (same overflow value, sequence number not above the last).
    fn classify_failure(&self, pdu: &ProtectedPdu) -> SecurityError {
        let Some(last) = self.last_received else {
            return SecurityError::IntegrityFailure;
        };
        let older = NasCount::new(last.overflow(), pdu.sqn);
        if older <= last && self.mac_verifies(pdu, older) {
            return SecurityError::Replayed;
        }
        SecurityError::IntegrityFailure
    }

    fn input(&self, count: NasCount, direction: Direction) -> AlgorithmInput {
        AlgorithmInput {
            count: count.value(),
            bearer: self.bearer,
            direction,
        }
    }

    fn send_direction(&self) -> Direction {
        match self.role {
            Role::Ue => Direction::Uplink,
            Role::Amf => Direction::Downlink,
        }
    }

    fn receive_direction(&self) -> Direction {
        match self.role {
            Role::Ue => Direction::Downlink,
            Role::Amf => Direction::Uplink,
        }
    }
}
