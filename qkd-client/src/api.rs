//! The JSON objects of ETSI GS QKD 014 V1.1.1 §6, with no I/O.
//!
//! Field names follow the spec exactly (`key_ID`, `master_SAE_ID`, …). Sizes are in bits.
//! Extension objects (`*_extension`, `extension_mandatory`, `extension_optional`) are carried
//! through unchanged as JSON objects. Keys become [`SecretBytes`] while the body is parsed:
//! the base64 text is decoded straight into zeroizing storage.

use std::borrow::Cow;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use ipsec_crypto::SecretBytes;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroize;

use crate::error::ProtocolError;
use crate::key::{KeyId, QkdKey};

/// A JSON object, as extensions are (name/value pairs, values of any type).
pub type JsonObject = Map<String, Value>;

/// Status (§6.1, Table 8): what a KME can deliver for one master/slave SAE pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// KME ID of the KME answering.
    #[serde(rename = "source_KME_ID")]
    pub source_kme_id: String,
    /// KME ID of the slave SAE's KME.
    #[serde(rename = "target_KME_ID")]
    pub target_kme_id: String,
    /// SAE ID of the calling master SAE.
    #[serde(rename = "master_SAE_ID")]
    pub master_sae_id: String,
    /// SAE ID of the slave SAE named in the request.
    #[serde(rename = "slave_SAE_ID")]
    pub slave_sae_id: String,
    /// Default key size in bits.
    pub key_size: u32,
    /// Keys of `key_size` bits the KME can deliver now.
    pub stored_key_count: u64,
    /// The most keys the KME stores for this pair.
    pub max_key_count: u64,
    /// The most keys in one request.
    pub max_key_per_request: u32,
    /// Largest key size in bits.
    pub max_key_size: u32,
    /// Smallest key size in bits.
    pub min_key_size: u32,
    /// The most `additional_slave_SAE_IDs`; 0 when the KME has no key multicast.
    #[serde(rename = "max_SAE_ID_count")]
    pub max_sae_id_count: u32,
    /// Vendor extension object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_extension: Option<JsonObject>,
}

impl Status {
    /// Parses a Status body.
    ///
    /// # Errors
    /// [`ProtocolError::Json`] when the body is not a Status object.
    pub fn from_json(body: &[u8]) -> Result<Self, ProtocolError> {
        serde_json::from_slice(body).map_err(|e| ProtocolError::Json(e.to_string()))
    }
}

/// Key request (§6.2, Table 9): the POST body of `enc_keys`. Every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyRequest {
    /// Number of keys; the KME's default is 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u32>,
    /// Size of each key in bits; the KME's default is its `key_size`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
    /// Further slave SAEs that shall receive the same keys (key multicast).
    #[serde(
        rename = "additional_slave_SAE_IDs",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub additional_slave_sae_ids: Vec<String>,
    /// Extensions the KME shall handle or reject with 400.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_mandatory: Vec<JsonObject>,
    /// Extensions the KME may ignore.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_optional: Vec<JsonObject>,
}

impl KeyRequest {
    /// A request for `number` keys of `size_bits` bits each.
    pub fn new(number: u32, size_bits: u32) -> Self {
        Self {
            number: Some(number),
            size: Some(size_bits),
            ..Self::default()
        }
    }

    /// Whether the request can travel as a GET query (§5.2: only `number` and `size`).
    pub fn is_query_only(&self) -> bool {
        self.additional_slave_sae_ids.is_empty()
            && self.extension_mandatory.is_empty()
            && self.extension_optional.is_empty()
    }
}

/// Key IDs (§6.4, Table 12): the POST body of `dec_keys`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyIdsRequest {
    /// The keys asked for.
    #[serde(rename = "key_IDs")]
    pub key_ids: Vec<KeyIdEntry>,
    /// Vendor extension object for the whole request.
    #[serde(
        rename = "key_IDs_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_ids_extension: Option<JsonObject>,
}

impl KeyIdsRequest {
    /// A request for `ids`, without extensions.
    pub fn new(ids: &[KeyId]) -> Self {
        let key_ids = ids
            .iter()
            .map(|&key_id| KeyIdEntry {
                key_id,
                key_id_extension: None,
            })
            .collect();
        Self {
            key_ids,
            key_ids_extension: None,
        }
    }

    /// Whether the request can travel as a GET query (§5.2: a single ID, no extensions).
    pub fn is_query_only(&self) -> bool {
        self.key_ids.len() == 1
            && self.key_ids_extension.is_none()
            && self.key_ids.iter().all(|k| k.key_id_extension.is_none())
    }
}

/// One entry of [`KeyIdsRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyIdEntry {
    /// The key asked for.
    #[serde(rename = "key_ID")]
    pub key_id: KeyId,
    /// Vendor extension object for this key.
    #[serde(
        rename = "key_ID_extension",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub key_id_extension: Option<JsonObject>,
}

/// Error (§6.5, Table 13): the body of a 400 or 503 answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Error message.
    pub message: String,
    /// Further details as name/value objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<JsonObject>,
}

impl ErrorBody {
    /// An Error object with `message` and no details.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            details: Vec::new(),
        }
    }
}

/// Key container (§6.3, Table 10): the answer of `enc_keys` and `dec_keys`.
#[derive(Debug)]
pub struct KeyContainer {
    /// The keys, in the KME's order.
    pub keys: Vec<QkdKey>,
    /// Vendor extension object for the container.
    pub key_container_extension: Option<JsonObject>,
}

impl KeyContainer {
    /// Parses a key container, decoding each key into zeroizing storage.
    ///
    /// Accepts `"Keys"` as well as `"keys"` (§6.3 Table 10 spells the former, the example the
    /// latter) and base64 with or without padding.
    ///
    /// # Errors
    /// [`ProtocolError::Json`], [`ProtocolError::BadKeyId`], [`ProtocolError::NotBase64`] or
    /// [`ProtocolError::DuplicateKeyId`].
    pub fn from_json(body: &[u8]) -> Result<Self, ProtocolError> {
        let wire: WireContainer<'_> =
            serde_json::from_slice(body).map_err(|e| ProtocolError::Json(e.to_string()))?;
        let mut keys: Vec<QkdKey> = Vec::with_capacity(wire.keys.len());
        for k in wire.keys {
            let key_id: KeyId = k.key_id.parse()?;
            let Some(key) = k.key.0 else {
                return Err(ProtocolError::NotBase64(key_id.to_string()));
            };
            if keys.iter().any(|seen| seen.key_id() == key_id) {
                return Err(ProtocolError::DuplicateKeyId(key_id));
            }
            keys.push(QkdKey::with_extensions(
                key_id,
                key,
                k.key_id_extension,
                k.key_extension,
            ));
        }
        Ok(Self {
            keys,
            key_container_extension: wire.key_container_extension,
        })
    }

    /// Serializes the container, as a KME sends it. The base64 text is zeroized after use.
    pub fn to_json(&self) -> Vec<u8> {
        let mut wire = WireContainerOut {
            keys: self
                .keys
                .iter()
                .map(|k| WireKeyOut {
                    key_id: k.key_id(),
                    key: general_purpose::STANDARD.encode(k.dangerous_key()),
                    key_id_extension: k.key_id_extension(),
                    key_extension: k.key_extension(),
                })
                .collect(),
            key_container_extension: self.key_container_extension.as_ref(),
        };
        let body = serde_json::to_vec(&wire).unwrap_or_default();
        for k in &mut wire.keys {
            k.key.zeroize();
        }
        body
    }
}

#[derive(Deserialize)]
struct WireContainer<'a> {
    #[serde(alias = "Keys", borrow)]
    keys: Vec<WireKey<'a>>,
    #[serde(default)]
    key_container_extension: Option<JsonObject>,
}

#[derive(Deserialize)]
struct WireKey<'a> {
    #[serde(rename = "key_ID", borrow)]
    key_id: Cow<'a, str>,
    key: WireSecret,
    #[serde(rename = "key_ID_extension", default)]
    key_id_extension: Option<JsonObject>,
    #[serde(default)]
    key_extension: Option<JsonObject>,
}

#[derive(Serialize)]
struct WireContainerOut<'a> {
    keys: Vec<WireKeyOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_container_extension: Option<&'a JsonObject>,
}

#[derive(Serialize)]
struct WireKeyOut<'a> {
    #[serde(rename = "key_ID")]
    key_id: KeyId,
    key: String,
    #[serde(rename = "key_ID_extension", skip_serializing_if = "Option::is_none")]
    key_id_extension: Option<&'a JsonObject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    key_extension: Option<&'a JsonObject>,
}

/// A base64 `key` decoded while parsing; `None` when it is not base64 (reported with its ID).
struct WireSecret(Option<SecretBytes>);

impl<'de> Deserialize<'de> for WireSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(SecretVisitor)
    }
}

struct SecretVisitor;

impl Visitor<'_> for SecretVisitor {
    type Value = WireSecret;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a base64 string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(WireSecret(decode_base64_secret(v)))
    }

    fn visit_string<E: de::Error>(self, mut v: String) -> Result<Self::Value, E> {
        let decoded = decode_base64_secret(&v);
        v.zeroize();
        Ok(WireSecret(decoded))
    }
}

fn decode_base64_secret(text: &str) -> Option<SecretBytes> {
    let mut buf = SecretBytes::zeroed(base64::decoded_len_estimate(text.len()));
    let n = BASE64_LENIENT.decode_slice(text, buf.expose_mut()).ok()?;
    // `decode_slice` wrote `n` bytes into `buf`, so `n <= buf.len()`.
    Some(buf.split_prefix(n))
}

/// RFC 4648 base64, standard alphabet, with or without `=` padding.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = r#"{
        "source_KME_ID": "AAAABBBBCCCCDDDD", "target_KME_ID": "EEEEFFFFGGGGHHHH",
        "master_SAE_ID": "IIIIJJJJKKKKLLLL", "slave_SAE_ID": "MMMMNNNNOOOOPPPP",
        "key_size": 352, "stored_key_count": 25000, "max_key_count": 100000,
        "max_key_per_request": 128, "max_key_size": 1024, "min_key_size": 64,
        "max_SAE_ID_count": 0
    }"#;

    #[test]
    fn status_from_spec_example() {
        let s = Status::from_json(STATUS.as_bytes()).unwrap();
        assert_eq!(s.key_size, 352);
        assert_eq!(s.master_sae_id, "IIIIJJJJKKKKLLLL");
        assert_eq!(s.max_sae_id_count, 0);
        let back = serde_json::to_value(&s).unwrap();
        assert_eq!(back, serde_json::from_str::<Value>(STATUS).unwrap());
    }

    #[test]
    fn status_missing_field_is_protocol_error() {
        let err = Status::from_json(br#"{"source_KME_ID": "A"}"#).unwrap_err();
        assert!(matches!(err, ProtocolError::Json(_)));
    }

    #[test]
    fn key_container_from_spec_example_with_extensions() {
        let body = br#"{"keys": [
            {"key_ID": "bc490419-7d60-487f-adc1-4ddcc177c139",
             "key": "wHHVxRwDJs3/bXd38GHP3oe4svTuRpZS0yCC7x4Ly+s=",
             "key_ID_extension": {"abc_x": 1}, "key_extension": {"abc_y": [1, 2]}},
            {"key_ID": "0a782fb5-3434-48fe-aa4d-14f41d46cf92",
             "key": "OeGMPxh1+2RpJpNCYixWHFLYRubpOKCw94FcCI7VdJA"}
        ], "key_container_extension": {"abc_z": true}}"#;
        let c = KeyContainer::from_json(body).unwrap();
        assert_eq!(c.keys.len(), 2);
        assert_eq!(c.keys[0].size_bits(), 256);
        assert_eq!(c.keys[1].size_bits(), 256, "unpadded base64 accepted");
        assert_eq!(c.keys[0].key_id_extension().unwrap()["abc_x"], 1);
        assert_eq!(c.keys[0].key_extension().unwrap()["abc_y"][1], 2);
        assert_eq!(c.key_container_extension.as_ref().unwrap()["abc_z"], true);
        let again = KeyContainer::from_json(&c.to_json()).unwrap();
        assert_eq!(again.keys[1].dangerous_key(), c.keys[1].dangerous_key());
        assert_eq!(
            again.keys[0].key_id_extension(),
            c.keys[0].key_id_extension()
        );
    }

    #[test]
    fn key_container_accepts_capital_keys_field() {
        let body = br#"{"Keys": [{"key_ID": "bc490419-7d60-487f-adc1-4ddcc177c139",
            "key": "AAAA"}]}"#;
        assert_eq!(
            KeyContainer::from_json(body).unwrap().keys[0].size_bits(),
            24
        );
    }

    #[test]
    fn key_container_rejects_bad_members() {
        let not_b64 = br#"{"keys": [{"key_ID": "bc490419-7d60-487f-adc1-4ddcc177c139",
            "key": "not base64!"}]}"#;
        assert_eq!(
            KeyContainer::from_json(not_b64).unwrap_err(),
            ProtocolError::NotBase64("bc490419-7d60-487f-adc1-4ddcc177c139".into())
        );
        let not_uuid = br#"{"keys": [{"key_ID": "1234", "key": "AAAA"}]}"#;
        assert_eq!(
            KeyContainer::from_json(not_uuid).unwrap_err(),
            ProtocolError::BadKeyId("1234".into())
        );
        let dup = br#"{"keys": [
            {"key_ID": "bc490419-7d60-487f-adc1-4ddcc177c139", "key": "AAAA"},
            {"key_ID": "BC490419-7D60-487F-ADC1-4DDCC177C139", "key": "AAAA"}]}"#;
        assert!(matches!(
            KeyContainer::from_json(dup).unwrap_err(),
            ProtocolError::DuplicateKeyId(_)
        ));
        for bad in [
            &b"not json"[..],
            br#"{"keys": {}}"#,
            br#"{"keys": [{"key": "AAAA"}]}"#,
        ] {
            assert!(matches!(
                KeyContainer::from_json(bad).unwrap_err(),
                ProtocolError::Json(_)
            ));
        }
    }

    #[test]
    fn key_request_serializes_only_given_fields() {
        assert_eq!(serde_json::to_string(&KeyRequest::default()).unwrap(), "{}");
        let mut r = KeyRequest::new(2, 256);
        r.extension_optional
            .push(serde_json::from_str(r#"{"abc_route": "x"}"#).unwrap());
        assert!(!r.is_query_only());
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"number":2,"size":256,"extension_optional":[{"abc_route":"x"}]}"#
        );
    }

    #[test]
    fn key_ids_request_wire_names() {
        let id: KeyId = "bc490419-7d60-487f-adc1-4ddcc177c139".parse().unwrap();
        let r = KeyIdsRequest::new(&[id]);
        assert!(r.is_query_only());
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"key_IDs":[{"key_ID":"bc490419-7d60-487f-adc1-4ddcc177c139"}]}"#
        );
        let parsed: KeyIdsRequest = serde_json::from_str(
            r#"{"key_IDs":[{"key_ID":"bc490419-7d60-487f-adc1-4ddcc177c139",
                "key_ID_extension":{"abc":1}}],"key_IDs_extension":{"abc":2}}"#,
        )
        .unwrap();
        assert!(!parsed.is_query_only());
    }

    #[test]
    fn error_body_details_optional() {
        let e: ErrorBody =
            serde_json::from_str(r#"{"message": "size shall be a multiple of 8"}"#).unwrap();
        assert!(e.details.is_empty());
        let e: ErrorBody =
            serde_json::from_str(r#"{"message": "m", "details": [{"message_detail": "d"}]}"#)
                .unwrap();
        assert_eq!(e.details[0]["message_detail"], "d");
    }
}
