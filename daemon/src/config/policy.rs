//! A connection's PPK (static or QKD) and its post-quantum policy (`hybrid`,
//! `qkd_fallback`), checked against its IKE proposals.

use std::time::Duration;

use ikev2::wire::KeId;
use ikev2::{PpkMode, ProposalSpec};
use ipsec_crypto::SecretBytes;
use toml::Spanned;

use super::load::{ConnCtx, Validator};
use super::raw::IkeFields;
use super::{HybridPolicy, PpkRef, PpkSourceKind};

/// The PPK settings and policy of one connection, validated.
pub(super) struct PpkPolicy {
    pub(super) ppk: Option<PpkRef>,
    pub(super) key: Option<SecretBytes>,
    pub(super) hybrid: HybridPolicy,
    pub(super) hybrid_explicit: bool,
    pub(super) qkd_fallback: bool,
    pub(super) peer_sae_id: Option<String>,
}

impl Validator<'_> {
    pub(super) fn ppk_policy(
        &mut self,
        base: &str,
        c: &IkeFields<'_>,
        specs: &[ProposalSpec],
        ctx: &ConnCtx<'_>,
    ) -> PpkPolicy {
        let f = |s: &str| format!("{base}.{s}");
        let mode = self.ppk_mode(&f("ppk_mode"), c.ppk_mode);
        let source = match c.ppk_source.map(|s| (s.get_ref().as_str(), s.span())) {
            None | Some(("secrets", _)) => PpkSourceKind::Secrets,
            Some(("qkd", _)) => PpkSourceKind::Qkd,
            Some((other, span)) => {
                self.error(
                    &span,
                    &f("ppk_source"),
                    format!("unknown source '{other}' (use secrets or qkd)"),
                );
                PpkSourceKind::Secrets
            }
        };
        let fallback = c.qkd_fallback.is_some_and(|b| *b.get_ref());
        let (ppk, key, peer_sae_id) = match source {
            PpkSourceKind::Qkd => self.qkd_ppk(base, c, mode, fallback, ctx),
            PpkSourceKind::Secrets => self.static_ppk(base, c, mode, ctx),
        };
        if ppk.is_none()
            && let Some(m) = c.ppk_mode
            && !(source == PpkSourceKind::Qkd
                && self.errors.iter().any(|e| e.field.starts_with(base)))
        {
            self.error(
                &m.span(),
                &f("ppk_mode"),
                "needs a PPK (ppk_id or ppk_source = \"qkd\")",
            );
        }
        let without_mlkem = specs.iter().position(|s| !guarantees_mlkem(s));
        let (hybrid, explicit) = self.hybrid(base, c, source, without_mlkem);
        if let Some(b) = c.qkd_fallback.filter(|b| *b.get_ref()) {
            if source != PpkSourceKind::Qkd {
                self.error(
                    &b.span(),
                    &f("qkd_fallback"),
                    "only used with ppk_source = \"qkd\"",
                );
            } else if hybrid != HybridPolicy::PqcQkd {
                self.error(&b.span(), &f("qkd_fallback"), "would fall back to a classical key exchange; it needs hybrid = \"pqc+qkd\" (an ML-KEM key exchange in every proposal)");
            }
        }
        PpkPolicy {
            ppk,
            key,
            hybrid,
            hybrid_explicit: explicit,
            qkd_fallback: fallback,
            peer_sae_id,
        }
    }

    /// `ppk_source = "qkd"`: the KME's key_ID is the PPK_ID, the key is required unless
    /// `qkd_fallback`.
    fn qkd_ppk(
        &mut self,
        base: &str,
        c: &IkeFields<'_>,
        mode: PpkMode,
        fallback: bool,
        ctx: &ConnCtx<'_>,
    ) -> (Option<PpkRef>, Option<SecretBytes>, Option<String>) {
        let f = |s: &str| format!("{base}.{s}");
        let span = c.ppk_source.map(Spanned::span).unwrap_or_default();
        let errors_before = self.errors.len();
        if let Some(id) = c.ppk_id {
            self.error(
                &id.span(),
                &f("ppk_id"),
                "not used with ppk_source = \"qkd\" (the KME's key_ID is the PPK_ID)",
            );
        }
        if let Some(r) = c.ppk_required {
            self.error(&r.span(), &f("ppk_required"), "not used with ppk_source = \"qkd\": the QKD key is required unless qkd_fallback = true");
        }
        let peer = match c.qkd_peer_sae_id {
            Some(p) if p.get_ref().is_empty() => {
                self.error(&p.span(), &f("qkd_peer_sae_id"), "must not be empty");
                None
            }
            Some(p) => Some(p.get_ref().clone()),
            None => {
                self.error(
                    &span,
                    &f("qkd_peer_sae_id"),
                    "required with ppk_source = \"qkd\"",
                );
                None
            }
        };
        let Some(qkd) = ctx.qkd else {
            if !self.errors.iter().any(|e| e.field.starts_with("qkd.")) {
                self.error(&span, &f("ppk_source"), "\"qkd\" needs a [qkd] section");
            }
            return (None, None, peer);
        };
        if self.errors.len() > errors_before {
            return (None, None, peer);
        }
        // The engine waits a little longer than the driver's own limit, so that a KME failure
        // is reported with its reason rather than as an engine timeout.
        let timeout = qkd.timeout.saturating_add(Duration::from_secs(1));
        let r = PpkRef {
            source: PpkSourceKind::Qkd,
            id: String::new(),
            required: !fallback,
            mode,
            timeout,
        };
        (Some(r), None, peer)
    }

    /// `ppk_id` naming a `[secrets.ppk.*]` entry.
    fn static_ppk(
        &mut self,
        base: &str,
        c: &IkeFields<'_>,
        mode: PpkMode,
        ctx: &ConnCtx<'_>,
    ) -> (Option<PpkRef>, Option<SecretBytes>, Option<String>) {
        let f = |s: &str| format!("{base}.{s}");
        if let Some(q) = c.qkd_peer_sae_id {
            self.error(
                &q.span(),
                &f("qkd_peer_sae_id"),
                "only used with ppk_source = \"qkd\"",
            );
        }
        let required = c.ppk_required.is_some_and(|r| *r.get_ref());
        let Some(id) = c.ppk_id else {
            if let Some(r) = c.ppk_required.filter(|r| *r.get_ref()) {
                self.error(&r.span(), &f("ppk_required"), "needs ppk_id");
            }
            return (None, None, None);
        };
        let secrets = ctx.secrets;
        let Some(found) = secrets.ppk.iter().find(|p| p.id == *id.get_ref()) else {
            if !secrets.ppk_invalid.contains(id.get_ref()) {
                self.error(
                    &id.span(),
                    &f("ppk_id"),
                    format!("no [secrets.ppk.*] entry has id = \"{}\"", id.get_ref()),
                );
            }
            return (None, None, None);
        };
        let r = PpkRef {
            source: PpkSourceKind::Secrets,
            id: id.get_ref().clone(),
            required,
            mode,
            timeout: Duration::ZERO,
        };
        (Some(r), Some(found.secret.dangerous_duplicate()), None)
    }

    fn ppk_mode(&mut self, field: &str, raw: Option<&Spanned<String>>) -> PpkMode {
        match raw.map(|m| (m.get_ref().as_str(), m.span())) {
            None | Some(("rfc8784", _)) => PpkMode::Rfc8784,
            Some(("rfc9867", _)) => PpkMode::Rfc9867,
            Some((other, span)) => {
                self.error(
                    &span,
                    field,
                    format!("unknown mode '{other}' (use rfc8784 or rfc9867)"),
                );
                PpkMode::Rfc8784
            }
        }
    }

    /// The policy as written (checked against the proposals and the PPK source), or inferred
    /// from them. `without_mlkem` is the index of the first proposal lacking ML-KEM.
    fn hybrid(
        &mut self,
        base: &str,
        c: &IkeFields<'_>,
        source: PpkSourceKind,
        without_mlkem: Option<usize>,
    ) -> (HybridPolicy, bool) {
        let field = format!("{base}.hybrid");
        let qkd = source == PpkSourceKind::Qkd;
        let Some(raw) = c.hybrid else {
            let policy = match (without_mlkem.is_none(), qkd) {
                (true, true) => HybridPolicy::PqcQkd,
                (true, false) => HybridPolicy::Pqc,
                (false, true) => HybridPolicy::Qkd,
                (false, false) => HybridPolicy::Classical,
            };
            return (policy, false);
        };
        let policy = match raw.get_ref().as_str() {
            "classical" => HybridPolicy::Classical,
            "pqc" => HybridPolicy::Pqc,
            "qkd" => HybridPolicy::Qkd,
            "pqc+qkd" => HybridPolicy::PqcQkd,
            other => {
                self.error(
                    &raw.span(),
                    &field,
                    format!("unknown policy '{other}' (use classical, pqc, qkd or pqc+qkd)"),
                );
                return (HybridPolicy::Classical, true);
            }
        };
        if let (true, Some(i)) = (policy.needs_pqc(), without_mlkem) {
            let name = c
                .proposals
                .get_ref()
                .get(i)
                .map_or("", |p| p.get_ref().as_str());
            self.error(&raw.span(), &field, format!("\"{}\" needs an ML-KEM key exchange in every IKE proposal; '{name}' has none that is mandatory (add e.g. ke1_mlkem768)", policy.as_str()));
        }
        if policy.needs_qkd() && !qkd {
            self.error(
                &raw.span(),
                &field,
                format!("\"{}\" needs ppk_source = \"qkd\"", policy.as_str()),
            );
        }
        if !policy.needs_qkd() && qkd {
            self.error(
                &raw.span(),
                &field,
                format!(
                    "\"{}\" does not match ppk_source = \"qkd\" (use qkd or pqc+qkd)",
                    policy.as_str()
                ),
            );
        }
        (policy, true)
    }
}

/// Whether every choice of some key exchange slot of `spec` is ML-KEM, so that any
/// negotiation of it runs ML-KEM.
fn guarantees_mlkem(spec: &ProposalSpec) -> bool {
    spec.ke
        .iter()
        .any(|slot| !slot.is_empty() && slot.iter().all(|k| is_mlkem(*k)))
}

/// Whether a key exchange is ML-KEM (any parameter set).
pub(super) fn is_mlkem(k: KeId) -> bool {
    matches!(k, KeId::ML_KEM_512 | KeId::ML_KEM_768 | KeId::ML_KEM_1024)
}
