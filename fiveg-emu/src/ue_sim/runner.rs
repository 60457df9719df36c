//! One or many UEs against one N3IWF: started at a bounded rate, at most `concurrency`
//! registering at once, each on its own socket; registered UEs stay until told to leave.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ipsec_crypto::CryptoProvider;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinSet;

use super::params::UeParams;
use super::session::{Outcome, Session, UeFailure};
use super::subscribers::{Subscribers, UsimSpec};
use super::summary::{Summary, UeReport};

/// How many UEs, how fast.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub ues: usize,
    /// UEs started per second; 0 starts them as fast as `concurrency` allows.
    pub rate: f64,
    /// UEs registering at once.
    pub concurrency: usize,
    /// How long a leaving UE waits for the answer to its DELETE.
    pub linger: Duration,
}

impl Plan {
    /// When UE `index` starts, from the run's start.
    pub fn offset(&self, index: usize) -> Duration {
        if self.rate > 0.0 && self.rate.is_finite() {
            Duration::from_secs_f64(index as f64 / self.rate)
        } else {
            Duration::ZERO
        }
    }
}

/// A finished run: results, and the UEs still registered until [`Run::leave`].
pub struct Run {
    pub reports: Vec<UeReport>,
    pub failures: Vec<UeFailure>,
    /// First start to the last outcome.
    pub wall: Duration,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Run {
    pub fn summary(&self) -> Summary {
        Summary::new(&self.reports, self.failures.len(), self.wall)
    }

    /// Every registered UE deletes its IKE SA; waits for them (bounded by their linger).
    pub async fn leave(mut self) {
        let _ = self.stop.send(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Runs `plan`: UE `i` is subscriber `i` of `subscribers`.
///
/// # Errors
/// When a UE's subscriber cannot be derived (checked before any UE starts).
pub async fn run(
    plan: Plan,
    subscribers: &Subscribers,
    params: Arc<UeParams>,
    provider: &'static dyn CryptoProvider,
) -> Result<Run, String> {
    let usims = (0..plan.ues)
        .map(|i| subscribers.usim(i).map_err(|e| e.0))
        .collect::<Result<Vec<_>, _>>()?;
    let (done_tx, mut done_rx) = mpsc::channel(plan.ues.max(1));
    let (stop, stop_rx) = watch::channel(false);
    let permits = Arc::new(Semaphore::new(plan.concurrency.max(1)));
    let mut tasks = JoinSet::new();
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(plan.ues);
    for (index, usim) in usims.into_iter().enumerate() {
        tokio::time::sleep_until((start + plan.offset(index)).into()).await;
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        let ue = Ue {
            index,
            usim,
            params: Arc::clone(&params),
            provider,
            done: done_tx.clone(),
            stop: stop_rx.clone(),
            linger: plan.linger,
        };
        tasks.spawn(ue.run(permit));
        while let Ok(o) = done_rx.try_recv() {
            outcomes.push(o);
        }
    }
    drop(done_tx);
    while outcomes.len() < plan.ues {
        match done_rx.recv().await {
            Some(o) => outcomes.push(o),
            None => break,
        }
    }
    let wall = start.elapsed();
    let (mut reports, mut failures) = (Vec::new(), Vec::new());
    for o in outcomes {
        match o {
            Ok(r) => reports.push(r),
            Err(f) => failures.push(f),
        }
    }
    reports.sort_by_key(|r| r.index);
    failures.sort_by_key(|f| f.index);
    Ok(Run {
        reports,
        failures,
        wall,
        stop,
        tasks,
    })
}

struct Ue {
    index: usize,
    usim: UsimSpec,
    params: Arc<UeParams>,
    provider: &'static dyn CryptoProvider,
    done: mpsc::Sender<Outcome>,
    stop: watch::Receiver<bool>,
    linger: Duration,
}

impl Ue {
    async fn run(mut self, permit: OwnedSemaphorePermit) {
        let mut session = match Session::new(self.index, &self.usim, self.params, self.provider) {
            Ok(s) => s,
            Err(error) => {
                let failure = UeFailure {
                    index: self.index,
                    supi: format!("imsi-{}", self.usim.supi.imsi_digits()),
                    stage: "setup",
                    error,
                };
                let _ = self.done.send(Err(failure)).await;
                return;
            }
        };
        let outcome = session.register().await;
        drop(permit);
        let registered = outcome.is_ok();
        let _ = self.done.send(outcome).await;
        if registered {
            session.hold_then_leave(&mut self.stop, self.linger).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rate: f64) -> Plan {
        Plan {
            ues: 10,
            rate,
            concurrency: 4,
            linger: Duration::ZERO,
        }
    }

    #[test]
    fn ues_start_at_the_rate_or_at_once() {
        assert_eq!(plan(0.0).offset(9), Duration::ZERO);
        assert_eq!(plan(f64::INFINITY).offset(9), Duration::ZERO);
        assert_eq!(plan(4.0).offset(0), Duration::ZERO);
        assert_eq!(plan(4.0).offset(6), Duration::from_millis(1500));
    }
}
