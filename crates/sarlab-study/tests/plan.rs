//! The spec's expansion into a plan: sweep axes, enumeration order, defaults, and
//! errors that name the key (and, where the TOML reader knows it, the line).

use std::path::Path;

use sarlab_features::FeatureMethod;
use sarlab_filter::Intensity;
use sarlab_study::{Plan, Spec};
use sarlab_svm::Gamma;
use sarlab_transform::pca::{PcaParams, PcaSolver};

const MINIMAL: &str = r#"
name = "t"
seed = 1
[dataset]
source = "folder"
path = "data"
[preprocess]
crop = [32, 48]
intensity = "db"
[[features]]
method = "raw"
[[features]]
method = "hog"
orientations = [9, 12]
pixels_per_cell = 8
cells_per_block = 2
[svm]
C = [1, 10]
gamma = ["scale", 0.01]
"#;

fn plan_of(text: &str) -> Result<Plan, String> {
    let path = Path::new("t.toml");
    Spec::parse(text, path)
        .and_then(|spec| Plan::new(spec, path, text.to_owned()))
        .map_err(|e| e.chain())
}

#[test]
fn lists_are_sweep_axes() {
    let p = plan_of(MINIMAL).expect("valid");
    // raw: 2 crops; hog: 2 crops x 2 orientations
    assert_eq!(p.features.len(), 2 + 4);
    assert_eq!(p.grid.len(), 4);
    assert_eq!(p.configurations(), 24);
    assert_eq!(p.methods(), vec!["raw", "hog"]);
    assert_eq!(p.features[0].preprocess.crop, Some(32));
    assert_eq!(p.features[0].preprocess.intensity, Intensity::Db);
    let hog = &p.features[3];
    assert_eq!(
        hog.describe(),
        "crop=32 intensity=db orientations=12 pixels_per_cell=8 cells_per_block=2 block_norm=L2-Hys transform_sqrt=false"
    );
    assert_eq!(p.grid[1].svm.gamma, Gamma::Value(0.01));
    assert_eq!(p.grid[2].svm.c, 10.0);
}

#[test]
fn reduce_sweeps_pca_after_the_feature_axes() {
    let text = MINIMAL.replace(
        "[svm]",
        "[reduce]\npca = [0, 20]\nwhiten = [false, true]\n[svm]",
    );
    let p = plan_of(&text).expect("valid");
    // Per feature setting: pca=0 once (whitening needs components), 20 twice.
    assert_eq!(p.features.len(), (2 + 4) * 3);
    let pcas: Vec<_> = p.features[..3].iter().map(|f| f.pca).collect();
    assert_eq!(
        pcas,
        vec![
            None,
            Some(PcaParams {
                components: 20,
                whiten: false,
                solver: PcaSolver::Exact,
            }),
            Some(PcaParams {
                components: 20,
                whiten: true,
                solver: PcaSolver::Exact,
            }),
        ]
    );
    assert!(p.features[1].describe().ends_with("pca=20 whiten=false"));
    // Without [reduce], nothing about PCA is recorded (config hashes stay as they were).
    let plain = plan_of(MINIMAL).expect("valid");
    assert!(
        plain
            .features
            .iter()
            .all(|f| f.pca.is_none() && !f.params.iter().any(|(k, _)| k.starts_with("pca")))
    );
}

#[test]
fn pca_larger_than_the_features_is_named() {
    // raw at crop 32 has 1024 features.
    let text = MINIMAL.replace("[svm]", "[reduce]\npca = 2000\n[svm]");
    let err = plan_of(&text).unwrap_err();
    assert!(
        err.contains("`reduce.pca` = 2000") && err.contains("1024 features"),
        "{err}"
    );
    let text = MINIMAL.replace("[svm]", "[reduce]\npca = []\n[svm]");
    let err = plan_of(&text).unwrap_err();
    assert!(err.contains("reduce.pca"), "{err}");
    let text = MINIMAL.replace("[svm]", "[reduce]\npca = 10\nwhite = true\n[svm]");
    let err = plan_of(&text).unwrap_err();
    assert!(err.contains("white"), "{err}");
}

#[test]
fn unknown_keys_are_named() {
    let err = plan_of(&MINIMAL.replace("seed = 1", "seed = 1\ncolour = 3")).unwrap_err();
    assert!(err.contains("colour"), "{err}");
    let err = plan_of(&MINIMAL.replace("pixels_per_cell = 8", "pixels_per_cel = 8")).unwrap_err();
    assert!(err.contains("pixels_per_cel"), "{err}");
    let err = plan_of(&MINIMAL.replace("gamma = [", "gama = [")).unwrap_err();
    assert!(err.contains("gama"), "{err}");
}

#[test]
fn bad_values_are_named() {
    for (from, to, needle) in [
        ("C = [1, 10]", "C = [1, -10]", "svm.C"),
        ("0.01]", "-0.01]", "svm.gamma"),
        ("\"scale\", 0.01", "\"wide\"", "svm.gamma"),
        (
            "intensity = \"db\"",
            "intensity = \"loud\"",
            "preprocess.intensity",
        ),
        ("crop = [32, 48]", "crop = [8]", "preprocess.crop = 8"),
        ("method = \"raw\"", "method = \"sift\"", "sift"),
        ("C = [1, 10]", "C = []", "svm.C"),
        ("[svm]", "[svm]\nfolds = 1", "svm.folds"),
        ("[svm]", "[svm]\nkernel = \"laplacian\"", "svm.kernel"),
        ("name = \"t\"", "name = \"a b\"", "name"),
    ] {
        let err = plan_of(&MINIMAL.replace(from, to)).unwrap_err();
        assert!(err.contains(needle), "{to}: {err:#}");
    }
}

#[test]
fn filters_sweep_as_tables_or_strings() {
    let text = MINIMAL.replace(
            "intensity = \"db\"",
            "intensity = \"db\"\nspeckle = [\"none\", \"lee:window=5:looks=4\"]\nfilter = { kind = \"butterworth\", band = \"lowpass\", cutoff = [8, 12], order = 2 }",
        );
    let p = plan_of(&text).expect("valid");
    // raw: 2 crops x 2 speckle x 2 cutoffs; hog: twice that.
    assert_eq!(p.features.len(), 8 + 16);
    let f = &p.features[3];
    assert_eq!(
        f.preprocess.to_string(),
        "crop=32 speckle=lee:window=5:looks=4 intensity=db filter=butterworth:lowpass:cutoff=12:order=2"
    );
    assert!(p.features[0].preprocess.speckle.is_none());
    assert!(
        f.describe()
            .contains("filter=butterworth:lowpass:cutoff=12:order=2"),
        "{}",
        f.describe()
    );
    // Specs without filters record no filter parameters (their hashes are unchanged).
    let plain = plan_of(MINIMAL).expect("valid");
    assert!(
        plain.features[0]
            .params
            .iter()
            .all(|(k, _)| k != "filter" && k != "speckle")
    );
}

#[test]
fn segmentation_sweeps_and_is_recorded_canonically() {
    let text = MINIMAL.replace(
        "intensity = \"db\"",
        "intensity = \"db\"\nsegment = [\"none\", { kind = \"otsu\", smooth = [3, 5], shadow = false }]",
    );
    let p = plan_of(&text).expect("valid");
    // raw: 2 crops × 3 segmentations; hog: twice that.
    assert_eq!(p.features.len(), 6 + 12);
    let recorded: Vec<String> = p.features[..3]
        .iter()
        .map(|f| {
            f.params
                .iter()
                .find(|(k, _)| k == "segment")
                .map(|(_, v)| v.to_string())
                .expect("recorded")
        })
        .collect();
    assert_eq!(
        recorded,
        [
            "none",
            "otsu:smooth=3:open=1:close=2:shadow=false:keep=target",
            "otsu:smooth=5:open=1:close=2:shadow=false:keep=target",
        ]
    );
    assert!(p.features[0].preprocess.segment.is_none());
    assert_eq!(p.features[1].preprocess.segment.map(|s| s.smooth), Some(3));
    for (to, needle) in [
        ("segment = \"otsu:smooth=4\"", "odd"),
        ("segment = \"otsu:open=20\"", "preprocess.crop = 32"),
        ("segment = \"canny\"", "otsu or cfar"),
        (
            "segment = [\"otsu\", \"otsu:smooth=5\"]",
            "preprocess.segment",
        ),
    ] {
        let err =
            plan_of(&MINIMAL.replace("intensity = \"db\"", &format!("intensity = \"db\"\n{to}")))
                .unwrap_err();
        assert!(err.contains(needle), "{to}: {err:#}");
    }
}

#[test]
fn bad_filters_are_named() {
    for (to, needle) in [
        (
            "filter = \"kaiser:lowpass:cutoff=3\"",
            "unknown filter `kaiser`",
        ),
        (
            "filter = { kind = \"gaussian\", cutoff = 3 }",
            "needs `band`",
        ),
        (
            "filter = \"butterworth:lowpass:cutoff=3:order=0\"",
            "order 0",
        ),
        (
            "filter = \"ideal:lowpass:cutoff=40\"",
            "preprocess.crop = 32",
        ),
        (
            "filter = \"gaussian:bandpass:cutoff=4:width=9\"",
            "band width 9",
        ),
        (
            "speckle = { kind = \"lee\", window = [] }",
            "preprocess.speckle.window",
        ),
        ("speckle = \"wiener\"", "unknown speckle filter `wiener`"),
    ] {
        let err =
            plan_of(&MINIMAL.replace("intensity = \"db\"", &format!("intensity = \"db\"\n{to}")))
                .unwrap_err();
        assert!(err.contains(needle), "{to}: {err:#}");
    }
}

#[test]
fn gabor_and_spectral_blocks_expand() {
    let text = MINIMAL.replace(
            "[svm]",
            "[[features]]\nmethod = \"gabor\"\nfrequencies = [[0.1, 0.2, 0.3], 0.25]\norientations = [4, 8]\npool = 8\n[[features]]\nmethod = \"spectral\"\nblock = [8, 16]\nrings = 6\n[svm]",
        );
    let p = plan_of(&text).expect("valid");
    let gabor: Vec<_> = p
        .features
        .iter()
        .filter(|f| f.method.name() == "gabor")
        .collect();
    // 2 crops × 2 frequency sets × 2 orientation counts.
    assert_eq!(gabor.len(), 8);
    match &gabor[0].method {
        FeatureMethod::Gabor(g) => {
            assert_eq!(g.frequencies, vec![0.1, 0.2, 0.3]);
            assert_eq!((g.orientations, g.pool, g.stats), (4, 8, true));
        }
        other => panic!("expected gabor, got {other:?}"),
    }
    assert!(
        gabor[0].describe().contains("frequencies=0.1,0.2,0.3"),
        "{}",
        gabor[0].describe()
    );
    let spectral: Vec<_> = p
        .features
        .iter()
        .filter(|f| f.method.name() == "spectral")
        .collect();
    assert_eq!(spectral.len(), 4);
    assert_eq!(spectral[0].method.output_len(32, 32).expect("fits"), 64 + 6);
    for (from, to, needle) in [
        (
            "frequencies = [[0.1, 0.2, 0.3], 0.25]",
            "frequencies = [[0.1, 0.6]]",
            "(0, 0.5)",
        ),
        ("pool = 8", "pool = 8\nscale = 2", "scale"),
        ("block = [8, 16]", "block = [64]", "preprocess.crop = 32"),
        (
            "orientations = [4, 8]",
            "orientations = [0]",
            "orientations",
        ),
    ] {
        let err = plan_of(&text.replace(from, to)).unwrap_err();
        let message = err;
        assert!(message.contains(needle), "{to}: {message}");
    }
}

#[test]
fn linear_kernel_does_not_sweep_gamma() {
    let p =
        plan_of(&MINIMAL.replace("[svm]", "[svm]\nkernel = [\"rbf\", \"linear\"]")).expect("valid");
    assert_eq!(p.grid.len(), 4 + 2);
}

#[test]
fn synthetic_seed_defaults_to_the_study_seed() {
    let text = MINIMAL
        .replace("source = \"folder\"", "source = \"synthetic\"")
        .replace(
            "path = \"data\"",
            "path = \"data\"\n[dataset.synthetic]\ntrain_per_class = 7",
        );
    let p = plan_of(&text).expect("valid");
    let s = p.synth_config().expect("synth");
    assert_eq!((s.seed, s.train_per_class), (1, 7));
    let bad = text.replace("train_per_class = 7", "train_per_clas = 7");
    let err = plan_of(&bad)
        .and_then(|p| p.synth_config().map_err(|e| e.chain()))
        .unwrap_err();
    assert!(err.contains("train_per_clas"), "{err}");
}

mod typed_values {
    use super::*;
    use proptest::prelude::*;

    const SPEC: &str = "name = \"t\"\nseed = 1\n[dataset]\nsource = \"folder\"\npath = \"d\"\n[preprocess]\ncrop = 32\nintensity = \"db\"\n[[features]]\nmethod = \"hog\"\norientations = 9\n[svm]\nC = 1\nkernel = \"rbf\"\nmetric = \"f1_macro\"\nclass_weight = \"uniform\"\n";

    fn error_of(text: &str) -> String {
        let path = Path::new("t.toml");
        Spec::parse(text, path)
            .and_then(|spec| Plan::new(spec, path, text.to_owned()))
            .expect_err("invalid")
            .chain()
    }

    #[test]
    fn a_bad_name_is_reported_with_its_key_and_line() {
        for (from, to, key, line) in [
            (
                "intensity = \"db\"",
                "intensity = [\"db\", \"loud\"]",
                "preprocess.intensity",
                8,
            ),
            ("kernel = \"rbf\"", "kernel = \"laplace\"", "svm.kernel", 14),
            ("metric = \"f1_macro\"", "metric = \"f2\"", "svm.metric", 15),
            (
                "class_weight = \"uniform\"",
                "class_weight = \"heavy\"",
                "svm.class_weight",
                16,
            ),
            (
                "orientations = 9",
                "orientations = -9",
                "features[0].orientations",
                11,
            ),
            (
                "orientations = 9",
                "orientations = 0",
                "features[0].orientations",
                11,
            ),
            (
                "orientations = 9",
                "orientation = 9",
                "features[0].orientation",
                11,
            ),
        ] {
            let message = error_of(&SPEC.replace(from, to));
            assert!(message.contains(key), "{to}: {message}");
            assert!(message.contains(&format!("line {line}")), "{to}: {message}");
        }
    }

    #[test]
    fn absent_values_take_the_libraries_defaults() {
        let text = "name = \"t\"\nseed = 1\n[dataset]\nsource = \"folder\"\npath = \"d\"\n[[features]]\nmethod = \"hog\"\n[svm]\nC = 1\n";
        let path = Path::new("t.toml");
        let plan = Plan::new(
            Spec::parse(text, path).expect("spec"),
            path,
            text.to_owned(),
        )
        .expect("plan");
        assert_eq!(
            plan.features[0].method,
            FeatureMethod::with_defaults("hog").expect("hog")
        );
        assert_eq!(plan.features[0].preprocess.intensity, Intensity::default());
        assert_eq!(
            plan.grid[0].svm,
            sarlab_svm::SvmParams::default(),
            "the SVM defaults are scikit-learn's SVC()"
        );
        assert_eq!(plan.spec.svm.metric, sarlab_svm::Metric::default());
    }

    proptest! {
        /// Whatever value a key gets, planning returns a plan or an error, never panics.
        #[test]
        fn any_value_plans_or_errs(
            key in prop::sample::select(vec![
                "crop = 32", "intensity = \"db\"", "orientations = 9", "C = 1",
                "kernel = \"rbf\"", "metric = \"f1_macro\"", "seed = 1",
            ]),
            value in prop::sample::select(vec![
                "0", "-1", "1e308", "nan", "inf", "\"\"", "[]", "[[]]", "[1, [2]]",
                "{ a = 1 }", "true", "\"scale\"", "0.5", "9999999", "[0, 1, 2]",
            ]),
        ) {
            let name = key.split(" = ").next().unwrap_or(key);
            let text = SPEC.replace(key, &format!("{name} = {value}"));
            let path = Path::new("t.toml");
            let _ = Spec::parse(&text, path).and_then(|spec| Plan::new(spec, path, text.clone()));
        }
    }
}

#[test]
fn random_search_draws_seeded_points_of_the_grid_or_of_distributions() {
    let grid = plan_of(&MINIMAL.replace("C = [1, 10]", "C = [0.1, 1, 10, 100]")).expect("grid");
    let text = MINIMAL.replace("C = [1, 10]", "C = [0.1, 1, 10, 100]")
        + "[search]\nstrategy = \"random\"\nsamples = 3\n";
    let random = plan_of(&text).expect("random");
    assert_eq!(random.grid.len(), 3);
    assert_eq!(random.features.len(), grid.features.len());
    // Points of the grid, in grid order, with the grid's recorded parameters (so a
    // configuration has the same hash whichever search reached it).
    let positions: Vec<usize> = random
        .grid
        .iter()
        .map(|p| {
            grid.grid
                .iter()
                .position(|q| q.params == p.params)
                .expect("a grid point")
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let again = plan_of(&text).expect("again");
    assert_eq!(
        again.grid.iter().map(|p| &p.params).collect::<Vec<_>>(),
        random.grid.iter().map(|p| &p.params).collect::<Vec<_>>()
    );
    let reseeded = plan_of(&text.replace("seed = 1", "seed = 2")).expect("reseeded");
    assert_ne!(
        reseeded.grid.iter().map(|p| &p.params).collect::<Vec<_>>(),
        random.grid.iter().map(|p| &p.params).collect::<Vec<_>>()
    );
    let drawn = plan_of(
        &(MINIMAL.to_owned()
            + "[search]\nstrategy = \"random\"\nsamples = 20\nC = { log_uniform = [0.5, 50] }\ngamma = { log_uniform = [1e-4, 1e-2] }\n"),
    )
    .expect("distributions");
    assert_eq!(drawn.grid.len(), 20);
    for point in &drawn.grid {
        assert!((0.5..=50.0).contains(&point.svm.c), "{}", point.svm.c);
        match point.svm.gamma {
            Gamma::Value(g) => assert!((1e-4..=1e-2).contains(&g), "{g}"),
            other => panic!("gamma {other:?} was not drawn"),
        }
    }
}

#[test]
fn search_settings_are_checked_and_named() {
    let with = |search: &str| plan_of(&(MINIMAL.to_owned() + "[search]\n" + search));
    assert!(with("strategy = \"grid\"\n").is_ok());
    let halving = with("strategy = \"halving\"\nfactor = 2\nmin_resources = \"smallest\"\n")
        .expect("halving");
    assert_eq!(halving.search.name(), "halving");
    assert!(with("strategy = \"halving\"\nmin_resources = 500\n").is_ok());
    for (search, needle) in [
        ("strategy = \"best\"\n", "best"),
        ("strategy = \"random\"\n", "`search.samples` is missing"),
        ("strategy = \"random\"\nsamples = 0\n", "search.samples"),
        (
            "strategy = \"grid\"\nsamples = 3\n",
            "`search.samples` applies to strategy = \"random\"",
        ),
        (
            "strategy = \"random\"\nsamples = 3\nfactor = 3\n",
            "`search.factor` applies to strategy = \"halving\"",
        ),
        (
            "strategy = \"halving\"\nC = { log_uniform = [1, 10] }\n",
            "`search.C` applies",
        ),
        ("strategy = \"halving\"\nfactor = 1\n", "search.factor"),
        (
            "strategy = \"halving\"\nmin_resources = \"most\"\n",
            "search.min_resources",
        ),
        (
            "strategy = \"halving\"\nmin_resources = -4\n",
            "search.min_resources",
        ),
        (
            "strategy = \"random\"\nsamples = 3\nC = { log_uniform = [10, 1] }\n",
            "search.C",
        ),
        (
            "strategy = \"random\"\nsamples = 3\ngamma = { uniform = [1, 2] }\n",
            "uniform",
        ),
        ("strategy = \"grid\"\nrungs = 3\n", "rungs"),
    ] {
        let err = with(search).expect_err(search);
        assert!(err.contains(needle), "{search}: {err}");
    }
}
