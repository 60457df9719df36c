//! Open enums for the IANA IKEv2 registries: unknown values stay representable.

/// Defines a newtype over a wire integer with named constants; `Debug` prints the name when the
/// value is known and `Name(0x..)` otherwise.
macro_rules! open_enum {
    ($(#[$meta:meta])* $name:ident($repr:ty) { $($(#[$vmeta:meta])* $variant:ident = $value:expr,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub $repr);

        impl $name {
            $($(#[$vmeta])* pub const $variant: Self = Self($value);)*

            /// The registry name, if this value is known.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some(stringify!($variant)),)*
                    _ => None,
                }
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                match self.name() {
                    Some(n) => f.write_str(n),
                    None => write!(f, concat!(stringify!($name), "({:#x})"), self.0),
                }
            }
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self {
                Self(v)
            }
        }
    };
}

open_enum! {
    /// Exchange types (RFC 7296 §3.1, RFC 9242, RFC 9370).
    ExchangeType(u8) {
        IKE_SA_INIT = 34,
        IKE_AUTH = 35,
        CREATE_CHILD_SA = 36,
        INFORMATIONAL = 37,
        IKE_INTERMEDIATE = 43,
        IKE_FOLLOWUP_KE = 44,
    }
}

open_enum! {
    /// Payload types (RFC 7296 §3.2, RFC 7383).
    PayloadType(u8) {
        NONE = 0,
        SA = 33,
        KE = 34,
        IDI = 35,
        IDR = 36,
        CERT = 37,
        CERTREQ = 38,
        AUTH = 39,
        NONCE = 40,
        NOTIFY = 41,
        DELETE = 42,
        VENDOR_ID = 43,
        TSI = 44,
        TSR = 45,
        SK = 46,
        CP = 47,
        EAP = 48,
        SKF = 53,
    }
}

open_enum! {
    /// Transform types (RFC 7296 §3.3.2, RFC 9370 §2.2.1).
    TransformType(u8) {
        ENCR = 1,
        PRF = 2,
        INTEG = 3,
        KE = 4,
        ESN = 5,
        ADDKE1 = 6,
        ADDKE2 = 7,
        ADDKE3 = 8,
        ADDKE4 = 9,
        ADDKE5 = 10,
        ADDKE6 = 11,
        ADDKE7 = 12,
    }
}

impl TransformType {
    /// The ADDKE index 1..=7 for types 6..=12.
    pub fn addke_index(self) -> Option<u8> {
        (6..=12).contains(&self.0).then(|| self.0 - 5)
    }

    /// Whether this type takes its IDs from the Key Exchange Method registry.
    pub fn is_key_exchange(self) -> bool {
        self == Self::KE || self.addke_index().is_some()
    }
}

open_enum! {
    /// Encryption algorithm transform IDs (type 1).
    EncrId(u16) {
        AES_CBC = 12,
        AES_GCM_16 = 20,
        CHACHA20_POLY1305 = 28,
    }
}

open_enum! {
    /// PRF transform IDs (type 2).
    PrfId(u16) {
        HMAC_SHA1 = 2,
        HMAC_SHA2_256 = 5,
        HMAC_SHA2_384 = 6,
        HMAC_SHA2_512 = 7,
    }
}

open_enum! {
    /// Integrity algorithm transform IDs (type 3).
    IntegId(u16) {
        NONE = 0,
        HMAC_SHA1_96 = 2,
        HMAC_SHA2_256_128 = 12,
        HMAC_SHA2_384_192 = 13,
        HMAC_SHA2_512_256 = 14,
    }
}

open_enum! {
    /// Key Exchange Method transform IDs (types 4 and 6..12).
    KeId(u16) {
        NONE = 0,
        MODP_1024 = 2,
        MODP_2048 = 14,
        ECP_256 = 19,
        ECP_384 = 20,
        CURVE25519 = 31,
        CURVE448 = 32,
        ML_KEM_512 = 35,
        ML_KEM_768 = 36,
        ML_KEM_1024 = 37,
    }
}

open_enum! {
    /// Extended Sequence Numbers transform IDs (type 5).
    EsnId(u16) {
        NO_ESN = 0,
        ESN = 1,
    }
}

open_enum! {
    /// Security protocol IDs (RFC 7296 §3.3.1).
    ProtocolId(u8) {
        NONE = 0,
        IKE = 1,
        AH = 2,
        ESP = 3,
    }
}

open_enum! {
    /// Authentication methods (RFC 7296 §3.8, RFC 7427).
    AuthMethod(u8) {
        RSA_SIG = 1,
        SHARED_KEY_MIC = 2,
        DSS_SIG = 3,
        ECDSA_SHA256_P256 = 9,
        ECDSA_SHA384_P384 = 10,
        ECDSA_SHA512_P521 = 11,
        NULL = 13,
        DIGITAL_SIGNATURE = 14,
    }
}

open_enum! {
    /// Identification types (RFC 7296 §3.5).
    IdType(u8) {
        IPV4_ADDR = 1,
        FQDN = 2,
        RFC822_ADDR = 3,
        IPV6_ADDR = 5,
        DER_ASN1_DN = 9,
        DER_ASN1_GN = 10,
        KEY_ID = 11,
    }
}

open_enum! {
    /// Traffic selector types (RFC 7296 §3.13.1).
    TsType(u8) {
        IPV4_ADDR_RANGE = 7,
        IPV6_ADDR_RANGE = 8,
    }
}

open_enum! {
    /// Certificate encodings (RFC 7296 §3.6).
    CertEncoding(u8) {
        X509_SIGNATURE = 4,
        HASH_AND_URL_X509 = 12,
        HASH_AND_URL_BUNDLE = 13,
    }
}

open_enum! {
    /// Configuration payload types (RFC 7296 §3.15).
    CfgType(u8) {
        CFG_REQUEST = 1,
        CFG_REPLY = 2,
        CFG_SET = 3,
        CFG_ACK = 4,
    }
}

open_enum! {
    /// Configuration attribute types (RFC 7296 §3.15.1).
    CfgAttrType(u16) {
        INTERNAL_IP4_ADDRESS = 1,
        INTERNAL_IP4_NETMASK = 2,
        INTERNAL_IP4_DNS = 3,
        INTERNAL_IP6_ADDRESS = 8,
        INTERNAL_IP6_DNS = 10,
        INTERNAL_IP4_SUBNET = 13,
        SUPPORTED_ATTRIBUTES = 14,
        INTERNAL_IP6_SUBNET = 15,
    }
}

open_enum! {
    /// Hash algorithms for SIGNATURE_HASH_ALGORITHMS (RFC 7427 §7, RFC 8420).
    HashAlgorithm(u16) {
        SHA1 = 1,
        SHA2_256 = 2,
        SHA2_384 = 3,
        SHA2_512 = 4,
        IDENTITY = 5,
    }
}

open_enum! {
    /// PPK ID types (RFC 8784 §5.1).
    PpkIdType(u8) {
        PPK_ID_OPAQUE = 1,
        PPK_ID_FIXED = 2,
    }
}

open_enum! {
    /// Notify message types: errors below 16384, status at and above (RFC 7296 §3.10.1).
    NotifyType(u16) {
        UNSUPPORTED_CRITICAL_PAYLOAD = 1,
        INVALID_IKE_SPI = 4,
        INVALID_MAJOR_VERSION = 5,
        INVALID_SYNTAX = 7,
        INVALID_MESSAGE_ID = 9,
        INVALID_SPI = 11,
        NO_PROPOSAL_CHOSEN = 14,
        INVALID_KE_PAYLOAD = 17,
        AUTHENTICATION_FAILED = 24,
        SINGLE_PAIR_REQUIRED = 34,
        NO_ADDITIONAL_SAS = 35,
        INTERNAL_ADDRESS_FAILURE = 36,
        FAILED_CP_REQUIRED = 37,
        TS_UNACCEPTABLE = 38,
        INVALID_SELECTORS = 39,
        TEMPORARY_FAILURE = 43,
        CHILD_SA_NOT_FOUND = 44,
        STATE_NOT_FOUND = 47,
        INITIAL_CONTACT = 16384,
        SET_WINDOW_SIZE = 16385,
        ADDITIONAL_TS_POSSIBLE = 16386,
        IPCOMP_SUPPORTED = 16387,
        NAT_DETECTION_SOURCE_IP = 16388,
        NAT_DETECTION_DESTINATION_IP = 16389,
        COOKIE = 16390,
        USE_TRANSPORT_MODE = 16391,
        HTTP_CERT_LOOKUP_SUPPORTED = 16392,
        REKEY_SA = 16393,
        ESP_TFC_PADDING_NOT_SUPPORTED = 16394,
        NON_FIRST_FRAGMENTS_ALSO = 16395,
        MOBIKE_SUPPORTED = 16396,
        EAP_ONLY_AUTHENTICATION = 16417,
        IKEV2_FRAGMENTATION_SUPPORTED = 16430,
        SIGNATURE_HASH_ALGORITHMS = 16431,
        USE_PPK = 16435,
        PPK_IDENTITY = 16436,
        NO_PPK_AUTH = 16437,
        INTERMEDIATE_EXCHANGE_SUPPORTED = 16438,
        ADDITIONAL_KEY_EXCHANGE = 16441,
        USE_AGGFRAG = 16442,
        SUPPORTED_AUTH_METHODS = 16443,
        USE_PPK_INT = 16445,
        PPK_IDENTITY_KEY = 16446,
    }
}

impl NotifyType {
    /// Error types are below 16384 (RFC 7296 §3.10.1).
    pub fn is_error(self) -> bool {
        self.0 < 16384
    }
}
