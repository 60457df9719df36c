//! NAT_DETECTION_SOURCE_IP / NAT_DETECTION_DESTINATION_IP (RFC 7296 §2.23).

use std::net::{IpAddr, SocketAddr};

use sha1::{Digest, Sha1};

/// `SHA-1(SPIi | SPIr | IP | Port)`. SHA-1 is what the RFC fixes for this public, non-secret
/// hash, so it is computed here rather than through the crypto provider.
pub(crate) fn nat_hash(spi_i: u64, spi_r: u64, addr: SocketAddr) -> Vec<u8> {
    let mut h = Sha1::new();
    h.update(spi_i.to_be_bytes());
    h.update(spi_r.to_be_bytes());
    match addr.ip() {
        IpAddr::V4(a) => h.update(a.octets()),
        IpAddr::V6(a) => h.update(a.octets()),
    }
    h.update(addr.port().to_be_bytes());
    h.finalize().to_vec()
}
