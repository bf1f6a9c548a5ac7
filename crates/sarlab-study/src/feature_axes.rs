//! The sweep axes of a `[[features]]` block, for any feature method: its parameters
//! come from [`FeatureMethod::setting_keys`], absent ones from the method's defaults,
//! and every value is checked by [`FeatureMethod::set`] itself.

use sarlab_features::{FeatureMethod, SettingKind};
use sarlab_track::ParamValue;

use crate::locate::line_of;
use crate::spec::FeatureSpec;

/// One swept parameter: its recorded name and values.
#[derive(Debug, Clone)]
pub(crate) struct Sweep {
    pub key: String,
    pub values: Vec<ParamValue>,
}

/// Where block `block`'s parameter `key` is written, for messages: `features[0].key
/// (line 12)`, or without the line when the key takes its default.
pub(crate) fn locate(block: usize, spec: &FeatureSpec, key: &str, text: &str) -> String {
    match spec.settings.get(key) {
        Some(value) => format!(
            "`features[{block}].{key}` (line {})",
            line_of(text, value.span().start)
        ),
        None => format!("`features[{block}].{key}`"),
    }
}

/// The block's sweeps, one per parameter of its method in documented order, recorded
/// as `method.key`.
pub(crate) fn method_sweeps(
    block: usize,
    spec: &FeatureSpec,
    text: &str,
) -> Result<Vec<Sweep>, String> {
    let method = &spec.method;
    let keys = method.setting_keys();
    if let Some((key, _)) = spec
        .settings
        .iter()
        .find(|(key, _)| !keys.iter().any(|(k, _)| k == *key))
    {
        let known: Vec<String> = keys.iter().map(|(k, _)| k.clone()).collect();
        let hint = match crate::locate::closest(key, &known) {
            Some(near) => format!("did you mean `{near}`? "),
            None => String::new(),
        };
        return Err(format!(
            "{}: {} has no parameter `{key}`; {hint}its parameters are {}",
            locate(block, spec, key, text),
            method.name(),
            known.join(", ")
        ));
    }
    let defaults = method.settings();
    keys.iter()
        .zip(defaults)
        .map(|((key, kind), (_, default))| {
            let (key, kind) = (key.as_str(), *kind);
            let at = || locate(block, spec, key, text);
            let values = match spec.settings.get(key) {
                Some(value) => {
                    values_of(kind, value.get_ref()).map_err(|m| format!("{} {m}", at()))?
                }
                None => vec![default_value(kind, &default)],
            };
            if let Some(problem) = crate::axis::list_problem(&values) {
                return Err(format!("{}: {problem}", at()));
            }
            for value in &values {
                // The method's own parser decides what a value may be.
                method
                    .clone()
                    .set(key, &value.to_string())
                    .map_err(|e| format!("{}: {e}", at()))?;
            }
            Ok(Sweep {
                key: format!("{}.{key}", method.name()),
                values,
            })
        })
        .collect()
}

/// A default, recorded as a spec value of the same kind would be.
fn default_value(kind: SettingKind, text: &str) -> ParamValue {
    match kind {
        SettingKind::Count | SettingKind::Pair => text
            .parse::<i64>()
            .map_or_else(|_| ParamValue::from(text), ParamValue::Int),
        SettingKind::Real => text
            .parse::<f64>()
            .map_or_else(|_| ParamValue::from(text), ParamValue::Real),
        SettingKind::Flag | SettingKind::Choice | SettingKind::Reals | SettingKind::Vector => {
            ParamValue::from(text)
        }
    }
}

/// The values of a parameter: one, or a list to sweep. For a list of numbers
/// (`frequencies`) an inner list is one value: `[[0.1, 0.2], 0.3]` sweeps two banks.
/// A vector (`weights`) is one list: `[1, 0.5]` is one value, `[[1, 1], [1, 0.5]]`
/// sweeps two.
fn values_of(kind: SettingKind, value: &toml::Value) -> Result<Vec<ParamValue>, String> {
    match value {
        toml::Value::Array(items) if items.is_empty() => {
            Err("is an empty list: give at least one value".to_owned())
        }
        toml::Value::Array(items)
            if kind == SettingKind::Vector && !matches!(items[0], toml::Value::Array(_)) =>
        {
            Ok(vec![one_value(SettingKind::Reals, value)?])
        }
        toml::Value::Array(items) if kind == SettingKind::Vector => items
            .iter()
            .map(|item| match item {
                toml::Value::Array(_) => one_value(SettingKind::Reals, item),
                other => Err(format!(
                    "= {value}: expected a list of numbers or a list of such lists, found {other}"
                )),
            })
            .collect(),
        toml::Value::Array(items) => items.iter().map(|item| one_value(kind, item)).collect(),
        single => Ok(vec![one_value(kind, single)?]),
    }
}

fn one_value(kind: SettingKind, value: &toml::Value) -> Result<ParamValue, String> {
    let expected = |what: &str| Err(format!("= {value}: expected {what}"));
    let number = |v: &toml::Value| match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    };
    match (kind, value) {
        (SettingKind::Count | SettingKind::Pair, toml::Value::Integer(i)) if *i >= 0 => {
            Ok(ParamValue::Int(*i))
        }
        (SettingKind::Count | SettingKind::Pair, _) => expected("a whole number"),
        (SettingKind::Real, v) => match number(v) {
            Some(x) => Ok(ParamValue::Real(x)),
            None => expected("a finite number"),
        },
        (SettingKind::Flag, toml::Value::Boolean(b)) => Ok(ParamValue::from(*b)),
        (SettingKind::Flag, _) => expected("true or false"),
        (SettingKind::Choice, toml::Value::String(s)) => Ok(ParamValue::from(s.as_str())),
        (SettingKind::Choice, _) => expected("a name (a string)"),
        (SettingKind::Reals, toml::Value::Array(bank)) if !bank.is_empty() => {
            let numbers: Option<Vec<String>> = bank
                .iter()
                .map(|v| number(v).map(|x| x.to_string()))
                .collect();
            match numbers {
                Some(numbers) => Ok(ParamValue::from(numbers.join(",").as_str())),
                None => expected("a list of finite numbers"),
            }
        }
        (SettingKind::Vector, _) => expected("a list of finite numbers"),
        (SettingKind::Reals, v) => match number(v) {
            Some(x) => Ok(ParamValue::from(x.to_string().as_str())),
            None => expected("a number or a list of numbers"),
        },
    }
}

/// The method of block `template` with the recorded `params` of one configuration set.
pub(crate) fn method_of(
    template: &FeatureMethod,
    params: &[(String, ParamValue)],
) -> Result<FeatureMethod, sarlab_features::Error> {
    let mut method = template.clone();
    let prefix = format!("{}.", method.name());
    for (key, value) in params {
        if let Some(key) = key.strip_prefix(&prefix) {
            method.set(key, &value.to_string())?;
        }
    }
    Ok(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_recorded_as_given_values_would_be() {
        for name in FeatureMethod::NAMES {
            let method = FeatureMethod::with_defaults(name).expect("method");
            let spec = FeatureSpec {
                method: method.clone(),
                settings: Default::default(),
            };
            let sweeps = method_sweeps(0, &spec, "").expect("defaults are valid");
            let params: Vec<_> = sweeps
                .iter()
                .map(|s| (s.key.clone(), s.values[0].clone()))
                .collect();
            assert_eq!(method_of(&method, &params).expect("set"), method, "{name}");
        }
    }

    #[test]
    fn values_take_the_kind_of_their_parameter() {
        let toml = |s: &str| -> toml::Value {
            toml::from_str::<toml::Table>(&format!("v = {s}")).expect("toml")["v"].clone()
        };
        assert_eq!(
            values_of(SettingKind::Reals, &toml("[[0.1, 0.2], 1]")).expect("banks"),
            vec![ParamValue::from("0.1,0.2"), ParamValue::from("1")]
        );
        assert_eq!(
            values_of(SettingKind::Real, &toml("[1, 1.5]")).expect("reals"),
            vec![ParamValue::Real(1.0), ParamValue::Real(1.5)]
        );
        assert!(values_of(SettingKind::Count, &toml("-1")).is_err());
        assert!(values_of(SettingKind::Count, &toml("[]")).is_err());
        assert!(values_of(SettingKind::Flag, &toml("\"yes\"")).is_err());
        assert!(values_of(SettingKind::Reals, &toml("[[]]")).is_err());
    }
}
