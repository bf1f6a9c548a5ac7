//! Command-line interface definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// sarlab: a workbench for SAR target-recognition research.
#[derive(Debug, Parser)]
#[command(name = "sarlab", version, about, long_about = None)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a study described by an experiment spec (TOML).
    Run(RunArgs),
    /// Dataset tools.
    #[command(subcommand)]
    Dataset(DatasetCommand),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment spec, e.g. experiments/quickstart.toml.
    pub spec: PathBuf,
    /// SQLite database the runs are recorded in.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Folder the report is written under (as <DIR>/<study name>/).
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Use this existing dataset folder (<DIR>/train/<class>/*, <DIR>/test/<class>/*)
    /// instead of the spec's dataset; it is never generated.
    #[arg(long)]
    pub data: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Generate the synthetic SAR dataset (sarlab's embedded default).
    Synth(SynthArgs),
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Output folder; must not exist yet.
    #[arg(long)]
    pub out: PathBuf,
    /// Seed of every random choice of the generator.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Chips per class in the train split (17° depression).
    #[arg(long)]
    pub train_per_class: Option<usize>,
    /// Chips per class in the test split (15° depression).
    #[arg(long)]
    pub test_per_class: Option<usize>,
    /// Chip size in pixels.
    #[arg(long)]
    pub chip_size: Option<usize>,
}
