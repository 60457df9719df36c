//! The longest value each duration field takes. Beyond these a value is a typo rather than a
//! policy, and deadlines computed from it (`now + rekey_time`) could overflow. `docs/config.md`
//! lists them; the loader refuses a longer value with file:line:field.

use std::time::Duration;

const DAY: u64 = 86_400;

/// `dpd_delay`: a peer silent for a day is long gone.
pub(crate) const MAX_DPD_DELAY: Duration = Duration::from_secs(DAY);
/// `rekey_time`, `over_time`, `rand_time`, `reauth_time` and `life_time`, of IKE and Child
/// SAs: a year.
pub(crate) const MAX_LIFETIME: Duration = Duration::from_secs(365 * DAY);
/// `qkd.timeout`: the IKE exchange waits this long for the key.
pub(crate) const MAX_QKD_TIMEOUT: Duration = Duration::from_secs(60);
/// `qkd.timeout`: the least a KME round trip over TLS can be given.
pub(crate) const MIN_QKD_TIMEOUT: Duration = Duration::from_millis(100);

/// A bound as the configuration writes it (`365d`, `1d`, `60s`).
pub(crate) fn format(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{}ms", d.as_millis()),
        s if s % DAY == 0 => format!("{}d", s / DAY),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_print_as_written() {
        assert_eq!(format(MAX_LIFETIME), "365d");
        assert_eq!(format(MAX_DPD_DELAY), "1d");
        assert_eq!(format(MAX_QKD_TIMEOUT), "1m");
        assert_eq!(format(MIN_QKD_TIMEOUT), "100ms");
        assert_eq!(format(Duration::from_secs(7200)), "2h");
        assert_eq!(format(Duration::from_secs(61)), "61s");
    }
}
