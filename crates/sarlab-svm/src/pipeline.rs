//! What a refit leaves behind: the feature transform fitted on the training split and
//! the classifier trained on its output — libsvm's C-SVC, or liblinear's linear SVM on
//! the transformed rows or their kernel approximation — everything that turns a
//! feature vector into a label, as a saved model holds it.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use sarlab_transform::moments::Moments;
use sarlab_transform::pca::Pca;
use sarlab_transform::{Rows, StandardScaler};

use crate::approximation::FeatureMap;
use crate::error::{Error, Result};
use crate::grid::FeatureTransform;
use crate::kernel::KernelFunction;
use crate::linear::LinearModel;
use crate::probability::PlattScaling;
use crate::solver::LinearSolver;
use crate::svc::SvcModel;

/// Rows decided together by [`FittedModel::decide`] (and chips read together by
/// `sarlab predict`): memory holds one block's features and kernel tiles. A row's
/// decision values do not depend on the rows it is decided with (the products behind
/// them keep to one path, `sarlab_transform::gemm`), so the block is a memory bound,
/// not part of the arithmetic.
pub const DECISION_BLOCK_ROWS: usize = 1024;

/// A [`FeatureTransform`] fitted on training rows: standardisation, then PCA.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FittedTransform {
    pub scaler: Option<StandardScaler>,
    pub pca: Option<Pca>,
}

impl FittedTransform {
    /// Whether to fit from [`Moments`] (one `d × d` scatter per part of the data, summed
    /// for each training set) rather than from the rows: when PCA is fitted and there are
    /// more training rows than features, the covariance route is the cheaper one.
    pub(crate) fn uses_moments(transform: &FeatureTransform, n_train: usize, d: usize) -> bool {
        transform.pca.is_some() && d < n_train
    }

    /// Fits on a set of training rows, read in place.
    pub fn fit(x_train: Rows<'_>, transform: &FeatureTransform) -> Result<Self> {
        transform.validate()?;
        if Self::uses_moments(transform, x_train.len(), x_train.width()) {
            let shift = x_train.mean().ok_or(sarlab_transform::Error::NoRows)?;
            return Self::from_moments(&Moments::of_rows(x_train, shift.view())?, transform);
        }
        let scaler = match transform.standardize {
            true => Some(weighted(StandardScaler::fit_rows(x_train)?, transform)?),
            false => None,
        };
        let pca = match &transform.pca {
            Some(params) => Some(Pca::fit_rows(x_train, scaler.as_ref(), params)?),
            None => None,
        };
        Ok(Self { scaler, pca })
    }

    pub(crate) fn from_moments(moments: &Moments, transform: &FeatureTransform) -> Result<Self> {
        transform.validate()?;
        let scaler = match transform.standardize {
            true => Some(weighted(StandardScaler::from_moments(moments)?, transform)?),
            false => None,
        };
        let pca = match &transform.pca {
            Some(params) => Some(Pca::fit_moments(moments, scaler.as_ref(), params)?),
            None => None,
        };
        Ok(Self { scaler, pca })
    }

    /// The transformed rows (a copy of them without a transform).
    pub fn apply(&self, x: Rows<'_>) -> Result<Array2<f64>> {
        Ok(match (&self.scaler, &self.pca) {
            (scaler, Some(pca)) => pca.transform_rows(x, scaler.as_ref())?,
            (Some(scaler), None) => scaler.transform_rows(x)?,
            (None, None) => x.to_owned(),
        })
    }

    /// [`FittedTransform::apply`] for rows the caller no longer needs: standardised in
    /// place (`None`: `x` holds the result), or projected by PCA into a new matrix.
    pub fn apply_in_place(&self, x: ArrayViewMut2<'_, f64>) -> Result<Option<Array2<f64>>> {
        Ok(match (&self.scaler, &self.pca) {
            (scaler, Some(pca)) => Some(pca.transform_rows(Rows::all(x.view()), scaler.as_ref())?),
            (Some(scaler), None) => {
                scaler.transform_in_place(x)?;
                None
            }
            (None, None) => None,
        })
    }

    /// The number of features the transform takes, when it knows (it is fitted).
    pub fn input_len(&self) -> Option<usize> {
        match (&self.scaler, &self.pca) {
            (Some(scaler), _) => Some(scaler.mean.len()),
            (None, Some(pca)) => Some(pca.mean.len()),
            (None, None) => None,
        }
    }
}

/// `scaler` with the transform's column weights folded in.
fn weighted(scaler: StandardScaler, transform: &FeatureTransform) -> Result<StandardScaler> {
    Ok(match &transform.column_weights {
        Some(weights) => scaler.weighted(weights)?,
        None => scaler,
    })
}

/// The answers for a block of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Decisions {
    /// The predicted class of every row (an index into the model's classes).
    pub labels: Vec<usize>,
    /// Rows × decision columns, in the order of [`Classifier::decision_names`].
    pub decision_values: Array2<f64>,
    /// Rows × classes: the votes each class got (one-vs-one); a linear model's one
    /// vote goes to the class it predicts.
    pub votes: Array2<u32>,
}

/// liblinear's linear SVM on the transformed rows, or on their kernel approximation.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearClassifier {
    pub solver: LinearSolver,
    /// The approximation's fitted map, when the solver has one.
    pub map: Option<FeatureMap>,
    /// The kernel `map` approximates, γ resolved on the transformed training rows.
    pub kernel: Option<KernelFunction>,
    pub model: LinearModel,
    pub fit_seconds: f64,
}

impl LinearClassifier {
    /// `(rows, machines)` decision values of transformed rows.
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        match &self.map {
            Some(map) => self.model.decision_function(map.transform(x)?.view()),
            None => self.model.decision_function(x),
        }
    }
}

/// What decides a transformed row.
#[derive(Debug, Clone)]
pub enum Classifier {
    /// libsvm's one-vs-one C-SVC: a decision value per pair machine.
    Svc(SvcModel),
    /// liblinear's one-vs-rest linear SVM: a decision value per machine (one machine,
    /// for the second class against the first, with two classes).
    Linear(LinearClassifier),
}

impl Classifier {
    /// The C-SVC, when it is one.
    pub fn svc(&self) -> Option<&SvcModel> {
        match self {
            Classifier::Svc(svc) => Some(svc),
            Classifier::Linear(_) => None,
        }
    }

    /// Decision values of transformed rows, rows × [`Classifier::decision_names`].
    pub fn decision_function(&self, x: ArrayView2<'_, f64>) -> Result<Array2<f64>> {
        match self {
            Classifier::Svc(svc) => svc.decision_function(x),
            Classifier::Linear(linear) => linear.decision_function(x),
        }
    }

    /// What each decision column is, in class names: `a_vs_b` for a pair machine
    /// (positive for `a`), `b_vs_a` for the one linear machine of two classes, the class
    /// for a one-vs-rest machine.
    pub fn decision_names(&self, classes: &[String]) -> Vec<String> {
        let name = |k: usize| classes.get(k).cloned().unwrap_or_else(|| k.to_string());
        match self {
            Classifier::Svc(svc) => svc
                .machines
                .pairs
                .iter()
                .map(|m| format!("{}_vs_{}", name(m.pos), name(m.neg)))
                .collect(),
            Classifier::Linear(linear) => match linear.model.n_classes {
                2 => vec![format!("{}_vs_{}", name(1), name(0))],
                n => (0..n).map(name).collect(),
            },
        }
    }

    /// Columns of decision values: pair machines, or linear machines.
    pub fn decision_columns(&self) -> usize {
        match self {
            Classifier::Svc(svc) => svc.machines.pairs.len(),
            Classifier::Linear(linear) => linear.model.coef.nrows(),
        }
    }

    fn decisions(&self, decision_values: Array2<f64>) -> Decisions {
        match self {
            Classifier::Svc(svc) => {
                let votes = svc.machines.votes(decision_values.view());
                let labels = svc.machines.winners(votes.view());
                Decisions {
                    labels,
                    decision_values,
                    votes,
                }
            }
            Classifier::Linear(linear) => {
                let labels = linear.model.labels_of(decision_values.view());
                let mut votes = Array2::zeros((labels.len(), linear.model.n_classes));
                for (row, &label) in labels.iter().enumerate() {
                    votes[(row, label)] = 1;
                }
                Decisions {
                    labels,
                    decision_values,
                    votes,
                }
            }
        }
    }
}

/// A fitted transform and the classifier trained on its output.
#[derive(Debug, Clone)]
pub struct FittedModel {
    pub transform: FittedTransform,
    pub classifier: Classifier,
    /// Features a row must have (before the transform).
    pub input_len: usize,
    /// Platt sigmoids of the pair machines, when probabilities were fitted (C-SVC
    /// only).
    pub platt: Option<PlattScaling>,
}

impl FittedModel {
    /// The transform and decisions of `x`'s rows, in blocks of
    /// [`DECISION_BLOCK_ROWS`].
    pub fn decide(&self, x: ArrayView2<'_, f64>) -> Result<Decisions> {
        self.check_rows(x)?;
        let mut decision_values = Array2::zeros((x.nrows(), self.classifier.decision_columns()));
        for (block, mut out) in x
            .axis_chunks_iter(Axis(0), DECISION_BLOCK_ROWS)
            .zip(decision_values.axis_chunks_iter_mut(Axis(0), DECISION_BLOCK_ROWS))
        {
            let transformed = self.transform.apply(Rows::all(block))?;
            out.assign(&self.classifier.decision_function(transformed.view())?);
        }
        Ok(self.classifier.decisions(decision_values))
    }

    /// [`FittedModel::decide`] for rows the caller no longer needs, transformed in place
    /// (no copy of them): the same decisions, bit for bit.
    pub fn decide_in_place(&self, mut x: ArrayViewMut2<'_, f64>) -> Result<Decisions> {
        self.check_rows(x.view())?;
        let projected = self.transform.apply_in_place(x.view_mut())?;
        let features = projected.as_ref().map_or(x.view(), |p| p.view());
        Ok(self
            .classifier
            .decisions(self.classifier.decision_function(features)?))
    }

    fn check_rows(&self, x: ArrayView2<'_, f64>) -> Result<()> {
        if x.ncols() != self.input_len {
            return Err(Error::InvalidParameter {
                name: "features",
                message: format!(
                    "the model takes {} features a row, these rows have {}",
                    self.input_len,
                    x.ncols()
                ),
            });
        }
        crate::machines::check_finite(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::SvmParams;
    use crate::svc::Svc;

    #[test]
    fn column_weights_multiply_the_standardised_features_on_both_routes() {
        // 40 rows, 6 features: PCA takes the moments route (d < n), the plain scaler
        // the rows route; both must weight after standardising.
        let x = Array2::from_shape_fn((40, 6), |(i, j)| {
            ((i * 13 + j * 7) % 17) as f64 * (j + 1) as f64 + (i as f64).cos()
        });
        let weights = [2.0, 2.0, 0.5, 0.5, 0.5, 1.0];
        let plain = FittedTransform::fit(
            Rows::all(x.view()),
            &FeatureTransform {
                column_weights: None,
                standardize: true,
                pca: None,
            },
        )
        .expect("plain");
        let standardised = plain.apply(Rows::all(x.view())).expect("apply");
        for pca in [
            None,
            Some(sarlab_transform::pca::PcaParams {
                components: 6,
                whiten: false,
                solver: Default::default(),
            }),
        ] {
            let transform = FeatureTransform {
                column_weights: Some(weights.to_vec().into()),
                standardize: true,
                pca,
            };
            let fitted = FittedTransform::fit(Rows::all(x.view()), &transform).expect("fit");
            let scaler = fitted.scaler.as_ref().expect("scaler");
            for (i, row) in standardised.outer_iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let got = scaler.value(x[[i, j]], j);
                    assert!((got - v * weights[j]).abs() < 1e-12, "{i} {j}: {got}");
                }
            }
        }
        let refused = FittedTransform::fit(
            Rows::all(x.view()),
            &FeatureTransform {
                column_weights: Some(weights.to_vec().into()),
                standardize: false,
                pca: None,
            },
        );
        assert!(refused.unwrap_err().to_string().contains("standardize"));
    }

    #[test]
    fn decisions_do_not_depend_on_how_rows_are_grouped_into_calls() {
        let x = Array2::from_shape_fn((2100, 5), |(i, j)| {
            ((i * 31 + j * 17) % 97) as f64 * 0.01 + (i % 3) as f64
        });
        let y: Vec<usize> = (0..2100).map(|i| i % 3).collect();
        let transform = FeatureTransform {
            column_weights: None,
            standardize: true,
            pca: Some(sarlab_transform::pca::PcaParams {
                components: 3,
                whiten: false,
                solver: Default::default(),
            }),
        };
        let fitted = FittedTransform::fit(Rows::all(x.view()), &transform).expect("fit");
        let train = fitted.apply(Rows::all(x.view())).expect("apply");
        let svc = Svc::new(SvmParams::default(), 3)
            .fit_rows(train.view(), &y)
            .expect("svc");
        let model = FittedModel {
            transform: fitted,
            classifier: Classifier::Svc(svc),
            input_len: 5,
            platt: None,
        };
        let whole = model.decide(x.view()).expect("decide");
        let first = model
            .decide(x.slice(ndarray::s![..1024, ..]))
            .expect("first");
        assert_eq!(
            whole.decision_values.slice(ndarray::s![..1024, ..]),
            first.decision_values
        );
        assert_eq!(&whole.labels[..1024], &first.labels[..]);
        for (row, votes) in whole.votes.outer_iter().enumerate() {
            assert_eq!(votes.iter().sum::<u32>(), 3, "row {row}: one vote a pair");
            let best = votes.iter().max().expect("classes");
            assert_eq!(votes[whole.labels[row]], *best);
        }
        let mut copy = x.clone();
        let in_place = model.decide_in_place(copy.view_mut()).expect("in place");
        assert_eq!(in_place, whole, "in place: the same decisions");
        let wrong = model.decide(x.slice(ndarray::s![.., ..4]));
        assert!(
            wrong
                .expect_err("width")
                .to_string()
                .contains("takes 5 features")
        );
    }
}
