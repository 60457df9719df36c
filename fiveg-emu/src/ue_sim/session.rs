//! One emulated UE on its own UDP socket: IKE_SA_INIT and IKE_INTERMEDIATE with our IKEv2
//! engine as initiator, IKE_AUTH with EAP-5G ([`NwuUe`]) and KN3IWF as MSK, then the
//! signalling Child SA as an [`EspLink`] with an [`InnerStack`] that connects to the NAS
//! address and carries NAS over TCP until REGISTRATION COMPLETE is sent.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use esp::natt::{self, NatTPayload};
use ikev2::wire::NotifyType;
use ikev2::{
    ChildSa, ConfigReply, ConnectionConfig, EapStep, Endpoint, EndpointConfig, Event,
    FinalAuthReply, SaId, StatusNotify,
};
use ipsec_crypto::{CryptoProvider, SecretBytes};
use n3iwf::wire::notify3gpp::N3gppNotify;
use serde::Serialize;
use tokio::net::UdpSocket;

use super::params::UeParams;
use super::subscribers::UsimSpec;
use super::summary::{Phase, UeReport};
use super::user_plane;
use crate::inner::{ConnId, EspLink, InnerStack, Received, StackConfig, StackEvent};
use crate::ue::{NwuUe, PeerStep, UeEvent};

mod pdu;
mod setup;

pub use pdu::PduSessionReport;

/// IKE header octets (RFC 7296 §3.1) the timings read.
const EXCHANGE_TYPE: usize = 18;
const FLAGS: usize = 19;
const RESPONSE_FLAG: u8 = 0x20;
const IKE_SA_INIT: u8 = 34;
const IKE_AUTH: u8 = 35;
const IKE_INTERMEDIATE: u8 = 43;
const CREATE_CHILD_SA: u8 = 36;
const NAT_T_PORT: u16 = 4500;
/// Largest datagram read (IKE fragments and ESP stay well below).
const DATAGRAM: usize = 9216;

/// Why a UE did not register.
#[derive(Clone, Debug, Serialize)]
pub struct UeFailure {
    pub index: usize,
    pub supi: String,
    /// Where it was: ike-sa-init, ike-auth, signalling-sa, nas-tcp, registration.
    pub stage: &'static str,
    pub error: String,
}

/// A UE's result.
pub type Outcome = Result<UeReport, UeFailure>;

#[derive(Default)]
struct Marks {
    init_sent: Option<Instant>,
    init_answered: Option<Instant>,
    intermediate_answered: Option<Instant>,
    auth_sent: Option<Instant>,
    child_up: Option<Instant>,
    tcp_up: Option<Instant>,
}

/// One UE and its sockets.
pub struct Session {
    index: usize,
    params: Arc<UeParams>,
    provider: &'static dyn CryptoProvider,
    endpoint: Endpoint,
    conn: Arc<ConnectionConfig>,
    socket: UdpSocket,
    local: SocketAddr,
    nwu: NwuUe,
    report: UeReport,
    t0: Instant,
    marks: Marks,
    stage: &'static str,
    sa: Option<SaId>,
    link: Option<EspLink>,
    stack: Option<InnerStack>,
    tcp: Option<ConnId>,
    inner: Option<Ipv4Addr>,
    nas: Option<SocketAddrV4>,
    uplink: Vec<u8>,
    accepted: bool,
    registered: bool,
    closed: bool,
    pdu: pdu::PduState,
}

impl Session {
    /// A UE with its own socket towards the N3IWF.
    ///
    /// # Errors
    /// When the socket or the connection cannot be set up.
    pub fn new(
        index: usize,
        usim: &UsimSpec,
        params: Arc<UeParams>,
        provider: &'static dyn CryptoProvider,
    ) -> Result<Self, String> {
        let local_ip = source_address(params.bind, params.n3iwf)?;
        let std = StdUdpSocket::bind((local_ip, 0)).map_err(|e| format!("bind {local_ip}: {e}"))?;
        std.set_nonblocking(true).map_err(|e| e.to_string())?;
        let local = std.local_addr().map_err(|e| e.to_string())?;
        let socket = UdpSocket::from_std(std).map_err(|e| e.to_string())?;
        let conn = params.connection(index)?;
        let config = EndpointConfig {
            connections: vec![Arc::clone(&conn)],
            ..EndpointConfig::default()
        };
        let mut endpoint = Endpoint::new(config, provider);
        endpoint.set_unix_time(Instant::now(), unix_now());
        let nwu = setup::nwu(usim, params.plmn);
        Ok(Self {
            index,
            report: UeReport {
                index,
                supi: format!("imsi-{}", usim.supi.imsi_digits()),
                ..UeReport::default()
            },
            inner: params.fallback.inner,
            nas: params.fallback.nas,
            params,
            provider,
            endpoint,
            conn,
            socket,
            local,
            nwu,
            t0: Instant::now(),
            marks: Marks::default(),
            stage: "ike-sa-init",
            sa: None,
            link: None,
            stack: None,
            tcp: None,
            uplink: Vec::new(),
            accepted: false,
            registered: false,
            closed: false,
            pdu: pdu::PduState::default(),
        })
    }

    /// Registers: returns the phase timings once REGISTRATION COMPLETE is sent.
    ///
    /// # Errors
    /// The stage reached and why it stopped there.
    pub async fn register(&mut self) -> Outcome {
        self.t0 = Instant::now();
        let deadline = self.t0 + self.params.timeout;
        let sa = self
            .endpoint
            .connect(
                self.t0,
                Arc::clone(&self.conn),
                self.local,
                self.params.n3iwf,
            )
            .map_err(|e| self.failure(format!("connect: {e}")))?;
        self.sa = Some(sa);
        while !self.registered {
            if Instant::now() >= deadline {
                let why = format!("not registered within {:?}", self.params.timeout);
                return Err(self.failure(why));
            }
            self.turn(deadline).await.map_err(|e| self.failure(e))?;
        }
        if let Some(plan) = self.params.pdu_session {
            self.request_pdu_session(plan.id)
                .map_err(|e| self.failure(e))?;
            while !self.pdu.done() {
                if self.closed {
                    return Err(self.failure("the IKE SA closed".into()));
                }
                if Instant::now() >= deadline {
                    let why = format!(
                        "PDU session and traffic not done within {:?}",
                        self.params.timeout
                    );
                    return Err(self.failure(why));
                }
                self.turn(deadline).await.map_err(|e| self.failure(e))?;
            }
        }
        Ok(self.report.clone())
    }

    /// Stays registered (answering the N3IWF) until `stop`, then deletes the IKE SA and
    /// waits up to `linger` for the answer.
    pub async fn hold_then_leave(
        &mut self,
        stop: &mut tokio::sync::watch::Receiver<bool>,
        linger: Duration,
    ) {
        while !*stop.borrow() && !self.closed {
            let far = Instant::now() + Duration::from_secs(3600);
            tokio::select! {
                _ = stop.changed() => break,
                r = self.turn(far) => if r.is_err() { return },
            }
        }
        let Some(sa) = self.sa.filter(|_| !self.closed) else {
            return;
        };
        if self.endpoint.close(Instant::now(), sa).is_err() {
            return;
        }
        let until = Instant::now() + linger;
        while !self.closed && Instant::now() < until {
            if self.turn(until).await.is_err() {
                return;
            }
        }
    }

    fn failure(&self, error: String) -> UeFailure {
        UeFailure {
            index: self.index,
            supi: self.report.supi.clone(),
            stage: self.stage,
            error,
        }
    }

    /// One round: send what is due, wait for a datagram or the next deadline, then run the
    /// engine, the EAP-5G peer and the inner stack.
    async fn turn(&mut self, until: Instant) -> Result<(), String> {
        self.transmit().await?;
        let wake = self.next_wake().map_or(until, |w| w.min(until));
        tokio::select! {
            r = self.socket.readable() => r.map_err(|e| format!("socket: {e}"))?,
            () = tokio::time::sleep_until(wake.into()) => {}
        }
        let mut buf = vec![0u8; DATAGRAM];
        while let Ok((n, from)) = self.socket.try_recv_from(&mut buf) {
            self.datagram(&mut buf[..n], from);
            self.events().await?;
        }
        let now = Instant::now();
        if self.endpoint.poll_timeout().is_some_and(|t| t <= now) {
            self.endpoint.handle_timeout(now);
        }
        self.events().await?;
        self.inner_io()?;
        self.user_plane_io();
        self.transmit().await
    }

    fn next_wake(&mut self) -> Option<Instant> {
        let now = Instant::now();
        let stack = self.stack.as_mut().and_then(|s| s.poll_at(now));
        let up = self.pdu.user_plane.as_mut().and_then(|u| u.poll_at(now));
        [self.endpoint.poll_timeout(), stack, up, self.pdu.wake]
            .into_iter()
            .flatten()
            .min()
    }

    async fn transmit(&mut self) -> Result<(), String> {
        while let Some(t) = self.endpoint.poll_transmit() {
            self.note_sent(&t.data);
            let data = if t.remote.port() == NAT_T_PORT && !t.is_nat_keepalive() {
                natt::with_non_esp_marker(&t.data)
            } else {
                t.data
            };
            send(&self.socket, &data, t.remote).await?;
        }
        if let Some(up) = self.pdu.user_plane.as_mut() {
            let remote = up.remote();
            for p in up.poll_transmit(Instant::now()) {
                send(&self.socket, &p, remote).await?;
            }
        }
        let (Some(stack), Some(link)) = (self.stack.as_mut(), self.link.as_mut()) else {
            return Ok(());
        };
        let mut out = Vec::new();
        let mut packets = Vec::new();
        while let Some(inner) = stack.poll_transmit() {
            if link.send(&inner, &mut out).is_ok() {
                packets.push(std::mem::take(&mut out));
            }
        }
        let remote = link.remote();
        for p in packets {
            send(&self.socket, &p, remote).await?;
        }
        Ok(())
    }

    fn datagram(&mut self, data: &mut [u8], from: SocketAddr) {
        if from.port() != NAT_T_PORT {
            self.ike_in(data, from);
            return;
        }
        match natt::classify(data) {
            Some(NatTPayload::Ike(ike)) => {
                let ike = ike.to_vec();
                self.ike_in(&ike, from);
            }
            Some(NatTPayload::Esp(esp)) => {
                let spi = user_plane::esp_spi(esp);
                match self.pdu.user_plane.as_mut() {
                    Some(up) if spi.is_some_and(|s| up.owns(s)) => up.receive(data, Instant::now()),
                    _ => self.esp_in(data),
                }
            }
            _ => {}
        }
    }

    fn ike_in(&mut self, ike: &[u8], from: SocketAddr) {
        let now = Instant::now();
        if ike.len() > FLAGS && ike[FLAGS] & RESPONSE_FLAG != 0 {
            match ike[EXCHANGE_TYPE] {
                IKE_SA_INIT if self.marks.init_answered.is_none() => {
                    self.marks.init_answered = Some(now);
                    if let Some(sent) = self.marks.init_sent {
                        self.report.record(Phase::IkeSaInit, now - sent);
                    }
                }
                IKE_INTERMEDIATE => {
                    self.marks.intermediate_answered = Some(now);
                    if let Some(answered) = self.marks.init_answered {
                        self.report.record(Phase::IkeIntermediate, now - answered);
                    }
                }
                _ => {}
            }
        } else if ike.len() > FLAGS && ike[EXCHANGE_TYPE] == CREATE_CHILD_SA {
            self.note_create_child(now);
        }
        self.endpoint.handle_datagram(now, self.local, from, ike);
    }

    fn note_sent(&mut self, ike: &[u8]) {
        if ike.len() <= FLAGS || ike[FLAGS] & RESPONSE_FLAG != 0 {
            return;
        }
        let now = Instant::now();
        match ike[EXCHANGE_TYPE] {
            IKE_SA_INIT => {
                self.marks.init_sent.get_or_insert(now);
            }
            IKE_AUTH if self.marks.auth_sent.is_none() => {
                self.marks.auth_sent = Some(now);
                self.stage = "ike-auth";
            }
            _ => {}
        }
    }

    fn esp_in(&mut self, data: &mut [u8]) {
        let (Some(link), Some(stack)) = (self.link.as_mut(), self.stack.as_mut()) else {
            return;
        };
        // Drops (replay, bad ICV, outside the selectors) are counted by the link.
        if let Ok(Received::Inner(packet)) = link.receive(data) {
            let _ = stack.push_inbound(packet);
        }
    }

    async fn events(&mut self) -> Result<(), String> {
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                Event::EapMessage { sa, message } => self.eap(sa, &message)?,
                Event::PpkNeeded { sa, ppk_id, .. } => self.ppk(sa, ppk_id).await?,
                Event::IkeSaEstablished { .. } => {
                    let now = Instant::now();
                    if let Some(sent) = self.marks.auth_sent {
                        self.report.record(Phase::IkeAuth, now - sent);
                    }
                    self.stage = "signalling-sa";
                }
                Event::AuthReply {
                    config, notifies, ..
                } => self.auth_reply(config.as_ref(), &notifies),
                Event::ChildSaEstablished { child, .. } if self.link.is_some() => {
                    self.user_plane_child(child)?;
                }
                Event::ChildSaEstablished { child, .. } => self.child_up(child)?,
                Event::IkeSaFailed { error, .. } => return Err(format!("IKE SA failed: {error}")),
                Event::IkeSaClosed { reason, .. } => {
                    self.closed = true;
                    if !self.registered {
                        return Err(format!("the IKE SA closed ({reason:?})"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The N3IWF's EAP Request or EAP-Success, answered by the EAP-5G peer.
    fn eap(&mut self, sa: SaId, message: &[u8]) -> Result<(), String> {
        let step = match self.nwu.handle_eap(message) {
            PeerStep::Respond(packet) => {
                self.report.eap_rounds += 1;
                EapStep::Message(packet)
            }
            PeerStep::Success => {
                let kn3iwf = self.nwu.kn3iwf().ok_or("EAP-Success without KN3IWF")?;
                let msk = SecretBytes::from_slice(kn3iwf.dangerous_as_bytes());
                // The reply is the responder's; the UE sends none.
                EapStep::Success {
                    msk: Some(msk),
                    reply: FinalAuthReply::default(),
                }
            }
            PeerStep::Failure => return Err(self.nas_refusal("EAP-Failure")),
            PeerStep::Ignored(why) => return Err(format!("EAP packet not taken: {why}")),
        };
        self.endpoint
            .eap_respond(Instant::now(), sa, step)
            .map_err(|e| format!("EAP answer: {e}"))
    }

    /// EAP-Failure, with the NAS reason when the UE saw one.
    fn nas_refusal(&mut self, what: &str) -> String {
        let reasons: Vec<String> = self
            .nwu
            .take_events()
            .into_iter()
            .filter_map(|e| nas_reason(&e))
            .collect();
        if reasons.is_empty() {
            what.to_string()
        } else {
            format!("{what} after {}", reasons.join(", "))
        }
    }

    async fn ppk(&mut self, sa: SaId, named: Option<Vec<u8>>) -> Result<(), String> {
        let Some(kme) = self.params.ppk.clone() else {
            let _ = self.endpoint.provide_ppk(Instant::now(), sa, None);
            return Err("the engine asked for a PPK but no KME is configured".into());
        };
        let started = Instant::now();
        let fetched = match named {
            Some(id) => kme.fetch_id(&id).await,
            None => kme.fetch().await,
        };
        self.report.record(Phase::KmeFetch, started.elapsed());
        let answer = match fetched {
            Ok((id, key)) => {
                self.report.ppk_id = Some(String::from_utf8_lossy(&id).into_owned());
                Some((id, key))
            }
            Err(e) => {
                let _ = self.endpoint.provide_ppk(Instant::now(), sa, None);
                return Err(e);
            }
        };
        self.endpoint
            .provide_ppk(Instant::now(), sa, answer)
            .map_err(|e| format!("PPK: {e}"))
    }

    /// The final IKE_AUTH response: the inner address (CP) and where NAS goes (TS 24.502
    /// §9.3.1); each replaces its fallback.
    fn auth_reply(&mut self, config: Option<&ConfigReply>, notifies: &[StatusNotify]) {
        if let Some(address) = config.and_then(|c| c.internal_ip4) {
            self.inner = Some(address);
        }
        let (mut ip, mut port) = (None, None);
        for n in notifies {
            match N3gppNotify::parse_data(NotifyType(n.notify_type), &n.data) {
                Ok(Some(N3gppNotify::NasIp4Address(a))) => ip = Some(a),
                Ok(Some(N3gppNotify::NasTcpPort(p))) => port = Some(p),
                _ => {}
            }
        }
        if let (Some(ip), Some(port)) = (ip, port) {
            self.nas = Some(SocketAddrV4::new(ip, port));
        }
    }

    /// The signalling SA is up: the ESP link, then TCP to the NAS address inside it.
    fn child_up(&mut self, child: ChildSa) -> Result<(), String> {
        if self.link.is_some() {
            return Ok(());
        }
        let now = Instant::now();
        self.marks.child_up = Some(now);
        self.report.record(Phase::SignallingSaUp, now - self.t0);
        let link = EspLink::from_child_sa(self.provider, child)
            .map_err(|e| format!("signalling SA: {e}"))?;
        self.link = Some(link);
        self.stage = "nas-tcp";
        let (Some(inner), Some(nas)) = (self.inner, self.nas) else {
            return Err(
                "the final IKE_AUTH response gave no inner address (CP) or NAS \
                        address and port: pass --inner-address and --nas"
                    .into(),
            );
        };
        self.report.inner_address = Some(inner.to_string());
        self.report.nas_endpoint = Some(nas.to_string());
        let mut config = StackConfig::new(IpAddr::V4(inner));
        config.tcp_rx_buffer = self.params.tcp_buffer;
        config.tcp_tx_buffer = self.params.tcp_buffer;
        config.max_sockets = 2;
        config.rx_queue_packets = 16;
        config.tx_queue_packets = 16;
        config.random_seed = 0x5eed ^ self.index as u64;
        let mut stack = InnerStack::new(config, now);
        let conn = stack
            .connect(SocketAddr::V4(nas))
            .map_err(|e| format!("NAS TCP connect: {e}"))?;
        stack.poll(now);
        self.stack = Some(stack);
        self.tcp = Some(conn);
        Ok(())
    }

    /// The inner stack: connection events, NAS from TCP to the UE, its uplink back.
    fn inner_io(&mut self) -> Result<(), String> {
        let (Some(stack), Some(conn)) = (self.stack.as_mut(), self.tcp) else {
            return Ok(());
        };
        let now = Instant::now();
        stack.poll(now);
        while let Some(event) = stack.poll_event() {
            match event {
                StackEvent::Connected(_) => {
                    self.marks.tcp_up = Some(now);
                    if let Some(up) = self.marks.child_up {
                        self.report.record(Phase::NasTcpConnect, now - up);
                    }
                    self.stage = "registration";
                }
                StackEvent::PeerClosed(_) | StackEvent::Closed(..) if !self.registered => {
                    return Err(format!("NAS TCP connection ended: {event:?}"));
                }
                _ => {}
            }
        }
        let mut chunk = [0u8; 2048];
        while let Ok(n @ 1..) = stack.recv(conn, &mut chunk) {
            let out = self.nwu.handle_tcp(&chunk[..n]);
            self.uplink.extend_from_slice(&out);
        }
        let mut sm = Vec::new();
        for event in self.nwu.take_events() {
            match event {
                UeEvent::Registered(_) => self.accepted = true,
                e @ (UeEvent::PduSessionEstablished(_)
                | UeEvent::PduSessionRejected { .. }
                | UeEvent::PduSessionReleased { .. }) => sm.push(e),
                other => {
                    if let Some(why) =
                        nas_reason(&other).filter(|_| !matches!(other, UeEvent::Dropped(_)))
                    {
                        return Err(why);
                    }
                }
            }
        }
        if !self.uplink.is_empty() {
            let sent = stack
                .send(conn, &self.uplink)
                .map_err(|e| format!("NAS TCP: {e}"))?;
            self.uplink.drain(..sent);
        }
        stack.poll(now);
        if self.accepted && self.uplink.is_empty() && !self.registered {
            self.registered = true;
            self.stage = "registered";
            if let Some(up) = self.marks.tcp_up {
                self.report.record(Phase::NasRegistration, now - up);
            }
            self.report.record(Phase::Total, now - self.t0);
        }
        sm.into_iter().try_for_each(|e| self.pdu_event(e))
    }
}

async fn send(socket: &UdpSocket, data: &[u8], to: SocketAddr) -> Result<(), String> {
    match socket.send_to(data, to).await {
        Ok(_) => Ok(()),
        // Lost like any datagram; retransmission covers it.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(()),
        Err(e) => Err(format!("send to {to}: {e}")),
    }
}

/// What a NAS event says about a refusal, if anything.
fn nas_reason(event: &UeEvent) -> Option<String> {
    Some(match event {
        UeEvent::RegistrationRejected(c) => format!("REGISTRATION REJECT (5GMM cause {})", c.0),
        UeEvent::AuthenticationRejected => "AUTHENTICATION REJECT".into(),
        UeEvent::AuthenticationRefused(c) => {
            format!("the UE refused the challenge (5GMM cause {})", c.0)
        }
        UeEvent::SecurityModeRefused(c) => {
            format!("the UE refused the security mode (5GMM cause {})", c.0)
        }
        UeEvent::Dropped(why) => format!("a NAS message dropped: {why}"),
        _ => return None,
    })
}

/// The source address towards `n3iwf` when `bind` is unspecified.
fn source_address(bind: IpAddr, n3iwf: SocketAddr) -> Result<IpAddr, String> {
    if !bind.is_unspecified() {
        return Ok(bind);
    }
    let probe = StdUdpSocket::bind((bind, 0)).map_err(|e| e.to_string())?;
    probe
        .connect(n3iwf)
        .map_err(|e| format!("no route to {n3iwf}: {e}"))?;
    Ok(probe.local_addr().map_err(|e| e.to_string())?.ip())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
