//! Claims: a configuration is recorded RUNNING under the run of the process computing
//! it before the work starts, so that processes sharing one database split a plan
//! instead of each computing all of it (the shared-storage pattern of Optuna).
//!
//! A claim is the configuration's own run row (its configuration hash is unique per
//! experiment), so claiming is one `BEGIN IMMEDIATE` transaction that sees every other
//! claim: two processes never hold the same configuration. A claim lives as long as
//! its owner's heartbeat ([`Store::heartbeat`] refreshes a run's claims with it); a
//! claim whose owner died (its process gone on this host, or its heartbeat stale) is
//! taken over by the next process that asks.

use std::time::Duration;

use rusqlite::{OptionalExtension, params};

use crate::error::Result;
use crate::provenance::host_name;
use crate::store::{Existing, Store, owner_gone};
use crate::values::{NewRun, RunStatus, now_ms};

/// A configuration a process would like to compute.
#[derive(Debug, Clone, Copy)]
pub struct ClaimRequest<'a> {
    pub name: &'a str,
    pub config_hash: &'a str,
    /// Claim it even if it is FINISHED, when it finished before this time (ms since
    /// the epoch): `--force` redoes what was done before it started, not what a
    /// fellow worker did since.
    pub redo_finished_before: Option<i64>,
}

/// What a claim request found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimState {
    /// It is ours to compute now; `taken_over` says why a previous claim was dropped.
    Claimed { taken_over: Option<String> },
    /// It is finished (run `uuid`): nothing to compute.
    Finished { uuid: String },
    /// Another live run (`owner`) is computing it.
    Busy { owner: String },
    /// It could be claimed, but this call's share was already taken.
    Left,
}

impl Store {
    /// Claims for run `owner` a share of the configurations in `requests` that nobody
    /// live holds: of the `n` claimable ones, the first `⌈n / share⌉` in order (so
    /// `share` = the number of live workers gives each a fair part, and 1 claims
    /// them all). A claimable configuration is one not yet in the database, FAILED
    /// or KILLED, RUNNING under a dead owner, already claimed by `owner`, or FINISHED
    /// before its request's `redo_finished_before`. Returns one state per request.
    pub fn claim_runs(
        &mut self,
        experiment_id: i64,
        owner: &str,
        requests: &[ClaimRequest<'_>],
        share: usize,
        stale_after: Duration,
    ) -> Result<Vec<ClaimState>> {
        let now = now_ms();
        let (pid, host) = (std::process::id(), host_name());
        self.write(|tx| {
            let mut lookup = tx.prepare_cached(
                "SELECT id, status, parent_uuid, heartbeat_ms, pid, host, end_ms FROM runs
                 WHERE experiment_id = ?1 AND config_hash = ?2",
            )?;
            // What each request finds, and the row id of a claimable existing run.
            let mut found: Vec<(ClaimState, Option<i64>)> = Vec::with_capacity(requests.len());
            for request in requests {
                let row = lookup
                    .query_row(params![experiment_id, request.config_hash], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<i64>>(3)?,
                            r.get::<_, Option<u32>>(4)?,
                            r.get::<_, Option<String>>(5)?,
                            r.get::<_, Option<i64>>(6)?,
                        ))
                    })
                    .optional()?;
                let claimable = |id, taken_over| (ClaimState::Claimed { taken_over }, Some(id));
                found.push(match row {
                    None => (ClaimState::Claimed { taken_over: None }, None),
                    Some((id, status, parent, heartbeat, run_pid, run_host, end_ms)) => {
                        match RunStatus::parse(&status).unwrap_or(RunStatus::Failed) {
                            RunStatus::Finished => match request.redo_finished_before {
                                Some(before) if end_ms.unwrap_or(0) < before => {
                                    claimable(id, None)
                                }
                                _ => (
                                    ClaimState::Finished {
                                        uuid: run_uuid(tx, id)?,
                                    },
                                    None,
                                ),
                            },
                            RunStatus::Failed | RunStatus::Killed => claimable(id, None),
                            RunStatus::Running if parent.as_deref() == Some(owner) => {
                                claimable(id, None)
                            }
                            RunStatus::Running => match owner_gone(
                                now,
                                heartbeat,
                                run_pid,
                                run_host.as_deref(),
                                &host,
                                stale_after,
                            ) {
                                Some(reason) => claimable(
                                    id,
                                    Some(format!(
                                        "the claim of run {} was dropped: {reason}",
                                        parent.as_deref().unwrap_or("?")
                                    )),
                                ),
                                None => (
                                    ClaimState::Busy {
                                        owner: parent.unwrap_or_default(),
                                    },
                                    None,
                                ),
                            },
                        }
                    }
                });
            }
            drop(lookup);
            let claimable = found
                .iter()
                .filter(|(state, _)| matches!(state, ClaimState::Claimed { .. }))
                .count();
            let mut quota = claimable.div_ceil(share.max(1));
            let mut states = Vec::with_capacity(requests.len());
            for (request, (state, existing)) in requests.iter().zip(found) {
                if !matches!(state, ClaimState::Claimed { .. }) {
                    states.push(state);
                    continue;
                }
                if quota == 0 {
                    states.push(ClaimState::Left);
                    continue;
                }
                quota -= 1;
                match existing {
                    Some(id) => {
                        tx.execute(
                            "UPDATE runs SET status = 'RUNNING', parent_uuid = ?2, name = ?3, start_ms = ?4,
                             end_ms = NULL, heartbeat_ms = ?4, failure_reason = NULL, pid = ?5, host = ?6
                             WHERE id = ?1",
                            params![id, owner, request.name, now, pid, host],
                        )?;
                    }
                    None => {
                        tx.execute(
                            "INSERT INTO runs (uuid, experiment_id, parent_uuid, name, status, start_ms, heartbeat_ms, config_hash, pid, host)
                             VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, ?5, ?6, ?7, ?8)",
                            params![
                                uuid::Uuid::new_v4().to_string(),
                                experiment_id,
                                owner,
                                request.name,
                                now,
                                request.config_hash,
                                pid,
                                host
                            ],
                        )?;
                    }
                }
                states.push(state);
            }
            Ok(states)
        })
    }

    /// Records claimed configurations as finished runs in one transaction, replacing
    /// their claims. A configuration another worker finished meanwhile (its claim was
    /// taken over from this process) keeps that worker's run: `None` in its place.
    pub fn finish_claimed_runs(&mut self, runs: &[NewRun<'_>]) -> Result<Vec<Option<String>>> {
        self.insert_finished_runs(runs, Existing::ReplaceUnlessFinished)
    }

    /// How many runs without a parent (study runs: one per working process) are RUNNING
    /// in the experiment with a heartbeat younger than `stale_after`: the workers that
    /// share the plan.
    pub fn live_workers(&self, experiment_id: i64, stale_after: Duration) -> Result<usize> {
        let since = now_ms() - stale_after.as_millis() as i64;
        self.conn
            .query_row(
                "SELECT COUNT(*) FROM runs WHERE experiment_id = ?1 AND parent_uuid IS NULL
                 AND status = 'RUNNING' AND heartbeat_ms >= ?2",
                params![experiment_id, since],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as usize)
            .map_err(self.sql())
    }
}

fn run_uuid(tx: &rusqlite::Transaction<'_>, id: i64) -> rusqlite::Result<String> {
    tx.query_row("SELECT uuid FROM runs WHERE id = ?1", [id], |r| r.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::{Metric, ParamValue};

    const STALE: Duration = Duration::from_secs(60);

    fn request(hash: &str) -> ClaimRequest<'_> {
        ClaimRequest {
            name: hash,
            config_hash: hash,
            redo_finished_before: None,
        }
    }

    fn finished<'a>(exp: i64, parent: &'a str, hash: &str, accuracy: f64) -> NewRun<'a> {
        NewRun {
            experiment_id: exp,
            parent: Some(parent),
            name: hash.to_owned(),
            config_hash: hash.to_owned(),
            params: vec![("C".to_owned(), ParamValue::from(1.0))],
            metrics: vec![Metric::new("cv_accuracy", accuracy, 0)],
            tags: Vec::new(),
            start_ms: 1,
            end_ms: 2,
            predictions: Vec::new(),
            artifacts: Vec::new(),
        }
    }

    fn study(store: &mut Store, exp: i64, name: &str) -> String {
        store
            .start_run(exp, None, name, name, &[], &[])
            .expect("study run")
    }

    fn claimed(states: &[ClaimState]) -> usize {
        states
            .iter()
            .filter(|s| matches!(s, ClaimState::Claimed { .. }))
            .count()
    }

    #[test]
    fn workers_claim_disjoint_shares_and_finished_work_is_never_claimed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("e").expect("experiment");
        let (a, b) = (study(&mut store, exp, "a"), study(&mut store, exp, "b"));
        assert_eq!(store.live_workers(exp, STALE).expect("count"), 2);
        let hashes: Vec<String> = (0..7).map(|i| format!("h{i}")).collect();
        let requests: Vec<ClaimRequest<'_>> = hashes.iter().map(|h| request(h)).collect();
        let first = store.claim_runs(exp, &a, &requests, 2, STALE).expect("a");
        assert_eq!(claimed(&first), 4, "⌈7 / 2⌉: {first:?}");
        assert_eq!(
            first[4..],
            [ClaimState::Left, ClaimState::Left, ClaimState::Left]
        );
        let second = store.claim_runs(exp, &b, &requests, 2, STALE).expect("b");
        assert_eq!(claimed(&second), 2, "⌈3 / 2⌉: {second:?}");
        assert!(
            second[..4]
                .iter()
                .all(|s| *s == ClaimState::Busy { owner: a.clone() })
        );
        // A's own claims stay A's; B's are busy for A.
        let again = store
            .claim_runs(exp, &a, &requests, 1, STALE)
            .expect("a again");
        assert_eq!(claimed(&again), 5, "{again:?}");
        assert_eq!(again[4], ClaimState::Busy { owner: b.clone() });
        // A finishes h0: nobody claims it again, and B's late result does not replace it.
        let written = store
            .finish_claimed_runs(&[finished(exp, &a, "h0", 0.9)])
            .expect("finish");
        let uuid = written[0].clone().expect("recorded");
        let after = store
            .claim_runs(exp, &b, &requests[..1], 1, STALE)
            .expect("b");
        assert_eq!(after, [ClaimState::Finished { uuid: uuid.clone() }]);
        let late = store
            .finish_claimed_runs(&[finished(exp, &b, "h0", 0.1)])
            .expect("late");
        assert_eq!(late, [None]);
        let run = store.run(&uuid).expect("run");
        assert_eq!(run.status, RunStatus::Finished);
        assert_eq!(run.metric("cv_accuracy", 0), Some(0.9));
        assert_eq!(run.parent.as_deref(), Some(a.as_str()));
        // `--force` redoes what finished before it started, not what finished since.
        let redo = ClaimRequest {
            redo_finished_before: Some(now_ms() + 1_000),
            ..request("h0")
        };
        let keep = ClaimRequest {
            redo_finished_before: Some(0),
            ..request("h0")
        };
        assert_eq!(
            store.claim_runs(exp, &b, &[keep], 1, STALE).expect("keep"),
            [ClaimState::Finished { uuid }]
        );
        assert_eq!(
            claimed(&store.claim_runs(exp, &b, &[redo], 1, STALE).expect("redo")),
            1
        );
    }

    #[test]
    fn a_dead_owners_claims_are_taken_over_and_an_ended_run_releases_its_claims() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut store = Store::open(&dir.path().join("runs.db")).expect("open");
        let exp = store.experiment("e").expect("experiment");
        let (a, b) = (study(&mut store, exp, "a"), study(&mut store, exp, "b"));
        let requests = [request("x"), request("y")];
        assert_eq!(
            claimed(&store.claim_runs(exp, &a, &requests, 1, STALE).expect("a")),
            2
        );
        // A's heartbeat keeps its claims alive; silence makes them stale.
        store.heartbeat(&a).expect("heartbeat");
        assert!(matches!(
            store
                .claim_runs(exp, &b, &requests[..1], 1, STALE)
                .expect("b")[0],
            ClaimState::Busy { .. }
        ));
        store
            .conn
            .execute(
                "UPDATE runs SET heartbeat_ms = 0 WHERE config_hash = 'x'",
                [],
            )
            .expect("silence");
        let taken = store
            .claim_runs(exp, &b, &requests[..1], 1, STALE)
            .expect("b");
        match &taken[0] {
            ClaimState::Claimed {
                taken_over: Some(why),
            } => assert!(why.contains(&a) && why.contains("no heartbeat"), "{why}"),
            other => panic!("expected a takeover, got {other:?}"),
        }
        // A dies: y is released FAILED, with the reason, and B claims it.
        store
            .end_run(&a, RunStatus::Killed, Some("interrupted (SIGINT)"))
            .expect("end");
        let y: (String, String) = store
            .conn
            .query_row(
                "SELECT status, failure_reason FROM runs WHERE config_hash = 'y'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .expect("y");
        assert_eq!(y.0, "KILLED");
        assert!(
            y.1.contains("before computing it: interrupted (SIGINT)"),
            "{}",
            y.1
        );
        assert_eq!(
            store
                .claim_runs(exp, &b, &requests[1..], 1, STALE)
                .expect("b"),
            [ClaimState::Claimed { taken_over: None }]
        );
        assert_eq!(store.live_workers(exp, STALE).expect("count"), 1);
    }
}
