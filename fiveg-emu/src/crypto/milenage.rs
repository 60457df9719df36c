//! MILENAGE f1, f1*, f2, f3, f4, f5 and f5* (TS 35.206 §4) on AES-128, and the OPc derivation.

use aes::Aes128;
use aes::cipher::{BlockEncrypt, KeyInit, generic_array::GenericArray};
use zeroize::Zeroizing;

use crate::secret::{Ak, Ck, Ik, Op, Opc, SubscriberKey};
use crate::values::{AuthMgmtField, Mac64, Rand, Res, Sqn};

/// The outputs of f2 to f5 for one RAND.
pub struct Milenage2345 {
    /// RES (f2).
    pub res: Res,
    /// CK (f3).
    pub ck: Ck,
    /// IK (f4).
    pub ik: Ik,
    /// AK (f5).
    pub ak: Ak,
}

/// MILENAGE for one subscriber: the AES key schedule of K and OPc.
pub struct Milenage {
    cipher: Aes128,
    opc: Opc,
}

impl Milenage {
    /// From K and OPc (what a USIM and a subscriber database hold).
    pub fn new(k: &SubscriberKey, opc: Opc) -> Self {
        let cipher = Aes128::new(GenericArray::from_slice(k.dangerous_as_bytes()));
        Self { cipher, opc }
    }

    /// From K and OP: derives OPc first.
    pub fn with_op(k: &SubscriberKey, op: &Op) -> Self {
        let opc = derive_opc(k, op);
        Self::new(k, opc)
    }

    /// OPc.
    pub fn opc(&self) -> &Opc {
        &self.opc
    }

    /// f1: MAC-A.
    pub fn f1(&self, rand: &Rand, sqn: Sqn, amf: AuthMgmtField) -> Mac64 {
        let out1 = self.out1(rand, sqn, amf);
        Mac64(first::<8>(&out1, 0))
    }

    /// f1*: MAC-S, for resynchronisation.
    pub fn f1_star(&self, rand: &Rand, sqn: Sqn, amf: AuthMgmtField) -> Mac64 {
        let out1 = self.out1(rand, sqn, amf);
        Mac64(first::<8>(&out1, 8))
    }

    /// f2 (RES), f3 (CK), f4 (IK) and f5 (AK).
    pub fn f2345(&self, rand: &Rand) -> Milenage2345 {
        let temp = self.temp(rand);
        let out2 = self.out_n(&temp, 0, 1);
        let out3 = self.out_n(&temp, 4, 2);
        let out4 = self.out_n(&temp, 8, 4);
        Milenage2345 {
            res: Res(first::<8>(&out2, 8)),
            ck: Ck::from_bytes(first::<16>(&out3, 0)),
            ik: Ik::from_bytes(first::<16>(&out4, 0)),
            ak: Ak::from_bytes(first::<6>(&out2, 0)),
        }
    }

    /// f5*: the anonymity key of AUTS.
    pub fn f5_star(&self, rand: &Rand) -> Ak {
        let temp = self.temp(rand);
        let out5 = self.out_n(&temp, 12, 8);
        Ak::from_bytes(first::<6>(&out5, 0))
    }

    /// TEMP = E_K(RAND xor OPc).
    fn temp(&self, rand: &Rand) -> Zeroizing<[u8; 16]> {
        let mut block = Zeroizing::new(rand.0);
        xor_into(&mut block, self.opc.dangerous_as_bytes());
        self.encrypt(&mut block);
        block
    }

    /// OUT1 = E_K(TEMP xor rot(IN1 xor OPc, r1) xor c1) xor OPc, with r1 = 64 and c1 = 0.
    fn out1(&self, rand: &Rand, sqn: Sqn, amf: AuthMgmtField) -> Zeroizing<[u8; 16]> {
        let temp = self.temp(rand);
        let mut in1 = [0u8; 16];
        for half in in1.chunks_exact_mut(8) {
            half[..6].copy_from_slice(&sqn.to_bytes());
            half[6..].copy_from_slice(&amf.0);
        }
        let mut block = Zeroizing::new(in1);
        xor_into(&mut block, self.opc.dangerous_as_bytes());
        block.rotate_left(8);
        xor_into(&mut block, &temp);
        self.encrypt(&mut block);
        xor_into(&mut block, self.opc.dangerous_as_bytes());
        block
    }

    /// OUTn = E_K(rot(TEMP xor OPc, r) xor c) xor OPc, where `rotate` is r in octets and `c` the
    /// value of the last octet of the constant (TS 35.206 §4.1: c2 = 1, c3 = 2, c4 = 4, c5 = 8).
    fn out_n(&self, temp: &[u8; 16], rotate: usize, c: u8) -> Zeroizing<[u8; 16]> {
        let mut block = Zeroizing::new(*temp);
        xor_into(&mut block, self.opc.dangerous_as_bytes());
        block.rotate_left(rotate);
        block[15] ^= c;
        self.encrypt(&mut block);
        xor_into(&mut block, self.opc.dangerous_as_bytes());
        block
    }

    fn encrypt(&self, block: &mut [u8; 16]) {
        self.cipher
            .encrypt_block(GenericArray::from_mut_slice(block));
    }
}

/// OPc = OP xor E_K(OP) (TS 35.206 §4.1).
pub fn derive_opc(k: &SubscriberKey, op: &Op) -> Opc {
    let cipher = Aes128::new(GenericArray::from_slice(k.dangerous_as_bytes()));
    let mut block = Zeroizing::new(*op.dangerous_as_bytes());
    cipher.encrypt_block(GenericArray::from_mut_slice(&mut *block));
    xor_into(&mut block, op.dangerous_as_bytes());
    Opc::from_bytes(*block)
}

fn xor_into(acc: &mut [u8; 16], other: &[u8; 16]) {
    for (a, b) in acc.iter_mut().zip(other) {
        *a ^= b;
    }
}

/// `N` octets of `block` from `offset` (callers pass offsets that fit: 0..=8 for 8, 0 for 16).
fn first<const N: usize>(block: &[u8; 16], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&block[offset..offset + N]);
    out
}
