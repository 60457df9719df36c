//! Proposals written as strongSwan writes them (`aes256gcm16-prfsha384-x25519-ke1_mlkem768`),
//! their wire form, and the responder's selection (RFC 7296 §3.3.6, RFC 9370 §2.2.1).

use std::fmt;

use ipsec_crypto::{AeadAlgorithm, CbcAlgorithm, IntegAlgorithm, KeGroup, PrfAlgorithm};

use crate::wire::{
    EncrId, EsnId, IntegId, KeId, PrfId, Proposal, ProtocolId, Transform, TransformType,
};

/// Number of key exchange slots: type 4 plus ADDKE1..7.
pub const KE_SLOTS: usize = 8;

/// One proposal as configured: the acceptable algorithms of each transform type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProposalSpec {
    pub encr: Vec<(EncrId, Option<u16>)>,
    pub integ: Vec<IntegId>,
    pub prf: Vec<PrfId>,
    /// Slot 0 is transform type 4 (KE); slots 1..=7 are ADDKE1..7. `KeId::NONE` marks an
    /// optional additional exchange.
    pub ke: [Vec<KeId>; KE_SLOTS],
    pub esn: Vec<EsnId>,
}

/// What the two peers agreed on: one algorithm per transform type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub encr: (EncrId, Option<u16>),
    pub integ: Option<IntegId>,
    pub prf: Option<PrfId>,
    /// `None` where the slot is absent or negotiated as NONE.
    pub ke: [Option<KeId>; KE_SLOTS],
    pub esn: Option<EsnId>,
}

/// A proposal string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProposalError {
    pub proposal: String,
    pub reason: String,
}

impl fmt::Display for ProposalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "proposal '{}': {}", self.proposal, self.reason)
    }
}

impl std::error::Error for ProposalError {}

impl ProposalSpec {
    /// Parses an IKE proposal such as `aes256gcm16-prfsha384-x25519-ke1_mlkem768`.
    ///
    /// # Errors
    /// Unknown tokens, or a proposal missing ENCR, PRF (or integrity for a CBC cipher) or KE.
    pub fn parse_ike(s: &str) -> Result<Self, ProposalError> {
        let mut spec = Self::parse_tokens(s, true)?;
        let err = |reason: &str| ProposalError {
            proposal: s.into(),
            reason: reason.into(),
        };
        if spec.encr.is_empty() {
            return Err(err("no encryption algorithm"));
        }
        let has_cbc = spec.encr.iter().any(|(e, _)| *e == EncrId::AES_CBC);
        if has_cbc && spec.integ.is_empty() {
            return Err(err(
                "a CBC cipher needs an integrity algorithm (e.g. sha256)",
            ));
        }
        if spec.prf.is_empty() {
            // strongSwan derives the PRF from the integrity algorithm when none is given.
            spec.prf = spec
                .integ
                .iter()
                .filter_map(|i| prf_for_integ(*i))
                .collect();
        }
        if spec.prf.is_empty() {
            return Err(err("no PRF (e.g. prfsha384)"));
        }
        if spec.ke[0].is_empty() {
            return Err(err("no key exchange method (e.g. x25519 or mlkem768)"));
        }
        Ok(spec)
    }

    /// Parses an ESP proposal such as `aes256gcm16-x25519-ke1_mlkem768-esn`. The key exchange
    /// methods are used only for CREATE_CHILD_SA (PFS); the first Child SA takes its keys from
    /// the IKE SA.
    ///
    /// # Errors
    /// Unknown tokens, or no encryption algorithm.
    pub fn parse_esp(s: &str) -> Result<Self, ProposalError> {
        let mut spec = Self::parse_tokens(s, false)?;
        let err = |reason: &str| ProposalError {
            proposal: s.into(),
            reason: reason.into(),
        };
        if spec.encr.is_empty() {
            return Err(err("no encryption algorithm"));
        }
        // Never ESP without integrity: every cipher that is not an AEAD needs one.
        if spec.encr.iter().any(|(e, _)| !is_aead(*e)) && spec.integ.is_empty() {
            return Err(err(
                "a CBC cipher needs an integrity algorithm (e.g. sha256)",
            ));
        }
        if spec.esn.is_empty() {
            spec.esn = vec![EsnId::NO_ESN];
        }
        Ok(spec)
    }

    fn parse_tokens(s: &str, ike: bool) -> Result<Self, ProposalError> {
        let mut spec = Self::default();
        for token in s.split('-').map(str::trim) {
            let err = |reason: String| ProposalError {
                proposal: s.into(),
                reason,
            };
            if token.is_empty() {
                return Err(err("empty algorithm name".into()));
            }
            if let Some(e) = encr_token(token) {
                spec.encr.push(e);
            } else if let Some(p) = token.strip_prefix("prf").and_then(hash_prf) {
                if !ike {
                    return Err(err(format!("'{token}' is not valid in an ESP proposal")));
                }
                spec.prf.push(p);
            } else if let Some(i) = integ_token(token) {
                spec.integ.push(i);
            } else if token == "esn" || token == "noesn" {
                if ike {
                    return Err(err(format!("'{token}' is only valid in an ESP proposal")));
                }
                spec.esn.push(if token == "esn" {
                    EsnId::ESN
                } else {
                    EsnId::NO_ESN
                });
            } else if let Some((slot, ke)) = ke_token(token) {
                spec.ke[slot].push(ke);
            } else {
                return Err(err(format!("unknown algorithm '{token}'")));
            }
        }
        // RFC 5282 §8: a proposal with an AEAD cipher carries no integrity algorithm, and a
        // responder refuses one that does, so such a proposal could never be agreed.
        if spec.encr.iter().any(|(e, _)| is_aead(*e)) && !spec.integ.is_empty() {
            return Err(ProposalError {
                proposal: s.into(),
                reason: "an AEAD cipher takes no integrity algorithm; \
                         list AEAD and CBC ciphers as separate proposals"
                    .into(),
            });
        }
        Ok(spec)
    }

    /// The wire proposal for this spec.
    pub fn to_wire(&self, number: u8, protocol: ProtocolId, spi: Vec<u8>) -> Proposal {
        let mut transforms = Vec::new();
        for (id, bits) in &self.encr {
            transforms.push(Transform::encr(*id, *bits));
        }
        for p in &self.prf {
            transforms.push(Transform::new(TransformType::PRF, p.0));
        }
        for i in &self.integ {
            transforms.push(Transform::new(TransformType::INTEG, i.0));
        }
        for (slot, kes) in self.ke.iter().enumerate() {
            for k in kes {
                transforms.push(Transform::ke(slot_type(slot), *k));
            }
        }
        for e in &self.esn {
            transforms.push(Transform::new(TransformType::ESN, e.0));
        }
        Proposal {
            number,
            protocol,
            spi,
            transforms,
        }
    }

    /// The first KE method of slot 0, which the initiator guesses in its KE payload.
    pub fn first_ke(&self) -> Option<KeId> {
        self.ke[0].first().copied()
    }

    /// Whether `ke` is acceptable in slot 0.
    pub fn accepts_ke(&self, ke: KeId) -> bool {
        self.ke[0].contains(&ke)
    }

    /// Tries to match one proposal received from the peer against this spec. The peer's order
    /// decides between acceptable algorithms (RFC 7296 §2.7: the initiator lists its preferences).
    pub fn select(&self, offered: &Proposal, ike: bool) -> Option<Negotiated> {
        let pick = |ty: TransformType| -> Vec<&Transform> {
            offered
                .transforms
                .iter()
                .filter(|t| t.transform_type == ty)
                .collect()
        };
        let encr = pick(TransformType::ENCR)
            .into_iter()
            .map(|t| (EncrId(t.id), t.key_length()))
            .find(|e| self.encr.contains(e))?;
        let aead = is_aead(encr.0);
        let integ = self.select_integ(&pick(TransformType::INTEG), aead)?;
        let prf = if ike {
            Some(self.select_prf(&pick(TransformType::PRF))?)
        } else {
            None
        };
        let mut ke = [None; KE_SLOTS];
        for (slot, chosen) in ke.iter_mut().enumerate() {
            *chosen = self.select_ke(slot, &pick(slot_type(slot)))?;
        }
        if ike && ke[0].is_none() {
            return None;
        }
        let esn = if ike {
            None
        } else {
            Some(self.select_esn(&pick(TransformType::ESN))?)
        };
        Some(Negotiated {
            encr,
            integ,
            prf,
            ke,
            esn,
        })
    }

    fn select_prf(&self, offered: &[&Transform]) -> Option<PrfId> {
        offered
            .iter()
            .map(|t| PrfId(t.id))
            .find(|p| self.prf.contains(p))
    }

    /// ESN or not (no ESN transform offered means no ESN).
    fn select_esn(&self, offered: &[&Transform]) -> Option<EsnId> {
        if offered.is_empty() {
            return self.esn.contains(&EsnId::NO_ESN).then_some(EsnId::NO_ESN);
        }
        offered
            .iter()
            .map(|t| EsnId(t.id))
            .find(|e| self.esn.contains(e))
    }

    fn select_integ(&self, offered: &[&Transform], aead: bool) -> Option<Option<IntegId>> {
        let offered: Vec<IntegId> = offered.iter().map(|t| IntegId(t.id)).collect();
        if aead {
            // RFC 5282 §8: with an AEAD, integrity is absent or NONE.
            return offered.iter().all(|i| *i == IntegId::NONE).then_some(None);
        }
        offered
            .into_iter()
            .find(|i| self.integ.contains(i))
            .map(Some)
    }

    /// `Some(None)`: slot negotiated as absent/NONE; `Some(Some(ke))`: chosen; `None`: no match.
    fn select_ke(&self, slot: usize, offered: &[&Transform]) -> Option<Option<KeId>> {
        let ours = &self.ke[slot];
        let offered: Vec<KeId> = offered.iter().map(|t| KeId(t.id)).collect();
        if offered.is_empty() {
            // Peer does not propose this slot: fine if we have nothing or only NONE there.
            return (ours.is_empty() || ours.contains(&KeId::NONE)).then_some(None);
        }
        if ours.is_empty() {
            // RFC 9370 §2.2.1: we can only decline an optional slot.
            return offered.contains(&KeId::NONE).then_some(None);
        }
        let chosen = offered.into_iter().find(|k| ours.contains(k))?;
        Some((chosen != KeId::NONE).then_some(chosen))
    }
}

impl Negotiated {
    /// The single-transform proposal the responder sends back.
    pub fn to_wire(&self, number: u8, protocol: ProtocolId, spi: Vec<u8>) -> Proposal {
        let mut transforms = vec![Transform::encr(self.encr.0, self.encr.1)];
        if let Some(p) = self.prf {
            transforms.push(Transform::new(TransformType::PRF, p.0));
        }
        if let Some(i) = self.integ {
            transforms.push(Transform::new(TransformType::INTEG, i.0));
        }
        for (slot, ke) in self.ke.iter().enumerate() {
            if let Some(k) = ke {
                transforms.push(Transform::ke(slot_type(slot), *k));
            }
        }
        if let Some(e) = self.esn {
            transforms.push(Transform::new(TransformType::ESN, e.0));
        }
        Proposal {
            number,
            protocol,
            spi,
            transforms,
        }
    }

    /// Parses the responder's answer: exactly one transform per type, and it must be one we
    /// offered (RFC 7296 §3.3.6: anything else is a protocol error).
    pub fn from_response(ours: &[ProposalSpec], answer: &Proposal, ike: bool) -> Option<Self> {
        let mut seen = [false; 13];
        for t in &answer.transforms {
            let idx = usize::from(t.transform_type.0);
            if idx == 0 || idx >= seen.len() || std::mem::replace(&mut seen[idx], true) {
                return None;
            }
        }
        ours.iter().find_map(|spec| spec.select(answer, ike))
    }

    /// The additional key exchanges in order (ADDKE1 first), skipping NONE slots.
    pub fn additional_kes(&self) -> Vec<KeId> {
        self.ke[1..].iter().flatten().copied().collect()
    }

    /// The AEAD, if the cipher is one.
    pub fn aead(&self) -> Option<AeadAlgorithm> {
        aead_algorithm(self.encr.0, self.encr.1)
    }

    /// The CBC cipher and integrity algorithm, if the cipher is CBC.
    pub fn cbc(&self) -> Option<(CbcAlgorithm, IntegAlgorithm)> {
        let cbc = match (self.encr.0, self.encr.1) {
            (EncrId::AES_CBC, Some(128)) => CbcAlgorithm::Aes128Cbc,
            (EncrId::AES_CBC, Some(256)) => CbcAlgorithm::Aes256Cbc,
            _ => return None,
        };
        Some((cbc, integ_algorithm(self.integ?)?))
    }

    /// The PRF algorithm.
    pub fn prf_algorithm(&self) -> Option<PrfAlgorithm> {
        prf_algorithm(self.prf?)
    }

    /// Whether ESN was negotiated (Child SAs).
    pub fn esn_enabled(&self) -> bool {
        self.esn == Some(EsnId::ESN)
    }
}

impl fmt::Display for Negotiated {
    /// strongSwan-style name of the negotiated algorithms.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = vec![encr_name(self.encr)];
        if let Some(i) = self.integ {
            parts.push(integ_name(i).into());
        }
        if let Some(p) = self.prf {
            parts.push(format!("prf{}", prf_hash_name(p)));
        }
        for (slot, ke) in self.ke.iter().enumerate() {
            if let Some(k) = ke {
                let name = ke_name(*k);
                parts.push(if slot == 0 {
                    name.into()
                } else {
                    format!("ke{slot}_{name}")
                });
            }
        }
        if self.esn == Some(EsnId::ESN) {
            parts.push("esn".into());
        }
        f.write_str(&parts.join("-"))
    }
}

/// The provider's key exchange for a KE transform ID.
pub(crate) fn ke_group(id: KeId) -> Option<KeGroup> {
    Some(match id {
        KeId::MODP_2048 => KeGroup::Modp2048,
        KeId::ECP_256 => KeGroup::Ecp256,
        KeId::ECP_384 => KeGroup::Ecp384,
        KeId::CURVE25519 => KeGroup::X25519,
        KeId::ML_KEM_512 => KeGroup::MlKem512,
        KeId::ML_KEM_768 => KeGroup::MlKem768,
        KeId::ML_KEM_1024 => KeGroup::MlKem1024,
        _ => return None,
    })
}

/// The AEAD for an ENCR transform, if it is one.
pub(crate) fn aead_algorithm(id: EncrId, bits: Option<u16>) -> Option<AeadAlgorithm> {
    Some(match (id, bits) {
        (EncrId::AES_GCM_16, Some(128)) => AeadAlgorithm::Aes128Gcm16,
        (EncrId::AES_GCM_16, Some(256)) => AeadAlgorithm::Aes256Gcm16,
        (EncrId::CHACHA20_POLY1305, None) => AeadAlgorithm::ChaCha20Poly1305,
        _ => return None,
    })
}

/// The PRF for a PRF transform.
pub(crate) fn prf_algorithm(id: PrfId) -> Option<PrfAlgorithm> {
    HASHES.iter().find(|h| h.prf == id).map(|h| h.prf_algorithm)
}

/// The integrity algorithm for an INTEG transform.
pub(crate) fn integ_algorithm(id: IntegId) -> Option<IntegAlgorithm> {
    HASHES
        .iter()
        .find(|h| h.integ == id)
        .map(|h| h.integ_algorithm)
}

fn is_aead(id: EncrId) -> bool {
    matches!(id, EncrId::AES_GCM_16 | EncrId::CHACHA20_POLY1305)
}

fn slot_type(slot: usize) -> TransformType {
    if slot == 0 {
        TransformType::KE
    } else {
        TransformType(5 + slot as u8)
    }
}

fn encr_token(t: &str) -> Option<(EncrId, Option<u16>)> {
    Some(match t {
        "aes128gcm16" | "aes128gcm" => (EncrId::AES_GCM_16, Some(128)),
        "aes256gcm16" | "aes256gcm" => (EncrId::AES_GCM_16, Some(256)),
        "chacha20poly1305" => (EncrId::CHACHA20_POLY1305, None),
        "aes128" | "aes128cbc" => (EncrId::AES_CBC, Some(128)),
        "aes256" | "aes256cbc" => (EncrId::AES_CBC, Some(256)),
        _ => return None,
    })
}

/// An integrity algorithm by its strongSwan name (`sha256`) or alias (`sha2_256`).
fn integ_token(t: &str) -> Option<IntegId> {
    HASHES
        .iter()
        .find(|h| h.name == t || h.integ_alias == Some(t))
        .map(|h| h.integ)
}

/// A PRF by the hash name after `prf` (`prfsha384`).
fn hash_prf(t: &str) -> Option<PrfId> {
    HASHES.iter().find(|h| h.name == t).map(|h| h.prf)
}

/// strongSwan's PRF when a proposal names none: HMAC with the integrity algorithm's hash.
fn prf_for_integ(i: IntegId) -> Option<PrfId> {
    HASHES.iter().find(|h| h.integ == i).map(|h| h.prf)
}

fn ke_token(t: &str) -> Option<(usize, KeId)> {
    let (slot, name) = match t.strip_prefix("ke").and_then(|r| r.split_once('_')) {
        Some((n, name)) => (
            n.parse::<usize>().ok().filter(|n| (1..=7).contains(n))?,
            name,
        ),
        None => (0, t),
    };
    let id = match name {
        "x25519" | "curve25519" => KeId::CURVE25519,
        "ecp256" => KeId::ECP_256,
        "ecp384" => KeId::ECP_384,
        "modp2048" => KeId::MODP_2048,
        "mlkem512" => KeId::ML_KEM_512,
        "mlkem768" => KeId::ML_KEM_768,
        "mlkem1024" => KeId::ML_KEM_1024,
        "none" if slot > 0 => KeId::NONE,
        _ => return None,
    };
    Some((slot, id))
}

fn encr_name((id, bits): (EncrId, Option<u16>)) -> String {
    match id {
        EncrId::AES_GCM_16 => format!("aes{}gcm16", bits.unwrap_or(0)),
        EncrId::CHACHA20_POLY1305 => "chacha20poly1305".into(),
        EncrId::AES_CBC => format!("aes{}", bits.unwrap_or(0)),
        other => format!("{other:?}"),
    }
}

fn integ_name(i: IntegId) -> &'static str {
    HASHES
        .iter()
        .find(|h| h.integ == i)
        .map_or("unknown", |h| h.name)
}

fn prf_hash_name(p: PrfId) -> &'static str {
    HASHES
        .iter()
        .find(|h| h.prf == p)
        .map_or("unknown", |h| h.name)
}

/// A short strongSwan-style listing of one proposal (every transform, unknown IDs as numbers),
/// for logs about a proposal mismatch.
pub(crate) fn describe(p: &Proposal) -> String {
    let name = |t: &Transform| -> String {
        match t.transform_type {
            TransformType::ENCR => encr_name((EncrId(t.id), t.key_length())),
            TransformType::PRF => format!("prf{}", prf_hash_name(PrfId(t.id))),
            TransformType::INTEG => integ_name(IntegId(t.id)).into(),
            TransformType::KE => ke_name(KeId(t.id)).into(),
            TransformType::ESN => String::new(),
            other if (6..=12).contains(&other.0) => {
                format!("ke{}_{}", other.0 - 5, ke_name(KeId(t.id)))
            }
            other => format!("{}:{}", other.0, t.id),
        }
    };
    let parts: Vec<String> = p
        .transforms
        .iter()
        .map(|t| match name(t).as_str() {
            "unknown" => format!("{}:{}", t.transform_type.0, t.id),
            n => n.to_string(),
        })
        .filter(|n| !n.is_empty())
        .collect();
    parts.join("-")
}

/// strongSwan's name for a key exchange method.
pub fn ke_name(k: KeId) -> &'static str {
    match k {
        KeId::CURVE25519 => "x25519",
        KeId::ECP_256 => "ecp256",
        KeId::ECP_384 => "ecp384",
        KeId::MODP_2048 => "modp2048",
        KeId::ML_KEM_512 => "mlkem512",
        KeId::ML_KEM_768 => "mlkem768",
        KeId::ML_KEM_1024 => "mlkem1024",
        KeId::NONE => "none",
        _ => "unknown",
    }
}

/// One HMAC hash: its strongSwan name, and the integrity and PRF transforms built on it. Parsing,
/// formatting and the provider's algorithms all read this one table.
struct HmacHash {
    name: &'static str,
    integ_alias: Option<&'static str>,
    integ: IntegId,
    integ_algorithm: IntegAlgorithm,
    prf: PrfId,
    prf_algorithm: PrfAlgorithm,
}

const HASHES: [HmacHash; 4] = [
    // RFC 2404 and RFC 2104: legacy peers only (free5GC's UE offers nothing else). No default
    // proposal names it; a connection gets it only by listing `sha1` or `prfsha1`.
    HmacHash {
        name: "sha1",
        integ_alias: Some("sha"),
        integ: IntegId::HMAC_SHA1_96,
        integ_algorithm: IntegAlgorithm::HmacSha1_96,
        prf: PrfId::HMAC_SHA1,
        prf_algorithm: PrfAlgorithm::HmacSha1,
    },
    HmacHash {
        name: "sha256",
        integ_alias: Some("sha2_256"),
        integ: IntegId::HMAC_SHA2_256_128,
        integ_algorithm: IntegAlgorithm::HmacSha256_128,
        prf: PrfId::HMAC_SHA2_256,
        prf_algorithm: PrfAlgorithm::HmacSha256,
    },
    HmacHash {
        name: "sha384",
        integ_alias: Some("sha2_384"),
        integ: IntegId::HMAC_SHA2_384_192,
        integ_algorithm: IntegAlgorithm::HmacSha384_192,
        prf: PrfId::HMAC_SHA2_384,
        prf_algorithm: PrfAlgorithm::HmacSha384,
    },
    HmacHash {
        name: "sha512",
        integ_alias: Some("sha2_512"),
        integ: IntegId::HMAC_SHA2_512_256,
        integ_algorithm: IntegAlgorithm::HmacSha512_256,
        prf: PrfId::HMAC_SHA2_512,
        prf_algorithm: PrfAlgorithm::HmacSha512,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hybrid_ike_proposal() {
        let p =
            ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519-ke1_mlkem768").expect("valid");
        assert_eq!(p.encr, vec![(EncrId::AES_GCM_16, Some(256))]);
        assert_eq!(p.prf, vec![PrfId::HMAC_SHA2_384]);
        assert_eq!(p.ke[0], vec![KeId::CURVE25519]);
        assert_eq!(p.ke[1], vec![KeId::ML_KEM_768]);
        assert!(p.integ.is_empty());
    }

    #[test]
    fn rejects_aead_with_integrity_which_no_responder_selects() {
        for s in [
            "aes128gcm-mlkem512-aes128-sha512",
            "aes256gcm16-sha256-prfsha256-x25519",
        ] {
            let e = ProposalSpec::parse_ike(s).expect_err(s);
            assert!(e.reason.contains("AEAD"), "{s}: {}", e.reason);
        }
        let e = ProposalSpec::parse_esp("chacha20poly1305-sha256").expect_err("esp");
        assert!(e.reason.contains("AEAD"), "{}", e.reason);
        assert!(ProposalSpec::parse_ike("aes128-sha256-modp2048").is_ok());
        assert!(ProposalSpec::parse_esp("aes256gcm16-x25519-esn").is_ok());
    }

    #[test]
    fn rejects_unknown_token_with_its_name() {
        let e = ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519-ke1_kyber").expect_err("bad");
        assert!(e.to_string().contains("ke1_kyber"), "{e}");
        let e = ProposalSpec::parse_ike("aes256gcm16-x25519").expect_err("no prf");
        assert!(e.to_string().contains("PRF"), "{e}");
    }

    #[test]
    fn cbc_ike_proposal_takes_prf_from_integrity() {
        let p = ProposalSpec::parse_ike("aes128-sha256-modp2048").expect("valid");
        assert_eq!(p.prf, vec![PrfId::HMAC_SHA2_256]);
        assert_eq!(p.integ, vec![IntegId::HMAC_SHA2_256_128]);
    }

    #[test]
    fn selection_respects_optional_addke() {
        let ours = ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke1_none")
            .expect("valid");
        let peer_classic = ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519").expect("valid");
        let n = ours
            .select(&peer_classic.to_wire(1, ProtocolId::IKE, vec![]), true)
            .expect("match");
        assert_eq!(n.additional_kes(), vec![]);
        let strict =
            ProposalSpec::parse_ike("aes256gcm16-prfsha384-x25519-ke1_mlkem768").expect("valid");
        assert!(
            strict
                .select(&peer_classic.to_wire(1, ProtocolId::IKE, vec![]), true)
                .is_none()
        );
        let n = strict
            .select(&ours.to_wire(1, ProtocolId::IKE, vec![]), true)
            .expect("match");
        assert_eq!(n.additional_kes(), vec![KeId::ML_KEM_768]);
        assert_eq!(n.to_string(), "aes256gcm16-prfsha384-x25519-ke1_mlkem768");
    }

    #[test]
    fn esp_proposal_defaults_to_no_esn() {
        let p = ProposalSpec::parse_esp("aes256gcm16").expect("valid");
        assert_eq!(p.esn, vec![EsnId::NO_ESN]);
        let peer = ProposalSpec::parse_esp("aes256gcm16-esn-noesn").expect("valid");
        let n = p
            .select(&peer.to_wire(1, ProtocolId::ESP, vec![1, 2, 3, 4]), false)
            .expect("match");
        assert!(!n.esn_enabled());
    }

    #[test]
    fn free5gc_legacy_profile_parses_formats_and_maps_to_sha1() {
        let ike = ProposalSpec::parse_ike("aes256-sha1-prfsha1-modp2048").expect("valid");
        assert_eq!(ike.encr, vec![(EncrId::AES_CBC, Some(256))]);
        assert_eq!(ike.integ, vec![IntegId::HMAC_SHA1_96]);
        assert_eq!(ike.prf, vec![PrfId::HMAC_SHA1]);
        assert_eq!(ike.ke[0], vec![KeId::MODP_2048]);
        // As strongSwan does, the PRF follows the integrity algorithm when none is named.
        let short = ProposalSpec::parse_ike("aes256-sha1-modp2048").expect("valid");
        assert_eq!(short, ike);
        assert_eq!(
            ProposalSpec::parse_ike("aes256-sha-modp2048").expect("alias"),
            ike
        );

        let n = ike
            .select(&ike.to_wire(1, ProtocolId::IKE, vec![]), true)
            .expect("match");
        assert_eq!(n.to_string(), "aes256-sha1-prfsha1-modp2048");
        assert_eq!(n.prf_algorithm(), Some(PrfAlgorithm::HmacSha1));
        assert_eq!(
            n.cbc(),
            Some((CbcAlgorithm::Aes256Cbc, IntegAlgorithm::HmacSha1_96))
        );
        let wire = n.to_wire(1, ProtocolId::IKE, vec![]);
        let ids: Vec<(u8, u16)> = wire
            .transforms
            .iter()
            .map(|t| (t.transform_type.0, t.id))
            .collect();
        // RFC 7296 §3.3.2: ENCR 12 (AES-CBC), PRF 2 (HMAC-SHA1), INTEG 2, KE 14 (MODP-2048).
        assert_eq!(ids, [(1, 12), (2, 2), (3, 2), (4, 14)]);
        assert_eq!(describe(&wire), "aes256-prfsha1-sha1-modp2048");

        let esp = ProposalSpec::parse_esp("aes256-sha1").expect("valid");
        let n = esp
            .select(&esp.to_wire(1, ProtocolId::ESP, vec![1, 2, 3, 4]), false)
            .expect("match");
        assert_eq!(n.to_string(), "aes256-sha1");
        assert_eq!(
            n.cbc(),
            Some((CbcAlgorithm::Aes256Cbc, IntegAlgorithm::HmacSha1_96))
        );
    }

    #[test]
    fn sha1_is_chosen_only_by_a_spec_that_lists_it() {
        let legacy = ProposalSpec::parse_ike("aes256-sha1-modp2048").expect("valid");
        let offer = legacy.to_wire(1, ProtocolId::IKE, vec![]);
        for ours in [
            "aes256-sha256-modp2048",
            "aes256-sha1-prfsha256-modp2048",
            "aes256-sha256-prfsha1-modp2048",
            "aes256gcm16-prfsha384-x25519-ke1_mlkem768",
        ] {
            let spec = ProposalSpec::parse_ike(ours).expect(ours);
            assert!(spec.select(&offer, true).is_none(), "{ours} took SHA-1");
        }
        // A peer offering SHA-2 before SHA-1 gets SHA-2 from a spec that allows both.
        let both = ProposalSpec::parse_ike("aes256-sha256-sha1-modp2048").expect("valid");
        let n = both
            .select(&both.to_wire(1, ProtocolId::IKE, vec![]), true)
            .expect("match");
        assert_eq!(n.integ, Some(IntegId::HMAC_SHA2_256_128));
        assert!(ProposalSpec::parse_esp("aes256-prfsha1").is_err());
        assert!(ProposalSpec::parse_ike("aes256-sha1-prfsha-modp2048").is_err());
    }

    #[test]
    fn esp_without_integrity_is_never_agreed_in_either_role() {
        for s in ["aes256", "aes128cbc", "aes256-esn", "aes256-x25519"] {
            let e = ProposalSpec::parse_esp(s).expect_err(s);
            assert!(e.reason.contains("integrity"), "{s}: {e}");
        }
        // A spec built past the parser, and the wire form of one: a CBC cipher with no INTEG
        // transform, and with INTEG NONE.
        let bare = ProposalSpec {
            encr: vec![(EncrId::AES_CBC, Some(256))],
            esn: vec![EsnId::NO_ESN],
            ..ProposalSpec::default()
        };
        let mut with_none = bare.to_wire(1, ProtocolId::ESP, vec![1, 2, 3, 4]);
        with_none
            .transforms
            .push(Transform::new(TransformType::INTEG, IntegId::NONE.0));
        let cbc = ProposalSpec::parse_esp("aes256-sha256").expect("valid");
        for offered in [
            bare.to_wire(1, ProtocolId::ESP, vec![1, 2, 3, 4]),
            with_none,
        ] {
            // Responder: neither our CBC spec nor a bare one selects it.
            assert!(cbc.select(&offered, false).is_none());
            assert!(bare.select(&offered, false).is_none());
            // Initiator: an answer choosing it is not one we offered.
            let specs = [cbc.clone(), bare.clone()];
            assert!(Negotiated::from_response(&specs, &offered, false).is_none());
        }
        // With integrity it is agreed.
        assert!(
            cbc.select(&cbc.to_wire(1, ProtocolId::ESP, vec![]), false)
                .is_some()
        );
    }
}
