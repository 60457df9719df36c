//! Algorithms: MILENAGE, the 3GPP KDF and PRF', 128-NIA2 and 128-NEA2.

pub mod kdf;
pub mod milenage;
pub mod nas_algorithms;
