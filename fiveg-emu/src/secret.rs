//! Secret key types: zeroized on drop, neither `Clone` nor `Debug`, compared in constant time and
//! read only through `dangerous_as_bytes`. Even an emulator keeps keys this way, so that a test
//! log or a panic message never carries key material.

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Declares a fixed-size secret key type.
macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        pub struct $name(Zeroizing<[u8; $len]>);

        impl $name {
            /// Length in octets.
            pub const LEN: usize = $len;

            /// Takes ownership of the key octets.
            pub fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(Zeroizing::new(bytes))
            }

            /// Copies the key from a slice; `None` when the length is not [`Self::LEN`].
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                if bytes.len() != $len {
                    return None;
                }
                let mut key = Zeroizing::new([0u8; $len]);
                key.copy_from_slice(bytes);
                Some(Self(key))
            }

            /// The key octets. Named so that every read of key material stands out in review.
            pub fn dangerous_as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Constant-time equality.
            pub fn ct_eq(&self, other: &Self) -> bool {
                self.0.as_slice().ct_eq(other.0.as_slice()).into()
            }
        }
    };
}

secret_key!(
    /// K, the 128-bit subscriber key shared by the USIM and the ARPF.
    SubscriberKey, 16
);
secret_key!(
    /// OP, the operator variant algorithm configuration field of MILENAGE (TS 35.206).
    Op, 16
);
secret_key!(
    /// OPc, OP encrypted under K (TS 35.206 §4.1): what a USIM and a subscriber database store.
    Opc, 16
);
secret_key!(
    /// CK, the cipher key output by MILENAGE f3.
    Ck, 16
);
secret_key!(
    /// IK, the integrity key output by MILENAGE f4.
    Ik, 16
);
secret_key!(
    /// AK, the anonymity key output by MILENAGE f5 (or f5* for resynchronisation).
    Ak, 6
);
secret_key!(
    /// CK', the EAP-AKA' cipher key (TS 33.402 Annex A.2, RFC 5448 §3.3).
    CkPrime, 16
);
secret_key!(
    /// IK', the EAP-AKA' integrity key.
    IkPrime, 16
);
secret_key!(
    /// KAUSF (TS 33.501 Annex A.2).
    Kausf, 32
);
secret_key!(
    /// KSEAF, the anchor key (TS 33.501 Annex A.6).
    Kseaf, 32
);
secret_key!(
    /// KAMF (TS 33.501 Annex A.7).
    Kamf, 32
);
secret_key!(
    /// KNASint, the NAS integrity key (TS 33.501 Annex A.8).
    KnasInt, 16
);
secret_key!(
    /// KNASenc, the NAS ciphering key (TS 33.501 Annex A.8).
    KnasEnc, 16
);
secret_key!(
    /// KN3IWF (TS 33.501 Annex A.9, access type non-3GPP): the EAP MSK of the NWu IKE_AUTH.
    Kn3iwf, 32
);
secret_key!(
    /// KgNB (TS 33.501 Annex A.9, access type 3GPP).
    Kgnb, 32
);
secret_key!(
    /// K_encr of EAP-AKA' (RFC 5448 §3.3).
    KEncr, 16
);
secret_key!(
    /// K_aut of EAP-AKA'.
    KAut, 32
);
secret_key!(
    /// K_re of EAP-AKA'.
    KRe, 32
);
secret_key!(
    /// MSK of EAP-AKA'.
    Msk, 64
);
secret_key!(
    /// EMSK of EAP-AKA'.
    Emsk, 64
);
secret_key!(
    /// A 128-bit key for the NAS algorithms when the caller has no typed NAS key (test data).
    Key128, 16
);
