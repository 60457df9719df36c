//! NAS messages over the inner TCP connection (TS 24.502 §9.4 framing): in order across any
//! segment split, under loss, and at each of the channel's bounds.

#![allow(clippy::unwrap_used)]

mod inner_sim;

use fiveg_emu::inner::{ConnError, NasChannel, NasChannelError, StackConfig};
use inner_sim::{Fate, NAS_IP, Net, Rng, UE_INNER, crafted_links, ip};
use n3iwf::wire::nas_envelope::{EnvelopeError, frame};

/// NAS-like messages of varied sizes, each starting with its index so order is checkable.
fn messages(count: usize, max_len: usize, seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|i| {
            let len = 2 + (rng.next() as usize % max_len);
            let mut m = rng.bytes(len);
            m[..2].copy_from_slice(&(i as u16).to_be_bytes());
            m
        })
        .collect()
}

fn small_mtu_net() -> Net {
    let (ue, n3iwf) = crafted_links(true);
    let mut ue_cfg = StackConfig::new(ip(UE_INNER));
    ue_cfg.mtu = 576;
    let mut n3iwf_cfg = StackConfig::new(ip(NAS_IP));
    n3iwf_cfg.mtu = 576;
    Net::with_configs(ue, ue_cfg, n3iwf, n3iwf_cfg)
}

/// The UE writes the framed stream in pieces of 1 to 40 octets, each its own TCP segment,
/// so that lengths and bodies are cut everywhere; the N3IWF's channel gives back every message
/// whole and in order.
#[test]
fn messages_cut_at_every_offset_arrive_whole_and_in_order() {
    let mut net = small_mtu_net();
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let sent = messages(60, 300, 7);
    let mut stream = Vec::new();
    for m in &sent {
        frame(m, &mut stream).unwrap();
    }
    let mut channel = NasChannel::new(n3iwf_conn);
    let (mut offset, mut rng, mut received) = (0, Rng(99), Vec::new());
    let segments_before = net.sent;
    let done = net.run(100_000, |net| {
        if offset < stream.len() {
            let piece = 1 + rng.next() as usize % 40;
            let end = (offset + piece).min(stream.len());
            offset += net.ue.stack.send(ue_conn, &stream[offset..end]).unwrap();
        }
        while let Some(m) = channel.recv(&mut net.n3iwf.stack).unwrap() {
            received.push(m);
        }
        received.len() == sent.len()
    });
    assert!(done, "{} of {} messages", received.len(), sent.len());
    assert_eq!(received, sent);
    // Far more segments than messages: the cuts really happened on the wire.
    assert!(net.sent - segments_before > 2 * sent.len());
}

/// Both channels at once, large messages crossing segment boundaries, with loss and
/// reordering on the outer wire.
#[test]
fn both_ways_in_order_under_loss() {
    let mut net = small_mtu_net();
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let mut rng = Rng(3);
    net.policy = Box::new(move |_, _, _| match rng.next() % 50 {
        0 => Fate::Drop,
        1..3 => Fate::Delay(std::time::Duration::from_millis(15)),
        _ => Fate::Deliver,
    });
    let (up, down) = (messages(40, 3000, 1), messages(40, 3000, 2));
    let mut ue = NasChannel::new(ue_conn);
    let mut n3iwf = NasChannel::new(n3iwf_conn);
    let (mut next_up, mut next_down) = (0, 0);
    let (mut got_up, mut got_down) = (Vec::new(), Vec::new());
    let done = net.run(200_000, |net| {
        queue(&mut ue, &mut net.ue.stack, &up, &mut next_up);
        queue(&mut n3iwf, &mut net.n3iwf.stack, &down, &mut next_down);
        while let Some(m) = n3iwf.recv(&mut net.n3iwf.stack).unwrap() {
            got_up.push(m);
        }
        while let Some(m) = ue.recv(&mut net.ue.stack).unwrap() {
            got_down.push(m);
        }
        got_up.len() == up.len() && got_down.len() == down.len()
    });
    assert!(
        done,
        "uplink {}/{}, downlink {}/{}",
        got_up.len(),
        up.len(),
        got_down.len(),
        down.len()
    );
    assert_eq!(got_up, up);
    assert_eq!(got_down, down);
    assert!(net.dropped > 0);
}

/// Sends the next messages while the outbox takes them, and flushes.
fn queue(
    channel: &mut NasChannel,
    stack: &mut fiveg_emu::inner::InnerStack,
    messages: &[Vec<u8>],
    next: &mut usize,
) {
    channel.flush(stack).unwrap();
    while let Some(m) = messages.get(*next) {
        match channel.send(stack, m) {
            Ok(()) => *next += 1,
            Err(NasChannelError::OutboxFull { .. }) => return,
            Err(e) => panic!("{e}"),
        }
    }
}

#[test]
fn outbox_bound_refuses_and_then_drains_in_order() {
    let (ue, n3iwf) = crafted_links(true);
    let mut ue_cfg = StackConfig::new(ip(UE_INNER));
    ue_cfg.tcp_tx_buffer = 1024;
    let mut net = Net::with_configs(ue, ue_cfg, n3iwf, StackConfig::new(ip(NAS_IP)));
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let mut ue = NasChannel::with_limits(ue_conn, 65_535, 4096, 2000);
    let sent = messages(10, 10, 5).into_iter().map(|mut m| {
        m.resize(500, 0x7e);
        m
    });
    let sent: Vec<Vec<u8>> = sent.collect();
    // 1024 octets go into TCP, the 2000-octet outbox takes the next 1988: six messages of 502.
    let mut accepted = 0;
    let error = loop {
        match ue.send(&mut net.ue.stack, &sent[accepted]) {
            Ok(()) => accepted += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(accepted, 6);
    assert_eq!(
        error,
        NasChannelError::OutboxFull {
            queued: 6 * 502 - 1024,
            message: 502,
            max: 2000
        }
    );
    let mut n3iwf = NasChannel::new(n3iwf_conn);
    let mut received = Vec::new();
    let mut next = accepted;
    assert!(net.run(10_000, |net| {
        queue(&mut ue, &mut net.ue.stack, &sent, &mut next);
        while let Some(m) = n3iwf.recv(&mut net.n3iwf.stack).unwrap() {
            received.push(m);
        }
        received.len() == sent.len()
    }));
    assert_eq!(received, sent);
    assert_eq!(ue.outbox_len(), 0);
}

#[test]
fn oversized_message_breaks_the_channel() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let mut ue = NasChannel::new(ue_conn);
    ue.send(&mut net.ue.stack, &[0x7e; 200]).unwrap();
    let mut n3iwf = NasChannel::with_limits(n3iwf_conn, 100, 1000, 1000);
    let mut result = Ok(None);
    net.run(1000, |net| {
        result = n3iwf.recv(&mut net.n3iwf.stack);
        result != Ok(None)
    });
    let too_large = EnvelopeError::MessageTooLarge {
        length: 200,
        max: 100,
    };
    assert_eq!(result, Err(NasChannelError::Envelope(too_large)));
    assert!(
        ue.send(&mut net.ue.stack, &[]).is_err(),
        "empty messages cannot be framed"
    );
}

/// The reader takes from TCP only what fits its bound; the rest waits in the TCP receive
/// buffer (and beyond it, in the window), not in memory of the channel.
#[test]
fn receive_bound_pushes_back_on_tcp() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    let sent: Vec<Vec<u8>> = (0..8u8).map(|i| vec![i; 1000]).collect();
    let mut ue = NasChannel::new(ue_conn);
    for m in &sent {
        ue.send(&mut net.ue.stack, m).unwrap();
    }
    let all = 8 * 1002;
    net.run(1000, |net| {
        net.n3iwf.stack.recv_queue(n3iwf_conn) == Ok(all)
    });
    let mut n3iwf = NasChannel::with_limits(n3iwf_conn, 1000, 1002, 1000);
    let first = n3iwf.recv(&mut net.n3iwf.stack).unwrap();
    assert_eq!(first.as_deref(), Some(&sent[0][..]));
    assert_eq!(n3iwf.buffered(), 0, "read exactly one envelope");
    assert_eq!(net.n3iwf.stack.recv_queue(n3iwf_conn), Ok(all - 1002));
    let rest: Vec<Vec<u8>> =
        std::iter::from_fn(|| n3iwf.recv(&mut net.n3iwf.stack).unwrap()).collect();
    assert_eq!(rest, sent[1..]);
}

#[test]
fn close_mid_message_and_after_the_last_message() {
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    // One whole message, then the start of a second, then FIN.
    net.ue
        .stack
        .send(ue_conn, &[0, 1, 0x7e, 0, 9, 1, 2])
        .unwrap();
    net.ue.stack.close(ue_conn).unwrap();
    let mut n3iwf = NasChannel::new(n3iwf_conn);
    net.run(1000, |net| {
        net.n3iwf
            .events
            .contains(&fiveg_emu::inner::StackEvent::PeerClosed(n3iwf_conn))
    });
    assert_eq!(n3iwf.recv(&mut net.n3iwf.stack), Ok(Some(vec![0x7e])));
    assert_eq!(
        n3iwf.recv(&mut net.n3iwf.stack),
        Err(NasChannelError::TruncatedAtClose { buffered: 4 })
    );
    // A peer that closes between messages ends the channel cleanly.
    let (ue, n3iwf) = crafted_links(true);
    let mut net = Net::new(ue, n3iwf);
    let (ue_conn, n3iwf_conn) = net.open_nas_connection();
    NasChannel::new(ue_conn)
        .send(&mut net.ue.stack, &[0x7e, 0x00, 0x43])
        .unwrap();
    net.ue.stack.close(ue_conn).unwrap();
    let mut n3iwf = NasChannel::new(n3iwf_conn);
    net.run(1000, |net| {
        net.n3iwf.stack.state(n3iwf_conn) != Ok(fiveg_emu::inner::TcpState::Established)
    });
    assert_eq!(
        n3iwf.recv(&mut net.n3iwf.stack),
        Ok(Some(vec![0x7e, 0x00, 0x43]))
    );
    assert_eq!(
        n3iwf.recv(&mut net.n3iwf.stack),
        Err(NasChannelError::Conn(ConnError::Finished))
    );
}
