//! The SMF's session rules on the UPF emulator's control socket: what `amf-sim --upf-control`
//! writes for an established session is a rule `upf-sim` installs, and the release removes it.

#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use fiveg_emu::amf::AmfNodeEvent;
use fiveg_emu::amf::smf::SmfOutcome;
use fiveg_emu::amf::smf::{SessionKey, Smf, SmfConfig, Teid, TunnelEnd};
use fiveg_emu::amf_sim::UpfRules;
use fiveg_emu::nas::NasTransport;
use fiveg_emu::nas::sm::{
    Dnn, IntegrityProtectionMaxDataRate, PduSessionEstablishmentRequest, Pti, SmMessage, SmPdu,
};
use fiveg_emu::upf::UpfConfig;
use fiveg_emu::upf_sim::{N6Mode, UpfSim, UpfSimConfig};
use n3iwf::ids::PduSessionId;
use n3iwf::ngap::AmfUeNgapId;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::watch;

const WAIT: Duration = Duration::from_secs(5);

/// An established session of UE 0x100000, as the AMF reports it.
fn established(smf: &mut Smf) -> AmfNodeEvent {
    let request = SmPdu {
        pdu_session_id: PduSessionId(1),
        pti: Pti(1),
        message: SmMessage::PduSessionEstablishmentRequest(PduSessionEstablishmentRequest {
            integrity_max_rate: IntegrityProtectionMaxDataRate {
                uplink: IntegrityProtectionMaxDataRate::FULL,
                downlink: IntegrityProtectionMaxDataRate::FULL,
            },
            pdu_session_type: None,
            ssc_mode: None,
            other_ies: Vec::new(),
        }),
    };
    let mut transport = NasTransport::n1_sm(PduSessionId(1), request.encode().unwrap());
    transport.dnn = Dnn::new("internet");
    let SmfOutcome::Setup(setup) = smf.handle_uplink(0x10_0000, &transport) else {
        panic!("refused");
    };
    let n3iwf = TunnelEnd {
        address: IpAddr::V4(Ipv4Addr::LOCALHOST),
        teid: Teid(0x77),
    };
    let qfis = setup.flows.iter().map(|f| f.qfi).collect();
    let session = smf.on_setup_done(setup.key, n3iwf, qfis).unwrap();
    AmfNodeEvent::PduSessionEstablished {
        amf_ue: AmfUeNgapId::new(0x10_0000).unwrap(),
        supi: None,
        session,
    }
}

async fn command(lines: &mut BufReader<UnixStream>, line: &str) -> Value {
    let stream = lines.get_mut();
    stream
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(WAIT, lines.read_line(&mut answer))
        .await
        .unwrap()
        .unwrap();
    serde_json::from_str(&answer).unwrap_or_else(|e| panic!("{answer:?}: {e}"))
}

#[tokio::test]
async fn the_upf_emulator_installs_and_removes_the_rules_the_smf_writes() {
    let control = std::env::temp_dir().join(format!("amf-upf-{}.sock", std::process::id()));
    let config = UpfSimConfig {
        n3: "127.0.0.1:0".parse().unwrap(),
        n6: N6Mode::Reflect,
        control: Some(control.clone()),
        rules: Vec::new(),
        upf: UpfConfig {
            echo_interval: Duration::ZERO,
            ..UpfConfig::default()
        },
    };
    let sim = UpfSim::bind(config).await.unwrap();
    let (stop, shutdown) = watch::channel(false);
    let task = tokio::spawn(sim.run(shutdown));
    let mut lines = BufReader::new(UnixStream::connect(&control).await.unwrap());

    let mut smf = Smf::new(SmfConfig::default());
    let mut rules = UpfRules::default();
    let add = rules.line_for(1, &established(&mut smf)).unwrap();
    assert_eq!(command(&mut lines, &add).await["ok"], true, "{add}");
    assert_eq!(command(&mut lines, r#"{"stats": true}"#).await["rules"], 1);

    let key = SessionKey {
        ue: 0x10_0000,
        id: PduSessionId(1),
    };
    assert_eq!(smf.ue_gone(key.ue), [key]);
    let released = AmfNodeEvent::PduSessionReleased {
        amf_ue: AmfUeNgapId::new(0x10_0000).unwrap(),
        id: PduSessionId(1),
    };
    let remove = rules.line_for(1, &released).unwrap();
    assert_eq!(command(&mut lines, &remove).await["ok"], true, "{remove}");
    assert_eq!(command(&mut lines, r#"{"stats": true}"#).await["rules"], 0);

    stop.send(true).unwrap();
    task.await.unwrap();
}
