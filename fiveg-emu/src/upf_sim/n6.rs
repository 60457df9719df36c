//! N6 of the UPF emulator: the reflector, or a TUN device behind which the kernel routes to a
//! real data network.

use std::io;

use ipsec_sys::{Offloads, Tun, TunOptions};
use tokio::io::unix::AsyncFd;

/// What is behind N6.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum N6Mode {
    /// The built-in reflector answers ICMP echo and UDP echo (port 7); no root needed.
    Reflect,
    /// A TUN device of this name (created if needed; needs CAP_NET_ADMIN). Address and routes
    /// are the operator's: the UE addresses must be routed into the device.
    Tun(String),
}

impl std::str::FromStr for N6Mode {
    type Err = String;

    /// `reflect` or `tun:NAME`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            None if s == "reflect" => Ok(Self::Reflect),
            Some(("tun", name)) if !name.is_empty() && name.len() < 16 => {
                Ok(Self::Tun(name.to_owned()))
            }
            _ => Err(format!(
                "{s:?}: expected reflect or tun:NAME (at most 15 characters)"
            )),
        }
    }
}

pub(super) enum N6 {
    Reflect,
    Tun(AsyncFd<Tun>),
}

impl N6 {
    pub(super) fn open(mode: &N6Mode) -> io::Result<Self> {
        let N6Mode::Tun(name) = mode else {
            return Ok(Self::Reflect);
        };
        let options = TunOptions {
            vnet_hdr: false,
            multi_queue: false,
            offloads: Offloads::NONE,
        };
        let tun = Tun::open(name, &options)?;
        tun.set_nonblocking(true)?;
        ipsec_sys::interface::set_up(tun.name())?;
        Ok(Self::Tun(tun.into_async()?))
    }

    pub(super) fn is_reflector(&self) -> bool {
        matches!(self, Self::Reflect)
    }

    /// The next packet from the data network; never ready for the reflector, which answers
    /// inline.
    pub(super) async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let Self::Tun(fd) = self else {
            return std::future::pending().await;
        };
        loop {
            let mut guard = fd.readable().await?;
            match guard.try_io(|tun| tun.get_ref().read(buf)) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Writes an uplink packet to the TUN device; a full queue drops it, as a link would.
    pub(super) fn send(&self, packet: &[u8]) {
        if let Self::Tun(fd) = self
            && let Err(e) = fd.get_ref().write(packet)
            && e.kind() != io::ErrorKind::WouldBlock
        {
            eprintln!("upf-sim: n6 write: {e}");
        }
    }
}
