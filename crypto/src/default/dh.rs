//! X25519 (RFC 8031) and ECP-256/384 (RFC 5903) on aws-lc-rs.

use aws_lc_rs::agreement::{self, ECDH_P256, ECDH_P384, PrivateKey, UnparsedPublicKey, X25519};

use crate::{ActiveKeyExchange, KeError, KeGroup, KeyExchange, SecretBytes, ke_wire};

/// One aws-lc-rs Diffie-Hellman group.
struct AwsDh {
    group: KeGroup,
    alg: &'static agreement::Algorithm,
}

static X25519_DH: AwsDh = AwsDh {
    group: KeGroup::X25519,
    alg: &X25519,
};
static ECP_256: AwsDh = AwsDh {
    group: KeGroup::Ecp256,
    alg: &ECDH_P256,
};
static ECP_384: AwsDh = AwsDh {
    group: KeGroup::Ecp384,
    alg: &ECDH_P384,
};

/// The Diffie-Hellman group for `group`, if it is one of ours.
pub(super) fn key_exchange(group: KeGroup) -> Option<&'static dyn KeyExchange> {
    match group {
        KeGroup::X25519 => Some(&X25519_DH),
        KeGroup::Ecp256 => Some(&ECP_256),
        KeGroup::Ecp384 => Some(&ECP_384),
        _ => None,
    }
}

impl AwsDh {
    /// Our public value in IKEv2 format.
    fn public_value(&self, private: &PrivateKey) -> Result<Vec<u8>, KeError> {
        let public = private
            .compute_public_key()
            .map_err(|_| KeError::Internal)?;
        match self.group {
            KeGroup::X25519 => Ok(public.as_ref().to_vec()),
            group => ke_wire::ecp_public_from_sec1(group, public.as_ref()),
        }
    }

    /// The shared secret of `private` with the peer's IKEv2 public value.
    fn agree(&self, private: &PrivateKey, peer: &[u8]) -> Result<SecretBytes, KeError> {
        match self.group {
            KeGroup::X25519 => {
                let peer = ke_wire::x25519_public(peer)?;
                let peer = UnparsedPublicKey::new(self.alg, peer);
                // aws-lc refuses low-order points itself; the shared check backs it up.
                agreement::agree(
                    private,
                    peer,
                    KeError::InvalidPublic,
                    ke_wire::x25519_shared,
                )
            }
            group => {
                let sec1 = ke_wire::ecp_peer_to_sec1(group, peer)?;
                let peer = UnparsedPublicKey::new(self.alg, sec1);
                agreement::agree(private, peer, KeError::InvalidPublic, |x| {
                    ke_wire::ecp_shared(group, x)
                })
            }
        }
    }
}

impl KeyExchange for AwsDh {
    fn group(&self) -> KeGroup {
        self.group
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError> {
        let private = PrivateKey::generate(self.alg).map_err(|_| KeError::Internal)?;
        Ok(Box::new(ActiveAwsDh::new(self.group, private)?))
    }

    fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError> {
        let private = PrivateKey::generate(self.alg).map_err(|_| KeError::Internal)?;
        let shared = self.agree(&private, peer)?;
        Ok((self.public_value(&private)?, shared))
    }
}

/// The static instance for `group`.
fn dh_static(group: KeGroup) -> Result<&'static AwsDh, KeError> {
    match group {
        KeGroup::X25519 => Ok(&X25519_DH),
        KeGroup::Ecp256 => Ok(&ECP_256),
        KeGroup::Ecp384 => Ok(&ECP_384),
        _ => Err(KeError::Internal),
    }
}

/// The initiator's private key (freed and cleansed by aws-lc on drop) and public value.
struct ActiveAwsDh {
    dh: &'static AwsDh,
    private: PrivateKey,
    public: Vec<u8>,
}

impl ActiveAwsDh {
    fn new(group: KeGroup, private: PrivateKey) -> Result<Self, KeError> {
        let dh = dh_static(group)?;
        let public = dh.public_value(&private)?;
        Ok(Self {
            dh,
            private,
            public,
        })
    }
}

impl ActiveKeyExchange for ActiveAwsDh {
    fn group(&self) -> KeGroup {
        self.dh.group
    }

    fn public(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError> {
        self.dh.agree(&self.private, peer)
    }
}

/// An initiator with a fixed private key (raw X25519 scalar or big-endian ECP scalar), or a
/// fixed MODP exponent, for known-answer tests.
#[cfg(test)]
pub(super) fn from_private(group: KeGroup, private: &[u8]) -> Option<Box<dyn ActiveKeyExchange>> {
    if group == KeGroup::Modp2048 {
        return crate::modp::ActiveModp2048::from_exponent(private)
            .map(|active| Box::new(active) as Box<dyn ActiveKeyExchange>);
    }
    let dh = dh_static(group).ok()?;
    let private = PrivateKey::from_private_key(dh.alg, private).ok()?;
    Some(Box::new(ActiveAwsDh::new(group, private).ok()?))
}
