//! The pipe between the initiator process and the responder process of `sa_scale`: datagrams
//! both ways and the responder's report, as length-prefixed frames.
//!
//! The initiator writes a batch of datagrams and a [`Frame::Flush`]; the responder handles
//! them, then writes what it has to send and a [`Frame::Report`]. One direction at a time, so
//! neither side can block the other on a full pipe.

use std::io::{self, Read, Write};
use std::net::SocketAddr;

use ikev2::Transmit;

/// The responder's state after a batch: its own counters and memory.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Report {
    pub(crate) established: u64,
    pub(crate) closed: u64,
    pub(crate) failures: u64,
    /// Time spent inside the endpoint's calls.
    pub(crate) cpu_ns: u64,
    /// Growth of resident memory and of live heap since before the endpoint was made.
    pub(crate) rss_bytes: u64,
    pub(crate) heap_bytes: u64,
    /// IKE SAs the endpoint still holds.
    pub(crate) sas: u64,
}

pub(crate) enum Frame {
    Datagram(Transmit),
    /// End of a batch; the responder answers with its datagrams and a report.
    Flush,
    /// Like `Flush`, then the responder exits.
    Quit,
    Report(Report),
}

const DATAGRAM: u8 = b'D';
const FLUSH: u8 = b'F';
const QUIT: u8 = b'Q';
const REPORT: u8 = b'R';
/// Report fields, in the order written.
const REPORT_FIELDS: usize = 7;

pub(crate) fn write(w: &mut impl Write, frame: &Frame) -> io::Result<()> {
    match frame {
        Frame::Datagram(t) => {
            w.write_all(&[DATAGRAM])?;
            put(w, t.local.to_string().as_bytes())?;
            put(w, t.remote.to_string().as_bytes())?;
            put(w, &t.data)
        }
        Frame::Flush => w.write_all(&[FLUSH]),
        Frame::Quit => w.write_all(&[QUIT]),
        Frame::Report(r) => {
            w.write_all(&[REPORT])?;
            let fields = [
                r.established,
                r.closed,
                r.failures,
                r.cpu_ns,
                r.rss_bytes,
                r.heap_bytes,
                r.sas,
            ];
            for v in fields {
                w.write_all(&v.to_le_bytes())?;
            }
            Ok(())
        }
    }
}

pub(crate) fn read(r: &mut impl Read) -> io::Result<Frame> {
    let mut tag = [0u8; 1];
    r.read_exact(&mut tag)?;
    match tag[0] {
        DATAGRAM => {
            let local = addr(&get(r)?)?;
            let remote = addr(&get(r)?)?;
            let data = get(r)?;
            Ok(Frame::Datagram(Transmit {
                local,
                remote,
                data,
            }))
        }
        FLUSH => Ok(Frame::Flush),
        QUIT => Ok(Frame::Quit),
        REPORT => {
            let mut v = [0u64; REPORT_FIELDS];
            for x in &mut v {
                let mut b = [0u8; 8];
                r.read_exact(&mut b)?;
                *x = u64::from_le_bytes(b);
            }
            let [
                established,
                closed,
                failures,
                cpu_ns,
                rss_bytes,
                heap_bytes,
                sas,
            ] = v;
            Ok(Frame::Report(Report {
                established,
                closed,
                failures,
                cpu_ns,
                rss_bytes,
                heap_bytes,
                sas,
            }))
        }
        other => Err(invalid(format!("unknown frame tag {other:#04x}"))),
    }
}

fn put(w: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| invalid("frame too long".into()))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(bytes)
}

fn get(r: &mut impl Read) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len)?;
    let mut v = vec![0u8; u32::from_le_bytes(len) as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

fn addr(bytes: &[u8]) -> io::Result<SocketAddr> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad address in frame".into()))
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_survive_the_pipe_in_order() {
        let t = Transmit {
            local: "192.0.2.2:500".parse().expect("literal"),
            remote: "[2001:db8::1]:4500".parse().expect("literal"),
            data: vec![1, 2, 3, 0xff],
        };
        let report = Report {
            established: 7,
            cpu_ns: u64::MAX,
            sas: 3,
            ..Report::default()
        };
        let mut pipe = Vec::new();
        for f in [
            Frame::Datagram(t.clone()),
            Frame::Flush,
            Frame::Report(report),
        ] {
            write(&mut pipe, &f).expect("write");
        }
        let mut r = pipe.as_slice();
        assert!(matches!(read(&mut r), Ok(Frame::Datagram(d)) if d == t));
        assert!(matches!(read(&mut r), Ok(Frame::Flush)));
        let Ok(Frame::Report(got)) = read(&mut r) else {
            panic!("no report")
        };
        assert_eq!((got.established, got.cpu_ns, got.sas), (7, u64::MAX, 3));
        assert!(read(&mut r).is_err(), "nothing left");
    }

    #[test]
    fn an_unknown_tag_is_an_error() {
        assert!(read(&mut [b'X'].as_slice()).is_err());
    }
}
