//! Workers sharing one database: a study claims configurations in the database
//! ([`sarlab_track::Store::claim_runs`]) before computing them, a fair share at a
//! time, so N `sarlab run` processes on one file split the plan, and each
//! configuration is computed once. A worker with nothing left to claim waits for the
//! others' claims (taking over those of a worker that died), so that every worker
//! ends with the whole study done.

use std::time::Duration;

use sarlab_track::{ClaimRequest, ClaimState};

use crate::engine::StudyRun;
use crate::error::Result;
use crate::heartbeat::STALE_AFTER;
use crate::observer::Event;

/// How often a worker waiting for other workers' claims looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A configuration to claim: its run name and configuration hash.
pub(crate) struct Wanted<'a> {
    pub name: &'a str,
    pub hash: &'a str,
    /// Redo it if it finished before this study started (`--force`, or a test run
    /// whose model file is gone).
    pub redo: bool,
}

impl StudyRun<'_> {
    /// Claims `⌈claimable / share⌉` of `wanted` (all of them with `share` = 1).
    pub(crate) fn claim(&mut self, wanted: &[Wanted<'_>], share: usize) -> Result<Vec<ClaimState>> {
        let requests: Vec<ClaimRequest<'_>> = wanted
            .iter()
            .map(|w| ClaimRequest {
                name: w.name,
                config_hash: w.hash,
                redo_finished_before: (self.study.force || w.redo).then_some(self.started_ms),
            })
            .collect();
        let states =
            self.store
                .claim_runs(self.experiment, self.parent, &requests, share, STALE_AFTER)?;
        for (w, state) in wanted.iter().zip(&states) {
            if let ClaimState::Claimed {
                taken_over: Some(why),
            } = state
            {
                tracing::warn!("took over `{}`: {why}", w.name);
            }
        }
        Ok(states)
    }

    /// The live workers of this experiment (this one included).
    pub(crate) fn live_workers(&self) -> Result<usize> {
        Ok(self
            .store
            .live_workers(self.experiment, STALE_AFTER)?
            .max(1))
    }

    /// Waits one poll interval for other workers, first marking FAILED the runs of
    /// any that died (their claims become free to take).
    pub(crate) fn wait_for_workers(&mut self) -> Result<()> {
        self.stop_if_requested()?;
        for (uuid, reason) in self
            .store
            .fail_dead_runs(Some(self.experiment), STALE_AFTER)?
        {
            self.observer.on(Event::DeadRunFailed {
                run: &uuid,
                reason: &reason,
            });
        }
        std::thread::sleep(POLL_INTERVAL);
        Ok(())
    }
}
