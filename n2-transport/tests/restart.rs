//! A peer that vanishes without SHUTDOWN or ABORT (SIGKILL) and comes back from the same
//! address and port restarts the association (RFC 9260 §5.2.2): the surviving side sees
//! [`N2Event::Restarted`] on the association it had, not a new one. The peer is a second
//! process (this test binary, running the ignored `restart_peer` test) with its own usrsctp
//! stack, over UDP on loopback.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use n2_transport::{AssociationConfig, N2Event, N2Transport, Ppid, StreamId};
use tokio::time::timeout;

const SERVER_SCTP_PORT: u16 = 38601;
const PEER_SCTP_PORT: u16 = 38602;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_restart_is_reported_on_the_existing_association() {
    let config = AssociationConfig::default();
    let Some(server) = common::udp_transport(0, 0, config) else {
        return;
    };
    let listener = server
        .listen(SocketAddr::from(([127, 0, 0, 1], SERVER_SCTP_PORT)))
        .unwrap();
    let peer_udp = UdpSocket::bind("0.0.0.0:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spawn = || spawn_peer(peer_udp, server.local_udp_port());

    let mut first = spawn();
    let mut assoc = timeout(Duration::from_secs(20), listener.accept())
        .await
        .unwrap()
        .unwrap();
    wait_for_up(&mut first);
    assert_eq!(next_message(&mut assoc).await, b"peer up");

    first.kill().unwrap();
    first.wait().unwrap();
    let mut second = spawn();
    wait_for_up(&mut second);
    let event = timeout(Duration::from_secs(20), assoc.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(event, N2Event::Restarted(s) if s.outbound >= 2),
        "{event:?}"
    );
    assert_eq!(assoc.stats().restarts, 1);
    assert_eq!(next_message(&mut assoc).await, b"peer up");
    // The restarted association carries traffic both ways.
    assoc
        .send(StreamId(1), Ppid::NGAP, b"welcome back")
        .await
        .unwrap();
    second.kill().unwrap();
    second.wait().unwrap();
}

/// The peer process: connects from a fixed SCTP and UDP port, says so, and keeps the
/// association until killed (at most a minute).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the peer process of a_peer_restart_is_reported_on_the_existing_association"]
async fn restart_peer() {
    let env = |name: &str| std::env::var(name).unwrap().parse::<u16>().unwrap();
    let config = AssociationConfig::default();
    let t =
        common::udp_transport(env("N2_PEER_UDP_PORT"), env("N2_SERVER_UDP_PORT"), config).unwrap();
    let local = SocketAddr::from(([127, 0, 0, 1], PEER_SCTP_PORT));
    let server = SocketAddr::from(([127, 0, 0, 1], SERVER_SCTP_PORT));
    let mut assoc = t.connect_from(Some(local), server).await.unwrap();
    assoc
        .send(StreamId(1), Ppid::NGAP, b"peer up")
        .await
        .unwrap();
    println!("PEER UP");
    let _ = timeout(Duration::from_secs(60), async {
        while assoc.recv().await.is_some() {}
    })
    .await;
}

fn spawn_peer(peer_udp: u16, server_udp: u16) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "restart_peer", "--ignored", "--nocapture"])
        .env("N2_PEER_UDP_PORT", peer_udp.to_string())
        .env("N2_SERVER_UDP_PORT", server_udp.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Reads the peer's output until it reports the association up (bounded by the peer's own
/// connect timeout: it exits on failure, which ends the output).
fn wait_for_up(child: &mut Child) {
    let out = BufReader::new(child.stdout.take().unwrap());
    for line in out.lines() {
        if line.unwrap().contains("PEER UP") {
            return;
        }
    }
    panic!("the peer process ended without an association");
}

async fn next_message(assoc: &mut n2_transport::Association) -> Vec<u8> {
    match timeout(Duration::from_secs(20), assoc.recv())
        .await
        .unwrap()
        .unwrap()
    {
        N2Event::Message(m) => m.payload,
        other => panic!("{other:?}"),
    }
}
