//! GRE as NWu carries it inside the user-plane Child SAs (TS 24.502 §9.3.3; RFC 2784 with the
//! Key and Sequence Number of RFC 2890): the key holds the QFI, and the RQI on the downlink.
//!
//! Panic freedom: every read is a `get` checked against the packet.

use core::ops::Range;

use crate::{Error, Qfi, checksum};

/// The header [`write_gre_header`] writes: flags and version, protocol type, key.
pub const GRE_HEADER_LEN: usize = 8;

/// The IP protocol number of GRE.
pub const IPPROTO_GRE: u8 = 47;

/// The GRE key of TS 24.502 §9.3.3: octet 1 bits 6..1 = QFI, octet 4 bit 8 = RQI (downlink
/// only), all else spare.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GreKey {
    /// QoS Flow Identifier.
    pub qfi: Qfi,
    /// Reflective QoS Indicator; the UE ignores it on the uplink.
    pub rqi: bool,
}

impl GreKey {
    /// A key with this QFI and RQI.
    pub const fn new(qfi: Qfi, rqi: bool) -> Self {
        Self { qfi, rqi }
    }

    /// Reads the key field; spare bits are ignored.
    pub const fn from_wire(key: u32) -> Self {
        let [qfi, _, _, last] = key.to_be_bytes();
        Self {
            qfi: Qfi::from_low_bits(qfi),
            rqi: last & RQI != 0,
        }
    }

    /// The key field, spare bits 0.
    pub const fn to_wire(self) -> u32 {
        let last = if self.rqi { RQI } else { 0 };
        u32::from_be_bytes([self.qfi.get(), 0, 0, last])
    }
}

/// The IP version of a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpVersion {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

impl IpVersion {
    /// The version in the first nibble of `packet`; `None` if it is empty or neither 4 nor 6.
    pub fn of_packet(packet: &[u8]) -> Option<Self> {
        match packet.first().map(|b| b >> 4) {
            Some(4) => Some(Self::V4),
            Some(6) => Some(Self::V6),
            _ => None,
        }
    }

    /// The EtherType of this version (0x0800 or 0x86DD).
    pub const fn ethertype(self) -> u16 {
        match self {
            Self::V4 => ETHERTYPE_IPV4,
            Self::V6 => ETHERTYPE_IPV6,
        }
    }
}

/// What the Protocol Type field carries when we send.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GreProtocolType {
    /// The EtherType of the inner packet (0x0800 or 0x86DD): what kernel GRE devices need to
    /// hand the packet to their IP stack, and what deployed UEs and N3IWFs send. A conformant
    /// receiver ignores the field, so it costs nothing.
    #[default]
    InnerEtherType,
    /// 0, as TS 24.502 §9.3.3 says.
    Zero,
}

/// Whether [`GreHeader::parse`] verifies the checksum when C=1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GreChecksum {
    /// Skip the checksum field (the ESP ICV already protects the packet).
    #[default]
    Skip,
    /// Verify it; a mismatch is [`Error::Checksum`].
    Verify,
}

/// A parsed GRE header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GreHeader {
    /// The key, when K=1; `None` otherwise (the caller applies its default QFI, or drops).
    pub key: Option<GreKey>,
    /// The sequence number, when S=1.
    pub sequence_number: Option<u32>,
    /// The Protocol Type as received (TS 24.502 says to ignore it: it is not checked).
    pub protocol_type: u16,
    /// The inner packet's IP version, from its first nibble.
    pub inner_version: IpVersion,
    /// Where the inner packet lies in the parsed GRE packet; always within it.
    pub payload: Range<usize>,
}

impl GreHeader {
    /// Parses the GRE packet `packet` (the payload of an IP packet with protocol 47).
    ///
    /// # Errors
    /// - [`Error::Truncated`]: shorter than the header its flags announce;
    /// - [`Error::Version`]: version other than 0;
    /// - [`Error::GreFlags`]: routing, strict source route or recursion bits set (RFC 2784
    ///   §2.3 says to discard those);
    /// - [`Error::Checksum`]: C=1, `checksum` is [`GreChecksum::Verify`] and it does not verify;
    /// - [`Error::InnerVersion`]: the payload is empty or not IPv4/IPv6.
    pub fn parse(packet: &[u8], checksum: GreChecksum) -> Result<Self, Error> {
        let Some(&[f0, f1, p0, p1]) = packet.first_chunk::<4>() else {
            return Err(Error::Truncated);
        };
        if f1 & VERSION_MASK != 0 {
            return Err(Error::Version);
        }
        if f0 & REJECTED_FLAGS != 0 {
            return Err(Error::GreFlags);
        }
        let mut pos = 4;
        if f0 & FLAG_C != 0 {
            // Checksum and Reserved1: 4 octets.
            packet.get(pos..pos + 4).ok_or(Error::Truncated)?;
            if checksum == GreChecksum::Verify && checksum::internet_checksum(packet) != 0 {
                return Err(Error::Checksum);
            }
            pos += 4;
        }
        let key = if f0 & FLAG_K != 0 {
            let word = read_u32(packet, pos)?;
            pos += 4;
            Some(GreKey::from_wire(word))
        } else {
            None
        };
        let sequence_number = if f0 & FLAG_S != 0 {
            let word = read_u32(packet, pos)?;
            pos += 4;
            Some(word)
        } else {
            None
        };
        let inner = packet.get(pos..).unwrap_or_default();
        let inner_version = IpVersion::of_packet(inner).ok_or(Error::InnerVersion)?;
        Ok(Self {
            key,
            sequence_number,
            protocol_type: u16::from_be_bytes([p0, p1]),
            inner_version,
            payload: pos..packet.len(),
        })
    }
}

/// Writes the 8-octet NWu GRE header (K=1, no checksum, no sequence number) for an inner
/// packet of version `inner`, with `key` and the Protocol Type `protocol` says. The inner
/// packet goes right after it.
///
/// # Errors
/// [`Error::BufferTooSmall`] when `buf` is shorter than [`GRE_HEADER_LEN`].
pub fn write_gre_header(
    buf: &mut [u8],
    key: GreKey,
    inner: IpVersion,
    protocol: GreProtocolType,
) -> Result<usize, Error> {
    let out = buf
        .first_chunk_mut::<GRE_HEADER_LEN>()
        .ok_or(Error::BufferTooSmall)?;
    let protocol_type = match protocol {
        GreProtocolType::InnerEtherType => inner.ethertype(),
        GreProtocolType::Zero => 0,
    };
    let [p0, p1] = protocol_type.to_be_bytes();
    let [k0, k1, k2, k3] = key.to_wire().to_be_bytes();
    *out = [FLAG_K, 0, p0, p1, k0, k1, k2, k3];
    Ok(GRE_HEADER_LEN)
}

fn read_u32(packet: &[u8], pos: usize) -> Result<u32, Error> {
    let bytes = packet
        .get(pos..)
        .and_then(<[u8]>::first_chunk::<4>)
        .ok_or(Error::Truncated)?;
    Ok(u32::from_be_bytes(*bytes))
}

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86DD;
/// First octet: Checksum Present (RFC 2784 §2.1).
const FLAG_C: u8 = 0x80;
/// First octet: Key Present (RFC 2890 §2).
const FLAG_K: u8 = 0x20;
/// First octet: Sequence Number Present (RFC 2890 §2).
const FLAG_S: u8 = 0x10;
/// First octet: the RFC 1701 bits RFC 2784 §2.3 says a receiver must discard packets for:
/// Routing Present (0x40), Strict Source Route (0x08) and the top recursion bit (0x04).
const REJECTED_FLAGS: u8 = 0x4C;
/// Second octet: Version (RFC 2784 §2.3.1: 0).
const VERSION_MASK: u8 = 0x07;
/// Key octet 4: RQI.
const RQI: u8 = 0x80;

#[cfg(test)]
mod tests {
    use super::*;

    fn key(qfi: u8, rqi: bool) -> GreKey {
        GreKey::new(Qfi::new(qfi).expect("valid QFI"), rqi)
    }

    /// TS 24.502 §9.3.3 with RFC 2890 §2: flags 0x2000 (K=1, version 0), Protocol Type 0x0800,
    /// key octet 1 = QFI 9, octet 4 = RQI (0x80); then an IPv4 packet's first octets.
    const DL_GRE_V4: [u8; 10] = [0x20, 0x00, 0x08, 0x00, 0x09, 0x00, 0x00, 0x80, 0x45, 0x00];

    #[test]
    fn written_header_matches_the_hand_vector() {
        let mut buf = [0u8; 8];
        let len = write_gre_header(&mut buf, key(9, true), IpVersion::V4, Default::default());
        assert_eq!(len, Ok(GRE_HEADER_LEN));
        assert_eq!(buf, DL_GRE_V4[..8]);
    }

    #[test]
    fn protocol_type_follows_the_inner_version_or_is_zero_when_strict() {
        let mut buf = [0u8; 8];
        let inner = GreProtocolType::InnerEtherType;
        write_gre_header(&mut buf, key(1, false), IpVersion::V6, inner).expect("fits");
        assert_eq!(buf[2..4], [0x86, 0xDD]);
        write_gre_header(
            &mut buf,
            key(1, false),
            IpVersion::V6,
            GreProtocolType::Zero,
        )
        .expect("fits");
        assert_eq!(buf, [0x20, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
        assert_eq!(
            write_gre_header(&mut buf[..7], key(1, false), IpVersion::V4, inner),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn parse_reads_key_and_takes_the_version_from_the_payload() {
        let header = GreHeader::parse(&DL_GRE_V4, GreChecksum::Skip).expect("valid");
        assert_eq!(header.key, Some(key(9, true)));
        assert_eq!(header.inner_version, IpVersion::V4);
        assert_eq!(header.payload, 8..10);
        // Protocol Type 0x86DD over an IPv4 payload: the field is ignored (TS 24.502 §9.3.3).
        let mut mismatch = DL_GRE_V4;
        mismatch[2..4].copy_from_slice(&[0x86, 0xDD]);
        let header = GreHeader::parse(&mismatch, GreChecksum::Skip).expect("valid");
        assert_eq!(
            (header.protocol_type, header.inner_version),
            (0x86DD, IpVersion::V4)
        );
    }

    #[test]
    fn spare_key_bits_are_ignored() {
        assert_eq!(GreKey::from_wire(0xC9FF_FF7F), key(9, false));
        assert_eq!(key(63, true).to_wire(), 0x3F00_0080);
        // free5GC's kernel GRE keys are QFI << 24.
        assert_eq!(key(1, false).to_wire(), 1 << 24);
    }

    #[test]
    fn no_key_is_none() {
        let packet = [0x00, 0x00, 0x08, 0x00, 0x45];
        let header = GreHeader::parse(&packet, GreChecksum::Skip).expect("valid");
        assert_eq!((header.key, header.payload), (None, 4..5));
    }

    /// RFC 2784 §2.5 checksum and RFC 2890 §2 sequence number, all three options: C, K and S
    /// (flags 0xB0), checksum over the whole GRE packet.
    fn all_options(payload_first: u8) -> [u8; 18] {
        let mut p = [
            0xB0,
            0x00,
            0x86,
            0xDD,
            0x00,
            0x00,
            0x00,
            0x00,
            0x05,
            0x00,
            0x00,
            0x00,
            0x00,
            0x00,
            0x00,
            0x2A,
            payload_first,
            0x00,
        ];
        let c = checksum::internet_checksum(&p);
        p[4..6].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn checksum_and_sequence_keep_offsets_right() {
        let packet = all_options(0x60);
        let header = GreHeader::parse(&packet, GreChecksum::Verify).expect("valid");
        assert_eq!(header.key, Some(key(5, false)));
        assert_eq!(header.sequence_number, Some(42));
        assert_eq!(header.inner_version, IpVersion::V6);
        assert_eq!(header.payload, 16..18);
    }

    #[test]
    fn a_bad_checksum_is_rejected_only_when_verifying() {
        let mut packet = all_options(0x60);
        packet[17] ^= 0x01;
        assert_eq!(
            GreHeader::parse(&packet, GreChecksum::Verify),
            Err(Error::Checksum)
        );
        assert!(GreHeader::parse(&packet, GreChecksum::Skip).is_ok());
    }

    #[test]
    fn bad_versions_flags_truncation_and_payloads_are_rejected() {
        let mut version = DL_GRE_V4;
        version[1] = 0x01; // version 1 is PPTP's enhanced GRE
        assert_eq!(
            GreHeader::parse(&version, GreChecksum::Skip),
            Err(Error::Version)
        );
        for flag in [0x40, 0x08, 0x04] {
            let mut routed = DL_GRE_V4;
            routed[0] |= flag;
            assert_eq!(
                GreHeader::parse(&routed, GreChecksum::Skip),
                Err(Error::GreFlags)
            );
        }
        // Reserved0 bits 6..12 are ignored on receipt (RFC 2784 §2.3).
        let mut reserved = DL_GRE_V4;
        reserved[0] |= 0x03;
        reserved[1] |= 0xF8;
        assert!(GreHeader::parse(&reserved, GreChecksum::Skip).is_ok());
        for len in [0, 3, 7] {
            assert_eq!(
                GreHeader::parse(&DL_GRE_V4[..len], GreChecksum::Skip),
                Err(Error::Truncated)
            );
        }
        assert_eq!(
            GreHeader::parse(&all_options(0x60)[..15], GreChecksum::Skip),
            Err(Error::Truncated)
        );
        assert_eq!(
            GreHeader::parse(&DL_GRE_V4[..8], GreChecksum::Skip),
            Err(Error::InnerVersion)
        );
        let mut not_ip = DL_GRE_V4;
        not_ip[8] = 0x55;
        assert_eq!(
            GreHeader::parse(&not_ip, GreChecksum::Skip),
            Err(Error::InnerVersion)
        );
    }
}
