//! The IKE SA keys SK_d, SK_a*, SK_e*, SK_p* and how they evolve.

use ipsec_crypto::{Prf, SecretBytes};

use super::prf_plus;
use crate::wire::IkeSpi;

/// Lengths of the keys derived for an IKE SA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct KeyLengths {
    /// SK_d, SK_pi, SK_pr: the PRF output length.
    pub(crate) prf: usize,
    /// SK_ai, SK_ar: zero for an AEAD.
    pub(crate) integ: usize,
    /// SK_ei, SK_er: cipher key plus salt for an AEAD.
    pub(crate) encr: usize,
}

impl KeyLengths {
    fn total(self) -> usize {
        3 * self.prf + 2 * self.integ + 2 * self.encr
    }
}

/// `{SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr}` of one key generation.
pub(crate) struct IkeKeys {
    pub(crate) sk_d: SecretBytes,
    pub(crate) sk_ai: SecretBytes,
    pub(crate) sk_ar: SecretBytes,
    pub(crate) sk_ei: SecretBytes,
    pub(crate) sk_er: SecretBytes,
    pub(crate) sk_pi: SecretBytes,
    pub(crate) sk_pr: SecretBytes,
    lengths: KeyLengths,
}

impl IkeKeys {
    /// RFC 7296 §2.14: `SKEYSEED = prf(Ni | Nr, g^ir)`, then the keys from
    /// `prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)`.
    pub(crate) fn initial(
        prf: &dyn Prf,
        lengths: KeyLengths,
        shared: &SecretBytes,
        ni: &[u8],
        nr: &[u8],
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    ) -> Option<Self> {
        let mut nonce_key = Vec::with_capacity(ni.len() + nr.len());
        nonce_key.extend_from_slice(ni);
        nonce_key.extend_from_slice(nr);
        let mut skeyseed = SecretBytes::zeroed(prf.output_len());
        prf.key(&nonce_key)
            .compute(&[shared.expose()], skeyseed.expose_mut());
        Self::from_skeyseed(prf, lengths, &skeyseed, ni, nr, spi_i, spi_r)
    }

    /// RFC 9370 §2.2.2: after additional key exchange `n` with secret `SK(n)`,
    /// `SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr)` and all keys are derived anew.
    pub(crate) fn update_with_addke(
        &self,
        prf: &dyn Prf,
        shared: &SecretBytes,
        ni: &[u8],
        nr: &[u8],
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    ) -> Option<Self> {
        let mut skeyseed = SecretBytes::zeroed(prf.output_len());
        prf.key(self.sk_d.expose())
            .compute(&[shared.expose(), ni, nr], skeyseed.expose_mut());
        Self::from_skeyseed(prf, self.lengths, &skeyseed, ni, nr, spi_i, spi_r)
    }

    /// RFC 7296 §2.18 and RFC 9370 §2.2.4: IKE SA rekey,
    /// `SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr | SK(1) | … | SK(n))`, then the keys of
    /// the new SA from its own nonces and SPIs with its (possibly new) PRF.
    ///
    /// With `sk_d` given (RFC 9867, the `SK_d'` of [`IkeKeys::sk_d_with_ppk`]), it replaces
    /// SK_d (old) in that formula.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rekeyed(
        &self,
        old_prf: &dyn Prf,
        new_prf: &dyn Prf,
        lengths: KeyLengths,
        sk_d: Option<&SecretBytes>,
        ke: &[u8],
        additional: &[&[u8]],
        ni: &[u8],
        nr: &[u8],
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    ) -> Option<Self> {
        let mut input: Vec<&[u8]> = vec![ke, ni, nr];
        input.extend_from_slice(additional);
        let mut skeyseed = SecretBytes::zeroed(old_prf.output_len());
        old_prf
            .key(sk_d.unwrap_or(&self.sk_d).expose())
            .compute(&input, skeyseed.expose_mut());
        Self::from_skeyseed(new_prf, lengths, &skeyseed, ni, nr, spi_i, spi_r)
    }

    /// RFC 8784 §3: `SK_d' = prf+(PPK, SK_d)`, `SK_pi' = prf+(PPK, SK_pi)`,
    /// `SK_pr' = prf+(PPK, SK_pr)`; the other keys stay.
    pub(crate) fn mix_ppk_rfc8784(&mut self, prf: &dyn Prf, ppk: &SecretBytes) -> Option<()> {
        let n = self.lengths.prf;
        self.sk_d = prf_plus(prf, ppk.expose(), &[self.sk_d.expose()], n)?;
        self.sk_pi = prf_plus(prf, ppk.expose(), &[self.sk_pi.expose()], n)?;
        self.sk_pr = prf_plus(prf, ppk.expose(), &[self.sk_pr.expose()], n)?;
        Some(())
    }

    /// RFC 9867 §3: `SKEYSEED' = prf+(PPK, SK_d)` and every key derived anew from it, after the
    /// last RFC 9370 update.
    pub(crate) fn mix_ppk_rfc9867(
        &self,
        prf: &dyn Prf,
        ppk: &SecretBytes,
        ni: &[u8],
        nr: &[u8],
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    ) -> Option<Self> {
        let skeyseed = prf_plus(prf, ppk.expose(), &[self.sk_d.expose()], prf.output_len())?;
        Self::from_skeyseed(prf, self.lengths, &skeyseed, ni, nr, spi_i, spi_r)
    }

    /// RFC 9867 in CREATE_CHILD_SA (see `sa/ppk_child.rs` for what is inferred):
    /// `SK_d' = prf+(PPK, SK_d)`, the PRF key size long, used instead of SK_d for the KEYMAT or
    /// the new SKEYSEED of that one exchange. SK_d itself stays.
    pub(crate) fn sk_d_with_ppk(&self, prf: &dyn Prf, ppk: &SecretBytes) -> Option<SecretBytes> {
        prf_plus(prf, ppk.expose(), &[self.sk_d.expose()], self.lengths.prf)
    }

    /// Drops every key but SK_d once an SA is established: SK_p* were for AUTH, and the
    /// message protection holds its own copies of SK_e* and SK_a*.
    pub(crate) fn keep_only_sk_d(&mut self) {
        for k in [
            &mut self.sk_ai,
            &mut self.sk_ar,
            &mut self.sk_ei,
            &mut self.sk_er,
            &mut self.sk_pi,
            &mut self.sk_pr,
        ] {
            *k = SecretBytes::zeroed(0);
        }
    }

    fn from_skeyseed(
        prf: &dyn Prf,
        lengths: KeyLengths,
        skeyseed: &SecretBytes,
        ni: &[u8],
        nr: &[u8],
        spi_i: IkeSpi,
        spi_r: IkeSpi,
    ) -> Option<Self> {
        let spi_i = spi_i.to_be_bytes();
        let spi_r = spi_r.to_be_bytes();
        let mut all = prf_plus(
            prf,
            skeyseed.expose(),
            &[ni, nr, &spi_i, &spi_r],
            lengths.total(),
        )?;
        Some(Self {
            sk_d: all.split_prefix(lengths.prf),
            sk_ai: all.split_prefix(lengths.integ),
            sk_ar: all.split_prefix(lengths.integ),
            sk_ei: all.split_prefix(lengths.encr),
            sk_er: all.split_prefix(lengths.encr),
            sk_pi: all.split_prefix(lengths.prf),
            sk_pr: all.split_prefix(lengths.prf),
            lengths,
        })
    }
}

#[cfg(test)]
#[path = "rfc9867_vectors.rs"]
mod rfc9867_vectors;

#[cfg(test)]
#[path = "legacy_sha1_vectors.rs"]
mod legacy_sha1_vectors;
