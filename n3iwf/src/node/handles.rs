//! The names the daemon and the core use for the things they share: IKE SAs, AMFs, SCTP
//! streams and NAS TCP connections.

/// An IKE SA of the engine: its [`ikev2::SaId`] (our IKE SPI), one to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IkeSaRef(pub u64);

impl From<ikev2::SaId> for IkeSaRef {
    fn from(sa: ikev2::SaId) -> Self {
        Self(sa.0.0)
    }
}

impl From<IkeSaRef> for ikev2::SaId {
    fn from(sa: IkeSaRef) -> Self {
        Self(ikev2::wire::IkeSpi(sa.0))
    }
}

/// An AMF of the configuration, by its position in [`N3iwfConfig::amfs`](super::N3iwfConfig):
/// one N2 association each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AmfRef(pub u16);

/// An SCTP stream of an N2 association. Stream 0 carries non-UE-associated signalling; each UE
/// keeps to one other stream (TS 38.412 §7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamId(pub u16);

impl StreamId {
    /// The stream of non-UE-associated signalling.
    pub const NON_UE: Self = Self(0);
}

/// A TCP connection the daemon accepted on the NAS address and port, named by the daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NasConnId(pub u64);

/// The core's own name for a UE context; never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct UeId(pub(crate) u64);
