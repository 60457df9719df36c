//! Configuration checks, and inputs about IKE SAs, connections and AMFs the core does not know.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use n3iwf::node::{ConfigError, N3iwfConfig};
use n3iwf::{AmfRef, IkeSaRef, N3iwf, NasConnId, StreamId};

use crate::amf_selection::config;

fn refused(edit: impl FnOnce(&mut N3iwfConfig)) -> &'static str {
    let mut config = config(1);
    edit(&mut config);
    match N3iwf::new(config) {
        Err(ConfigError { field, .. }) => field,
        Ok(_) => "accepted",
    }
}

#[test]
fn bad_configurations_name_their_field() {
    assert_eq!(refused(|_| {}), "accepted");
    assert_eq!(refused(|c| c.amfs.clear()), "amfs");
    assert_eq!(refused(|c| c.supported_tas.clear()), "supported_tas");
    assert_eq!(
        refused(|c| c.supported_tas[0].broadcast_plmns[0].slices.clear()),
        "supported_tas"
    );
    assert_eq!(refused(|c| c.inner_pool.prefix_len = 31), "inner_pool");
    assert_eq!(
        refused(|c| c.inner_pool.network = Ipv4Addr::new(10, 0, 0, 1)),
        "inner_pool"
    );
    assert_eq!(refused(|c| c.nas_tcp_port = 0), "nas_tcp_port");
    assert_eq!(refused(|c| c.limits.max_ues = 0), "limits.max_ues");
    assert_eq!(
        refused(|c| c.limits.dl_nas_queue = 0),
        "limits.dl_nas_queue"
    );
    assert_eq!(
        refused(|c| c.limits.max_nas_message = 70_000),
        "limits.max_nas_message"
    );
    assert_eq!(
        refused(|c| c.timers.amf_answer = Duration::ZERO),
        "timers.amf_answer"
    );
}

#[test]
fn inputs_about_unknown_things_are_counted_and_ignored() {
    let mut node = N3iwf::new(config(1)).unwrap();
    let now = Instant::now();
    node.handle_eap_message(IkeSaRef(9), &[2, 1, 0, 4], now);
    node.handle_signalling_sa_up(IkeSaRef(9), now);
    node.handle_nas_tcp_data(NasConnId(3), &[0, 1, 2], now);
    node.handle_n2_up(AmfRef(5), 2, now);
    node.handle_ngap(AmfRef(5), StreamId(0), &[0, 1], now);
    assert_eq!(node.stats().unknown_references, 5);
    assert!(node.poll_output().is_none());
    // A connection nobody may open is closed at once.
    node.handle_nas_tcp_connected(NasConnId(4), IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)), now);
    assert!(node.poll_output().is_some());
    assert_eq!(node.poll_timeout(), None);
}
