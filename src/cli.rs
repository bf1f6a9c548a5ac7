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
    /// Feature vectors of one chip, or the feature matrix and labels of a dataset split,
    /// as `.npy` for other tools.
    Features(FeaturesArgs),
    /// Filter one image in the frequency and/or spatial domain; writes the filtered
    /// image, spectra, mask and a panel figure.
    Filter(FilterArgs),
    /// Write an image's log-magnitude and phase spectra and a panel figure.
    Spectrum(SpectrumArgs),
    /// Support vector machines on your own features.
    #[command(subcommand)]
    Svm(SvmCommand),
    /// Swap amplitude and phase spectra between two images of the same size.
    Swap(SwapArgs),
    /// Query the run database: list, show, compare, best per group, export.
    #[command(subcommand)]
    Runs(RunsCommand),
    /// Fold run databases (e.g. the shards of a Slurm array job) into one; idempotent,
    /// without duplicates.
    Merge(MergeArgs),
    /// Rebuild a study's report from the run database alone (nothing is computed), or
    /// put several studies side by side with --compare.
    Report(ReportArgs),
    /// Classify chips with a saved model (a study's or `sarlab train`'s): one line or
    /// row per chip with the predicted class, votes and decision values, and the
    /// scores of the chips whose class is known.
    Predict(PredictArgs),
    /// Refit any configuration of a spec on the train split, score it on the test
    /// split, record the test run and save its model.
    Train(TrainArgs),
    /// Saved models.
    #[command(subcommand)]
    Models(ModelsCommand),
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model file, then the inputs: chip files (PNG, JPEG, TIFF, .npy, Phoenix),
    /// folders of them, labelled datasets (DIR/train/CLASS/*, a manifest CSV). With
    /// --run or --best every path is an input.
    #[arg(required = true, value_name = "MODEL INPUT")]
    pub paths: Vec<PathBuf>,
    /// Write the predictions here: .csv, .json or .parquet (by extension) [default:
    /// one line per chip on standard output].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Add each pair machine's decision value to the output.
    #[arg(long)]
    pub decision_values: bool,
    /// Add class probabilities (Platt scaling and pairwise coupling, as libsvm's).
    #[arg(long)]
    pub probability: bool,
    /// Only this split of labelled datasets among the inputs.
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,
    /// The run database that --run and --best look in.
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Use the model saved with this test run (its id or an unambiguous prefix).
    #[arg(long, conflicts_with = "best")]
    pub run: Option<String>,
    /// Use the saved model of --experiment whose configuration has the highest mean CV
    /// --metric (the test split never chooses).
    #[arg(long, requires = "experiment")]
    pub best: bool,
    /// The study (a spec's `name`) whose models --best chooses from.
    #[arg(long)]
    pub experiment: Option<String>,
    /// The CV metric --best maximises.
    #[arg(long, default_value = "f1_macro")]
    pub metric: sarlab_svm::Metric,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// The experiment spec the configuration belongs to.
    pub spec: PathBuf,
    /// The configuration: a prefix of its config hash as `sarlab runs list` and
    /// `runs show` print it (its CV run's or its test run's).
    #[arg(long, value_name = "HASH")]
    pub config: String,
    /// SQLite database the test run is recorded in.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Folder the model is saved under (as DIR/STUDY_NAME/).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Use this existing dataset instead of the spec's (as `sarlab run --data`).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Refit even when the configuration already has a test run with its model.
    #[arg(long)]
    pub force: bool,
    /// Memory the SVM engine may hold for kernels: a size (8GB, 512MB, 2GiB) or a share
    /// of the memory available at start (60%). Kernels that fit are held whole; larger
    /// ones are computed row by row into a cache within it, with the same answers.
    #[arg(long, value_name = "SIZE|N%", default_value = "60%")]
    pub memory_budget: sarlab_study::memory::MemoryBudget,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The saved models in a run database: experiment, method, CV and test scores,
    /// file size and path.
    List(ModelsListArgs),
}

#[derive(Debug, Args)]
pub struct ModelsListArgs {
    /// The run database.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Only this study's models.
    #[arg(long)]
    pub experiment: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The run database.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// The study (a spec's `name`) whose last finished run to report.
    #[arg(long, conflicts_with_all = ["run", "compare"])]
    pub experiment: Option<String>,
    /// The study run to report (its id or an unambiguous prefix).
    #[arg(long, conflicts_with = "compare")]
    pub run: Option<String>,
    /// Studies to put side by side: each an experiment name (its last finished study
    /// run) or a study run id, all in --db.
    #[arg(long, num_args = 2.., value_name = "STUDY")]
    pub compare: Vec<String>,
    /// Where the report goes [default: reports/STUDY/rebuilt, or
    /// reports/compare-A-B… with --compare].
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Runs, newest first (or by --order-by), optionally filtered.
    List(RunsListArgs),
    /// One run: attributes, parameters, metrics (per step), tags, artifacts.
    Show(RunsShowArgs),
    /// Runs side by side: the parameters that differ, and every metric.
    Compare(RunsCompareArgs),
    /// The best FINISHED run by a metric, per value of a field.
    Best(RunsBestArgs),
    /// Runs as a table (one column per parameter, metric and tag): CSV, Parquet or JSON.
    Export(RunsExportArgs),
}

/// Which runs: shared by list, best and export.
#[derive(Debug, Args)]
pub struct RunSelection {
    /// The run database.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Only runs of this experiment (a study's `name`).
    #[arg(long)]
    pub experiment: Option<String>,
    /// Filter, e.g. "metrics.f1_macro > 0.9 and params.kernel = 'rbf' and (params.C >= 10
    /// or params.gamma = 'scale')"; fields: metrics.K (value at the last step),
    /// params.K, tags.K, attributes.{uuid,name,status,start_ms,end_ms,config_hash,parent};
    /// operators = != < <= > >= like, in (…), not in (…), and, or, not, parentheses.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
}

#[derive(Debug, Args)]
pub struct RunsListArgs {
    #[command(flatten)]
    pub selection: RunSelection,
    /// Order by a field, e.g. "metrics.f1_macro desc" (runs without it last).
    #[arg(long, value_name = "FIELD [asc|desc]")]
    pub order_by: Option<String>,
    /// At most this many runs (0: all).
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Metric columns, e.g. accuracy,f1_macro [default: the studies' selection metric].
    #[arg(long, value_delimiter = ',', value_name = "K,K")]
    pub metrics: Option<Vec<String>>,
    /// Print JSON (each run with its parameters, last metric values and tags).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunsShowArgs {
    /// The run database.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Run id, or a prefix of it that only one run has.
    pub id: String,
    /// Print JSON (the run with every parameter, metric history and tag).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct RunsCompareArgs {
    /// The run database.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Two or more run ids (or unique prefixes).
    #[arg(num_args = 2.., required = true)]
    pub ids: Vec<String>,
    /// Also show the parameters every run shares.
    #[arg(long)]
    pub all_params: bool,
    /// Only these metrics, in this order, e.g. cv_accuracy_mean,test_accuracy.
    #[arg(long, value_delimiter = ',', value_name = "K,K")]
    pub metrics: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct RunsBestArgs {
    #[command(flatten)]
    pub selection: RunSelection,
    /// Metric key, e.g. f1_macro (a CV run's mean over folds, a test run's test value)
    /// or cv_accuracy_mean.
    #[arg(long, default_value = "f1_macro")]
    pub metric: String,
    /// One best run per value of this field, e.g. params.feature.
    #[arg(long, value_name = "FIELD")]
    pub group_by: Option<String>,
    /// Which stage's runs compete (the `stage` parameter): cv (choosing on the test split
    /// would leak it), test, or any.
    #[arg(long, default_value = "cv", value_parser = ["cv", "test", "any"])]
    pub stage: String,
    /// Lower is better (losses, times).
    #[arg(long)]
    pub minimize: bool,
    /// Print JSON (each group's best run with its value and candidates).
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Parquet,
    Json,
}

#[derive(Debug, Args)]
pub struct RunsExportArgs {
    #[command(flatten)]
    pub selection: RunSelection,
    /// File format: csv (one row per run, a column per parameter, metric and tag) or
    /// parquet (the same table, typed).
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Output file (replaced if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The database to merge into (created if missing).
    pub out: PathBuf,
    /// Databases to merge from.
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SvmCommand {
    /// Grid-search a C-SVC on your own feature matrices: stratified k-fold CV of every
    /// (kernel, C, gamma, degree, coef0), the best by a CV metric refit on all training
    /// rows and scored on the test rows.
    Grid(SvmGridArgs),
}

#[derive(Debug, Args)]
pub struct SvmGridArgs {
    /// Training features: a 2-D `.npy` (N×D; any real dtype, read as f64).
    #[arg(long, value_name = "X.npy")]
    pub train: PathBuf,
    /// Training labels: a 1-D integer `.npy` with N entries (any integer values).
    #[arg(long, value_name = "Y.npy")]
    pub train_labels: PathBuf,
    /// Test features (same number of columns as the training features).
    #[arg(long, value_name = "X.npy", requires = "test_labels")]
    pub test: Option<PathBuf>,
    /// Test labels; every one must occur in the training labels.
    #[arg(long, value_name = "Y.npy", requires = "test")]
    pub test_labels: Option<PathBuf>,
    /// Kernels to sweep: linear, rbf, poly, sigmoid.
    #[arg(long, value_delimiter = ',', default_value = "rbf")]
    pub kernel: Vec<String>,
    /// C values to sweep.
    #[arg(
        long = "C",
        value_delimiter = ',',
        default_value = "1",
        allow_hyphen_values = true
    )]
    pub c: Vec<f64>,
    /// Gamma values to sweep (rbf, poly, sigmoid): scale, auto or positive numbers.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "scale",
        allow_hyphen_values = true
    )]
    pub gamma: Vec<String>,
    /// Degrees to sweep (poly).
    #[arg(long, value_delimiter = ',', default_value = "3")]
    pub degree: Vec<u32>,
    /// coef0 values to sweep (poly, sigmoid).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0",
        allow_hyphen_values = true
    )]
    pub coef0: Vec<f64>,
    /// Cross-validation folds (stratified).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Seed of the fold shuffle.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Standardise features (fitted on each training fold) before the SVM.
    #[arg(long)]
    pub standardize: bool,
    /// PCA components (fitted on each training fold, after standardisation).
    #[arg(long)]
    pub pca: Option<usize>,
    /// Whiten the PCA components.
    #[arg(long, requires = "pca")]
    pub whiten: bool,
    /// PCA solver: exact, or randomized (scikit-learn's randomized SVD, seeded by --seed).
    #[arg(long, requires = "pca", default_value = "exact", value_parser = ["exact", "randomized"])]
    pub pca_solver: String,
    /// uniform or balanced.
    #[arg(long, default_value = "uniform")]
    pub class_weight: String,
    /// Solver stopping tolerance: default libsvm's eps 1e-3 (`--solver smo`),
    /// LinearSVC's 1e-4 (`--solver liblinear`).
    #[arg(long)]
    pub tol: Option<f64>,
    /// Turn off libsvm's shrinking heuristic (same solution, usually slower).
    #[arg(long)]
    pub no_shrinking: bool,
    /// Iteration cap per binary machine (default libsvm's max(10^7, 100 N)).
    #[arg(long)]
    pub max_iterations: Option<usize>,
    /// CV metric that picks the best configuration.
    #[arg(long, default_value = "f1_macro")]
    pub metric: String,
    /// sarlab or linfa (linfa-svm, for cross-checks).
    #[arg(long, default_value = "sarlab")]
    pub backend: String,
    /// Memory the SVM engine may hold for kernels: a size (8GB, 512MB, 2GiB) or a share
    /// of the memory available at start (60%). Kernels that fit are held whole; larger
    /// ones are computed row by row into a cache within it, with the same answers.
    #[arg(long, value_name = "SIZE|N%", default_value = "60%")]
    pub memory_budget: sarlab_study::memory::MemoryBudget,
    /// How configurations are chosen: `grid` (every point), `random` (--samples points
    /// of the grid, or with C / γ drawn log-uniformly), `halving` (successive halving
    /// over rows, scikit-learn's HalvingGridSearchCV schedule; the last rung uses
    /// every row).
    #[arg(long, default_value = "grid", value_parser = ["grid", "random", "halving"])]
    pub search: String,
    /// Random search: how many configurations to draw.
    #[arg(long)]
    pub samples: Option<usize>,
    /// Random search: draw C log-uniformly from LOW,HIGH instead of the --C list.
    #[arg(long, value_name = "LOW,HIGH", value_delimiter = ',', num_args = 1)]
    pub c_log_uniform: Option<Vec<f64>>,
    /// Random search: draw γ log-uniformly from LOW,HIGH instead of the --gamma list.
    #[arg(long, value_name = "LOW,HIGH", value_delimiter = ',', num_args = 1)]
    pub gamma_log_uniform: Option<Vec<f64>>,
    /// Halving: each rung keeps 1/FACTOR of the candidates and multiplies the rows by
    /// FACTOR (default 3).
    #[arg(long)]
    pub factor: Option<f64>,
    /// Halving: rows of the first rung: exhaust (default), smallest (2 × folds ×
    /// classes) or a number.
    #[arg(long, value_name = "exhaust|smallest|N")]
    pub min_resources: Option<String>,
    /// `smo` (libsvm's, every kernel) or `liblinear` (dual coordinate descent for
    /// `--kernel linear`, or another kernel through `--approximation`: scikit-learn's
    /// LinearSVC model — squared hinge by default, one-vs-rest, regularised intercept —
    /// for many rows).
    #[arg(long, default_value = "smo")]
    pub solver: sarlab_svm::Solver,
    /// With `--solver liblinear`: map the features by a kernel approximation first —
    /// `nystroem:N` (N landmarks, any kernel; scikit-learn's Nystroem) or
    /// `random_fourier:N` (rbf; scikit-learn's RBFSampler) — seeded by --seed, with the
    /// configuration's kernel and γ.
    #[arg(long, value_name = "METHOD:N")]
    pub approximation: Option<sarlab_svm::KernelApproximation>,
    /// liblinear's loss: squared_hinge (LinearSVC's default) or hinge.
    #[arg(long)]
    pub loss: Option<String>,
    /// Write the best configuration's test predictions (int64, original labels).
    #[arg(long, value_name = "P.npy", requires = "test")]
    pub predictions: Option<PathBuf>,
    /// Print JSON: every configuration's CV mean/std metrics, the best, test metrics.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SplitArg {
    Train,
    Test,
}

impl From<SplitArg> for sarlab_io::Split {
    fn from(split: SplitArg) -> Self {
        match split {
            SplitArg::Train => sarlab_io::Split::Train,
            SplitArg::Test => sarlab_io::Split::Test,
        }
    }
}

#[derive(Debug, Args)]
pub struct FeaturesArgs {
    /// Feature method: raw, hog, gabor, spectral or fusion (`--set combine=hog,gabor`).
    pub method: String,
    /// A chip file (PNG, JPEG, TIFF, .npy, Phoenix, ENVI), or a dataset folder/manifest.
    pub input: PathBuf,
    /// A method parameter over its default, e.g. `--set pixels_per_cell=8 --set
    /// cells_per_block=2`; repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output `.npy`: a 1-D vector for a chip, an N×D matrix for a dataset. Beside it:
    /// `<stem>.json` (method, parameters, feature names, chips) and, for a dataset,
    /// `<stem>.labels.npy` (int64 class indices).
    #[arg(long)]
    pub out: PathBuf,
    /// Centre crop size in pixels before extraction (chips of a dataset must end up the
    /// same size).
    #[arg(long)]
    pub crop: Option<usize>,
    /// Resize (after the crop) to N×N as skimage.transform.resize does (bilinear,
    /// anti-aliased when shrinking).
    #[arg(long)]
    pub resize: Option<usize>,
    /// Pad sides shorter than --crop up to it: reflect or zero.
    #[arg(long, requires = "crop")]
    pub pad: Option<String>,
    /// linear, db or sqrt.
    #[arg(long, default_value = "linear")]
    pub intensity: String,
    /// Per-chip normalisation applied last: l1, l2, max or zscore.
    #[arg(long)]
    pub normalize: Option<String>,
    /// Turn each chip to a canonical pose: mask (the target mask's principal axis) or
    /// header (the Phoenix header's TargetAz).
    #[arg(long)]
    pub pose: Option<String>,
    /// Target segmentation after the crop (clutter set to zero), e.g. `otsu` or
    /// `cfar:k=3:border=8:keep=target_shadow` (see `sarlab_filter::segment`).
    #[arg(long)]
    pub segment: Option<String>,
    /// Speckle filter applied first, e.g. `lee:window=5`.
    #[arg(long)]
    pub speckle: Option<String>,
    /// Frequency filter, e.g. `butterworth:lowpass:cutoff=0.25:order=2:units=nyquist`.
    #[arg(long)]
    pub filter: Option<String>,
    /// Which split of a dataset to extract.
    #[arg(long, value_enum, default_value = "train")]
    pub split: SplitArg,
    /// HOG only, single chip: also write scikit-image's glyph visualisation as PNG.
    #[arg(long)]
    pub glyphs: Option<PathBuf>,
    /// Skip the MD5 check of Phoenix chips.
    #[arg(long)]
    pub no_md5: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ArrayFormat {
    /// .npy of the values (float64 by default: exactly; see --dtype).
    Npy,
    /// Float TIFF of the values (float64 by default; see --dtype).
    Tiff,
    /// 8-bit PNG, min–max stretched (for viewing).
    Png,
}

#[derive(Debug, Args)]
pub struct FilterArgs {
    /// The image: a chip file (Phoenix, PNG, JPEG, TIFF, .npy) or an ENVI raster.
    pub image: PathBuf,
    /// Frequency filter, e.g. butterworth:lowpass:cutoff=30:order=2 or
    /// gaussian:bandpass:cutoff=20:width=10 (see `sarlab_filter::frequency`).
    #[arg(long)]
    pub filter: Option<String>,
    /// Speckle filter applied first, e.g. lee:window=5:looks=4, median:window=3.
    #[arg(long)]
    pub speckle: Option<String>,
    /// Output folder (created; files in it are replaced).
    #[arg(long)]
    pub out: PathBuf,
    /// Format of the image outputs (the panel is always PNG).
    #[arg(long, value_enum, default_value = "npy")]
    pub format: ArrayFormat,
    /// Sample type of .npy and TIFF outputs: f64 keeps every value exactly; f32
    /// rounds each value once (half the size).
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: FloatType,
    /// Band of multi-band images, from 0.
    #[arg(long)]
    pub band: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FloatType {
    /// 64-bit floats: values exactly.
    F64,
    /// 32-bit floats: values rounded to single precision.
    F32,
}

#[derive(Debug, Args)]
pub struct SpectrumArgs {
    /// The image: a chip file (Phoenix, PNG, JPEG, TIFF, .npy) or an ENVI raster.
    #[arg(required_unless_present = "kernel", conflicts_with = "kernel")]
    pub image: Option<PathBuf>,
    /// Instead of an image: the frequency response of a 3×3 spatial kernel
    /// (laplacian, laplacian8, sobel_x, sobel_y, box3) on a --size grid.
    #[arg(long)]
    pub kernel: Option<String>,
    /// Grid of the kernel's response, `N` or `ROWSxCOLS`.
    #[arg(long, default_value = "64", requires = "kernel")]
    pub size: String,
    /// Output folder (created; files in it are replaced): the log-magnitude spectrum,
    /// the phase, the amplitude-only and phase-only reconstructions and a panel.
    #[arg(long)]
    pub out: PathBuf,
    /// Format of the image outputs (the panel is always PNG).
    #[arg(long, value_enum, default_value = "npy")]
    pub format: ArrayFormat,
    /// Sample type of .npy and TIFF outputs (f64: exact; f32: rounded once).
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: FloatType,
    /// Band of multi-band images (TIFF, ENVI), from 0.
    #[arg(long)]
    pub band: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SwapArgs {
    /// The first image (same formats as `filter`); its amplitude goes with B's phase.
    pub a: PathBuf,
    /// The second image, of the same size as A; its amplitude goes with A's phase.
    pub b: PathBuf,
    /// Output folder (created; files in it are replaced): both swapped images and a
    /// panel.
    #[arg(long)]
    pub out: PathBuf,
    /// Format of the image outputs (the panel is always PNG).
    #[arg(long, value_enum, default_value = "npy")]
    pub format: ArrayFormat,
    /// Sample type of .npy and TIFF outputs (f64: exact; f32: rounded once).
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: FloatType,
    /// Band of multi-band images (TIFF, ENVI), from 0.
    #[arg(long)]
    pub band: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment spec, e.g. experiments/quickstart.toml.
    pub spec: PathBuf,
    /// SQLite database the runs are recorded in.
    #[arg(long, default_value = "sarlab.db")]
    pub db: PathBuf,
    /// Folder the report is written under (as DIR/STUDY_NAME/).
    #[arg(long, default_value = "reports")]
    pub reports: PathBuf,
    /// Folder each method's model is saved under (as DIR/STUDY_NAME/METHOD-HASH.safetensors).
    #[arg(long, default_value = "models")]
    pub models: PathBuf,
    /// Use this existing dataset instead of the spec's: any layout sarlab reads (image
    /// folders DIR/train/CLASS/*, a manifest CSV, Phoenix files; `dataset.format`,
    /// `train`/`test` and `depression` of the spec still apply). It is never
    /// generated.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Rerun configurations that already have a finished run (replacing those runs).
    #[arg(long)]
    pub force: bool,
    /// Run only shard I of N (0-based): every N-th configuration of the spec's fixed
    /// order, starting at the I-th; cross-validation only (merge the shard databases,
    /// then run the spec on the merged one for the test refits and the report).
    /// Default from Slurm: SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN of
    /// SLURM_ARRAY_TASK_COUNT.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Print the plan — configurations per feature method, how many are already
    /// finished in --db, how many fits are left and a rough time estimate — without
    /// reading the data or writing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Accept a plan of more than 10,000 configurations.
    #[arg(long)]
    pub allow_large: bool,
    /// Memory the SVM engine may hold for kernels: a size (8GB, 512MB, 2GiB) or a share
    /// of the memory available at start (60%). Kernels that fit are held whole; larger
    /// ones are computed row by row into a cache within it, with the same answers.
    #[arg(long, value_name = "SIZE|N%", default_value = "60%")]
    pub memory_budget: sarlab_study::memory::MemoryBudget,
}

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Generate the synthetic SAR dataset (sarlab's embedded default).
    Synth(SynthArgs),
    /// Describe a dataset folder, manifest, chip file or ENVI raster: format, classes,
    /// counts per class and split, chip sizes, MD5 status, header summary.
    Info(InfoArgs),
    /// Convert a chip file, an ENVI raster band or a whole dataset to PNG, float TIFF
    /// or .npy (a dataset becomes OUT/SPLIT/CLASS/CHIP.EXT).
    Convert(ConvertArgs),
    /// Estimate each chip's target aspect from its segmentation mask (as `pose =
    /// "mask"` does) and, for chips with a header azimuth (Phoenix TargetAz), how far
    /// the estimate is from it.
    Pose(PoseArgs),
    /// Score speckle filters on a dataset's chips: ENL gain in the clutter frame, edge
    /// preservation at the target outline, clutter-mean ratio (medians over chips).
    Speckle(SpeckleArgs),
}

#[derive(Debug, Args)]
pub struct SpeckleArgs {
    /// A dataset folder, a manifest CSV or a chip file.
    pub path: PathBuf,
    /// A speckle filter to score (repeat for several), e.g. lee:window=5:looks=1.
    #[arg(long = "filter", required = true)]
    pub filters: Vec<String>,
    /// Centre crop the chips first.
    #[arg(long)]
    pub crop: Option<usize>,
    /// Width of the clutter frame along the chip's edge, pixels.
    #[arg(long, default_value_t = 8)]
    pub border: usize,
    /// How the stored values are read for ENL: amplitude or intensity.
    #[arg(long, default_value = "amplitude")]
    pub domain: String,
    /// Segmentation whose target outline edge preservation is measured at.
    #[arg(long, default_value = "otsu:shadow=false")]
    pub segment: String,
    /// Score at most this many chips (spread evenly over the dataset).
    #[arg(long)]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Args)]
pub struct PoseArgs {
    /// A dataset folder, a manifest CSV or a chip file.
    pub path: PathBuf,
    /// Centre crop the mask is estimated on.
    #[arg(long)]
    pub crop: Option<usize>,
    /// The segmentation recipe, as `preprocess.segment` (default: otsu).
    #[arg(long, default_value = "otsu")]
    pub segment: String,
    /// Also write one row per chip to this CSV.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
}

/// How a dataset is read: shared by `info` and `convert`.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// Dataset layout: image-folders, manifest or phoenix (default: detected).
    #[arg(long)]
    pub format: Option<String>,
    /// Band of multi-band images (TIFF, ENVI) to read, from 0.
    #[arg(long)]
    pub band: Option<usize>,
    /// Depression angle(s) of Phoenix train chips, degrees.
    #[arg(long, value_delimiter = ',', default_value = "17")]
    pub train_depression: Vec<f64>,
    /// Depression angle(s) of Phoenix test chips, degrees.
    #[arg(long, value_delimiter = ',', default_value = "15")]
    pub test_depression: Vec<f64>,
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    /// A dataset folder, a manifest CSV, a chip file or an ENVI .hdr/data file.
    pub path: PathBuf,
    /// Print JSON for scripts (keys format, classes, counts, sizes, md5, ...).
    #[arg(long)]
    pub json: bool,
    /// Skip MSTAR MD5 verification (on by default).
    #[arg(long)]
    pub no_md5: bool,
    #[command(flatten)]
    pub read: ReadArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConvertTo {
    /// 8-bit grey PNG, stretched.
    Png,
    /// 16-bit grey PNG, stretched.
    Png16,
    /// Float TIFF, values as they are (float64 unless --dtype f32).
    Tiff,
    /// Little-endian float .npy, values as they are (float64 unless --dtype f32).
    Npy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConvertIntensity {
    /// Values as read (linear magnitude).
    Linear,
    /// Decibels: 20·log10(max(x, --db-floor)).
    Db,
}

#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// Input: a chip file (Phoenix, PNG, JPEG, TIFF, .npy), an ENVI raster, or a dataset.
    pub input: PathBuf,
    /// Output file (for one chip or raster) or folder (for a dataset); must not exist.
    pub output: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    pub to: ConvertTo,
    /// Intensity mapping applied before writing.
    #[arg(long, value_enum, default_value = "linear")]
    pub intensity: ConvertIntensity,
    /// Smallest magnitude before taking decibels.
    #[arg(long, default_value_t = 1e-4)]
    pub db_floor: f64,
    /// Sample type of .npy and TIFF outputs (f64: exact; f32: rounded once, as the
    /// MSTAR Phoenix magnitudes already are).
    #[arg(long, value_enum, default_value = "f64")]
    pub dtype: FloatType,
    /// Stretch to the integer range of PNG: minmax, pLOW-HIGH (e.g. p1-99, clips the
    /// tails) or fixed:LOW:HIGH. Per chip.
    #[arg(long, default_value = "minmax")]
    pub stretch: String,
    #[command(flatten)]
    pub read: ReadArgs,
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
    /// File format of the chips: png (16-bit, in SPLIT/CLASS/) or phoenix
    /// (MSTAR-like raw files with magnitude, phase and header, in DEG_DEG/CLASS/).
    #[arg(long, value_enum, default_value = "png")]
    pub file_format: SynthFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SynthFormatArg {
    Png,
    Phoenix,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Every argument of every command, as `command path: argument`, that `--help`
    /// would show without a description.
    fn undocumented(command: &clap::Command, path: &str, out: &mut Vec<String>) {
        for arg in command.get_arguments() {
            let builtin = matches!(arg.get_id().as_str(), "help" | "version");
            if !builtin && arg.get_help().is_none() && arg.get_long_help().is_none() {
                out.push(format!("{path}: {}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                out.push(format!("{path} {}: (the command itself)", sub.get_name()));
            }
            undocumented(sub, &format!("{path} {}", sub.get_name()), out);
        }
    }

    #[test]
    fn every_command_and_argument_has_help_text() {
        let mut missing = Vec::new();
        undocumented(&Cli::command(), "sarlab", &mut missing);
        assert!(missing.is_empty(), "no help text:\n{}", missing.join("\n"));
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
