//! The UE's QKD PPK, as the main job's initiator takes it: `enc_keys` from its KME (ETSI GS
//! QKD 014 over mutual TLS, this SAE the master) for the N3IWF's SAE; the key_ID in its
//! hyphenated form is the PPK_ID, which the N3IWF gives its own KME (`dec_keys`).

use std::path::PathBuf;
use std::time::Duration;

use ipsec_crypto::SecretBytes;
use qkd_client::{ClientConfig, KeyId, KmeClient};

/// Where the UE's KME is and whom the keys are shared with.
#[derive(Clone, Debug)]
pub struct KmeSettings {
    pub url: String,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub ca: PathBuf,
    /// The N3IWF's SAE ID.
    pub peer_sae_id: String,
    pub key_bits: u32,
    pub timeout: Duration,
}

/// A KME client shared by every UE of the run (its connections are pooled).
pub struct KmeSource {
    client: KmeClient,
    peer_sae_id: String,
    key_bits: u32,
}

impl KmeSource {
    /// # Errors
    /// When the PEM files cannot be used.
    pub fn new(s: &KmeSettings, max_connections: usize) -> Result<Self, String> {
        let mut c = ClientConfig::new(s.url.clone(), s.cert.clone(), s.key.clone(), s.ca.clone());
        c.timeout = s.timeout;
        c.max_connections = max_connections.max(1);
        let client = KmeClient::new(c).map_err(|e| format!("KME client for {}: {e}", s.url))?;
        Ok(Self {
            client,
            peer_sae_id: s.peer_sae_id.clone(),
            key_bits: s.key_bits,
        })
    }

    /// One fresh key: (PPK_ID, PPK).
    ///
    /// # Errors
    /// The KME's error, or an answer without a key.
    pub async fn fetch(&self) -> Result<(Vec<u8>, SecretBytes), String> {
        let keys = self
            .client
            .enc_keys(&self.peer_sae_id, 1, self.key_bits)
            .await
            .map_err(|e| format!("KME enc_keys: {e}"))?;
        let key = keys
            .into_iter()
            .next()
            .ok_or_else(|| "KME enc_keys: no key in the answer".to_string())?;
        let (id, secret) = key.into_secret();
        Ok((id.to_string().into_bytes(), secret))
    }

    /// The key the N3IWF named (its PPK_ID) when it starts the exchange, e.g. a user-plane
    /// CREATE_CHILD_SA with RFC 9867: `dec_keys` with the N3IWF's SAE as master.
    ///
    /// # Errors
    /// A PPK_ID that is no key_ID, or the KME's error.
    pub async fn fetch_id(&self, ppk_id: &[u8]) -> Result<(Vec<u8>, SecretBytes), String> {
        let text = std::str::from_utf8(ppk_id).map_err(|_| "PPK_ID is not a key_ID")?;
        let id: KeyId = text
            .parse()
            .map_err(|_| format!("PPK_ID {text} is not a key_ID"))?;
        let keys = self
            .client
            .dec_keys(&self.peer_sae_id, &[id])
            .await
            .map_err(|e| format!("KME dec_keys: {e}"))?;
        let key = keys
            .into_iter()
            .next()
            .ok_or("KME dec_keys: no key in the answer")?;
        let (id, secret) = key.into_secret();
        Ok((id.to_string().into_bytes(), secret))
    }
}
