//! The control messages of the kernel's SCTP (RFC 6458 §5.3.4-5): `SCTP_SNDINFO` on send,
//! `SCTP_RCVINFO` on receive. The PPID travels as the application gives it, so it is converted
//! to network order here (a PPID of 60 must be `00 00 00 3c` in the DATA chunk).

use super::{IPPROTO_SCTP, RecvInfo, SendInfo};

/// `struct sctp_sndinfo` (Linux `<linux/sctp.h>`, 16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
struct SctpSndInfo {
    snd_sid: u16,
    snd_flags: u16,
    snd_ppid: u32,
    snd_context: u32,
    snd_assoc_id: i32,
}

/// `struct sctp_rcvinfo` (Linux `<linux/sctp.h>`, 28 bytes); every field is declared so that
/// the layout matches, though only the stream and PPID are read.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
#[allow(dead_code)]
struct SctpRcvInfo {
    rcv_sid: u16,
    rcv_ssn: u16,
    rcv_flags: u16,
    rcv_ppid: u32,
    rcv_tsn: u32,
    rcv_cumtsn: u32,
    rcv_context: u32,
    rcv_assoc_id: i32,
}

/// A control buffer aligned for `cmsghdr`, large enough for one `SCTP_RCVINFO` and one
/// `SCTP_NXTINFO`.
#[repr(C, align(8))]
pub(super) struct CmsgBuf(pub(super) [u8; 96]);

impl CmsgBuf {
    pub(super) fn new() -> Self {
        Self([0; 96])
    }
}

/// `cmsg_type` of `SCTP_SNDINFO` and `SCTP_RCVINFO` (`enum sctp_cmsg_type`).
const SCTP_SNDINFO: libc::c_int = 2;
const SCTP_RCVINFO: libc::c_int = 3;

/// Writes one `SCTP_SNDINFO` control message for `info` into `buf`; returns the length to put
/// in `msg_controllen`.
pub(super) fn write_sndinfo(buf: &mut CmsgBuf, info: SendInfo) -> usize {
    let data = SctpSndInfo {
        snd_sid: info.stream,
        snd_ppid: info.ppid.to_be(),
        ..SctpSndInfo::default()
    };
    buf.0.fill(0);
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(size_of::<SctpSndInfo>() as u32) } as usize;
    // SAFETY: a msghdr of integers and null pointers is valid when zeroed.
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_control = buf.0.as_mut_ptr().cast();
    msg.msg_controllen = space;
    // SAFETY: `msg` points at `buf`, which is aligned for `cmsghdr` and at least `space` bytes
    // long (96 > CMSG_SPACE(16) = 32), so the first header and its data lie inside `buf`.
    unsafe {
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = IPPROTO_SCTP;
        (*cmsg).cmsg_type = SCTP_SNDINFO;
        (*cmsg).cmsg_len = libc::CMSG_LEN(size_of::<SctpSndInfo>() as u32) as usize;
        libc::CMSG_DATA(cmsg)
            .cast::<SctpSndInfo>()
            .write_unaligned(data);
    }
    space
}

/// Finds the `SCTP_RCVINFO` control message among those the kernel wrote into `msg`'s control
/// buffer.
///
/// # Safety
/// `msg.msg_control` must point at a live buffer of `msg.msg_controllen` bytes aligned for
/// `cmsghdr`, filled by `recvmsg(2)` (or laid out as it would be).
pub(super) unsafe fn read_rcvinfo(msg: &libc::msghdr) -> Option<RecvInfo> {
    // SAFETY: the caller guarantees the control buffer; CMSG_FIRSTHDR/NXTHDR stay inside
    // `msg_controllen` and return null past its end.
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        // SAFETY: `cmsg` is a non-null header inside the buffer (see above).
        let hdr = unsafe { &*cmsg };
        let want = size_of::<SctpRcvInfo>();
        // SAFETY: CMSG_LEN only computes a size.
        let full = unsafe { libc::CMSG_LEN(want as u32) } as usize;
        if hdr.cmsg_level == IPPROTO_SCTP && hdr.cmsg_type == SCTP_RCVINFO && hdr.cmsg_len >= full {
            // SAFETY: the header says its data holds at least one `sctp_rcvinfo`, and the data
            // lies inside the buffer; read unaligned, as CMSG_DATA promises no alignment.
            let rcv = unsafe { libc::CMSG_DATA(cmsg).cast::<SctpRcvInfo>().read_unaligned() };
            return Some(RecvInfo {
                stream: rcv.rcv_sid,
                ppid: u32::from_be(rcv.rcv_ppid),
            });
        }
        // SAFETY: as above.
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msghdr_over(buf: &mut CmsgBuf, len: usize) -> libc::msghdr {
        // SAFETY: a zeroed msghdr is valid.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_control = buf.0.as_mut_ptr().cast();
        msg.msg_controllen = len;
        msg
    }

    #[test]
    fn sndinfo_carries_stream_and_ppid_in_network_order() {
        let mut buf = CmsgBuf::new();
        let len = write_sndinfo(
            &mut buf,
            SendInfo {
                stream: 7,
                ppid: 60,
            },
        );
        assert_eq!(len, 32);
        let b = &buf.0;
        assert_eq!(usize::from_ne_bytes(b[0..8].try_into().unwrap()), 16 + 16);
        assert_eq!(i32::from_ne_bytes(b[8..12].try_into().unwrap()), 132);
        assert_eq!(
            i32::from_ne_bytes(b[12..16].try_into().unwrap()),
            SCTP_SNDINFO
        );
        assert_eq!(u16::from_ne_bytes(b[16..18].try_into().unwrap()), 7);
        assert_eq!(&b[20..24], &[0, 0, 0, 60]);
    }

    #[test]
    fn rcvinfo_is_found_after_another_control_message() {
        let mut buf = CmsgBuf::new();
        // An unrelated 4-byte message first (level SOL_SOCKET), then SCTP_RCVINFO.
        buf.0[0..8].copy_from_slice(&(16usize + 4).to_ne_bytes());
        buf.0[8..12].copy_from_slice(&libc::SOL_SOCKET.to_ne_bytes());
        buf.0[12..16].copy_from_slice(&99i32.to_ne_bytes());
        let second = 24;
        buf.0[second..second + 8].copy_from_slice(&(16usize + 28).to_ne_bytes());
        buf.0[second + 8..second + 12].copy_from_slice(&132i32.to_ne_bytes());
        buf.0[second + 12..second + 16].copy_from_slice(&SCTP_RCVINFO.to_ne_bytes());
        buf.0[second + 16..second + 18].copy_from_slice(&3u16.to_ne_bytes());
        buf.0[second + 24..second + 28].copy_from_slice(&[0, 0, 0, 60]);
        let msg = msghdr_over(&mut buf, second + 16 + 32);
        // SAFETY: `msg` points at `buf`, laid out as recvmsg(2) would.
        let info = unsafe { read_rcvinfo(&msg) };
        assert_eq!(
            info,
            Some(RecvInfo {
                stream: 3,
                ppid: 60
            })
        );
    }

    #[test]
    fn truncated_rcvinfo_is_ignored() {
        let mut buf = CmsgBuf::new();
        buf.0[0..8].copy_from_slice(&(16usize + 8).to_ne_bytes());
        buf.0[8..12].copy_from_slice(&132i32.to_ne_bytes());
        buf.0[12..16].copy_from_slice(&SCTP_RCVINFO.to_ne_bytes());
        let msg = msghdr_over(&mut buf, 24);
        // SAFETY: as above.
        assert_eq!(unsafe { read_rcvinfo(&msg) }, None);
    }
}
