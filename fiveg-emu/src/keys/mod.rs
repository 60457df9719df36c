//! Key derivations: the 5G-AKA chain (TS 33.501 Annex A) and EAP-AKA' (RFC 5448).

mod aka_prime;
mod chain;

pub use aka_prime::{AkaPrimeKeys, aka_prime_keys, ck_ik_prime};
pub use chain::{
    AccessType, hres_star, kamf, kausf, kgnb, kn3iwf, knas_enc, knas_int, kseaf, res_star,
};
