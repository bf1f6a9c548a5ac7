//! Stratified k-fold splits with a seeded shuffle.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::error::{Error, Result};

/// Stratified k-fold: each class's samples are shuffled (seeded) and dealt to the folds
/// in turn, continuing the deal across classes so fold sizes differ by at most one
/// overall and every fold holds each class in proportion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StratifiedKFold {
    pub folds: usize,
    pub seed: u64,
}

/// Training and validation indices of one fold, each sorted ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    pub train: Vec<usize>,
    pub validation: Vec<usize>,
}

impl StratifiedKFold {
    pub fn new(folds: usize, seed: u64) -> Self {
        Self { folds, seed }
    }

    pub fn split(&self, labels: &[usize], n_classes: usize) -> Result<Vec<Fold>> {
        if self.folds < 2 {
            return Err(Error::InvalidParameter {
                name: "folds",
                message: format!("{} is less than 2", self.folds),
            });
        }
        let mut by_class = vec![Vec::new(); n_classes];
        for (i, &label) in labels.iter().enumerate() {
            by_class
                .get_mut(label)
                .ok_or(Error::LabelOutOfRange { label, n_classes })?
                .push(i);
        }
        for (class, members) in by_class.iter().enumerate() {
            if !members.is_empty() && members.len() < self.folds {
                return Err(Error::TooFewSamplesForFolds {
                    folds: self.folds,
                    class,
                    count: members.len(),
                });
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        let mut fold_of = vec![0usize; labels.len()];
        let mut deal = 0usize;
        for members in &mut by_class {
            members.shuffle(&mut rng);
            for &i in members.iter() {
                fold_of[i] = deal % self.folds;
                deal += 1;
            }
        }
        Ok((0..self.folds)
            .map(|f| {
                let (validation, train): (Vec<usize>, Vec<usize>) =
                    (0..labels.len()).partition(|&i| fold_of[i] == f);
                Fold { train, validation }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_partition_and_stratify() {
        let labels: Vec<usize> = (0..103)
            .map(|i| {
                if i < 40 {
                    0
                } else if i < 90 {
                    1
                } else {
                    2
                }
            })
            .collect();
        let folds = StratifiedKFold::new(5, 7).split(&labels, 3).expect("split");
        let mut seen = vec![0; labels.len()];
        for fold in &folds {
            for &i in &fold.validation {
                seen[i] += 1;
            }
            assert_eq!(fold.train.len() + fold.validation.len(), labels.len());
            for class in 0..3 {
                let total = labels.iter().filter(|&&l| l == class).count();
                let here = fold
                    .validation
                    .iter()
                    .filter(|&&i| labels[i] == class)
                    .count();
                assert!(
                    here.abs_diff(total / 5) <= 1,
                    "class {class}: {here} of {total}"
                );
            }
            assert!(fold.validation.len().abs_diff(103 / 5) <= 1);
        }
        assert!(
            seen.iter().all(|&s| s == 1),
            "every sample validated exactly once"
        );
    }

    #[test]
    fn seed_determines_the_split() {
        let labels: Vec<usize> = (0..60).map(|i| i % 3).collect();
        let a = StratifiedKFold::new(4, 1).split(&labels, 3).expect("split");
        let b = StratifiedKFold::new(4, 1).split(&labels, 3).expect("split");
        let c = StratifiedKFold::new(4, 2).split(&labels, 3).expect("split");
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn too_many_folds_names_the_class() {
        let labels = [0, 0, 0, 0, 0, 1, 1, 1];
        let err = StratifiedKFold::new(4, 0).split(&labels, 2).unwrap_err();
        assert!(
            matches!(
                err,
                Error::TooFewSamplesForFolds {
                    folds: 4,
                    class: 1,
                    count: 3
                }
            ),
            "{err}"
        );
        assert!(StratifiedKFold::new(1, 0).split(&labels, 2).is_err());
    }
}
