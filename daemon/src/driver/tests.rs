//! The engine task under a flood, driven directly. A producer task on the same single-threaded
//! runtime refills the datagram queue whenever the engine task yields, so the queue is never
//! empty when the engine task looks at it: the retransmission of IKE_SA_INIT must go out while
//! the flood is still running. (With datagrams served before deadlines it waited for the flood
//! to end.)

use std::net::UdpSocket;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{broadcast, mpsc, watch};

use super::{Driver, DriverCommand, Inputs, UpStart};
use crate::config::Config;
use crate::essential::Essential;
use crate::net::{Datagram, Sockets};
use crate::sink::LoggingSink;

const CONNECTION: &str = r#"[daemon]
listen = ["127.0.0.1"]
ike_port = 0
natt_port = 0
retransmit_timeout = 0.2
retransmit_tries = 2

[connections.silent]
remote_addrs = ["127.0.0.1"]
remote_port = PORT
proposals = ["aes256gcm16-prfsha384-x25519"]
[connections.silent.local]
auth = "psk"
id = "a.example"
[connections.silent.remote]
auth = "psk"
id = "b.example"
[connections.silent.children.net]
local_ts = ["10.1.0.0/16"]
remote_ts = ["10.2.0.0/16"]
[secrets.ike.silent]
secret = "0sVGhpcyBpcyBhIHRlc3Qga2V5IGZvciB0aGUgZGFlbW9uIHRlc3Rz"
"#;

/// An IKE_SA_INIT request header from an initiator SPI never seen, without payloads.
fn junk(i: u64) -> Vec<u8> {
    let mut m = Vec::with_capacity(28);
    m.extend_from_slice(&(i | 1 << 63).to_be_bytes());
    m.extend_from_slice(&[0; 8]);
    m.extend_from_slice(&[0, 0x20, 34, 0x08, 0, 0, 0, 0, 0, 0, 0, 28]);
    m
}

#[test]
fn a_retransmission_goes_out_while_the_datagram_queue_stays_full() {
    let peer = UdpSocket::bind("127.0.0.1:0").expect("bind");
    peer.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let port = peer.local_addr().expect("addr").port();
    let text = CONNECTION.replace("PORT", &port.to_string());
    let config = Config::parse(Path::new("/test/iked.toml"), &text).expect("config");
    let (cmd_tx, commands) = mpsc::channel(4);
    let (stop, sent) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let runtime = {
        let (stop, sent) = (Arc::clone(&stop), Arc::clone(&sent));
        std::thread::spawn(move || run(config, commands, &stop, &sent))
    };
    let started = Instant::now() + Duration::from_secs(10);
    while sent.load(Ordering::Relaxed) < 10_000 {
        assert!(Instant::now() < started, "the flood did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (reply, _answer) = tokio::sync::oneshot::channel::<Result<UpStart, _>>();
    let up = DriverCommand::Up {
        name: "silent".into(),
        reply,
    };
    cmd_tx.blocking_send(up).expect("command");
    let mut buf = [0u8; 4096];
    let (n, _) = peer.recv_from(&mut buf).expect("IKE_SA_INIT");
    let first = buf[..n].to_vec();
    let at_first = sent.load(Ordering::Relaxed);
    let (n, _) = peer.recv_from(&mut buf).expect("its retransmission");
    let at_second = sent.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let flood_ran_out = runtime.join().expect("runtime thread");
    assert_eq!(&buf[..n], &first[..], "the same IKE_SA_INIT again");
    assert!(
        !flood_ran_out,
        "the flood ended (after {FLOOD_TIME:?} or {FLOOD_LIMIT} datagrams) before the retransmission"
    );
    assert!(
        at_second > at_first + 1000,
        "the flood went on between the two sends ({at_first}, then {at_second})"
    );
}

/// Runs the engine task and the flood on one single-threaded runtime until `stop`; returns
/// whether the flood reached its bound first.
fn run(
    config: Config,
    commands: mpsc::Receiver<DriverCommand>,
    stop: &AtomicBool,
    sent: &AtomicU64,
) -> bool {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let sockets = Sockets::bind(&config.daemon, false).await.expect("bind");
        let local = sockets.ike_addrs()[0];
        let (events, _) = broadcast::channel(16);
        let provider = ipsec_crypto::default_provider();
        let sink = Box::new(LoggingSink::new());
        let driver = Driver::new(
            config,
            None,
            provider,
            sink,
            Arc::new(sockets),
            events,
            None,
        );
        let (stop_engine, shutdown) = watch::channel(false);
        let (essential, _fatal) = Essential::new(shutdown.clone());
        let (tx, datagrams) = mpsc::channel(1024);
        let inputs = Inputs {
            datagrams,
            commands,
            shutdown,
            datapath: None,
            essential,
            n3iwf: None,
        };
        let engine = tokio::spawn(driver.run(inputs));
        let remote = "127.0.0.1:9".parse().expect("addr");
        let end = Instant::now() + FLOOD_TIME;
        let mut ran_out = true;
        for i in 0..FLOOD_LIMIT {
            if Instant::now() >= end {
                break;
            }
            if stop.load(Ordering::Relaxed) {
                ran_out = false;
                break;
            }
            let data = junk(i);
            if tx
                .send(Datagram {
                    local,
                    remote,
                    data,
                })
                .await
                .is_err()
            {
                break;
            }
            sent.fetch_add(1, Ordering::Relaxed);
        }
        // Without the flood the engine task catches up; the test thread then says stop.
        while !stop.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = stop_engine.send(true);
        engine.await.expect("engine task");
        ran_out
    })
}

/// Bounds of the flood, far beyond the 0.2 s the retransmission needs.
const FLOOD_LIMIT: u64 = 50_000_000;
const FLOOD_TIME: Duration = Duration::from_secs(20);

/// EAP packets that reach the daemon (it runs no EAP method and fails the exchange) never
/// appear in its log, at any level.
#[test]
fn eap_packets_never_appear_in_the_daemon_log() {
    use std::sync::Mutex;

    #[derive(Clone, Default)]
    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
        type Writer = Self;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    let text = CONNECTION.replace("PORT", "9");
    let config = Config::parse(Path::new("/test/iked.toml"), &text).expect("config");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sockets = rt
        .block_on(Sockets::bind(&config.daemon, false))
        .expect("bind");
    let (events, _) = broadcast::channel(16);
    let provider = ipsec_crypto::default_provider();
    let sink = Box::new(LoggingSink::new());
    let mut driver = Driver::new(
        config,
        None,
        provider,
        sink,
        Arc::new(sockets),
        events,
        None,
    );
    let packet = b"\x02\x07\x00\x15\x01alice@secret.example".to_vec();
    let log = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(log.clone())
        .with_ansi(false)
        .finish();
    let sa = ikev2::SaId(ikev2::wire::IkeSpi(0x1234));
    tracing::subscriber::with_default(subscriber, || {
        let peer_id = ikev2::Identity::fqdn("alice.example");
        let _ = driver.event(ikev2::Event::EapStarted { sa, peer_id });
        let message = packet.clone();
        let _ = driver.event(ikev2::Event::EapMessage { sa, message });
        driver.drain_events();
    });
    let text = String::from_utf8_lossy(&log.0.lock().expect("lock")).into_owned();
    assert!(text.contains("the peer asked for EAP"), "captured: {text}");
    for form in [
        hex::encode(&packet),
        hex::encode(&packet[5..]),
        format!("{packet:?}"),
        format!("{:?}", &packet[5..]),
        "alice@secret.example".to_string(),
    ] {
        assert!(!text.contains(&form), "{form} is in the log:\n{text}");
    }
}
