//! The daemon's essential tasks and threads: the engine task, the UDP receivers, the control
//! and metrics servers and the datapath's threads (checked by the engine task once a second). If one of them dies (a panic, or an end
//! before shutdown) the daemon no longer does its job while still looking alive, so the death
//! is reported to [`Daemon::failure`](crate::Daemon::failure) and `iked` exits non-zero for its
//! supervisor (systemd's `Restart=on-failure`) to start it afresh.

use std::any::Any;
use std::future::Future;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Spawns and watches essential tasks; cloned into whatever starts one.
#[derive(Clone)]
pub(crate) struct Essential {
    fatal: mpsc::UnboundedSender<String>,
    shutdown: watch::Receiver<bool>,
}

impl Essential {
    /// A watcher whose reports come out of the returned receiver; ends after `shutdown` are
    /// expected and not reported.
    pub(crate) fn new(shutdown: watch::Receiver<bool>) -> (Self, mpsc::UnboundedReceiver<String>) {
        let (fatal, rx) = mpsc::unbounded_channel();
        (Self { fatal, shutdown }, rx)
    }

    /// Spawns `task` on the current runtime and watches it.
    pub(crate) fn spawn<F>(&self, name: impl Into<String>, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.watch(name.into(), tokio::spawn(task));
    }

    fn watch(&self, name: String, handle: JoinHandle<()>) {
        let (fatal, shutdown) = (self.fatal.clone(), self.shutdown.clone());
        tokio::spawn(async move {
            let why = match handle.await {
                Err(e) if e.is_panic() => {
                    format!("{name} panicked: {}", panic_message(&*e.into_panic()))
                }
                _ if *shutdown.borrow() => return,
                Ok(()) => format!("{name} stopped"),
                Err(_) => format!("{name} was cancelled"),
            };
            let _ = fatal.send(why);
        });
    }

    /// Reports a death found some other way (a datapath worker that is gone).
    pub(crate) fn report(&self, why: String) {
        let _ = self.fatal.send(why);
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_or_an_early_end_is_reported_and_an_end_after_shutdown_is_not() {
        let (stop, shutdown) = watch::channel(false);
        let (essential, mut fatal) = Essential::new(shutdown);
        essential.spawn("engine task", async { panic!("boom") });
        assert_eq!(
            fatal.recv().await.as_deref(),
            Some("engine task panicked: boom")
        );
        essential.spawn("receiver", async {});
        assert_eq!(fatal.recv().await.as_deref(), Some("receiver stopped"));
        essential.report("a datapath worker thread died".into());
        assert_eq!(
            fatal.recv().await.as_deref(),
            Some("a datapath worker thread died")
        );
        stop.send(true).expect("send");
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        essential.spawn("control server", async move {
            let _done = done_tx;
        });
        let _ = done_rx.await;
        drop(essential);
        assert_eq!(fatal.recv().await, None, "nothing reported after shutdown");
    }
}
