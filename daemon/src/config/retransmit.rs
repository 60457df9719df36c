//! `[daemon]` retransmission settings, named and meant as strongSwan's (`charon.retransmit_*`):
//! the wait after send `n` is `retransmit_timeout * retransmit_base^n`, at most
//! `retransmit_limit`; after `retransmit_tries` retransmissions and one more wait the exchange
//! fails and the IKE SA with it (dead peer detection takes that long). `keep_alive` is the
//! interval of NAT keepalives, as `charon.keep_alive`.

use std::time::Duration;

use ikev2::RetransmitConfig;
use toml::Spanned;

use super::load::Validator;
use super::raw::RawDaemon;

/// The most retransmissions allowed (beyond this a dead peer would go unnoticed for ages).
const MAX_TRIES: i64 = 100;

impl Validator<'_> {
    /// The engine's schedule from `[daemon]` (defaults where a field is absent or wrong; a
    /// wrong value is an error naming its line).
    pub(super) fn retransmit(&mut self, raw: &RawDaemon) -> RetransmitConfig {
        let mut rt = RetransmitConfig::default();
        if let Some(t) = self.seconds("daemon.retransmit_timeout", raw.retransmit_timeout.as_ref())
        {
            rt.initial = t;
        }
        if let Some(l) = self.seconds("daemon.retransmit_limit", raw.retransmit_limit.as_ref()) {
            rt.max_interval = l;
        }
        if let Some(b) = &raw.retransmit_base {
            match *b.get_ref() {
                x if x.is_finite() && (1.0..=10.0).contains(&x) => rt.base = x,
                x => self.error(
                    &b.span(),
                    "daemon.retransmit_base",
                    format!("{x} is not a number from 1 to 10"),
                ),
            }
        }
        if let Some(n) = &raw.retransmit_tries {
            match u32::try_from(*n.get_ref()) {
                Ok(v) if i64::from(v) <= MAX_TRIES => rt.max_retransmits = v,
                _ => self.error(
                    &n.span(),
                    "daemon.retransmit_tries",
                    format!("{} is not a count from 0 to {MAX_TRIES}", n.get_ref()),
                ),
            }
        }
        rt
    }

    /// `keep_alive`: how often NAT keepalives are sent when we are behind a NAT (or force UDP
    /// encapsulation); `None` keeps the engine's default (20 s, as strongSwan's).
    pub(super) fn keep_alive(&mut self, raw: &RawDaemon) -> Option<Duration> {
        self.positive_duration("keep_alive", raw.keep_alive.as_ref())
    }

    /// A positive number of seconds, at most an hour.
    fn seconds(&mut self, field: &str, raw: Option<&Spanned<f64>>) -> Option<Duration> {
        let s = raw?;
        let secs = *s.get_ref();
        if secs.is_finite() && secs > 0.0 && secs <= 3600.0 {
            Some(Duration::from_secs_f64(secs))
        } else {
            self.error(
                &s.span(),
                field,
                format!("{secs} is not a number of seconds above 0 and at most 3600"),
            );
            None
        }
    }
}
