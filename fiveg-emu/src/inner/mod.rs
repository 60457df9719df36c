//! The inner IP endpoint over ESP, sans-IO: what a UE emulator (and a test standing in for the
//! N3IWF) runs inside the Child SAs once IKE_AUTH is done.
//!
//! ```text
//!  NAS messages ⇄ NasChannel ⇄ InnerStack (TCP/IP, smoltcp) ⇄ EspLink ⇄ outer datagrams
//!                                inner IP packets                 ESP in UDP/4500 or raw ESP
//! ```
//!
//! - [`EspLink`]: one Child SA pair from the engine ([`ikev2::ChildSa`]): decrypts outer
//!   datagrams and checks the inner packet against the selectors (RFC 4301 §5.2), seals inner
//!   packets; drops are counted.
//! - [`InnerStack`]: a TCP/IP stack bound to one inner address, fed and drained by the caller,
//!   on the caller's clock; TCP client and listener with bounded buffers, and events for
//!   connect, accept, the peer's FIN, and every way a connection ends.
//! - [`NasChannel`]: NAS messages framed per TS 24.502 §9.4 over one connection, in order.
//! - [`gre`]: GRE with QFI and RQI in the Key, for user-plane Child SAs (TS 24.502 §9.3.3).
//!
//! A driver loop (one Child SA, one stack):
//!
//! ```text
//! on datagram d:   match link.receive(&mut d) { Ok(Received::Inner(p)) => stack.push_inbound(p), … }
//! then:            stack.poll(now);
//!                  while let Some(p) = stack.poll_transmit() { link.send(&p, &mut out); socket.send(out) }
//!                  while let Some(e) = stack.poll_event() { … channel.recv(&mut stack) … }
//!                  sleep until stack.poll_at(now) or the next datagram
//! ```

mod clock;
mod conn;
mod device;
mod esp_link;
pub mod gre;
pub mod ipv4;
mod nas_channel;
mod rst;
mod selectors;
mod stack;

pub use clock::StackClock;
pub use conn::{CloseReason, ConnError, ConnId, ListenerId, StackEvent};
pub use esp_link::{Direction, EspLink, LinkConfig, LinkCounters, LinkDrop, LinkError, Received};
pub use nas_channel::{NasChannel, NasChannelError};
pub use selectors::selector_pairs;
pub use smoltcp::socket::tcp::State as TcpState;
pub use stack::{InnerStack, PushError, StackConfig, StackCounters};
