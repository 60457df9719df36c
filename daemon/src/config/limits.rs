//! `[daemon]` limits on unauthenticated work: COOKIE thresholds and secret rotation, half-open
//! IKE SA counts, bytes and sources, and the signature checks a peer's certificate chain may
//! cost. Names follow strongSwan's `charon.*` where it has the setting.

use std::time::Duration;

use ikev2::EndpointConfig;
use toml::Spanned;

use super::load::Validator;
use super::raw::{Amount, RawDaemon};
use super::values::{amount, duration};

/// The engine's limits from `[daemon]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IkeLimits {
    pub cookie_threshold: usize,
    pub cookie_threshold_ip: usize,
    pub block_threshold: usize,
    pub half_open_limit: usize,
    pub half_open_timeout: Duration,
    pub half_open_memory: usize,
    pub half_open_sa_memory: usize,
    pub source_prefix_v4: u8,
    pub source_prefix_v6: u8,
    pub cookie_secret_lifetime: Duration,
    pub cookie_grace: Duration,
    pub max_chain_signature_checks: u32,
}

impl Default for IkeLimits {
    fn default() -> Self {
        let e = EndpointConfig::default();
        Self {
            cookie_threshold: e.cookie_threshold,
            cookie_threshold_ip: e.cookie_threshold_per_source,
            block_threshold: e.half_open_limit_per_source,
            half_open_limit: e.half_open_limit,
            half_open_timeout: e.half_open_timeout,
            half_open_memory: e.half_open_memory,
            half_open_sa_memory: e.half_open_sa_memory,
            source_prefix_v4: e.source_prefix_v4,
            source_prefix_v6: e.source_prefix_v6,
            cookie_secret_lifetime: e.cookie_secret_lifetime,
            cookie_grace: e.cookie_grace,
            max_chain_signature_checks: e.max_chain_signature_checks,
        }
    }
}

impl IkeLimits {
    /// Sets these limits on the engine's configuration.
    pub fn apply(&self, e: &mut EndpointConfig) {
        e.cookie_threshold = self.cookie_threshold;
        e.cookie_threshold_per_source = self.cookie_threshold_ip;
        e.half_open_limit_per_source = self.block_threshold;
        e.half_open_limit = self.half_open_limit;
        e.half_open_timeout = self.half_open_timeout;
        e.half_open_memory = self.half_open_memory;
        e.half_open_sa_memory = self.half_open_sa_memory;
        e.source_prefix_v4 = self.source_prefix_v4;
        e.source_prefix_v6 = self.source_prefix_v6;
        e.cookie_secret_lifetime = self.cookie_secret_lifetime;
        e.cookie_grace = self.cookie_grace;
        e.max_chain_signature_checks = self.max_chain_signature_checks;
    }
}

/// Smallest per-SA byte cap: a half-open SA's fixed part and an IKE_SA_INIT request.
const MIN_SA_MEMORY: u64 = 8 << 10;

impl Validator<'_> {
    /// The limits from `[daemon]` (defaults where a field is absent or wrong; a wrong value is
    /// an error naming its line).
    pub(super) fn limits(&mut self, raw: &RawDaemon) -> IkeLimits {
        let mut l = IkeLimits::default();
        let counts = [
            (
                "cookie_threshold",
                &raw.cookie_threshold,
                &mut l.cookie_threshold,
            ),
            (
                "cookie_threshold_ip",
                &raw.cookie_threshold_ip,
                &mut l.cookie_threshold_ip,
            ),
            (
                "block_threshold",
                &raw.block_threshold,
                &mut l.block_threshold,
            ),
            (
                "half_open_limit",
                &raw.half_open_limit,
                &mut l.half_open_limit,
            ),
        ];
        for (name, value, slot) in counts {
            if let Some(n) = self.bounded(name, value.as_ref(), 0, 10_000_000) {
                *slot = usize::try_from(n).unwrap_or(usize::MAX);
            }
        }
        let durations = [
            (
                "half_open_timeout",
                &raw.half_open_timeout,
                &mut l.half_open_timeout,
            ),
            (
                "cookie_secret_lifetime",
                &raw.cookie_secret_lifetime,
                &mut l.cookie_secret_lifetime,
            ),
            ("cookie_grace", &raw.cookie_grace, &mut l.cookie_grace),
        ];
        for (name, value, slot) in durations {
            if let Some(d) = self.positive_duration(name, value.as_ref()) {
                *slot = d;
            }
        }
        if let Some(b) = self.bytes("half_open_memory", raw.half_open_memory.as_ref(), 1 << 20) {
            l.half_open_memory = b;
        }
        let sa = raw.half_open_sa_memory.as_ref();
        if let Some(b) = self.bytes("half_open_sa_memory", sa, MIN_SA_MEMORY) {
            l.half_open_sa_memory = b;
        }
        let v4 = self.bounded("source_prefix_v4", raw.source_prefix_v4.as_ref(), 0, 32);
        let v6 = self.bounded("source_prefix_v6", raw.source_prefix_v6.as_ref(), 0, 128);
        l.source_prefix_v4 = v4
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(l.source_prefix_v4);
        l.source_prefix_v6 = v6
            .and_then(|n| u8::try_from(n).ok())
            .unwrap_or(l.source_prefix_v6);
        let checks = raw.max_chain_signature_checks.as_ref();
        if let Some(n) = self.bounded("max_chain_signature_checks", checks, 1, 1000) {
            l.max_chain_signature_checks = u32::try_from(n).unwrap_or(1000);
        }
        l
    }

    /// An integer from `min` to `max`.
    fn bounded(
        &mut self,
        name: &str,
        raw: Option<&Spanned<i64>>,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let n = raw?;
        let v = *n.get_ref();
        if (min..=max).contains(&v) {
            return Some(v);
        }
        self.error(
            &n.span(),
            &format!("daemon.{name}"),
            format!("{v} is not a number from {min} to {max}"),
        );
        None
    }

    /// A duration above zero and at most a day.
    pub(super) fn positive_duration(
        &mut self,
        name: &str,
        raw: Option<&Spanned<String>>,
    ) -> Option<Duration> {
        let s = raw?;
        let field = format!("daemon.{name}");
        match duration(s.get_ref()) {
            Ok(d) if !d.is_zero() && d <= Duration::from_secs(86_400) => Some(d),
            Ok(_) => {
                self.error(&s.span(), &field, "must be above 0 and at most 1d");
                None
            }
            Err(e) => {
                self.error(&s.span(), &field, e);
                None
            }
        }
    }

    /// A byte count of at least `min` (and at most 1 TiB).
    fn bytes(&mut self, name: &str, raw: Option<&Spanned<Amount>>, min: u64) -> Option<usize> {
        let a = raw?;
        let field = format!("daemon.{name}");
        match amount(a.get_ref()) {
            Ok(n) if (min..=1 << 40).contains(&n) => usize::try_from(n).ok(),
            Ok(n) => {
                self.error(
                    &a.span(),
                    &field,
                    format!("{n} bytes is not from {min} to 1T"),
                );
                None
            }
            Err(e) => {
                self.error(&a.span(), &field, e);
                None
            }
        }
    }
}
