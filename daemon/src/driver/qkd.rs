//! QKD keys as PPKs (ETSI GS QKD 014): on [`Event::PpkNeeded`](ikev2::Event::PpkNeeded) a
//! spawned task asks the KME (`enc_keys` as initiator, the master SAE; `dec_keys` with the
//! initiator's PPK_ID as responder, the slave SAE) and the answer comes back to the driver,
//! which hands it to the engine with `provide_ppk`. The KME's key_ID, in its hyphenated UUID
//! form, is the PPK_ID. Any failure answers `None`: the connection's policy then fails closed,
//! or falls back to ML-KEM alone with `qkd_fallback`.
//!
//! With RFC 9867 negotiated, every CREATE_CHILD_SA (new Child SA, Child SA rekey, IKE SA rekey)
//! asks again, so each rekey consumes a fresh QKD key. A failed fetch at rekey time is logged
//! and counted (`qkd_rekey_key_failures`); with a required PPK the engine then does not rekey,
//! the old SAs keep working until their hard lifetime, and the rekey is retried.

use std::net::IpAddr;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ikev2::{PpkExchange, SaId};
use ipsec_crypto::SecretBytes;
use qkd_client::{ClientConfig, KeyId, KmeClient};
use tokio::sync::mpsc;

use super::kme_limits::Admission;
use super::{Driver, sa_name};
use crate::config::{HybridPolicy, PpkSourceKind, QkdSettings};
use crate::proto::{MonitorEvent, PpkView};

/// The KME client built from `[qkd]`.
pub(super) struct QkdSource {
    pub(super) settings: QkdSettings,
    client: Arc<KmeClient>,
}

/// A finished KME request. Holds the key, so it is neither `Clone` nor `Debug`.
pub(super) struct PpkAnswer {
    sa: SaId,
    peer_addr: IpAddr,
    exchange: PpkExchange,
    operation: &'static str,
    took: Duration,
    result: Result<(KeyId, SecretBytes), String>,
}

/// What happened to one IKE SA's PPK request.
#[derive(Clone, Debug, Default)]
pub(super) struct PpkRecord {
    pub(super) operation: &'static str,
    /// The exchange of the latest request (`initial`, `rekey-child`, ...).
    pub(super) exchange: &'static str,
    pub(super) pending: bool,
    pub(super) key_id: Option<String>,
    pub(super) error: Option<String>,
}

impl QkdSource {
    /// Reads the PEM files; logs and returns `None` when they cannot be used (every QKD PPK
    /// request then fails, closed unless `qkd_fallback`).
    pub(super) fn new(settings: &QkdSettings) -> Option<Self> {
        let mut c = ClientConfig::new(
            settings.kme_url.clone(),
            settings.cert.clone(),
            settings.key.clone(),
            settings.ca.clone(),
        );
        // Two attempts fit in the overall limit the driver puts on each request.
        c.timeout = (settings.timeout / 2).max(Duration::from_millis(50));
        c.retries = 1;
        c.retry_backoff = Duration::from_millis(100);
        c.max_connections = settings.max_requests;
        match KmeClient::new(c) {
            Ok(client) => Some(Self {
                settings: settings.clone(),
                client: Arc::new(client),
            }),
            Err(e) => {
                tracing::error!(kme = %settings.kme_url, error = %e, "cannot set up the KME client; QKD PPKs will be unavailable");
                None
            }
        }
    }
}

impl Driver {
    /// Asks the KME for the status of every peer SAE a connection uses, in the background: it
    /// reports an unreachable KME at start rather than at the first IKE SA, and leaves a TLS
    /// connection open for the first key request. Takes no key.
    pub(super) fn probe_kme(&self) {
        let Some(qkd) = self.qkd.as_ref() else { return };
        let mut peers: Vec<String> = self
            .conns
            .iter()
            .filter_map(|c| c.conn.qkd_peer_sae_id.clone())
            .collect();
        peers.sort();
        peers.dedup();
        for peer in peers {
            let (client, url) = (Arc::clone(&qkd.client), qkd.settings.kme_url.clone());
            tokio::spawn(async move {
                match tokio::time::timeout(PROBE_LIMIT, client.status(&peer)).await {
                    Ok(Ok(s)) => {
                        tracing::info!(kme = %url, peer_sae = %peer, stored_keys = s.stored_key_count, key_size = s.key_size, "KME reachable")
                    }
                    Ok(Err(e)) => {
                        tracing::warn!(kme = %url, peer_sae = %peer, error = %e, "KME status failed; QKD connections will fail closed until it answers")
                    }
                    Err(_) => {
                        tracing::warn!(kme = %url, peer_sae = %peer, "KME status: no answer; QKD connections will fail closed until it answers")
                    }
                }
            });
        }
    }

    /// Starts (or queues) the KME request for an IKE SA; never blocks the endpoint task. The
    /// work is O(1) in the number of SAs.
    pub(super) fn ppk_needed(&mut self, sa: SaId, ppk_id: Option<Vec<u8>>, exchange: PpkExchange) {
        let operation = if ppk_id.is_none() {
            "enc_keys"
        } else {
            "dec_keys"
        };
        let (connection, peer_addr) = match self.sas.get(&sa) {
            Some(e) => (Some(e.connection.clone()), Some(e.remote.ip())),
            None => self
                .endpoint
                .sa(sa)
                .map_or((None, None), |s| (Some(s.connection), Some(s.remote.ip()))),
        };
        let peer = connection
            .as_deref()
            .and_then(|c| self.conn(c))
            .and_then(|c| c.qkd_peer_sae_id.clone());
        let (Some(qkd), Some(peer), Some(peer_addr)) = (self.qkd.as_ref(), peer, peer_addr) else {
            let why = if self.qkd.is_none() {
                "no usable [qkd] KME client"
            } else {
                "the connection names no qkd_peer_sae_id"
            };
            self.ppk_refused(sa, operation, exchange, why.into());
            return;
        };
        tracing::info!(ike_sa = %sa_name(sa), operation, exchange = exchange.as_str(), peer_sae = %peer, "requesting a QKD key from the KME");
        // A rekey keeps showing the key in use until the new one arrives.
        let previous = self.ppk.get(&sa).and_then(|r| r.key_id.clone());
        self.ppk.insert(
            sa,
            PpkRecord {
                operation,
                exchange: exchange.as_str(),
                pending: true,
                key_id: previous,
                ..PpkRecord::default()
            },
        );
        let job = Fetch {
            client: Arc::clone(&qkd.client),
            sa,
            peer_addr,
            exchange,
            operation,
            peer,
            bits: qkd.settings.key_size,
            limit: qkd.settings.timeout,
            ppk_id,
        };
        let (max, per_peer) = (
            qkd.settings.max_requests,
            qkd.settings.max_requests_per_peer,
        );
        match self.kme_requests.admit(peer_addr, job, max, per_peer) {
            Admission::Run(job) => {
                tokio::spawn(fetch(job, self.ppk_tx.clone()));
            }
            Admission::Queued => self.count("qkd_requests_queued"),
            Admission::Refused(why) => {
                self.count("qkd_requests_refused");
                tracing::warn!(ike_sa = %sa_name(sa), peer = %peer_addr, reason = %why, "KME request refused");
                self.ppk_refused(sa, operation, exchange, why);
            }
        }
    }

    /// Answers the engine at once: no PPK, and why.
    fn ppk_refused(
        &mut self,
        sa: SaId,
        operation: &'static str,
        exchange: PpkExchange,
        why: String,
    ) {
        let previous = self.ppk.get(&sa).and_then(|r| r.key_id.clone());
        self.ppk.insert(
            sa,
            PpkRecord {
                operation,
                exchange: exchange.as_str(),
                key_id: previous.filter(|_| exchange != PpkExchange::Initial),
                error: Some(why),
                ..PpkRecord::default()
            },
        );
        self.count_key_failure(exchange);
        // An SA that no longer waits for its PPK needs no answer.
        let _ = self.endpoint.provide_ppk(Instant::now(), sa, None);
    }

    /// A request ended: its slot goes to the next queued one.
    fn kme_request_done(&mut self, peer_addr: IpAddr) {
        let max = self.qkd.as_ref().map_or(1, |q| q.settings.max_requests);
        if let Some(next) = self.kme_requests.finished(peer_addr, max) {
            tokio::spawn(fetch(next, self.ppk_tx.clone()));
        }
    }

    fn count_key_failure(&mut self, exchange: PpkExchange) {
        self.count("qkd_key_failures");
        if exchange != PpkExchange::Initial {
            self.count("qkd_rekey_key_failures");
        }
    }

    /// Hands a KME answer to the engine and records it.
    pub(super) fn ppk_answer(&mut self, answer: PpkAnswer) {
        let PpkAnswer {
            sa,
            peer_addr,
            exchange,
            operation,
            took,
            result,
        } = answer;
        self.kme_request_done(peer_addr);
        let rekey = exchange != PpkExchange::Initial;
        let (record, ppk) = match result {
            Ok((id, key)) => {
                self.count("qkd_keys_received");
                if rekey {
                    self.count("qkd_rekey_keys_received");
                }
                let id = id.to_string();
                tracing::info!(ike_sa = %sa_name(sa), operation, exchange = exchange.as_str(), key_id = %id, micros = took.as_micros(), "QKD key received");
                (
                    PpkRecord {
                        operation,
                        exchange: exchange.as_str(),
                        key_id: Some(id.clone()),
                        ..PpkRecord::default()
                    },
                    Some((id.into_bytes(), key)),
                )
            }
            Err(e) => {
                self.count_key_failure(exchange);
                if rekey {
                    tracing::warn!(ike_sa = %sa_name(sa), operation, exchange = exchange.as_str(), error = %e, "no QKD key for the rekey: the current SAs stay until their lifetime");
                } else {
                    tracing::warn!(ike_sa = %sa_name(sa), operation, error = %e, "no QKD key");
                }
                let previous = self.ppk.get(&sa).and_then(|r| r.key_id.clone());
                (
                    PpkRecord {
                        operation,
                        exchange: exchange.as_str(),
                        key_id: previous.filter(|_| rekey),
                        error: Some(e),
                        ..PpkRecord::default()
                    },
                    None,
                )
            }
        };
        if let Some(entry) = self.sas.get_mut(&sa) {
            entry.timings.step(&format!("qkd {operation}"), took);
        }
        let connection = self.sas.get(&sa).map(|e| e.connection.clone());
        self.ppk.insert(sa, record);
        if let Err(e) = self.endpoint.provide_ppk(Instant::now(), sa, ppk) {
            tracing::debug!(ike_sa = %sa_name(sa), "the IKE SA no longer waits for its PPK: {e}");
            return;
        }
        if let Some(view) = connection
            .as_deref()
            .and_then(|c| self.ppk_view(sa, c, None))
        {
            let _ = self.events.send(MonitorEvent::PpkResolved {
                connection,
                ike_sa: sa_name(sa),
                ppk: view,
            });
        }
    }

    /// The PPK of an IKE SA as listed: configured source, whether it was used (`None` while
    /// connecting) and why.
    pub(super) fn ppk_view(
        &self,
        sa: SaId,
        connection: &str,
        used: Option<bool>,
    ) -> Option<PpkView> {
        let conn = self.conn(connection)?;
        let r = conn.ppk.as_ref()?;
        let record = self.ppk.get(&sa);
        let used_flag = used.unwrap_or(false);
        let (source, id, reason) = match r.source {
            PpkSourceKind::Secrets => {
                let reason = match used {
                    Some(true) => "static PPK from [secrets.ppk]".to_string(),
                    Some(false) => {
                        "the peer did not use the PPK (ppk_required = false allowed NO_PPK_AUTH)"
                            .to_string()
                    }
                    None => "static PPK, not yet used".to_string(),
                };
                ("static", Some(r.id.clone()), reason)
            }
            PpkSourceKind::Qkd => {
                let key_id = record.and_then(|x| x.key_id.clone());
                let reason = qkd_reason(
                    record,
                    used,
                    conn.qkd_fallback && conn.hybrid == HybridPolicy::PqcQkd,
                );
                ("qkd", key_id, reason)
            }
        };
        Some(PpkView {
            source: source.into(),
            used: used_flag,
            id,
            reason,
        })
    }

    /// Counts and logs how a PPK policy played out for a new IKE SA.
    pub(super) fn count_ppk_outcome(&mut self, sa: SaId, connection: &str, used: bool) {
        let Some(conn) = self.conn(connection) else {
            return;
        };
        let Some(r) = conn.ppk.as_ref() else { return };
        let (source, fallback) = (r.source, conn.qkd_fallback);
        match (source, used) {
            (_, true) => self.count("ike_sas_with_ppk"),
            (PpkSourceKind::Qkd, false) if fallback => {
                let why = self
                    .ppk
                    .get(&sa)
                    .and_then(|x| x.error.clone())
                    .unwrap_or_else(|| "the peer used no PPK".into());
                tracing::warn!(ike_sa = %sa_name(sa), %connection, reason = %why, "QKD key unavailable: IKE SA keyed by ML-KEM alone (qkd_fallback)");
                self.count("qkd_fallbacks");
            }
            (_, false) => self.count("ike_sas_without_ppk"),
        }
    }

    /// Why an established IKE SA breaks its connection's policy, if it does: a defence in
    /// depth behind the proposal checks and the engine's required PPK.
    pub(super) fn policy_violation(
        &self,
        connection: &str,
        ppk_used: bool,
        proposal: &str,
    ) -> Option<String> {
        let conn = self.conn(connection)?;
        if conn.hybrid.needs_pqc() && !proposal.contains("mlkem") {
            return Some(format!(
                "policy {} needs ML-KEM, negotiated {proposal}",
                conn.hybrid.as_str()
            ));
        }
        if conn.hybrid.needs_qkd() && !ppk_used && !conn.qkd_fallback {
            return Some(format!(
                "policy {} needs a QKD PPK and none was used",
                conn.hybrid.as_str()
            ));
        }
        None
    }
}

/// One KME request: for which SA (and its peer's address) and exchange, from which peer SAE,
/// within what time.
pub(super) struct Fetch {
    client: Arc<KmeClient>,
    sa: SaId,
    peer_addr: IpAddr,
    exchange: PpkExchange,
    operation: &'static str,
    peer: String,
    bits: u32,
    limit: Duration,
    ppk_id: Option<Vec<u8>>,
}

async fn fetch(job: Fetch, tx: mpsc::Sender<PpkAnswer>) {
    let start = Instant::now();
    let limit = job.limit;
    let asked = request(&job.client, &job.peer, job.bits, job.ppk_id);
    let result = match tokio::time::timeout(limit, asked).await {
        Ok(r) => r,
        Err(_) => Err(format!("the KME gave no key within {limit:?}")),
    };
    let _ = tx
        .send(PpkAnswer {
            sa: job.sa,
            peer_addr: job.peer_addr,
            exchange: job.exchange,
            operation: job.operation,
            took: start.elapsed(),
            result,
        })
        .await;
}

/// `enc_keys` for a fresh key (we are the master SAE), or `dec_keys` for the key the initiator
/// named (we are the slave SAE). Either way the key must have the size asked for: a PPK of
/// another size would not be the one the other side uses (and a short one is weak).
async fn request(
    client: &KmeClient,
    peer: &str,
    bits: u32,
    ppk_id: Option<Vec<u8>>,
) -> Result<(KeyId, SecretBytes), String> {
    let mut keys = match ppk_id {
        None => client
            .enc_keys(peer, 1, bits)
            .await
            .map_err(|e| e.to_string())?,
        Some(raw) => {
            let id = peer_key_id(&raw)?;
            client
                .dec_keys(peer, &[id])
                .await
                .map_err(|e| e.to_string())?
        }
    };
    let key = keys
        .pop()
        .ok_or_else(|| "the KME answered without a key".to_string())?;
    let (id, secret) = key.into_secret();
    let got = secret.expose().len() * 8;
    if u32::try_from(got).ok() != Some(bits) {
        // Dropping `secret` zeroizes it.
        return Err(format!(
            "the KME's key {id} has {got} bits, not the {bits} of qkd.key_size"
        ));
    }
    Ok((id, secret))
}

/// The peer's PPK_ID as a KME key_ID: exactly the 36 characters of a hyphenated UUID. It comes
/// from a peer not yet authenticated, so its length is checked before anything else.
fn peer_key_id(raw: &[u8]) -> Result<KeyId, String> {
    if raw.len() != KEY_ID_LEN {
        return Err(format!(
            "the peer's PPK_ID is not a KME key_ID ({} bytes, not {KEY_ID_LEN})",
            raw.len()
        ));
    }
    let text = std::str::from_utf8(raw)
        .map_err(|_| "the peer's PPK_ID is not a KME key_ID (not UTF-8)".to_string())?;
    KeyId::from_str(text).map_err(|e| format!("the peer's PPK_ID is not a KME key_ID: {e}"))
}

/// A key_ID in its hyphenated UUID form.
const KEY_ID_LEN: usize = 36;

/// How long the start-up KME probe may take.
const PROBE_LIMIT: Duration = Duration::from_secs(5);

fn qkd_reason(record: Option<&PpkRecord>, used: Option<bool>, fallback: bool) -> String {
    let Some(r) = record else {
        return match used {
            Some(false) if fallback => {
                "the peer offered no QKD key; keyed by ML-KEM alone (qkd_fallback)".into()
            }
            Some(false) => "the peer offered no QKD key".into(),
            _ => "no KME request yet".into(),
        };
    };
    if r.pending {
        return format!("waiting for the KME ({}{})", r.operation, rekey_note(r));
    }
    let reason = match (&r.error, used) {
        (Some(e), Some(false)) if fallback => format!(
            "KME {}: {e}; keyed by ML-KEM alone (qkd_fallback)",
            r.operation
        ),
        (Some(e), _) => format!("KME {}: {e}", r.operation),
        (None, Some(true)) => format!("QKD key from {}", r.operation),
        (None, Some(false)) => format!("QKD key from {}, but the peer did not use it", r.operation),
        (None, None) => format!("QKD key from {}, not yet used", r.operation),
    };
    format!("{reason}{}", rekey_note(r))
}

/// Names the CREATE_CHILD_SA exchange the latest key was for (empty for the initial one).
fn rekey_note(r: &PpkRecord) -> String {
    match r.exchange {
        "" | "initial" => String::new(),
        e => format!(" (for {e})"),
    }
}
