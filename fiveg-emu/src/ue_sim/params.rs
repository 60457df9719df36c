//! What every UE of a run shares: the N3IWF, its trust anchor, the proposals, the PPK source,
//! and the IKEv2 connection built from them.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use ikev2::wire::{IdType, Identification, IpSelector};
use ikev2::{
    AuthConfig, CertificateAuth, ChildConfig, ConnectionConfig, Identity, PpkConfig, PpkMode,
    PpkSource, ProposalSpec,
};

use super::kme::KmeSource;
use super::traffic::TrafficPlan;
use crate::identity::Plmn;
use crate::inner::gre::ProtocolType;

/// The hybrid proposal of TS 33.501 deployments moving to post-quantum keys.
pub const HYBRID: &str = "aes256gcm16-prfsha384-x25519-ke1_mlkem768";

/// Shared by the UEs of a run.
pub struct UeParams {
    /// The N3IWF's IKE address (port 500).
    pub n3iwf: SocketAddr,
    /// Our outer address (the source towards the N3IWF when unspecified).
    pub bind: IpAddr,
    /// DER of the CA that signs the N3IWF's certificate.
    pub ca_der: Vec<u8>,
    /// The N3IWF's IDr (FQDN), checked when given.
    pub n3iwf_id: Option<String>,
    pub ike_proposal: String,
    pub esp_proposal: String,
    pub ppk: Option<Arc<KmeSource>>,
    pub plmn: Plmn,
    /// Used only when the final IKE_AUTH response lacks CP(CFG_REPLY) or the NAS notifies.
    pub fallback: Fallback,
    /// Per UE: start to REGISTRATION COMPLETE.
    pub timeout: Duration,
    /// TCP buffer size of each UE's inner stack (NAS messages are small).
    pub tcp_buffer: usize,
    /// A PDU session after registration, and the traffic through it.
    pub pdu_session: Option<PduSessionPlan>,
}

/// The PDU session each UE asks for once registered, and what it sends through it.
#[derive(Clone, Copy, Debug)]
pub struct PduSessionPlan {
    /// PDU session identity, 1..=15.
    pub id: u8,
    /// The GRE Protocol Type the UE writes.
    pub gre: ProtocolType,
    pub traffic: TrafficPlan,
}

/// The inner address and NAS endpoint to assume when the final IKE_AUTH response does not say
/// (an N3IWF that sends no CP(CFG_REPLY), NAS_IP4_ADDRESS or NAS_TCP_PORT).
#[derive(Clone, Copy, Debug, Default)]
pub struct Fallback {
    pub inner: Option<Ipv4Addr>,
    pub nas: Option<SocketAddrV4>,
}

impl UeParams {
    /// The UE's IKEv2 connection: EAP for the UE (EAP-5G), the N3IWF's certificate checked
    /// against our CA, one signalling child offering any selectors.
    ///
    /// # Errors
    /// A proposal or CA that does not parse.
    pub fn connection(&self, index: usize) -> Result<Arc<ConnectionConfig>, String> {
        // TS 24.502 §7.3.2: IDi is a KEY_ID whose value is not the UE's identity.
        let idi = Identity(Identification {
            id_type: IdType::KEY_ID,
            data: format!("ue-sim-{index:06}").into_bytes(),
        });
        let ike = ProposalSpec::parse_ike(&self.ike_proposal)
            .map_err(|e| format!("IKE proposal {}: {e}", self.ike_proposal))?;
        let esp = ProposalSpec::parse_esp(&self.esp_proposal)
            .map_err(|e| format!("ESP proposal {}: {e}", self.esp_proposal))?;
        let mut conn = ConnectionConfig::new("nwu", idi, &[], vec![ike]);
        let ca = CertificateAuth::verify_only(std::slice::from_ref(&self.ca_der))
            .map_err(|e| format!("N3IWF CA: {e}"))?;
        conn.auth = AuthConfig::Eap(Box::new(AuthConfig::Certificate(ca)));
        conn.remote_id = self.n3iwf_id.as_deref().map(Identity::fqdn);
        // The N3IWF's user-plane Child SAs (TS 24.502 §7.5) are answered from this template
        // too: it narrows nothing the N3IWF asks for.
        conn.children = vec![ChildConfig::new(
            "signalling",
            vec![esp],
            vec![any()],
            vec![any()],
        )];
        // A UE on a UDP socket cannot send raw ESP: both sides float to 4500.
        conn.force_encap = true;
        conn.dpd_delay = None;
        // TS 24.502 §7.3.2: CP(CFG_REQUEST) for the inner address the N3IWF assigns.
        conn.request_internal_ip4 = true;
        if self.ppk.is_some() {
            conn.ppk = Some(PpkConfig {
                source: PpkSource::External {
                    timeout: Duration::from_secs(10),
                },
                required: true,
                // RFC 9867: mixed in the last IKE_INTERMEDIATE, so the whole IKE SA, EAP-5G
                // included, is protected by it (the engine mixes no RFC 8784 PPK with EAP).
                mode: PpkMode::Rfc9867,
            });
        }
        Ok(Arc::new(conn))
    }
}

/// 0.0.0.0-255.255.255.255, all protocols and ports: what a UE offers as TSi and TSr.
pub fn any() -> IpSelector {
    IpSelector {
        ip_protocol: 0,
        start_port: 0,
        end_port: 0xffff,
        start_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        end_addr: IpAddr::V4(Ipv4Addr::BROADCAST),
    }
}

/// The DER of the first certificate in a PEM file.
///
/// # Errors
/// No PEM block, or bad base64.
pub fn pem_der(pem: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return Err("no PEM block".into());
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .map_err(|e| format!("PEM base64: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_blocks_are_read_and_garbage_refused() {
        let pem = "junk\n-----BEGIN CERTIFICATE-----\nAQID\nBA==\n-----END CERTIFICATE-----\n";
        assert_eq!(pem_der(pem).unwrap(), [1, 2, 3, 4]);
        assert!(pem_der("no block").is_err());
        assert!(pem_der("-----BEGIN X-----\n!!\n-----END X-----").is_err());
    }
}
