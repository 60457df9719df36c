//! The RFC 9242 §3.3.2 IntAuth chain over IKE_INTERMEDIATE messages.

use crate::wire::MessageId;
use ipsec_crypto::{Prf, SecretBytes};

/// Accumulates `IntAuth_iN` (over the initiator's requests) and `IntAuth_rN` (over the
/// responder's responses).
pub(crate) struct IntAuthChain {
    i: Option<Vec<u8>>,
    r: Option<Vec<u8>>,
}

impl IntAuthChain {
    pub(crate) fn new() -> Self {
        Self { i: None, r: None }
    }

    /// Folds in one IKE_INTERMEDIATE request: `IntAuth_ik = prf(SK_pi, IntAuth_i(k-1) | A | P)`,
    /// where `authenticated` is A (with adjusted lengths) and `plaintext` is P.
    pub(crate) fn add_request(&mut self, prf: &dyn Prf, sk_pi: &SecretBytes, a: &[u8], p: &[u8]) {
        Self::fold(&mut self.i, prf, sk_pi, a, p);
    }

    /// Folds in one IKE_INTERMEDIATE response, keyed with SK_pr.
    pub(crate) fn add_response(&mut self, prf: &dyn Prf, sk_pr: &SecretBytes, a: &[u8], p: &[u8]) {
        Self::fold(&mut self.r, prf, sk_pr, a, p);
    }

    /// `IntAuth = IntAuth_iN | IntAuth_rN | IKE_AUTH_MID`, or empty when there was no
    /// IKE_INTERMEDIATE exchange.
    pub(crate) fn finish(&self, ike_auth_mid: MessageId) -> Vec<u8> {
        match (&self.i, &self.r) {
            (Some(i), Some(r)) => {
                let mut out = Vec::with_capacity(i.len() + r.len() + 4);
                out.extend_from_slice(i);
                out.extend_from_slice(r);
                out.extend_from_slice(&ike_auth_mid.0.to_be_bytes());
                out
            }
            _ => Vec::new(),
        }
    }

    fn fold(acc: &mut Option<Vec<u8>>, prf: &dyn Prf, key: &SecretBytes, a: &[u8], p: &[u8]) {
        let mut out = vec![0; prf.output_len()];
        let keyed = prf.key(key.expose());
        match acc {
            Some(prev) => keyed.compute(&[prev, a, p], &mut out),
            None => keyed.compute(&[a, p], &mut out),
        }
        *acc = Some(out);
    }
}
