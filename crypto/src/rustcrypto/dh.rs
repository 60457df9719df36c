//! X25519 (`x25519-dalek`, RFC 8031) and ECP-256/384 (`p256`/`p384`, RFC 5903).

use std::marker::PhantomData;

use p256::NistP256;
use p256::elliptic_curve::sec1::{FromEncodedPoint, ModulusSize, ToEncodedPoint};
use p256::elliptic_curve::{
    AffinePoint, CurveArithmetic, FieldBytesSize, NonZeroScalar, PublicKey, SecretKey, ecdh,
};
use p384::NistP384;
use x25519_dalek::StaticSecret;
use zeroize::Zeroizing;

use super::fill_random;
use crate::{ActiveKeyExchange, KeError, KeGroup, KeyExchange, SecretBytes, ke_wire};

static X25519_DH: RcX25519 = RcX25519;
static ECP_256: RcEcp<NistP256> = RcEcp::new(KeGroup::Ecp256);
static ECP_384: RcEcp<NistP384> = RcEcp::new(KeGroup::Ecp384);

/// The Diffie-Hellman group for `group`, if it is one of ours.
pub(super) fn key_exchange(group: KeGroup) -> Option<&'static dyn KeyExchange> {
    match group {
        KeGroup::X25519 => Some(&X25519_DH),
        KeGroup::Ecp256 => Some(&ECP_256),
        KeGroup::Ecp384 => Some(&ECP_384),
        _ => None,
    }
}

/// X25519 on `x25519-dalek`.
struct RcX25519;

impl RcX25519 {
    /// A fresh random scalar (clamped by x25519-dalek when used).
    fn random_secret() -> Result<StaticSecret, KeError> {
        let mut bytes = Zeroizing::new([0u8; ke_wire::X25519_LEN]);
        fill_random(bytes.as_mut_slice()).map_err(|_| KeError::Internal)?;
        Ok(StaticSecret::from(*bytes))
    }

    fn public_value(secret: &StaticSecret) -> Vec<u8> {
        x25519_dalek::PublicKey::from(secret).as_bytes().to_vec()
    }

    fn agree(secret: &StaticSecret, peer: &[u8]) -> Result<SecretBytes, KeError> {
        let peer = x25519_dalek::PublicKey::from(ke_wire::x25519_public(peer)?);
        // `SharedSecret` zeroizes itself on drop.
        let shared = secret.diffie_hellman(&peer);
        ke_wire::x25519_shared(shared.as_bytes())
    }
}

impl KeyExchange for RcX25519 {
    fn group(&self) -> KeGroup {
        KeGroup::X25519
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError> {
        Ok(Box::new(ActiveRcX25519::new(Self::random_secret()?)))
    }

    fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError> {
        let secret = Self::random_secret()?;
        let shared = Self::agree(&secret, peer)?;
        Ok((Self::public_value(&secret), shared))
    }
}

/// The initiator's X25519 scalar (zeroized on drop by x25519-dalek) and public value.
struct ActiveRcX25519 {
    secret: StaticSecret,
    public: Vec<u8>,
}

impl ActiveRcX25519 {
    fn new(secret: StaticSecret) -> Self {
        let public = RcX25519::public_value(&secret);
        Self { secret, public }
    }
}

impl ActiveKeyExchange for ActiveRcX25519 {
    fn group(&self) -> KeGroup {
        KeGroup::X25519
    }

    fn public(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError> {
        RcX25519::agree(&self.secret, peer)
    }
}

/// ECDH on a RustCrypto NIST curve.
struct RcEcp<C> {
    group: KeGroup,
    curve: PhantomData<fn() -> C>,
}

impl<C> RcEcp<C> {
    const fn new(group: KeGroup) -> Self {
        Self {
            group,
            curve: PhantomData,
        }
    }
}

impl<C> RcEcp<C>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    /// A fresh private scalar, drawn uniformly by rejection (a draw of zero or at least the
    /// group order is redrawn; the odds are below 2^-32 for P-256).
    fn random_secret(&self) -> Result<SecretKey<C>, KeError> {
        let len = ke_wire::ecp_coordinate_len(self.group).ok_or(KeError::Internal)?;
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        for _ in 0..64 {
            fill_random(&mut bytes).map_err(|_| KeError::Internal)?;
            if let Ok(secret) = SecretKey::<C>::from_slice(&bytes) {
                return Ok(secret);
            }
        }
        Err(KeError::Internal)
    }

    /// Our public value in IKEv2 format (`x | y`).
    fn public_value(&self, secret: &SecretKey<C>) -> Result<Vec<u8>, KeError> {
        let point = secret.public_key().to_encoded_point(false);
        ke_wire::ecp_public_from_sec1(self.group, point.as_bytes())
    }

    /// The `x` coordinate of the shared point. `from_sec1_bytes` checks the point is on the curve.
    fn agree(&self, secret: &SecretKey<C>, peer: &[u8]) -> Result<SecretBytes, KeError> {
        let sec1 = ke_wire::ecp_peer_to_sec1(self.group, peer)?;
        let peer = PublicKey::<C>::from_sec1_bytes(&sec1).map_err(|_| KeError::InvalidPublic)?;
        let scalar = Zeroizing::new(secret.to_nonzero_scalar());
        // Borrowed, so that the only copy of the scalar is the one zeroized on return.
        let scalar_ref: &NonZeroScalar<C> = &scalar;
        // `SharedSecret` zeroizes itself on drop.
        let shared = ecdh::diffie_hellman(scalar_ref, peer.as_affine());
        ke_wire::ecp_shared(self.group, shared.raw_secret_bytes())
    }
}

impl<C> KeyExchange for RcEcp<C>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    fn group(&self) -> KeGroup {
        self.group
    }

    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, KeError> {
        let secret = self.random_secret()?;
        Ok(Box::new(ActiveRcEcp::new(self.group, secret)?))
    }

    fn respond(&self, peer: &[u8]) -> Result<(Vec<u8>, SecretBytes), KeError> {
        let secret = self.random_secret()?;
        let shared = self.agree(&secret, peer)?;
        Ok((self.public_value(&secret)?, shared))
    }
}

/// The initiator's ECP secret scalar (zeroized on drop by `elliptic-curve`) and public value.
struct ActiveRcEcp<C: CurveArithmetic> {
    ecp: RcEcp<C>,
    secret: SecretKey<C>,
    public: Vec<u8>,
}

impl<C> ActiveRcEcp<C>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    fn new(group: KeGroup, secret: SecretKey<C>) -> Result<Self, KeError> {
        let ecp = RcEcp::new(group);
        let public = ecp.public_value(&secret)?;
        Ok(Self {
            ecp,
            secret,
            public,
        })
    }
}

impl<C> ActiveKeyExchange for ActiveRcEcp<C>
where
    C: CurveArithmetic,
    AffinePoint<C>: FromEncodedPoint<C> + ToEncodedPoint<C>,
    FieldBytesSize<C>: ModulusSize,
{
    fn group(&self) -> KeGroup {
        self.ecp.group
    }

    fn public(&self) -> &[u8] {
        &self.public
    }

    fn complete(self: Box<Self>, peer: &[u8]) -> Result<SecretBytes, KeError> {
        self.ecp.agree(&self.secret, peer)
    }
}

/// An initiator with a fixed private key (raw X25519 scalar or big-endian ECP scalar), or a
/// fixed MODP exponent, for known-answer tests.
#[cfg(test)]
pub(super) fn from_private(group: KeGroup, private: &[u8]) -> Option<Box<dyn ActiveKeyExchange>> {
    match group {
        KeGroup::Modp2048 => crate::modp::ActiveModp2048::from_exponent(private)
            .map(|active| Box::new(active) as Box<dyn ActiveKeyExchange>),
        KeGroup::X25519 => {
            let scalar: [u8; 32] = private.try_into().ok()?;
            Some(Box::new(ActiveRcX25519::new(StaticSecret::from(scalar))))
        }
        KeGroup::Ecp256 => {
            let secret = SecretKey::<NistP256>::from_slice(private).ok()?;
            Some(Box::new(ActiveRcEcp::new(group, secret).ok()?))
        }
        KeGroup::Ecp384 => {
            let secret = SecretKey::<NistP384>::from_slice(private).ok()?;
            Some(Box::new(ActiveRcEcp::new(group, secret).ok()?))
        }
        _ => None,
    }
}
