//! `NwuUe`: the UE's side of NWu above IKEv2, sans-IO: the EAP-5G peer (TS 24.502 §7.3) over
//! [`UeNas`], and NAS over TCP with the 2-octet envelope (§9.4) once registered. The IKEv2
//! exchange itself is the engine's (or, in tests without IKE crypto, the harness's).

use n3iwf::wire::an_params::AnParameters;
use n3iwf::wire::eap5g::{Eap5g, EapIdentifier};
use n3iwf::wire::nas_envelope::{NasEnvelopeReader, frame};

use super::{UeEvent, UeNas};
use crate::secret::Kn3iwf;

/// What the UE does with an EAP packet from the N3IWF.
#[derive(Debug, PartialEq, Eq)]
pub enum PeerStep {
    /// Send this EAP Response in the next IKE_AUTH request.
    Respond(Vec<u8>),
    /// EAP-Success: the MSK is [`NwuUe::kn3iwf`]; the final IKE_AUTH follows.
    Success,
    /// EAP-Failure.
    Failure,
    /// Not an EAP packet the UE takes now (a wrong code, an undecodable packet).
    Ignored(&'static str),
}

/// A UE on untrusted non-3GPP access.
pub struct NwuUe {
    nas: UeNas,
    an_parameters: AnParameters,
    last_request: Option<EapIdentifier>,
    /// Answer the next 5G-NAS request with 5G-Stop instead.
    stop_next: bool,
    reader: NasEnvelopeReader,
    events: Vec<UeEvent>,
}

impl NwuUe {
    /// A UE that will send these AN parameters with its REGISTRATION REQUEST.
    pub fn new(nas: UeNas, an_parameters: AnParameters) -> Self {
        Self {
            nas,
            an_parameters,
            last_request: None,
            stop_next: false,
            reader: NasEnvelopeReader::new(),
            events: Vec::new(),
        }
    }

    /// An EAP packet from the N3IWF (the body of the IKEv2 EAP payload).
    pub fn handle_eap(&mut self, packet: &[u8]) -> PeerStep {
        let Ok(message) = Eap5g::parse(packet) else {
            return PeerStep::Ignored("not an EAP-5G packet");
        };
        match message {
            Eap5g::Start { id } => {
                self.last_request = Some(id);
                self.start(id)
            }
            Eap5g::NasRequest { id, nas_pdu } => {
                self.last_request = Some(id);
                self.relay(id, &nas_pdu)
            }
            Eap5g::Success { .. } if self.nas.kn3iwf().is_some() => PeerStep::Success,
            Eap5g::Success { .. } => PeerStep::Ignored("EAP-Success before NAS security"),
            Eap5g::Failure { .. } => PeerStep::Failure,
            _ => PeerStep::Ignored("not a request"),
        }
    }

    /// Answers the next EAP-Request/5G-NAS with EAP-Response/5G-Stop.
    pub fn stop_at_next_request(&mut self) {
        self.stop_next = true;
    }

    /// Octets from the NAS TCP connection; returns the octets to write back (framed uplink NAS).
    pub fn handle_tcp(&mut self, octets: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        if self.reader.push(octets).is_err() {
            return out;
        }
        while let Ok(Some(nas)) = self.reader.next_message() {
            for event in self.nas.handle_downlink(&nas) {
                match event {
                    UeEvent::Uplink(pdu) => {
                        // NAS PDUs the UE builds are short and never empty.
                        let _ = frame(&pdu, &mut out);
                    }
                    other => self.events.push(other),
                }
            }
        }
        out
    }

    /// Frames an uplink NAS PDU for the TCP connection.
    pub fn frame_uplink(pdu: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let _ = frame(pdu, &mut out);
        out
    }

    /// KN3IWF, the MSK of the final IKE_AUTH, once NAS security is up.
    pub fn kn3iwf(&self) -> Option<&Kn3iwf> {
        self.nas.kn3iwf()
    }

    /// The NAS events so far (registration, rejects, drops), taken.
    pub fn take_events(&mut self) -> Vec<UeEvent> {
        std::mem::take(&mut self.events)
    }

    pub fn nas(&mut self) -> &mut UeNas {
        &mut self.nas
    }

    /// The Identifier of the last EAP Request.
    pub fn last_request(&self) -> Option<EapIdentifier> {
        self.last_request
    }

    fn start(&mut self, id: EapIdentifier) -> PeerStep {
        let Ok(nas_pdu) = self.nas.start_registration() else {
            return PeerStep::Ignored("REGISTRATION REQUEST did not encode");
        };
        let response = Eap5g::NasResponse {
            id,
            an_parameters: self.an_parameters.clone(),
            nas_pdu,
        };
        respond(&response)
    }

    /// The NAS PDU to the NAS side; its uplink message goes back in EAP-Response/5G-NAS, or
    /// 5G-Stop when it has none (a REGISTRATION REJECT) or when asked to stop.
    fn relay(&mut self, id: EapIdentifier, nas: &[u8]) -> PeerStep {
        let mut uplink = None;
        for event in self.nas.handle_downlink(nas) {
            match event {
                UeEvent::Uplink(pdu) if uplink.is_none() => uplink = Some(pdu),
                other => self.events.push(other),
            }
        }
        match uplink.filter(|_| !std::mem::take(&mut self.stop_next)) {
            Some(nas_pdu) => respond(&Eap5g::NasResponse {
                id,
                an_parameters: AnParameters::default(),
                nas_pdu,
            }),
            None => respond(&Eap5g::Stop { id }),
        }
    }
}

fn respond(message: &Eap5g) -> PeerStep {
    match message.to_bytes() {
        Ok(packet) => PeerStep::Respond(packet),
        Err(_) => PeerStep::Ignored("response did not encode"),
    }
}
