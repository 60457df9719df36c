//! Known-answer tests for the key exchange methods, through each provider's fixed-key hooks.

use super::harness::{Harness, field, h, vector_file};
use crate::KeGroup;

/// Checks one Diffie-Hellman case: an initiator with private key `private` publishes
/// `public` (when given) and derives `shared` from the peer's value.
fn dh_case(
    harness: &Harness,
    group: KeGroup,
    private: &[u8],
    public: Option<&[u8]>,
    peer: &[u8],
    shared: &[u8],
) {
    let active = (harness.dh_from_private)(group, private).expect("fixed private key accepted");
    assert_eq!(active.group(), group);
    if let Some(public) = public {
        assert_eq!(active.public(), public, "{group:?} public value");
    }
    let secret = active.complete(peer).expect("valid peer value");
    assert_eq!(secret.expose(), shared, "{group:?} shared secret");
}

/// RFC 7748 §5.2 (the two single scalar multiplications) and §6.1 (Alice and Bob).
pub(crate) fn x25519_rfc7748(harness: &Harness) {
    dh_case(
        harness,
        KeGroup::X25519,
        &h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
        None,
        &h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
        &h("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
    );
    dh_case(
        harness,
        KeGroup::X25519,
        &h("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
        None,
        &h("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
        &h("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
    );
    let alice_private = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    let alice_public = h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    let bob_private = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    let bob_public = h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    let shared = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    dh_case(
        harness,
        KeGroup::X25519,
        &alice_private,
        Some(&alice_public),
        &bob_public,
        &shared,
    );
    dh_case(
        harness,
        KeGroup::X25519,
        &bob_private,
        Some(&bob_public),
        &alice_public,
        &shared,
    );
}

/// RFC 5903 §8.1 (ECP-256) and §8.2 (ECP-384): the values there are already in IKEv2 format
/// (`gix | giy` is the KE data, `girx` the shared secret).
pub(crate) fn ecp_rfc5903(harness: &Harness) {
    let cases = [
        (
            KeGroup::Ecp256,
            "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433",
            "DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180\
             5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3",
            "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53",
            "D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63\
             56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB",
            "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE",
        ),
        (
            KeGroup::Ecp384,
            "099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655\
             E35B538041E649EE3FAEF896783AB194",
            "667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6\
             DE3AC808ACB4BDB4C88732AEE95F41AA9482ED1FC0EEB9CAFC4984625CCFC23F\
             65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C",
            "41CB0779B4BDB85D47846725FBEC3C9430FAB46CC8DC5060855CC9BDA0AA2942\
             E0308312916B8ED2960E4BD55A7448FC",
            "E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D\
             0D1AC43A0336DEF96FDA41D0774A3571DCFBEC7AACF3196472169E838430367F\
             66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C",
            "11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4\
             D603135569B9E9D09CF5D4A270F59746",
        ),
    ];
    for (group, i, gi, r, gr, gir) in cases {
        let (i, gi, r, gr, gir) = (h(i), h(gi), h(r), h(gr), h(gir));
        dh_case(harness, group, &i, Some(&gi), &gr, &gir);
        dh_case(harness, group, &r, Some(&gr), &gi, &gir);
    }
}

/// MODP-2048 with fixed exponents against an independent computation
/// (`vectors/modp2048.txt`).
pub(crate) fn modp2048_fixed_exponent(harness: &Harness) {
    let fields = vector_file(include_str!("vectors/modp2048.txt"));
    dh_case(
        harness,
        KeGroup::Modp2048,
        field(&fields, "xi"),
        Some(field(&fields, "yi")),
        field(&fields, "yr"),
        field(&fields, "shared"),
    );
}

/// NIST ACVP ML-KEM-512 vector (`vectors/mlkem512_encap_decap.txt`): decapsulation from the
/// expanded key on every provider; encapsulation with a fixed `m` where the provider's library
/// allows.
pub(crate) fn mlkem512_acvp(harness: &Harness) {
    let group = KeGroup::MlKem512;
    let encap = vector_file(include_str!("vectors/mlkem512_encap_decap.txt"));
    let (ek, dk, c, k) = (
        field(&encap, "ek"),
        field(&encap, "dk"),
        field(&encap, "c"),
        field(&encap, "k"),
    );

    let active = (harness.kem_from_expanded_dk)(group, dk).expect("expanded key accepted");
    assert_eq!(active.public(), ek);
    assert_eq!(active.complete(c).expect("decapsulate").expose(), k);

    if let Some(encapsulate) = harness.kem_encapsulate_deterministic {
        let m: [u8; 32] = field(&encap, "m").try_into().expect("32-octet m");
        let (ct, shared) = encapsulate(group, ek, &m).expect("encapsulate");
        assert_eq!(ct, c);
        assert_eq!(shared.expose(), k);
    }
}

/// ML-KEM-768 key generation from a seed (`vectors/mlkem768_keygen.txt`), where the provider's
/// library has deterministic key generation.
pub(crate) fn mlkem768_keygen_from_seed(harness: &Harness) {
    let Some(from_seed) = harness.kem_from_seed else {
        return;
    };
    let keygen = vector_file(include_str!("vectors/mlkem768_keygen.txt"));
    let seed: [u8; 64] = field(&keygen, "seed").try_into().expect("64-octet seed");
    let active = from_seed(KeGroup::MlKem768, &seed).expect("seed accepted");
    assert_eq!(active.public(), field(&keygen, "ek"));
}

/// Decapsulating a ciphertext that does not match gives the implicit-rejection key
/// `J(z | c)`, not an error, and not the real key (FIPS 203 Algorithm 18).
pub(crate) fn mlkem_implicit_rejection(harness: &Harness) {
    let encap = vector_file(include_str!("vectors/mlkem512_encap_decap.txt"));
    let mut c = field(&encap, "c").to_vec();
    c[0] ^= 0x01;
    let active = (harness.kem_from_expanded_dk)(KeGroup::MlKem512, field(&encap, "dk"))
        .expect("expanded key accepted");
    let rejected = active
        .complete(&c)
        .expect("implicit rejection is not an error");
    assert_eq!(rejected.len(), 32);
    assert!(!rejected.ct_eq(field(&encap, "k")));
}

/// The ECP and X25519 public values have the IKEv2 lengths, and agree with `ke_wire`.
pub(crate) fn ke_data_lengths(harness: &Harness) {
    let lengths = [
        (KeGroup::Modp2048, 256, 256),
        (KeGroup::Ecp256, 64, 64),
        (KeGroup::Ecp384, 96, 96),
        (KeGroup::X25519, 32, 32),
        (KeGroup::MlKem512, 800, 768),
        (KeGroup::MlKem768, 1184, 1088),
        (KeGroup::MlKem1024, 1568, 1568),
    ];
    for (group, initiator_len, responder_len) in lengths {
        let ke = harness
            .provider
            .key_exchange(group)
            .expect("group supported");
        assert_eq!(ke.group(), group);
        let active = ke.start().expect("start");
        assert_eq!(active.group(), group);
        assert_eq!(
            active.public().len(),
            initiator_len,
            "{group:?} initiator data"
        );
        let (response, responder_secret) = ke.respond(active.public()).expect("respond");
        assert_eq!(response.len(), responder_len, "{group:?} responder data");
        let initiator_secret = active.complete(&response).expect("complete");
        assert!(
            initiator_secret.ct_eq(responder_secret.expose()),
            "{group:?} secrets differ"
        );
        let secret_len = match group {
            KeGroup::Modp2048 => 256,
            KeGroup::Ecp256 => 32,
            KeGroup::Ecp384 => 48,
            _ => 32,
        };
        assert_eq!(
            initiator_secret.len(),
            secret_len,
            "{group:?} secret length"
        );
    }
}
