//! The expansion of a spec into the fixed, ordered list of configurations to run.
//!
//! The configurations are the cartesian product, per `[[features]]` block, of the
//! preprocessing axes, that block's axes and the SVM axes, enumerated in a fixed order
//! (blocks in file order; then crop, intensity, speckle, filter, the block's parameters
//! in the order they are documented, pca, whiten, then the SVM grid's kernel, C,
//! gamma, degree, coef0). Each configuration records its parameters by name; with the
//! dataset digest they make the configuration hash a database deduplicates by.

use std::path::{Path, PathBuf};

use sarlab_features::FeatureMethod;
use sarlab_filter::Preprocess;
use sarlab_filter::augment::Augment;
use sarlab_io::synth::SynthConfig;
use sarlab_io::{DatasetOptions, DecodeOptions, DepressionSplits, FolderLayout};
use sarlab_svm::{
    Backend, Gamma, Halving, KernelApproximation, LinearSolver, LogUniform, MinResources,
    RandomSearch, SearchStrategy, Solver, SvmGrid, SvmParams, SweptValue,
};
use sarlab_track::ParamValue;
use sarlab_transform::pca::{PcaParams, PcaSolver};

use crate::error::{Error, Result};
use crate::feature_axes::{self, Sweep};
use crate::filters;
use crate::spec::{DatasetSource, DistributionSpec, PcaSolverName, SearchName, Spec};

/// Plans larger than this need the caller's explicit consent (`sarlab run
/// --allow-large`): a mistyped axis should not start a study that cannot finish.
pub const LARGE_PLAN: usize = 10_000;

/// One feature setting: preprocessing plus an extractor with fixed parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureConfig {
    pub preprocess: Preprocess,
    pub method: FeatureMethod,
    /// PCA fitted on the training part after standardisation; `None` keeps the features.
    pub pca: Option<PcaParams>,
    /// Augmented copies of each training chip, for training folds and the refit only.
    pub augment: Option<Augment>,
    /// Recorded parameters of this feature setting (preprocessing and extractor).
    pub params: Vec<(String, ParamValue)>,
}

impl FeatureConfig {
    /// `key=value` of the setting's own parameters, for reports.
    pub fn describe(&self) -> String {
        describe(&self.params)
    }
}

/// One point of the SVM grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint {
    pub svm: SvmParams,
    /// Recorded parameters: kernel, C, gamma (`none` for linear), then degree and
    /// coef0 where the kernel uses them.
    pub params: Vec<(String, ParamValue)>,
}

/// The expanded, validated study.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: Spec,
    pub spec_path: PathBuf,
    pub spec_text: String,
    pub features: Vec<FeatureConfig>,
    pub grid: Vec<GridPoint>,
    /// How the configurations are searched; with `Random` the grid holds the sampled
    /// points, with `Halving` every configuration is a candidate of its method's
    /// halving search.
    pub search: SearchStrategy,
    /// `Some`: every configuration is fitted by liblinear (`svm.solver`), on the
    /// features or on `svm.approximation` of the kernel; `None`: libsvm's SMO.
    pub linear_solver: Option<LinearSolver>,
}

/// `k=v k=v` for the parameters that vary between configurations (not `feature`).
pub fn describe(params: &[(String, ParamValue)]) -> String {
    params
        .iter()
        .filter(|(k, _)| k != "feature")
        .map(|(k, v)| {
            let short = k.rsplit('.').next().unwrap_or(k);
            format!("{short}={v}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads, validates and expands a spec file. `data_override` replaces `dataset.path`
/// with an existing folder dataset (so a study written for the synthetic default runs
/// unchanged on real chips: the folder is read, never generated).
pub fn load_plan(path: &Path, data_override: Option<&Path>) -> Result<Plan> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::ReadSpec {
        path: path.to_path_buf(),
        source,
    })?;
    let mut spec = Spec::parse(&text, path)?;
    if let Some(data) = data_override {
        spec.dataset.path = data.to_path_buf();
        spec.dataset.source = DatasetSource::Folder;
        spec.dataset.synthetic = None;
    }
    Plan::new(spec, path, text)
}

impl Plan {
    /// Validates and expands `spec` (read from `path`, whose TOML is `text`).
    pub fn new(spec: Spec, path: &Path, text: String) -> Result<Plan> {
        let invalid = |message: String| Error::InvalidSpec {
            path: path.to_path_buf(),
            message,
        };
        check_spec(&spec).map_err(invalid)?;
        let features = expand_features(&spec, &text).map_err(invalid)?;
        let search = search_strategy(&spec).map_err(invalid)?;
        let linear_solver = linear_solver(&spec).map_err(invalid)?;
        let grid = expand_grid(&spec, &search, linear_solver).map_err(invalid)?;
        let configurations = features.len().saturating_mul(grid.len());
        if configurations > MAX_CONFIGURATIONS {
            return Err(invalid(format!(
                "{} feature setting(s) (the `[[features]]` and `[preprocess]` axes) × {} SVM grid point(s) (the `[svm]` axes) = {configurations} configurations: at most {MAX_CONFIGURATIONS} (shard a larger study or sweep fewer values)",
                features.len(),
                grid.len()
            )));
        }
        Ok(Plan {
            spec,
            spec_path: path.to_path_buf(),
            spec_text: text,
            features,
            grid,
            search,
            linear_solver,
        })
    }

    /// The solver's stopping tolerance (`svm.tolerance`, default per solver).
    pub fn tolerance(&self) -> f64 {
        tolerance(&self.spec.svm)
    }

    /// Whether the test refits fit Platt sigmoids: `svm.probability`, by default on for
    /// libsvm's SMO (the linear solver has none).
    pub fn probability(&self) -> bool {
        self.spec
            .svm
            .probability
            .unwrap_or(self.linear_solver.is_none())
    }

    pub fn configurations(&self) -> usize {
        self.features.len() * self.grid.len()
    }

    /// Feature methods in first-appearance order.
    pub fn methods(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        for f in &self.features {
            if !out.contains(&f.method.name()) {
                out.push(f.method.name());
            }
        }
        out
    }

    /// The parameters recorded for configuration (`feature`, `grid`) at `stage` ("cv"
    /// or "test"): its feature setting's, its grid point's, then those every run of the
    /// study shares. With the dataset digest they make the configuration hash, so their
    /// names, values and order must not change (`tests/snapshots/config_hashes.tsv`).
    pub fn params_of(&self, feature: usize, grid: usize, stage: &str) -> Vec<(String, ParamValue)> {
        let mut params = self.features[feature].params.clone();
        params.extend(self.grid[grid].params.iter().cloned());
        params.extend(self.common_params(stage));
        params
    }

    /// Parameters shared by every configuration run of the study.
    fn common_params(&self, stage: &str) -> Vec<(String, ParamValue)> {
        let svm = &self.spec.svm;
        let mut params = vec![
            ("folds".to_owned(), svm.folds.into()),
            ("seed".to_owned(), ParamValue::Int(self.spec.seed as i64)),
            ("standardize".to_owned(), svm.standardize.into()),
            ("tolerance".to_owned(), self.tolerance().into()),
            (
                "class_weight".to_owned(),
                svm.class_weight.to_string().into(),
            ),
            ("shrinking".to_owned(), svm.shrinking.into()),
            ("backend".to_owned(), svm.backend.name().into()),
            (
                "max_iterations".to_owned(),
                svm.max_iterations
                    .map_or(ParamValue::from("libsvm"), ParamValue::from),
            ),
            ("stage".to_owned(), stage.into()),
        ];
        // Only studies of the linear solver record it, so the hashes of SMO studies
        // stay what they were.
        if let Some(solver) = &self.linear_solver {
            params.push(("solver".to_owned(), "liblinear".into()));
            params.push(("loss".to_owned(), solver.loss.to_string().into()));
            if let Some(approximation) = solver.approximation {
                params.push(("approximation".to_owned(), approximation.to_string().into()));
            }
        }
        params
    }

    /// The run name of configuration (`feature`, `grid`).
    pub fn run_name(&self, feature: usize, grid: usize) -> String {
        let f = &self.features[feature];
        format!(
            "{} {} {}",
            f.method.name(),
            f.describe(),
            describe(&self.grid[grid].params)
        )
    }

    /// `key=value` of both parts of configuration (`feature`, `grid`), for reports.
    pub fn describe(&self, feature: usize, grid: usize) -> String {
        format!(
            "{} {}",
            self.features[feature].describe(),
            describe(&self.grid[grid].params)
        )
    }

    /// How the dataset is found and read.
    pub fn dataset_options(&self) -> DatasetOptions {
        let ds = &self.spec.dataset;
        let depression = match &ds.depression {
            Some(d) => DepressionSplits {
                train: d.train.clone(),
                test: d.test.clone(),
            },
            None => DepressionSplits::default(),
        };
        DatasetOptions {
            format: ds.format,
            layout: FolderLayout {
                train: ds.train.clone(),
                test: ds.test.clone(),
            },
            depression,
            decode: DecodeOptions {
                band: ds.band,
                verify_md5: ds.verify_md5,
            },
        }
    }

    /// Settings of the synthetic generator for `source = "synthetic"`.
    pub fn synth_config(&self) -> Result<SynthConfig> {
        let mut table = self.spec.dataset.synthetic.clone().unwrap_or_default();
        table
            .entry("seed")
            .or_insert_with(|| toml::Value::Integer(self.spec.seed as i64));
        let invalid = |message: String| Error::InvalidSpec {
            path: self.spec_path.clone(),
            message: format!("dataset.synthetic: {message}"),
        };
        let config: SynthConfig = table.try_into().map_err(|e| invalid(e.to_string()))?;
        config.validate().map_err(|e| invalid(e.to_string()))?;
        Ok(config)
    }
}

/// The largest centre crop.
pub const MAX_CROP: usize = 8192;

/// The most configurations one spec may expand to.
pub const MAX_CONFIGURATIONS: usize = 100_000;

/// The longest study name: it becomes a folder and the prefix of file names, which
/// file systems cap at 255 bytes.
pub const MAX_NAME_LEN: usize = 100;

/// The rules that concern the spec as a whole rather than one axis.
fn check_spec(spec: &Spec) -> Result<(), String> {
    if spec.name.is_empty()
        || !spec
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "`name` = {:?}: use letters, digits, '-', '_' or '.' (it names the report folder)",
            spec.name
        ));
    }
    if spec.name.len() > MAX_NAME_LEN {
        return Err(format!(
            "`name` is {} characters long: at most {MAX_NAME_LEN} (it names the report folder and its files)",
            spec.name.chars().count()
        ));
    }
    if spec.dataset.train == spec.dataset.test {
        return Err(format!(
            "`dataset.train` and `dataset.test` are both {:?}: the test split must be other chips than the training split, or its scores measure nothing",
            spec.dataset.train
        ));
    }
    if spec.dataset.source == DatasetSource::Synthetic && spec.dataset.depression.is_some() {
        return Err(
            "`dataset.depression` applies to Phoenix data only; the synthetic dataset is image folders split by `train`/`test`".to_owned(),
        );
    }
    if spec.dataset.path.as_os_str().is_empty() {
        return Err("`dataset.path` is empty".to_owned());
    }
    if spec.dataset.source == DatasetSource::Folder && spec.dataset.synthetic.is_some() {
        return Err("`dataset.synthetic` is only allowed with source = \"synthetic\"".to_owned());
    }
    if let Some(d) = &spec.dataset.depression {
        for (key, angles) in [("train", &d.train), ("test", &d.test)] {
            if angles.is_empty()
                || angles
                    .iter()
                    .any(|a| !a.is_finite() || !(0.0..=90.0).contains(a))
            {
                return Err(format!(
                    "`dataset.depression.{key}` = {angles:?}: give one or more angles in degrees within 0..=90"
                ));
            }
        }
    }
    if spec.svm.folds < 2 {
        return Err(format!(
            "`svm.folds` = {}: cross-validation needs at least 2 folds",
            spec.svm.folds
        ));
    }
    if spec.features.is_empty() {
        return Err("no [[features]] block: name at least one feature method".to_owned());
    }
    Ok(())
}

fn non_empty<T>(key: &str, values: &[T]) -> Result<(), String> {
    if values.is_empty() {
        return Err(format!("`{key}` is an empty list: give at least one value"));
    }
    Ok(())
}

/// Every combination of one value per axis of `lengths`, the first axis slowest.
fn product(lengths: &[usize]) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new()];
    for &len in lengths {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                (0..len).map(move |i| {
                    let mut next = prefix.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    out
}

/// Preprocessing and reduction axes, shared by every `[[features]]` block.
struct SharedAxes {
    crop: Option<Vec<usize>>,
    resize: Option<Vec<usize>>,
    pad: Option<sarlab_filter::pad::PadMode>,
    segment: Option<Vec<filters::FilterValue<sarlab_filter::segment::Segmentation>>>,
    pose: Option<Vec<filters::FilterValue<sarlab_filter::pose::Pose>>>,
    intensity: Vec<sarlab_filter::Intensity>,
    speckle: Option<Vec<filters::FilterValue<sarlab_filter::spatial::SpeckleFilter>>>,
    filter: Option<Vec<filters::FilterValue<sarlab_filter::frequency::FrequencyFilter>>>,
    normalize: Option<Vec<filters::FilterValue<sarlab_filter::normalize::ChipNorm>>>,
    augment: Option<Vec<filters::FilterValue<Augment>>>,
    pca: Option<(Vec<usize>, Vec<bool>)>,
    solver: PcaSolver,
}

impl SharedAxes {
    fn of(spec: &Spec) -> Result<Self, String> {
        let pre = &spec.preprocess;
        if let Some(crop) = &pre.crop {
            non_empty("preprocess.crop", crop.values())?;
            if let Some(bad) = crop.values().iter().find(|&&c| c > MAX_CROP) {
                return Err(format!(
                    "`preprocess.crop` = {bad}: at most {MAX_CROP} pixels (a crop is a chip, not a scene)"
                ));
            }
            if let Some(bad) = crop.values().iter().find(|&&c| c == 0) {
                return Err(format!(
                    "`preprocess.crop` = {bad}: a crop must be at least 1 pixel"
                ));
            }
        }
        if let Some(resize) = &pre.resize {
            non_empty("preprocess.resize", resize.values())?;
            if let Some(bad) = resize
                .values()
                .iter()
                .find(|&&r| r == 0 || r > sarlab_filter::resize::MAX_RESIZE)
            {
                return Err(format!(
                    "`preprocess.resize` = {bad}: expected 1 to {} pixels",
                    sarlab_filter::resize::MAX_RESIZE
                ));
            }
        }
        non_empty("preprocess.intensity", pre.intensity.values())?;
        let pca = match &spec.reduce {
            Some(reduce) => {
                non_empty("reduce.pca", reduce.pca.values())?;
                non_empty("reduce.whiten", reduce.whiten.values())?;
                Some((reduce.pca.0.clone(), reduce.whiten.0.clone()))
            }
            None => None,
        };
        let solver = match spec.reduce.as_ref().map(|r| r.solver) {
            Some(PcaSolverName::Randomized) => PcaSolver::Randomized { seed: spec.seed },
            _ => PcaSolver::Exact,
        };
        Ok(SharedAxes {
            crop: pre.crop.as_ref().map(|c| c.0.clone()),
            resize: pre.resize.as_ref().map(|r| r.0.clone()),
            pad: match &pre.pad {
                Some(text) => {
                    if pre.crop.is_none() {
                        return Err(format!(
                            "`preprocess.pad` = \"{text}\" pads chips up to the crop: it needs `preprocess.crop`"
                        ));
                    }
                    Some(text.parse().map_err(|e| format!("`preprocess.pad`: {e}"))?)
                }
                None => None,
            },
            segment: pre
                .segment
                .as_ref()
                .map(filters::segment_axis)
                .transpose()?,
            pose: pre.pose.as_ref().map(filters::pose_axis).transpose()?,
            intensity: pre.intensity.0.clone(),
            // Filter axes are recorded only when the spec names them, so configurations
            // of specs without filters keep the hashes they always had.
            speckle: pre
                .speckle
                .as_ref()
                .map(filters::speckle_axis)
                .transpose()?,
            filter: pre
                .filter
                .as_ref()
                .map(filters::frequency_axis)
                .transpose()?,
            normalize: pre
                .normalize
                .as_ref()
                .map(filters::normalize_axis)
                .transpose()?,
            augment: pre
                .augment
                .as_ref()
                .map(filters::augment_axis)
                .transpose()?,
            pca,
            solver,
        })
    }

    /// The sweeps before the method's (crop, intensity, speckle, filter, normalize,
    /// augment) and after it (pca, whiten), as recorded.
    fn sweeps(&self) -> (Vec<Sweep>, Vec<Sweep>) {
        let sweep = |key: &str, values: Vec<ParamValue>| Sweep {
            key: key.to_owned(),
            values,
        };
        let texts = |values: Vec<&String>| {
            values
                .into_iter()
                .map(|t| ParamValue::from(t.as_str()))
                .collect()
        };
        let mut before = Vec::new();
        if let Some(crop) = &self.crop {
            before.push(sweep(
                "crop",
                crop.iter().map(|&c| ParamValue::from(c)).collect(),
            ));
        }
        if let Some(pose) = &self.pose {
            before.push(sweep("pose", texts(pose.iter().map(|(t, _)| t).collect())));
        }
        if let Some(pad) = self.pad {
            before.push(sweep("pad", vec![ParamValue::from(pad.name())]));
        }
        if let Some(resize) = &self.resize {
            before.push(sweep(
                "resize",
                resize.iter().map(|&r| ParamValue::from(r)).collect(),
            ));
        }
        if let Some(segment) = &self.segment {
            before.push(sweep(
                "segment",
                texts(segment.iter().map(|(t, _)| t).collect()),
            ));
        }
        before.push(sweep(
            "intensity",
            self.intensity
                .iter()
                .map(|i| ParamValue::from(i.name()))
                .collect(),
        ));
        if let Some(speckle) = &self.speckle {
            before.push(sweep(
                "speckle",
                texts(speckle.iter().map(|(t, _)| t).collect()),
            ));
        }
        if let Some(filter) = &self.filter {
            before.push(sweep(
                "filter",
                texts(filter.iter().map(|(t, _)| t).collect()),
            ));
        }
        if let Some(normalize) = &self.normalize {
            before.push(sweep(
                "normalize",
                texts(normalize.iter().map(|(t, _)| t).collect()),
            ));
        }
        if let Some(augment) = &self.augment {
            before.push(sweep(
                "augment",
                texts(augment.iter().map(|(t, _)| t).collect()),
            ));
        }
        let mut after = Vec::new();
        if let Some((pca, whiten)) = &self.pca {
            after.push(sweep(
                "pca",
                pca.iter().map(|&n| ParamValue::from(n)).collect(),
            ));
            after.push(sweep(
                "pca.whiten",
                whiten.iter().map(|&w| ParamValue::from(w)).collect(),
            ));
        }
        (before, after)
    }
}

/// Every feature setting of the spec, in enumeration order.
fn expand_features(spec: &Spec, text: &str) -> Result<Vec<FeatureConfig>, String> {
    let shared = SharedAxes::of(spec)?;
    let (before, after) = shared.sweeps();
    let mut features: Vec<FeatureConfig> = Vec::new();
    for (block, feature) in spec.features.iter().enumerate() {
        let name = feature.method.name();
        let mut sweeps = vec![Sweep {
            key: "feature".to_owned(),
            values: vec![ParamValue::from(name)],
        }];
        sweeps.extend(before.iter().cloned());
        sweeps.extend(feature_axes::method_sweeps(block, feature, text)?);
        sweeps.extend(after.iter().cloned());
        let lengths: Vec<usize> = sweeps.iter().map(|s| s.values.len()).collect();
        let settings = features
            .len()
            .saturating_add(lengths.iter().fold(1usize, |n, &len| n.saturating_mul(len)));
        if settings > MAX_CONFIGURATIONS {
            return Err(format!(
                "`features[{block}]` ({name}) brings the feature settings to {settings} or more: at most {MAX_CONFIGURATIONS} configurations in all"
            ));
        }
        for at in product(&lengths) {
            let index = |key: &str| {
                sweeps
                    .iter()
                    .position(|s| s.key == key)
                    .map(|axis| at[axis])
            };
            let params: Vec<(String, ParamValue)> = sweeps
                .iter()
                .zip(&at)
                .map(|(s, &i)| (s.key.clone(), s.values[i].clone()))
                .collect();
            let pca = shared
                .pca
                .as_ref()
                .and_then(|(pca, _)| index("pca").map(|i| pca[i]))
                .filter(|&n| n > 0);
            let whiten = shared
                .pca
                .as_ref()
                .and_then(|(_, whiten)| index("pca.whiten").map(|i| whiten[i]))
                .unwrap_or(false);
            if pca.is_none() && whiten {
                // Whitening needs components: `pca = 0` is enumerated once, unwhitened.
                continue;
            }
            let pick = |key: &str| index(key).unwrap_or(0);
            let preprocess = Preprocess {
                crop: shared.crop.as_ref().map(|c| c[pick("crop")]),
                intensity: shared.intensity[pick("intensity")],
                speckle: shared.speckle.as_ref().and_then(|s| s[pick("speckle")].1),
                filter: shared
                    .filter
                    .as_ref()
                    .and_then(|f| f[pick("filter")].1.clone()),
                normalize: shared
                    .normalize
                    .as_ref()
                    .and_then(|n| n[pick("normalize")].1),
                resize: shared.resize.as_ref().map(|r| r[pick("resize")]),
                pad: shared.pad,
                segment: shared.segment.as_ref().and_then(|s| s[pick("segment")].1),
                pose: shared.pose.as_ref().and_then(|p| p[pick("pose")].1),
            };
            // What the stages after the crop see: the resize, else the crop.
            let sized = match (preprocess.resize, preprocess.crop) {
                (Some(side), _) => Some((side, format!("preprocess.resize = {side}"))),
                (None, Some(crop)) => Some((crop, format!("preprocess.crop = {crop}"))),
                (None, None) => None,
            };
            if let (Some(segmentation), Some((side, at))) = (&preprocess.segment, &sized) {
                segmentation
                    .validate(*side, *side)
                    .map_err(|e| format!("`preprocess.segment` with {at}: {e}"))?;
            }
            if let (Some(speckle), Some((side, at))) = (&preprocess.speckle, &sized) {
                speckle
                    .validate(*side, *side)
                    .map_err(|e| format!("`preprocess.speckle` with {at}: {e}"))?;
            }
            if let (Some(filter), Some((side, at))) = (&preprocess.filter, &sized) {
                filter
                    .validate(*side, *side)
                    .map_err(|e| format!("`preprocess.filter` with {at}: {e}"))?;
            }
            let method = feature_axes::method_of(&feature.method, &params)
                .and_then(|m| m.validate().map(|()| m))
                .map_err(|e| {
                    let at = match &e {
                        sarlab_features::Error::InvalidParameter { name, .. } => {
                            feature_axes::locate(block, feature, name, text)
                        }
                        sarlab_features::Error::FusionPart { key, .. } => {
                            feature_axes::locate(block, feature, key, text)
                        }
                        _ => format!("`features[{block}]`"),
                    };
                    format!("{at} ({name}): {e}")
                })?;
            if matches!(method, FeatureMethod::Fusion(_)) && !spec.svm.standardize {
                return Err(format!(
                    "`features[{block}]` (fusion) standardises each block before weighting it: it needs `svm.standardize = true`"
                ));
            }
            if let Some((crop, at)) = &sized {
                let crop = *crop;
                let dim = method
                    .output_len(crop, crop)
                    .map_err(|e| format!("`features[{block}]` ({name}) with {at}: {e}"))?;
                if let Some(components) = pca
                    && components > dim
                {
                    let setting: Vec<_> = params
                        .iter()
                        .filter(|(k, _)| k != "feature" && !k.starts_with("pca"))
                        .cloned()
                        .collect();
                    return Err(format!(
                        "`reduce.pca` = {components} is more than the {dim} features of `features[{block}]` ({name}, {}) at {at}",
                        describe(&setting)
                    ));
                }
            }
            if features.iter().any(|f| f.params == params) {
                return Err(format!(
                    "`features[{block}]` repeats a feature setting already listed: {}",
                    describe(&params)
                ));
            }
            let mut params = params;
            if pca.is_some() && shared.solver != PcaSolver::Exact {
                params.push((
                    "pca.solver".to_owned(),
                    ParamValue::from(shared.solver.name()),
                ));
            }
            features.push(FeatureConfig {
                preprocess,
                method,
                augment: shared.augment.as_ref().and_then(|a| a[pick("augment")].1),
                pca: pca.map(|components| PcaParams {
                    components,
                    whiten,
                    solver: shared.solver,
                }),
                params,
            });
        }
    }
    Ok(features)
}

/// The SVM grid, checked and enumerated by [`SvmGrid`], with each point's recorded
/// parameters.
fn expand_grid(
    spec: &Spec,
    search: &SearchStrategy,
    linear_solver: Option<LinearSolver>,
) -> Result<Vec<GridPoint>, String> {
    let svm = &spec.svm;
    let grid = SvmGrid {
        kernels: svm.kernel.0.clone(),
        c: svm.c.0.clone(),
        gamma: svm.gamma.0.clone(),
        degree: svm.degree.0.clone(),
        coef0: svm.coef0.0.clone(),
        base: SvmParams {
            tolerance: tolerance(svm),
            shrinking: svm.shrinking,
            class_weight: svm.class_weight.clone(),
            max_iterations: svm.max_iterations,
            linear_solver,
            ..SvmParams::default()
        },
    };
    let points = match search {
        SearchStrategy::Random(random) => random.points(&grid, spec.seed),
        _ => grid.points(),
    }
    .map_err(|e| match e {
        sarlab_svm::Error::InvalidParameter { name, message } => match name {
            "samples" => format!("`search.{name}` {message}"),
            _ => format!("`svm.{name}` {message}"),
        },
        other => other.to_string(),
    })?;
    Ok(points
        .into_iter()
        .map(|svm| GridPoint {
            params: recorded_grid_params(&svm),
            svm,
        })
        .collect())
}

/// `svm.tolerance`, or the solver's default ([`Solver::default_tolerance`]).
fn tolerance(svm: &crate::spec::SvmSpec) -> f64 {
    svm.tolerance
        .unwrap_or_else(|| svm.solver.default_tolerance())
}

/// `svm.solver`, `svm.loss` and `svm.approximation` as the SVM crate's linear solver
/// (`None` for SMO); a setting of the other solver is an error. Which kernels the
/// solver can fit is checked with each grid point.
fn linear_solver(spec: &Spec) -> Result<Option<LinearSolver>, String> {
    let svm = &spec.svm;
    if svm.solver == Solver::Smo {
        for (key, given) in [
            ("loss", svm.loss.is_some()),
            ("approximation", svm.approximation.is_some()),
        ] {
            if given {
                return Err(format!(
                    "`svm.{key}` applies to solver = \"liblinear\", not \"smo\""
                ));
            }
        }
        return Ok(None);
    }
    if svm.probability == Some(true) {
        return Err(
            "`svm.probability` = true: the liblinear solver fits no Platt sigmoids (LinearSVC has no predict_proba); leave it out or set it false"
                .to_owned(),
        );
    }
    if svm.backend != Backend::default() {
        return Err(format!(
            "`svm.backend` = \"{}\" applies to solver = \"smo\"",
            svm.backend.name()
        ));
    }
    let approximation = match svm.approximation {
        None => None,
        Some(table) => Some(
            match (table.nystroem, table.random_fourier) {
                (Some(n), None) => KernelApproximation::new("nystroem", n),
                (None, Some(n)) => KernelApproximation::new("random_fourier", n),
                _ => {
                    return Err(
                    "`svm.approximation`: give one of { nystroem = N } or { random_fourier = N }"
                        .to_owned(),
                );
                }
            }
            .map_err(|e| format!("`svm.approximation`: {e}"))?,
        ),
    };
    Ok(Some(LinearSolver {
        loss: svm.loss.unwrap_or_default(),
        approximation,
        seed: spec.seed,
    }))
}

/// `[search]` as the SVM crate's strategy; a setting of another strategy is an error.
fn search_strategy(spec: &Spec) -> Result<SearchStrategy, String> {
    let Some(search) = &spec.search else {
        return Ok(SearchStrategy::Grid);
    };
    let misplaced = |key: &str, given: bool, owner: &str| -> Result<(), String> {
        match given {
            true => Err(format!(
                "`search.{key}` applies to strategy = \"{owner}\", not \"{}\"",
                strategy_name(search.strategy)
            )),
            false => Ok(()),
        }
    };
    let halving_keys = |owner: &str| -> Result<(), String> {
        misplaced("factor", search.factor.is_some(), owner)?;
        misplaced("min_resources", search.min_resources.is_some(), owner)
    };
    let random_keys = |owner: &str| -> Result<(), String> {
        misplaced("samples", search.samples.is_some(), owner)?;
        misplaced("C", search.c.is_some(), owner)?;
        misplaced("gamma", search.gamma.is_some(), owner)
    };
    let distribution = |name: &'static str, d: Option<DistributionSpec>| {
        d.map(|d| LogUniform::new(name, d.log_uniform[0], d.log_uniform[1]))
            .transpose()
            .map_err(|e| format!("`search.{name}`: {e}"))
    };
    match search.strategy {
        SearchName::Grid => {
            halving_keys("halving")?;
            random_keys("random")?;
            Ok(SearchStrategy::Grid)
        }
        SearchName::Random => {
            halving_keys("halving")?;
            let samples = search.samples.ok_or_else(|| {
                "`search.samples` is missing: strategy = \"random\" draws that many SVM grid points".to_owned()
            })?;
            Ok(SearchStrategy::Random(RandomSearch {
                samples,
                c: distribution("C", search.c)?,
                gamma: distribution("gamma", search.gamma)?,
            }))
        }
        SearchName::Halving => {
            random_keys("random")?;
            let min_resources = match &search.min_resources {
                None => MinResources::default(),
                Some(toml::Value::String(text)) => text
                    .parse::<MinResources>()
                    .map_err(|e| format!("`search.min_resources`: {e}"))?,
                Some(toml::Value::Integer(n)) if *n > 0 => MinResources::Rows(*n as usize),
                Some(other) => {
                    return Err(format!(
                        "`search.min_resources` = {other}: expected \"exhaust\", \"smallest\" or a number of rows > 0"
                    ));
                }
            };
            let halving = Halving {
                factor: search.factor.unwrap_or(Halving::default().factor),
                min_resources,
            };
            halving
                .validate()
                .map_err(|e| format!("`search.factor`: {e}"))?;
            Ok(SearchStrategy::Halving(halving))
        }
    }
}

fn strategy_name(name: SearchName) -> &'static str {
    match name {
        SearchName::Grid => "grid",
        SearchName::Random => "random",
        SearchName::Halving => "halving",
    }
}

/// The parameters a grid point's kernel uses ([`SvmParams::swept`]) as recorded values:
/// kernel name, C, γ (a number or `scale`/`auto`), degree, coef0.
pub(crate) fn swept_values(point: &SvmParams) -> Vec<(&'static str, ParamValue)> {
    point
        .swept()
        .into_iter()
        .map(|(name, value)| {
            let value = match value {
                SweptValue::Kernel(k) => ParamValue::from(k.name()),
                SweptValue::Real(v) | SweptValue::Gamma(Gamma::Value(v)) => ParamValue::Real(v),
                SweptValue::Gamma(named) => ParamValue::from(named.to_string().as_str()),
                SweptValue::Degree(d) => ParamValue::Int(i64::from(d)),
            };
            (name, value)
        })
        .collect()
}

/// A grid point's parameters as recorded: what its kernel uses, with `gamma = "none"`
/// for the linear kernel.
fn recorded_grid_params(point: &SvmParams) -> Vec<(String, ParamValue)> {
    let mut params: Vec<(String, ParamValue)> = swept_values(point)
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
    if !point.kernel.uses_gamma() {
        params.insert(2, ("gamma".to_owned(), ParamValue::from("none")));
    }
    params
}
