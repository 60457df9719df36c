//! NAS security: COUNT handling, algorithm identities and the security context that protects and
//! checks NAS messages (TS 24.501 §4.4, TS 33.501 §6.4).

mod algorithms;
mod context;
mod count;

pub use algorithms::{CipheringAlgorithm, IntegrityAlgorithm};
pub use context::{NasSecurityContext, Role, SecurityError, Verified};
pub use count::NasCount;
