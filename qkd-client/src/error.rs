//! Errors of the KME client.

use std::time::Duration;

use serde_json::{Map, Value};
use thiserror::Error;

use crate::key::KeyId;

/// Why a KME request failed.
///
/// The first three variants are the HTTP answers ETSI GS QKD 014 §5 defines (400, 401, 503),
/// carrying the KME's own message. The rest are local: transport, TLS, or a KME answer that
/// breaks the protocol.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum QkdError {
    /// HTTP 400: the KME rejected the request format (for example "size shall be a multiple of
    /// 8" or "one or more keys specified are not found on KME").
    #[error("KME rejected the request (400 Bad request): {message}")]
    BadRequest {
        /// The Error object's `message`.
        message: String,
        /// The Error object's `details` (name/value objects), possibly empty.
        details: Vec<Map<String, Value>>,
    },
    /// HTTP 401: the KME does not accept this SAE for this request (for example a `dec_keys`
    /// caller that is not the slave named in the original `enc_keys`).
    #[error("KME refused this SAE (401 Unauthorized)")]
    Unauthorized,
    /// HTTP 503: the KME cannot serve the request now (for example too little key material).
    #[error("KME cannot serve the request now (503 Service unavailable): {message}")]
    ServiceUnavailable {
        /// The Error object's `message`.
        message: String,
    },
    /// No complete answer within the configured time.
    #[error("KME did not answer within {0:?}")]
    Timeout(Duration),
    /// The TCP connection could not be opened or broke before an answer.
    #[error("cannot reach the KME: {0}")]
    Connect(#[source] std::io::Error),
    /// The TLS handshake or record layer failed (certificate refused on either side, …).
    #[error("TLS failure with the KME: {0}")]
    Tls(String),
    /// The KME's answer does not follow ETSI GS QKD 014.
    #[error("KME broke the protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// The client configuration cannot be used (URL, certificate or key files).
    #[error("invalid KME client configuration: {0}")]
    Config(String),
}

impl QkdError {
    /// Whether the request certainly had no effect at the KME, so that sending it again cannot
    /// lose or duplicate keys.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Connect(_) | Self::ServiceUnavailable { .. })
    }
}

/// A KME answer that breaks ETSI GS QKD 014 V1.1.1.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProtocolError {
    /// The body is not the JSON object the method defines.
    #[error("malformed JSON: {0}")]
    Json(String),
    /// A `key` is not valid base64.
    #[error("key for {0} is not valid base64")]
    NotBase64(String),
    /// A `key_ID` is not a hyphenated UUID.
    #[error("key_ID {0:?} is not a UUID")]
    BadKeyId(String),
    /// The KME returned another number of keys than asked for.
    #[error("asked for {expected} keys, got {got}")]
    KeyCount {
        /// Keys requested.
        expected: usize,
        /// Keys received.
        got: usize,
    },
    /// A key has another size than asked for.
    #[error("key {key_id} has {got_bits} bits, asked for {expected_bits}")]
    KeySize {
        /// The key concerned.
        key_id: KeyId,
        /// Requested size in bits.
        expected_bits: usize,
        /// Delivered size in bits.
        got_bits: usize,
    },
    /// `dec_keys` returned a key that was not asked for, or left one out.
    #[error("dec_keys answered with key {0}, which was not requested")]
    UnexpectedKeyId(KeyId),
    /// The same key ID appears twice in one answer.
    #[error("key {0} appears twice in one key container")]
    DuplicateKeyId(KeyId),
    /// The KME delivered a key ID this client has already received: a key must never be
    /// used twice.
    #[error("KME delivered key {0} a second time")]
    ReusedKeyId(KeyId),
    /// The answer is not valid HTTP/1.1.
    #[error("malformed HTTP answer: {0}")]
    Http(String),
    /// An HTTP status the method does not define.
    #[error("unexpected HTTP status {0}")]
    UnexpectedStatus(u16),
    /// The answer body is larger than any valid answer could be.
    #[error("answer body exceeds {0} bytes")]
    BodyTooLarge(usize),
    /// The request cannot be expressed with this API edition (for example GET with
    /// extensions).
    #[error("request not expressible: {0}")]
    Unsupported(&'static str),
}
