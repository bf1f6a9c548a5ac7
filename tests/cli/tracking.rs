//! The run store seen from the command line: shards and merge, signals, crashes,
//! forced reruns and the `runs` queries.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::support::*;

/// A study that takes a few seconds: 4 feature methods × 25 grid points, 5 folds on
/// 1200 training chips. Configuration runs are recorded a method at a time, so a
/// process killed part-way leaves some finished and some missing.
const SLOW_SPEC: &str = r#"
name = "slow"
seed = 5

[dataset]
source = "synthetic"
path = "data"

[dataset.synthetic]
chip_size = 64
train_per_class = 150
test_per_class = 5

[preprocess]
crop = 48
intensity = "db"

[[features]]
method = "raw"
downsample = 2

[[features]]
method = "hog"
pixels_per_cell = 8
cells_per_block = 2

[[features]]
method = "raw"
downsample = 4

[[features]]
method = "hog"
pixels_per_cell = 6
cells_per_block = 2

[svm]
C = [0.1, 1, 10, 100, 1000]
gamma = ["scale", 0.0001, 0.001, 0.01, 0.1]
folds = 5
"#;
const SLOW_CONFIGURATIONS: i64 = 100;

fn spawn_sarlab(ws: &Workspace, args: &[&str]) -> Child {
    ws.command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sarlab starts")
}

/// Starts [`SLOW_SPEC`] into `runs.db` in the background.
fn spawn_slow_study(ws: &Workspace) -> Child {
    ws.write("slow.toml", SLOW_SPEC);
    spawn_sarlab(
        ws,
        &["run", "slow.toml", "--db", "runs.db", "--reports", "out"],
    )
}

/// Polls `sql` (a count) until it reaches `at_least`; fails if `child` ends first.
fn wait_for_count(ws: &Workspace, child: &mut Child, sql: &str, at_least: i64) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("sarlab ended ({status}) before `{sql}` reached {at_least}");
        }
        if ws.path("runs.db").exists() {
            // The database may be mid-creation; a failed read is simply retried.
            let seen = Connection::open(ws.path("runs.db"))
                .and_then(|db| db.query_row(sql, [], |r| r.get::<_, i64>(0)))
                .unwrap_or(0);
            if seen >= at_least {
                return;
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for `{sql}`");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn integrity(db: &Connection) -> String {
    db.query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check")
}

/// (config hash, metric key, step, value) of every configuration run, timings excepted.
fn configuration_metrics(db: &Connection, stage: &str) -> Vec<(String, String, i64, f64)> {
    let mut stmt = db
        .prepare(
            "SELECT r.config_hash, m.key, m.step, m.value FROM metrics m \
             JOIN runs r ON r.id = m.run_id \
             JOIN params p ON p.run_id = r.id AND p.key = 'stage' AND p.value = ?1 \
             WHERE m.key NOT LIKE '%seconds' ORDER BY 1, 2, 3",
        )
        .expect("prepare");
    stmt.query_map([stage], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

fn send_signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{signal} failed");
}

#[test]
fn four_shards_merged_equal_one_process_and_merging_twice_changes_nothing() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    // The whole spec in one process (this also generates the dataset the shards share).
    assert_success(&ws.sarlab(&["run", "tiny.toml", "--db", "single.db", "--reports", "out"]));

    // Four shards at the same time, each into its own database.
    let children: Vec<Child> = (0..4)
        .map(|i| {
            let shard = format!("{i}/4");
            let db = format!("shard-{i}.db");
            spawn_sarlab(
                &ws,
                &[
                    "run",
                    "tiny.toml",
                    "--db",
                    &db,
                    "--reports",
                    "out",
                    "--shard",
                    &shard,
                ],
            )
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().expect("shard finishes");
        assert_success(&out);
        // 8 configurations over 4 shards: every 4th, two each.
        assert!(
            stdout(&out).contains(&format!(
                "shard {i}/4: 2 configuration(s) run now, 0 already finished"
            )),
            "{}",
            stdout(&out)
        );
        let db = ws.db(&format!("shard-{i}.db"));
        assert_eq!(stage_count(&db, "cv"), 2);
        // A shard only cross-validates: the test refits need every shard's results.
        assert_eq!(stage_count(&db, "test"), 0);
    }

    let merge = ws.sarlab(&[
        "merge",
        "merged.db",
        "shard-0.db",
        "shard-1.db",
        "shard-2.db",
        "shard-3.db",
    ]);
    assert_success(&merge);
    // 2 configuration runs and 1 study run per shard.
    assert_eq!(
        stdout(&merge)
            .matches("3 runs added, 0 already present")
            .count(),
        4
    );
    let single = ws.db("single.db");
    let merged = ws.db("merged.db");
    assert_eq!(
        configuration_metrics(&merged, "cv"),
        configuration_metrics(&single, "cv")
    );
    assert_eq!(count(&merged, "SELECT COUNT(*) FROM runs"), 12);
    let snapshot = |db: &Connection| {
        (
            count(db, "SELECT COUNT(*) FROM runs"),
            count(db, "SELECT COUNT(*) FROM params"),
            count(db, "SELECT COUNT(*) FROM metrics"),
            count(db, "SELECT COUNT(*) FROM tags"),
            count(db, "SELECT COUNT(*) FROM experiments"),
        )
    };
    let before = snapshot(&merged);

    // Merging the same shards again (and the merged database into a copy of itself's
    // sources) adds nothing.
    let again = ws.sarlab(&[
        "merge",
        "merged.db",
        "shard-0.db",
        "shard-1.db",
        "shard-2.db",
        "shard-3.db",
    ]);
    assert_success(&again);
    assert_eq!(
        stdout(&again)
            .matches("0 runs added, 3 already present")
            .count(),
        4
    );
    assert_eq!(snapshot(&ws.db("merged.db")), before);
    assert_failure_mentions(
        &ws.sarlab(&["merge", "merged.db", "merged.db"]),
        &["itself"],
    );
    assert_failure_mentions(
        &ws.sarlab(&["merge", "merged.db", "missing.db"]),
        &["missing.db"],
    );

    // The spec run on the merged database finds every configuration finished and
    // does the test refits: the same numbers as the single process.
    let finish = ws.sarlab(&["run", "tiny.toml", "--db", "merged.db", "--reports", "out"]);
    assert_success(&finish);
    assert!(
        stdout(&finish).contains("0 run now, 8 already finished"),
        "{}",
        stdout(&finish)
    );
    let merged = ws.db("merged.db");
    assert_eq!(
        configuration_metrics(&merged, "test"),
        configuration_metrics(&single, "test")
    );
    assert_eq!(integrity(&merged), "ok");
}

#[test]
fn slurm_array_variables_choose_the_shard() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    let run = |vars: &[(&str, &str)]| {
        ws.command(&["run", "tiny.toml", "--db", "runs.db", "--reports", "out"])
            .envs(vars.iter().copied())
            .output()
            .expect("sarlab runs")
    };
    // `--array=1-4`: task 3 is the third shard (index 2) of four.
    let out = run(&[
        ("SLURM_ARRAY_TASK_ID", "3"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
        ("SLURM_ARRAY_TASK_MIN", "1"),
    ]);
    assert_success(&out);
    assert!(stdout(&out).contains("shard 2/4"), "{}", stdout(&out));
    let db = ws.db("runs.db");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'shard' AND value = '2/4'"
        ),
        1
    );
    // Configurations 2 and 6 of the fixed order: raw's third grid point, hog's third.
    assert_eq!(stage_count(&db, "cv"), 2);

    // A task outside the array, or an id without a count, is an error naming the variable.
    assert_failure_mentions(
        &run(&[
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ]),
        &["task 9", "--shard"],
    );
    assert_failure_mentions(
        &run(&[("SLURM_ARRAY_TASK_ID", "2")]),
        &["SLURM_ARRAY_TASK_COUNT"],
    );
    assert_failure_mentions(
        &run(&[
            ("SLURM_ARRAY_TASK_ID", "two"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]),
        &["SLURM_ARRAY_TASK_ID", "two"],
    );
    // --shard wins over the environment, and is checked.
    assert_failure_mentions(&ws.run_tiny(&["--shard", "4/4"]), &["--shard 4/4", "I/N"]);
}

#[test]
fn sigint_marks_the_study_killed_and_leaves_a_consistent_database() {
    let ws = Workspace::new();
    let mut child = spawn_slow_study(&ws);
    wait_for_count(
        &ws,
        &mut child,
        "SELECT COUNT(*) FROM runs WHERE status = 'RUNNING'",
        1,
    );
    // Past start-up, into the data generation or the sweep.
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&child, "INT");
    let out = child.wait_with_output().expect("sarlab ends");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(stderr(&out).contains("marked KILLED"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));

    let db = ws.db("runs.db");
    assert_eq!(integrity(&db), "ok");
    let (status, reason): (String, String) = db
        .query_row(
            "SELECT status, failure_reason FROM runs WHERE parent_uuid IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the study run");
    assert_eq!(status, "KILLED");
    assert_eq!(reason, "interrupted by SIGINT");
    assert!(
        db.query_row(
            "SELECT end_ms IS NOT NULL FROM runs WHERE parent_uuid IS NULL",
            [],
            |r| r.get::<_, bool>(0)
        )
        .expect("end time")
    );
    // Whatever configuration runs were written are whole; the configurations the study
    // had claimed and not finished are released KILLED, with nothing recorded for them.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM runs r WHERE r.status = 'FINISHED' AND r.parent_uuid IS NOT NULL \
             AND NOT EXISTS (SELECT 1 FROM metrics m WHERE m.run_id = r.id)"
        ),
        0
    );
    for (status, reason) in unfinished_claims(&db) {
        assert_eq!(status, "KILLED");
        assert!(
            reason.contains("before computing it: interrupted by SIGINT"),
            "{reason}"
        );
    }
}

/// (status, reason) of every configuration run that is not finished: claims.
fn unfinished_claims(db: &Connection) -> Vec<(String, String)> {
    let mut stmt = db
        .prepare(
            "SELECT r.status, COALESCE(r.failure_reason, ''), \
             (SELECT COUNT(*) FROM metrics m WHERE m.run_id = r.id) \
             + (SELECT COUNT(*) FROM params p WHERE p.run_id = r.id) FROM runs r \
             WHERE r.status != 'FINISHED' AND r.parent_uuid IS NOT NULL",
        )
        .expect("prepare");
    stmt.query_map([], |r| {
        let rows: i64 = r.get(2)?;
        assert_eq!(rows, 0, "a claim holds no parameters or metrics");
        Ok((r.get(0)?, r.get(1)?))
    })
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows")
}

#[test]
fn kill_9_mid_sweep_then_rerun_finishes_only_the_missing_configurations() {
    let ws = Workspace::new();
    let mut child = spawn_slow_study(&ws);
    // The first feature method's configuration runs are in.
    wait_for_count(
        &ws,
        &mut child,
        "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL AND status = 'FINISHED'",
        1,
    );
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");

    let db = ws.db("runs.db");
    assert_eq!(integrity(&db), "ok");
    let finished = count(
        &db,
        "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL AND status = 'FINISHED'",
    );
    assert!(
        (1..SLOW_CONFIGURATIONS).contains(&finished),
        "{finished} configuration runs finished before the kill"
    );
    // Configuration runs are written whole or not at all: the others are the killed
    // study's claims (none if it died between recording a setting and claiming the
    // next), left RUNNING with it and holding nothing.
    let claims = unfinished_claims(&db);
    assert!(
        claims.iter().all(|(status, _)| status == "RUNNING"),
        "{claims:?}"
    );
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NULL AND status = 'RUNNING'"
        ),
        1,
        "the killed study run is left RUNNING"
    );
    let survivors = configuration_metrics(&db, "cv");
    drop(db);

    let rerun = ws.sarlab(&["run", "slow.toml", "--db", "runs.db", "--reports", "out"]);
    assert_success(&rerun);
    assert!(
        stdout(&rerun).contains(&format!(
            "{} run now, {finished} already finished",
            SLOW_CONFIGURATIONS - finished
        )),
        "{}",
        stdout(&rerun)
    );
    assert!(stderr(&rerun).contains("FAILED"), "{}", stderr(&rerun));
    let db = ws.db("runs.db");
    assert_eq!(integrity(&db), "ok");
    let (status, reason): (String, String) = db
        .query_row(
            "SELECT status, failure_reason FROM runs WHERE parent_uuid IS NULL ORDER BY start_ms LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the killed study run");
    assert_eq!(status, "FAILED");
    assert!(reason.contains("process"), "{reason}");
    assert_eq!(stage_count(&db, "cv"), SLOW_CONFIGURATIONS);
    assert_eq!(
        count(&db, "SELECT COUNT(DISTINCT config_hash) FROM runs"),
        count(&db, "SELECT COUNT(*) FROM runs")
    );
    // The runs finished before the kill are untouched.
    let now = configuration_metrics(&db, "cv");
    for row in &survivors {
        assert!(now.contains(row), "{row:?} changed or vanished");
    }
}

/// The numbers in `out`'s summary line: (run now, computed by other workers).
fn work_split(out: &std::process::Output) -> (i64, i64) {
    let text = stdout(out);
    let number_before = |marker: &str| -> i64 {
        text.rfind(marker).map_or(0, |at| {
            let digits: String = text[..at]
                .chars()
                .rev()
                .take_while(char::is_ascii_digit)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            digits.parse().unwrap_or(0)
        })
    };
    (
        number_before(" run now"),
        number_before(" by other workers"),
    )
}

/// Every configuration of the plan has exactly one run, FINISHED, and nothing is left
/// RUNNING.
fn assert_each_configuration_once(db: &Connection) {
    assert_eq!(integrity(db), "ok");
    assert_eq!(stage_count(db, "cv"), SLOW_CONFIGURATIONS);
    assert_eq!(
        count(
            db,
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL AND status = 'FINISHED'"
        ),
        SLOW_CONFIGURATIONS + 2,
        "100 CV runs and one test run per feature method"
    );
    assert_eq!(
        count(db, "SELECT COUNT(DISTINCT config_hash) FROM runs"),
        count(db, "SELECT COUNT(*) FROM runs")
    );
    assert_eq!(
        count(db, "SELECT COUNT(*) FROM runs WHERE status = 'RUNNING'"),
        0
    );
}

#[test]
fn four_workers_on_one_database_split_the_plan_and_equal_one_process() {
    let ws = Workspace::new();
    ws.write("slow.toml", SLOW_SPEC);
    assert_success(&ws.sarlab(&[
        "run",
        "slow.toml",
        "--db",
        "single.db",
        "--reports",
        "single",
    ]));

    let workers: Vec<Child> = (0..4)
        .map(|_| {
            spawn_sarlab(
                &ws,
                &["run", "slow.toml", "--db", "shared.db", "--reports", "out"],
            )
        })
        .collect();
    let mut ran = Vec::new();
    for worker in workers {
        let out = worker.wait_with_output().expect("worker finishes");
        assert_success(&out);
        let (now, others) = work_split(&out);
        // Each worker saw the whole plan: what it did not compute, others did.
        assert_eq!(now + others, SLOW_CONFIGURATIONS, "{}", stdout(&out));
        // And every worker wrote the report of the whole study.
        assert!(
            stdout(&out).contains("best method by mean CV"),
            "{}",
            stdout(&out)
        );
        ran.push(now);
    }
    assert_eq!(
        ran.iter().sum::<i64>(),
        SLOW_CONFIGURATIONS,
        "each configuration computed once: {ran:?}"
    );
    assert!(
        ran.iter().filter(|&&n| n > 0).count() >= 2,
        "the work was split: {ran:?}"
    );
    let (shared, single) = (ws.db("shared.db"), ws.db("single.db"));
    assert_each_configuration_once(&shared);
    assert_eq!(
        count(
            &shared,
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NULL"
        ),
        4
    );
    assert_eq!(
        configuration_metrics(&shared, "cv"),
        configuration_metrics(&single, "cv")
    );
    assert_eq!(
        configuration_metrics(&shared, "test"),
        configuration_metrics(&single, "test")
    );
}

#[test]
fn a_worker_killed_mid_sweep_leaves_its_claims_to_the_others() {
    let ws = Workspace::new();
    ws.write("slow.toml", SLOW_SPEC);
    let mut workers: Vec<Child> = (0..3)
        .map(|_| {
            spawn_sarlab(
                &ws,
                &["run", "slow.toml", "--db", "runs.db", "--reports", "out"],
            )
        })
        .collect();
    let mut victim = workers.remove(0);
    // The victim holds claims: SIGKILL, so nothing of it runs to release them.
    let victim_pid = victim.id();
    wait_for_count(
        &ws,
        &mut victim,
        &format!(
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL AND status = 'RUNNING' AND pid = {victim_pid}"
        ),
        1,
    );
    victim.kill().expect("SIGKILL");
    victim.wait().expect("reaped");
    let mut ran = 0;
    for worker in workers {
        let out = worker.wait_with_output().expect("worker finishes");
        assert_success(&out);
        ran += work_split(&out).0;
    }
    let db = ws.db("runs.db");
    assert_each_configuration_once(&db);
    let victim_claims = count(
        &db,
        &format!("SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL AND pid = {victim_pid}"),
    );
    assert_eq!(victim_claims, 0, "every claim of the victim was taken over");
    assert!(ran <= SLOW_CONFIGURATIONS && ran > 0, "{ran}");
    let (status, reason): (String, String) = db
        .query_row(
            "SELECT status, failure_reason FROM runs r WHERE parent_uuid IS NULL AND pid = ?1",
            [victim_pid],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("the victim's study run");
    assert_eq!(status, "FAILED");
    assert!(reason.contains("ended without finishing"), "{reason}");
}

#[test]
fn workers_share_a_halving_search_rung_by_rung() {
    let ws = Workspace::new();
    let halving = format!("{SLOW_SPEC}\n[search]\nstrategy = \"halving\"\n");
    ws.write("halving.toml", &halving);
    let single = ws.sarlab(&[
        "run",
        "halving.toml",
        "--db",
        "single.db",
        "--reports",
        "single",
    ]);
    assert_success(&single);
    // Per method: 50 candidates on 80 chips → 17 on 240 → 6 on all 1200.
    let runs = 2 * (50 + 17 + 6);
    assert_eq!(work_split(&single), (runs, 0), "{}", stdout(&single));
    let workers: Vec<Child> = (0..3)
        .map(|_| {
            spawn_sarlab(
                &ws,
                &[
                    "run",
                    "halving.toml",
                    "--db",
                    "shared.db",
                    "--reports",
                    "out",
                ],
            )
        })
        .collect();
    let mut ran = 0;
    for worker in workers {
        let out = worker.wait_with_output().expect("worker finishes");
        assert_success(&out);
        let (now, others) = work_split(&out);
        assert_eq!(now + others, runs, "{}", stdout(&out));
        ran += now;
    }
    assert_eq!(ran, runs, "each rung's candidates computed once");
    let (shared, single) = (ws.db("shared.db"), ws.db("single.db"));
    assert_eq!(
        count(&shared, "SELECT COUNT(DISTINCT config_hash) FROM runs"),
        count(&shared, "SELECT COUNT(*) FROM runs")
    );
    assert_eq!(
        count(
            &shared,
            "SELECT COUNT(*) FROM runs WHERE status != 'FINISHED'"
        ),
        0
    );
    for stage in ["halving", "cv", "test"] {
        assert_eq!(
            configuration_metrics(&shared, stage),
            configuration_metrics(&single, stage),
            "{stage}"
        );
    }
}

#[test]
fn force_reruns_and_replaces_finished_configurations() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let before = strings(
        &ws.db("runs.db"),
        "SELECT uuid FROM runs WHERE parent_uuid IS NOT NULL ORDER BY uuid",
    );
    let forced = ws.run_tiny(&["--force"]);
    assert_success(&forced);
    assert!(
        stdout(&forced).contains("8 run now, 0 already finished"),
        "{}",
        stdout(&forced)
    );
    let db = ws.db("runs.db");
    // Replaced, not duplicated: 8 CV + 2 test runs, under two study runs.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NOT NULL"
        ),
        10
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) FROM runs WHERE parent_uuid IS NULL"),
        2
    );
    let old_left = before
        .iter()
        .filter(|uuid| {
            count(
                &db,
                &format!("SELECT COUNT(*) FROM runs WHERE uuid = '{uuid}'"),
            ) > 0
        })
        .count();
    assert_eq!(old_left, 0, "every configuration run was replaced");
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) FROM params WHERE key = 'force' AND value = 'true'"
        ),
        1
    );
}

#[test]
fn runs_commands_list_show_compare_best_and_export() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let db = ws.db("runs.db");

    // list --json with a filter: the same runs as the equivalent SQL.
    let filter = "metrics.f1_macro >= 0 and params.kernel = 'rbf' and (params.C >= 10 or params.gamma = 'scale')";
    let out = ws.sarlab(&[
        "runs", "list", "--db", "runs.db", "--filter", filter, "--limit", "0", "--json",
    ]);
    assert_success(&out);
    let listed: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let expected = count(
        &db,
        "SELECT COUNT(*) FROM runs r WHERE \
         EXISTS (SELECT 1 FROM metrics WHERE run_id = r.id AND key = 'f1_macro') \
         AND EXISTS (SELECT 1 FROM params WHERE run_id = r.id AND key = 'kernel' AND value = 'rbf') \
         AND (EXISTS (SELECT 1 FROM params WHERE run_id = r.id AND key = 'C' AND value >= 10) \
              OR EXISTS (SELECT 1 FROM params WHERE run_id = r.id AND key = 'gamma' AND value = 'scale'))",
    );
    // CV: C = 10 (4) or gamma = scale with C = 1 (2); plus the test runs that match.
    assert!((6..=8).contains(&expected), "{expected}");
    assert_eq!(listed["matched"], expected);
    let runs = listed["runs"].as_array().expect("runs");
    assert_eq!(runs.len() as i64, expected);
    for run in runs {
        assert_eq!(run["params"]["kernel"], "rbf");
        assert!(run["metrics"]["f1_macro"].as_f64().is_some());
    }

    // Ordered and limited, as a table.
    let out = ws.sarlab(&[
        "runs",
        "list",
        "--db",
        "runs.db",
        "--filter",
        "params.stage = 'cv'",
        "--order-by",
        "metrics.f1_macro desc",
        "--limit",
        "3",
    ]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("(3 of 8 matching runs"), "{text}");
    let best_f1 = db
        .query_row(
            "SELECT MAX(m.value) FROM metrics m JOIN params p ON p.run_id = m.run_id \
             WHERE m.key = 'f1_macro' AND p.key = 'stage' AND p.value = 'cv'",
            [],
            |r| r.get::<_, f64>(0),
        )
        .expect("max");
    let first_row = text.lines().nth(1).expect("a row");
    assert!(first_row.contains(&format!("{best_f1:.4}")), "{text}");

    // A malformed filter: an error pointing at the column, nothing run.
    let out = ws.sarlab(&[
        "runs",
        "list",
        "--db",
        "runs.db",
        "--filter",
        "metrics.f1_macro > 0.9 and (params.C = 10",
    ]);
    assert_failure_mentions(&out, &["--filter", "column"]);
    for hostile in [
        "params.kernel = ''; DROP TABLE runs; --'",
        "params.kernel = 'rbf",
        "secrets.password = 'x'",
    ] {
        let out = ws.sarlab(&["runs", "list", "--db", "runs.db", "--filter", hostile]);
        assert!(!out.status.success(), "{hostile} was accepted");
        assert!(!stderr(&out).contains("panicked"));
    }
    assert_eq!(count(&ws.db("runs.db"), "SELECT COUNT(*) FROM runs"), 11);

    // show and compare, by unique prefix.
    let uuids = strings(
        &db,
        "SELECT r.uuid FROM runs r JOIN params p ON p.run_id = r.id \
         WHERE p.key = 'stage' AND p.value = 'cv' ORDER BY r.name LIMIT 2",
    );
    let out = ws.sarlab(&["runs", "show", "--db", "runs.db", &uuids[0][..8]]);
    assert_success(&out);
    for needle in [uuids[0].as_str(), "config hash", "cv_f1_macro", "stage"] {
        assert!(stdout(&out).contains(needle), "show lacks {needle}");
    }
    let out = ws.sarlab(&["runs", "compare", "--db", "runs.db", &uuids[0], &uuids[1]]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("parameters that differ"), "{text}");
    assert!(
        !text.contains("  kernel"),
        "shared parameters are hidden:\n{text}"
    );
    assert!(text.contains("cv_accuracy_mean"), "{text}");
    assert_failure_mentions(
        &ws.sarlab(&["runs", "show", "--db", "runs.db", "ffffffff"]),
        &["ffffffff"],
    );

    // best per feature method among the CV runs.
    let out = ws.sarlab(&[
        "runs",
        "best",
        "--db",
        "runs.db",
        "--metric",
        "f1_macro",
        "--group-by",
        "params.feature",
        "--json",
    ]);
    assert_success(&out);
    let best: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let rows = best["best"].as_array().expect("rows");
    assert_eq!(rows.len(), 2);
    for row in rows {
        let feature = row["group"].as_str().expect("group");
        assert_eq!(row["candidates"], 4);
        let max = db
            .query_row(
                "SELECT MAX(m.value) FROM metrics m \
                 JOIN params f ON f.run_id = m.run_id AND f.key = 'feature' AND f.value = ?1 \
                 JOIN params s ON s.run_id = m.run_id AND s.key = 'stage' AND s.value = 'cv' \
                 WHERE m.key = 'f1_macro'",
                [feature],
                |r| r.get::<_, f64>(0),
            )
            .expect("max");
        assert_eq!(row["value"].as_f64(), Some(max), "{feature}");
    }

    // export: CSV, JSON and Parquet with one row per run.
    for (format, file) in [
        ("csv", "runs.csv"),
        ("json", "runs.json"),
        ("parquet", "runs.parquet"),
    ] {
        let out = ws.sarlab(&[
            "runs", "export", "--db", "runs.db", "--format", format, "--out", file,
        ]);
        assert_success(&out);
        assert!(stdout(&out).contains("wrote 11 runs"), "{}", stdout(&out));
        assert!(file_len(&ws.path(file)) > 200, "{file}");
    }
    let csv = std::fs::read_to_string(ws.path("runs.csv")).expect("csv");
    let all_uuids = strings(&db, "SELECT uuid FROM runs");
    assert_eq!(all_uuids.len(), 11);
    for uuid in &all_uuids {
        assert!(
            csv.contains(&format!("\n{uuid},")),
            "{uuid} missing from the CSV"
        );
    }
    let header = csv.lines().next().expect("header");
    for column in ["uuid", "params.C", "metrics.f1_macro", "tags.git_commit"] {
        assert!(header.split(',').any(|c| c == column), "{header}");
    }
    let json: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(ws.path("runs.json")).expect("json"))
            .expect("JSON array");
    assert_eq!(json.len(), 11);
    assert!(
        &std::fs::read(ws.path("runs.parquet")).expect("parquet")[..4] == b"PAR1",
        "Parquet magic"
    );

    assert_failure_mentions(
        &ws.sarlab(&["runs", "list", "--db", "nowhere.db"]),
        &["nowhere.db"],
    );
}

#[test]
fn runs_list_and_compare_read_as_tables_for_people() {
    let ws = Workspace::new();
    ws.write("tiny.toml", TINY_SPEC);
    assert_success(&ws.run_tiny(&[]));
    let out = ws.sarlab(&[
        "runs",
        "list",
        "--db",
        "runs.db",
        "--filter",
        "tags.stage = 'cv'",
        "--limit",
        "0",
    ]);
    assert_success(&out);
    let text = stdout(&out);
    let header = text.lines().next().expect("header");
    // Stage and the spec's selection metric by default; names carry only what differs.
    assert!(
        header.contains("stage") && header.contains("f1_macro"),
        "{header}"
    );
    assert!(text.contains("raw C=10 gamma=0.001"), "{text}");
    assert!(
        !text.contains("intensity=db"),
        "fixed settings stay out of the names:\n{text}"
    );
    let out = ws.sarlab(&[
        "runs",
        "list",
        "--db",
        "runs.db",
        "--filter",
        "tags.stage = 'cv'",
        "--metrics",
        "accuracy,feature_dim",
    ]);
    let header = stdout(&out).lines().next().expect("header").to_owned();
    assert!(
        header.contains("accuracy")
            && header.contains("feature_dim")
            && !header.contains("f1_macro"),
        "{header}"
    );
    // Integers print as integers.
    assert!(
        stdout(&out).lines().skip(1).any(|l| l.contains(" 256  "))
            && !stdout(&out).contains("256."),
        "{}",
        stdout(&out)
    );

    let ids = strings(
        &ws.db("runs.db"),
        "SELECT substr(r.uuid, 1, 8) FROM runs r JOIN tags t ON t.run_id = r.id
         WHERE t.key = 'stage' AND t.value = 'test' ORDER BY r.id",
    );
    let out = ws.sarlab(&[
        "runs",
        "compare",
        "--db",
        "runs.db",
        &ids[0],
        &ids[1],
        "--metrics",
        "test_f1_macro,feature_dim",
        "--all-params",
    ]);
    assert_success(&out);
    let text = stdout(&out);
    let f1 = text
        .lines()
        .find(|l| l.trim_start().starts_with("test_f1_macro"))
        .expect("f1 row");
    assert_eq!(f1.matches('*').count(), 1, "the best score is marked: {f1}");
    let dim = text
        .lines()
        .find(|l| l.trim_start().starts_with("feature_dim"))
        .expect("dim row");
    assert!(
        !dim.contains('*') && !dim.contains('.'),
        "counts are integers, unmarked: {dim}"
    );
    assert!(
        !text.contains("support_vectors"),
        "--metrics chooses the rows"
    );
    // Cells are never cut: the longest parameter value is there whole.
    assert!(text.contains("L2-Hys"), "{text}");
}
