//! IKE datagrams are admitted per source before they are queued for the engine; what is dropped
//! is counted in `ikectl stats` and the metrics.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{HYBRID, TestDaemon, site, wait_for};
use iked::proto::{Command, StatsView};

fn stats(d: &TestDaemon) -> StatsView {
    d.client()
        .call_as(Command::Stats, Some(Duration::from_secs(5)))
        .expect("stats")
}

#[test]
fn a_source_beyond_its_rate_is_dropped_and_counted() {
    let d = TestDaemon::start(
        &site("any", "b", "a", None, "none", HYBRID),
        "ike_rate_per_source = 10",
    );
    let flooder = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let target = ("127.0.0.1", d.ike_port());
    for i in 0..100u8 {
        flooder.send_to(&[i; 40], target).expect("send");
    }
    let counted = wait_for(Duration::from_secs(10), || {
        let s = stats(&d);
        let limited = s.daemon.get("ike_datagrams_rate_limited").copied()?;
        let received = s.engine.get("datagrams_received").copied()?;
        (limited + received >= 100).then_some((limited, received))
    });
    let (limited, received) = counted.expect("all 100 datagrams accounted for");
    // A burst of one second's worth (10), plus what refilled while sending.
    assert!((10..=15).contains(&received), "admitted {received}");
    assert_eq!(limited + received, 100);
    let text = iked::render_metrics(&stats(&d));
    assert!(
        text.contains(&format!("iked_ike_datagrams_rate_limited_total {limited}")),
        "{text}"
    );
    assert!(text.contains("iked_ike_datagrams_queue_full_total 0"));
}

#[test]
fn the_rate_is_checked_when_loading() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("iked.toml");
    std::fs::write(&path, "[daemon]\nike_rate_per_source = -1\n").expect("write");
    let e = match iked::config::Config::load(&path) {
        Ok(_) => panic!("accepted"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        e,
        format!(
            "{}:2: daemon.ike_rate_per_source: -1 is not a rate from 0 (no limit) to 1000000 datagrams per second",
            path.display()
        )
    );
}
