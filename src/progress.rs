//! Progress on stderr as bars when stdout is a terminal; otherwise (Slurm logs, CI)
//! plain lines on stdout for each finished configuration and refit, without colour.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sarlab_study::{Event, Observer, Task};

pub fn bar(len: usize, message: impl Into<String>) -> ProgressBar {
    let bar = drawn(
        len,
        "{msg:>24} [{bar:32}] {pos}/{len} {elapsed_precise} eta {eta}",
    );
    bar.set_message(message.into());
    bar
}

/// A bar of `len` steps in `template`, drawn on stderr when stdout is a terminal and
/// hidden otherwise.
fn drawn(len: usize, template: &str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if on_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.enable_steady_tick(Duration::from_millis(200));
    } else {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

/// Whether progress is drawn as bars (stdout is a terminal) or logged as plain lines.
pub fn on_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The bar of the feature setting being cross-validated.
#[derive(Debug)]
struct GridBar {
    bar: ProgressBar,
    configurations: usize,
    done: usize,
}

/// A study's events drawn as bars (terminal) or logged as lines; `on_started` hears
/// the study run's uuid and database once it exists.
pub struct StudyProgress<F> {
    on_started: F,
    terminal: bool,
    task: Mutex<Option<ProgressBar>>,
    grid: Mutex<Option<GridBar>>,
}

impl<F: Fn(String, PathBuf) + Sync> StudyProgress<F> {
    pub fn new(on_started: F) -> Self {
        Self {
            on_started,
            terminal: on_terminal(),
            task: Mutex::new(None),
            grid: Mutex::new(None),
        }
    }

    fn with_task(&self, f: impl FnOnce(&mut Option<ProgressBar>)) {
        if let Ok(mut task) = self.task.lock() {
            f(&mut task);
        }
    }

    fn with_grid(&self, f: impl FnOnce(&mut Option<GridBar>)) {
        if let Ok(mut grid) = self.grid.lock() {
            f(&mut grid);
        }
    }
}

fn task_label(task: Task) -> String {
    match task {
        Task::GenerateDataset => "generating dataset".to_owned(),
        Task::LoadChips => "loading chips".to_owned(),
        Task::Extract { method, split } => format!("{method} features ({split})"),
    }
}

impl<F: Fn(String, PathBuf) + Sync> Observer for StudyProgress<F> {
    fn on(&self, event: Event<'_>) {
        match event {
            Event::Started { run, db } => (self.on_started)(run.to_owned(), db.to_path_buf()),
            Event::DeadRunFailed { run, reason } => eprintln!("marked run {run} FAILED: {reason}"),
            Event::TaskStarted { task, steps } => {
                self.with_task(|slot| *slot = Some(bar(steps, task_label(task))));
            }
            Event::TaskStep { .. } => self.with_task(|slot| {
                if let Some(bar) = slot {
                    bar.inc(1);
                }
            }),
            Event::TaskFinished { .. } => self.with_task(|slot| {
                if let Some(bar) = slot.take() {
                    bar.finish_and_clear();
                }
            }),
            Event::DatasetGenerated { path, chips, seed } => eprintln!(
                "generated the synthetic SAR dataset: {chips} chips in {} (seed {seed})",
                path.display()
            ),
            Event::DatasetLoaded { dataset } => {
                let skipped = dataset.skipped;
                if skipped.not_chips + skipped.other_depression > 0 {
                    eprintln!(
                        "note: {} skipped {} file(s) that are not {} chips and {} Phoenix chip(s) at other depressions",
                        dataset.root.display(),
                        skipped.not_chips,
                        dataset.format,
                        skipped.other_depression
                    );
                }
            }
            Event::ConfigurationsStarted {
                method,
                names,
                folds,
                ..
            } => self.with_grid(|slot| {
                let n = names.len();
                let bar = drawn(n * folds, "{msg:>40} [{bar:32}] {elapsed_precise}");
                bar.set_message(format!("{method} 0/{n}"));
                *slot = Some(GridBar {
                    bar,
                    configurations: n,
                    done: 0,
                });
            }),
            Event::FoldFinished { .. } => self.with_grid(|slot| {
                if let Some(grid) = slot {
                    grid.bar.inc(1);
                }
            }),
            Event::ConfigurationFinished {
                method,
                name,
                done,
                study_total,
                metric,
                value,
                seconds,
                elapsed,
            } => {
                if self.terminal {
                    let left =
                        elapsed / done.max(1) as f64 * study_total.saturating_sub(done) as f64;
                    self.with_grid(|slot| {
                        if let Some(grid) = slot {
                            grid.done += 1;
                            grid.bar.set_message(format!(
                                "{method} {}/{} · study {done}/{study_total} eta {}",
                                grid.done,
                                grid.configurations,
                                clock_text(left)
                            ));
                        }
                    });
                } else {
                    println!(
                        "cv {done}/{study_total} {name}: {metric} {value:.4} ({seconds:.1} s)"
                    );
                }
            }
            Event::ConfigurationsRecorded { .. } => self.with_grid(|slot| {
                if let Some(grid) = slot.take() {
                    grid.bar.finish_and_clear();
                }
            }),
            Event::Refit {
                name,
                metric,
                value,
                seconds,
                ..
            } => {
                if !self.terminal {
                    println!("refit {name}: test {metric} {value:.4} ({seconds:.1} s)");
                }
            }
            Event::RecordedElsewhere {
                count,
                done,
                study_total,
            } => {
                if !self.terminal {
                    println!(
                        "cv {done}/{study_total}: {count} configuration(s) recorded by other workers"
                    );
                }
            }
            Event::RungStarted {
                method,
                rung,
                rungs,
                candidates,
                chips,
            } => eprintln!(
                "halving {method}: rung {}/{rungs}, {candidates} candidate(s) on {chips} train chips",
                rung + 1
            ),
            Event::WaitingForWorkers { configurations } => eprintln!(
                "waiting for {configurations} configuration(s) other workers sharing the database are computing"
            ),
            Event::ReportWritten { .. } => {}
        }
    }
}

impl<F> std::fmt::Debug for StudyProgress<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StudyProgress")
            .field("terminal", &self.terminal)
            .finish_non_exhaustive()
    }
}

fn clock_text(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
