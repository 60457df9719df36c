//! RFC 7296 §2.2: a response is matched to the request it answers, by Message ID and exchange,
//! and unauthenticated input never changes an SA. Against strongSwan 6, on the wire.
//!
//! strongSwan initiates a hybrid (X25519 + ML-KEM-768) tunnel, so iked's own first request
//! carries Message ID 0. iked rekeys the Child SA (`ikectl rekey`): strongSwan parses the
//! CREATE_CHILD_SA request 0 and answers, but its IKE messages to iked are held in its
//! namespace (nftables drops UDP from ports 500/4500 whose payload starts with the non-ESP
//! marker, and from port 500), so iked's request stays outstanding. Meanwhile a process in
//! strongSwan's namespace sends 100 bare 28-byte IKE headers to iked: IKE_SA_INIT, flags
//! Initiator|Response, Message ID 0, the SA's two SPIs, no payloads — 50 to port 4500 behind
//! the non-ESP marker, 50 to port 500. iked must keep its IKE SA and Child SA (same SPIs), count
//! the 100 datagrams as dropped, keep passing traffic, and, once strongSwan's answers are let
//! through, complete the rekey from the retransmission.
//!
//! Needs root and the lab.

use std::time::Duration;

use interop::{CONN, OurIkeSa, Pair, Role, Spec, TRANSFER_BYTES, WAIT, ping, pqlab_binary};

const PROPOSAL: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
const SPOOFS_PER_PORT: u32 = 50;

/// The forged response: IKE header only (RFC 7296 §3.1), 28 bytes.
fn forged_header(spi_i: &str, spi_r: &str) -> String {
    // Next Payload none, version 2.0, exchange IKE_SA_INIT (34), flags Initiator (0x08) and
    // Response (0x20): what the original initiator's answer looks like. Message ID 0, length 28.
    format!("{spi_i}{spi_r}00202228000000000000001c")
}

/// Drops strongSwan's IKE to iked (not its ESP) while the table exists.
fn hold_rules(table: &str) -> String {
    format!(
        "table inet {table} {{\n  chain out {{\n    type filter hook output priority filter;\n    \
         udp sport 4500 @th,64,32 0 drop\n    udp sport 500 drop\n  }}\n}}\n"
    )
}

fn nft(pair: &Pair, args: &[&str], input: Option<String>) {
    let mut c = pair.lab.right().command(&[&["nft"], args].concat());
    let out = interop::run_with_input(
        &mut c,
        input.map(String::into_bytes),
        Duration::from_secs(10),
    )
    .expect("nft in strongSwan's namespace");
    assert!(
        out.status.success(),
        "nft {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn send_spoofs(pair: &Pair, payload_hex: &str, port: u16) {
    let pqlab = pqlab_binary().expect("pqlab");
    let to = format!("{}:{port}", pair.lab.left().outer());
    let count = SPOOFS_PER_PORT.to_string();
    let mut c = pair.lab.right().host_command(pqlab);
    c.args([
        "udp-send",
        "--to",
        &to,
        "--hex",
        payload_hex,
        "--count",
        &count,
    ]);
    interop::run_ok(&mut c, Duration::from_secs(10)).expect("pqlab udp-send");
}

fn one_child(sas: &[OurIkeSa]) -> Option<OurIkeSa> {
    match sas {
        [sa] if sa.state == "established" && sa.children.len() == 1 => Some(sa.clone()),
        _ => None,
    }
}

fn dropped_unexpected(pair: &Pair) -> u64 {
    pair.iked
        .counter("engine", "dropped_unexpected")
        .expect("counter")
}

#[test]
fn forged_ike_sa_init_responses_do_not_close_the_sa() {
    let test = "rfc7296_spoofed_response::forged_ike_sa_init_responses_do_not_close_the_sa";
    let Some(pair) = Pair::start(test, Spec::new("spoof", PROPOSAL, "aes256gcm16")) else {
        return;
    };
    let (ours, peer) = pair.establish(Role::PeerInitiates);
    let spi_i = peer.fields.get("initiator-spi").expect("initiator-spi");
    let spi_r = peer.fields.get("responder-spi").expect("responder-spi");
    assert_eq!(spi_r, &ours.id, "iked answered, so its SPI is SPIr");
    let child = ours.children[0].clone();

    // Hold strongSwan's answers, then let iked send its request 0.
    let table = format!("pqhold{}", std::process::id());
    nft(&pair, &["-f", "-"], Some(hold_rules(&table)));
    let mark = pair.charon.log_mark();
    let iked_mark = pair.iked.log_mark();
    let rekey_args = ["--json", "rekey", CONN, "--child", CONN, "--timeout", "30"];
    let rekeyed = std::thread::scope(|s| {
        let rekey = s.spawn(|| pair.iked.ikectl_status(&rekey_args).expect("ikectl rekey"));
        pair.charon
            .wait_log(mark, "parsed CREATE_CHILD_SA request 0", WAIT)
            .expect("strongSwan received iked's request 0");
        spoof_while_held(&pair, spi_i, spi_r, &ours, iked_mark);
        assert!(
            !rekey.is_finished(),
            "the rekey must still wait for strongSwan's answer"
        );
        // strongSwan's answer goes through on iked's retransmission: the rekey completes.
        nft(&pair, &["delete", "table", "inet", &table], None);
        let out = rekey.join().expect("ikectl thread");
        assert!(
            out.status.success(),
            "ikectl rekey: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        pair.iked
            .wait_sas(WAIT, |s| {
                one_child(s).filter(|sa| sa.children[0].inbound_spi != child.inbound_spi)
            })
            .expect("the new Child SA alone")
    });
    assert_eq!(rekeyed.id, ours.id, "the IKE SA stayed");
    pair.check_traffic(TRANSFER_BYTES);
    interop::report(&format!(
        "iked dropped {} forged IKE_SA_INIT responses (Message ID 0) with a CREATE_CHILD_SA \
         outstanding; Child SA {} -> {}",
        2 * SPOOFS_PER_PORT,
        child.inbound_spi,
        rekeyed.children[0].inbound_spi
    ));
}

/// Sends the forged responses while iked's request 0 is outstanding, and checks that nothing
/// changed: the drops are counted, the SAs are the same, traffic flows.
fn spoof_while_held(pair: &Pair, spi_i: &str, spi_r: &str, ours: &OurIkeSa, iked_mark: usize) {
    let before = dropped_unexpected(pair);
    let header = forged_header(spi_i, spi_r);
    assert_eq!(header.len(), 56, "28 bytes");
    send_spoofs(pair, &format!("00000000{header}"), 4500);
    send_spoofs(pair, &header, 500);
    let all = u64::from(2 * SPOOFS_PER_PORT);
    interop::wait_until(Duration::from_secs(10), || {
        (dropped_unexpected(pair) >= before + all).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "iked counted {} of {all} forged responses as dropped",
            dropped_unexpected(pair) - before
        )
    });
    let now =
        one_child(&pair.iked.list_sas().expect("list-sas")).expect("one IKE SA, one Child SA");
    assert_eq!(now.id, ours.id, "the same IKE SA");
    let (was, is) = (&ours.children[0], &now.children[0]);
    assert_eq!(
        (&is.inbound_spi, &is.outbound_spi),
        (&was.inbound_spi, &was.outbound_spi),
        "the same Child SA"
    );
    let log = pair.iked.log();
    assert!(
        !log[iked_mark..].contains("IKE SA closed"),
        "iked logged a closed IKE SA:\n{log}"
    );
    let (l, r) = (pair.lab.left(), pair.lab.right());
    let p = ping(r, l.inner(), 3).expect("ping strongSwan -> iked");
    assert_eq!(p.received, 3, "traffic while the rekey is held: {p:?}");
}
