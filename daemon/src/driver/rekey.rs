//! `ikectl rekey`: rekeys an IKE SA or one Child SA on request and answers once the successor
//! is in place (RFC 7296 §1.3.2, §1.3.3), or when the IKE SA fails or closes first.

use std::time::Instant;

use ikev2::{EspSpi, SaId};
use tokio::sync::oneshot;

use super::{Driver, SaState, sa_name};
use crate::proto::{ErrorCode, RekeyView};

/// A pending `rekey` answer.
pub(super) struct RekeyWaiter {
    /// The IKE SA that runs the exchange (for an IKE rekey, the one being replaced).
    sa: SaId,
    connection: String,
    /// For a Child SA rekey: its name and old inbound SPI.
    child: Option<(String, EspSpi)>,
    reply: oneshot::Sender<Result<RekeyView, String>>,
}

pub(crate) type RekeyReply = oneshot::Receiver<Result<RekeyView, String>>;

impl Driver {
    /// Starts the rekey of `name`'s established IKE SA, or of its Child SA `child`.
    pub(super) fn rekey(
        &mut self,
        name: &str,
        child: Option<&str>,
    ) -> Result<RekeyReply, (ErrorCode, String)> {
        if !self.conns.iter().any(|c| c.conn.name == name) {
            return Err((ErrorCode::NotFound, format!("no connection named '{name}'")));
        }
        let (sa, entry) = self
            .sas
            .iter()
            .filter(|(_, e)| e.connection == name && e.state == SaState::Established)
            .max_by_key(|(_, e)| e.established_at)
            .ok_or_else(|| {
                (
                    ErrorCode::NotFound,
                    format!(
                        "connection '{name}' has no established IKE SA (try: ikectl up {name})"
                    ),
                )
            })?;
        let sa = *sa;
        let now = Instant::now();
        let child = match child {
            None => None,
            Some(c) => {
                // During a rekey overlap the newest SA of that name is the live one.
                let record = entry
                    .children
                    .iter()
                    .filter(|r| r.name == c)
                    .max_by_key(|r| r.installed_at)
                    .ok_or_else(|| {
                        (
                            ErrorCode::NotFound,
                            format!(
                                "IKE SA {} of '{name}' has no Child SA named '{c}'",
                                sa_name(sa)
                            ),
                        )
                    })?;
                Some((c.to_string(), record.inbound_spi))
            }
        };
        let started = match &child {
            None => self.endpoint.rekey_ike(now, sa),
            Some((_, spi)) => self.endpoint.rekey_child(now, sa, *spi),
        };
        if let Err(e) = started {
            return Err((
                ErrorCode::Engine,
                format!("the engine cannot rekey IKE SA {} now: {e}", sa_name(sa)),
            ));
        }
        entry.span.in_scope(|| match &child {
            None => tracing::info!("IKE SA rekey requested"),
            Some((c, spi)) => {
                tracing::info!(child = %c, inbound_spi = %spi, "Child SA rekey requested")
            }
        });
        let (reply, rx) = oneshot::channel();
        self.rekeys.push(RekeyWaiter {
            sa,
            connection: name.into(),
            child,
            reply,
        });
        Ok(rx)
    }

    /// The IKE SA `old` was replaced by `new`: IKE waiters are answered, Child waiters follow.
    pub(super) fn rekey_ike_done(&mut self, old: SaId, new: SaId) {
        for w in std::mem::take(&mut self.rekeys) {
            if w.sa != old {
                self.rekeys.push(w);
            } else if w.child.is_none() {
                let _ = w.reply.send(Ok(RekeyView {
                    connection: w.connection,
                    ike_sa: sa_name(new),
                    child: None,
                    old: sa_name(old),
                    new: sa_name(new),
                }));
            } else {
                self.rekeys.push(RekeyWaiter { sa: new, ..w });
            }
        }
    }

    /// A Child SA of `sa` replacing `old_spi` was installed with inbound SPI `new_spi`.
    pub(super) fn rekey_child_done(&mut self, sa: SaId, old_spi: EspSpi, new_spi: EspSpi) {
        for w in std::mem::take(&mut self.rekeys) {
            match &w.child {
                Some((name, spi)) if w.sa == sa && *spi == old_spi => {
                    let _ = w.reply.send(Ok(RekeyView {
                        connection: w.connection,
                        ike_sa: sa_name(sa),
                        child: Some(name.clone()),
                        old: format!("{old_spi:08x}"),
                        new: format!("{new_spi:08x}"),
                    }));
                }
                _ => self.rekeys.push(w),
            }
        }
    }

    /// The IKE SA is gone before the rekey finished.
    pub(super) fn rekey_abandoned(&mut self, sa: SaId, reason: &str) {
        for w in std::mem::take(&mut self.rekeys) {
            if w.sa == sa {
                let _ = w
                    .reply
                    .send(Err(format!("IKE SA {} ended: {reason}", sa_name(sa))));
            } else {
                self.rekeys.push(w);
            }
        }
    }
}
