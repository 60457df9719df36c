//! First-packet probe for the interop lab, run inside a lab namespace.
//!
//! `pqio-probe --src A --dst B [--port 9] [--interval-us 100] [--timeout-ms 10000]`
//!
//! Prints `ready`, then tries every interval to connect a UDP socket bound to A to B:port
//! (which fails while no route exists) and, once connected, to send a datagram. The socket is
//! non-blocking and the interval is a sleep (high-resolution): a receive timeout would be
//! rounded up to whole scheduler ticks (8 ms seen at HZ=250), so a tunnel that was routed
//! before it came up (iked's TUN route) was probed only every few milliseconds. Prints
//! `route <µs since epoch>` when the route first exists and `reply <µs since epoch>` when the
//! first ICMP port unreachable comes back (seen as ECONNREFUSED), then exits 0. Exits 1 with
//! `timeout` if nothing came back in time.

use std::io::{ErrorKind, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn now_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn arg<T: std::str::FromStr>(args: &[String], name: &str, default: Option<T>) -> T {
    let v = args
        .iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok());
    match v.or(default) {
        Some(v) => v,
        None => {
            eprintln!(
                "usage: pqio-probe --src A --dst B [--port 9] [--interval-us 100] [--timeout-ms 10000]"
            );
            std::process::exit(2)
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let src: Ipv4Addr = arg(&args, "--src", None);
    let dst: Ipv4Addr = arg(&args, "--dst", None);
    let port: u16 = arg(&args, "--port", Some(9));
    let interval = Duration::from_micros(arg(&args, "--interval-us", Some(100)));
    let deadline = Instant::now() + Duration::from_millis(arg(&args, "--timeout-ms", Some(10_000)));
    let sock = match UdpSocket::bind((src, 0)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bind {src}: {e}");
            std::process::exit(2)
        }
    };
    if let Err(e) = sock.set_nonblocking(true) {
        eprintln!("non-blocking socket: {e}");
        std::process::exit(2)
    }
    say("ready");
    let mut connected = false;
    let mut buf = [0u8; 64];
    while Instant::now() < deadline {
        if !connected {
            if sock.connect((dst, port)).is_err() {
                std::thread::sleep(interval);
                continue;
            }
            connected = true;
            say(&format!("route {}", now_us()));
        }
        // The ICMP error of an earlier datagram shows as ECONNREFUSED on the next call.
        let sent = sock.send(b"pqio first-packet probe");
        if refused(&sent) {
            say(&format!("reply {}", now_us()));
            return;
        }
        std::thread::sleep(interval);
        if refused(&sock.recv(&mut buf)) {
            say(&format!("reply {}", now_us()));
            return;
        }
    }
    say("timeout");
    std::process::exit(1);
}

fn refused<T>(r: &std::io::Result<T>) -> bool {
    matches!(r, Err(e) if e.kind() == ErrorKind::ConnectionRefused)
}
