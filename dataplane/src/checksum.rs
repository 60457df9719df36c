//! The Internet checksum (RFC 1071) over byte slices, and pseudo-header sums (RFC 9293 §3.1,
//! RFC 8200 §8.1).
//!
//! Sums are kept as `u32` partial sums in network byte order and folded at the end. Words are
//! added in native order and swapped once at the end, which RFC 1071 §2(B) allows.

/// The ones-complement sum of `data` as a partial sum (not folded, not complemented). An odd
/// final byte counts as the high byte of a word, so only the last part of a checksummed area may
/// have odd length.
pub(crate) fn sum(data: &[u8]) -> u32 {
    // 32-bit words widened into a 64-bit accumulator: no carries to track, and the loop
    // vectorises (2^32 words would be needed to overflow).
    let mut chunks = data.chunks_exact(4);
    let mut acc: u64 = (&mut chunks)
        .map(|c| u64::from(u32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
        .sum();
    let rest = chunks.remainder();
    let mut tail = [0u8; 4];
    tail[..rest.len()].copy_from_slice(rest);
    acc += u64::from(u32::from_ne_bytes(tail));
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
    pseudo_header_from(add(sum(src), sum(dst)), proto, l4_len)
}

/// [`pseudo_header`] from the precomputed sum of the two addresses.
pub(crate) fn pseudo_header_from(addr_sum: u32, proto: u8, l4_len: usize) -> u32 {
    let len = l4_len as u32;
    add(addr_sum, u32::from(proto) + (len & 0xffff) + (len >> 16))
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
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
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
        assert_eq!(
            fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])),
            0xddf2
        );
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
