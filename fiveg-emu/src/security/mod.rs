//! NAS security: COUNT handling, algorithm identities and the security context that protects and
//! checks NAS messages (TS 24.501 §4.4, TS 33.501 §6.4).

mod algorithms;
mod count;

pub use algorithms::{CipheringAlgorithm, IntegrityAlgorithm};
pub use count::NasCount;
