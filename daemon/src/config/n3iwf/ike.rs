//! `[n3iwf.ike]`: the NWu IKE side as a generated connection. The N3IWF signs with its
//! certificate (RFC 7427); the UE is authenticated by EAP-5G, which the core runs with the
//! AMF. Proposals default to the hybrid set; the PPK, QKD and `hybrid` rules are those of
//! every connection.

use ikev2::wire::IpSelector;
use ikev2::{Lifetime, PpkMode, ProposalSpec};
use toml::Spanned;

use super::raw::{DEFAULT_NWU_PROPOSAL, RawN3iwf, RawNwuIke};
use super::{N3IWF_CONNECTION, SIGNALLING_CHILD};
use crate::config::bounds::MAX_DPD_DELAY;
use crate::config::load::{ConnCtx, Validator, fingerprint};
use crate::config::raw::{IkeFields, RawAuth};
use crate::config::values::traffic_selector;
use crate::config::{
    Child, CloseAction, Connection, Credentials, DpdAction, Encapsulation, PpkRef, RemoteAddr,
    StartAction, TrafficLimits,
};

pub(super) const TABLE: &str = "n3iwf.ike";

impl Validator<'_> {
    /// The connection that answers UEs: remote `%any`, our certificate, EAP-5G for the UE, and
    /// the signalling child (our NAS address and port, the UE pool). `core` gives the NAS
    /// endpoint and the pool once they are valid.
    pub(super) fn nwu_connection(
        &mut self,
        n: &RawN3iwf,
        core: Option<&::n3iwf::N3iwfConfig>,
        ctx: &ConnCtx<'_>,
    ) -> Option<Connection> {
        let errors_before = self.errors.len();
        let table = &n.ike;
        let ike = table.get_ref();
        let proposals_raw = ike.proposals.clone().unwrap_or_else(|| {
            Spanned::new(
                table.span(),
                vec![Spanned::new(table.span(), DEFAULT_NWU_PROPOSAL.to_string())],
            )
        });
        let fields = ike.ike_fields_with(&proposals_raw);
        let (proposals, ike_specs) = self.proposals(
            &format!("{TABLE}.proposals"),
            &proposals_raw,
            ProposalSpec::parse_ike,
        );
        self.classical_warning(&proposals_raw, &ike_specs);
        let fragment_size = self.fragment_size(&format!("{TABLE}.fragment_size"), &fields);
        let dpd_delay = self
            .opt_duration(
                &format!("{TABLE}.dpd_delay"),
                ike.dpd_delay.as_ref(),
                MAX_DPD_DELAY,
            )
            .filter(|d| !d.is_zero());
        let ike_lifetime = self.ike_lifetime(TABLE, &fields);
        let mut ppk = self.ppk_policy(TABLE, &fields, &ike_specs, ctx);
        self.eap_ppk_mode(&fields, ppk.ppk.as_mut());
        let own = self.nwu_certificate(table);
        let child = core.and_then(|c| self.signalling_child(ike, c));
        let up_child = core.and_then(|c| {
            let pool = format!("{}/{}", c.inner_pool.network, c.inner_pool.prefix_len);
            self.user_plane_child(ike, c.user_plane_address(), &pool)
        });
        if self.errors.len() > errors_before {
            return None;
        }
        let (creds, id_text, identity) = own?;
        let mut conn = Connection {
            name: N3IWF_CONNECTION.into(),
            retransmit: ctx.retransmit,
            local_addrs: Vec::new(),
            remote_addrs: vec![RemoteAddr::Any],
            remote_port: 500,
            proposals,
            start_action: StartAction::None,
            keyingtries: 0,
            fragment_size,
            dpd_delay,
            ike_lifetime,
            reauth_time: None,
            local_id: id_text,
            remote_id: None,
            children: vec![child?, up_child?],
            ppk: ppk.ppk,
            hybrid: ppk.hybrid,
            hybrid_explicit: ppk.hybrid_explicit,
            qkd_fallback: ppk.qkd_fallback,
            qkd_peer_sae_id: ppk.peer_sae_id,
            nat_keepalive: ctx.keep_alive,
            force_encap: ctx
                .dataplane
                .is_some_and(|d| d.encapsulation == Encapsulation::Udp),
            local_identity: identity,
            remote_identity: None,
            ike_specs,
            credentials: Credentials::EapServer(creds),
            ppk_key: ppk.key,
            fingerprint: [0; 32],
        };
        conn.fingerprint = fingerprint(&conn);
        Some(conn)
    }

    /// Our certificate and key: required, since a UE that runs EAP authenticates us by them
    /// (RFC 7296 §2.16). No CA is trusted for UEs: one that sends AUTH instead of EAP fails.
    fn nwu_certificate(
        &mut self,
        table: &Spanned<RawNwuIke>,
    ) -> Option<(
        crate::config::certs::CertCredentials,
        String,
        ikev2::Identity,
    )> {
        let ike = table.get_ref();
        if ike.certs.is_empty() || ike.key.is_none() {
            let missing = if ike.certs.is_empty() { "certs" } else { "key" };
            self.error(
                &table.span(),
                &format!("{TABLE}.{missing}"),
                "required: the N3IWF authenticates itself to UEs with a certificate (certs, a list of PEM files) and its PKCS#8 key (key)",
            );
            return None;
        }
        let auth = RawAuth {
            auth: Spanned::new(table.span(), "pubkey".into()),
            id: ike.id.clone(),
            certs: ike.certs.clone(),
            cacerts: Vec::new(),
            key: ike.key.clone(),
        };
        self.own_certificate(TABLE, &auth, &table.span(), Some(Vec::new()))
    }

    /// The UE's signalling SA: TCP to our NAS address and port, from the pool. The engine
    /// narrows the UE's selectors (usually 0.0.0.0/0 both ways) to these.
    fn signalling_child(&mut self, ike: &RawNwuIke, core: &::n3iwf::N3iwfConfig) -> Option<Child> {
        let field = format!("{TABLE}.esp_proposals");
        let (esp_proposals, esp_specs) = match &ike.esp_proposals {
            Some(p) => self.proposals(&field, p, ProposalSpec::parse_esp),
            None => (
                vec![DEFAULT_ESP.to_string()],
                ProposalSpec::parse_esp(DEFAULT_ESP).into_iter().collect(),
            ),
        };
        let local = format!("{}/32[tcp/{}]", core.nas_address, core.nas_tcp_port);
        let pool = format!("{}/{}", core.inner_pool.network, core.inner_pool.prefix_len);
        let selector = |s: &str| -> Option<IpSelector> { traffic_selector(s).ok() };
        Some(Child {
            name: SIGNALLING_CHILD.into(),
            local_ts: vec![selector(&local)?],
            remote_ts: vec![selector(&pool)?],
            esp_proposals,
            lifetime: Lifetime::CHILD_DEFAULT,
            dpd_action: DpdAction::Clear,
            close_action: CloseAction::None,
            limits: TrafficLimits::default(),
            esp_specs,
        })
    }

    /// UEs authenticate with EAP, and the engine mixes a PPK with EAP only in IKE_INTERMEDIATE
    /// (RFC 9867), not in IKE_AUTH (RFC 8784): RFC 9867 is the default here, and asking for
    /// RFC 8784 is an error rather than a failure of every UE's IKE SA.
    fn eap_ppk_mode(&mut self, fields: &IkeFields<'_>, ppk: Option<&mut PpkRef>) {
        let Some(ppk) = ppk else {
            return;
        };
        match fields.ppk_mode {
            Some(m) if ppk.mode == PpkMode::Rfc8784 => self.error(
                &m.span(),
                &format!("{TABLE}.ppk_mode"),
                "UEs authenticate with EAP, and a PPK is mixed with EAP only in IKE_INTERMEDIATE: \
                 use rfc9867 (the default here)",
            ),
            _ => ppk.mode = PpkMode::Rfc9867,
        }
    }

    /// A listed proposal without ML-KEM (such as the legacy profile of free5GC's UE) gives the
    /// UEs that pick it a classical IKE SA: allowed because it is listed, and said so.
    fn classical_warning(&mut self, raw: &Spanned<Vec<Spanned<String>>>, specs: &[ProposalSpec]) {
        for (text, spec) in raw.get_ref().iter().zip(specs) {
            if !spec
                .ke
                .iter()
                .flatten()
                .any(|k| super::super::policy::is_mlkem(*k))
            {
                let msg = format!(
                    "'{}' has no ML-KEM key exchange: UEs that choose it get a classical IKE SA",
                    text.get_ref()
                );
                self.warn(&text.span(), &format!("{TABLE}.proposals"), &msg);
            }
        }
    }
}

const DEFAULT_ESP: &str = "aes256gcm16";
