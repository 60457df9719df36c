//! A bounds-checked cursor over untrusted octets.

use super::WireError;

/// Every read checks the remaining length first; nested lengths get their own bounded
/// [`Reader::sub`] reader, so a length can never reach past its enclosing field.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    /// The next `N` octets.
    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], WireError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(WireError::Truncated(what))?;
        self.rest = tail;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, WireError> {
        self.array::<1>(what).map(|[b]| b)
    }

    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, WireError> {
        self.array(what).map(u16::from_be_bytes)
    }

    /// A reader over the next `len` octets, which this reader then skips. A length past the end
    /// is a [`WireError::BadLength`] of `what`.
    pub(crate) fn sub(&mut self, len: usize, what: &'static str) -> Result<Self, WireError> {
        let (head, tail) = self
            .rest
            .split_at_checked(len)
            .ok_or(WireError::BadLength(what))?;
        self.rest = tail;
        Ok(Self::new(head))
    }

    /// A sub-reader whose length is the next octet.
    pub(crate) fn sub_u8(&mut self, what: &'static str) -> Result<Self, WireError> {
        let len = self.u8(what)?;
        self.sub(usize::from(len), what)
    }

    /// A sub-reader whose length is the next two octets (big-endian).
    pub(crate) fn sub_u16(&mut self, what: &'static str) -> Result<Self, WireError> {
        let len = self.u16(what)?;
        self.sub(usize::from(len), what)
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        core::mem::take(&mut self.rest)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// Fails with [`WireError::TrailingData`] unless everything was read.
    pub(crate) fn finish(&self, what: &'static str) -> Result<(), WireError> {
        match self.is_empty() {
            true => Ok(()),
            false => Err(WireError::TrailingData(what)),
        }
    }
}

/// Appends `value` behind a one-octet length.
pub(crate) fn put_lv8(
    out: &mut Vec<u8>,
    value: &[u8],
    what: &'static str,
) -> Result<(), WireError> {
    let len = u8::try_from(value.len()).map_err(|_| WireError::TooLong(what))?;
    out.push(len);
    out.extend_from_slice(value);
    Ok(())
}

/// Appends `value` behind a two-octet big-endian length.
pub(crate) fn put_lv16(
    out: &mut Vec<u8>,
    value: &[u8],
    what: &'static str,
) -> Result<(), WireError> {
    let len = u16::try_from(value.len()).map_err(|_| WireError::TooLong(what))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_reader_cannot_reach_past_its_parent() {
        let mut r = Reader::new(&[3, 1, 2]);
        assert_eq!(r.sub_u8("x").map(|_| ()), Err(WireError::BadLength("x")));
        let mut r = Reader::new(&[2, 1, 2, 9]);
        let mut inner = r.sub_u8("x").unwrap();
        assert_eq!(inner.rest(), &[1, 2]);
        assert_eq!(r.finish("y"), Err(WireError::TrailingData("y")));
    }

    #[test]
    fn length_prefix_bounds() {
        let mut out = Vec::new();
        assert_eq!(
            put_lv8(&mut out, &[0; 256], "v"),
            Err(WireError::TooLong("v"))
        );
        assert_eq!(
            put_lv16(&mut out, &vec![0; 65_536], "v"),
            Err(WireError::TooLong("v"))
        );
        assert!(out.is_empty());
        put_lv16(&mut out, &[7], "v").unwrap();
        assert_eq!(out, [0, 1, 7]);
    }
}
