//! Step 5 of a study: the report, written from what the database holds, and recorded
//! as artifacts of the study run.

use sarlab_features::{FeatureMethod, hog_image};
use sarlab_io::{Dataset, Split};
use sarlab_report::{ImageFigure, ReportFiles, StudyReport};

use crate::engine::{StudyRun, WrittenReport};
use crate::error::{Context, Error, Result};
use crate::load;
use crate::observer::Event;
use crate::results::{CvRecord, best_record};

/// Writes `report`'s files into `dir`.
pub fn write_files(report: &StudyReport, dir: &std::path::Path) -> Result<ReportFiles> {
    sarlab_report::write_report(report, dir)
        .context_with(|| format!("cannot write the report in {}", dir.display()))
}

impl StudyRun<'_> {
    /// Writes the report of this study run from what the database holds (plus image
    /// figures from the chips) and records its files as artifacts.
    pub(crate) fn write_report(
        &mut self,
        dataset: &Dataset,
        records: &[CvRecord],
    ) -> Result<WrittenReport> {
        // The CV records were read back from the database after cross-validation; the
        // refits since then add test runs only.
        let mut report = self
            .recorded(&dataset.digest)
            .report(self.parent, records)?;
        report.images = self.hog_glyphs(records, dataset)?.into_iter().collect();
        let dir = self.study.reports.join(&self.plan.spec.name);
        let files = write_files(&report, &dir)?;
        let mut artifacts = vec![
            (files.index_html.clone(), "report-html"),
            (files.summary_md.clone(), "report-markdown"),
            (files.tables_tex.clone(), "report-latex"),
        ];
        artifacts.extend(files.figures.iter().map(|f| (f.clone(), "figure")));
        for (path, kind) in artifacts {
            let bytes = std::fs::read(&path).map_err(|source| Error::ReadBack {
                path: path.clone(),
                source,
            })?;
            let hex = sarlab_io::sha256_hex(&bytes);
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
