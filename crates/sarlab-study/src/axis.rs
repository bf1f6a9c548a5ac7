//! Spec values that may be one value or a list (a sweep axis), and values written as
//! text that parse into the libraries' typed parameters.

use std::fmt;
use std::marker::PhantomData;
use std::str::FromStr;

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A value or a list of values (a sweep axis).
#[derive(Debug, Clone, PartialEq)]
pub struct Axis<T>(pub Vec<T>);

impl<T> Axis<T> {
    pub fn one(value: T) -> Self {
        Axis(vec![value])
    }

    pub fn values(&self) -> &[T] {
        &self.0
    }
}

/// The most values one axis may list.
pub const MAX_AXIS_VALUES: usize = 10_000;

/// What a repeated value or an overlong list is told.
pub(crate) fn list_problem<T: PartialEq>(values: &[T]) -> Option<String> {
    if values.len() > MAX_AXIS_VALUES {
        return Some(format!(
            "lists {} values: at most {MAX_AXIS_VALUES} per axis",
            values.len()
        ));
    }
    sarlab_svm::first_repeat(values).map(|(first, again)| {
        format!(
            "value {again} of the list repeats value {first}: list each value once (a repeated value is the same configuration)"
        )
    })
}

impl<'de, T: Deserialize<'de> + PartialEq> Deserialize<'de> for Axis<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AxisVisitor<T>(PhantomData<T>);

        macro_rules! scalar {
            ($name:ident, $ty:ty) => {
                fn $name<E: de::Error>(self, v: $ty) -> Result<Axis<T>, E> {
                    T::deserialize(v.into_deserializer()).map(Axis::one)
                }
            };
        }

        impl<'de, T: Deserialize<'de> + PartialEq> Visitor<'de> for AxisVisitor<T> {
            type Value = Axis<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value or a list of values to sweep")
            }

            scalar!(visit_bool, bool);
            scalar!(visit_i64, i64);
            scalar!(visit_u64, u64);
            scalar!(visit_f64, f64);
            scalar!(visit_string, String);

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Axis<T>, E> {
                T::deserialize(v.into_deserializer()).map(Axis::one)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Axis<T>, A::Error> {
                let mut values = Vec::new();
                while let Some(v) = seq.next_element()? {
                    values.push(v);
                    if values.len() > MAX_AXIS_VALUES {
                        break;
                    }
                }
                match list_problem(&values) {
                    Some(problem) => Err(de::Error::custom(problem)),
                    None => Ok(Axis(values)),
                }
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Axis<T>, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Axis::one)
            }
        }

        deserializer.deserialize_any(AxisVisitor(PhantomData))
    }
}

/// A value written as text and parsed with its type's `FromStr` while the spec is
/// read, so a bad name is reported at its line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Parsed<T>(pub T);

impl<'de, T> Deserialize<'de> for Parsed<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor<T>(PhantomData<T>);

        impl<T> Visitor<'_> for TextVisitor<T>
        where
            T: FromStr,
            T::Err: fmt::Display,
        {
            type Value = Parsed<T>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a name (a string)")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Parsed<T>, E> {
                v.parse().map(Parsed).map_err(E::custom)
            }
        }

        deserializer.deserialize_str(TextVisitor(PhantomData))
    }
}

/// `deserialize_with` for an axis of typed values written as text.
pub(crate) fn parsed_axis<'de, D, T>(deserializer: D) -> Result<Axis<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr + PartialEq,
    T::Err: fmt::Display,
{
    let axis = Axis::<Parsed<T>>::deserialize(deserializer)?;
    Ok(Axis(axis.0.into_iter().map(|Parsed(v)| v).collect()))
}

/// `deserialize_with` for one typed value written as text.
pub(crate) fn parsed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    Parsed::<T>::deserialize(deserializer).map(|Parsed(v)| v)
}

/// `deserialize_with` for an optional typed value written as text.
pub(crate) fn parsed_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    Parsed::<T>::deserialize(deserializer).map(|Parsed(v)| Some(v))
}
