//! Shards: a study split over processes (or a Slurm job array) by configuration
//! position. Shard `I/N` runs the configurations whose position in the plan's
//! enumeration order is `I` modulo `N`, so the shards partition the plan.

use crate::error::{Error, Result};

/// Which configurations of the spec's fixed enumeration order this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    pub fn all() -> Self {
        Shard { index: 0, count: 1 }
    }

    /// `--shard I/N`, else Slurm's array variables, else the whole spec.
    pub fn resolve(flag: Option<&str>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        if let Some(text) = flag {
            let parsed = text.split_once('/').and_then(|(i, n)| {
                Some((
                    i.trim().parse::<usize>().ok()?,
                    n.trim().parse::<usize>().ok()?,
                ))
            });
            return match parsed {
                Some((index, count)) if count > 0 && index < count => Ok(Shard { index, count }),
                _ => Err(Error::Study(format!(
                    "--shard {text}: expected I/N with 0 <= I < N, e.g. --shard 0/4 for the first of four shards"
                ))),
            };
        }
        let Some(task) = env("SLURM_ARRAY_TASK_ID") else {
            return Ok(Shard::all());
        };
        let number = |name: &str, value: String| -> Result<usize> {
            value
                .trim()
                .parse::<usize>()
                .map_err(|e| Error::Study(format!("{name} = `{value}` is not a whole number: {e}")))
        };
        let task = number("SLURM_ARRAY_TASK_ID", task)?;
        let count = match env("SLURM_ARRAY_TASK_COUNT") {
            Some(v) => number("SLURM_ARRAY_TASK_COUNT", v)?,
            None => {
                return Err(Error::Study(
                    "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not: pass --shard I/N"
                        .to_owned(),
                ));
            }
        };
        let min = env("SLURM_ARRAY_TASK_MIN")
            .map(|v| number("SLURM_ARRAY_TASK_MIN", v))
            .transpose()?
            .unwrap_or(0);
        let index = task.checked_sub(min).filter(|&i| i < count.max(1));
        match index {
            Some(index) if count > 0 => Ok(Shard { index, count }),
            _ => Err(Error::Study(format!(
                "Slurm array task {task} (min {min}, count {count}) is not a shard of this job: use a contiguous --array range, or pass --shard I/N"
            ))),
        }
    }

    /// Whether configuration `position` (in the spec's enumeration order) is ours.
    pub fn takes(&self, position: usize) -> bool {
        position % self.count == self.index
    }

    pub fn is_whole(&self) -> bool {
        self.count == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn exactly_one_shard_takes_each_position(count in 1usize..64, position in 0usize..100_000) {
            let takers = (0..count)
                .filter(|&index| Shard { index, count }.takes(position))
                .count();
            prop_assert_eq!(takers, 1);
        }
    }

    #[test]
    fn flags_and_slurm_variables_resolve() {
        let none = |_: &str| None;
        assert_eq!(Shard::resolve(None, none).expect("whole"), Shard::all());
        assert_eq!(
            Shard::resolve(Some("2/4"), none).expect("flag"),
            Shard { index: 2, count: 4 }
        );
        for bad in ["4/4", "1/0", "x", "1/"] {
            assert!(Shard::resolve(Some(bad), none).is_err(), "{bad}");
        }
        let slurm = |name: &str| match name {
            "SLURM_ARRAY_TASK_ID" => Some("7".to_owned()),
            "SLURM_ARRAY_TASK_COUNT" => Some("4".to_owned()),
            "SLURM_ARRAY_TASK_MIN" => Some("5".to_owned()),
            _ => None,
        };
        assert_eq!(
            Shard::resolve(None, slurm).expect("slurm"),
            Shard { index: 2, count: 4 }
        );
    }
}
