//! The Internet checksum (RFC 1071), for the GRE checksum and for callers building IP, ICMP and
//! UDP headers.

/// The one's complement of the one's complement sum of `data` as 16-bit big-endian words (an
/// odd last octet is padded with zero). Over data that includes a correct checksum field it is
/// 0.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !fold(sum(data, 0))
}

/// Adds `data` to a running 32-bit sum (`initial`), for checksums over several pieces such as
/// a pseudo-header and a payload. Pieces before the last must have even length.
pub fn checksum_add(data: &[u8], initial: u32) -> u32 {
    sum(data, initial)
}

/// Finishes a running sum from [`checksum_add`] into the checksum field's value.
pub fn checksum_finish(sum: u32) -> u16 {
    !fold(sum)
}

fn sum(data: &[u8], initial: u32) -> u32 {
    let mut acc = u64::from(initial);
    let mut chunks = data.chunks_exact(2);
    for pair in &mut chunks {
        acc += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u64::from(u16::from_be_bytes([*last, 0]));
    }
    // Fold the 64-bit accumulator back to 32 bits: carries are added back (end-around carry).
    while acc >> 32 != 0 {
        acc = (acc & 0xFFFF_FFFF) + (acc >> 32);
    }
    acc as u32
}

fn fold(mut sum: u32) -> u16 {
    while sum >> 16 != 0 {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    // The loop leaves at most 16 bits.
    sum as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2, so the checksum is 220d.
    #[test]
    fn rfc1071_example() {
        let data = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7];
        assert_eq!(internet_checksum(&data), 0x220D);
        assert_eq!(
            checksum_finish(checksum_add(&data[4..], checksum_add(&data[..4], 0))),
            0x220D
        );
    }

    #[test]
    fn a_correct_checksum_sums_to_zero_and_odd_lengths_pad() {
        let mut data = [
            0x45, 0x00, 0x00, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0, 0, 10, 0, 0, 1, 10, 0,
            0, 2,
        ];
        let c = internet_checksum(&data);
        data[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(internet_checksum(&data), 0);
        assert_eq!(internet_checksum(&[0x01]), !0x0100);
    }
}
