//! The Internet checksum (RFC 1071) over byte slices, and pseudo-header sums (RFC 9293 §3.1,
//! RFC 8200 §8.1).
//!
//! Sums are kept as `u32` partial sums in network byte order and folded at the end. Words are
//! added in native order and swapped once at the end, which RFC 1071 §2(B) allows.

/// The ones-complement sum of `data` as a partial sum (not folded, not complemented). An odd
/// final byte counts as the high byte of a word, so only the last part of a checksummed area may
/// have odd length.
pub(crate) fn sum(data: &[u8]) -> u32 {
    let mut acc0: u64 = 0;
    let mut acc1: u64 = 0;
    let mut chunks = data.chunks_exact(16);
    for c in &mut chunks {
        let (a, b) = c.split_at(8);
        let a = u64::from_ne_bytes(a.try_into().unwrap_or([0; 8]));
        let b = u64::from_ne_bytes(b.try_into().unwrap_or([0; 8]));
        acc0 += (a & 0xffff_ffff) + (a >> 32);
        acc1 += (b & 0xffff_ffff) + (b >> 32);
    }
    let mut tail = [0u8; 16];
    let rest = chunks.remainder();
    tail[..rest.len()].copy_from_slice(rest);
    let a = u64::from_ne_bytes(tail[..8].try_into().unwrap_or([0; 8]));
    let b = u64::from_ne_bytes(tail[8..].try_into().unwrap_or([0; 8]));
    let acc = acc0 + acc1 + (a & 0xffff_ffff) + (a >> 32) + (b & 0xffff_ffff) + (b >> 32);
    let native = fold64(acc);
    u32::from(u16::from_be(native))
}

/// Adds partial sums.
pub(crate) fn add(a: u32, b: u32) -> u32 {
    let s = u64::from(a) + u64::from(b);
    fold64(s).into()
}

/// Folds a partial sum to 16 bits (not complemented).
pub(crate) fn fold(s: u32) -> u16 {
    fold64(u64::from(s))
}

/// The checksum field value for a partial sum: folded and complemented.
pub(crate) fn finish(s: u32) -> u16 {
    !fold(s)
}

/// Pseudo-header sum for `proto` over `l4_len` bytes between `src` and `dst` (each 4 or 16
/// bytes).
pub(crate) fn pseudo_header(src: &[u8], dst: &[u8], proto: u8, l4_len: usize) -> u32 {
    let mut s = add(sum(src), sum(dst));
    s = add(s, u32::from(proto));
    add(s, (l4_len as u32 & 0xffff) + (l4_len as u32 >> 16))
}

fn fold64(mut s: u64) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook definition, for comparison.
    fn naive(data: &[u8]) -> u16 {
        let mut s = 0u32;
        for c in data.chunks(2) {
            s += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
        }
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    #[test]
    fn matches_the_definition_for_every_length_and_alignment() {
        let data: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for start in 0..4 {
            for len in (0..200).chain([1399, 1400, 1401, 2999 - start]) {
                let d = &data[start..start + len];
                assert_eq!(fold(sum(d)), naive(d), "start {start} len {len}");
            }
        }
        assert_eq!(fold(sum(&[0xff; 4096])), 0xffff);
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0xddf2);
    }

    #[test]
    fn known_ipv4_header_checksum() {
        // A captured IPv4 header with checksum 0xb861.
        let mut h = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert_eq!(finish(sum(&h)), 0xb861);
        h[10..12].copy_from_slice(&0xb861u16.to_be_bytes());
        assert_eq!(fold(sum(&h)), 0xffff);
    }
}
