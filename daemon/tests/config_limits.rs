//! `[daemon]` limits on unauthenticated work (COOKIE thresholds and secret rotation, half-open
//! counts, bytes and source prefixes, certificate chain work): mapped onto the engine's
//! configuration, and a bad value is an error naming file, line and field.

#[path = "common/text.rs"]
mod text;

use std::path::Path;
use std::time::Duration;

use iked::config::{Config, IkeLimits};
use ikev2::EndpointConfig;
use text::{FILE, with_daemon_settings};

fn engine(daemon_extra: &str) -> EndpointConfig {
    let config =
        Config::parse(Path::new(FILE), &with_daemon_settings(daemon_extra)).expect("valid");
    let mut e = EndpointConfig::default();
    config.daemon.limits.apply(&mut e);
    e
}

fn error_of(daemon_extra: &str) -> String {
    match Config::parse(Path::new(FILE), &with_daemon_settings(daemon_extra)) {
        Ok(_) => panic!("expected an error for {daemon_extra:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn absent_fields_keep_the_engine_defaults() {
    let config = Config::parse(Path::new(FILE), &with_daemon_settings("")).expect("valid");
    assert_eq!(config.daemon.limits, IkeLimits::default());
    let e = engine("");
    let d = EndpointConfig::default();
    assert_eq!(e.half_open_memory, d.half_open_memory);
    assert_eq!(e.source_prefix_v6, 64);
    assert_eq!(e.cookie_threshold, d.cookie_threshold);
}

#[test]
fn every_field_reaches_the_engine() {
    let e = engine(
        "cookie_threshold = 50\ncookie_threshold_ip = 2\nblock_threshold = 4\n\
         half_open_limit = 9000\nhalf_open_timeout = \"10s\"\nhalf_open_memory = \"16M\"\n\
         half_open_sa_memory = \"48K\"\nsource_prefix_v4 = 24\nsource_prefix_v6 = 56\n\
         cookie_secret_lifetime = \"2m\"\ncookie_grace = \"5s\"\nmax_chain_signature_checks = 8\n",
    );
    assert_eq!(e.cookie_threshold, 50);
    assert_eq!(e.cookie_threshold_per_source, 2);
    assert_eq!(e.half_open_limit_per_source, 4);
    assert_eq!(e.half_open_limit, 9000);
    assert_eq!(e.half_open_timeout, Duration::from_secs(10));
    assert_eq!(e.half_open_memory, 16 << 20);
    assert_eq!(e.half_open_sa_memory, 48 << 10);
    assert_eq!(e.source_prefix_v4, 24);
    assert_eq!(e.source_prefix_v6, 56);
    assert_eq!(e.cookie_secret_lifetime, Duration::from_secs(120));
    assert_eq!(e.cookie_grace, Duration::from_secs(5));
    assert_eq!(e.max_chain_signature_checks, 8);
    // A plain number of bytes too.
    assert_eq!(
        engine("half_open_memory = 2000000\n").half_open_memory,
        2_000_000
    );
}

#[test]
fn bad_values_name_file_line_and_field() {
    let cases = [
        (
            "source_prefix_v6 = 129\n",
            "/etc/iked/iked.toml:3: daemon.source_prefix_v6: 129 is not a number from 0 to 128",
        ),
        (
            "source_prefix_v4 = -1\n",
            "/etc/iked/iked.toml:3: daemon.source_prefix_v4: -1 is not a number from 0 to 32",
        ),
        (
            "half_open_memory = \"12X\"\n",
            "/etc/iked/iked.toml:3: daemon.half_open_memory: unknown unit 'X' in '12X' (use K, M, G or T)",
        ),
        (
            "half_open_memory = 1000\n",
            "/etc/iked/iked.toml:3: daemon.half_open_memory: 1000 bytes is not from 1048576 to 1T",
        ),
        (
            "half_open_sa_memory = \"1K\"\n",
            "/etc/iked/iked.toml:3: daemon.half_open_sa_memory: 1024 bytes is not from 8192 to 1T",
        ),
        (
            "cookie_grace = \"0s\"\n",
            "/etc/iked/iked.toml:3: daemon.cookie_grace: must be above 0 and at most 1d",
        ),
        (
            "cookie_secret_lifetime = \"soon\"\n",
            "/etc/iked/iked.toml:3: daemon.cookie_secret_lifetime: 'soon' is not a duration (e.g. 30s, 5m, 4h, 1d)",
        ),
        (
            "max_chain_signature_checks = 0\n",
            "/etc/iked/iked.toml:3: daemon.max_chain_signature_checks: 0 is not a number from 1 to 1000",
        ),
        (
            "block_threshold = 20000000\n",
            "/etc/iked/iked.toml:3: daemon.block_threshold: 20000000 is not a number from 0 to 10000000",
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(error_of(extra), want, "for {extra:?}");
    }
}
