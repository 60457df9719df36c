//! Legacy algorithms in a listed proposal: SHA-1 (AUTH_HMAC_SHA1_96, PRF_HMAC_SHA1), which
//! only peers such as free5GC's UE still need. No default proposal names them, so they are in
//! effect only where the operator lists them; the load then says which ones, once per proposal.

use ikev2::ProposalSpec;
use ikev2::wire::{IntegId, KeId, PrfId};
use toml::Spanned;

use super::load::Validator;
use super::policy::is_mlkem;

impl Validator<'_> {
    /// Warns when `spec` (the proposal `text` of `field`) names SHA-1, and says so too when its
    /// only key exchange is classical MODP, as in free5GC's `aes256-sha1-modp2048`.
    pub(super) fn legacy_warning(
        &mut self,
        field: &str,
        text: &Spanned<String>,
        spec: &ProposalSpec,
    ) {
        let names = legacy_names(spec);
        if names.is_empty() {
            return;
        }
        let msg = format!(
            "'{}' names legacy algorithms ({}): keep it only for peers that offer nothing better, \
             such as free5GC's UE",
            text.get_ref(),
            names.join(", ")
        );
        self.warn(&text.span(), field, &msg);
    }
}

/// The legacy algorithms of `spec`, by their RFC names; empty when it names no SHA-1.
fn legacy_names(spec: &ProposalSpec) -> Vec<&'static str> {
    let mut names = Vec::new();
    if spec.integ.contains(&IntegId::HMAC_SHA1_96) {
        names.push("HMAC-SHA1-96");
    }
    if spec.prf.contains(&PrfId::HMAC_SHA1) {
        names.push("PRF-HMAC-SHA1");
    }
    if names.is_empty() {
        return names;
    }
    let kes = spec.ke.iter().flatten();
    if !kes.clone().any(|k| is_mlkem(*k)) && kes.clone().any(|k| *k == KeId::MODP_2048) {
        names.push("MODP-2048 without ML-KEM, not post-quantum");
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha1_is_named_and_modp_only_without_ml_kem() {
        let ike = |s: &str| legacy_names(&ProposalSpec::parse_ike(s).expect(s));
        assert_eq!(
            ike("aes256-sha1-modp2048"),
            [
                "HMAC-SHA1-96",
                "PRF-HMAC-SHA1",
                "MODP-2048 without ML-KEM, not post-quantum"
            ]
        );
        assert_eq!(
            ike("aes256-sha1-prfsha256-modp2048-ke1_mlkem768"),
            ["HMAC-SHA1-96"]
        );
        assert!(ike("aes256-sha256-modp2048").is_empty());
        assert!(ike("aes256gcm16-prfsha384-x25519-ke1_mlkem768").is_empty());
        let esp = legacy_names(&ProposalSpec::parse_esp("aes256-sha1").expect("esp"));
        assert_eq!(esp, ["HMAC-SHA1-96"]);
    }
}
