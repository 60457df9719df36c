//! Both roles: every key exchange of the exchange is done; the new Child SA gets its KEYMAT
//! (RFC 7296 §2.17), the new IKE SA its SKEYSEED (§2.18), with SK_d' when a PPK is in it.

use std::time::Instant;

use ipsec_crypto::SecretBytes;

use super::{Agreed, Agreement, CcKind, Nonces, Side};
use crate::error::Error;
use crate::event::Event;
use crate::proposal::Negotiated;
use crate::sa::child::{ChildParams, ChildSeed};
use crate::sa::init::key_lengths;
use crate::sa::tasks::Task;
use crate::sa::{Ctx, IkeSa, State};
use crate::wire::IkeSpi;

/// The secrets of a finished exchange, for the new SA's keys.
struct Secrets<'a> {
    nonces: &'a Nonces,
    first: Option<&'a SecretBytes>,
    additional: Vec<&'a [u8]>,
    /// RFC 9867: `SK_d'` with the exchange's PPK, in place of the IKE SA's SK_d.
    sk_d: Option<SecretBytes>,
}

/// The new IKE SA of a rekey, as agreed.
struct IkeRekey {
    suite: Negotiated,
    spi_i: IkeSpi,
    spi_r: IkeSpi,
    we_initiated: bool,
}

impl IkeSa {
    /// Both roles: all key exchanges are done; derive and hand out the new SA.
    pub(super) fn complete_cc(&mut self, now: Instant, cc: Agreement, ctx: &mut Ctx<'_>) {
        let Some(sk_d) = self.exchange_sk_d(cc.ppk.as_ref(), ctx) else {
            tracing::warn!(sa = %self.id, "SK_d' derivation failed");
            return;
        };
        let (kind, we_initiated) = (cc.kind(), cc.we_initiated());
        let Agreement {
            side,
            nonces,
            agreed,
            kes,
            ..
        } = cc;
        let ppk_refused = matches!(
            side,
            Side::Initiator {
                ppk_refused: true,
                ..
            }
        );
        if ppk_refused {
            ctx.stats.child_ppk_failures += 1;
        }
        let secrets = Secrets {
            nonces: &nonces,
            first: kes.first.as_ref(),
            additional: kes.additional.iter().map(SecretBytes::expose).collect(),
            sk_d,
        };
        match agreed {
            Agreed::Ike {
                suite,
                spi_i,
                spi_r,
            } => {
                let rekey = IkeRekey {
                    suite,
                    spi_i,
                    spi_r,
                    we_initiated,
                };
                self.complete_ike_rekey(now, rekey, &secrets, ppk_refused, ctx);
            }
            Agreed::Child(params) => self.complete_child(now, kind, params, side, &secrets, ctx),
        }
    }

    /// `SK_d'` for an exchange with a PPK (`Some(None)` without one); `None` when it fails.
    fn exchange_sk_d(
        &self,
        ppk: Option<&SecretBytes>,
        ctx: &Ctx<'_>,
    ) -> Option<Option<SecretBytes>> {
        let Some(key) = ppk else {
            return Some(None);
        };
        let prf = self.prf(ctx)?;
        self.keys.as_ref()?.sk_d_with_ppk(prf, key).map(Some)
    }

    /// A new or rekeyed Child SA: installed and announced, then the rekey's old SA settled.
    fn complete_child(
        &mut self,
        now: Instant,
        kind: CcKind,
        params: ChildParams,
        side: Side,
        secrets: &Secrets<'_>,
        ctx: &mut Ctx<'_>,
    ) {
        let seed = ChildSeed {
            we_initiated: matches!(side, Side::Initiator { .. }),
            ni: &secrets.nonces.ni,
            nr: &secrets.nonces.nr,
            ke: secrets.first.map(SecretBytes::expose),
            additional: &secrets.additional,
            sk_d: secrets.sk_d.as_ref(),
        };
        let (replaces, new_inbound) = (params.replaces, params.inbound_spi);
        let child = match self.install_child(now, params, seed, ctx) {
            Ok(child) => child,
            Err(e) => {
                tracing::warn!(sa = %self.id, error = %e, "Child SA derivation failed");
                return self.abandon_kind(now, kind, e, ctx);
            }
        };
        let (we_initiated, peer_collision) = match side {
            Side::Initiator {
                ppk_refused: true, ..
            } => {
                // The peer created it without the PPK we require: delete it again and retry a
                // rekey later; the old SA stays.
                drop(child);
                self.tasks.push_front(Task::DeleteChild {
                    inbound_spi: new_inbound,
                });
                let e = Error::AuthenticationFailed("responder did not use the PPK");
                return self.abandon_kind(now, kind, e, ctx);
            }
            Side::Initiator { peer_collision, .. } => (true, peer_collision),
            Side::Responder => (false, None),
        };
        if let CcKind::NewChild { request: Some(id) } = kind {
            self.take_child_request(id);
        }
        ctx.stats.child_sas_established += 1;
        ctx.events
            .push_back(Event::ChildSaEstablished { sa: self.id, child });
        if let Some(old) = replaces {
            let ours = secrets.nonces.lowest();
            self.after_child_rekey(old, new_inbound, we_initiated, ours, peer_collision);
        }
    }

    /// The new IKE SA of a rekey: keys from the old SK_d, Child SAs moved over.
    fn complete_ike_rekey(
        &mut self,
        now: Instant,
        rekey: IkeRekey,
        secrets: &Secrets<'_>,
        ppk_refused: bool,
        ctx: &mut Ctx<'_>,
    ) {
        let we_initiated = rekey.we_initiated;
        let Some(mut new) = self.successor(now, rekey, secrets, ctx) else {
            tracing::warn!(sa = %self.id, "IKE SA rekey derivation failed");
            return;
        };
        new.export_keys(ctx);
        new.forget_handshake_state();
        if ppk_refused {
            // The peer rekeyed without the PPK we require and already moved its Child SAs to
            // the new IKE SA: close it (fail closed).
            tracing::warn!(sa = %new.id, "IKE SA rekeyed without the required PPK: closing it");
            new.queue(now, Task::DeleteIke, ctx);
        }
        if self.ike_collision.is_some() {
            return self.collided_rekey_done(now, we_initiated, new, ctx);
        }
        // RFC 7296 §2.18: the initiator of the rekey deletes the old IKE SA.
        self.adopt_rekeyed(new, we_initiated, ctx);
    }

    /// The IKE SA that a rekey creates, established, with this one's path and capabilities.
    fn successor(
        &self,
        now: Instant,
        rekey: IkeRekey,
        secrets: &Secrets<'_>,
        ctx: &Ctx<'_>,
    ) -> Option<Self> {
        let old_prf = self.prf(ctx)?;
        let new_prf = ctx.provider.prf(rekey.suite.prf_algorithm()?)?;
        let lengths = key_lengths(&rekey.suite, new_prf.output_len(), ctx)?;
        let keys = self.keys.as_ref()?.rekeyed(
            old_prf,
            new_prf,
            lengths,
            secrets.sk_d.as_ref(),
            secrets.first?.expose(),
            &secrets.additional,
            &secrets.nonces.ni,
            &secrets.nonces.nr,
            rekey.spi_i,
            rekey.spi_r,
        )?;
        let (local, remote) = (self.local, self.remote);
        let conn = self.conn.clone();
        let mut sa = Self::blank(
            conn,
            rekey.we_initiated,
            rekey.spi_i,
            rekey.spi_r,
            local,
            remote,
        );
        sa.suite = Some(rekey.suite);
        sa.install_keys(keys, ctx)?;
        sa.peer = self.peer;
        sa.nat_local = self.nat_local;
        sa.nat_peer = self.nat_peer;
        sa.timers.keepalive = self.timers.keepalive;
        sa.origin = self.origin;
        sa.ppk_used = self.ppk_used || secrets.sk_d.is_some();
        sa.state = State::Established;
        sa.arm_timers(now, ctx);
        Some(sa)
    }
}
