//! Progress on stderr as bars when stdout is a terminal; otherwise (Slurm logs, CI)
//! plain lines on stdout for each finished configuration and refit, without colour.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// The study-wide count of configurations cross-validated by this invocation, for
/// `k/N` and the study's time estimate.
#[derive(Debug)]
pub struct StudyClock {
    start: std::time::Instant,
    total: usize,
    done: std::sync::atomic::AtomicUsize,
}

impl StudyClock {
    pub fn new(total: usize) -> Self {
        Self {
            start: std::time::Instant::now(),
            total,
            done: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// Counts one more configuration done: its study-wide number and the estimated
    /// seconds left.
    fn finish_one(&self) -> (usize, f64) {
        let done = self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let per = self.start.elapsed().as_secs_f64() / done as f64;
        (done, per * self.total.saturating_sub(done) as f64)
    }
}

#[derive(Debug, Default)]
struct GridState {
    folds_done: Vec<usize>,
    metric_sum: Vec<f64>,
    seconds: Vec<f64>,
    done: usize,
}

/// Progress of one feature method's grid, counted in configurations: on a terminal a
/// bar whose message reads `method k/n` with the study's estimate, otherwise one plain
/// line per finished configuration (method, study-wide k/N, CV metric, seconds).
#[derive(Debug)]
pub struct GridProgress<'c> {
    method: &'static str,
    metric: String,
    folds: usize,
    names: Vec<String>,
    clock: &'c StudyClock,
    state: std::sync::Mutex<GridState>,
    bar: ProgressBar,
}

impl<'c> GridProgress<'c> {
    /// `names` are the run names of the configurations, in grid order.
    pub fn new(
        method: &'static str,
        metric: &str,
        folds: usize,
        names: Vec<String>,
        clock: &'c StudyClock,
    ) -> Self {
        let n = names.len();
        let bar = drawn(n * folds, "{msg:>40} [{bar:32}] {elapsed_precise}");
        bar.set_message(format!("{method} 0/{n}"));
        Self {
            method,
            metric: metric.to_owned(),
            folds,
            clock,
            state: std::sync::Mutex::new(GridState {
                folds_done: vec![0; n],
                metric_sum: vec![0.0; n],
                seconds: vec![0.0; n],
                done: 0,
            }),
            names,
            bar,
        }
    }

    /// Records one scored fold of configuration `configuration`.
    pub fn fold_done(&self, configuration: usize, metric: f64, seconds: f64) {
        self.bar.inc(1);
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.folds_done[configuration] += 1;
        state.metric_sum[configuration] += metric;
        state.seconds[configuration] += seconds;
        if state.folds_done[configuration] != self.folds {
            return;
        }
        state.done += 1;
        let (k, left) = self.clock.finish_one();
        let n = self.names.len();
        if on_terminal() {
            self.bar.set_message(format!(
                "{} {}/{n} · study {k}/{} eta {}",
                self.method,
                state.done,
                self.clock.total,
                clock_text(left)
            ));
        } else {
            println!(
                "cv {k}/{} {}: {} {:.4} ({:.1} s)",
                self.clock.total,
                self.names[configuration],
                self.metric,
                state.metric_sum[configuration] / self.folds as f64,
                state.seconds[configuration]
            );
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn clock_text(seconds: f64) -> String {
    let s = seconds.round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
