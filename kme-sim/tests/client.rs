//! The client against the simulated KME pair over mutual TLS on loopback.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use qkd_client::api::KeyRequest;
use qkd_client::{ClientConfig, KeyId, KmeClient, QkdError, QkdKey};
use qkd_kme_sim::{KmeSimHandle, PoolConfig, SaeIdSource, SimConfig, SimPki, messages};

struct Lab {
    pki: SimPki,
    sim: KmeSimHandle,
}

impl Lab {
    async fn start(pool: PoolConfig) -> Self {
        Self::start_with(pool, SaeIdSource::CommonName).await
    }

    async fn start_with(pool: PoolConfig, sae_id_from: SaeIdSource) -> Self {
        let pki = SimPki::generate(&["alice", "bob", "carol"], "KME_A", "KME_B").unwrap();
        let mut config = SimConfig::new(pki.kme_tls());
        config.core.pool = pool;
        config.sae_id_from = sae_id_from;
        let sim = qkd_kme_sim::spawn(config).await.unwrap();
        Self { pki, sim }
    }

    fn config(&self, sae: &str, url: &str) -> ClientConfig {
        let creds = &self.pki.sae(sae).unwrap().cert;
        let mut config = ClientConfig::new(
            url,
            creds.cert_pem.clone(),
            creds.key_pem.clone(),
            self.pki.ca_pem.clone(),
        );
        config.retries = 0;
        config
    }

    fn client(&self, sae: &str, url: &str) -> KmeClient {
        KmeClient::new(self.config(sae, url)).unwrap()
    }

    /// The master, at its KME.
    fn alice(&self) -> KmeClient {
        self.client("alice", &self.sim.url_a())
    }

    /// The slave, at its KME.
    fn bob(&self) -> KmeClient {
        self.client("bob", &self.sim.url_b())
    }
}

fn ids(keys: &[QkdKey]) -> Vec<KeyId> {
    keys.iter().map(QkdKey::key_id).collect()
}

fn assert_bad_request(result: Result<Vec<QkdKey>, QkdError>, expected: &str) {
    match result {
        Err(QkdError::BadRequest { message, .. }) => assert_eq!(message, expected),
        other => panic!("expected 400 {expected:?}, got {other:?}"),
    }
}

#[tokio::test]
async fn enc_keys_then_dec_keys_give_identical_bytes() {
    let lab = Lab::start(PoolConfig::default()).await;
    let (alice, bob) = (lab.alice(), lab.bob());
    let status = alice.status("bob").await.unwrap();
    assert_eq!(
        (status.master_sae_id.as_str(), status.slave_sae_id.as_str()),
        ("alice", "bob")
    );
    assert_eq!(
        (status.source_kme_id.as_str(), status.target_kme_id.as_str()),
        ("KME_A", "KME_B")
    );

    let sent = alice.enc_keys("bob", 3, 256).await.unwrap();
    assert_eq!(sent.len(), 3);
    let got = bob.dec_keys("alice", &ids(&sent)).await.unwrap();
    for (s, g) in sent.iter().zip(&got) {
        assert_eq!(s.key_id(), g.key_id());
        assert_eq!(s.size_bits(), 256);
        assert_eq!(s.dangerous_key(), g.dangerous_key());
    }
    assert_eq!(lab.sim.waiting_key_count(), 0);
}

#[tokio::test]
async fn get_forms_round_trip() {
    let lab = Lab::start(PoolConfig::default()).await;
    let (alice, bob) = (lab.alice(), lab.bob());
    let sent = alice.enc_keys_get("bob", Some(2), Some(512)).await.unwrap();
    assert!(sent.iter().all(|k| k.size_bits() == 512));
    let defaults = alice.enc_keys_get("bob", None, None).await.unwrap();
    assert_eq!((defaults.len(), defaults[0].size_bits()), (1, 256));
    for key in sent.iter().chain(&defaults) {
        let got = bob.dec_key_get("alice", key.key_id()).await.unwrap();
        assert_eq!(got.dangerous_key(), key.dangerous_key());
    }
}

#[tokio::test]
async fn a_key_is_never_delivered_twice() {
    let lab = Lab::start(PoolConfig::default()).await;
    let (alice, bob) = (lab.alice(), lab.bob());
    let sent = alice.enc_keys("bob", 1, 256).await.unwrap();
    let id = sent[0].key_id();
    bob.dec_keys("alice", &[id]).await.unwrap();
    assert_bad_request(bob.dec_keys("alice", &[id]).await, messages::KEYS_NOT_FOUND);
    match bob.dec_key_get("alice", id).await {
        Err(QkdError::BadRequest { message, .. }) => assert_eq!(message, messages::KEYS_NOT_FOUND),
        other => panic!("{other:?}"),
    }
    // Many keys, concurrently: all IDs distinct.
    let (a, b, c) = tokio::join!(
        alice.enc_keys("bob", 40, 256),
        alice.enc_keys("bob", 40, 256),
        alice.enc_keys("bob", 40, 256)
    );
    let mut all: Vec<KeyId> = [a.unwrap(), b.unwrap(), c.unwrap()]
        .iter()
        .flat_map(|k| ids(k))
        .collect();
    all.push(id);
    let n = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), n);
}

#[tokio::test]
async fn kme_down_is_a_connect_error_after_bounded_retries() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let lab = Lab::start(PoolConfig::default()).await;
    let mut config = lab.config("alice", &format!("https://127.0.0.1:{port}"));
    config.retries = 2;
    config.retry_backoff = Duration::from_millis(10);
    let client = KmeClient::new(config).unwrap();
    let err = client.enc_keys("bob", 1, 256).await.unwrap_err();
    assert!(matches!(err, QkdError::Connect(_)), "{err:?}");
    assert!(err.to_string().starts_with("cannot reach the KME"));
}

#[tokio::test]
async fn empty_pool_answers_503_with_an_error_body() {
    let pool = PoolConfig {
        initial_key_count: 0,
        key_rate_bps: Some(0),
        ..PoolConfig::default()
    };
    let lab = Lab::start(pool).await;
    let alice = lab.alice();
    assert_eq!(alice.status("bob").await.unwrap().stored_key_count, 0);
    match alice.enc_keys("bob", 1, 256).await {
        Err(QkdError::ServiceUnavailable { message }) => {
            assert!(message.contains("not enough key material"), "{message}");
        }
        other => panic!("expected 503, got {other:?}"),
    }
}

#[tokio::test]
async fn rate_limited_kme_is_waited_for_with_retries() {
    // One 256-bit key every 50 ms, none at the start: the first attempt gets 503.
    let pool = PoolConfig {
        max_key_count: 4,
        initial_key_count: 0,
        key_rate_bps: Some(256 * 20),
        ..PoolConfig::default()
    };
    let lab = Lab::start(pool).await;
    let mut config = lab.config("alice", &lab.sim.url_a());
    config.retries = 10;
    config.retry_backoff = Duration::from_millis(20);
    let alice = KmeClient::new(config).unwrap();
    let keys = alice.enc_keys("bob", 1, 256).await.unwrap();
    let got = lab.bob().dec_keys("alice", &ids(&keys)).await.unwrap();
    assert_eq!(got[0].dangerous_key(), keys[0].dangerous_key());
}

#[tokio::test]
async fn unknown_key_id_at_the_responder_is_400_with_the_spec_message() {
    let lab = Lab::start(PoolConfig::default()).await;
    let bob = lab.bob();
    assert_bad_request(
        bob.dec_keys("alice", &[KeyId::random()]).await,
        messages::KEYS_NOT_FOUND,
    );
    // A key obtained at KME A waits at KME B, not at KME A.
    let sent = lab.alice().enc_keys("bob", 1, 256).await.unwrap();
    let bob_at_a = lab.client("bob", &lab.sim.url_a());
    assert_bad_request(
        bob_at_a.dec_keys("alice", &ids(&sent)).await,
        messages::KEYS_NOT_FOUND,
    );
    // Named with the wrong master.
    assert_bad_request(
        bob.dec_keys("carol", &ids(&sent)).await,
        messages::KEYS_NOT_FOUND,
    );
}

#[tokio::test]
async fn an_sae_that_is_not_the_slave_gets_401_and_the_key_stays() {
    let lab = Lab::start(PoolConfig::default()).await;
    let sent = lab.alice().enc_keys("bob", 1, 256).await.unwrap();
    let carol = lab.client("carol", &lab.sim.url_b());
    let err = carol.dec_keys("alice", &ids(&sent)).await.unwrap_err();
    assert!(matches!(err, QkdError::Unauthorized), "{err:?}");
    let got = lab.bob().dec_keys("alice", &ids(&sent)).await.unwrap();
    assert_eq!(got[0].dangerous_key(), sent[0].dangerous_key());
}

#[tokio::test]
async fn a_certificate_from_a_foreign_ca_fails_the_tls_handshake() {
    let lab = Lab::start(PoolConfig::default()).await;
    let foreign = &lab.pki.foreign_client;
    let mut config = ClientConfig::new(
        lab.sim.url_a(),
        foreign.cert_pem.clone(),
        foreign.key_pem.clone(),
        lab.pki.ca_pem.clone(),
    );
    config.retries = 0;
    let err = KmeClient::new(config)
        .unwrap()
        .status("bob")
        .await
        .unwrap_err();
    assert!(matches!(err, QkdError::Tls(_)), "{err:?}");
}

#[tokio::test]
async fn a_kme_certificate_from_an_unknown_ca_is_refused_by_the_client() {
    let lab = Lab::start(PoolConfig::default()).await;
    let mut config = lab.config("alice", &lab.sim.url_a());
    config.ca = lab.pki.foreign_ca_pem.clone().into();
    let err = KmeClient::new(config)
        .unwrap()
        .status("bob")
        .await
        .unwrap_err();
    assert!(
        matches!(err, QkdError::Tls(ref m) if m.contains("UnknownIssuer")),
        "{err:?}"
    );
}

#[tokio::test]
async fn bad_sizes_and_extensions_get_the_mandated_messages() {
    let lab = Lab::start(PoolConfig::default()).await;
    let alice = lab.alice();
    assert_bad_request(
        alice.enc_keys("bob", 1, 257).await,
        messages::SIZE_NOT_MULTIPLE_OF_8,
    );
    assert_bad_request(
        alice.enc_keys_get("bob", Some(1), Some(100)).await,
        messages::SIZE_NOT_MULTIPLE_OF_8,
    );
    let with = |mandatory: serde_json::Value, optional: serde_json::Value| -> KeyRequest {
        serde_json::from_value(serde_json::json!({
            "number": 1, "size": 256,
            "extension_mandatory": mandatory, "extension_optional": optional
        }))
        .unwrap()
    };
    let unsupported = with(
        serde_json::json!([{"abc_route": "x"}]),
        serde_json::json!([]),
    );
    assert_bad_request(
        alice
            .enc_keys_with("bob", &unsupported)
            .await
            .map(|c| c.keys),
        messages::EXTENSION_MANDATORY_UNSUPPORTED,
    );
    let unmet = with(
        serde_json::json!([{"qkdsim_route_type": "relay"}]),
        serde_json::json!([]),
    );
    assert_bad_request(
        alice.enc_keys_with("bob", &unmet).await.map(|c| c.keys),
        messages::EXTENSION_MANDATORY_UNMET,
    );
    let fine = with(
        serde_json::json!([{"qkdsim_route_type": "direct"}]),
        serde_json::json!([{"abc_anything": {"x": 1}}]),
    );
    assert_eq!(
        alice.enc_keys_with("bob", &fine).await.unwrap().keys.len(),
        1
    );
}

#[tokio::test]
async fn status_counts_stay_true() {
    let pool = PoolConfig {
        max_key_count: 20,
        ..PoolConfig::default()
    };
    let pool = PoolConfig {
        key_rate_bps: Some(0),
        initial_key_count: 20,
        ..pool
    };
    let lab = Lab::start(pool).await;
    let (alice, bob) = (lab.alice(), lab.bob());
    let count = async |c: &KmeClient, peer: &str| c.status(peer).await.unwrap().stored_key_count;
    assert_eq!(count(&alice, "bob").await, 20);
    let sent = alice.enc_keys("bob", 5, 256).await.unwrap();
    assert_eq!(count(&alice, "bob").await, 15);
    assert_eq!(count(&bob, "alice").await, 15, "KME B sees the same pool");
    bob.dec_keys("alice", &ids(&sent)).await.unwrap();
    assert_eq!(count(&alice, "bob").await, 15);
    alice.enc_keys("bob", 1, 1024).await.unwrap();
    assert_eq!(count(&alice, "bob").await, 11);
}

#[tokio::test]
async fn a_silent_kme_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts (at most 4 connections) and never answers.
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        for _ in 0..4 {
            let Ok((stream, _)) = listener.accept().await else {
                break;
            };
            held.push(stream);
        }
        std::future::pending::<()>().await;
    });
    let lab = Lab::start(PoolConfig::default()).await;
    let mut config = lab.config("alice", &format!("https://{addr}"));
    config.timeout = Duration::from_millis(200);
    config.retries = 1;
    config.retry_backoff = Duration::from_millis(10);
    let err = KmeClient::new(config)
        .unwrap()
        .status("bob")
        .await
        .unwrap_err();
    assert!(matches!(err, QkdError::Timeout(_)), "{err:?}");
    silent.abort();
}

#[tokio::test]
async fn sae_id_from_the_certificate_serial() {
    let lab = Lab::start_with(PoolConfig::default(), SaeIdSource::Serial).await;
    let alice_id = lab.pki.sae("alice").unwrap().serial.to_string();
    let bob_id = lab.pki.sae("bob").unwrap().serial.to_string();
    let (alice, bob) = (lab.alice(), lab.bob());
    let status = alice.status(&bob_id).await.unwrap();
    assert_eq!(status.master_sae_id, alice_id);
    let sent = alice.enc_keys(&bob_id, 1, 256).await.unwrap();
    let got = bob.dec_keys(&alice_id, &ids(&sent)).await.unwrap();
    assert_eq!(got[0].dangerous_key(), sent[0].dangerous_key());
    // By CN the same key is not found: "bob" is not the slave's ID under this mapping.
    let err = bob.dec_keys("alice", &ids(&sent)).await.unwrap_err();
    assert!(matches!(err, QkdError::BadRequest { .. }), "{err:?}");
}

#[tokio::test]
async fn unusable_configurations_are_refused_up_front() {
    let lab = Lab::start(PoolConfig::default()).await;
    for url in [
        "http://127.0.0.1:1",
        "https://",
        "https://127.0.0.1:1/?x=1",
        "not a url",
    ] {
        let err = KmeClient::new(lab.config("alice", url)).err();
        assert!(matches!(err, Some(QkdError::Config(_))), "{url}: {err:?}");
    }
    let mut config = lab.config("alice", &lab.sim.url_a());
    config.client_key = "not pem".to_owned().into();
    assert!(matches!(KmeClient::new(config), Err(QkdError::Config(_))));
}

#[test]
fn the_client_can_be_shared_across_tasks() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>(_: &T) {}
    send_sync::<KmeClient>();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let lab = Lab::start(PoolConfig::default()).await;
        let alice = lab.alice();
        send(&alice.enc_keys("bob", 1, 256));
        send(&alice.dec_keys("bob", &[]));
        let keys = tokio::spawn(async move { alice.enc_keys("bob", 1, 256).await })
            .await
            .unwrap();
        assert_eq!(keys.unwrap().len(), 1);
    });
}

#[tokio::test]
async fn the_client_survives_a_kme_restart() {
    let Lab { pki, sim } = Lab::start(PoolConfig::default()).await;
    let (addr_a, addr_b) = (sim.addr_a(), sim.addr_b());
    let lab = Lab { pki, sim };
    let alice = lab.alice();
    alice.status("bob").await.unwrap();
    let Lab { pki, sim } = lab;
    sim.stop().await;
    let mut config = SimConfig::new(pki.kme_tls());
    (config.listen_a, config.listen_b) = (addr_a, addr_b);
    let _sim = qkd_kme_sim::spawn(config).await.unwrap();
    // The kept-alive connection died with the old KME; no retry budget is needed.
    assert_eq!(alice.status("bob").await.unwrap().master_sae_id, "alice");
}
