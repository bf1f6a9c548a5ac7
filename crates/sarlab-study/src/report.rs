//! Step 5 of a study: the report, written from what the database holds, and recorded
//! as artifacts of the study run.

use sarlab_features::{FeatureMethod, hog_image};
use sarlab_filter::Preprocess;
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
        report.images = self
            .hog_glyphs(records, dataset)?
            .into_iter()
            .chain(self.segmentation_masks(dataset)?)
            .collect();
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

    /// Target and shadow masks of the first train chip of every class, for the first
    /// feature setting that segments (`preprocess.segment` or geometry features): the
    /// magnitudes the segmentation sees, and the masks (target white, shadow grey).
    fn segmentation_masks(&self, dataset: &Dataset) -> Result<Option<ImageFigure>> {
        let found = self.plan.features.iter().find_map(|f| {
            let own = match &f.method {
                FeatureMethod::Geometry(g) => Some(g.segmentation),
                FeatureMethod::Fusion(p) => p.parts.iter().find_map(|part| match part {
                    FeatureMethod::Geometry(g) => Some(g.segmentation),
                    _ => None,
                }),
                _ => None,
            };
            f.preprocess.segment.or(own).map(|s| (f, s))
        });
        let Some((feature, segmentation)) = found else {
            return Ok(None);
        };
        // The stages before the segmentation only: crop, pose, padding, resize.
        let before = Preprocess {
            crop: feature.preprocess.crop,
            resize: feature.preprocess.resize,
            pad: feature.preprocess.pad,
            pose: feature.preprocess.pose,
            segment: None,
            ..Preprocess::default()
        };
        let train: Vec<_> = dataset.chips_in(Split::Train).collect();
        let mut panels = Vec::new();
        for (class_index, class) in dataset.classes.iter().enumerate() {
            let Some(chip) = train.iter().find(|c| c.class_index == class_index) else {
                continue;
            };
            let image = load::prepared(&before, dataset, chip)?;
            let masks = segmentation
                .masks(image.view())
                .context_with(|| format!("segmenting {}", dataset.chip_label(chip)))?;
            let overlay = ndarray::Zip::from(&masks.target)
                .and(&masks.shadow)
                .map_collect(|&t, &s| {
                    if t {
                        1.0
                    } else if s {
                        0.5
                    } else {
                        0.0
                    }
                });
            panels.push((class.clone(), image));
            panels.push((format!("{class} masks"), overlay));
        }
        Ok(Some(ImageFigure {
            file_stem: "segmentation_masks".to_owned(),
            caption: format!(
                "Target (white) and shadow (grey) masks of the first train chip of each class by `{segmentation}`, on the magnitudes it sees ({})",
                feature.describe()
            ),
            columns: 4,
            panels,
        }))
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
