//! Step 5 of a study: the report, written from what the database holds, and recorded
//! as artifacts of the study run.

use sarlab_features::{FeatureMethod, hog_image};
use sarlab_io::{Dataset, Split};
use sarlab_report::{ConfigResult, ImageFigure, MethodResult, Significance, StudyReport};
use sha2::{Digest, Sha256};

use crate::engine::{Labels, StudyRun, WrittenReport};
use crate::error::{Context, Error, Result};
use crate::load;
use crate::observer::Event;
use crate::refit::{CvRecord, best_record};

impl StudyRun<'_> {
    pub(crate) fn write_report(
        &mut self,
        dataset: &Dataset,
        labels: &Labels,
        records: &[CvRecord],
        methods: Vec<MethodResult>,
        significance: Significance,
    ) -> Result<WrittenReport> {
        let plan = self.plan;
        let configs = records
            .iter()
            .map(|r| ConfigResult {
                method: plan.features[r.feature].method.name().to_owned(),
                params: plan.describe(r.feature, r.grid),
                cv_accuracy: r.cv_accuracy,
                cv_f1_macro: r.cv_f1_macro,
                cv_selection: r.cv_selection,
                fit_seconds: r.fit_seconds,
            })
            .collect();
        let report = StudyReport {
            study: plan.spec.name.clone(),
            spec_path: plan.spec_path.display().to_string(),
            seed: plan.spec.seed,
            dataset_path: dataset.root.display().to_string(),
            dataset_digest: dataset.digest.clone(),
            classes: dataset.classes.clone(),
            train_chips: labels.train.len(),
            test_chips: labels.test.len(),
            folds: plan.spec.svm.folds,
            selection_metric: plan.spec.svm.metric.to_string(),
            db_path: self.store.path().display().to_string(),
            parent_run: self.parent.to_owned(),
            git_commit: self.git_commit.clone(),
            methods,
            configs,
            images: self.hog_glyphs(records, dataset)?.into_iter().collect(),
            significance,
            sweeps: crate::sweep::sweeps(plan, records)?,
            provenance: self.provenance()?,
            spec_toml: plan.spec_text.clone(),
        };
        let dir = self.study.reports.join(&plan.spec.name);
        let files = sarlab_report::write_report(&report, &dir)
            .context_with(|| format!("cannot write the report in {}", dir.display()))?;
        let mut artifacts = vec![
            (files.index_html.clone(), "report-html"),
            (files.summary_md.clone(), "report-markdown"),
        ];
        artifacts.extend(files.figures.iter().map(|f| (f.clone(), "figure")));
        for (path, kind) in artifacts {
            let bytes = std::fs::read(&path).map_err(|source| Error::ReadBack {
                path: path.clone(),
                source,
            })?;
            let hex: String = Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            self.store
                .add_artifact(self.parent, &path.display().to_string(), kind, &hex)?;
        }
        self.observer.on(Event::ReportWritten {
            index_html: &files.index_html,
        });
        Ok(WrittenReport {
            report,
            index_html: files.index_html,
        })
    }

    /// Where and how the study ran, from its run's record: start time, host, threads,
    /// sarlab version, whether the spec's repository had uncommitted changes, the
    /// command line.
    fn provenance(&self) -> Result<Vec<(String, String)>> {
        let run = self.store.run(self.parent)?;
        let mut out = vec![(
            "date".to_owned(),
            format!("{} UTC", sarlab_track::utc_text(run.start_ms)),
        )];
        for (key, label) in [
            ("host", "host"),
            ("threads", "threads"),
            ("sarlab_version", "sarlab version"),
            ("git_dirty", "uncommitted changes"),
            ("command_line", "command line"),
        ] {
            if let Some(value) = run.tags.get(key) {
                out.push((label.to_owned(), value.clone()));
            }
        }
        Ok(out)
    }

    /// HOG glyphs (scikit-image's visualisation) of the first train chip of every class,
    /// preprocessed and parameterised as the best HOG configuration.
    fn hog_glyphs(&self, records: &[CvRecord], dataset: &Dataset) -> Result<Option<ImageFigure>> {
        let Some(best) = best_record(self.plan, "hog", records) else {
            return Ok(None);
        };
        let feature = &self.plan.features[best.feature];
        let FeatureMethod::Hog(params) = &feature.method else {
            return Ok(None);
        };
        let train: Vec<_> = dataset.chips_in(Split::Train).collect();
        let mut panels = Vec::new();
        for (class_index, class) in dataset.classes.iter().enumerate() {
            let Some(chip) = train.iter().find(|c| c.class_index == class_index) else {
                continue;
            };
            let image = load::prepared(&feature.preprocess, dataset, chip)?;
            let glyphs = hog_image(image.view(), params)
                .context_with(|| format!("HOG glyphs of {}", dataset.chip_label(chip)))?;
            panels.push((class.clone(), image));
            panels.push((format!("{class} HOG"), glyphs));
        }
        Ok(Some(ImageFigure {
            file_stem: "hog_glyphs".to_owned(),
            caption: format!(
                "HOG glyphs (scikit-image's visualisation) of the first train chip of each class, with the best HOG setting: {}",
                feature.describe()
            ),
            columns: 4,
            panels,
        }))
    }
}
