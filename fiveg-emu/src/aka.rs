//! 5G-AKA at both ends (TS 33.501 §6.1.3.2): the home network's authentication vector with
//! RES*-based checks, the USIM's check of AUTN with the SQN freshness rule, and resynchronisation
//! from AUTS (TS 33.102 §6.3.3 and §6.3.5).

use crate::crypto::milenage::Milenage;
use crate::identity::ServingNetworkName;
use crate::keys;
use crate::secret::{Ck, Ik, Kausf, Opc, SubscriberKey};
use crate::values::{AuthMgmtField, Autn, Auts, HresStar, Mac64, Rand, Res, ResStar, Sqn};

/// The 5G home environment authentication vector and KAUSF, as UDM and AUSF hold them.
pub struct HomeVector {
    /// RAND.
    pub rand: Rand,
    /// AUTN.
    pub autn: Autn,
    /// XRES* (kept by the AUSF).
    pub xres_star: ResStar,
    /// HXRES* (given to the SEAF).
    pub hxres_star: HresStar,
    /// KAUSF.
    pub kausf: Kausf,
}

/// Builds the vector for `rand` and `sqn` (TS 33.501 §6.1.3.2 step 1).
pub fn home_vector(
    milenage: &Milenage,
    rand: Rand,
    sqn: Sqn,
    amf: AuthMgmtField,
    snn: &ServingNetworkName,
) -> HomeVector {
    let out = milenage.f2345(&rand);
    let concealed = xor6(sqn.to_bytes(), *out.ak.dangerous_as_bytes());
    let mac = milenage.f1(&rand, sqn, amf);
    let mut autn = [0u8; 16];
    autn[..6].copy_from_slice(&concealed);
    autn[6..8].copy_from_slice(&amf.0);
    autn[8..].copy_from_slice(&mac.0);
    let xres_star = keys::res_star(&out.ck, &out.ik, snn, &rand, &out.res);
    HomeVector {
        rand,
        autn: Autn(autn),
        hxres_star: keys::hres_star(&rand, &xres_star),
        xres_star,
        kausf: keys::kausf(&out.ck, &out.ik, snn, &concealed),
    }
}

/// SQN_MS from AUTS when MAC-S verifies (TS 33.102 §6.3.5); `None` otherwise.
pub fn resynchronise(milenage: &Milenage, rand: &Rand, auts: &Auts) -> Option<Sqn> {
    let ak_star = milenage.f5_star(rand);
    let mut concealed = [0u8; 6];
    concealed.copy_from_slice(&auts.0[..6]);
    let sqn_ms = Sqn::from_bytes(xor6(concealed, *ak_star.dangerous_as_bytes()));
    let mut mac = [0u8; 8];
    mac.copy_from_slice(&auts.0[6..]);
    let expected = milenage.f1_star(rand, sqn_ms, AuthMgmtField::RESYNC);
    expected.ct_eq(&Mac64(mac)).then_some(sqn_ms)
}

/// The USIM's verdict on an AUTN.
pub enum AutnCheck {
    /// Genuine and fresh: RES, CK and IK.
    Accepted {
        /// RES.
        res: Res,
        /// CK.
        ck: Ck,
        /// IK.
        ik: Ik,
    },
    /// MAC-A does not verify: cause #20.
    MacFailure,
    /// The SQN is not fresh: cause #21 with AUTS.
    SynchFailure(Auts),
    /// The AMF separation bit is not set: cause #26.
    NotFiveG,
}

/// A USIM: K, OPc and the highest SQN accepted so far.
pub struct Usim {
    milenage: Milenage,
    sqn_ms: Sqn,
}

impl Usim {
    /// A USIM that has accepted SQNs up to `sqn_ms`.
    pub fn new(k: &SubscriberKey, opc: Opc, sqn_ms: Sqn) -> Self {
        Self {
            milenage: Milenage::new(k, opc),
            sqn_ms,
        }
    }

    /// The highest SQN accepted.
    pub fn sqn_ms(&self) -> Sqn {
        self.sqn_ms
    }

    /// Checks AUTN (TS 33.102 §6.3.3): MAC-A, the AMF separation bit (TS 33.501 §6.1.3.2),
    /// then freshness. The emulator's freshness rule is "strictly above SQN_MS", which refuses
    /// every replayed AUTN.
    pub fn check(&mut self, rand: &Rand, autn: &Autn) -> AutnCheck {
        let out = self.milenage.f2345(rand);
        let sqn = Sqn::from_bytes(xor6(autn.concealed_sqn(), *out.ak.dangerous_as_bytes()));
        if !self.milenage.f1(rand, sqn, autn.amf()).ct_eq(&autn.mac()) {
            return AutnCheck::MacFailure;
        }
        if !autn.amf().has_separation_bit() {
            return AutnCheck::NotFiveG;
        }
        if sqn <= self.sqn_ms {
            return AutnCheck::SynchFailure(self.auts(rand));
        }
        self.sqn_ms = sqn;
        AutnCheck::Accepted {
            res: out.res,
            ck: out.ck,
            ik: out.ik,
        }
    }

    /// AUTS = (SQN_MS xor AK*) || MAC-S, MAC-S with the dummy AMF 0x0000.
    fn auts(&self, rand: &Rand) -> Auts {
        let ak_star = self.milenage.f5_star(rand);
        let mac = self
            .milenage
            .f1_star(rand, self.sqn_ms, AuthMgmtField::RESYNC);
        let mut out = [0u8; 14];
        out[..6].copy_from_slice(&xor6(self.sqn_ms.to_bytes(), *ak_star.dangerous_as_bytes()));
        out[6..].copy_from_slice(&mac.0);
        Auts(out)
    }
}

fn xor6(a: [u8; 6], b: [u8; 6]) -> [u8; 6] {
    std::array::from_fn(|i| a[i] ^ b[i])
}
