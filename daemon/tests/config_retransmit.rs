//! `[daemon]` retransmission settings (strongSwan's `retransmit_timeout`, `retransmit_tries`,
//! `retransmit_base`, `retransmit_limit`): mapped onto every connection's engine config, and a
//! bad value is an error naming file, line and field. The same for `keep_alive` (strongSwan's
//! `charon.keep_alive`), the NAT keepalive interval.

#[path = "common/text.rs"]
mod text;

use std::path::Path;
use std::time::Duration;

use iked::config::Config;
use text::{FILE, with_daemon_settings};

fn retransmit(daemon_extra: &str) -> ikev2::RetransmitConfig {
    let config =
        Config::parse(Path::new(FILE), &with_daemon_settings(daemon_extra)).expect("valid");
    config.connections[0].to_engine().retransmit
}

fn error_of(daemon_extra: &str) -> String {
    match Config::parse(Path::new(FILE), &with_daemon_settings(daemon_extra)) {
        Ok(_) => panic!("expected an error for {daemon_extra:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn defaults_give_up_after_31_5_seconds() {
    let rt = retransmit("");
    assert_eq!(rt.initial, Duration::from_millis(500));
    assert_eq!(rt.max_retransmits, 6);
    assert_eq!(rt.base, 2.0);
    assert_eq!(rt.max_interval, Duration::from_secs(8));
    assert_eq!(rt.give_up_after(), Duration::from_millis(31_500));
}

#[test]
fn strongswan_style_values_reach_the_engine() {
    let rt = retransmit(
        "retransmit_timeout = 0.25\nretransmit_tries = 2\nretransmit_base = 1.5\nretransmit_limit = 30\n",
    );
    assert_eq!(rt.initial, Duration::from_millis(250));
    assert_eq!(rt.max_retransmits, 2);
    assert_eq!(rt.base, 1.5);
    assert_eq!(rt.max_interval, Duration::from_secs(30));
    // 0.25 + 0.375 + 0.5625 s.
    assert_eq!(rt.give_up_after(), Duration::from_micros(1_187_500));
}

#[test]
fn bad_values_name_file_line_and_field() {
    let cases = [
        (
            "retransmit_timeout = 0\n",
            "/etc/iked/iked.toml:3: daemon.retransmit_timeout: 0 is not a number of seconds above 0 and at most 3600",
        ),
        (
            "retransmit_tries = -1\n",
            "/etc/iked/iked.toml:3: daemon.retransmit_tries: -1 is not a count from 0 to 100",
        ),
        (
            "\nretransmit_base = 0.5\n",
            "/etc/iked/iked.toml:4: daemon.retransmit_base: 0.5 is not a number from 1 to 10",
        ),
        (
            "retransmit_limit = 1e9\n",
            "/etc/iked/iked.toml:3: daemon.retransmit_limit: 1000000000 is not a number of seconds above 0 and at most 3600",
        ),
    ];
    for (extra, want) in cases {
        assert_eq!(error_of(extra), want);
    }
}

#[test]
fn a_string_is_a_type_error_with_a_line() {
    let e = error_of("retransmit_timeout = \"2s\"\n");
    assert!(e.starts_with("/etc/iked/iked.toml:3"), "{e}");
    assert!(e.contains("retransmit_timeout"), "{e}");
}

#[test]
fn keep_alive_reaches_the_engine_and_defaults_to_20_seconds() {
    let conn = |extra: &str| {
        let config = Config::parse(Path::new(FILE), &with_daemon_settings(extra)).expect("valid");
        config.connections[0].to_engine().nat_keepalive
    };
    assert_eq!(conn(""), Duration::from_secs(20));
    assert_eq!(conn("keep_alive = \"2s\"\n"), Duration::from_secs(2));
    assert_eq!(
        error_of("keep_alive = \"0s\"\n"),
        "/etc/iked/iked.toml:3: daemon.keep_alive: must be above 0 and at most 1d"
    );
    assert_eq!(
        error_of("keep_alive = \"2d\"\n"),
        "/etc/iked/iked.toml:3: daemon.keep_alive: must be above 0 and at most 1d"
    );
}
