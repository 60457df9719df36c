//! EAP-AKA' keys: CK'/IK' (TS 33.402 Annex A.2 with the network name, RFC 5448 §3.3) and the
//! PRF' expansion into K_encr, K_aut, K_re, MSK and EMSK (RFC 5448 §3.3). 5G uses the serving
//! network name as network name (TS 33.501 §6.1.3.1) and the first 256 bits of EMSK as KAUSF.

use zeroize::Zeroizing;

use crate::crypto::kdf::{FunctionCode, kdf, prf_prime};
use crate::secret::{Ck, CkPrime, Emsk, Ik, IkPrime, KAut, KEncr, KRe, Msk};

/// The keys that PRF' derives from CK' and IK'.
pub struct AkaPrimeKeys {
    /// K_encr.
    pub k_encr: KEncr,
    /// K_aut.
    pub k_aut: KAut,
    /// K_re.
    pub k_re: KRe,
    /// MSK.
    pub msk: Msk,
    /// EMSK.
    pub emsk: Emsk,
}

/// CK' || IK' = KDF(CK || IK, 0x20, network name, SQN xor AK).
pub fn ck_ik_prime(
    ck: &Ck,
    ik: &Ik,
    network_name: &[u8],
    sqn_xor_ak: &[u8; 6],
) -> (CkPrime, IkPrime) {
    let mut key = Zeroizing::new([0u8; 32]);
    key[..16].copy_from_slice(ck.dangerous_as_bytes());
    key[16..].copy_from_slice(ik.dangerous_as_bytes());
    let out = kdf(
        key.as_slice(),
        FunctionCode::CK_IK_PRIME,
        &[network_name, sqn_xor_ak],
    );
    (
        CkPrime::from_bytes(take(out.as_slice(), 0)),
        IkPrime::from_bytes(take(out.as_slice(), 16)),
    )
}

/// MK = PRF'(IK' || CK', "EAP-AKA'" || identity), 208 octets, split in order (RFC 5448 §3.3).
pub fn aka_prime_keys(ck_prime: &CkPrime, ik_prime: &IkPrime, identity: &[u8]) -> AkaPrimeKeys {
    let mut key = Zeroizing::new([0u8; 32]);
    key[..16].copy_from_slice(ik_prime.dangerous_as_bytes());
    key[16..].copy_from_slice(ck_prime.dangerous_as_bytes());
    let mut seed = b"EAP-AKA'".to_vec();
    seed.extend_from_slice(identity);
    let mut mk = Zeroizing::new([0u8; 208]);
    // 208 octets is far below the PRF' limit of 8160.
    if prf_prime(key.as_slice(), &seed, mk.as_mut_slice()).is_err() {
        unreachable!("208 octets fit PRF'");
    }
    AkaPrimeKeys {
        k_encr: KEncr::from_bytes(take(mk.as_slice(), 0)),
        k_aut: KAut::from_bytes(take(mk.as_slice(), 16)),
        k_re: KRe::from_bytes(take(mk.as_slice(), 48)),
        msk: Msk::from_bytes(take(mk.as_slice(), 80)),
        emsk: Emsk::from_bytes(take(mk.as_slice(), 144)),
    }
}

fn take<const N: usize>(bytes: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&bytes[offset..offset + N]);
    out
}
