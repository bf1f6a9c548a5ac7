//! Command implementations.

use anyhow::{Context, Result, bail};

use crate::cli::{
    Command, DatasetCommand, ModelsCommand, RunsCommand, SvmCommand, SynthArgs, SynthFormatArg,
};
use crate::{
    dataset_commands, feature_commands, filter_commands, model_commands, pose_command,
    predict_command, progress, report_command, run_command, runs_commands, speckle_command,
    svm_commands,
};
use sarlab_io::synth::{self, SynthConfig, SynthFileFormat};

pub fn dispatch(command: Command) -> Result<()> {
    match command {
        Command::Run(args) => run_command::run(&args),
        Command::Dataset(DatasetCommand::Synth(args)) => synth_command(&args),
        Command::Dataset(DatasetCommand::Info(args)) => dataset_commands::info(&args),
        Command::Dataset(DatasetCommand::Convert(args)) => dataset_commands::convert(&args),
        Command::Dataset(DatasetCommand::Pose(args)) => pose_command::pose(&args),
        Command::Dataset(DatasetCommand::Speckle(args)) => speckle_command::speckle(&args),
        Command::Features(args) => feature_commands::features(&args),
        Command::Filter(args) => filter_commands::filter(&args),
        Command::Spectrum(args) => filter_commands::spectrum(&args),
        Command::Swap(args) => filter_commands::swap(&args),
        Command::Svm(SvmCommand::Grid(args)) => svm_commands::grid(&args),
        Command::Runs(RunsCommand::List(args)) => runs_commands::list(&args),
        Command::Runs(RunsCommand::Show(args)) => runs_commands::show(&args),
        Command::Runs(RunsCommand::Compare(args)) => runs_commands::compare(&args),
        Command::Runs(RunsCommand::Best(args)) => runs_commands::best(&args),
        Command::Runs(RunsCommand::Export(args)) => runs_commands::export(&args),
        Command::Merge(args) => runs_commands::merge(&args),
        Command::Report(args) => report_command::report(&args),
        Command::Predict(args) => predict_command::predict(&args),
        Command::Train(args) => model_commands::train(&args),
        Command::Models(ModelsCommand::List(args)) => model_commands::list(&args),
    }
}

fn synth_command(args: &SynthArgs) -> Result<()> {
    if args.out.exists() {
        bail!(
            "{} already exists: choose a new folder for the synthetic dataset",
            args.out.display()
        );
    }
    let defaults = SynthConfig::default();
    let config = SynthConfig {
        seed: args.seed,
        train_per_class: args.train_per_class.unwrap_or(defaults.train_per_class),
        test_per_class: args.test_per_class.unwrap_or(defaults.test_per_class),
        chip_size: args.chip_size.unwrap_or(defaults.chip_size),
        file_format: match args.file_format {
            SynthFormatArg::Png => SynthFileFormat::Png,
            SynthFormatArg::Phoenix => SynthFileFormat::Phoenix,
        },
        ..defaults
    };
    let spinner = progress::bar(0, "generating chips");
    let count = synth::write_dataset(&args.out, &config).with_context(|| {
        format!(
            "cannot generate the synthetic dataset in {}",
            args.out.display()
        )
    })?;
    spinner.finish_and_clear();
    println!(
        "wrote {count} synthetic SAR chips ({} classes, {} train + {} test per class, {}x{} px, seed {}) to {}",
        synth::CLASS_NAMES.len(),
        config.train_per_class,
        config.test_per_class,
        config.chip_size,
        config.chip_size,
        config.seed,
        args.out.display()
    );
    Ok(())
}
