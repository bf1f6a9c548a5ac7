//! The JSON header of a model file: what the arrays mean, how chips are prepared, and
//! where the model came from. Every named value is the owning library's `Display`
//! text, read back with its `FromStr`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The newest model format this sarlab reads, and the one it writes for linear models
/// (`svm.linear`, `linear.*` and `map.*` arrays). Kernel-SVM models are still written
/// as version 1, which every reader of version 1 reads, so their files keep their
/// bytes.
pub const FORMAT_VERSION: u32 = 2;

/// The version of files that hold a kernel SVM.
pub const SVC_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelHeader {
    /// The sarlab version and git commit that wrote the file. (No creation time: the
    /// same spec and data give the same bytes, so processes that refit the same
    /// configuration at once write the same file; the run records when.)
    pub sarlab_version: String,
    pub build: String,
    /// Class names; a label is an index into this list (the training dataset's
    /// classes, sorted).
    pub classes: Vec<String>,
    pub source: Source,
    pub input: Input,
    pub preprocess: PreprocessText,
    pub features: Features,
    pub transform: Transform,
    pub svm: Svm,
}

/// Where the model came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The study (spec `name`) and the configuration's hash in its database.
    pub experiment: String,
    pub config_hash: String,
    pub dataset_digest: String,
    pub dataset_path: String,
    /// Chips of the train split the model was fitted on.
    pub train_chips: usize,
    /// The configuration's recorded parameters (`key`, text).
    pub params: Vec<(String, String)>,
    pub selection_metric: String,
    /// Mean CV value of each metric of the configuration, and its test-split values.
    pub cv: BTreeMap<String, f64>,
    pub test: BTreeMap<String, f64>,
}

/// What chips the model takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Band of multi-band images read (`None`: single-band images; RGB exports as luma).
    pub band: Option<usize>,
    /// `(rows, cols)` every chip must have when there is no crop.
    pub chip_size: Option<(usize, usize)>,
}

/// [`sarlab_filter::Preprocess`] as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreprocessText {
    pub crop: Option<usize>,
    /// Absent when there is no resize, so files of models without one keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<String>,
    /// Absent when there is no pose normalisation, so older files keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pose: Option<String>,
    /// Absent when there is no segmentation, so older files keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    pub speckle: Option<String>,
    pub intensity: String,
    pub filter: Option<String>,
    /// Absent before per-chip normalisation existed, and when there is none, so files
    /// of models without it keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Features {
    pub method: String,
    /// `FeatureMethod::settings`, in order.
    pub settings: Vec<(String, String)>,
    /// Features per chip.
    pub length: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transform {
    pub standardize: bool,
    /// PCA components kept, when PCA is fitted (`pca.*` arrays).
    pub pca_components: Option<usize>,
    pub whiten: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Svm {
    /// Kernel name and its resolved numbers (γ as computed on the training data).
    pub kernel: String,
    pub gamma: f64,
    pub degree: u32,
    pub coef0: f64,
    /// The training parameters, as recorded.
    pub c: f64,
    pub gamma_setting: String,
    pub class_weight: String,
    pub tolerance: f64,
    /// Classes present in training (indices into `classes`), ascending.
    pub classes_present: Vec<usize>,
    pub support_vectors: usize,
    /// Platt scaling per pair machine (`svm.prob_a`, `svm.prob_b`), when fitted.
    pub probability: Option<Probability>,
    /// liblinear's linear SVM instead of a kernel SVM (format 2): `kernel` is the
    /// kernel its map approximates, or `linear`. Absent for kernel SVMs, whose files
    /// keep their bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Linear>,
}

/// The linear solver's settings and the shape of its model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linear {
    /// `squared_hinge` or `hinge`.
    pub loss: String,
    /// `nystroem:N` or `random_fourier:N` when the features are mapped (`map.*`
    /// arrays): the approximation's setting; the arrays hold the map as fitted.
    pub approximation: Option<String>,
    /// Machines (`linear.coef` rows): one for two classes, else one per class.
    pub machines: usize,
    /// Seed of the map's random choices and of the solver's visiting order.
    pub seed: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Probability {
    /// Internal cross-validation folds and the seed of their shuffle.
    pub folds: usize,
    pub seed: u64,
}
