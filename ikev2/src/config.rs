//! Connection configuration as the engine sees it (the daemon builds it from TOML).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use ipsec_crypto::SecretBytes;

use crate::cert::CertificateAuth;
use crate::fragment::ReassemblyLimits;
use crate::proposal::ProposalSpec;
use crate::wire::{IdType, Identification, IpSelector};

/// An IKE identity (IDi/IDr).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity(pub Identification);

impl Identity {
    /// ID_FQDN.
    pub fn fqdn(name: &str) -> Self {
        Self(Identification {
            id_type: IdType::FQDN,
            data: name.as_bytes().to_vec(),
        })
    }

    /// ID_RFC822_ADDR.
    pub fn email(addr: &str) -> Self {
        Self(Identification {
            id_type: IdType::RFC822_ADDR,
            data: addr.as_bytes().to_vec(),
        })
    }

    /// ID_IPV4_ADDR or ID_IPV6_ADDR.
    pub fn ip(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(a) => Self(Identification {
                id_type: IdType::IPV4_ADDR,
                data: a.octets().to_vec(),
            }),
            IpAddr::V6(a) => Self(Identification {
                id_type: IdType::IPV6_ADDR,
                data: a.octets().to_vec(),
            }),
        }
    }

    /// ID_DER_ASN1_DN: the DER encoding of an X.501 Name (a certificate's subject).
    pub fn dn(der: &[u8]) -> Self {
        Self(Identification {
            id_type: IdType::DER_ASN1_DN,
            data: der.to_vec(),
        })
    }

    /// The ID payload body after the generic header: type, three reserved octets, data.
    pub(crate) fn body(&self) -> Vec<u8> {
        let mut out = vec![self.0.id_type.0, 0, 0, 0];
        out.extend_from_slice(&self.0.data);
        out
    }
}

/// How this end authenticates, and how it checks the peer.
#[non_exhaustive]
pub enum AuthConfig {
    /// A pre-shared key (RFC 7296 §2.15), used in both directions.
    Psk(SecretBytes),
    /// X.509 certificates in both directions. We send our chain in CERT payloads and sign with
    /// RFC 7427 (method 14), or with method 1 for an RSA key when the peer does not send
    /// SIGNATURE_HASH_ALGORITHMS; the peer's chain must lead to a trusted CA and name its
    /// identity (IDi/IDr). Validity is checked against the time given with
    /// [`Endpoint::set_unix_time`](crate::Endpoint::set_unix_time).
    Certificate(CertificateAuth),
    /// EAP for the initiator (RFC 7296 §2.16); the inner credentials (PSK or certificate, not
    /// EAP again) are the responder's.
    ///
    /// As responder we authenticate with the inner credentials. An initiator that sends no
    /// AUTH is authenticated by EAP, whose method the driver runs:
    /// [`Event::EapStarted`](crate::Event::EapStarted), then
    /// [`Event::EapMessage`](crate::Event::EapMessage) for each EAP Response, each answered with
    /// [`Endpoint::eap_respond`](crate::Endpoint::eap_respond). An initiator that sends AUTH is
    /// verified with the inner credentials.
    ///
    /// As initiator we send no AUTH, run the EAP peer through the same event and command, and
    /// verify the responder with the inner credentials (for certificates
    /// [`CertificateAuth::verify_only`] is enough).
    Eap(Box<Self>),
}

/// A post-quantum preshared key (RFC 8784).
pub struct PpkConfig {
    pub source: PpkSource,
    /// Fail unless the PPK is used (no NO_PPK_AUTH fallback). With an external source this is
    /// "fail closed": an unreachable or empty key source fails the IKE SA.
    pub required: bool,
    /// Which way the PPK is mixed in.
    pub mode: PpkMode,
}

/// How a PPK is mixed into the keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PpkMode {
    /// RFC 8784: in IKE_AUTH (SK_d, SK_pi, SK_pr); what strongSwan and libreswan speak.
    Rfc8784,
    /// RFC 9867: in the last IKE_INTERMEDIATE, so the whole initial IKE SA is protected;
    /// RFC 8784 is still offered for peers without it.
    Rfc9867,
}

/// Where a PPK comes from.
pub enum PpkSource {
    /// A configured PPK_ID (sent as PPK_ID_FIXED) and key.
    Static { id: Vec<u8>, key: SecretBytes },
    /// Asked for per IKE SA with [`Event::PpkNeeded`](crate::Event::PpkNeeded) and supplied with
    /// [`Endpoint::provide_ppk`](crate::Endpoint::provide_ppk): QKD keys from an ETSI GS QKD 014
    /// KME. The initiator gets a fresh key and its ID; the responder gets the key for the ID the
    /// initiator sent. Without an answer within `timeout`, the PPK counts as unavailable.
    External { timeout: Duration },
}

impl PpkConfig {
    /// A static PPK.
    pub fn fixed(id: &[u8], key: SecretBytes, required: bool) -> Self {
        Self {
            source: PpkSource::Static {
                id: id.to_vec(),
                key,
            },
            required,
            mode: PpkMode::Rfc8784,
        }
    }

    /// A PPK fetched per IKE SA by the driver (QKD).
    pub fn external(timeout: Duration, required: bool) -> Self {
        Self {
            source: PpkSource::External { timeout },
            required,
            mode: PpkMode::Rfc8784,
        }
    }
}

/// Retransmission schedule (RFC 7296 §2.1: only the initiator of an exchange retransmits),
/// as strongSwan has it: the wait after send `n` (0 = the first) is `initial * base^n`, at most
/// `max_interval`; after `max_retransmits` retransmissions and one more wait the exchange
/// fails. The defaults (0.5 s, base 2, cap 8 s, 6 retransmissions) give up after 31.5 s.
#[derive(Clone, Copy, Debug)]
pub struct RetransmitConfig {
    pub initial: Duration,
    pub max_interval: Duration,
    /// Number of retransmissions after the first send before giving up.
    pub max_retransmits: u32,
    /// Growth factor of the wait per retransmission (at least 1; strongSwan's
    /// `retransmit_base`).
    pub base: f64,
}

impl Default for RetransmitConfig {
    fn default() -> Self {
        Self {
            initial: Duration::from_millis(500),
            max_interval: Duration::from_secs(8),
            max_retransmits: 6,
            base: 2.0,
        }
    }
}

impl RetransmitConfig {
    /// The wait after send `n` (0 = the first): `initial * base^n`, capped at `max_interval`
    /// (also when the product is not a valid duration).
    pub fn interval(&self, n: u32) -> Duration {
        let exp = i32::try_from(n).unwrap_or(i32::MAX);
        let secs = self.initial.as_secs_f64() * self.base.max(1.0).powi(exp);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max_interval)
            .min(self.max_interval)
    }

    /// How long an exchange with no answer lasts before it fails.
    pub fn give_up_after(&self) -> Duration {
        (0..=self.max_retransmits.min(1000))
            .map(|n| self.interval(n))
            .sum()
    }
}

/// When an SA is rekeyed and when it expires (strongSwan's `rekey_time`, `life_time`,
/// `rand_time`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    /// Soft lifetime: start a rekey after this long (minus up to `jitter`). `None` never rekeys.
    pub rekey_after: Option<Duration>,
    /// Hard lifetime: delete the SA after this long if the rekey has not succeeded.
    pub expire_after: Option<Duration>,
    /// Random reduction of the soft lifetime, so both peers do not rekey at once.
    pub jitter: Duration,
}

impl Lifetime {
    /// strongSwan's Child SA defaults: rekey after 1 h (less up to 6 min), expire at 1 h 6 min.
    pub const CHILD_DEFAULT: Self = Self {
        rekey_after: Some(Duration::from_secs(3600)),
        expire_after: Some(Duration::from_secs(3960)),
        jitter: Duration::from_secs(360),
    };
    /// strongSwan's IKE SA defaults: rekey after 4 h (less up to 24 min), expire at 4 h 24 min.
    pub const IKE_DEFAULT: Self = Self {
        rekey_after: Some(Duration::from_secs(14_400)),
        expire_after: Some(Duration::from_secs(15_840)),
        jitter: Duration::from_secs(1440),
    };
    /// Never rekey, never expire.
    pub const NONE: Self = Self {
        rekey_after: None,
        expire_after: None,
        jitter: Duration::ZERO,
    };
}

/// A Child SA template.
pub struct ChildConfig {
    pub name: String,
    /// ESP proposals; a KE method in them (e.g. `aes256gcm16-x25519-ke1_mlkem768`) is used for
    /// PFS in CREATE_CHILD_SA (RFC 7296 §1.3, RFC 9370 §2.2.4).
    pub esp_proposals: Vec<ProposalSpec>,
    /// Our side of the traffic (TSi when we initiate, TSr when we respond).
    pub local_ts: Vec<IpSelector>,
    pub remote_ts: Vec<IpSelector>,
    pub lifetime: Lifetime,
}

impl ChildConfig {
    /// A child with strongSwan's default lifetimes.
    pub fn new(
        name: &str,
        esp_proposals: Vec<ProposalSpec>,
        local_ts: Vec<IpSelector>,
        remote_ts: Vec<IpSelector>,
    ) -> Self {
        Self {
            name: name.into(),
            esp_proposals,
            local_ts,
            remote_ts,
            lifetime: Lifetime::CHILD_DEFAULT,
        }
    }
}

/// One connection: identities, credentials, proposals and children.
pub struct ConnectionConfig {
    pub name: String,
    pub local_id: Identity,
    /// `None` accepts any peer identity that authenticates with our credentials.
    pub remote_id: Option<Identity>,
    /// Peer addresses this connection answers as responder; empty accepts any.
    pub remote_addrs: Vec<IpAddr>,
    pub auth: AuthConfig,
    pub ike_proposals: Vec<ProposalSpec>,
    pub children: Vec<ChildConfig>,
    pub ppk: Option<PpkConfig>,
    /// Largest IKE datagram we send before fragmenting (RFC 7383), or `None` to never fragment.
    pub fragment_size: Option<usize>,
    pub retransmit: RetransmitConfig,
    /// Liveness check interval (RFC 7296 §2.4): an empty INFORMATIONAL request after this long
    /// without a message from the peer. `None` disables it.
    pub dpd_delay: Option<Duration>,
    pub ike_lifetime: Lifetime,
    /// Force UDP encapsulation of ESP even without a NAT (strongSwan's `encap = yes`): we send
    /// a NAT_DETECTION_SOURCE_IP that cannot match, so both sides float to port 4500.
    pub force_encap: bool,
    /// Interval of NAT keepalives when we are behind a NAT (RFC 3948 §2.3).
    pub nat_keepalive: Duration,
    /// Initiator: ask for an inner IPv4 address, a CP(CFG_REQUEST) with an empty
    /// INTERNAL_IP4_ADDRESS (RFC 7296 §3.15) in the first IKE_AUTH request; the answer comes in
    /// [`Event::AuthReply`](crate::Event::AuthReply).
    pub request_internal_ip4: bool,
}

impl ConnectionConfig {
    /// A connection with defaults for everything but identities, PSK and proposals.
    pub fn new(
        name: &str,
        local_id: Identity,
        psk: &[u8],
        ike_proposals: Vec<ProposalSpec>,
    ) -> Self {
        Self {
            name: name.into(),
            local_id,
            remote_id: None,
            remote_addrs: Vec::new(),
            auth: AuthConfig::Psk(SecretBytes::from_slice(psk)),
            ike_proposals,
            children: Vec::new(),
            ppk: None,
            fragment_size: Some(DEFAULT_FRAGMENT_SIZE),
            retransmit: RetransmitConfig::default(),
            dpd_delay: None,
            ike_lifetime: Lifetime::IKE_DEFAULT,
            force_encap: false,
            nat_keepalive: Duration::from_secs(20),
            request_internal_ip4: false,
        }
    }

    /// Whether any proposal has an additional key exchange, or RFC 9867 is configured.
    pub(crate) fn wants_intermediate(&self) -> bool {
        self.ike_proposals
            .iter()
            .any(|p| p.ke[1..].iter().any(|s| !s.is_empty()))
            || self.wants_ppk_int()
    }

    /// Whether we offer RFC 9867 (USE_PPK_INT).
    pub(crate) fn wants_ppk_int(&self) -> bool {
        self.ppk
            .as_ref()
            .is_some_and(|p| p.mode == PpkMode::Rfc9867)
    }
}

/// Endpoint-wide settings.
pub struct EndpointConfig {
    /// Connections we accept as responder (and may initiate).
    pub connections: Vec<Arc<ConnectionConfig>>,
    /// Half-open IKE SAs above which IKE_SA_INIT requests must carry a COOKIE (RFC 7296 §2.6).
    pub cookie_threshold: usize,
    /// Half-open IKE SAs above which new IKE_SA_INIT requests are dropped.
    pub half_open_limit: usize,
    /// Half-open IKE SAs from one source (an address or prefix, see `source_prefix_v4`,
    /// `source_prefix_v6`) above which its requests must carry a COOKIE.
    pub cookie_threshold_per_source: usize,
    /// Half-open IKE SAs from one source above which its requests are dropped.
    pub half_open_limit_per_source: usize,
    /// How long a responder keeps a half-open IKE SA.
    pub half_open_timeout: Duration,
    /// Bytes all half-open IKE SAs together may hold (requests, responses, reassembly, and a
    /// fixed estimate per SA). Above it a request from a lighter source evicts the oldest
    /// half-open SA of the heaviest source (one holding at least two); otherwise new
    /// IKE_SA_INIT requests and fragments are dropped.
    pub half_open_memory: usize,
    /// Bytes one half-open IKE SA may hold; a larger IKE_SA_INIT request is dropped and a
    /// fragmented request that would exceed it is discarded.
    pub half_open_sa_memory: usize,
    /// Per-source limits count IPv4 sources by this prefix length (32: each address).
    pub source_prefix_v4: u8,
    /// Per-source limits count IPv6 sources by this prefix length (64: each /64, which one
    /// host usually holds whole).
    pub source_prefix_v6: u8,
    /// How long one COOKIE secret is used before the next one (RFC 7296 §2.6).
    pub cookie_secret_lifetime: Duration,
    /// How long after its replacement a COOKIE made with the previous secret is accepted.
    pub cookie_grace: Duration,
    /// Most signature checks spent on the peer's certificate chain in one IKE_AUTH.
    pub max_chain_signature_checks: u32,
    /// How long an ESP SPI stays reserved after its Child SA is gone (or its offer failed),
    /// so that a datapath still holding it never sees it reused.
    pub spi_reuse_delay: Duration,
    pub reassembly: ReassemblyLimits,
    /// Emit [`Event::IkeSaKeys`](crate::Event::IkeSaKeys) for a key log (debugging only: it
    /// exports secrets).
    pub export_keys: bool,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            connections: Vec::new(),
            cookie_threshold: 1000,
            half_open_limit: 50_000,
            cookie_threshold_per_source: 10,
            half_open_limit_per_source: 100,
            half_open_timeout: Duration::from_secs(30),
            half_open_memory: 64 << 20,
            half_open_sa_memory: 96 << 10,
            source_prefix_v4: 32,
            source_prefix_v6: 64,
            cookie_secret_lifetime: Duration::from_secs(300),
            cookie_grace: Duration::from_secs(30),
            max_chain_signature_checks: 16,
            spi_reuse_delay: Duration::from_secs(120),
            reassembly: ReassemblyLimits::default(),
            export_keys: false,
        }
    }
}

/// strongSwan's default `fragment_size`, the whole IP datagram; we subtract IP and UDP headers.
pub const DEFAULT_FRAGMENT_SIZE: usize = 1280 - 40 - 8;
