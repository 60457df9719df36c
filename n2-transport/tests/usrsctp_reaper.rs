//! The bound on closing a dropped usrsctp socket whose peer has gone silent: the socket waits
//! for its association to end, but at most `UserspaceSctp::CLOSE_GRACE`.
//!
//! Its own test binary (process): it counts the stack's closing sockets, which other tests
//! would change. Without `libusrsctp.so.2` it prints SKIPPED and passes, unless
//! `N2_REQUIRE_USRSCTP=1`.

#![allow(clippy::unwrap_used)]

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU16, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use n2_transport::{AssociationConfig, N2Transport, UserspaceSctp};

mod common;

/// A UDP relay between the stack and itself that can be turned into a black hole.
struct Relay {
    port: u16,
    target: Arc<AtomicU16>,
    forward: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Relay {
    fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let port = socket.local_addr().unwrap().port();
        let target = Arc::new(AtomicU16::new(0));
        let forward = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(AtomicBool::new(false));
        let (t, f, s) = (target.clone(), forward.clone(), stop.clone());
        let thread = std::thread::spawn(move || relay(&socket, &t, &f, &s));
        Self {
            port,
            target,
            forward,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

/// Sends whatever arrives on to the stack's UDP port while `forward` is set; ends on `stop`
/// or after two minutes at most.
fn relay(socket: &UdpSocket, target: &AtomicU16, forward: &AtomicBool, stop: &AtomicBool) {
    let end = Instant::now() + Duration::from_secs(120);
    let mut buf = [0u8; 65_536];
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        let Ok(n) = socket.recv(&mut buf) else {
            continue;
        };
        let port = target.load(Ordering::Relaxed);
        if forward.load(Ordering::Relaxed) && port != 0 {
            let _ = socket.send_to(&buf[..n], SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
}

/// Polls `f` every 10 ms until it holds or `limit` has passed; the instant it held.
async fn wait_until(limit: Duration, f: impl Fn() -> bool) -> Option<Instant> {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if f() {
            return Some(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_holds_a_dropped_socket_for_the_grace_period_and_no_longer() {
    let relay = Relay::start();
    let Some(t) = common::udp_transport(0, relay.port, AssociationConfig::default()) else {
        return;
    };
    relay.target.store(t.local_udp_port(), Ordering::Relaxed);
    let server = SocketAddr::from(([127, 0, 0, 1], 38_601));
    let listener = t.listen(server).unwrap();
    let (c, s) = tokio::join!(t.connect(server), listener.accept());
    let (c, s) = (c.unwrap(), s.unwrap());
    assert_eq!(t.sockets_closing(), 0);

    // Neither SHUTDOWN nor its answer gets through now: the associations cannot end.
    relay.forward.store(false, Ordering::Relaxed);
    let dropped = Instant::now();
    drop((c, s));
    let handed_over = wait_until(Duration::from_secs(5), || t.sockets_closing() == 2).await;
    assert!(handed_over.is_some(), "both sockets wait for their peer");

    let limit = UserspaceSctp::CLOSE_GRACE + Duration::from_secs(10);
    let closed = wait_until(limit, || t.sockets_closing() == 0)
        .await
        .expect("the sockets are closed after the grace period");
    let held = closed - dropped;
    assert!(
        held >= UserspaceSctp::CLOSE_GRACE,
        "closed after {held:?}, before the peer could have answered"
    );
    drop(listener);
}
