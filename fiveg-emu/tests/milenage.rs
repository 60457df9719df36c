//! MILENAGE against all twenty test sets of TS 35.208 §4.3.

#![allow(clippy::unwrap_used)]

mod common;

use fiveg_emu::crypto::milenage::{Milenage, derive_opc};
use fiveg_emu::secret::{Op, Opc, SubscriberKey};
use fiveg_emu::values::{AuthMgmtField, Rand, Sqn};

#[test]
fn milenage_matches_every_ts_35_208_test_set() {
    let sets = common::sections("ts35208_milenage.txt");
    assert_eq!(sets.len(), 20, "TS 35.208 has twenty test sets");
    for set in &sets {
        let k = SubscriberKey::from_bytes(set.array("K"));
        let op = Op::from_bytes(set.array("OP"));
        let expected_opc = Opc::from_bytes(set.array("OPc"));
        assert!(
            derive_opc(&k, &op).ct_eq(&expected_opc),
            "{}: OPc",
            set.name
        );

        let milenage = Milenage::with_op(&k, &op);
        let rand = Rand(set.array("RAND"));
        let sqn = Sqn::from_bytes(set.array("SQN"));
        let amf = AuthMgmtField(set.array("AMF"));
        set.assert_hex("f1", &milenage.f1(&rand, sqn, amf).0);
        set.assert_hex("f1*", &milenage.f1_star(&rand, sqn, amf).0);
        let out = milenage.f2345(&rand);
        set.assert_hex("f2", &out.res.0);
        set.assert_hex("f3", out.ck.dangerous_as_bytes());
        set.assert_hex("f4", out.ik.dangerous_as_bytes());
        set.assert_hex("f5", out.ak.dangerous_as_bytes());
        let ak_star = milenage.f5_star(&rand);
        set.assert_hex("f5*", ak_star.dangerous_as_bytes());
    }
}

#[test]
fn milenage_from_opc_equals_milenage_from_op() {
    let set = &common::sections("ts35208_milenage.txt")[5];
    let k = SubscriberKey::from_bytes(set.array("K"));
    let from_opc = Milenage::new(&k, Opc::from_bytes(set.array("OPc")));
    let rand = Rand(set.array("RAND"));
    assert_eq!(from_opc.f2345(&rand).res.0, set.array("f2"));
}

#[test]
fn one_flipped_key_bit_changes_every_output() {
    let set = &common::sections("ts35208_milenage.txt")[0];
    let mut key = set.array::<16>("K");
    key[15] ^= 1;
    let milenage = Milenage::new(
        &SubscriberKey::from_bytes(key),
        Opc::from_bytes(set.array("OPc")),
    );
    let rand = Rand(set.array("RAND"));
    let sqn = Sqn::from_bytes(set.array("SQN"));
    assert_ne!(
        milenage.f1(&rand, sqn, AuthMgmtField(set.array("AMF"))).0,
        set.array("f1")
    );
    assert_ne!(milenage.f2345(&rand).res.0, set.array("f2"));
}
