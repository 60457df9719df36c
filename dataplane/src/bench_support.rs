//! The workers' per-packet user-plane work without I/O, for `examples/user_plane.rs`: the same
//! functions the workers call, on one IPv4 session, into a buffer instead of a send batch.

use esp::{OutboundSa, Spi};
use userplane::{
    GRE_HEADER_LEN, GreKey, GreProtocolType, GtpuMessage, IpVersion, Qfi, Teid, write_gre_header,
};

use crate::downlink::{Body, Part, write_inner};
use crate::stats::DataplaneStats;
use crate::up_table::UpTable;
use crate::uplink::ul_packet;
use crate::user_plane::{UserPlaneChildren, UserPlaneSession};

/// One session (UE 10.45.0.2, UP address 10.45.0.1, DL TEID 1) and a buffer.
pub struct UserPlaneBench {
    table: UpTable,
    buf: Vec<u8>,
    stats: DataplaneStats,
}

impl Default for UserPlaneBench {
    fn default() -> Self {
        let mut table = UpTable::default();
        let session = UserPlaneSession {
            dl_teid: Teid(1),
            upf: ([192, 0, 2, 50], 2152).into(),
            ul_teid: Teid(0x99),
            ue_address: [10, 45, 0, 2].into(),
            up_address: [10, 45, 0, 1].into(),
            pdu_address: None,
            children: UserPlaneChildren {
                default_spi: Spi(0x1001),
                by_qfi: Vec::new(),
                inbound: vec![Spi(0x2001)],
            },
            default_qfi: Qfi::from_low_bits(9),
            gre_protocol: GreProtocolType::InnerEtherType,
        };
        // A fixed, valid session: the table takes it.
        let _ = table.add(&session);
        Self {
            table,
            buf: vec![0; 1 << 17],
            stats: DataplaneStats::default(),
        }
    }
}

impl UserPlaneBench {
    /// Uplink: a decrypted inner packet (IP/GRE from the UE) to a G-PDU; its length.
    pub fn uplink(&mut self, inner: &[u8]) -> Option<usize> {
        let up = self.table.by_teid(Teid(1))?;
        ul_packet(up, inner, &mut self.buf, &mut self.stats)
    }

    /// Downlink: a G-PDU to the session's inner IP/GRE packet sealed with `sa`; the ESP
    /// packet's length.
    pub fn downlink(&mut self, gpdu: &[u8], sa: &mut OutboundSa) -> Option<usize> {
        let GtpuMessage::GPdu {
            teid,
            pdu_session,
            payload,
        } = GtpuMessage::parse(gpdu).ok()?
        else {
            return None;
        };
        let up = self.table.by_teid(teid)?;
        let qfi = pdu_session.map_or(up.default_qfi, |s| s.qfi());
        let mut hdr = [0; GRE_HEADER_LEN];
        write_gre_header(
            &mut hdr,
            GreKey::new(qfi, false),
            IpVersion::V4,
            up.gre_protocol,
        )
        .ok()?;
        let body = Body { gre: &hdr, payload };
        let at = sa.headroom();
        let n = write_inner(up, &body, &Part::whole(&body), 0, self.buf.get_mut(at..)?)?;
        sa.seal(&mut self.buf, at, n).ok().map(|r| r.len())
    }
}
