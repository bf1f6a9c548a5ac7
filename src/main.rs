//! The `sarlab` command-line tool.

mod cli;
mod commands;
mod dataset_commands;
mod dry_run;
mod feature_commands;
mod filter_commands;
mod model_commands;
mod pose_command;
mod predict_command;
mod progress;
mod report_command;
mod run_command;
mod runs_commands;
mod runs_table;
mod speckle_command;
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
            eprintln!("error: {}", sarlab_io::printable_lines(&error_text(&err)));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes, `: `-separated, each said once: library errors quote their
/// source in their own message, so a cause already in the text is not repeated.
fn error_text(err: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in err.chain() {
        let message = cause.to_string();
        if text.contains(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
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

#[cfg(test)]
mod tests {
    use anyhow::Context;

    #[test]
    fn causes_quoted_by_their_wrapper_are_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let err = Err::<(), _>(sarlab_io::Error::Read {
            path: "m.safetensors".into(),
            source: io,
        })
        .context("cannot load the model")
        .expect_err("error");
        assert_eq!(
            super::error_text(&err),
            "cannot load the model: cannot read m.safetensors: No such file"
        );
        let plain = Err::<(), _>(anyhow::anyhow!("inner"))
            .context("outer")
            .expect_err("error");
        assert_eq!(super::error_text(&plain), "outer: inner");
    }
}
