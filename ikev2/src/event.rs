//! What the engine tells its driver.

use std::fmt;
use std::net::SocketAddr;

use ipsec_crypto::SecretBytes;

use crate::auth_reply::{ConfigReply, StatusNotify};
use crate::child_request::{ChildFailure, ChildTag};
use crate::config::Identity;
use crate::error::Error;
use crate::proposal::Negotiated;
use crate::wire::{EspSpi, IkeSpi, IpSelector, MessageId};

/// Identifies an IKE SA within an [`Endpoint`](crate::Endpoint): our own SPI. Prints as that
/// SPI in hex.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SaId(pub IkeSpi);

impl fmt::Display for SaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for SaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// An output of the engine, in the order things happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum Event {
    /// The IKE SA is established (IKE_AUTH completed).
    IkeSaEstablished { sa: SaId, info: IkeSaInfo },
    /// A Child SA is ready: its keys move to whoever installs it in the datapath. When it
    /// replaces a rekeyed SA, the old one stays until its [`Event::ChildSaDeleted`] (make before
    /// break).
    ChildSaEstablished { sa: SaId, child: ChildSa },
    /// A new Child SA that we asked for ([`Endpoint::create_child`](crate::Endpoint::create_child)
    /// or [`Endpoint::create_child_with`](crate::Endpoint::create_child_with)) was not
    /// created; nothing of it was installed. `tag` is the request's (`None` for a template
    /// child), `name` its template.
    ChildSaFailed {
        sa: SaId,
        tag: Option<ChildTag>,
        name: String,
        reason: ChildFailure,
    },
    /// A Child SA is gone: remove it from the datapath.
    ChildSaDeleted {
        sa: SaId,
        inbound_spi: EspSpi,
        outbound_spi: EspSpi,
        /// Who ended it: with [`CloseReason::Peer`] and no successor the peer closed it
        /// unexpectedly (strongSwan's `close_action` applies).
        reason: CloseReason,
    },
    /// The IKE SA was rekeyed: its Child SAs now belong to `new`; `old` closes next.
    IkeSaRekeyed { old: SaId, new: SaId },
    /// The IKE SA failed before or during establishment, or was torn down by an error.
    IkeSaFailed { sa: SaId, error: Error },
    /// The IKE SA is gone.
    IkeSaClosed { sa: SaId, reason: CloseReason },
    /// The peer's address or port changed (a NAT rebinding, RFC 7296 §2.23), seen in an
    /// authenticated message: the IKE SA and its Child SAs now use `local` and `remote`; move
    /// the installed ESP SAs too.
    PeerAddressChanged {
        sa: SaId,
        local: SocketAddr,
        remote: SocketAddr,
    },
    /// A peer's IKE_SA_INIT was refused (or answered with a COOKIE), or an IKE_AUTH failed;
    /// counted in [`Stats`](crate::Stats) too. `connection` is the matching connection when
    /// known; `reason` is short (for a proposal mismatch: offered vs configured). Comes from
    /// unauthenticated traffic: rate-limit before logging.
    Rejected {
        remote: SocketAddr,
        connection: Option<String>,
        exchange: crate::wire::ExchangeType,
        reason: String,
    },
    /// An IKE SA with an external PPK source needs its PPK: with `ppk_id` `None` a fresh key
    /// (initiator: e.g. ETSI GS QKD 014 `enc_keys`), otherwise the key with that ID (responder:
    /// `dec_keys`). Answer with [`Endpoint::provide_ppk`](crate::Endpoint::provide_ppk); the
    /// exchange waits for it, up to the configured timeout. Every exchange asks anew: the
    /// initial one and, with RFC 9867, each CREATE_CHILD_SA (`exchange` says which). At most
    /// one request per IKE SA is outstanding at a time.
    PpkNeeded {
        sa: SaId,
        ppk_id: Option<Vec<u8>>,
        exchange: PpkExchange,
    },
    /// The keys of an IKE SA, for a key log that Wireshark can read; only with
    /// [`EndpointConfig::export_keys`](crate::EndpointConfig::export_keys).
    IkeSaKeys { sa: SaId, keys: IkeKeyExport },
    /// Responder: the initiator `peer_id` asked for EAP authentication (an IKE_AUTH without
    /// AUTH, RFC 7296 §2.16). Start the EAP method with
    /// [`Endpoint::eap_respond`](crate::Endpoint::eap_respond) and its first EAP Request.
    EapStarted { sa: SaId, peer_id: Identity },
    /// An EAP packet for the driver's EAP method: as responder (EAP server) the initiator's EAP
    /// Response; as initiator (EAP peer) the responder's EAP Request or EAP-Success. Answer
    /// with [`Endpoint::eap_respond`](crate::Endpoint::eap_respond).
    EapMessage { sa: SaId, message: Vec<u8> },
    /// Initiator: what the authenticated final IKE_AUTH response carried besides AUTH and the
    /// first Child SA: its CP(CFG_REPLY), if any, and its private-use status notifies (at most
    /// [`MAX_STATUS_NOTIFIES`](crate::MAX_STATUS_NOTIFIES), in order). Emitted once, before
    /// [`Event::IkeSaEstablished`], when either is present.
    AuthReply {
        sa: SaId,
        config: Option<ConfigReply>,
        notifies: Vec<StatusNotify>,
    },
}

/// Why an IKE SA or Child SA ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// We deleted it (a command, a hard lifetime, shutdown).
    Local,
    /// The peer deleted it with an INFORMATIONAL DELETE (or INVALID_SPI for a Child SA).
    Peer,
    /// It failed: see the preceding [`Event::IkeSaFailed`] (a dead peer is a
    /// [`Error::Timeout`](crate::Error::Timeout)).
    Failed,
    /// A rekey replaced it.
    Rekeyed,
    /// The peer started over: a new IKE SA with the same identity carried INITIAL_CONTACT
    /// (RFC 7296 §2.4), so the peer no longer has this one. Removed without a DELETE.
    PeerRestarted,
}

impl CloseReason {
    /// A short stable name for logs and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Peer => "peer",
            Self::Failed => "failed",
            Self::Rekeyed => "rekeyed",
            Self::PeerRestarted => "peer-restarted",
        }
    }
}

/// The exchange a PPK is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PpkExchange {
    /// The initial IKE SA (IKE_INTERMEDIATE with RFC 9867, IKE_AUTH with RFC 8784).
    Initial,
    /// A CREATE_CHILD_SA creating another Child SA (RFC 9867).
    NewChild,
    /// A CREATE_CHILD_SA rekeying a Child SA (RFC 9867); `inbound_spi` is ours, of the old SA
    /// (as responder: of our SA the peer rekeys).
    RekeyChild { inbound_spi: EspSpi },
    /// A CREATE_CHILD_SA rekeying the IKE SA (RFC 9867).
    RekeyIke,
}

impl PpkExchange {
    /// A short stable name for logs and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initial => "initial",
            Self::NewChild => "new-child",
            Self::RekeyChild { .. } => "rekey-child",
            Self::RekeyIke => "rekey-ike",
        }
    }
}

/// Facts about an established IKE SA, for listings and logs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IkeSaInfo {
    pub connection: String,
    pub initiator: bool,
    pub local_spi: IkeSpi,
    pub remote_spi: IkeSpi,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// strongSwan-style name of the negotiated algorithms.
    pub proposal: String,
    /// Whether a PPK was mixed into the keys (RFC 8784).
    pub ppk_used: bool,
    /// Whether either side is behind a NAT (RFC 7296 §2.23).
    pub nat_detected: bool,
    /// Number of IKE_INTERMEDIATE exchanges run.
    pub intermediate_exchanges: u8,
    /// The peer's authenticated identity.
    pub peer_id: Option<Identity>,
}

/// A Child SA handed to the datapath. The key material is moved, not copied: dropping this
/// value zeroizes it.
#[non_exhaustive]
pub struct ChildSa {
    pub name: String,
    pub suite: Negotiated,
    /// SPI of packets we receive (chosen by us).
    pub inbound_spi: EspSpi,
    /// SPI of packets we send (chosen by the peer).
    pub outbound_spi: EspSpi,
    /// Key material for packets we receive (AEAD: key || salt).
    pub inbound_keys: SecretBytes,
    /// Key material for packets we send.
    pub outbound_keys: SecretBytes,
    pub local_ts: Vec<IpSelector>,
    pub remote_ts: Vec<IpSelector>,
    /// Inbound SPI of the Child SA this one rekeys, if any.
    pub replaces: Option<EspSpi>,
    /// Whether we initiated the exchange that created it. A rekey responder keeps sending on
    /// the old SA until the initiator deletes it: the initiator installs the new SAs only when
    /// our response arrives (RFC 7296 §2.8).
    pub we_initiated: bool,
    /// Our outer address (and the port of the UDP encapsulation, if any).
    pub local: SocketAddr,
    /// The peer's outer address (and port, with UDP encapsulation).
    pub remote: SocketAddr,
    /// ESP in UDP on port 4500 (RFC 3948) because of a NAT or forced encapsulation; otherwise
    /// raw ESP (IP protocol 50).
    pub udp_encapsulation: bool,
    /// The tag of the [`ChildRequest`](crate::ChildRequest) that created it, or of the Child
    /// SA it rekeys (a successor keeps its owner).
    pub tag: Option<ChildTag>,
    /// Responder of a CREATE_CHILD_SA for a new Child SA: the private-use status notifies of
    /// the request (such as 3GPP's 5G_QOS_INFO and UP_IP4_ADDRESS), in order, at most
    /// [`MAX_STATUS_NOTIFIES`](crate::MAX_STATUS_NOTIFIES) of at most
    /// [`MAX_STATUS_NOTIFY_DATA`](crate::MAX_STATUS_NOTIFY_DATA) octets; more are counted in
    /// [`Stats::child_notifies_dropped`](crate::Stats) and dropped. Empty otherwise.
    pub peer_notifies: Vec<StatusNotify>,
}

impl fmt::Debug for ChildSa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSa")
            .field("name", &self.name)
            .field("suite", &self.suite.to_string())
            .field("inbound_spi", &self.inbound_spi)
            .field("outbound_spi", &self.outbound_spi)
            .field("local_ts", &self.local_ts)
            .field("remote_ts", &self.remote_ts)
            .field("replaces", &self.replaces)
            .field("local", &self.local)
            .field("remote", &self.remote)
            .field("udp_encapsulation", &self.udp_encapsulation)
            .field("tag", &self.tag)
            .field("peer_notifies", &self.peer_notifies)
            .finish_non_exhaustive()
    }
}

/// A snapshot of one IKE SA and its Child SAs, for listings.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SaSnapshot {
    pub id: SaId,
    pub connection: String,
    pub initiator: bool,
    /// `CONNECTING`, `ESTABLISHED`, `REKEYED` (waiting for deletion) or `DELETING`.
    pub state: &'static str,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub proposal: String,
    pub ppk_used: bool,
    pub message_ids: MessageIds,
    pub children: Vec<ChildSnapshot>,
}

/// The Message ID counters of an IKE SA (RFC 7296 §2.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageIds {
    /// The ID our next request will carry.
    pub next_request: MessageId,
    /// Our request still waiting for its response.
    pub outstanding: Option<MessageId>,
    /// The ID the peer's next request must carry.
    pub expected_request: MessageId,
}

/// A Child SA as listed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ChildSnapshot {
    pub name: String,
    pub inbound_spi: EspSpi,
    pub outbound_spi: EspSpi,
    pub proposal: String,
    pub local_ts: Vec<IpSelector>,
    pub remote_ts: Vec<IpSelector>,
    /// See [`ChildSa::tag`].
    pub tag: Option<ChildTag>,
}

/// IKE SA keys as Wireshark's `ikev2_decryption_table` wants them.
#[non_exhaustive]
pub struct IkeKeyExport {
    pub spi_i: IkeSpi,
    pub spi_r: IkeSpi,
    /// The negotiated algorithms (strongSwan-style).
    pub proposal: String,
    pub sk_ei: SecretBytes,
    pub sk_er: SecretBytes,
    pub sk_ai: SecretBytes,
    pub sk_ar: SecretBytes,
}

impl fmt::Debug for IkeKeyExport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IkeKeyExport")
            .field("spi_i", &self.spi_i)
            .field("spi_r", &self.spi_r)
            .finish_non_exhaustive()
    }
}
