//! A UE on NWu in this process: our IKEv2 engine as initiator with EAP (the N3IWF
//! authenticated by its certificate), the emulated UE's EAP-5G and NAS side answering the EAP
//! requests, and a UDP socket to the daemon's IKE port. KN3IWF, which the UE derives itself,
//! is its MSK: the final AUTH verifies only if the N3IWF was given the same key by the AMF.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fiveg_emu::amf::node::{guami, plmn as ngap_plmn};
use fiveg_emu::identity::{AmfId, Plmn, Supi};
use fiveg_emu::nas::{Nssai, SNssai, UeSecurityCapability};
use fiveg_emu::secret::{Opc, SubscriberKey};
use fiveg_emu::ue::{NwuUe, PeerStep, UeConfig, UeNas};
use fiveg_emu::ue_sim::params::{any, pem_der};
use fiveg_emu::values::Sqn;
use ikev2::wire::{IdType, Identification, IpSelector, NotifyType};
use ikev2::{
    AuthConfig, CertificateAuth, ChildConfig, CloseReason, ConfigReply, ConnectionConfig, EapStep,
    Endpoint, EndpointConfig, EspSpi, Event, FinalAuthReply, Identity, ProposalSpec, SaId,
};
use ipsec_crypto::SecretBytes;
use n3iwf::wire::an_params::{AnParameters, EstablishmentCause};
use n3iwf::wire::notify3gpp::N3gppNotify;

/// TS 35.208 test set 1 (the emulated AMF's default subscriber).
const K: [u8; 16] = [
    0x46, 0x5b, 0x5c, 0xe8, 0xb1, 0x99, 0xb4, 0x9f, 0xaa, 0x5f, 0x0a, 0x2e, 0xe2, 0x38, 0xa6, 0xbc,
];
const OPC: [u8; 16] = [
    0xcd, 0x63, 0xcb, 0x71, 0x95, 0x4a, 0x9f, 0x4e, 0x48, 0xa5, 0x99, 0x4e, 0x37, 0xa0, 0x2b, 0xaf,
];

pub(crate) struct Ue {
    endpoint: Endpoint,
    conn: Arc<ConnectionConfig>,
    socket: UdpSocket,
    n3iwf: SocketAddr,
    nwu: NwuUe,
    pub(crate) sa: Option<SaId>,
    pub(crate) established: bool,
    pub(crate) children: usize,
    pub(crate) eap_failure: bool,
    pub(crate) failed: Option<String>,
    pub(crate) closed: bool,
    /// What the final IKE_AUTH response gave: the CFG_REPLY and the 3GPP notifies.
    pub(crate) config: Option<ConfigReply>,
    pub(crate) notifies: Vec<N3gppNotify>,
    /// The signalling SA's selectors: (ours, the N3IWF's).
    pub(crate) signalling_ts: Option<(Vec<IpSelector>, Vec<IpSelector>)>,
    /// The inbound SPI of the newest Child SA.
    pub(crate) child_spi: Option<EspSpi>,
    /// Child SAs deleted, and IKE SA rekeys completed.
    pub(crate) children_deleted: usize,
    pub(crate) ike_rekeys: usize,
}

impl Ue {
    /// Subscriber 1 of the emulated AMF's PLMN, towards the daemon's IKE port, trusting the
    /// CA in `pki`.
    pub(crate) fn new(ike_port: u16, pki: &Path) -> Self {
        let plmn = Plmn::new("208", "93").expect("plmn");
        let nas = UeNas::new(UeConfig {
            supi: Supi::new(plmn, "0000000001").expect("supi"),
            k: SubscriberKey::from_bytes(K),
            opc: Opc::from_bytes(OPC),
            sqn_ms: Sqn::new(0x10).expect("sqn"),
            serving_plmn: plmn,
            capability: UeSecurityCapability::new(0xA0, 0x20),
            requested_nssai: Some(Nssai(vec![SNssai::new(1, None)])),
        });
        let amf_id = AmfId::new(0xca, 0x3fe, 0x01).expect("amf id");
        let an = AnParameters {
            guami: Some(guami(plmn, amf_id)),
            selected_plmn: Some(ngap_plmn(plmn)),
            establishment_cause: Some(EstablishmentCause::MO_SIGNALLING),
            ..AnParameters::default()
        };
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(10)))
            .expect("timeout");
        let provider = ipsec_crypto::default_provider();
        let conn = connection(pki);
        let config = EndpointConfig {
            connections: vec![Arc::clone(&conn)],
            ..EndpointConfig::default()
        };
        let mut endpoint = Endpoint::new(config, provider);
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        endpoint.set_unix_time(Instant::now(), unix);
        Self {
            endpoint,
            conn,
            socket,
            n3iwf: SocketAddr::from(([127, 0, 0, 1], ike_port)),
            nwu: NwuUe::new(nas, an),
            sa: None,
            established: false,
            children: 0,
            eap_failure: false,
            failed: None,
            closed: false,
            config: None,
            notifies: Vec::new(),
            signalling_ts: None,
            child_spi: None,
            children_deleted: 0,
            ike_rekeys: 0,
        }
    }

    /// Starts IKE_SA_INIT.
    pub(crate) fn connect(&mut self) {
        let conn = Arc::clone(&self.conn);
        let local = self.socket.local_addr().expect("addr");
        let sa = self
            .endpoint
            .connect(Instant::now(), conn, local, self.n3iwf)
            .expect("connect");
        self.sa = Some(sa);
    }

    /// Rekeys the newest Child SA (CREATE_CHILD_SA from the UE).
    pub(crate) fn rekey_child(&mut self) {
        let (sa, spi) = (
            self.sa.expect("an IKE SA"),
            self.child_spi.expect("a Child SA"),
        );
        self.endpoint
            .rekey_child(Instant::now(), sa, spi)
            .expect("rekey the Child SA");
    }

    /// Rekeys the IKE SA (CREATE_CHILD_SA from the UE).
    pub(crate) fn rekey_ike(&mut self) {
        let sa = self.sa.expect("an IKE SA");
        self.endpoint
            .rekey_ike(Instant::now(), sa)
            .expect("rekey the IKE SA");
    }

    /// Deletes the IKE SA (the UE leaves).
    pub(crate) fn close(&mut self) {
        if let Some(sa) = self.sa {
            // Gone already when the N3IWF ended it first.
            let _ = self.endpoint.close(Instant::now(), sa);
        }
    }

    /// Runs the exchanges until `done` holds or `limit` passes; returns whether it held.
    pub(crate) fn run_until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            self.step();
            if done(self) {
                return true;
            }
        }
        false
    }

    fn step(&mut self) {
        while let Some(t) = self.endpoint.poll_transmit() {
            let _ = self.socket.send_to(&t.data, t.remote);
        }
        let mut buf = [0u8; 65_536];
        if let Ok((n, from)) = self.socket.recv_from(&mut buf) {
            let local = self.socket.local_addr().expect("addr");
            self.endpoint
                .handle_datagram(Instant::now(), local, from, &buf[..n]);
        }
        if self
            .endpoint
            .poll_timeout()
            .is_some_and(|t| t <= Instant::now())
        {
            self.endpoint.handle_timeout(Instant::now());
        }
        while let Some(event) = self.endpoint.poll_event() {
            self.event(event);
        }
    }

    fn event(&mut self, event: Event) {
        match event {
            Event::EapMessage { sa, message } => self.eap(sa, &message),
            Event::IkeSaEstablished { .. } => self.established = true,
            Event::ChildSaEstablished { child, .. } => {
                self.children += 1;
                self.child_spi = Some(child.inbound_spi);
                self.signalling_ts = Some((child.local_ts, child.remote_ts));
            }
            Event::AuthReply {
                config, notifies, ..
            } => {
                self.config = config;
                self.notifies = notifies
                    .iter()
                    .map(|n| {
                        N3gppNotify::parse_data(NotifyType(n.notify_type), &n.data)
                            .expect("a well-formed 3GPP notify")
                            .expect("a 3GPP notify")
                    })
                    .collect();
            }
            Event::IkeSaFailed { error, .. } => self.failed = Some(error.to_string()),
            Event::ChildSaDeleted { .. } => self.children_deleted += 1,
            Event::IkeSaRekeyed { new, .. } => {
                self.sa = Some(new);
                self.ike_rekeys += 1;
            }
            Event::IkeSaClosed { reason, .. } if reason != CloseReason::Rekeyed => {
                self.closed = true;
            }
            _ => {}
        }
    }

    /// The N3IWF's EAP Request or EAP-Success, answered by the UE's EAP-5G side.
    fn eap(&mut self, sa: SaId, message: &[u8]) {
        let step = match self.nwu.handle_eap(message) {
            PeerStep::Respond(packet) => EapStep::Message(packet),
            PeerStep::Success => {
                let kn3iwf = self.nwu.kn3iwf().expect("KN3IWF after EAP-Success");
                let msk = SecretBytes::from_slice(kn3iwf.dangerous_as_bytes());
                EapStep::Success {
                    msk: Some(msk),
                    reply: FinalAuthReply::default(),
                }
            }
            PeerStep::Failure | PeerStep::Ignored(_) => {
                self.eap_failure = true;
                EapStep::Failure
            }
        };
        self.endpoint
            .eap_respond(Instant::now(), sa, step)
            .expect("the IKE SA runs EAP");
    }
}

/// The UE's connection: EAP for itself, the N3IWF's certificate checked against our CA.
fn connection(pki: &Path) -> Arc<ConnectionConfig> {
    let ca = std::fs::read_to_string(pki.join("ca.pem")).expect("ca");
    let der = pem_der(&ca).expect("the CA's PEM");
    // TS 24.502 §7.3.2: the UE's IDi is a KEY_ID with a random value.
    let idi = Identity(Identification {
        id_type: IdType::KEY_ID,
        data: b"ue-0001".to_vec(),
    });
    let proposals = vec![ProposalSpec::parse_ike(HYBRID).expect("proposal")];
    let mut conn = ConnectionConfig::new("nwu", idi, &[], proposals);
    conn.auth = AuthConfig::Eap(Box::new(AuthConfig::Certificate(
        CertificateAuth::verify_only(&[der]).expect("ca"),
    )));
    conn.remote_id = Some(Identity::fqdn("n3iwf.example"));
    // TS 24.502 §7.3.2: the UE asks for its inner address.
    conn.request_internal_ip4 = true;
    let esp = vec![ProposalSpec::parse_esp("aes256gcm16").expect("esp")];
    conn.children = vec![ChildConfig::new(
        "signalling",
        esp,
        vec![any()],
        vec![any()],
    )];
    Arc::new(conn)
}

const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";
