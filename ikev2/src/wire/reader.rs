//! A bounds-checked cursor over untrusted octets, and the length back-patching used on emit.

use super::error::ParseError;

/// A cursor over a slice. Every read checks the remaining length first and fails with
/// [`ParseError::Truncated`]; nested lengths get their own bounded [`Reader::sub`] reader.
#[derive(Clone, Debug)]
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `n` octets.
    pub(super) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ParseError> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(ParseError::Truncated(what))?;
        self.rest = tail;
        Ok(head)
    }

    /// The next `N` octets as an array.
    pub(super) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], ParseError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(ParseError::Truncated(what))?;
        self.rest = tail;
        Ok(*head)
    }

    pub(super) fn u8(&mut self, what: &'static str) -> Result<u8, ParseError> {
        self.array::<1>(what).map(|[b]| b)
    }

    pub(super) fn u16(&mut self, what: &'static str) -> Result<u16, ParseError> {
        self.array(what).map(u16::from_be_bytes)
    }

    pub(super) fn u32(&mut self, what: &'static str) -> Result<u32, ParseError> {
        self.array(what).map(u32::from_be_bytes)
    }

    pub(super) fn u64(&mut self, what: &'static str) -> Result<u64, ParseError> {
        self.array(what).map(u64::from_be_bytes)
    }

    /// Skips `n` RESERVED octets without looking at them (RFC 7296 §3.2: ignored on receipt).
    pub(super) fn skip(&mut self, n: usize, what: &'static str) -> Result<(), ParseError> {
        self.take(n, what).map(drop)
    }

    /// A reader over the next `len` octets, which this reader then skips. A length past the end
    /// of this reader is a [`ParseError::BadLength`] of `what`.
    pub(super) fn sub(&mut self, len: usize, what: &'static str) -> Result<Self, ParseError> {
        let (head, tail) = self
            .rest
            .split_at_checked(len)
            .ok_or(ParseError::BadLength(what))?;
        self.rest = tail;
        Ok(Self::new(head))
    }

    /// Everything left, as free-form data.
    pub(super) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails with [`ParseError::TrailingData`] unless everything was read.
    pub(super) fn finish(&self, what: &'static str) -> Result<(), ParseError> {
        match self.is_empty() {
            true => Ok(()),
            false => Err(ParseError::TrailingData(what)),
        }
    }
}

/// A 2-octet length field written as a placeholder and filled in once its structure is
/// complete. The length counts from `start` to the end of the buffer at [`LengthSlot::fill`].
#[derive(Clone, Copy, Debug)]
pub(super) struct LengthSlot {
    at: usize,
    start: usize,
}

impl LengthSlot {
    /// Reserves the field at the current end of `out`; the structure began at `start`.
    pub(super) fn reserve(out: &mut Vec<u8>, start: usize) -> Self {
        let at = out.len();
        out.extend_from_slice(&[0, 0]);
        Self { at, start }
    }

    /// Writes the length. A structure longer than 65,535 octets cannot be represented: the
    /// field saturates, and the result will not parse.
    pub(super) fn fill(self, out: &mut [u8]) {
        let len = u16::try_from(out.len().saturating_sub(self.start)).unwrap_or(u16::MAX);
        if let Some(field) = out.get_mut(self.at..self.at + 2) {
            field.copy_from_slice(&len.to_be_bytes());
        }
    }
}

/// `n` as one octet, saturated (counts and sizes that overflow cannot be represented).
pub(super) fn saturate_u8(n: usize) -> u8 {
    u8::try_from(n).unwrap_or(u8::MAX)
}

/// `n` as two octets, saturated.
pub(super) fn saturate_u16(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_big_endian_and_stops_at_end() {
        let mut r = Reader::new(&[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07]);
        assert_eq!(r.u8("a"), Ok(0x01));
        assert_eq!(r.u16("b"), Ok(0x0203));
        assert_eq!(r.u64("c"), Err(ParseError::Truncated("c")));
        assert_eq!(r.remaining(), 4);
        assert_eq!(r.finish("x"), Err(ParseError::TrailingData("x")));
        assert_eq!(r.rest(), &[0x04, 0x05, 0x06, 0x07]);
        assert_eq!(r.finish("x"), Ok(()));
    }

    #[test]
    fn sub_reader_is_bounded() {
        let mut r = Reader::new(&[1, 2, 3, 4]);
        let mut s = r.sub(2, "s").expect("fits");
        assert_eq!(s.u16("v"), Ok(0x0102));
        assert_eq!(s.u8("w"), Err(ParseError::Truncated("w")));
        assert_eq!(r.sub(3, "t").err(), Some(ParseError::BadLength("t")));
        assert_eq!(r.u32("u"), Err(ParseError::Truncated("u")));
        assert_eq!(r.u16("x"), Ok(0x0304));
    }

    #[test]
    fn length_slot_patches_and_saturates() {
        let mut out = vec![0xaa];
        let slot = LengthSlot::reserve(&mut out, 0);
        out.push(0xbb);
        slot.fill(&mut out);
        assert_eq!(out, [0xaa, 0x00, 0x04, 0xbb]);

        let mut big = Vec::new();
        let slot = LengthSlot::reserve(&mut big, 0);
        big.resize(70_000, 0);
        slot.fill(&mut big);
        assert_eq!(big.get(..2), Some(&[0xff, 0xff][..]));
        assert_eq!(saturate_u8(300), 0xff);
        assert_eq!(saturate_u16(5), 5);
    }
}
