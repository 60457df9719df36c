//! The virtio-net header that precedes each packet on a TUN device opened with `IFF_VNET_HDR`
//! (virtio 1.2 §5.1.6, `struct virtio_net_hdr`, 10 bytes, host byte order for TUN).

/// GSO kind of a packet (`gso_type` without the ECN bit).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GsoType {
    /// A single packet.
    None,
    /// A TCP/IPv4 super-packet to cut into `gso_size` segments.
    TcpV4,
    /// A TCP/IPv6 super-packet.
    TcpV6,
    /// A UDP super-packet (USO, either family).
    UdpL4,
    /// Legacy UFO (IP fragmentation) or an unknown kind; not handled.
    Unknown(u8),
}

impl GsoType {
    fn from_wire(v: u8) -> Self {
        match v {
            0 => Self::None,
            1 => Self::TcpV4,
            4 => Self::TcpV6,
            5 => Self::UdpL4,
            other => Self::Unknown(other),
        }
    }

    fn to_wire(self) -> u8 {
        match self {
            Self::None => 0,
            Self::TcpV4 => 1,
            Self::TcpV6 => 4,
            Self::UdpL4 => 5,
            Self::Unknown(v) => v,
        }
    }
}

/// A parsed virtio-net header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VirtioNetHdr {
    /// `VIRTIO_NET_HDR_F_*` flags.
    pub flags: u8,
    /// What kind of super-packet this is.
    pub gso_type: GsoType,
    /// The sender set the ECN bit (`VIRTIO_NET_HDR_GSO_ECN`): segments keep CWR.
    pub ecn: bool,
    /// Length of the headers (a hint; parse the packet to know).
    pub hdr_len: u16,
    /// Payload bytes per segment (MSS).
    pub gso_size: u16,
    /// Where checksumming starts (the L4 header) with [`VirtioNetHdr::F_NEEDS_CSUM`].
    pub csum_start: u16,
    /// Where the checksum goes, from `csum_start`.
    pub csum_offset: u16,
}

impl VirtioNetHdr {
    /// Size on the wire.
    pub const LEN: usize = 10;
    /// The L4 checksum is partial: fold the sum from `csum_start` into `csum_start +
    /// csum_offset`.
    pub const F_NEEDS_CSUM: u8 = 0x01;
    /// The checksum is known to be valid (writes to TUN: the kernel skips checking it).
    pub const F_DATA_VALID: u8 = 0x02;

    /// A header for a plain packet with a complete checksum.
    pub const fn plain() -> Self {
        Self {
            flags: 0,
            gso_type: GsoType::None,
            ecn: false,
            hdr_len: 0,
            gso_size: 0,
            csum_start: 0,
            csum_offset: 0,
        }
    }

    /// Parses the first [`VirtioNetHdr::LEN`] bytes of `buf`; `None` when it is shorter.
    pub fn parse(buf: &[u8]) -> Option<Self> {
        let b: &[u8; Self::LEN] = buf.get(..Self::LEN)?.try_into().ok()?;
        let u16_at = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        Some(Self {
            flags: b[0],
            gso_type: GsoType::from_wire(b[1] & !GSO_ECN),
            ecn: b[1] & GSO_ECN != 0,
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        })
    }

    /// Writes the header into the first [`VirtioNetHdr::LEN`] bytes of `buf`.
    ///
    /// # Panics
    /// When `buf` is shorter than [`VirtioNetHdr::LEN`].
    pub fn emit(&self, buf: &mut [u8]) {
        let b = &mut buf[..Self::LEN];
        b[0] = self.flags;
        b[1] = self.gso_type.to_wire() | if self.ecn { GSO_ECN } else { 0 };
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
    }

    /// Whether [`VirtioNetHdr::F_NEEDS_CSUM`] is set.
    pub fn needs_csum(&self) -> bool {
        self.flags & Self::F_NEEDS_CSUM != 0
    }
}

impl Default for VirtioNetHdr {
    fn default() -> Self {
        Self::plain()
    }
}

const GSO_ECN: u8 = 0x80;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_emit_round_trip() {
        let h = VirtioNetHdr {
            flags: VirtioNetHdr::F_NEEDS_CSUM,
            gso_type: GsoType::TcpV6,
            ecn: true,
            hdr_len: 72,
            gso_size: 1380,
            csum_start: 40,
            csum_offset: 16,
        };
        let mut b = [0u8; 12];
        h.emit(&mut b);
        assert_eq!(b[0], 1);
        assert_eq!(b[1], 0x84);
        assert_eq!(VirtioNetHdr::parse(&b), Some(h));
        assert!(h.needs_csum());
    }

    #[test]
    fn parses_known_bytes_and_rejects_short() {
        let b = [0x01, 0x01, 0x36, 0x00, 0x64, 0x05, 0x14, 0x00, 0x10, 0x00];
        let h = VirtioNetHdr::parse(&b).unwrap();
        assert_eq!(h.gso_type, GsoType::TcpV4);
        if cfg!(target_endian = "little") {
            assert_eq!(
                (h.hdr_len, h.gso_size, h.csum_start, h.csum_offset),
                (54, 1380, 20, 16)
            );
        }
        assert_eq!(VirtioNetHdr::parse(&b[..9]), None);
        assert_eq!(
            VirtioNetHdr::parse(&[0, 3, 0, 0, 0, 0, 0, 0, 0, 0])
                .unwrap()
                .gso_type,
            GsoType::Unknown(3)
        );
    }
}
