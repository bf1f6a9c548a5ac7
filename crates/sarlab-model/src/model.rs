//! A model in memory — preprocessing, feature method, fitted transform and machines —
//! and its file.

use std::path::Path;

use ndarray::{Array1, Array2, ArrayView2};
use sarlab_features::FeatureMethod;
use sarlab_filter::{Intensity, Preprocess};
use sarlab_io::DecodeOptions;
use sarlab_svm::{
    Classifier, FeatureMap, FittedModel, FittedTransform, Kernel, KernelApproximation,
    KernelFunction, LinearClassifier, LinearLoss, LinearModel, LinearSolver, Machines, PairMachine,
    PlattScaling, SvcModel, SvmParams,
};
use sarlab_transform::StandardScaler;
use sarlab_transform::pca::Pca;

use crate::error::{Error, Result};
use crate::header::{self, FORMAT_VERSION, ModelHeader, SVC_FORMAT_VERSION};
use crate::tensors::Tensors;

/// A model file larger than this is refused before it is read (the largest study
/// models are tens of MB).
pub const MAX_MODEL_BYTES: u64 = 8 << 30;

/// Everything that goes from a chip file to a label.
#[derive(Debug, Clone)]
pub struct Model {
    pub header: ModelHeader,
    pub preprocess: Preprocess,
    pub method: FeatureMethod,
    pub decode: DecodeOptions,
    pub fitted: FittedModel,
}

/// What a refit gives to make a [`Model`].
#[derive(Debug, Clone)]
pub struct ModelParts {
    /// The training dataset's class names (labels index into them).
    pub classes: Vec<String>,
    pub source: header::Source,
    /// sarlab's version and the git commit of the build.
    pub sarlab_version: String,
    pub build: String,
    /// The size of every training chip, when the preprocessing does not crop.
    pub chip_size: Option<(usize, usize)>,
    /// The SVM parameters it was trained with.
    pub params: SvmParams,
    pub preprocess: Preprocess,
    pub method: FeatureMethod,
    pub decode: DecodeOptions,
    pub fitted: FittedModel,
}

impl Model {
    /// The model of a refit, checked as a loaded one is.
    pub fn new(parts: ModelParts) -> Result<Self> {
        let ModelParts {
            classes,
            source,
            sarlab_version,
            build,
            chip_size,
            params,
            preprocess,
            method,
            decode,
            fitted,
        } = parts;
        let svm = svm_header(&params, &fitted);
        let header = ModelHeader {
            sarlab_version,
            build,
            classes,
            source,
            input: header::Input {
                band: decode.band,
                chip_size: if preprocess.crop.is_some() || preprocess.resize.is_some() {
                    None
                } else {
                    chip_size
                },
            },
            preprocess: header::PreprocessText {
                crop: preprocess.crop,
                resize: preprocess.resize,
                pad: preprocess.pad.map(|m| m.to_string()),
                segment: preprocess.segment.as_ref().map(ToString::to_string),
                pose: preprocess.pose.map(|p| p.to_string()),
                speckle: preprocess.speckle.as_ref().map(ToString::to_string),
                intensity: preprocess.intensity.to_string(),
                filter: preprocess.filter.as_ref().map(ToString::to_string),
                normalize: preprocess.normalize.map(|n| n.to_string()),
            },
            features: header::Features {
                method: method.name().to_owned(),
                settings: method
                    .settings()
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
                length: fitted.input_len,
            },
            transform: header::Transform {
                standardize: fitted.transform.scaler.is_some(),
                pca_components: fitted.transform.pca.as_ref().map(|p| p.components.nrows()),
                whiten: fitted.transform.pca.as_ref().is_some_and(|p| p.whiten),
            },
            svm,
        };
        let model = Self {
            header,
            preprocess,
            method,
            decode,
            fitted,
        };
        model.check()?;
        Ok(model)
    }

    /// The Platt sigmoids, when the model was trained with probability estimates.
    pub fn probability(&self) -> Option<&PlattScaling> {
        self.fitted.platt.as_ref()
    }

    /// Class probabilities (rows × classes) from decision values (rows × pairs).
    pub fn probabilities(&self, decisions: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        let platt = self
            .probability()
            .ok_or_else(|| Error::Input("this model has no probability estimates".to_owned()))?;
        let svc = self.fitted.classifier.svc().ok_or_else(|| {
            Error::Input("a linear model has no probability estimates".to_owned())
        })?;
        Ok(platt.probabilities(&svc.machines, decisions)?)
    }

    /// The class names of the model's labels.
    pub fn classes(&self) -> &[String] {
        &self.header.classes
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut tensors = Tensors::default();
        let transform = &self.fitted.transform;
        if let Some(scaler) = &transform.scaler {
            put_vector(&mut tensors, "transform.scaler.mean", &scaler.mean);
            put_vector(&mut tensors, "transform.scaler.scale", &scaler.scale);
        }
        if let Some(pca) = &transform.pca {
            put_vector(&mut tensors, "transform.pca.mean", &pca.mean);
            put_matrix(&mut tensors, "transform.pca.components", &pca.components);
            put_vector(
                &mut tensors,
                "transform.pca.explained_variance",
                &pca.explained_variance,
            );
            put_vector(
                &mut tensors,
                "transform.pca.explained_variance_ratio",
                &pca.explained_variance_ratio,
            );
        }
        let version = match &self.fitted.classifier {
            Classifier::Svc(svc) => {
                put_svc(&mut tensors, svc);
                SVC_FORMAT_VERSION
            }
            Classifier::Linear(linear) => {
                put_linear(&mut tensors, linear);
                FORMAT_VERSION
            }
        };
        if let Some(platt) = &self.fitted.platt {
            tensors.put_f64("svm.prob_a", vec![platt.a.len()], &platt.a);
            tensors.put_f64("svm.prob_b", vec![platt.b.len()], &platt.b);
        }
        let header = serde_json::to_string(&self.header)?;
        Ok(tensors.to_bytes(&header, version))
    }

    /// A model from a file's bytes: the layout, version, checksum and every array
    /// are checked against the header.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Tensors::read_with(bytes, FORMAT_VERSION, Self::from_tensors)
    }

    fn from_tensors(tensors: &Tensors<'_>, header_text: &str) -> Result<Self> {
        let header: ModelHeader = serde_json::from_str(header_text)?;
        let preprocess = Preprocess {
            crop: header.preprocess.crop,
            resize: header.preprocess.resize,
            pad: header
                .preprocess
                .pad
                .as_deref()
                .map(str::parse)
                .transpose()?,
            pose: header
                .preprocess
                .pose
                .as_deref()
                .map(str::parse)
                .transpose()?,
            segment: header
                .preprocess
                .segment
                .as_deref()
                .map(str::parse)
                .transpose()?,
            speckle: header
                .preprocess
                .speckle
                .as_deref()
                .map(str::parse)
                .transpose()?,
            intensity: header.preprocess.intensity.parse::<Intensity>()?,
            filter: header
                .preprocess
                .filter
                .as_deref()
                .map(str::parse)
                .transpose()?,
            normalize: header
                .preprocess
                .normalize
                .as_deref()
                .map(str::parse)
                .transpose()?,
        };
        let method =
            FeatureMethod::from_settings(&header.features.method, &header.features.settings)?;
        let decode = DecodeOptions {
            band: header.input.band,
            verify_md5: false,
        };
        let scaler = match tensors.has("transform.scaler.mean") {
            true => Some(StandardScaler {
                mean: vector(tensors, "transform.scaler.mean")?,
                scale: vector(tensors, "transform.scaler.scale")?,
            }),
            false => None,
        };
        let pca = match tensors.has("transform.pca.mean") {
            true => Some(Pca {
                mean: vector(tensors, "transform.pca.mean")?,
                components: matrix(tensors, "transform.pca.components")?,
                explained_variance: vector(tensors, "transform.pca.explained_variance")?,
                explained_variance_ratio: vector(
                    tensors,
                    "transform.pca.explained_variance_ratio",
                )?,
                whiten: header.transform.whiten,
            }),
            false => None,
        };
        let kernel = KernelFunction {
            kernel: header.svm.kernel.parse::<Kernel>()?,
            gamma: header.svm.gamma,
            degree: header.svm.degree,
            coef0: header.svm.coef0,
        };
        let (classifier, platt) = match &header.svm.linear {
            Some(linear) => (
                Classifier::Linear(read_linear(tensors, linear, kernel, header.classes.len())?),
                None,
            ),
            None => {
                let (svc, platt) = read_svc(tensors, &header, kernel)?;
                (Classifier::Svc(svc), platt)
            }
        };
        let fitted = FittedModel {
            transform: FittedTransform { scaler, pca },
            classifier,
            input_len: header.features.length,
            platt,
        };
        let model = Self {
            header,
            preprocess,
            method,
            decode,
            fitted,
        };
        model.check()?;
        Ok(model)
    }

    /// Writes the model to `path` atomically; returns the file's SHA-256 (hex).
    pub fn save(&self, path: &Path) -> Result<String> {
        let bytes = self.to_bytes()?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Read(source).in_file(dir))?;
        }
        sarlab_io::safe_write::write_bytes_atomic(path, &bytes)?;
        Ok(sarlab_io::sha256_hex(&bytes))
    }

    /// Reads a model file; every error names it.
    pub fn load(path: &Path) -> Result<Self> {
        let within = |e: Error| e.in_file(path);
        let size = std::fs::metadata(path)
            .map_err(|e| within(Error::Read(e)))?
            .len();
        if size > MAX_MODEL_BYTES {
            return Err(within(Error::NotAModel(format!(
                "{size} bytes, more than a model file may have ({MAX_MODEL_BYTES})"
            ))));
        }
        let bytes = sarlab_io::mapped::FileBytes::open(path)?;
        Self::from_bytes(&bytes).map_err(within)
    }

    /// Everything the arrays and the header must agree on.
    fn check(&self) -> Result<()> {
        let bad = |message: String| Err(Error::Malformed(message));
        let h = &self.header;
        let n_classes = h.classes.len();
        if n_classes < 2 {
            return bad(format!(
                "{n_classes} class name(s); a model separates at least two"
            ));
        }
        let present = &h.svm.classes_present;
        if present.len() < 2
            || present.windows(2).any(|w| w[0] >= w[1])
            || present.iter().any(|&c| c >= n_classes)
        {
            return bad(format!(
                "classes present {present:?} are not ascending indices into {n_classes} classes"
            ));
        }
        let input_len = self.fitted.input_len;
        let size = match (
            self.preprocess.resize,
            self.preprocess.crop,
            h.input.chip_size,
        ) {
            (Some(side), _, _) | (None, Some(side), _) => (side, side),
            (None, None, Some(size)) => size,
            (None, None, None) => {
                return bad(
                    "neither a crop, a resize nor a chip size: the input size is unknown"
                        .to_owned(),
                );
            }
        };
        let length = self.method.output_len(size.0, size.1)?;
        if length != input_len || h.features.length != input_len {
            return bad(format!(
                "{} features of {}x{} chips, the model takes {input_len}",
                self.method.name(),
                size.0,
                size.1
            ));
        }
        let t = &self.fitted.transform;
        if let Some(scaler) = &t.scaler
            && (scaler.mean.len() != input_len || scaler.scale.len() != input_len)
        {
            return bad(format!(
                "the scaler has {} features, expected {input_len}",
                scaler.mean.len()
            ));
        }
        let width = match &t.pca {
            Some(pca) => {
                let k = pca.components.nrows();
                if pca.mean.len() != input_len
                    || pca.components.ncols() != input_len
                    || pca.explained_variance.len() != k
                    || pca.explained_variance_ratio.len() != k
                    || h.transform.pca_components != Some(k)
                {
                    return bad(format!(
                        "PCA arrays do not fit {input_len} features and {k} components"
                    ));
                }
                k
            }
            None => input_len,
        };
        if h.transform.standardize != t.scaler.is_some() {
            return bad("the header and the arrays disagree on standardisation".to_owned());
        }
        match &self.fitted.classifier {
            Classifier::Svc(svc) => self.check_svc(svc, width),
            Classifier::Linear(linear) => self.check_linear(linear, width),
        }
    }

    /// The pair machines against the classes present, the support vectors against the
    /// transform's width.
    fn check_svc(&self, svc: &SvcModel, width: usize) -> Result<()> {
        let bad = |message: String| Err(Error::Malformed(message));
        let h = &self.header;
        let machines = &svc.machines;
        let present = &h.svm.classes_present;
        let expected_pairs: Vec<(usize, usize)> = present
            .iter()
            .enumerate()
            .flat_map(|(a, &i)| present[a + 1..].iter().map(move |&j| (i, j)))
            .collect();
        let pairs: Vec<(usize, usize)> = machines.pairs.iter().map(|m| (m.pos, m.neg)).collect();
        if pairs != expected_pairs {
            return bad(format!(
                "{} pair machines do not pair the {} classes present in libsvm's order",
                pairs.len(),
                present.len()
            ));
        }
        let n_sv = svc.support_vectors.nrows();
        if svc.support_indices.len() != n_sv || h.svm.support_vectors != n_sv {
            return bad(format!(
                "{n_sv} support vectors, {} indices, header says {}",
                svc.support_indices.len(),
                h.svm.support_vectors
            ));
        }
        if let Some(m) = machines
            .pairs
            .iter()
            .find(|m| m.support.iter().any(|&s| s >= n_sv))
        {
            return bad(format!(
                "pair machine {} vs {} names a support vector beyond the {n_sv} stored",
                m.pos, m.neg
            ));
        }
        if svc.support_vectors.ncols() != width {
            return bad(format!(
                "support vectors have {} columns, the transform gives {width}",
                svc.support_vectors.ncols()
            ));
        }
        Ok(())
    }

    /// The linear machines and the map against the transform's width and the classes.
    fn check_linear(&self, linear: &LinearClassifier, width: usize) -> Result<()> {
        let bad = |message: String| Err(Error::Malformed(message));
        let h = &self.header;
        let n_classes = h.classes.len();
        if h.svm.classes_present != (0..n_classes).collect::<Vec<_>>() {
            return bad(format!(
                "a linear model is trained on every class; classes present {:?} of {n_classes}",
                h.svm.classes_present
            ));
        }
        if h.svm.support_vectors != 0 || self.fitted.platt.is_some() {
            return bad("a linear model has neither support vectors nor Platt sigmoids".to_owned());
        }
        let features = match &linear.map {
            Some(map) => {
                let consistent = match map {
                    FeatureMap::Nystroem {
                        landmarks,
                        normalization,
                        ..
                    } => normalization.dim() == (landmarks.nrows(), landmarks.nrows()),
                    FeatureMap::RandomFourier {
                        projections,
                        offsets,
                    } => offsets.len() == projections.nrows(),
                };
                if !consistent || map.input_len() != width || map.output_len() == 0 {
                    return bad(format!(
                        "the feature map's arrays do not fit {width} transformed features"
                    ));
                }
                map.output_len()
            }
            None => width,
        };
        if linear.model.coef.ncols() != features {
            return bad(format!(
                "linear machines have {} weights, the features they read have {features}",
                linear.model.coef.ncols()
            ));
        }
        Ok(())
    }
}

/// The kernel SVM's arrays (format 1) and its Platt sigmoids.
fn read_svc(
    tensors: &Tensors<'_>,
    header: &ModelHeader,
    kernel: KernelFunction,
) -> Result<(SvcModel, Option<PlattScaling>)> {
    let support_vectors = matrix(tensors, "svm.support_vectors")?;
    let (_, support_indices) = tensors.usize("svm.support_indices", 1)?;
    let (shape, classes) = tensors.usize("svm.pair_classes", 2)?;
    let n_pairs = shape[0];
    if shape[1] != 2 {
        return Err(Error::Malformed(
            "`svm.pair_classes` must have two columns".to_owned(),
        ));
    }
    let per_pair = |name: &str| -> Result<Vec<usize>> {
        let (_, values) = tensors.usize(name, 1)?;
        same_length(name, values.len(), n_pairs)?;
        Ok(values)
    };
    let counts = per_pair("svm.pair_support_counts")?;
    let iterations = per_pair("svm.pair_iterations")?;
    let (_, support) = tensors.usize("svm.pair_support", 1)?;
    let (_, coef) = tensors.f64("svm.pair_coef", 1)?;
    let (_, rho) = tensors.f64("svm.rho", 1)?;
    same_length("svm.rho", rho.len(), n_pairs)?;
    let capped = tensors.bools("svm.pair_hit_iteration_cap")?;
    let bounded = tensors.bools("svm.pair_upper_bound_reached")?;
    same_length("svm.pair_hit_iteration_cap", capped.len(), n_pairs)?;
    same_length("svm.pair_upper_bound_reached", bounded.len(), n_pairs)?;
    let total = counts
        .iter()
        .try_fold(0usize, |a, &c| a.checked_add(c))
        .ok_or_else(|| Error::Malformed("impossible support counts".to_owned()))?;
    same_length("svm.pair_support", support.len(), total)?;
    same_length("svm.pair_coef", coef.len(), total)?;
    let mut start = 0;
    let mut pairs = Vec::with_capacity(n_pairs);
    for p in 0..n_pairs {
        let range = start..start + counts[p];
        start = range.end;
        pairs.push(PairMachine {
            pos: classes[2 * p],
            neg: classes[2 * p + 1],
            support: support[range.clone()].to_vec(),
            coef: coef[range].to_vec(),
            rho: rho[p],
            iterations: iterations[p],
            hit_iteration_cap: capped[p],
            upper_bound_reached: bounded[p],
        });
    }
    let platt = match &header.svm.probability {
        Some(probability) => {
            let (_, a) = tensors.f64("svm.prob_a", 1)?;
            let (_, b) = tensors.f64("svm.prob_b", 1)?;
            same_length("svm.prob_a", a.len(), n_pairs)?;
            same_length("svm.prob_b", b.len(), n_pairs)?;
            Some(PlattScaling {
                a,
                b,
                seed: probability.seed,
            })
        }
        None => None,
    };
    Ok((
        SvcModel {
            kernel,
            machines: Machines {
                n_classes: header.classes.len(),
                classes: header.svm.classes_present.clone(),
                pairs,
            },
            support_vectors,
            support_indices,
            fit_seconds: 0.0,
        },
        platt,
    ))
}
/// The header's `svm` part: the kernel (the approximated one, or `linear`, for a linear
/// model) and the training parameters.
fn svm_header(params: &SvmParams, fitted: &FittedModel) -> header::Svm {
    let (kernel, classes_present, support_vectors, linear) = match &fitted.classifier {
        Classifier::Svc(svc) => (
            svc.kernel,
            svc.machines.classes.clone(),
            svc.support_vectors.nrows(),
            None,
        ),
        Classifier::Linear(linear) => (
            linear.kernel.unwrap_or(KernelFunction {
                kernel: Kernel::Linear,
                gamma: 0.0,
                degree: params.degree,
                coef0: params.coef0,
            }),
            (0..linear.model.n_classes).collect(),
            0,
            Some(header::Linear {
                loss: linear.solver.loss.to_string(),
                approximation: linear.solver.approximation.map(|a| a.to_string()),
                machines: linear.model.coef.nrows(),
                seed: linear.solver.seed,
            }),
        ),
    };
    header::Svm {
        kernel: kernel.kernel.to_string(),
        gamma: kernel.gamma,
        degree: kernel.degree,
        coef0: kernel.coef0,
        c: params.c,
        gamma_setting: params.gamma.to_string(),
        class_weight: params.class_weight.to_string(),
        tolerance: params.tolerance,
        classes_present,
        support_vectors,
        probability: fitted.platt.as_ref().map(|p| header::Probability {
            folds: sarlab_svm::PROBABILITY_FOLDS,
            seed: p.seed,
        }),
        linear,
    }
}

fn put_svc(tensors: &mut Tensors<'_>, svc: &SvcModel) {
    put_matrix(tensors, "svm.support_vectors", &svc.support_vectors);
    tensors.put_usize(
        "svm.support_indices",
        vec![svc.support_indices.len()],
        &svc.support_indices,
    );
    let pairs = &svc.machines.pairs;
    let classes: Vec<usize> = pairs.iter().flat_map(|m| [m.pos, m.neg]).collect();
    tensors.put_usize("svm.pair_classes", vec![pairs.len(), 2], &classes);
    let counts: Vec<usize> = pairs.iter().map(|m| m.support.len()).collect();
    tensors.put_usize("svm.pair_support_counts", vec![pairs.len()], &counts);
    let support: Vec<usize> = pairs.iter().flat_map(|m| m.support.clone()).collect();
    tensors.put_usize("svm.pair_support", vec![support.len()], &support);
    let coef: Vec<f64> = pairs.iter().flat_map(|m| m.coef.clone()).collect();
    tensors.put_f64("svm.pair_coef", vec![coef.len()], &coef);
    let rho: Vec<f64> = pairs.iter().map(|m| m.rho).collect();
    tensors.put_f64("svm.rho", vec![rho.len()], &rho);
    let iterations: Vec<usize> = pairs.iter().map(|m| m.iterations).collect();
    tensors.put_usize("svm.pair_iterations", vec![pairs.len()], &iterations);
    let capped: Vec<bool> = pairs.iter().map(|m| m.hit_iteration_cap).collect();
    tensors.put_bools("svm.pair_hit_iteration_cap", &capped);
    let bounded: Vec<bool> = pairs.iter().map(|m| m.upper_bound_reached).collect();
    tensors.put_bools("svm.pair_upper_bound_reached", &bounded);
}

fn put_linear(tensors: &mut Tensors<'_>, linear: &LinearClassifier) {
    let model = &linear.model;
    put_matrix(tensors, "linear.coef", &model.coef);
    tensors.put_f64(
        "linear.intercept",
        vec![model.intercept.len()],
        &model.intercept,
    );
    tensors.put_usize(
        "linear.iterations",
        vec![model.iterations.len()],
        &model.iterations,
    );
    let capped: Vec<bool> = (0..model.coef.nrows())
        .map(|m| model.capped.contains(&m))
        .collect();
    tensors.put_bools("linear.hit_iteration_cap", &capped);
    match &linear.map {
        Some(FeatureMap::Nystroem {
            landmarks,
            normalization,
            ..
        }) => {
            put_matrix(tensors, "map.landmarks", landmarks);
            put_matrix(tensors, "map.normalization", normalization);
        }
        Some(FeatureMap::RandomFourier {
            projections,
            offsets,
        }) => {
            put_matrix(tensors, "map.projections", projections);
            tensors.put_f64("map.offsets", vec![offsets.len()], offsets);
        }
        None => {}
    }
}

/// The linear model's arrays (format 2): its machines and, when the header names an
/// approximation, the fitted map of `kernel`.
fn read_linear(
    tensors: &Tensors<'_>,
    linear: &header::Linear,
    kernel: KernelFunction,
    n_classes: usize,
) -> Result<LinearClassifier> {
    let coef = matrix(tensors, "linear.coef")?;
    let machines = coef.nrows();
    let expected = if n_classes == 2 { 1 } else { n_classes };
    if machines != expected || linear.machines != machines {
        return Err(Error::Malformed(format!(
            "{machines} linear machines (header: {}) for {n_classes} classes, expected {expected}",
            linear.machines
        )));
    }
    let (_, intercept) = tensors.f64("linear.intercept", 1)?;
    same_length("linear.intercept", intercept.len(), machines)?;
    let (_, iterations) = tensors.usize("linear.iterations", 1)?;
    same_length("linear.iterations", iterations.len(), machines)?;
    let capped = tensors.bools("linear.hit_iteration_cap")?;
    same_length("linear.hit_iteration_cap", capped.len(), machines)?;
    let approximation = linear
        .approximation
        .as_deref()
        .map(str::parse::<KernelApproximation>)
        .transpose()?;
    let map = match approximation {
        None => None,
        Some(KernelApproximation::Nystroem { .. }) => Some(FeatureMap::Nystroem {
            kernel,
            landmarks: matrix(tensors, "map.landmarks")?,
            normalization: matrix(tensors, "map.normalization")?,
        }),
        Some(KernelApproximation::RandomFourier { .. }) => {
            let (_, offsets) = tensors.f64("map.offsets", 1)?;
            Some(FeatureMap::RandomFourier {
                projections: matrix(tensors, "map.projections")?,
                offsets,
            })
        }
    };
    Ok(LinearClassifier {
        solver: LinearSolver {
            loss: linear.loss.parse::<LinearLoss>()?,
            approximation,
            seed: linear.seed,
        },
        kernel: map.as_ref().map(|_| kernel),
        map,
        model: LinearModel {
            n_classes,
            coef,
            intercept,
            iterations,
            capped: (0..machines).filter(|&m| capped[m]).collect(),
        },
        fit_seconds: 0.0,
    })
}

fn put_vector(tensors: &mut Tensors<'_>, name: &str, values: &Array1<f64>) {
    tensors.put_f64(name, vec![values.len()], &values.to_vec());
}

fn put_matrix(tensors: &mut Tensors<'_>, name: &str, values: &Array2<f64>) {
    let standard = values.as_standard_layout();
    tensors.put_f64(
        name,
        vec![values.nrows(), values.ncols()],
        standard.as_slice().expect("standard layout"),
    );
}

fn vector(tensors: &Tensors<'_>, name: &str) -> Result<Array1<f64>> {
    Ok(Array1::from(tensors.f64(name, 1)?.1))
}

fn matrix(tensors: &Tensors<'_>, name: &str) -> Result<Array2<f64>> {
    let (shape, values) = tensors.f64(name, 2)?;
    Array2::from_shape_vec((shape[0], shape[1]), values)
        .map_err(|e| Error::Malformed(format!("the array `{name}`: {e}")))
}

fn same_length(name: &str, found: usize, expected: usize) -> Result<()> {
    if found != expected {
        return Err(Error::Malformed(format!(
            "the array `{name}` has {found} values, expected {expected}"
        )));
    }
    Ok(())
}
