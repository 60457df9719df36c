//! Stateless COOKIEs (RFC 7296 §2.6): `Cookie = <VersionIDofSecret> | Hash(Ni | IPi | SPIi |
//! <secret>)`, with the secret replaced every `cookie_secret_lifetime` (driven by `now`: the
//! engine reads no clock) and cookies of the previous secret accepted for `cookie_grace`
//! after its replacement, so an initiator that was just told a cookie is not refused.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use ipsec_crypto::{CryptoProvider, PrfAlgorithm, SecretBytes, ct_eq};

use crate::sa::random_bytes;
use crate::wire::IkeSpi;

/// One secret and the version octet that names it.
struct Secret {
    version: u8,
    key: SecretBytes,
    /// When it became current.
    since: Instant,
}

/// What a COOKIE is computed over.
pub(crate) struct CookieInput<'a> {
    pub(crate) ni: &'a [u8],
    pub(crate) ip: IpAddr,
    pub(crate) spi_i: IkeSpi,
}

/// The current and previous COOKIE secrets.
#[derive(Default)]
pub(crate) struct CookieJar {
    current: Option<Secret>,
    previous: Option<Secret>,
}

impl CookieJar {
    /// The cookie for `input` with the current secret (rotated first if it is due); `periods`
    /// is `(cookie_secret_lifetime, cookie_grace)`.
    pub(crate) fn make(
        &mut self,
        provider: &dyn CryptoProvider,
        now: Instant,
        periods: (Duration, Duration),
        input: &CookieInput<'_>,
    ) -> Option<Vec<u8>> {
        self.rotate(provider, now, periods)?;
        let s = self.current.as_ref()?;
        compute(provider, s, input)
    }

    /// Whether `got` is a cookie for `input` made with the current secret, or with the
    /// previous one within `grace` of its replacement.
    pub(crate) fn check(
        &mut self,
        provider: &dyn CryptoProvider,
        now: Instant,
        periods: (Duration, Duration),
        input: &CookieInput<'_>,
        got: &[u8],
    ) -> bool {
        let grace = periods.1;
        if self.rotate(provider, now, periods).is_none() {
            return false;
        }
        let Some(&version) = got.first() else {
            return false;
        };
        let current = self.current.as_ref().filter(|s| s.version == version);
        let previous = self.previous.as_ref().filter(|p| {
            p.version == version && self.current.as_ref().is_some_and(|c| now < c.since + grace)
        });
        current
            .or(previous)
            .and_then(|s| compute(provider, s, input))
            .is_some_and(|want| ct_eq(&want, got))
    }

    /// Makes the first secret, or replaces the current one once it is `lifetime` old. The
    /// replaced one is kept while cookies it made can still be within their grace period.
    fn rotate(
        &mut self,
        provider: &dyn CryptoProvider,
        now: Instant,
        (lifetime, grace): (Duration, Duration),
    ) -> Option<()> {
        if self
            .current
            .as_ref()
            .is_some_and(|s| now < s.since + lifetime)
        {
            return Some(());
        }
        let key = SecretBytes::new(random_bytes(provider, 32)?);
        let old = self.current.take();
        let version = old.as_ref().map_or(0, |s| s.version.wrapping_add(1));
        self.previous = old.filter(|s| now < s.since + lifetime + grace);
        self.current = Some(Secret {
            version,
            key,
            since: now,
        });
        Some(())
    }
}

fn compute(provider: &dyn CryptoProvider, s: &Secret, input: &CookieInput<'_>) -> Option<Vec<u8>> {
    let prf = provider.prf(PrfAlgorithm::HmacSha256)?;
    let ip = match input.ip {
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
        IpAddr::V6(a) => a.octets(),
    };
    let mut out = vec![0u8; 1 + prf.output_len()];
    out[0] = s.version;
    prf.key(s.key.expose())
        .compute(&[input.ni, &ip, &input.spi_i.to_be_bytes()], &mut out[1..]);
    Some(out)
}
