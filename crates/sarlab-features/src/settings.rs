//! Feature methods by name with `key=value` parameters, as the CLI and reports use
//! them, and the names of every feature of a method's output vector.

use crate::error::{Error, Result};
use crate::fusion::FusionParams;
use crate::gabor::GaborBankParams;
use crate::geometry::GeometryParams;
use crate::spectral::SpectralParams;
use crate::{BlockNorm, FeatureMethod, HogParams, RawParams};

fn invalid(name: &'static str, value: &str, expected: &str) -> Error {
    Error::InvalidParameter {
        name,
        message: format!("`{value}` is not {expected}"),
    }
}

fn count(name: &'static str, value: &str) -> Result<usize> {
    value
        .trim()
        .parse()
        .map_err(|_| invalid(name, value, "a whole number"))
}

fn real(name: &'static str, value: &str) -> Result<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| invalid(name, value, "a finite number"))
}

fn flag(name: &'static str, value: &str) -> Result<bool> {
    match value.trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(invalid(name, value, "true or false")),
    }
}

/// `8` (square) or `8,6` / `8x6` (rows, columns).
fn pair(name: &'static str, value: &str) -> Result<(usize, usize)> {
    let parts: Vec<&str> = value.split([',', 'x']).collect();
    match parts[..] {
        [one] => count(name, one).map(|v| (v, v)),
        [r, c] => Ok((count(name, r)?, count(name, c)?)),
        _ => Err(invalid(name, value, "N or ROWS,COLS")),
    }
}

fn reals(name: &'static str, value: &str) -> Result<Vec<f64>> {
    value.split(',').map(|v| real(name, v)).collect()
}

fn show_pair((r, c): (usize, usize)) -> String {
    if r == c {
        r.to_string()
    } else {
        format!("{r},{c}")
    }
}

/// The form of a parameter's value, as [`FeatureMethod::set`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettingKind {
    /// A whole number (`9`).
    Count,
    /// A finite number (`1.5`).
    Real,
    /// `true` or `false`.
    Flag,
    /// One of a fixed set of names (`L2-Hys`).
    Choice,
    /// A list of finite numbers (`0.1,0.2,0.3`).
    Reals,
    /// `N` (square) or `ROWS,COLS`.
    Pair,
    /// A list of finite numbers that is one value (a fusion's `weights`: one per
    /// block); a spec sweeps it with a list of lists.
    Vector,
}

const RAW_KEYS: &[(&str, SettingKind)] = &[("downsample", SettingKind::Count)];
const HOG_KEYS: &[(&str, SettingKind)] = &[
    ("orientations", SettingKind::Count),
    ("pixels_per_cell", SettingKind::Pair),
    ("cells_per_block", SettingKind::Pair),
    ("block_norm", SettingKind::Choice),
    ("transform_sqrt", SettingKind::Flag),
];
const GABOR_KEYS: &[(&str, SettingKind)] = &[
    ("frequencies", SettingKind::Reals),
    ("orientations", SettingKind::Count),
    ("bandwidth", SettingKind::Real),
    ("stats", SettingKind::Flag),
    ("pool", SettingKind::Count),
];
const SPECTRAL_KEYS: &[(&str, SettingKind)] = &[
    ("block", SettingKind::Count),
    ("rings", SettingKind::Count),
    ("wedges", SettingKind::Count),
    ("normalise", SettingKind::Flag),
];

const GEOMETRY_KEYS: &[(&str, SettingKind)] = &[("segment", SettingKind::Choice)];
const FUSION_KEYS: &[(&str, SettingKind)] = &[
    ("combine", SettingKind::Choice),
    ("weights", SettingKind::Vector),
    ("block_norm", SettingKind::Choice),
    ("balance", SettingKind::Flag),
];

impl FeatureMethod {
    /// The method's parameters with the form of their values, in documented order (the
    /// order of [`FeatureMethod::settings`]). A fusion's are its own, then each part's
    /// as `part.key` (`hog.pixels_per_cell`).
    pub fn setting_keys(&self) -> Vec<(String, SettingKind)> {
        let own = |keys: &[(&str, SettingKind)]| -> Vec<(String, SettingKind)> {
            keys.iter().map(|&(k, kind)| (k.to_owned(), kind)).collect()
        };
        match self {
            FeatureMethod::Raw(_) => own(RAW_KEYS),
            FeatureMethod::Hog(_) => own(HOG_KEYS),
            FeatureMethod::Gabor(_) => own(GABOR_KEYS),
            FeatureMethod::Spectral(_) => own(SPECTRAL_KEYS),
            FeatureMethod::Geometry(_) => own(GEOMETRY_KEYS),
            FeatureMethod::Fusion(p) => {
                let mut keys = own(FUSION_KEYS);
                for part in &p.parts {
                    keys.extend(
                        part.setting_keys()
                            .into_iter()
                            .map(|(k, kind)| (format!("{}.{k}", part.name()), kind)),
                    );
                }
                keys
            }
        }
    }

    /// The method names, as specs and the CLI spell them.
    pub const NAMES: [&'static str; 6] = ["raw", "hog", "gabor", "spectral", "geometry", "fusion"];

    /// The method `name` with its default parameters.
    pub fn with_defaults(name: &str) -> Result<Self> {
        Ok(match name {
            "raw" => FeatureMethod::Raw(RawParams::default()),
            "hog" => FeatureMethod::Hog(HogParams::default()),
            "gabor" => FeatureMethod::Gabor(GaborBankParams::default()),
            "spectral" => FeatureMethod::Spectral(SpectralParams::default()),
            "fusion" => FeatureMethod::Fusion(FusionParams::default()),
            "geometry" => FeatureMethod::Geometry(GeometryParams::default()),
            other => return Err(Error::UnknownMethod(other.to_owned())),
        })
    }

    /// The method `name` with `key=value` settings applied over its defaults, validated.
    pub fn from_settings<K: AsRef<str>, V: AsRef<str>>(
        name: &str,
        settings: &[(K, V)],
    ) -> Result<Self> {
        let mut method = Self::with_defaults(name)?;
        // A fusion's `combine` resets its parts, so it goes first wherever it is given.
        let (first, rest): (Vec<_>, Vec<_>) = settings
            .iter()
            .partition(|(key, _)| key.as_ref() == "combine");
        for (key, value) in first.into_iter().chain(rest) {
            method.set(key.as_ref(), value.as_ref())?;
        }
        method.validate()?;
        Ok(method)
    }

    /// Sets one parameter from its text form (as [`FeatureMethod::settings`] writes it).
    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        let (method, keys) = (self.name(), self.setting_keys());
        let unknown = || Error::UnknownParameter {
            method,
            key: key.to_owned(),
            known: keys
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        match self {
            FeatureMethod::Raw(p) => match key {
                "downsample" => p.downsample = count("downsample", value)?,
                _ => return Err(unknown()),
            },
            FeatureMethod::Hog(p) => match key {
                "orientations" => p.orientations = count("orientations", value)?,
                "pixels_per_cell" => p.pixels_per_cell = pair("pixels_per_cell", value)?,
                "cells_per_block" => p.cells_per_block = pair("cells_per_block", value)?,
                "block_norm" => p.block_norm = value.trim().parse::<BlockNorm>()?,
                "transform_sqrt" => p.transform_sqrt = flag("transform_sqrt", value)?,
                _ => return Err(unknown()),
            },
            FeatureMethod::Gabor(p) => match key {
                "frequencies" => p.frequencies = reals("frequencies", value)?,
                "orientations" => p.orientations = count("orientations", value)?,
                "bandwidth" => p.bandwidth = real("bandwidth", value)?,
                "stats" => p.stats = flag("stats", value)?,
                "pool" => p.pool = count("pool", value)?,
                _ => return Err(unknown()),
            },
            FeatureMethod::Spectral(p) => match key {
                "block" => p.block = count("block", value)?,
                "rings" => p.rings = count("rings", value)?,
                "wedges" => p.wedges = count("wedges", value)?,
                "normalise" => p.normalise = flag("normalise", value)?,
                _ => return Err(unknown()),
            },
            FeatureMethod::Geometry(p) => match key {
                "segment" => {
                    p.segmentation = value.parse().map_err(|e: sarlab_filter::Error| {
                        Error::InvalidParameter {
                            name: "segment",
                            message: e.to_string(),
                        }
                    })?
                }
                _ => return Err(unknown()),
            },
            FeatureMethod::Fusion(p) => match key {
                // A new list of methods starts from their defaults and unit weights.
                "combine" => *p = FusionParams::of(FusionParams::parts_named(value)?),
                "weights" => p.weights = reals("weights", value)?,
                "block_norm" => p.block_norm = value.parse()?,
                "balance" => p.balance = flag("balance", value)?,
                _ => {
                    let (part, part_key) = key.split_once('.').ok_or_else(unknown)?;
                    let part = p
                        .parts
                        .iter_mut()
                        .find(|m| m.name() == part)
                        .ok_or_else(unknown)?;
                    part.set(part_key, value).map_err(|e| match e {
                        Error::UnknownParameter { .. } => unknown(),
                        other => Error::FusionPart {
                            key: key.to_owned(),
                            source: Box::new(other),
                        },
                    })?;
                }
            },
        }
        Ok(())
    }

    /// Every parameter as `(key, text)`, in documented order; feeding them back to
    /// [`FeatureMethod::from_settings`] gives the same method.
    pub fn settings(&self) -> Vec<(String, String)> {
        self.own_settings()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .chain(self.part_settings())
            .collect()
    }

    /// A fusion's parts' settings as `part.key`; nothing for a single method.
    fn part_settings(&self) -> Vec<(String, String)> {
        let FeatureMethod::Fusion(p) = self else {
            return Vec::new();
        };
        p.parts
            .iter()
            .flat_map(|part| {
                part.settings()
                    .into_iter()
                    .map(move |(k, v)| (format!("{}.{k}", part.name()), v))
            })
            .collect()
    }

    fn own_settings(&self) -> Vec<(&'static str, String)> {
        match self {
            FeatureMethod::Raw(p) => vec![("downsample", p.downsample.to_string())],
            FeatureMethod::Hog(p) => vec![
                ("orientations", p.orientations.to_string()),
                ("pixels_per_cell", show_pair(p.pixels_per_cell)),
                ("cells_per_block", show_pair(p.cells_per_block)),
                ("block_norm", p.block_norm.to_string()),
                ("transform_sqrt", p.transform_sqrt.to_string()),
            ],
            FeatureMethod::Gabor(p) => vec![
                (
                    "frequencies",
                    p.frequencies
                        .iter()
                        .map(f64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                ("orientations", p.orientations.to_string()),
                ("bandwidth", p.bandwidth.to_string()),
                ("stats", p.stats.to_string()),
                ("pool", p.pool.to_string()),
            ],
            FeatureMethod::Spectral(p) => vec![
                ("block", p.block.to_string()),
                ("rings", p.rings.to_string()),
                ("wedges", p.wedges.to_string()),
                ("normalise", p.normalise.to_string()),
            ],
            FeatureMethod::Geometry(p) => vec![("segment", p.segmentation.to_string())],
            FeatureMethod::Fusion(p) => vec![
                ("combine", p.combine()),
                (
                    "weights",
                    p.weights
                        .iter()
                        .map(f64::to_string)
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                ("block_norm", p.block_norm.to_string()),
                ("balance", p.balance.to_string()),
            ],
        }
    }

    /// The name of each feature of the output vector for a `rows × cols` image, in
    /// output order.
    pub fn feature_names(&self, rows: usize, cols: usize) -> Result<Vec<String>> {
        let len = self.output_len(rows, cols)?;
        let mut names = Vec::with_capacity(len);
        match self {
            FeatureMethod::Raw(p) => {
                let k = p.downsample;
                for r in 0..rows / k {
                    for c in 0..cols / k {
                        names.push(format!("pixel_r{r}_c{c}"));
                    }
                }
            }
            FeatureMethod::Hog(p) => {
                let (cells_r, cells_c) = (rows / p.pixels_per_cell.0, cols / p.pixels_per_cell.1);
                let (br, bc) = p.cells_per_block;
                for r in 0..=cells_r - br {
                    for c in 0..=cells_c - bc {
                        for i in 0..br {
                            for j in 0..bc {
                                for o in 0..p.orientations {
                                    names.push(format!(
                                        "hog_block{r}_{c}_cell{}_{}_bin{o}",
                                        r + i,
                                        c + j
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            FeatureMethod::Gabor(p) => {
                for filter in p.filters() {
                    let tag = format!(
                        "gabor_f{}_theta{}",
                        filter.frequency,
                        (filter.theta.to_degrees() * 1e6).round() / 1e6
                    );
                    if p.stats {
                        names.push(format!("{tag}_mean"));
                        names.push(format!("{tag}_std"));
                    }
                    if let (Some(pr), Some(pc)) =
                        (rows.checked_div(p.pool), cols.checked_div(p.pool))
                    {
                        for r in 0..pr {
                            for c in 0..pc {
                                names.push(format!("{tag}_pool_r{r}_c{c}"));
                            }
                        }
                    }
                }
            }
            FeatureMethod::Spectral(p) => {
                // Block entries by their frequency offset from the centred zero frequency.
                let half = (p.block / 2) as i64;
                for r in 0..p.block as i64 {
                    for c in 0..p.block as i64 {
                        names.push(format!("logmag_u{}_v{}", r - half, c - half));
                    }
                }
                names.extend((0..p.rings).map(|k| format!("ring{k}")));
                names.extend((0..p.wedges).map(|k| format!("wedge{k}")));
            }
            FeatureMethod::Geometry(_) => {
                names.extend(
                    crate::geometry::FEATURE_NAMES
                        .iter()
                        .map(|n| format!("geometry_{n}")),
                );
            }
            // The parts' names are distinct across methods (each has its own prefix).
            FeatureMethod::Fusion(p) => {
                for part in &p.parts {
                    names.extend(part.feature_names(rows, cols)?);
                }
            }
        }
        debug_assert_eq!(names.len(), len);
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_names_match_the_output() {
        let cases: &[(&str, &[(&str, &str)])] = &[
            ("raw", &[("downsample", "2")]),
            (
                "hog",
                &[
                    ("pixels_per_cell", "6,5"),
                    ("cells_per_block", "2"),
                    ("block_norm", "L1-sqrt"),
                    ("transform_sqrt", "true"),
                ],
            ),
            ("gabor", &[("frequencies", "0.1,0.25"), ("pool", "8")]),
            (
                "spectral",
                &[("block", "6"), ("rings", "3"), ("wedges", "5")],
            ),
            ("geometry", &[("segment", "cfar:k=2:border=4")]),
            (
                "fusion",
                &[
                    ("combine", "hog,spectral,geometry"),
                    ("weights", "1,0.5,2"),
                    ("block_norm", "l2"),
                    ("hog.pixels_per_cell", "6,5"),
                    ("spectral.rings", "3"),
                ],
            ),
        ];
        for (name, settings) in cases {
            let method = FeatureMethod::from_settings(name, settings).expect("valid");
            assert_eq!(method.name(), *name);
            let again = FeatureMethod::from_settings(name, &method.settings()).expect("again");
            assert_eq!(again, method);
            let keys: Vec<_> = method.settings().into_iter().map(|(k, _)| k).collect();
            let documented: Vec<_> = method.setting_keys().into_iter().map(|(k, _)| k).collect();
            assert_eq!(
                keys, documented,
                "{name}: settings() and setting_keys() disagree"
            );
            let names = method.feature_names(37, 33).expect("names");
            assert_eq!(names.len(), method.output_len(37, 33).expect("len"));
            let unique: std::collections::HashSet<_> = names.iter().collect();
            assert_eq!(unique.len(), names.len(), "{name}: names repeat");
        }
        let fusion = FeatureMethod::from_settings(
            "fusion",
            &[("combine", "raw,hog"), ("hog.cells_per_block", "2")],
        )
        .expect("fusion");
        assert_eq!(
            fusion.feature_names(64, 64).expect("names").len(),
            64 * 64 + 1764
        );
        let hog = FeatureMethod::from_settings("hog", &[("cells_per_block", "2")]).expect("hog");
        let names = hog.feature_names(64, 64).expect("names");
        assert_eq!(names.len(), 1764);
        assert_eq!(names[9], "hog_block0_0_cell0_1_bin0");
    }

    #[test]
    fn bad_settings_are_named() {
        let err = FeatureMethod::from_settings("hog", &[("pixel_per_cell", "8")]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("pixel_per_cell") && text.contains("pixels_per_cell"),
            "{text}"
        );
        let err = FeatureMethod::from_settings("gabor", &[("frequencies", "0.1,0.7")]).unwrap_err();
        assert!(err.to_string().contains("frequency"), "{err}");
        let err = FeatureMethod::from_settings("gabor", &[("frequencies", "0")]).unwrap_err();
        assert!(err.to_string().contains("frequency"), "{err}");
        let err = FeatureMethod::from_settings("raw", &[("downsample", "two")]).unwrap_err();
        assert!(err.to_string().contains("`downsample`") && err.to_string().contains("two"));
        assert!(matches!(
            FeatureMethod::with_defaults("sift"),
            Err(Error::UnknownMethod(_))
        ));
        let err = FeatureMethod::from_settings("fusion", &[("hog.pixel_per_cell", "8")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("hog.pixel_per_cell") && err.contains("hog.pixels_per_cell"),
            "{err}"
        );
        let err = FeatureMethod::from_settings("fusion", &[("spectral.block", "6")]).unwrap_err();
        assert!(err.to_string().contains("spectral.block"), "{err}");
        let hog = FeatureMethod::with_defaults("hog").expect("hog");
        let err = hog.output_len(16, 64).unwrap_err();
        assert!(err.to_string().contains("16x64"), "{err}");
    }
}
