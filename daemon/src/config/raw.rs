//! The TOML file as serde sees it: every value that needs checking after parsing keeps its span,
//! so errors can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    #[serde(default)]
    pub(crate) daemon: RawDaemon,
    #[serde(default)]
    pub(crate) connections: BTreeMap<Spanned<String>, Spanned<RawConnection>>,
    #[serde(default)]
    pub(crate) secrets: RawSecrets,
    pub(crate) qkd: Option<Spanned<RawQkd>>,
    pub(crate) dataplane: Option<Spanned<RawDataplane>>,
    pub(crate) n3iwf: Option<Spanned<super::n3iwf::raw::RawN3iwf>>,
}

/// `[daemon]`: process-wide settings.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDaemon {
    pub(crate) socket: Option<Spanned<String>>,
    pub(crate) listen: Option<Vec<Spanned<String>>>,
    pub(crate) ike_port: Option<u16>,
    pub(crate) natt_port: Option<u16>,
    pub(crate) metrics: Option<Spanned<String>>,
    pub(crate) log: Option<String>,
    pub(crate) key_log: Option<Spanned<String>>,
    pub(crate) retransmit_timeout: Option<Spanned<f64>>,
    pub(crate) retransmit_tries: Option<Spanned<i64>>,
    pub(crate) retransmit_base: Option<Spanned<f64>>,
    pub(crate) retransmit_limit: Option<Spanned<f64>>,
    pub(crate) keep_alive: Option<Spanned<String>>,
    pub(crate) ike_rate_per_source: Option<Spanned<i64>>,
    pub(crate) cookie_threshold: Option<Spanned<i64>>,
    pub(crate) cookie_threshold_ip: Option<Spanned<i64>>,
    pub(crate) block_threshold: Option<Spanned<i64>>,
    pub(crate) half_open_limit: Option<Spanned<i64>>,
    pub(crate) half_open_timeout: Option<Spanned<String>>,
    pub(crate) half_open_memory: Option<Spanned<Amount>>,
    pub(crate) half_open_sa_memory: Option<Spanned<Amount>>,
    pub(crate) source_prefix_v4: Option<Spanned<i64>>,
    pub(crate) source_prefix_v6: Option<Spanned<i64>>,
    pub(crate) cookie_secret_lifetime: Option<Spanned<String>>,
    pub(crate) cookie_grace: Option<Spanned<String>>,
    pub(crate) max_chain_signature_checks: Option<Spanned<i64>>,
}

/// Declares a raw table that carries the IKE SA settings a connection shares with
/// `[n3iwf.ike]`, and its [`IkeFields`] view. The shared fields come in two runs, placed where
/// `@timers` and `@ppk` stand, so that each table keeps its field order (serde lists the
/// fields in that order when it meets an unknown one). `flatten` would share them without a
/// macro, but serde does not allow it beside `deny_unknown_fields`.
macro_rules! with_ike_fields {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $( $(#[$a_meta:meta])* $a:ident : $a_ty:ty, )*
            @timers,
            $( $(#[$b_meta:meta])* $b:ident : $b_ty:ty, )*
            @ppk,
            $( $(#[$c_meta:meta])* $c:ident : $c_ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub(crate) struct $name {
            $( $(#[$a_meta])* pub(crate) $a: $a_ty, )*
            pub(crate) fragmentation: Option<bool>,
            pub(crate) fragment_size: Option<Spanned<u32>>,
            pub(crate) dpd_delay: Option<Spanned<String>>,
            pub(crate) rekey_time: Option<Spanned<String>>,
            pub(crate) over_time: Option<Spanned<String>>,
            pub(crate) rand_time: Option<Spanned<String>>,
            $( $(#[$b_meta])* pub(crate) $b: $b_ty, )*
            pub(crate) ppk_id: Option<Spanned<String>>,
            pub(crate) ppk_required: Option<Spanned<bool>>,
            pub(crate) ppk_source: Option<Spanned<String>>,
            pub(crate) ppk_mode: Option<Spanned<String>>,
            pub(crate) qkd_peer_sae_id: Option<Spanned<String>>,
            pub(crate) hybrid: Option<Spanned<String>>,
            pub(crate) qkd_fallback: Option<Spanned<bool>>,
            $( $(#[$c_meta])* pub(crate) $c: $c_ty, )*
        }

        impl $name {
            /// The shared IKE settings, with these proposals.
            pub(crate) fn ike_fields_with<'a>(
                &'a self,
                proposals: &'a Spanned<Vec<Spanned<String>>>,
            ) -> $crate::config::raw::IkeFields<'a> {
                $crate::config::raw::IkeFields {
                    proposals,
                    fragmentation: self.fragmentation,
                    fragment_size: self.fragment_size.as_ref(),
                    rekey_time: self.rekey_time.as_ref(),
                    over_time: self.over_time.as_ref(),
                    rand_time: self.rand_time.as_ref(),
                    ppk_id: self.ppk_id.as_ref(),
                    ppk_required: self.ppk_required.as_ref(),
                    ppk_source: self.ppk_source.as_ref(),
                    ppk_mode: self.ppk_mode.as_ref(),
                    qkd_peer_sae_id: self.qkd_peer_sae_id.as_ref(),
                    hybrid: self.hybrid.as_ref(),
                    qkd_fallback: self.qkd_fallback.as_ref(),
                }
            }
        }
    };
}
pub(crate) use with_ike_fields;

with_ike_fields! {
    /// `[connections.NAME]`.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RawConnection {
        #[serde(default)]
        local_addrs: Vec<Spanned<String>>,
        #[serde(default)]
        remote_addrs: Vec<Spanned<String>>,
        remote_port: Option<u16>,
        proposals: Spanned<Vec<Spanned<String>>>,
        start_action: Option<Spanned<String>>,
        keyingtries: Option<Spanned<u32>>,
        @timers,
        reauth_time: Option<Spanned<String>>,
        @ppk,
        local: Spanned<RawAuth>,
        remote: Spanned<RawAuth>,
        #[serde(default)]
        children: BTreeMap<Spanned<String>, Spanned<RawChild>>,
    }
}

/// The IKE SA settings a connection shares with the N3IWF's NWu side (`[n3iwf.ike]`), by
/// reference, so that one validation serves both tables.
pub(crate) struct IkeFields<'a> {
    pub(crate) proposals: &'a Spanned<Vec<Spanned<String>>>,
    pub(crate) fragmentation: Option<bool>,
    pub(crate) fragment_size: Option<&'a Spanned<u32>>,
    pub(crate) rekey_time: Option<&'a Spanned<String>>,
    pub(crate) over_time: Option<&'a Spanned<String>>,
    pub(crate) rand_time: Option<&'a Spanned<String>>,
    pub(crate) ppk_id: Option<&'a Spanned<String>>,
    pub(crate) ppk_required: Option<&'a Spanned<bool>>,
    pub(crate) ppk_source: Option<&'a Spanned<String>>,
    pub(crate) ppk_mode: Option<&'a Spanned<String>>,
    pub(crate) qkd_peer_sae_id: Option<&'a Spanned<String>>,
    pub(crate) hybrid: Option<&'a Spanned<String>>,
    pub(crate) qkd_fallback: Option<&'a Spanned<bool>>,
}

impl RawConnection {
    /// The shared IKE settings, with the connection's own proposals.
    pub(crate) fn ike_fields(&self) -> IkeFields<'_> {
        self.ike_fields_with(&self.proposals)
    }
}

/// `[connections.NAME.local]` and `[connections.NAME.remote]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAuth {
    pub(crate) auth: Spanned<String>,
    pub(crate) id: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) certs: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) cacerts: Vec<Spanned<String>>,
    pub(crate) key: Option<Spanned<String>>,
}

/// `[connections.NAME.children.CHILD]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawChild {
    pub(crate) local_ts: Spanned<Vec<Spanned<String>>>,
    pub(crate) remote_ts: Spanned<Vec<Spanned<String>>>,
    pub(crate) esp_proposals: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) mode: Option<Spanned<String>>,
    pub(crate) rekey_time: Option<Spanned<String>>,
    pub(crate) life_time: Option<Spanned<String>>,
    pub(crate) rand_time: Option<Spanned<String>>,
    pub(crate) dpd_action: Option<Spanned<String>>,
    pub(crate) close_action: Option<Spanned<String>>,
    pub(crate) rekey_bytes: Option<Spanned<Amount>>,
    pub(crate) life_bytes: Option<Spanned<Amount>>,
    pub(crate) rekey_packets: Option<Spanned<Amount>>,
    pub(crate) life_packets: Option<Spanned<Amount>>,
}

/// A byte or packet count: a number, or text with a K/M/G suffix (powers of 1024).
#[derive(Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Amount {
    Number(u64),
    Text(String),
}

/// `[secrets]`: `[secrets.ike.NAME]` and `[secrets.ppk.NAME]`.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecrets {
    #[serde(default)]
    pub(crate) ike: BTreeMap<Spanned<String>, Spanned<RawIkeSecret>>,
    #[serde(default)]
    pub(crate) ppk: BTreeMap<Spanned<String>, Spanned<RawPpkSecret>>,
}

/// `[secrets.ike.NAME]`: a pre-shared key and the identities it is for.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawIkeSecret {
    #[serde(default)]
    pub(crate) ids: Vec<Spanned<String>>,
    pub(crate) secret: Option<Spanned<String>>,
    pub(crate) file: Option<Spanned<String>>,
}

/// `[secrets.ppk.NAME]`: a static post-quantum preshared key (RFC 8784).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPpkSecret {
    pub(crate) id: Spanned<String>,
    pub(crate) secret: Option<Spanned<String>>,
    pub(crate) file: Option<Spanned<String>>,
}

/// `[qkd]`: an ETSI GS QKD 014 key management entity.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawQkd {
    pub(crate) kme_url: Spanned<String>,
    pub(crate) sae_id: Spanned<String>,
    pub(crate) ca: Spanned<String>,
    pub(crate) cert: Spanned<String>,
    pub(crate) key: Spanned<String>,
    pub(crate) key_size: Option<Spanned<u32>>,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) max_requests: Option<Spanned<i64>>,
    pub(crate) max_requests_per_peer: Option<Spanned<i64>>,
}

/// `[dataplane]`: the TUN device and the ESP workers.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDataplane {
    pub(crate) tun: Option<Spanned<String>>,
    pub(crate) mtu: Option<Spanned<u32>>,
    #[serde(default)]
    pub(crate) addresses: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) routes: Vec<Spanned<String>>,
    pub(crate) local: Option<Spanned<String>>,
    pub(crate) encapsulation: Option<Spanned<String>>,
    pub(crate) workers: Option<usize>,
    pub(crate) offloads: Option<bool>,
}
