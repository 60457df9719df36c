//! Every bound of the inner stack, reached: queues, TCP buffers, sockets, backlog, MTU.

#![allow(clippy::unwrap_used)]

mod inner_sim;

use fiveg_emu::inner::{CloseReason, ConnError, InnerStack, PushError, StackConfig, StackEvent};
use inner_sim::{
    NAS_IP, NAS_PORT, Net, Pump, Rng, UE_INNER, crafted_links, ip, ipv4_udp, nas_addr,
};

fn net_with(ue: impl FnOnce(&mut StackConfig), n3iwf: impl FnOnce(&mut StackConfig)) -> Net {
    let (ue_link, n3iwf_link) = crafted_links(true);
    let mut ue_cfg = StackConfig::new(ip(UE_INNER));
    ue(&mut ue_cfg);
    let mut n3iwf_cfg = StackConfig::new(ip(NAS_IP));
    n3iwf(&mut n3iwf_cfg);
    Net::with_configs(ue_link, ue_cfg, n3iwf_link, n3iwf_cfg)
}

#[test]
fn receive_queue_and_mtu_bounds_refuse_and_count() {
    let mut config = StackConfig::new(ip(UE_INNER));
    config.rx_queue_packets = 4;
    config.mtu = 600;
    let mut stack = InnerStack::new(config, std::time::Instant::now());
    let packet = ipv4_udp(NAS_IP, UE_INNER, (1, 2), &[0; 100]);
    for _ in 0..4 {
        stack.push_inbound(&packet).unwrap();
    }
    assert_eq!(stack.push_inbound(&packet), Err(PushError::QueueFull));
    let big = ipv4_udp(NAS_IP, UE_INNER, (1, 2), &[0; 600]);
    assert_eq!(stack.push_inbound(&big), Err(PushError::TooLarge));
    let c = stack.counters();
    assert_eq!((c.rx_queue_full, c.rx_too_large), (1, 1));
    assert_eq!(stack.queued(), (4, 0));
}

/// A transmit queue of two packets holds the stack back without losing anything.
#[test]
fn small_transmit_queue_stalls_the_sender_but_loses_nothing() {
    let mut net = net_with(|c| c.tx_queue_packets = 2, |_| {});
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let size = 256 * 1024;
    let mut ue = Pump::new(Rng(1).bytes(size));
    let mut n3iwf = Pump::default();
    assert!(net.run(50_000, |net| {
        ue.pump(&mut net.ue.stack, ue_conn);
        n3iwf.pump(&mut net.n3iwf.stack, n3iwf_conn);
        n3iwf.received.len() == size
    }));
    assert!(n3iwf.received == ue.to_send);
    assert!(net.ue.stack.counters().tx_queue_full > 0);
}

#[test]
fn send_buffer_takes_what_fits() {
    let mut net = net_with(|c| c.tcp_tx_buffer = 4096, |_| {});
    let (ue_conn, _) = net.open_nas_connection();
    let data = vec![0x55; 10_000];
    assert_eq!(net.ue.stack.send(ue_conn, &data), Ok(4096));
    assert_eq!(net.ue.stack.send(ue_conn, &data), Ok(0));
    assert_eq!(net.ue.stack.send_queue(ue_conn), Ok((4096, 4096)));
}

/// A receiver that does not read fills its buffer; the window closes and the sender waits;
/// reading reopens it and everything arrives.
#[test]
fn receive_buffer_fills_and_the_window_closes() {
    let mut net = net_with(|_| {}, |c| c.tcp_rx_buffer = 8192);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let size = 64 * 1024;
    let mut ue = Pump::new(Rng(2).bytes(size));
    net.run(2000, |net| {
        ue.pump(&mut net.ue.stack, ue_conn);
        net.n3iwf.stack.recv_queue(n3iwf_conn) == Ok(8192)
    });
    assert_eq!(net.n3iwf.stack.recv_queue(n3iwf_conn), Ok(8192));
    let mut n3iwf = Pump::default();
    assert!(net.run(50_000, |net| {
        ue.pump(&mut net.ue.stack, ue_conn);
        n3iwf.pump(&mut net.n3iwf.stack, n3iwf_conn);
        n3iwf.received.len() == size
    }));
    assert!(n3iwf.received == ue.to_send);
}

#[test]
fn socket_limit_refuses_connections_and_starves_the_listener() {
    let mut net = net_with(
        |c| c.max_sockets = 3,
        |c| {
            c.max_sockets = 2;
            c.listen_backlog = 1;
        },
    );
    let (first, _) = net.open_nas_connection();
    let second = net.ue.stack.connect(nas_addr()).unwrap();
    let third = net.ue.stack.connect(nas_addr()).unwrap();
    assert_eq!(
        net.ue.stack.connect(nas_addr()),
        Err(ConnError::TooManyConnections)
    );
    // The N3IWF's two sockets: the first connection and one listening socket.
    let refused = |c| StackEvent::Closed(c, CloseReason::Refused);
    assert!(
        net.run(1000, |net| {
            let accepted = net
                .n3iwf
                .events
                .iter()
                .filter(|e| matches!(e, StackEvent::Accepted { .. }))
                .count();
            accepted == 2 && net.ue.events.contains(&refused(third))
        }),
        "UE {:?}",
        net.ue.events
    );
    assert!(net.ue.events.contains(&StackEvent::Connected(second)));
    assert!(net.n3iwf.stack.counters().listener_starved > 0);
    assert_eq!(
        net.n3iwf.stack.listen(NAS_PORT + 1),
        Err(ConnError::TooManyConnections)
    );
    // Resetting one frees the N3IWF's socket, and its listener re-arms.
    net.ue.stack.abort(first).unwrap();
    let fourth = net.ue.stack.connect(nas_addr()).unwrap();
    assert!(net.run(1000, |net| {
        net.ue.events.contains(&StackEvent::Connected(fourth))
    }));
}

/// A backlog of one: a second SYN arriving while the first handshake is open finds no
/// listening socket and is refused.
#[test]
fn backlog_of_one_refuses_a_simultaneous_second_connection() {
    let mut net = net_with(|_| {}, |c| c.listen_backlog = 1);
    net.n3iwf.stack.listen(NAS_PORT).unwrap();
    assert_eq!(net.n3iwf.stack.listen(NAS_PORT), Err(ConnError::PortInUse));
    let a = net.ue.stack.connect(nas_addr()).unwrap();
    let b = net.ue.stack.connect(nas_addr()).unwrap();
    assert!(
        net.run(1000, |net| {
            net.ue.events.contains(&StackEvent::Connected(a))
                && net
                    .ue
                    .events
                    .contains(&StackEvent::Closed(b, CloseReason::Refused))
        }),
        "{:?}",
        net.ue.events
    );
}
