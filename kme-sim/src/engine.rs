//! The simulated pair of KMEs as a state machine: requests and the time in, answers out.
//!
//! KME A and KME B share one [`KeyPool`] per unordered SAE pair. `enc_keys` at one KME takes
//! material from the pool, hands the keys to the calling master and leaves a copy waiting at
//! the *other* KME for the slave named in the path. `dec_keys` there hands each waiting key to
//! that slave once and forgets it. Roles are per request: either KME serves a master or a
//! slave, so both directions of an SAE pair work.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::time::Duration;

use ipsec_crypto::SecretBytes;
use qkd_client::api::{ErrorBody, KeyContainer, KeyRequest, Status};
use qkd_client::{KeyId, QkdKey};

use crate::pool::{KeyPool, PoolConfig};

/// The messages ETSI GS QKD 014 V1.1.1 mandates for HTTP 400 (§5.2, §5.3).
pub mod messages {
    /// Requested `size` is not a whole number of bytes.
    pub const SIZE_NOT_MULTIPLE_OF_8: &str = "size shall be a multiple of 8";
    /// An `extension_mandatory` parameter name is unknown to the KME.
    pub const EXTENSION_MANDATORY_UNSUPPORTED: &str =
        "not all extension_mandatory parameters are supported";
    /// An `extension_mandatory` parameter is known but its value cannot be honoured.
    pub const EXTENSION_MANDATORY_UNMET: &str =
        "not all extension_mandatory request options could be met";
    /// A `dec_keys` key ID is unknown at this KME (or already handed out).
    pub const KEYS_NOT_FOUND: &str = "one or more keys specified are not found on KME";
}

/// The one `extension_mandatory` parameter the simulator knows: `"direct"` is met, any other
/// route type cannot be (there is only the one link).
pub const ROUTE_TYPE_EXTENSION: &str = "qkdsim_route_type";

/// Which of the two KMEs a request reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KmeSide {
    /// KME A (in the usual setup, the master SAE's KME).
    A,
    /// KME B (in the usual setup, the slave SAE's KME).
    B,
}

impl KmeSide {
    /// The other KME.
    pub fn peer(self) -> Self {
        match self {
            Self::A => Self::B,
            Self::B => Self::A,
        }
    }
}

/// Settings of the simulated KME pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreConfig {
    /// KME ID of KME A.
    pub kme_a_id: String,
    /// KME ID of KME B.
    pub kme_b_id: String,
    /// Size and rate of each SAE pair's pool.
    pub pool: PoolConfig,
    /// The most SAE pairs with a pool; requests for further pairs get 503.
    pub max_sae_pairs: usize,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            kme_a_id: "KME_A".to_owned(),
            kme_b_id: "KME_B".to_owned(),
            pool: PoolConfig::default(),
            max_sae_pairs: 256,
        }
    }
}

/// A refusal, as the KME answers it (§5: 400, 401 or 503).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// 400 with an Error body.
    BadRequest(String),
    /// 401 without a body.
    Unauthorized,
    /// 503 with an Error body.
    Unavailable(String),
}

impl SimError {
    /// The HTTP status code.
    pub fn http_status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized => 401,
            Self::Unavailable(_) => 503,
        }
    }

    /// The Error body, if the status carries one.
    pub fn body(&self) -> Option<ErrorBody> {
        match self {
            Self::BadRequest(m) | Self::Unavailable(m) => Some(ErrorBody::new(m.clone())),
            Self::Unauthorized => None,
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRequest(m) => write!(f, "400 {m}"),
            Self::Unauthorized => f.write_str("401 Unauthorized"),
            Self::Unavailable(m) => write!(f, "503 {m}"),
        }
    }
}

/// The state of both KMEs.
pub struct KmeCore {
    config: CoreConfig,
    pairs: HashMap<PairId, PairState>,
    waiting: HashMap<KeyId, WaitingKey>,
}

impl KmeCore {
    /// KMEs with no SAE pair yet.
    pub fn new(config: CoreConfig) -> Self {
        Self {
            config,
            pairs: HashMap::new(),
            waiting: HashMap::new(),
        }
    }

    /// Get status (§5.1) at `side`, called by `master` for `slave`.
    ///
    /// # Errors
    /// 400 for an unusable SAE ID, 503 when no further SAE pair fits.
    pub fn status(
        &mut self,
        now: Duration,
        side: KmeSide,
        master: &str,
        slave: &str,
    ) -> Result<Status, SimError> {
        let pool_config = self.config.pool.clone();
        let source_kme_id = self.kme_id(side).to_owned();
        let target_kme_id = self.kme_id(side.peer()).to_owned();
        let pair = self.pair_mut(now, master, slave)?;
        Ok(Status {
            source_kme_id,
            target_kme_id,
            master_sae_id: master.to_owned(),
            slave_sae_id: slave.to_owned(),
            key_size: pool_config.key_size,
            stored_key_count: pair.pool.stored_key_count(pool_config.key_size),
            max_key_count: pool_config.max_key_count,
            max_key_per_request: pool_config.max_key_per_request,
            max_key_size: pool_config.max_key_size,
            min_key_size: pool_config.min_key_size,
            max_sae_id_count: 0,
            status_extension: None,
        })
    }

    /// Get key (§5.2) at `side`, called by `master` for `slave`.
    ///
    /// # Errors
    /// 400 with the mandated message for a bad size or extension, 400 for a bad number or
    /// multicast, 503 when the pool or the peer KME's store cannot take the request.
    pub fn enc_keys(
        &mut self,
        now: Duration,
        side: KmeSide,
        master: &str,
        slave: &str,
        request: &KeyRequest,
    ) -> Result<KeyContainer, SimError> {
        check_mandatory_extensions(request)?;
        if !request.additional_slave_sae_ids.is_empty() {
            return Err(SimError::BadRequest(
                "additional_slave_SAE_IDs is not supported (max_SAE_ID_count is 0)".to_owned(),
            ));
        }
        let (size, number) = self.check_size_and_number(request)?;
        // Draw the keys first, so that a failure leaves no trace in the pool.
        let mut fresh: Vec<(KeyId, SecretBytes)> = Vec::with_capacity(number as usize);
        for _ in 0..number {
            let key_id = self
                .unused_key_id(&fresh)
                .ok_or_else(|| SimError::Unavailable("cannot draw an unused key_ID".to_owned()))?;
            let mut secret = SecretBytes::zeroed(size as usize / 8);
            aws_lc_rs::rand::fill(secret.expose_mut())
                .map_err(|_| SimError::Unavailable("random number generator failed".to_owned()))?;
            fresh.push((key_id, secret));
        }
        let max_waiting = self.config.pool.max_key_count;
        let peer_id = self.kme_id(side.peer()).to_owned();
        let pair_id = PairId::new(master, slave);
        let pair = self.pair_mut(now, master, slave)?;
        if pair.waiting + u64::from(number) > max_waiting {
            return Err(SimError::Unavailable(format!(
                "key store of {peer_id} is full: {} keys of this SAE pair await dec_keys",
                pair.waiting
            )));
        }
        let bits = u64::from(number) * u64::from(size);
        pair.pool.take(bits).map_err(|available| {
            SimError::Unavailable(format!(
                "not enough key material: {bits} bits requested, {available} available"
            ))
        })?;
        pair.waiting += u64::from(number);
        let mut keys = Vec::with_capacity(fresh.len());
        for (key_id, secret) in fresh {
            let waiting = WaitingKey {
                key: secret.dangerous_duplicate(),
                master: master.to_owned(),
                slave: slave.to_owned(),
                at: side.peer(),
                pair: pair_id.clone(),
            };
            self.waiting.insert(key_id, waiting);
            keys.push(QkdKey::new(key_id, secret));
        }
        Ok(KeyContainer {
            keys,
            key_container_extension: None,
        })
    }

    /// Get key with key IDs (§5.3) at `side`, called by `caller` naming `master`. All keys or
    /// none are handed out; each one only to the slave named in its `enc_keys`, and only once.
    ///
    /// # Errors
    /// 400 "one or more keys specified are not found on KME" for an ID unknown here (never
    /// issued, issued at this KME, issued by another master, already handed out, or named
    /// twice); 401 when `caller` is not the slave of a key.
    pub fn dec_keys(
        &mut self,
        side: KmeSide,
        caller: &str,
        master: &str,
        key_ids: &[KeyId],
    ) -> Result<KeyContainer, SimError> {
        if key_ids.is_empty() {
            return Err(SimError::BadRequest(
                "key_IDs shall name at least one key".to_owned(),
            ));
        }
        if key_ids.len() > self.config.pool.max_key_per_request as usize {
            return Err(SimError::BadRequest(format!(
                "at most {} key_IDs per request",
                self.config.pool.max_key_per_request
            )));
        }
        for (i, id) in key_ids.iter().enumerate() {
            let here = self
                .waiting
                .get(id)
                .is_some_and(|w| w.at == side && w.master == master);
            if !here || key_ids[..i].contains(id) {
                return Err(SimError::BadRequest(messages::KEYS_NOT_FOUND.to_owned()));
            }
        }
        if key_ids
            .iter()
            .any(|id| self.waiting.get(id).is_some_and(|w| w.slave != caller))
        {
            return Err(SimError::Unauthorized);
        }
        let mut keys = Vec::with_capacity(key_ids.len());
        for id in key_ids {
            let Some(w) = self.waiting.remove(id) else {
                // Checked above under the same `&mut self`.
                return Err(SimError::BadRequest(messages::KEYS_NOT_FOUND.to_owned()));
            };
            if let Some(pair) = self.pairs.get_mut(&w.pair) {
                pair.waiting = pair.waiting.saturating_sub(1);
            }
            keys.push(QkdKey::new(*id, w.key));
        }
        Ok(KeyContainer {
            keys,
            key_container_extension: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// Keys handed to a master and not yet to the slave, at both KMEs.
    pub fn waiting_key_count(&self) -> usize {
        self.waiting.len()
    }

    fn kme_id(&self, side: KmeSide) -> &str {
        match side {
            KmeSide::A => &self.config.kme_a_id,
            KmeSide::B => &self.config.kme_b_id,
        }
    }

    fn check_size_and_number(&self, request: &KeyRequest) -> Result<(u32, u32), SimError> {
        let pool = &self.config.pool;
        let size = request.size.unwrap_or(pool.key_size);
        if !size.is_multiple_of(8) {
            return Err(SimError::BadRequest(
                messages::SIZE_NOT_MULTIPLE_OF_8.to_owned(),
            ));
        }
        if size < pool.min_key_size || size > pool.max_key_size {
            return Err(SimError::BadRequest(format!(
                "size shall be between min_key_size {} and max_key_size {}",
                pool.min_key_size, pool.max_key_size
            )));
        }
        let number = request.number.unwrap_or(1);
        if number == 0 || number > pool.max_key_per_request {
            return Err(SimError::BadRequest(format!(
                "number shall be between 1 and max_key_per_request {}",
                pool.max_key_per_request
            )));
        }
        Ok((size, number))
    }

    /// The pair's state, refilled to `now`; created on first use.
    fn pair_mut(&mut self, now: Duration, a: &str, b: &str) -> Result<&mut PairState, SimError> {
        for id in [a, b] {
            if id.is_empty() || id.len() > MAX_SAE_ID_LEN {
                return Err(SimError::BadRequest(format!(
                    "SAE IDs shall have 1 to {MAX_SAE_ID_LEN} bytes"
                )));
            }
        }
        let full = self.pairs.len() >= self.config.max_sae_pairs;
        let pair = match self.pairs.entry(PairId::new(a, b)) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(_) if full => {
                return Err(SimError::Unavailable(
                    "no room for another SAE pair".to_owned(),
                ));
            }
            Entry::Vacant(e) => e.insert(PairState {
                pool: KeyPool::new(&self.config.pool, now),
                waiting: 0,
            }),
        };
        pair.pool.refill(now);
        Ok(pair)
    }

    fn unused_key_id(&self, batch: &[(KeyId, SecretBytes)]) -> Option<KeyId> {
        // 122 random bits: a collision is practically impossible, but a reused ID would hand
        // out the wrong key, so it is checked.
        (0..MAX_KEY_ID_DRAWS)
            .map(|_| KeyId::random())
            .find(|id| !self.waiting.contains_key(id) && batch.iter().all(|(b, _)| b != id))
    }
}

/// Only [`ROUTE_TYPE_EXTENSION`] is known; `"direct"` is the only route it can meet.
fn check_mandatory_extensions(request: &KeyRequest) -> Result<(), SimError> {
    let params = request.extension_mandatory.iter().flat_map(|o| o.iter());
    if params.clone().any(|(name, _)| name != ROUTE_TYPE_EXTENSION) {
        return Err(SimError::BadRequest(
            messages::EXTENSION_MANDATORY_UNSUPPORTED.to_owned(),
        ));
    }
    if params
        .clone()
        .any(|(_, value)| value.as_str() != Some("direct"))
    {
        return Err(SimError::BadRequest(
            messages::EXTENSION_MANDATORY_UNMET.to_owned(),
        ));
    }
    Ok(())
}

/// An unordered SAE pair: both directions share one pool.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PairId(String, String);

impl PairId {
    fn new(a: &str, b: &str) -> Self {
        if a <= b {
            Self(a.to_owned(), b.to_owned())
        } else {
            Self(b.to_owned(), a.to_owned())
        }
    }
}

struct PairState {
    pool: KeyPool,
    /// Keys of this pair handed to a master and waiting for the slave.
    waiting: u64,
}

/// A key handed to its master, waiting at the slave's KME.
struct WaitingKey {
    key: SecretBytes,
    master: String,
    slave: String,
    at: KmeSide,
    pair: PairId,
}

const MAX_SAE_ID_LEN: usize = 256;
const MAX_KEY_ID_DRAWS: usize = 4;

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const T0: Duration = Duration::ZERO;

    fn core(pool: PoolConfig) -> KmeCore {
        KmeCore::new(CoreConfig {
            pool,
            ..CoreConfig::default()
        })
    }

    fn ids(c: &KeyContainer) -> Vec<KeyId> {
        c.keys.iter().map(QkdKey::key_id).collect()
    }

    #[test]
    fn enc_then_dec_at_the_peer_kme_gives_the_same_bytes_once() {
        let mut kme = core(PoolConfig::default());
        let enc = kme
            .enc_keys(T0, KmeSide::A, "alice", "bob", &KeyRequest::new(3, 256))
            .unwrap();
        assert_eq!(enc.keys.len(), 3);
        let dec = kme
            .dec_keys(KmeSide::B, "bob", "alice", &ids(&enc))
            .unwrap();
        for (e, d) in enc.keys.iter().zip(&dec.keys) {
            assert_eq!(e.key_id(), d.key_id());
            assert_eq!(e.dangerous_key(), d.dangerous_key());
            assert_eq!(e.size_bits(), 256);
        }
        assert_eq!(
            kme.dec_keys(KmeSide::B, "bob", "alice", &ids(&enc)[..1])
                .err(),
            Some(SimError::BadRequest(messages::KEYS_NOT_FOUND.to_owned()))
        );
        assert_eq!(kme.waiting_key_count(), 0);
    }

    #[test]
    fn dec_keys_refuses_wrong_kme_master_caller_and_duplicates() {
        let mut kme = core(PoolConfig::default());
        let enc = kme
            .enc_keys(T0, KmeSide::A, "alice", "bob", &KeyRequest::default())
            .unwrap();
        let id = ids(&enc);
        let not_found = Some(SimError::BadRequest(messages::KEYS_NOT_FOUND.to_owned()));
        assert_eq!(
            kme.dec_keys(KmeSide::A, "bob", "alice", &id).err(),
            not_found,
            "master's KME"
        );
        assert_eq!(
            kme.dec_keys(KmeSide::B, "bob", "carol", &id).err(),
            not_found,
            "other master"
        );
        assert_eq!(
            kme.dec_keys(KmeSide::B, "bob", "alice", &[id[0], id[0]])
                .err(),
            not_found
        );
        assert_eq!(
            kme.dec_keys(KmeSide::B, "bob", "alice", &[KeyId::random()])
                .err(),
            not_found
        );
        let unauthorized = Some(SimError::Unauthorized);
        assert_eq!(
            kme.dec_keys(KmeSide::B, "carol", "alice", &id).err(),
            unauthorized
        );
        assert_eq!(
            kme.dec_keys(KmeSide::B, "alice", "alice", &id).err(),
            unauthorized
        );
        // None of the refusals consumed the key.
        assert_eq!(
            kme.dec_keys(KmeSide::B, "bob", "alice", &id)
                .unwrap()
                .keys
                .len(),
            1
        );
    }

    #[test]
    fn a_batch_with_one_unknown_id_hands_out_nothing() {
        let mut kme = core(PoolConfig::default());
        let enc = kme
            .enc_keys(T0, KmeSide::A, "alice", "bob", &KeyRequest::new(2, 256))
            .unwrap();
        let mut id = ids(&enc);
        id.push(KeyId::random());
        assert!(kme.dec_keys(KmeSide::B, "bob", "alice", &id).is_err());
        assert_eq!(kme.waiting_key_count(), 2);
    }

    #[test]
    fn reverse_direction_uses_the_other_kme() {
        let mut kme = core(PoolConfig::default());
        let enc = kme
            .enc_keys(T0, KmeSide::B, "bob", "alice", &KeyRequest::default())
            .unwrap();
        assert!(
            kme.dec_keys(KmeSide::B, "alice", "bob", &ids(&enc))
                .is_err()
        );
        assert!(kme.dec_keys(KmeSide::A, "alice", "bob", &ids(&enc)).is_ok());
    }

    #[test]
    fn status_counts_stay_true() {
        let pool = PoolConfig {
            max_key_count: 10,
            initial_key_count: 10,
            key_rate_bps: Some(0),
            ..PoolConfig::default()
        };
        let mut kme = core(pool);
        let count = |kme: &mut KmeCore, side| {
            kme.status(T0, side, "alice", "bob")
                .unwrap()
                .stored_key_count
        };
        let st = kme.status(T0, KmeSide::A, "alice", "bob").unwrap();
        assert_eq!(
            (st.source_kme_id.as_str(), st.target_kme_id.as_str()),
            ("KME_A", "KME_B")
        );
        assert_eq!(
            (st.stored_key_count, st.max_key_count, st.key_size),
            (10, 10, 256)
        );
        let enc = kme
            .enc_keys(T0, KmeSide::A, "alice", "bob", &KeyRequest::new(3, 256))
            .unwrap();
        assert_eq!(count(&mut kme, KmeSide::A), 7);
        assert_eq!(count(&mut kme, KmeSide::B), 7, "both KMEs see one pool");
        kme.dec_keys(KmeSide::B, "bob", "alice", &ids(&enc))
            .unwrap();
        assert_eq!(
            count(&mut kme, KmeSide::A),
            7,
            "dec_keys takes no new material"
        );
        kme.enc_keys(T0, KmeSide::A, "alice", "bob", &KeyRequest::new(1, 512))
            .unwrap();
        assert_eq!(count(&mut kme, KmeSide::A), 5);
        kme.enc_keys(T0, KmeSide::B, "bob", "alice", &KeyRequest::new(5, 256))
            .unwrap();
        assert_eq!(count(&mut kme, KmeSide::A), 0);
        assert_eq!(
            kme.status(T0, KmeSide::A, "alice", "carol")
                .unwrap()
                .stored_key_count,
            10
        );
    }

    #[test]
    fn empty_pool_answers_503_and_refills_on_the_virtual_clock() {
        // A field link of 64 bit/s: one 256-bit key every 4 s.
        let pool = PoolConfig {
            max_key_count: 2,
            initial_key_count: 0,
            key_rate_bps: Some(64),
            ..PoolConfig::default()
        };
        let mut kme = core(pool);
        let req = KeyRequest::default();
        let err = kme
            .enc_keys(T0, KmeSide::A, "alice", "bob", &req)
            .unwrap_err();
        assert_eq!(err.http_status(), 503);
        assert!(
            err.body()
                .unwrap()
                .message
                .contains("not enough key material")
        );
        let at = Duration::from_millis;
        assert!(
            kme.enc_keys(at(3_999), KmeSide::A, "alice", "bob", &req)
                .is_err()
        );
        assert!(
            kme.enc_keys(at(4_000), KmeSide::A, "alice", "bob", &req)
                .is_ok()
        );
        assert!(
            kme.enc_keys(at(4_001), KmeSide::A, "alice", "bob", &req)
                .is_err()
        );
        // An hour later the pool holds its capacity, not more.
        let st = kme
            .status(at(3_600_000), KmeSide::A, "alice", "bob")
            .unwrap();
        assert_eq!(st.stored_key_count, 2);
    }

    #[test]
    fn waiting_keys_are_bounded_by_the_peer_store() {
        let pool = PoolConfig {
            max_key_count: 2,
            ..PoolConfig::default()
        };
        let mut kme = core(pool);
        let req = KeyRequest::new(2, 256);
        let enc = kme.enc_keys(T0, KmeSide::A, "alice", "bob", &req).unwrap();
        let err = kme
            .enc_keys(T0, KmeSide::A, "alice", "bob", &req)
            .unwrap_err();
        assert!(matches!(err, SimError::Unavailable(m) if m.contains("KME_B is full")));
        kme.dec_keys(KmeSide::B, "bob", "alice", &ids(&enc))
            .unwrap();
        assert!(kme.enc_keys(T0, KmeSide::A, "alice", "bob", &req).is_ok());
    }

    #[test]
    fn sizes_and_numbers_are_checked_with_the_mandated_messages() {
        let mut kme = core(PoolConfig::default());
        let mut enc = |number, size| {
            let req = KeyRequest {
                number,
                size,
                ..KeyRequest::default()
            };
            kme.enc_keys(T0, KmeSide::A, "alice", "bob", &req)
                .map(|c| c.keys.len())
        };
        let bad = |m: &str| Err(SimError::BadRequest(m.to_owned()));
        assert_eq!(
            enc(Some(1), Some(257)),
            bad(messages::SIZE_NOT_MULTIPLE_OF_8)
        );
        assert!(matches!(enc(Some(1), Some(8)), Err(SimError::BadRequest(m)) if m.contains("min")));
        assert!(matches!(
            enc(Some(1), Some(2048)),
            Err(SimError::BadRequest(_))
        ));
        assert!(matches!(enc(Some(0), None), Err(SimError::BadRequest(_))));
        assert!(matches!(enc(Some(129), None), Err(SimError::BadRequest(_))));
        assert_eq!(enc(None, None), Ok(1));
        assert_eq!(enc(Some(128), Some(64)), Ok(128));
    }

    #[test]
    fn extension_mandatory_handling() {
        let mut kme = core(PoolConfig::default());
        let mut with = |mandatory: serde_json::Value, optional: serde_json::Value| {
            let req: KeyRequest = serde_json::from_value(
                json!({"extension_mandatory": mandatory, "extension_optional": optional}),
            )
            .unwrap();
            kme.enc_keys(T0, KmeSide::A, "alice", "bob", &req)
                .map(|c| c.keys.len())
        };
        let bad = |m: &str| Err(SimError::BadRequest(m.to_owned()));
        assert_eq!(
            with(json!([{"abc_x": 1}]), json!([])),
            bad(messages::EXTENSION_MANDATORY_UNSUPPORTED)
        );
        assert_eq!(
            with(json!([{"qkdsim_route_type": "relay"}]), json!([])),
            bad(messages::EXTENSION_MANDATORY_UNMET)
        );
        assert_eq!(
            with(
                json!([{"qkdsim_route_type": "direct"}]),
                json!([{"abc": 1}])
            ),
            Ok(1)
        );
        let multicast: KeyRequest =
            serde_json::from_value(json!({"additional_slave_SAE_IDs": ["carol"]})).unwrap();
        assert!(
            kme.enc_keys(T0, KmeSide::A, "alice", "bob", &multicast)
                .is_err()
        );
    }

    #[test]
    fn sae_pairs_are_bounded() {
        let mut kme = KmeCore::new(CoreConfig {
            max_sae_pairs: 1,
            ..CoreConfig::default()
        });
        kme.status(T0, KmeSide::A, "alice", "bob").unwrap();
        kme.status(T0, KmeSide::A, "bob", "alice").unwrap();
        assert_eq!(
            kme.status(T0, KmeSide::A, "alice", "carol")
                .unwrap_err()
                .http_status(),
            503
        );
        assert_eq!(
            kme.status(T0, KmeSide::A, "", "carol")
                .unwrap_err()
                .http_status(),
            400
        );
    }
}
