//! The kernel's SCTP. Where the kernel has none (as on the machines this project is developed
//! on), the error must say so and name the alternative; where it has, an association on
//! loopback carries messages with their stream and PPID.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use n2_transport::{
    AssociationConfig, DownReason, KernelSctp, N2Error, N2Event, N2Transport, Ppid, StreamId,
    Transport, TransportKind,
};
use tokio::time::timeout;

#[tokio::test]
async fn kernel_sctp_works_or_says_what_to_use_instead() {
    match KernelSctp::probe() {
        Err(N2Error::KernelSctpUnavailable) => {
            let e =
                Transport::new(TransportKind::Kernel, AssociationConfig::default()).unwrap_err();
            assert_eq!(
                e.to_string(),
                "the kernel has no SCTP; use transport = \"usrsctp\" (userspace SCTP over raw \
                 IP 132 or UDP 9899)"
            );
            println!("no kernel SCTP here: checked the message only");
        }
        Err(e) => panic!("{e}"),
        Ok(()) => loopback_association().await,
    }
}

async fn loopback_association() {
    let t = KernelSctp::new(AssociationConfig::default()).unwrap();
    let server = SocketAddr::from(([127, 0, 0, 1], 38701));
    let listener = t.listen(server).unwrap();
    let (c, s) = tokio::join!(t.connect(server), listener.accept());
    let (c, mut s) = (c.unwrap(), s.unwrap());
    assert_eq!(c.streams().outbound, 16);
    for (stream, ppid) in [(0, 60), (3, 60), (15, 61)] {
        c.send(StreamId(stream), Ppid(ppid), &[stream as u8; 100])
            .await
            .unwrap();
        match timeout(Duration::from_secs(10), s.recv())
            .await
            .unwrap()
            .unwrap()
        {
            N2Event::Message(m) => {
                assert_eq!((m.stream, m.ppid), (StreamId(stream), Ppid(ppid)));
                assert_eq!(m.payload, [stream as u8; 100]);
            }
            other => panic!("{other:?}"),
        }
    }
    c.close().await;
    let end = timeout(Duration::from_secs(10), s.recv()).await.unwrap();
    assert_eq!(end, Some(N2Event::Down(DownReason::PeerShutdown)));
}
