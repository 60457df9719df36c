//! The 5G-AKA key chain (TS 33.501 Annex A): against a published run of another implementation,
//! and against the oxirush-security crate over all TS 35.208 subscribers.

#![allow(clippy::unwrap_used)]

mod common;

use fiveg_emu::crypto::milenage::Milenage;
use fiveg_emu::identity::{Plmn, ServingNetworkName, Supi};
use fiveg_emu::keys;
use fiveg_emu::secret::{Ck, Ik, Kamf, Kausf, Kseaf, Opc, SubscriberKey};
use fiveg_emu::security::{CipheringAlgorithm, IntegrityAlgorithm, NasCount};
use fiveg_emu::values::{Abba, AuthMgmtField, Rand, Sqn};
use oxirush_security as ox;

#[test]
fn chain_matches_the_published_run() {
    let run = &common::sections("five_g_aka_published_run.txt")[0];
    let plmn = Plmn::new(run.text("mcc"), run.text("mnc")).unwrap();
    let snn = ServingNetworkName::from_plmn(plmn);
    assert_eq!(snn.to_string(), "5G:mnc001.mcc001.3gppnetwork.org");
    let milenage = Milenage::new(
        &SubscriberKey::from_bytes(run.array("k")),
        Opc::from_bytes(run.array("opc")),
    );
    let rand = Rand(run.array("rand"));
    let sqn = Sqn::from_bytes(run.array("sqn"));
    assert_eq!(
        milenage.f1(&rand, sqn, AuthMgmtField(run.array("amf"))).0,
        run.array("mac_a")
    );
    let out = milenage.f2345(&rand);
    assert_eq!(out.res.0, run.array("xres"));
    assert_eq!(out.ck.dangerous_as_bytes(), &run.array("ck"));
    assert_eq!(out.ik.dangerous_as_bytes(), &run.array("ik"));
    assert_eq!(out.ak.dangerous_as_bytes(), &run.array("ak"));
    let autn: [u8; 16] = run.array("autn");
    let sqn_xor_ak: [u8; 6] = autn[..6].try_into().unwrap();

    let xres_star = keys::res_star(&out.ck, &out.ik, &snn, &rand, &out.res);
    assert_eq!(xres_star.0, run.array("xres_star"));
    assert_eq!(
        keys::hres_star(&rand, &xres_star).0,
        run.array("hxres_star")
    );
    // See the vector file: the run derived KAUSF and KSEAF with the MNC unpadded.
    let unpadded = ServingNetworkName::from_sn_id("mnc01.mcc001.3gppnetwork.org").unwrap();
    let kausf = keys::kausf(&out.ck, &out.ik, &unpadded, &sqn_xor_ak);
    assert!(kausf.ct_eq(&Kausf::from_bytes(run.array("kausf_unpadded_name"))));
    let kseaf = keys::kseaf(&kausf, &unpadded);
    assert!(kseaf.ct_eq(&Kseaf::from_bytes(run.array("kseaf_unpadded_name"))));
}

/// Every TS 35.208 subscriber, under PLMNs with two- and three-digit MNCs.
#[test]
fn chain_agrees_with_oxirush_security_for_every_subscriber() {
    let plmns = [("208", "93"), ("310", "410"), ("001", "01")];
    for set in &common::sections("ts35208_milenage.txt") {
        for (mcc, mnc) in plmns {
            let plmn = Plmn::new(mcc, mnc).unwrap();
            check_subscriber(set, plmn);
        }
    }
}

fn check_subscriber(set: &common::Section, plmn: Plmn) {
    let snn = ServingNetworkName::from_plmn(plmn);
    let rand = Rand(set.array("RAND"));
    let out = Milenage::new(
        &SubscriberKey::from_bytes(set.array("K")),
        Opc::from_bytes(set.array("OPc")),
    )
    .f2345(&rand);
    let (ck, ik) = (&out.ck, &out.ik);
    let sqn_xor_ak = xor6(set.array("SQN"), set.array("f5"));
    let (ox_ck, ox_ik) = (ox_ck(ck), ox_ik(ik));
    let ox_rand = ox::Rand::from_slice(&rand.0).unwrap();
    let snn_bytes = snn.as_bytes();

    let res_star = keys::res_star(ck, ik, &snn, &rand, &out.res);
    let ox_res_star =
        ox::nas_5gs::compute_res_star(&ox_ck, &ox_ik, snn_bytes, &ox_rand, &out.res.0).unwrap();
    assert_eq!(&res_star.0, ox_res_star.as_octets(), "{}: RES*", set.name);
    let ox_hres = ox::nas_5gs::compute_hres_star(&ox_rand, &ox_res_star);
    assert_eq!(
        &keys::hres_star(&rand, &res_star).0,
        ox_hres.as_octets(),
        "{}: HRES*",
        set.name
    );

    let mut autn = [0u8; 16];
    autn[..6].copy_from_slice(&sqn_xor_ak);
    let ox_autn = ox::Autn::from_slice(&autn).unwrap();
    let kausf = keys::kausf(ck, ik, &snn, &sqn_xor_ak);
    let ox_kausf = ox::nas_5gs::derive_kausf(&ox_ck, &ox_ik, snn_bytes, &ox_autn).unwrap();
    assert_eq!(
        kausf.dangerous_as_bytes(),
        ox_kausf.as_octets(),
        "{}: KAUSF",
        set.name
    );
    let kseaf = keys::kseaf(&kausf, &snn);
    let ox_kseaf = ox::nas_5gs::derive_kseaf(&ox_kausf, snn_bytes).unwrap();
    assert_eq!(
        kseaf.dangerous_as_bytes(),
        ox_kseaf.as_octets(),
        "{}: KSEAF",
        set.name
    );

    let msin = if plmn.mnc().len() == 3 {
        "012345678"
    } else {
        "0123456789"
    };
    let supi = Supi::new(plmn, msin).unwrap();
    let imsi = supi.imsi_digits();
    let ox_supi = ox::nas_5gs::Supi::imsi(&imsi).unwrap();
    let kamf = keys::kamf(&kseaf, &supi, &Abba::current());
    let ox_kamf = ox::nas_5gs::derive_kamf(&ox_kseaf, &ox_supi, &[0, 0]).unwrap();
    assert_eq!(
        kamf.dangerous_as_bytes(),
        ox_kamf.as_octets(),
        "{}: KAMF",
        set.name
    );
    check_kamf_children(&kamf, &ox_kamf, &set.name);
}

fn check_kamf_children(kamf: &Kamf, ox_kamf: &ox::nas_5gs::KAmf, name: &str) {
    use ox::{CipheringAlgorithm as OxCipher, IntegrityAlgorithm as OxIntegrity};
    let ciphers = [
        (CipheringAlgorithm::Nea0, OxCipher::Null),
        (CipheringAlgorithm::Nea1, OxCipher::Snow3g),
        (CipheringAlgorithm::Nea2, OxCipher::Aes),
        (CipheringAlgorithm::Nea3, OxCipher::Zuc),
    ];
    for (ours, theirs) in ciphers {
        let expected = ox::nas_5gs::derive_knas_enc(ox_kamf, theirs);
        assert_eq!(
            keys::knas_enc(kamf, ours).dangerous_as_bytes(),
            expected.as_octets(),
            "{name}: KNASenc {ours:?}"
        );
    }
    let integrity = [
        (IntegrityAlgorithm::Nia0, OxIntegrity::Null),
        (IntegrityAlgorithm::Nia1, OxIntegrity::Snow3g),
        (IntegrityAlgorithm::Nia2, OxIntegrity::Aes),
        (IntegrityAlgorithm::Nia3, OxIntegrity::Zuc),
    ];
    for (ours, theirs) in integrity {
        let expected = ox::nas_5gs::derive_knas_int(ox_kamf, theirs);
        assert_eq!(
            keys::knas_int(kamf, ours).dangerous_as_bytes(),
            expected.as_octets(),
            "{name}: KNASint {ours:?}"
        );
    }
    for (overflow, sqn) in [(0, 0), (0, 1), (0x0011, 0x02), (0xFFFF, 0xFF)] {
        let count = NasCount::new(overflow, sqn);
        let ox_count = ox::NasCount::from_parts(overflow, sqn);
        let ox_n3iwf = ox::nas_5gs::derive_kn3iwf(ox_kamf, ox_count);
        assert_eq!(
            keys::kn3iwf(kamf, count).dangerous_as_bytes(),
            ox_n3iwf.as_octets(),
            "{name}: KN3IWF"
        );
        let ox_gnb = ox::nas_5gs::derive_kgnb(ox_kamf, ox_count);
        assert_eq!(
            keys::kgnb(kamf, count).dangerous_as_bytes(),
            ox_gnb.as_octets(),
            "{name}: KgNB"
        );
    }
}

#[test]
fn kn3iwf_and_kgnb_differ_only_by_the_access_type_distinguisher() {
    let kamf = Kamf::from_bytes([0x11; 32]);
    let count = NasCount::ZERO;
    assert_ne!(
        keys::kn3iwf(&kamf, count).dangerous_as_bytes(),
        keys::kgnb(&kamf, count).dangerous_as_bytes()
    );
    assert_ne!(
        keys::kn3iwf(&kamf, count).dangerous_as_bytes(),
        keys::kn3iwf(&kamf, NasCount::new(0, 1)).dangerous_as_bytes()
    );
}

#[test]
fn serving_network_name_pads_two_digit_mncs() {
    let name = |mcc, mnc| ServingNetworkName::from_plmn(Plmn::new(mcc, mnc).unwrap()).to_string();
    assert_eq!(name("208", "93"), "5G:mnc093.mcc208.3gppnetwork.org");
    assert_eq!(name("310", "410"), "5G:mnc410.mcc310.3gppnetwork.org");
}

fn xor6(a: [u8; 6], b: [u8; 6]) -> [u8; 6] {
    std::array::from_fn(|i| a[i] ^ b[i])
}

fn ox_ck(ck: &Ck) -> ox::Ck {
    ox::Ck::from_slice(ck.dangerous_as_bytes()).unwrap()
}

fn ox_ik(ik: &Ik) -> ox::Ik {
    ox::Ik::from_slice(ik.dangerous_as_bytes()).unwrap()
}
