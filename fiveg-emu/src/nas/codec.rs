//! Reading and writing the NAS information element formats (TS 24.007 §11.2): a bounded reader
//! for mandatory fields, the reader of the optional part of a message, and the writers.
//!
//! Panic-freedom contract: every read checks the remaining length first and reports
//! [`DecodeError::Truncated`]; no index into input octets is unchecked.

use thiserror::Error;

/// Why received octets are not a NAS message this codec accepts.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The octets end inside a field.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// Octets follow the last field a message can have.
    #[error("trailing octets after the message")]
    TrailingOctets,
    /// A field has a value the specification does not allow.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// The extended protocol discriminator is not 5GMM (0x7E).
    #[error("extended protocol discriminator {0:#04x} is not 5GMM")]
    NotMobilityManagement(u8),
    /// The extended protocol discriminator is not 5GSM (0x2E).
    #[error("extended protocol discriminator {0:#04x} is not 5GSM")]
    NotSessionManagement(u8),
    /// A 5GMM or 5GSM message type this codec does not implement.
    #[error("message type {0:#04x} not supported")]
    UnsupportedMessageType(u8),
    /// The security header type is reserved.
    #[error("security header type {0} is reserved")]
    ReservedSecurityHeaderType(u8),
}

/// Why a message cannot be written.
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum EncodeError {
    /// A value is longer than its length field can express.
    #[error("{0} is too long for its length field")]
    TooLong(&'static str),
}

/// A cursor over received octets that never reads past the end.
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        Ok(self.take(1, what)?[0])
    }

    pub(crate) fn take(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], DecodeError> {
        if self.bytes.len() < len {
            return Err(DecodeError::Truncated(what));
        }
        let (head, tail) = self.bytes.split_at(len);
        self.bytes = tail;
        Ok(head)
    }

    /// Everything not read yet.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.bytes)
    }

    pub(crate) fn array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    /// An LV value (one-octet length).
    pub(crate) fn lv(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = self.u8(what)?;
        self.take(usize::from(len), what)
    }

    /// An LV-E value (two-octet length).
    pub(crate) fn lv_e(&mut self, what: &'static str) -> Result<&'a [u8], DecodeError> {
        let len = u16::from_be_bytes(self.array(what)?);
        self.take(usize::from(len), what)
    }

    pub(crate) fn finish(&self) -> Result<(), DecodeError> {
        if self.bytes.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingOctets)
        }
    }
}

/// The format of an optional IE, after its IEI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IeFormat {
    /// Type 1: IEI in the high nibble, value in the low nibble of one octet.
    Tv1,
    /// Type 3 with a fixed value length.
    Tv(usize),
    /// Type 4: one-octet length.
    Tlv,
    /// Type 6: two-octet length.
    TlvE,
}

impl IeFormat {
    /// The format of an IEI that a message does not list (TS 24.007 §11.2.4; TS 24.501 §9:
    /// IEIs 0x70 to 0x7F are TLV-E). Unknown type 3 IEs cannot be skipped and do not exist in
    /// the optional parts this codec reads.
    pub fn of_unknown(iei: u8) -> Self {
        match iei {
            0x80..=0xFF => Self::Tv1,
            0x70..=0x7F => Self::TlvE,
            _ => Self::Tlv,
        }
    }
}

/// An optional IE as found: its IEI (the high nibble alone for type 1) and its value octets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawIe {
    /// The IEI; for type 1 IEs the low nibble is zero.
    pub iei: u8,
    /// The format the IE was read with.
    pub format: IeFormat,
    /// The value (for type 1, one octet holding the nibble).
    pub value: Vec<u8>,
}

impl RawIe {
    /// Writes the IE back in its format.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        match self.format {
            IeFormat::Tv1 => {
                let nibble = self.value.first().copied().unwrap_or(0) & 0x0F;
                out.push(self.iei & 0xF0 | nibble);
                Ok(())
            }
            IeFormat::Tv(_) => {
                out.push(self.iei);
                out.extend_from_slice(&self.value);
                Ok(())
            }
            IeFormat::Tlv => put_tlv(out, self.iei, &self.value, "optional IE"),
            IeFormat::TlvE => put_tlv_e(out, self.iei, &self.value, "optional IE"),
        }
    }
}

/// Reads the optional part of a message. `table` lists the IEIs the message defines with their
/// formats (type 1 IEIs with a zero low nibble); other IEIs follow [`IeFormat::of_unknown`].
pub(crate) fn read_optional(
    reader: &mut Reader<'_>,
    table: &[(u8, IeFormat)],
) -> Result<Vec<RawIe>, DecodeError> {
    let mut out = Vec::new();
    while !reader.is_empty() {
        let octet = reader.u8("IEI")?;
        let lookup = |iei: u8| table.iter().find(|(i, _)| *i == iei).map(|(_, f)| *f);
        let (iei, format) = match (lookup(octet), lookup(octet & 0xF0)) {
            (Some(format), _) => (octet, format),
            (None, Some(IeFormat::Tv1)) => (octet & 0xF0, IeFormat::Tv1),
            _ if octet >= 0x80 => (octet & 0xF0, IeFormat::Tv1),
            _ => (octet, IeFormat::of_unknown(octet)),
        };
        let value = match format {
            IeFormat::Tv1 => vec![octet & 0x0F],
            IeFormat::Tv(len) => reader.take(len, "TV IE")?.to_vec(),
            IeFormat::Tlv => reader.lv("TLV IE")?.to_vec(),
            IeFormat::TlvE => reader.lv_e("TLV-E IE")?.to_vec(),
        };
        out.push(RawIe { iei, format, value });
    }
    Ok(out)
}

pub(crate) fn put_lv(
    out: &mut Vec<u8>,
    value: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    out.push(u8::try_from(value.len()).map_err(|_| EncodeError::TooLong(what))?);
    out.extend_from_slice(value);
    Ok(())
}

pub(crate) fn put_lv_e(
    out: &mut Vec<u8>,
    value: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    let len = u16::try_from(value.len()).map_err(|_| EncodeError::TooLong(what))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}

pub(crate) fn put_tlv(
    out: &mut Vec<u8>,
    iei: u8,
    value: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    out.push(iei);
    put_lv(out, value, what)
}

pub(crate) fn put_tlv_e(
    out: &mut Vec<u8>,
    iei: u8,
    value: &[u8],
    what: &'static str,
) -> Result<(), EncodeError> {
    out.push(iei);
    put_lv_e(out, value, what)
}

/// Writes every IE of `ies` in order.
pub(crate) fn put_raw(out: &mut Vec<u8>, ies: &[RawIe]) -> Result<(), EncodeError> {
    ies.iter().try_for_each(|ie| ie.encode(out))
}

/// Keeps the first value of a typed optional IE; a repeated IE is ignored (TS 24.007 §11.2.5
/// lets the receiver act on the first occurrence).
pub(crate) fn set_once<T>(slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
    }
}
