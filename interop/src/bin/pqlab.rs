//! `pqlab`: the interop crate's lab pieces for the project's shell scripts, so that namespaces,
//! checked transfers and configuration files are made one way everywhere.
//!
//! ```text
//! pqlab netns add NAME...                       namespaces (IPv6 off, no ICMP rate limit, lo up)
//! pqlab netns link NS DEV CIDR[,CIDR..] NS DEV CIDR[,CIDR..]     a veth pair, addressed, up
//! pqlab netns del NAME...
//! pqlab transfer --from NS --to NS --dst ADDR [--src ADDR] [--port 5001] (--mib N | --bytes N)
//!                [--timeout-s 60]               checked TCP transfer; prints Mbit/s
//! pqlab tcp-recv --listen ADDR:PORT --bytes N --seed S [--timeout-ms T]   (one end of it)
//! pqlab tcp-send --to ADDR:PORT [--bind ADDR] --bytes N --seed S [--timeout-ms T]
//! pqlab udp-send --to ADDR:PORT --hex HEX [--count N]   N (default 1, at most 100000) UDP
//!                                               datagrams of these bytes from an ephemeral port
//! pqlab iked-conf ARGS...                       iked.toml on stdout (see `pqlab iked-conf --help`)
//! ```
//! Exits 0 on success, 1 on failure (with the reason on stderr), 2 on bad usage.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

use interop::netns::{self, End};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("netns") => netns_cmd(&args[1..]),
        Some("transfer") => transfer(&Flags::parse(&args[1..])),
        Some("tcp-recv") => tcp_recv(&Flags::parse(&args[1..])),
        Some("tcp-send") => tcp_send(&Flags::parse(&args[1..])),
        Some("udp-send") => udp_send(&Flags::parse(&args[1..])),
        Some("iked-conf") => interop::config::iked_conf_cli(&args[1..])
            .map(|t| print!("{t}"))
            .map_err(Failure::from),
        _ => Err(Usage(USAGE.into()).into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(u)) => {
            eprintln!("pqlab: {}", u.0);
            ExitCode::from(2)
        }
        Err(Failure::Failed(e)) => {
            eprintln!("pqlab: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: pqlab netns|transfer|tcp-recv|tcp-send|udp-send|iked-conf ... (see the source's header)";

struct Usage(String);

enum Failure {
    Usage(Usage),
    Failed(String),
}

impl From<Usage> for Failure {
    fn from(u: Usage) -> Self {
        Self::Usage(u)
    }
}

impl From<interop::Error> for Failure {
    fn from(e: interop::Error) -> Self {
        Self::Failed(e.to_string())
    }
}

impl From<String> for Failure {
    fn from(e: String) -> Self {
        Self::Usage(Usage(e))
    }
}

/// `--name value` pairs.
struct Flags(Vec<(String, String)>);

impl Flags {
    fn parse(args: &[String]) -> Self {
        Self(
            args.chunks(2)
                .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn need<T: std::str::FromStr>(&self, name: &str) -> Result<T, Usage> {
        let v = self
            .get(name)
            .ok_or_else(|| Usage(format!("missing {name}")))?;
        v.parse()
            .map_err(|_| Usage(format!("{name} {v}: not a valid value")))
    }

    fn or<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, Usage> {
        match self.get(name) {
            Some(_) => self.need(name),
            None => Ok(default),
        }
    }

    fn timeout(&self) -> Result<Duration, Usage> {
        Ok(Duration::from_millis(self.or("--timeout-ms", 60_000)?))
    }
}

fn netns_cmd(args: &[String]) -> Result<(), Failure> {
    match (args.first().map(String::as_str), &args[1.min(args.len())..]) {
        (Some("add"), names) => {
            for n in names {
                netns::add(n)?;
            }
            Ok(())
        }
        (Some("del"), names) => {
            names.iter().for_each(|n| netns::delete(n));
            Ok(())
        }
        (Some("link"), [ns_a, dev_a, a, ns_b, dev_b, b]) => {
            fn end<'a>(netns: &'a str, dev: &'a str, addrs: &'a str) -> End<'a> {
                End {
                    netns,
                    dev,
                    addrs: addrs.split(',').filter(|s| !s.is_empty()).collect(),
                }
            }
            netns::link(&end(ns_a, dev_a, a), &end(ns_b, dev_b, b))?;
            Ok(())
        }
        _ => Err(Usage(
            "usage: pqlab netns add|del NAME... | link NS DEV CIDRS NS DEV CIDRS".into(),
        )
        .into()),
    }
}

fn transfer(f: &Flags) -> Result<(), Failure> {
    let bytes: usize = match f.get("--mib") {
        Some(_) => f.need::<usize>("--mib")? << 20,
        None => f.need("--bytes")?,
    };
    let dst = SocketAddrV4::new(f.need("--dst")?, f.or("--port", 5001)?);
    let src: Option<Ipv4Addr> = f.get("--src").map(|_| f.need("--src")).transpose()?;
    let timeout = Duration::from_secs(f.or("--timeout-s", 60)?);
    let from: String = f.need("--from")?;
    let to: String = f.need("--to")?;
    let t = interop::transfer_between(&from, &to, src, dst, bytes, timeout)?;
    println!("{:.0}", t.mbit_per_s());
    Ok(())
}

fn tcp_recv(f: &Flags) -> Result<(), Failure> {
    let at: SocketAddr = f.need("--listen")?;
    interop::receive(at, f.need("--bytes")?, f.need("--seed")?, f.timeout()?)?;
    Ok(())
}

fn tcp_send(f: &Flags) -> Result<(), Failure> {
    let bind: Option<Ipv4Addr> = f.get("--bind").map(|_| f.need("--bind")).transpose()?;
    interop::send(
        f.need("--to")?,
        bind,
        f.need("--bytes")?,
        f.need("--seed")?,
        f.timeout()?,
    )?;
    Ok(())
}

/// The most datagrams one `udp-send` sends.
const MAX_UDP_SEND: u32 = 100_000;

fn udp_send(f: &Flags) -> Result<(), Failure> {
    let to: SocketAddr = f.need("--to")?;
    let hex: String = f.need("--hex")?;
    let count: u32 = f.or("--count", 1)?;
    if count > MAX_UDP_SEND {
        return Err(Usage(format!("--count {count}: at most {MAX_UDP_SEND}")).into());
    }
    let payload = unhex(&hex).ok_or_else(|| Usage(format!("--hex {hex}: not hex")))?;
    let any: SocketAddr = if to.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let failed = |e: std::io::Error| Failure::Failed(format!("udp-send to {to}: {e}"));
    let socket = UdpSocket::bind(any).map_err(failed)?;
    for _ in 0..count {
        socket.send_to(&payload, to).map_err(failed)?;
    }
    println!("{count}");
    Ok(())
}

/// Bytes from hex digits (an even number of them).
fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
