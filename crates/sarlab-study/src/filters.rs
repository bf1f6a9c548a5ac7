//! Filter sweeps of `[preprocess]`: a string, a list of strings, or a table whose list
//! values sweep, expanded into canonical filter spec strings.

use sarlab_filter::augment::Augment;
use sarlab_filter::frequency::FrequencyFilter;
use sarlab_filter::normalize::ChipNorm;
use sarlab_filter::pose::Pose;
use sarlab_filter::segment::Segmentation;
use sarlab_filter::spatial::SpeckleFilter;

/// One value of a filter axis: the text recorded for it and the filter (`None` for
/// `"none"`).
pub(crate) type FilterValue<F> = (String, Option<F>);

/// A speckle-filter axis from `preprocess.speckle`.
pub(crate) fn speckle_axis(value: &toml::Value) -> Result<Vec<FilterValue<SpeckleFilter>>, String> {
    let key = "preprocess.speckle";
    let axis = spec_strings(key, value, false)?
        .into_iter()
        .map(|text| parse(key, text))
        .collect::<Result<Vec<_>, _>>()?;
    distinct(key, axis)
}

/// A segmentation axis from `preprocess.segment`, recorded as
/// [`Segmentation`]'s canonical text (every parameter spelled out).
pub(crate) fn segment_axis(value: &toml::Value) -> Result<Vec<FilterValue<Segmentation>>, String> {
    let key = "preprocess.segment";
    let axis = spec_strings(key, value, false)?
        .into_iter()
        .map(|text| {
            let (_, segmentation) = parse::<Segmentation>(key, text)?;
            Ok((
                segmentation.map_or_else(|| "none".to_owned(), |s| s.to_string()),
                segmentation,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    distinct(key, axis)
}

/// A per-chip normalisation axis from `preprocess.normalize`: a name or a list of names
/// (`"none"` for no normalisation).
pub(crate) fn normalize_axis(value: &toml::Value) -> Result<Vec<FilterValue<ChipNorm>>, String> {
    names_axis(
        "preprocess.normalize",
        value,
        "one of \"none\", \"l1\", \"l2\", \"max\", \"zscore\"",
    )
}

/// A pose axis from `preprocess.pose`: `"mask"`, `"header"`, or a list of them
/// (`"none"` for chips as imaged).
pub(crate) fn pose_axis(value: &toml::Value) -> Result<Vec<FilterValue<Pose>>, String> {
    names_axis(
        "preprocess.pose",
        value,
        "one of \"none\", \"mask\", \"header\"",
    )
}

/// An axis of names: one, or a list to sweep.
fn names_axis<F>(
    key: &str,
    value: &toml::Value,
    expected: &str,
) -> Result<Vec<FilterValue<F>>, String>
where
    F: std::str::FromStr + PartialEq,
    F::Err: std::fmt::Display,
{
    let texts = match value {
        toml::Value::Array(items) if items.is_empty() => {
            return Err(format!("`{key}` is an empty list: give at least one value"));
        }
        toml::Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let axis = texts
        .into_iter()
        .map(|v| match v {
            toml::Value::String(s) => parse(key, s.clone()),
            other => Err(format!("`{key}` = {other}: expected {expected}")),
        })
        .collect::<Result<Vec<_>, _>>()?;
    distinct(key, axis)
}

/// An augmentation axis from `preprocess.augment`: a string, a list of strings
/// (`"none"` for no augmentation), or a table whose list values sweep. Values are
/// recorded as [`Augment`]'s canonical text.
pub(crate) fn augment_axis(value: &toml::Value) -> Result<Vec<FilterValue<Augment>>, String> {
    let key = "preprocess.augment";
    let texts = match value {
        toml::Value::Array(items) if items.is_empty() => {
            return Err(format!("`{key}` is an empty list: give at least one value"));
        }
        toml::Value::Array(items) => {
            let mut texts = Vec::new();
            for item in items {
                texts.extend(augment_texts(key, item)?);
            }
            texts
        }
        other => augment_texts(key, other)?,
    };
    let axis = texts
        .into_iter()
        .map(|text| {
            let (_, augment) = parse::<Augment>(key, text)?;
            Ok((
                augment.map_or_else(|| "none".to_owned(), |a| a.to_string()),
                augment,
            ))
        })
        .collect::<Result<Vec<_>, String>>()?;
    distinct(key, axis)
}

/// One value of `preprocess.augment` as setting texts: a string is one; a table's
/// list values sweep (keys in name order).
fn augment_texts(key: &str, value: &toml::Value) -> Result<Vec<String>, String> {
    let toml::Value::Table(table) = value else {
        return Ok(vec![scalar_text(value)]);
    };
    let mut texts = vec![String::new()];
    for (k, v) in table {
        let options: Vec<String> = match v {
            toml::Value::Array(items) if items.is_empty() => {
                return Err(format!(
                    "`{key}.{k}` is an empty list: give at least one value"
                ));
            }
            toml::Value::Array(items) => items.iter().map(scalar_text).collect(),
            other => vec![scalar_text(other)],
        };
        let count = texts.len().saturating_mul(options.len());
        if count > crate::axis::MAX_AXIS_VALUES {
            return Err(format!(
                "`{key}` expands to {count} or more settings: at most {} per axis",
                crate::axis::MAX_AXIS_VALUES
            ));
        }
        texts = texts
            .iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    let sep = if prefix.is_empty() { "" } else { ":" };
                    format!("{prefix}{sep}{k}={o}")
                })
            })
            .collect();
    }
    Ok(texts)
}

/// A TOML scalar as setting text (strings without quotes).
fn scalar_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// An axis whose filters are all different: two spellings of one filter
/// (`lee:window=5` and `lee:window=5:looks=1`) would be one configuration twice.
fn distinct<F: PartialEq>(
    key: &str,
    axis: Vec<FilterValue<F>>,
) -> Result<Vec<FilterValue<F>>, String> {
    let filters: Vec<&Option<F>> = axis.iter().map(|(_, f)| f).collect();
    match crate::axis::list_problem(&filters) {
        Some(problem) => Err(format!("`{key}`: {problem}")),
        None => Ok(axis),
    }
}

/// A frequency-filter axis from `preprocess.filter`.
pub(crate) fn frequency_axis(
    value: &toml::Value,
) -> Result<Vec<FilterValue<FrequencyFilter>>, String> {
    let key = "preprocess.filter";
    let axis = spec_strings(key, value, true)?
        .into_iter()
        .map(|text| parse(key, text))
        .collect::<Result<Vec<_>, _>>()?;
    distinct(key, axis)
}

fn parse<F>(key: &str, text: String) -> Result<FilterValue<F>, String>
where
    F: std::str::FromStr,
    F::Err: std::fmt::Display,
{
    if text == "none" {
        return Ok((text, None));
    }
    let filter = text.parse().map_err(|e| format!("`{key}`: {e}"))?;
    Ok((text, Some(filter)))
}

/// A filter sweep as canonical spec strings: a string, a list of strings, or a table
/// (`kind` and, for frequency filters, `band` first; every other key in name order)
/// whose list values are expanded as a cartesian product.
fn spec_strings(key: &str, value: &toml::Value, frequency: bool) -> Result<Vec<String>, String> {
    let scalar = |v: &toml::Value, at: &str| -> Result<String, String> {
        match v {
            toml::Value::String(s) => Ok(s.clone()),
            toml::Value::Integer(i) => Ok(i.to_string()),
            toml::Value::Float(f) => Ok(f.to_string()),
            toml::Value::Boolean(b) => Ok(b.to_string()),
            other => Err(format!(
                "`{at}` = {other}: expected a string, a number or true/false"
            )),
        }
    };
    let values = |v: &toml::Value, at: &str| -> Result<Vec<String>, String> {
        match v {
            toml::Value::Array(items) if items.is_empty() => {
                Err(format!("`{at}` is an empty list: give at least one value"))
            }
            toml::Value::Array(items) => items.iter().map(|i| scalar(i, at)).collect(),
            other => Ok(vec![scalar(other, at)?]),
        }
    };
    // A list may mix strings and tables: `["none", { kind = "lee", window = [3, 5] }]`.
    if let toml::Value::Array(items) = value
        && items.iter().any(|i| matches!(i, toml::Value::Table(_)))
    {
        let mut specs = Vec::new();
        for item in items {
            specs.extend(spec_strings(key, item, frequency)?);
            if specs.len() > crate::axis::MAX_AXIS_VALUES {
                return Err(format!(
                    "`{key}` expands to {} or more filters: at most {} per axis",
                    specs.len(),
                    crate::axis::MAX_AXIS_VALUES
                ));
            }
        }
        return Ok(specs);
    }
    let toml::Value::Table(table) = value else {
        return values(value, key);
    };
    let kinds = values(
        table
            .get("kind")
            .ok_or_else(|| format!("`{key}` needs `kind` (e.g. kind = \"lee\")"))?,
        &format!("{key}.kind"),
    )?;
    let mut axes: Vec<(String, Vec<String>)> = Vec::new();
    if frequency {
        let band = table
            .get("band")
            .ok_or_else(|| format!("`{key}` needs `band` (e.g. band = \"lowpass\")"))?;
        axes.push((String::new(), values(band, &format!("{key}.band"))?));
    }
    for (k, v) in table {
        if k != "kind" && k != "band" {
            axes.push((k.clone(), values(v, &format!("{key}.{k}"))?));
        }
    }
    let mut specs = kinds;
    for (name, options) in &axes {
        let count = specs.len().saturating_mul(options.len());
        if count > crate::axis::MAX_AXIS_VALUES {
            return Err(format!(
                "`{key}` expands to {count} or more filters: at most {} per axis",
                crate::axis::MAX_AXIS_VALUES
            ));
        }
        specs = specs
            .iter()
            .flat_map(|prefix| {
                options.iter().map(move |o| {
                    if name.is_empty() {
                        format!("{prefix}:{o}")
                    } else {
                        format!("{prefix}:{name}={o}")
                    }
                })
            })
            .collect();
    }
    Ok(specs)
}
