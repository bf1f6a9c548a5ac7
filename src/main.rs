//! The `sarlab` command-line tool.

mod cli;
mod commands;
mod dataset_commands;
mod dry_run;
mod feature_commands;
mod filter_commands;
mod model_commands;
mod predict_command;
mod progress;
mod report_command;
mod run_command;
mod runs_commands;
mod runs_table;
mod svm_commands;

use std::process::ExitCode;

use clap::Parser;

// The engine allocates and frees kernel blocks, GEMM tiles and per-fold matrices of tens
// of megabytes; glibc's malloc hands such blocks back to the kernel and faults fresh
// pages in on the next one (a fifth of a 10-class fit's time, measured), mimalloc
// reuses them.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose);
    match commands::dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Errors quote file names, class names and spec text: escape what could
            // drive the terminal.
            eprintln!("error: {}", sarlab_io::printable_lines(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
