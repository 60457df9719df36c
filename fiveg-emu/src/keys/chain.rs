//! The 5G-AKA key hierarchy of TS 33.501 Annex A, each function with the FC and parameters of
//! its clause. All use the KDF of TS 33.220 Annex B.2.

use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::kdf::{FunctionCode, kdf};
use crate::identity::{ServingNetworkName, Supi};
use crate::secret::{Ck, Ik, Kamf, Kausf, Kgnb, Kn3iwf, KnasEnc, KnasInt, Kseaf};
use crate::security::{CipheringAlgorithm, IntegrityAlgorithm, NasCount};
use crate::values::{Abba, HresStar, Rand, Res, ResStar};

/// The access type distinguisher of Annex A.9 (Table A.9-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessType {
    /// 3GPP access: KgNB.
    ThreeGpp,
    /// Non-3GPP access: KN3IWF (also KTNGF, KTWIF, KWAGF).
    NonThreeGpp,
}

impl AccessType {
    /// The distinguisher octet.
    pub fn distinguisher(self) -> u8 {
        match self {
            Self::ThreeGpp => 0x01,
            Self::NonThreeGpp => 0x02,
        }
    }
}

/// KAUSF = KDF(CK || IK, 0x6A, serving network name, SQN xor AK) (Annex A.2).
pub fn kausf(ck: &Ck, ik: &Ik, snn: &ServingNetworkName, sqn_xor_ak: &[u8; 6]) -> Kausf {
    let key = ck_ik(ck, ik);
    let out = kdf(
        key.as_slice(),
        FunctionCode::KAUSF,
        &[snn.as_bytes(), sqn_xor_ak],
    );
    Kausf::from_bytes(*out)
}

/// RES* (or XRES*) = the 128 least significant bits of KDF(CK || IK, 0x6B, serving network
/// name, RAND, RES) (Annex A.4).
pub fn res_star(ck: &Ck, ik: &Ik, snn: &ServingNetworkName, rand: &Rand, res: &Res) -> ResStar {
    let key = ck_ik(ck, ik);
    let params: [&[u8]; 3] = [snn.as_bytes(), &rand.0, &res.0];
    let out = kdf(key.as_slice(), FunctionCode::RES_STAR, &params);
    ResStar(last_16(&out))
}

/// HRES* (or HXRES*) = the 128 least significant bits of SHA-256(RAND || RES*) (Annex A.5).
pub fn hres_star(rand: &Rand, res_star: &ResStar) -> HresStar {
    let digest: [u8; 32] = Sha256::new()
        .chain_update(rand.0)
        .chain_update(res_star.0)
        .finalize()
        .into();
    HresStar(last_16(&digest))
}

/// KSEAF = KDF(KAUSF, 0x6C, serving network name) (Annex A.6).
pub fn kseaf(kausf: &Kausf, snn: &ServingNetworkName) -> Kseaf {
    let out = kdf(
        kausf.dangerous_as_bytes(),
        FunctionCode::KSEAF,
        &[snn.as_bytes()],
    );
    Kseaf::from_bytes(*out)
}

/// KAMF = KDF(KSEAF, 0x6D, SUPI, ABBA) (Annex A.7); the SUPI is the IMSI as a string of digits.
pub fn kamf(kseaf: &Kseaf, supi: &Supi, abba: &Abba) -> Kamf {
    let imsi = supi.imsi_digits();
    let params: [&[u8]; 2] = [imsi.as_bytes(), abba.as_bytes()];
    let out = kdf(kseaf.dangerous_as_bytes(), FunctionCode::KAMF, &params);
    Kamf::from_bytes(*out)
}

/// KNASenc = the 128 least significant bits of KDF(KAMF, 0x69, 0x01, algorithm identity)
/// (Annex A.8, algorithm type distinguisher N-NAS-enc-alg).
pub fn knas_enc(kamf: &Kamf, algorithm: CipheringAlgorithm) -> KnasEnc {
    KnasEnc::from_bytes(*algorithm_key(kamf, 0x01, algorithm.identity()))
}

/// KNASint = the 128 least significant bits of KDF(KAMF, 0x69, 0x02, algorithm identity)
/// (Annex A.8, algorithm type distinguisher N-NAS-int-alg).
pub fn knas_int(kamf: &Kamf, algorithm: IntegrityAlgorithm) -> KnasInt {
    KnasInt::from_bytes(*algorithm_key(kamf, 0x02, algorithm.identity()))
}

/// KN3IWF = KDF(KAMF, 0x6E, uplink NAS COUNT, 0x02) (Annex A.9, non-3GPP access).
pub fn kn3iwf(kamf: &Kamf, uplink_count: NasCount) -> Kn3iwf {
    Kn3iwf::from_bytes(*access_network_key(
        kamf,
        uplink_count,
        AccessType::NonThreeGpp,
    ))
}

/// KgNB = KDF(KAMF, 0x6E, uplink NAS COUNT, 0x01) (Annex A.9, 3GPP access).
pub fn kgnb(kamf: &Kamf, uplink_count: NasCount) -> Kgnb {
    Kgnb::from_bytes(*access_network_key(
        kamf,
        uplink_count,
        AccessType::ThreeGpp,
    ))
}

fn access_network_key(kamf: &Kamf, count: NasCount, access: AccessType) -> Zeroizing<[u8; 32]> {
    let count = count.value().to_be_bytes();
    let params: [&[u8]; 2] = [&count, &[access.distinguisher()]];
    kdf(
        kamf.dangerous_as_bytes(),
        FunctionCode::ACCESS_NETWORK_KEY,
        &params,
    )
}

fn algorithm_key(kamf: &Kamf, distinguisher: u8, identity: u8) -> Zeroizing<[u8; 16]> {
    let params: [&[u8]; 2] = [&[distinguisher], &[identity]];
    let out = kdf(
        kamf.dangerous_as_bytes(),
        FunctionCode::ALGORITHM_KEY,
        &params,
    );
    Zeroizing::new(last_16(&out))
}

fn ck_ik(ck: &Ck, ik: &Ik) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    key[..16].copy_from_slice(ck.dangerous_as_bytes());
    key[16..].copy_from_slice(ik.dangerous_as_bytes());
    key
}

fn last_16(block: &[u8; 32]) -> [u8; 16] {
    let mut out = [0u8; 16];
    out.copy_from_slice(&block[16..]);
    out
}
