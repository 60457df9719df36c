//! The ETSI GS QKD 014 client: request building, answer checking, retries.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use hyper::{Method, StatusCode};
use tracing::{debug, warn};

use crate::api::{ErrorBody, KeyContainer, KeyIdsRequest, KeyRequest, Status};
use crate::config::ClientConfig;
use crate::error::{ProtocolError, QkdError};
use crate::flavor::{KeyDeliveryApi, Operation};
use crate::http::{Response, Transport};
use crate::key::{KeyId, QkdKey};
use crate::tls;

/// A client of one KME, acting for the SAE whose certificate it presents.
///
/// Methods may be called concurrently; each one sends one request (plus bounded retries) and
/// checks the answer against the request: key count, key size, the IDs asked for, and that no
/// key ID was ever delivered to this client before. Keys that fail a check are zeroized and
/// dropped.
pub struct KmeClient {
    api: &'static dyn KeyDeliveryApi,
    transport: Transport,
    timeout: Duration,
    retries: u32,
    backoff: Duration,
    seen: Mutex<SeenKeyIds>,
}

impl KmeClient {
    /// Builds a client: reads the PEM files and prepares TLS. Connects lazily.
    ///
    /// # Errors
    /// [`QkdError::Config`] when the URL, a PEM file or the key cannot be used.
    pub fn new(config: ClientConfig) -> Result<Self, QkdError> {
        let read = |src: &crate::PemSource, what: &str| {
            src.read()
                .map_err(|e| QkdError::Config(format!("{what} {src:?}: {e}")))
        };
        let chain = read(&config.client_cert_chain, "client certificate")?;
        let key = zeroize::Zeroizing::new(read(&config.client_key, "client key")?);
        let ca = read(&config.ca, "CA")?;
        let tls = tls::client_config(&chain, &key, &ca).map_err(QkdError::Config)?;
        Ok(Self {
            api: config.api.api(),
            transport: Transport::new(&config.kme_url, tls, config.max_connections)?,
            timeout: config.timeout,
            retries: config.retries,
            backoff: config.retry_backoff,
            seen: Mutex::new(SeenKeyIds::default()),
        })
    }

    /// The API edition in use.
    pub fn api(&self) -> &'static dyn KeyDeliveryApi {
        self.api
    }

    /// Get status (§5.1) for the pair (this SAE as master, `slave_sae_id`).
    ///
    /// # Errors
    /// Any [`QkdError`]; timeouts are retried.
    pub async fn status(&self, slave_sae_id: &str) -> Result<Status, QkdError> {
        let path = self.api.path(Operation::Status, slave_sae_id);
        let answer = self.call(Method::GET, &path, None, true).await?;
        Ok(Status::from_json(&answer.body)?)
    }

    /// Get key (§5.2) by POST: `number` new keys of `size_bits` bits shared with
    /// `slave_sae_id`. This SAE is the master.
    ///
    /// # Errors
    /// Any [`QkdError`]; a 503 (too little key material) and timeouts are retried.
    pub async fn enc_keys(
        &self,
        slave_sae_id: &str,
        number: u32,
        size_bits: u32,
    ) -> Result<Vec<QkdKey>, QkdError> {
        Ok(self
            .enc_keys_with(slave_sae_id, &KeyRequest::new(number, size_bits))
            .await?
            .keys)
    }

    /// Get key (§5.2) by GET with an optional `number` and `size` query; the KME's defaults
    /// (1 key of `key_size` bits) apply to what is left out.
    ///
    /// # Errors
    /// As [`KmeClient::enc_keys`].
    pub async fn enc_keys_get(
        &self,
        slave_sae_id: &str,
        number: Option<u32>,
        size_bits: Option<u32>,
    ) -> Result<Vec<QkdKey>, QkdError> {
        if !self.api.allows_get(Operation::EncKeys) {
            return Err(ProtocolError::Unsupported("this edition has no GET enc_keys").into());
        }
        let mut query = Vec::new();
        if let Some(n) = number {
            query.push(format!("number={n}"));
        }
        if let Some(s) = size_bits {
            query.push(format!("size={s}"));
        }
        let mut path = self.api.path(Operation::EncKeys, slave_sae_id);
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        let answer = self.call(Method::GET, &path, None, true).await?;
        let request = KeyRequest {
            number,
            size: size_bits,
            ..KeyRequest::default()
        };
        Ok(self.accept_enc(&request, &answer)?.keys)
    }

    /// Get key (§5.2) by POST with a full Key request: extensions and additional slaves are
    /// passed through, and the whole container (with `key_container_extension`) comes back.
    ///
    /// # Errors
    /// As [`KmeClient::enc_keys`].
    pub async fn enc_keys_with(
        &self,
        slave_sae_id: &str,
        request: &KeyRequest,
    ) -> Result<KeyContainer, QkdError> {
        let path = self.api.path(Operation::EncKeys, slave_sae_id);
        let body = serde_json::to_vec(request).map_err(|e| QkdError::Config(e.to_string()))?;
        // New keys only: repeating after a timeout may waste keys but never reuses one.
        let answer = self.call(Method::POST, &path, Some(body), true).await?;
        self.accept_enc(request, &answer)
    }

    /// Get key with key IDs (§5.3) by POST: the keys `key_ids` that `master_sae_id` obtained
    /// for this SAE. This SAE is the slave.
    ///
    /// # Errors
    /// Any [`QkdError`]; [`QkdError::BadRequest`] when a key is unknown (or already
    /// retrieved). A timeout is not retried, since the KME may already have handed the keys
    /// out and forgotten them.
    pub async fn dec_keys(
        &self,
        master_sae_id: &str,
        key_ids: &[KeyId],
    ) -> Result<Vec<QkdKey>, QkdError> {
        Ok(self
            .dec_keys_with(master_sae_id, &KeyIdsRequest::new(key_ids))
            .await?
            .keys)
    }

    /// Get key with key IDs (§5.3) by GET, for one key (`?key_ID=`).
    ///
    /// # Errors
    /// As [`KmeClient::dec_keys`].
    pub async fn dec_key_get(
        &self,
        master_sae_id: &str,
        key_id: KeyId,
    ) -> Result<QkdKey, QkdError> {
        if !self.api.allows_get(Operation::DecKeys) {
            return Err(ProtocolError::Unsupported("this edition has no GET dec_keys").into());
        }
        let path = format!(
            "{}?key_ID={key_id}",
            self.api.path(Operation::DecKeys, master_sae_id)
        );
        let answer = self.call(Method::GET, &path, None, false).await?;
        let mut container = self.accept_dec(&KeyIdsRequest::new(&[key_id]), &answer)?;
        container
            .keys
            .pop()
            .ok_or(QkdError::Protocol(ProtocolError::KeyCount {
                expected: 1,
                got: 0,
            }))
    }

    /// Get key with key IDs (§5.3) by POST with a full Key IDs object (extensions passed
    /// through); the whole container comes back.
    ///
    /// # Errors
    /// As [`KmeClient::dec_keys`].
    pub async fn dec_keys_with(
        &self,
        master_sae_id: &str,
        request: &KeyIdsRequest,
    ) -> Result<KeyContainer, QkdError> {
        let path = self.api.path(Operation::DecKeys, master_sae_id);
        let body = serde_json::to_vec(request).map_err(|e| QkdError::Config(e.to_string()))?;
        let answer = self.call(Method::POST, &path, Some(body), false).await?;
        self.accept_dec(request, &answer)
    }

    /// Sends with the timeout and retry policy, and turns 400/401/503 into errors.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        repeat_after_timeout: bool,
    ) -> Result<Response, QkdError> {
        let mut attempt = 0;
        loop {
            let sent = self.transport.send(method.clone(), path, body.clone());
            let result = match tokio::time::timeout(self.timeout, sent).await {
                Ok(answer) => answer.and_then(check_status),
                Err(_) => Err(QkdError::Timeout(self.timeout)),
            };
            let err = match result {
                Ok(answer) => return Ok(answer),
                Err(e) => e,
            };
            let repeatable =
                err.is_transient() || (repeat_after_timeout && matches!(err, QkdError::Timeout(_)));
            if !repeatable || attempt >= self.retries {
                return Err(err);
            }
            let wait = self
                .backoff
                .saturating_mul(1 << attempt.min(16))
                .min(MAX_BACKOFF);
            warn!(%method, path, error = %err, attempt, ?wait, "KME request failed; retrying");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    fn accept_enc(
        &self,
        request: &KeyRequest,
        answer: &Response,
    ) -> Result<KeyContainer, QkdError> {
        let container = KeyContainer::from_json(&answer.body)?;
        check_enc_answer(request, &container)?;
        self.remember(&container)?;
        for k in &container.keys {
            debug!(key_id = %k.key_id(), bits = k.size_bits(), "enc_keys delivered key");
        }
        Ok(container)
    }

    fn accept_dec(
        &self,
        request: &KeyIdsRequest,
        answer: &Response,
    ) -> Result<KeyContainer, QkdError> {
        let container = KeyContainer::from_json(&answer.body)?;
        check_dec_answer(request, &container)?;
        self.remember(&container)?;
        for k in &container.keys {
            debug!(key_id = %k.key_id(), bits = k.size_bits(), "dec_keys delivered key");
        }
        Ok(container)
    }

    fn remember(&self, container: &KeyContainer) -> Result<(), ProtocolError> {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.insert_all(container.keys.iter().map(QkdKey::key_id))
    }
}

/// Turns the statuses of §5 into errors; anything but 200 and those three is a protocol error.
fn check_status(answer: Response) -> Result<Response, QkdError> {
    let message = || match serde_json::from_slice::<ErrorBody>(&answer.body) {
        Ok(e) => (e.message, e.details),
        Err(_) => (
            String::from_utf8_lossy(&answer.body)
                .chars()
                .take(200)
                .collect(),
            Vec::new(),
        ),
    };
    match answer.status {
        StatusCode::OK => Ok(answer),
        StatusCode::BAD_REQUEST => {
            let (message, details) = message();
            Err(QkdError::BadRequest { message, details })
        }
        StatusCode::UNAUTHORIZED => Err(QkdError::Unauthorized),
        StatusCode::SERVICE_UNAVAILABLE => Err(QkdError::ServiceUnavailable {
            message: message().0,
        }),
        other => Err(ProtocolError::UnexpectedStatus(other.as_u16()).into()),
    }
}

/// `enc_keys` must return exactly `number` keys (default 1) of exactly `size` bits when given.
pub(crate) fn check_enc_answer(
    request: &KeyRequest,
    container: &KeyContainer,
) -> Result<(), ProtocolError> {
    let expected = request.number.unwrap_or(1) as usize;
    if container.keys.len() != expected {
        return Err(ProtocolError::KeyCount {
            expected,
            got: container.keys.len(),
        });
    }
    if let Some(size) = request.size {
        let expected_bits = size as usize;
        if let Some(k) = container
            .keys
            .iter()
            .find(|k| k.size_bits() != expected_bits)
        {
            return Err(ProtocolError::KeySize {
                key_id: k.key_id(),
                expected_bits,
                got_bits: k.size_bits(),
            });
        }
    }
    Ok(())
}

/// `dec_keys` must return exactly the keys asked for, each once.
pub(crate) fn check_dec_answer(
    request: &KeyIdsRequest,
    container: &KeyContainer,
) -> Result<(), ProtocolError> {
    let wanted: HashSet<KeyId> = request.key_ids.iter().map(|e| e.key_id).collect();
    if container.keys.len() != wanted.len() {
        return Err(ProtocolError::KeyCount {
            expected: wanted.len(),
            got: container.keys.len(),
        });
    }
    // Key IDs within one container are unique (checked while parsing), so equal counts and
    // membership mean the sets are equal.
    match container
        .keys
        .iter()
        .find(|k| !wanted.contains(&k.key_id()))
    {
        Some(k) => Err(ProtocolError::UnexpectedKeyId(k.key_id())),
        None => Ok(()),
    }
}

/// The key IDs this client has received, the newest [`SEEN_CAPACITY`] of them: a KME that
/// hands out a key twice is caught.
#[derive(Default)]
struct SeenKeyIds {
    set: HashSet<KeyId>,
    order: VecDeque<KeyId>,
}

impl SeenKeyIds {
    /// Records all of `ids`, or none of them if one was seen before.
    fn insert_all(
        &mut self,
        ids: impl Iterator<Item = KeyId> + Clone,
    ) -> Result<(), ProtocolError> {
        if let Some(again) = ids.clone().find(|id| self.set.contains(id)) {
            return Err(ProtocolError::ReusedKeyId(again));
        }
        for id in ids {
            if self.order.len() >= SEEN_CAPACITY
                && let Some(old) = self.order.pop_front()
            {
                self.set.remove(&old);
            }
            self.set.insert(id);
            self.order.push_back(id);
        }
        Ok(())
    }
}

const SEEN_CAPACITY: usize = 1 << 16;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use ipsec_crypto::SecretBytes;

    use super::*;

    fn container(sizes: &[usize]) -> KeyContainer {
        KeyContainer {
            keys: sizes
                .iter()
                .map(|&n| QkdKey::new(KeyId::random(), SecretBytes::zeroed(n)))
                .collect(),
            key_container_extension: None,
        }
    }

    #[test]
    fn enc_answer_count_and_size_are_checked() {
        assert!(check_enc_answer(&KeyRequest::new(2, 256), &container(&[32, 32])).is_ok());
        assert!(matches!(
            check_enc_answer(&KeyRequest::new(3, 256), &container(&[32, 32])),
            Err(ProtocolError::KeyCount {
                expected: 3,
                got: 2
            })
        ));
        assert!(matches!(
            check_enc_answer(&KeyRequest::new(2, 256), &container(&[32, 16])),
            Err(ProtocolError::KeySize {
                expected_bits: 256,
                got_bits: 128,
                ..
            })
        ));
        // Defaults: one key, any size.
        assert!(check_enc_answer(&KeyRequest::default(), &container(&[64])).is_ok());
        assert!(check_enc_answer(&KeyRequest::default(), &container(&[64, 64])).is_err());
    }

    #[test]
    fn dec_answer_must_match_the_ids_asked_for() {
        let c = container(&[32, 32]);
        let ids: Vec<KeyId> = c.keys.iter().map(QkdKey::key_id).collect();
        assert!(check_dec_answer(&KeyIdsRequest::new(&ids), &c).is_ok());
        assert!(matches!(
            check_dec_answer(&KeyIdsRequest::new(&ids[..1]), &c),
            Err(ProtocolError::KeyCount {
                expected: 1,
                got: 2
            })
        ));
        let other = [ids[0], KeyId::random()];
        assert!(matches!(
            check_dec_answer(&KeyIdsRequest::new(&other), &c),
            Err(ProtocolError::UnexpectedKeyId(_))
        ));
    }

    #[test]
    fn a_key_id_is_accepted_once() {
        let mut seen = SeenKeyIds::default();
        let a = KeyId::random();
        let b = KeyId::random();
        seen.insert_all([a].into_iter()).unwrap();
        assert_eq!(
            seen.insert_all([b, a].into_iter()),
            Err(ProtocolError::ReusedKeyId(a))
        );
        // Nothing of a refused batch is recorded.
        seen.insert_all([b].into_iter()).unwrap();
    }

    #[test]
    fn status_codes_map_to_typed_errors() {
        let answer = |status: u16, body: &str| Response {
            status: StatusCode::from_u16(status).unwrap(),
            body: zeroize::Zeroizing::new(body.as_bytes().to_vec()),
        };
        match check_status(answer(
            400,
            r#"{"message":"size shall be a multiple of 8"}"#,
        )) {
            Err(QkdError::BadRequest { message, details }) => {
                assert_eq!(message, "size shall be a multiple of 8");
                assert!(details.is_empty());
            }
            _ => panic!("expected BadRequest"),
        }
        assert!(matches!(
            check_status(answer(401, "")),
            Err(QkdError::Unauthorized)
        ));
        match check_status(answer(503, r#"{"message":"no keys"}"#)) {
            Err(QkdError::ServiceUnavailable { message }) => assert_eq!(message, "no keys"),
            _ => panic!("expected ServiceUnavailable"),
        }
        assert!(matches!(
            check_status(answer(404, "")),
            Err(QkdError::Protocol(ProtocolError::UnexpectedStatus(404)))
        ));
        assert!(check_status(answer(200, "{}")).is_ok());
    }
}
