//! The core's outputs, acted on in order: EAP steps and IKE SA closes through the driver, NGAP
//! to the AMF's task, NAS octets to the connection's task, events to the log.

use ::n3iwf::node::Event;
use ::n3iwf::{AmfRef, IkeSaRef, NasConnId, Output, StreamId};
use ikev2::SaId;
use tokio::sync::mpsc::error::TrySendError;

use super::engine::eap_step;
use super::n2::N2Out;
use super::{IkeSide, N3iwfGlue};

impl N3iwfGlue {
    /// Acts on every output the core has; call after each input.
    pub(crate) fn drain(&mut self, ike: &mut dyn IkeSide) {
        while let Some(output) = self.core.poll_output() {
            match output {
                Output::EapAnswer { sa, answer } => {
                    if !ike.eap_respond(SaId::from(sa), eap_step(answer)) {
                        self.count("eap_answers_for_gone_sas");
                    }
                }
                Output::CloseIkeSa { sa } => {
                    ike.close_ike_sa(SaId::from(sa), "closed by the N3IWF");
                }
                Output::Ngap {
                    amf,
                    stream,
                    octets,
                } => self.send_ngap(amf, stream, octets),
                Output::NasTcpSend { conn, octets } => self.nas_send(conn, octets),
                Output::NasTcpClose { conn } => {
                    // Dropping the writer lets the task flush what is queued, then close.
                    self.conns.remove(&conn);
                }
                Output::CreateChildSa { sa, request } => self.create_child(ike, sa, &request),
                Output::DeleteChildSa { sa, inbound_spi } => {
                    ike.close_child(SaId::from(sa), ikev2::EspSpi(inbound_spi));
                }
                Output::UserPlaneAdd(session) => self.user_plane_add(ike, &session),
                Output::UserPlaneUpdate(session) => self.user_plane_update(ike, &session),
                Output::UserPlaneRemove { dl_teid } => self.user_plane_remove(ike, dl_teid),
                Output::Event(event) => self.log(&event),
                _ => self.count("unknown_outputs"),
            }
        }
        self.supervise(ike, std::time::Instant::now());
    }

    fn send_ngap(&mut self, amf: AmfRef, stream: StreamId, payload: Vec<u8>) {
        let Some(link) = self.amfs.get(usize::from(amf.0)) else {
            return;
        };
        let Some(generation) = link.up.as_ref().map(|a| a.generation) else {
            self.count("ngap_unsent_association_down");
            return;
        };
        let out = N2Out {
            generation,
            stream: stream.0,
            payload,
        };
        if link.out.try_send(out).is_err() {
            // The AMF's task cannot keep up (SCTP's send buffer is full) or is gone.
            self.count("ngap_unsent_queue_full");
        }
    }

    fn nas_send(&mut self, conn: NasConnId, octets: Vec<u8>) {
        let Some(writer) = self.conns.get(&conn) else {
            return;
        };
        match writer.try_send(octets) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                // A UE that does not read its NAS: its connection is closed rather than
                // buffered without bound; it may connect again.
                self.count("nas_tcp_closed_write_queue_full");
                self.conns.remove(&conn);
            }
            Err(TrySendError::Closed(_)) => {
                self.conns.remove(&conn);
            }
        }
    }

    fn log(&self, event: &Event) {
        match event {
            Event::AmfReady { amf, name } => {
                tracing::info!(amf = %self.label(*amf), amf_name = %name, "NG Setup done: the AMF serves UEs");
            }
            Event::AmfRefused { amf, cause } => {
                tracing::warn!(amf = %self.label(*amf), ?cause, "NG Setup refused; trying again later");
            }
            Event::AmfDown { amf, released_ues } => {
                tracing::warn!(amf = %self.label(*amf), released_ues, "AMF unavailable: its UEs were released locally");
            }
            Event::UeRegistered {
                sa,
                ran_ue_ngap_id,
                inner_address,
            } => {
                tracing::info!(ike_sa = %sa_name(*sa), ran_ue_ngap_id = ran_ue_ngap_id.0, %inner_address, "UE registered");
            }
            Event::UeEnded {
                sa,
                registered,
                cause,
                ..
            } => {
                tracing::info!(ike_sa = %sa_name(*sa), registered, cause = cause.as_str(), "UE context ended");
            }
            Event::SessionSetUp {
                sa,
                pdu_session_id,
                dl_teid,
            } => {
                tracing::info!(ike_sa = %sa_name(*sa), pdu_session_id = pdu_session_id.0, dl_teid = dl_teid.0, "PDU session set up");
            }
            Event::SessionFailed {
                sa,
                pdu_session_id,
                cause,
            } => {
                tracing::warn!(ike_sa = %sa_name(*sa), pdu_session_id = pdu_session_id.0, ?cause, "PDU session refused");
            }
            Event::SessionReleased {
                sa,
                pdu_session_id,
                dl_teid,
            } => {
                tracing::info!(ike_sa = %sa_name(*sa), pdu_session_id = pdu_session_id.0, dl_teid = dl_teid.0, "PDU session released");
            }
            other => tracing::debug!(event = ?other, "N3IWF event"),
        }
    }
}

/// Our IKE SPI in hex, as every listing names an IKE SA.
pub(crate) fn sa_name(sa: IkeSaRef) -> String {
    format!("{:016x}", sa.0)
}
