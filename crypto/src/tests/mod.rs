//! The provider test suite. Every case is a function of a [`harness::Harness`] and runs once per
//! compiled provider (the way rustls runs its API tests once per crypto provider).

pub(crate) mod harness;
mod kat_ke;
mod kat_symmetric;
mod negative;

#[cfg(all(feature = "default-provider", feature = "rustcrypto"))]
mod cross;

use crate::KeGroup;

/// Every key exchange method of the trait.
pub(crate) const ALL_GROUPS: [KeGroup; 7] = [
    KeGroup::Modp2048,
    KeGroup::Ecp256,
    KeGroup::Ecp384,
    KeGroup::X25519,
    KeGroup::MlKem512,
    KeGroup::MlKem768,
    KeGroup::MlKem1024,
];

/// Declares one `#[test]` per case for the provider behind `$harness`.
macro_rules! provider_tests {
    ($harness:expr; $($module:ident::$case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                super::$module::$case(&$harness);
            }
        )*
    };
}

/// The list of cases, instantiated below for each provider.
macro_rules! all_cases {
    ($harness:expr) => {
        provider_tests!(
            $harness;
            kat_symmetric::hmac_prf_rfc4231,
            kat_symmetric::hmac_integ_rfc4868,
            kat_symmetric::hmac_sha1_prf_rfc2202,
            kat_symmetric::hmac_sha1_96_integ_rfc2404,
            kat_symmetric::aead_gcm_and_chacha_vectors,
            kat_symmetric::aead_tampering_fails,
            kat_symmetric::aes_cbc_sp800_38a,
            kat_ke::x25519_rfc7748,
            kat_ke::ecp_rfc5903,
            kat_ke::modp2048_fixed_exponent,
            kat_ke::mlkem512_acvp,
            kat_ke::mlkem768_keygen_from_seed,
            kat_ke::mlkem_implicit_rejection,
            kat_ke::ke_data_lengths,
            negative::ke_wrong_lengths,
            negative::mlkem_ek_modulus_check,
            negative::x25519_low_order_points,
            negative::ecp_points_off_curve,
            negative::modp_out_of_range,
            negative::symmetric_wrong_lengths,
            negative::aead_random_round_trips,
            negative::random_source_works,
        );
    };
}

#[cfg(feature = "default-provider")]
mod default_provider {
    all_cases!(crate::default::TEST_HARNESS);
}

#[cfg(feature = "rustcrypto")]
mod rustcrypto_provider {
    all_cases!(crate::rustcrypto::TEST_HARNESS);
}
