//! ML-KEM-512/768/1024 (FIPS 203) on aws-lc-rs, with the shared length and modulus checks run
//! before aws-lc sees peer data.

use aws_lc_rs::kem::{
    AlgorithmId, Ciphertext, DecapsulationKey, EncapsulationKey, ML_KEM_512, ML_KEM_768,
    ML_KEM_1024,
};

use crate::{ActiveKeyExchange, KeError, KeGroup, KeyExchange, SecretBytes, ke_wire};

/// One aws-lc-rs ML-KEM parameter set.
struct AwsMlKem {
    group: KeGroup,
    alg: &'static aws_lc_rs::kem::Algorithm<AlgorithmId>,
}

static MLKEM_512: AwsMlKem = AwsMlKem {
    group: KeGroup::MlKem512,
    alg: &ML_KEM_512,
};
static MLKEM_768: AwsMlKem = AwsMlKem {
    group: KeGroup::MlKem768,
    alg: &ML_KEM_768,
};
static MLKEM_1024: AwsMlKem = AwsMlKem {
    group: KeGroup::MlKem1024,
    alg: &ML_KEM_1024,
};

/// The ML-KEM parameter set for `group`, if it is one.
pub(super) fn key_exchange(group: KeGroup) -> Option<&'static dyn KeyExchange> {
    kem_static(group).map(|kem| kem as &'static dyn KeyExchange)
}

fn kem_static(group: KeGroup) -> Option<&'static AwsMlKem> {
    match group {
        KeGroup::MlKem512 => Some(&MLKEM_512),
        KeGroup::MlKem768 => Some(&MLKEM_768),
        KeGroup::MlKem1024 => Some(&MLKEM_1024),
        _ => None,
    }
}

impl KeyExchange for AwsMlKem {
    fn group(&self) -> KeGroup {
        self.group
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError> {
        let dk = DecapsulationKey::generate(self.alg).map_err(|_| KeError::Internal)?;
        let ek = dk.encapsulation_key().map_err(|_| KeError::Internal)?;
        let ek = ek
            .key_bytes()
            .map_err(|_| KeError::Internal)?
            .as_ref()
            .to_vec();
        Ok(Box::new(ActiveAwsMlKem {
            group: self.group,
            dk,
            ek,
        }))
    }

    fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError> {
        ke_wire::check_mlkem_ek(self.group, peer)?;
        let ek = EncapsulationKey::new(self.alg, peer).map_err(|_| KeError::InvalidPublic)?;
        let (ct, shared) = ek.encapsulate().map_err(|_| KeError::Internal)?;
        // `shared` (aws-lc-rs `SharedSecret`) zeroizes itself on drop.
        Ok((
            ct.as_ref().to_vec(),
            SecretBytes::from_slice(shared.as_ref()),
        ))
    }
}

/// The initiator's decapsulation key (freed and cleansed by aws-lc on drop) and its
/// encapsulation key, the KE data we send.
struct ActiveAwsMlKem {
    group: KeGroup,
    dk: DecapsulationKey<AlgorithmId>,
    ek: Vec<u8>,
}

impl ActiveKeyExchange for ActiveAwsMlKem {
    fn group(&self) -> KeGroup {
        self.group
    }

    fn public(&self) -> &[u8] {
        &self.ek
    }

    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError> {
        ke_wire::check_mlkem_ct(self.group, peer)?;
        let shared = self
            .dk
            .decapsulate(Ciphertext::from(peer))
            .map_err(|_| KeError::Internal)?;
        Ok(SecretBytes::from_slice(shared.as_ref()))
    }
}

/// An initiator from a FIPS 203 expanded decapsulation key, for known-answer tests. Its public
/// value is the encapsulation key embedded in `dk` (bytes 384k to 768k + 32).
#[cfg(test)]
pub(super) fn from_expanded_dk(group: KeGroup, dk: &[u8]) -> Option<Box<dyn ActiveKeyExchange>> {
    let kem = kem_static(group)?;
    let ek_len = ke_wire::mlkem_ek_len(group)?;
    let ek_start = ek_len - 32;
    let ek = dk.get(ek_start..ek_start + ek_len)?.to_vec();
    let dk = DecapsulationKey::new(kem.alg, dk).ok()?;
    Some(Box::new(ActiveAwsMlKem { group, dk, ek }))
}
