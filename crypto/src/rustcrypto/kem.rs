//! ML-KEM-512/768/1024 (FIPS 203) on RustCrypto `ml-kem`, with the shared length and modulus
//! checks run before the library sees peer data.
//!
//! Randomness (the 64-octet seed `d | z` and the encapsulation message `m`) is drawn here from the
//! OS and handed to the library's deterministic entry points, which the known-answer tests also
//! use.

use ml_kem::array::Array;
use ml_kem::{
    B32, Decapsulate, DecapsulationKey, EncapsulationKey, KeyExport, MlKem512, MlKem768, MlKem1024,
    Seed,
};
use zeroize::{Zeroize, Zeroizing};

use super::fill_random;
use crate::{ActiveKeyExchange, KeError, KeGroup, KeyExchange, SecretBytes, ke_wire};

/// A fresh 64-octet key generation seed `d | z` (FIPS 203 Algorithm 19).
fn random_seed() -> Result<Zeroizing<Seed>, KeError> {
    let mut seed = Zeroizing::new(Seed::default());
    fill_random(seed.as_mut_slice()).map_err(|_| KeError::Internal)?;
    Ok(seed)
}

/// A fresh 32-octet encapsulation message `m` (FIPS 203 Algorithm 20).
fn random_message() -> Result<Zeroizing<B32>, KeError> {
    let mut m = Zeroizing::new(B32::default());
    fill_random(m.as_mut_slice()).map_err(|_| KeError::Internal)?;
    Ok(m)
}

/// Copies a library shared key into a [`SecretBytes`] and wipes the library's copy.
fn take_shared(mut shared: B32) -> SecretBytes {
    let secret = SecretBytes::from_slice(shared.as_slice());
    shared.as_mut_slice().zeroize();
    secret
}

/// Defines the key exchange and initiator types for one ML-KEM parameter set.
macro_rules! ml_kem_group {
    ($kem:ident, $active:ident, $params:ty, $group:expr) => {
        /// One ML-KEM parameter set.
        struct $kem;

        impl $kem {
            /// The initiator from a seed `d | z`.
            fn from_seed(seed: &Seed) -> $active {
                let dk = DecapsulationKey::<$params>::from_seed(seed.clone());
                let ek = dk.encapsulation_key().to_bytes().to_vec();
                $active { dk, ek }
            }

            /// Encapsulates to the peer's key with the message `m`.
            fn encapsulate(peer: &[u8], m: &B32) -> Result<(Vec<u8>, SecretBytes), KeError> {
                ke_wire::check_mlkem_ek($group, peer)?;
                let ek_bytes = Array::try_from(peer).map_err(|_| KeError::InvalidLength)?;
                let ek = EncapsulationKey::<$params>::new(&ek_bytes)
                    .map_err(|_| KeError::InvalidPublic)?;
                let (ct, shared) = ek.encapsulate_deterministic(m);
                Ok((ct.to_vec(), take_shared(shared)))
            }
        }

        impl KeyExchange for $kem {
            fn group(&self) -> KeGroup {
                $group
            }

            fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError> {
                Ok(Box::new(Self::from_seed(&*random_seed()?)))
            }

            fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError> {
                Self::encapsulate(peer, &*random_message()?)
            }
        }

        /// The initiator's decapsulation key (zeroized on drop by `ml-kem`) and the encapsulation
        /// key we send.
        struct $active {
            dk: DecapsulationKey<$params>,
            ek: Vec<u8>,
        }

        impl ActiveKeyExchange for $active {
            fn group(&self) -> KeGroup {
                $group
            }

            fn public(&self) -> &[u8] {
                &self.ek
            }

            fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError> {
                ke_wire::check_mlkem_ct($group, peer)?;
                let ct = Array::try_from(peer).map_err(|_| KeError::InvalidLength)?;
                Ok(take_shared(self.dk.decapsulate(&ct)))
            }
        }
    };
}

ml_kem_group!(RcMlKem512, ActiveRcMlKem512, MlKem512, KeGroup::MlKem512);
ml_kem_group!(RcMlKem768, ActiveRcMlKem768, MlKem768, KeGroup::MlKem768);
ml_kem_group!(
    RcMlKem1024,
    ActiveRcMlKem1024,
    MlKem1024,
    KeGroup::MlKem1024
);

static MLKEM_512: RcMlKem512 = RcMlKem512;
static MLKEM_768: RcMlKem768 = RcMlKem768;
static MLKEM_1024: RcMlKem1024 = RcMlKem1024;

/// The ML-KEM parameter set for `group`, if it is one.
pub(super) fn key_exchange(group: KeGroup) -> Option<&'static dyn KeyExchange> {
    match group {
        KeGroup::MlKem512 => Some(&MLKEM_512),
        KeGroup::MlKem768 => Some(&MLKEM_768),
        KeGroup::MlKem1024 => Some(&MLKEM_1024),
        _ => None,
    }
}

/// An initiator from a seed `d | z`, for known-answer tests.
#[cfg(test)]
pub(super) fn from_seed(group: KeGroup, seed: &[u8; 64]) -> Option<Box<dyn ActiveKeyExchange>> {
    let seed = Zeroizing::new(Seed::from(*seed));
    match group {
        KeGroup::MlKem512 => Some(Box::new(RcMlKem512::from_seed(&seed))),
        KeGroup::MlKem768 => Some(Box::new(RcMlKem768::from_seed(&seed))),
        KeGroup::MlKem1024 => Some(Box::new(RcMlKem1024::from_seed(&seed))),
        _ => None,
    }
}

/// Encapsulation with a fixed message `m`, for known-answer tests.
#[cfg(test)]
pub(super) fn encapsulate_deterministic(
    group: KeGroup,
    peer: &[u8],
    m: &[u8; 32],
) -> Result<(Vec<u8>, SecretBytes), KeError> {
    let m = B32::from(*m);
    match group {
        KeGroup::MlKem512 => RcMlKem512::encapsulate(peer, &m),
        KeGroup::MlKem768 => RcMlKem768::encapsulate(peer, &m),
        KeGroup::MlKem1024 => RcMlKem1024::encapsulate(peer, &m),
        _ => Err(KeError::Internal),
    }
}

/// An initiator from a FIPS 203 expanded decapsulation key, for known-answer tests.
#[cfg(test)]
#[allow(deprecated)] // The expanded form is what the NIST ACVP vectors carry.
pub(super) fn from_expanded_dk(group: KeGroup, dk: &[u8]) -> Option<Box<dyn ActiveKeyExchange>> {
    macro_rules! expanded {
        ($params:ty, $active:ident) => {{
            let dk = DecapsulationKey::<$params>::from_expanded(&Array::try_from(dk).ok()?).ok()?;
            let ek = dk.encapsulation_key().to_bytes().to_vec();
            Some(Box::new($active { dk, ek }))
        }};
    }
    match group {
        KeGroup::MlKem512 => expanded!(MlKem512, ActiveRcMlKem512),
        KeGroup::MlKem768 => expanded!(MlKem768, ActiveRcMlKem768),
        KeGroup::MlKem1024 => expanded!(MlKem1024, ActiveRcMlKem1024),
        _ => None,
    }
}
