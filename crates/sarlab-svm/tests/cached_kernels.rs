//! The bounded-memory path (kernel rows computed on demand into an LRU cache) against
//! the whole-kernel path: every (configuration, fold) of a grid search and the refit
//! scored on a test split give the same results to the bit — the same iterations, support
//! vectors, decision values and metrics — for every kernel, with and without a
//! fold-fitted transform, for caches from two rows to all of them.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sarlab_svm::{
    ClassWeight, CvSettings, Evaluation, FeatureTransform, Gamma, GridSearch, Kernel, KernelMemory,
    SvmParams, grid_search,
};
use sarlab_transform::pca::{PcaParams, PcaSolver};

/// Four overlapping classes in 12-D, unequal in size.
fn data(n: usize, seed: u64) -> (Array2<f64>, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let y: Vec<usize> = (0..n).map(|i| [0, 1, 1, 2, 3, 3, 3][i % 7]).collect();
    let x = Array2::from_shape_fn((n, 12), |(i, j)| {
        let centre = ((y[i] * 5 + j * 3) % 7) as f64 * 0.35;
        centre + rng.gen_range(-1.0..1.0) + j as f64 * 0.1
    });
    (x, y)
}

fn grid() -> Vec<SvmParams> {
    let mut grid = Vec::new();
    for c in [0.5, 10.0] {
        for gamma in [Gamma::Scale, Gamma::Value(0.05)] {
            grid.push(SvmParams {
                c,
                gamma,
                ..SvmParams::default()
            });
        }
    }
    grid.push(SvmParams {
        kernel: Kernel::Linear,
        c: 1.0,
        ..SvmParams::default()
    });
    grid.push(SvmParams {
        kernel: Kernel::Poly,
        degree: 2,
        coef0: 1.0,
        gamma: Gamma::Auto,
        class_weight: ClassWeight::Balanced,
        ..SvmParams::default()
    });
    grid.push(SvmParams {
        kernel: Kernel::Sigmoid,
        gamma: Gamma::Value(0.01),
        coef0: 0.0,
        ..SvmParams::default()
    });
    grid
}

fn search(
    x: &Array2<f64>,
    y: &[usize],
    transform: &FeatureTransform,
    memory: KernelMemory,
) -> GridSearch {
    let (x_test, y_test) = data(90, 77);
    let settings = CvSettings {
        memory,
        ..CvSettings::new(4, 3, transform.clone())
    };
    grid_search(
        x.view(),
        y,
        Some((x_test.view(), &y_test)),
        4,
        &grid(),
        &settings,
        "accuracy",
        &|_| {},
    )
    .expect("grid search")
}

fn assert_same(a: &Evaluation, b: &Evaluation, what: &str) {
    assert!(
        !b.cached_kernel,
        "{what}: the reference holds its kernels whole"
    );
    assert_eq!(a.metrics, b.metrics, "{what}: metrics");
    assert_eq!(a.confusion, b.confusion, "{what}: confusion");
    assert_eq!(
        a.support_vectors, b.support_vectors,
        "{what}: support vectors"
    );
    assert_eq!(a.iterations, b.iterations, "{what}: iterations");
    assert_eq!(a.capped_pairs, b.capped_pairs, "{what}: capped");
    assert_eq!(a.gamma.to_bits(), b.gamma.to_bits(), "{what}: gamma");
}

#[test]
fn cached_rows_give_the_whole_kernels_answers_to_the_bit() {
    let (x, y) = data(260, 5);
    let row_bytes = 4 * x.nrows();
    for transform in [
        FeatureTransform::default(),
        FeatureTransform {
            standardize: true,
            column_weights: None,
            pca: Some(PcaParams {
                components: 6,
                whiten: false,
                solver: PcaSolver::Exact,
            }),
        },
    ] {
        let whole = search(&x, &y, &transform, KernelMemory::Whole);
        for memory in [
            KernelMemory::Cached { cache_bytes: 0 },
            KernelMemory::Cached {
                cache_bytes: 7 * row_bytes,
            },
            KernelMemory::Cached {
                cache_bytes: 1 << 30,
            },
            // A budget too small for the whole kernels: cached.
            KernelMemory::Budget { bytes: 50_000 },
            // A budget the whole kernels fit: whole.
            KernelMemory::Budget { bytes: 1 << 34 },
        ] {
            let other = search(&x, &y, &transform, memory);
            let what = format!("{memory:?}, standardize {}", transform.standardize);
            let cached = !matches!(memory, KernelMemory::Budget { bytes } if bytes > 1 << 30);
            assert!(
                other
                    .outcomes
                    .iter()
                    .flat_map(|o| &o.folds)
                    .chain(other.test.as_ref().map(|t| &t.0))
                    .all(|e| e.cached_kernel == cached),
                "{what}: every fit cached: {cached}"
            );
            assert_eq!(other.best, whole.best, "{what}: best");
            for (o, w) in other.outcomes.iter().zip(&whole.outcomes) {
                assert_eq!(o.params, w.params);
                for (fold, (a, b)) in o.folds.iter().zip(&w.folds).enumerate() {
                    assert_same(a, b, &format!("{what}, {:?}, fold {fold}", o.params.kernel));
                }
            }
            let ((a, pa), (b, pb)) = (
                other.test.as_ref().expect("test"),
                whole.test.as_ref().expect("test"),
            );
            assert_same(a, b, &format!("{what}: test"));
            assert_eq!(pa.labels, pb.labels);
            assert!(
                pa.decision_values
                    .iter()
                    .zip(&pb.decision_values)
                    .all(|(p, q)| p.to_bits() == q.to_bits()),
                "{what}: test decision values"
            );
        }
    }
}
