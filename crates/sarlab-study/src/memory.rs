//! What this machine can give a study, and the check made before each large
//! allocation: a problem that cannot fit is refused with its size, instead of being
//! killed by the kernel halfway through.

use std::fmt;
use std::str::FromStr;

use sarlab_svm::KernelMemory;

use crate::error::{Error, Result};

/// How much memory the SVM engine may hold for kernels: a size (`8GB`, `512MB`,
/// `1.5GiB`, plain bytes) or a share of the memory this machine has available when the
/// run starts (`60%`). Kernels that fit it are held whole; larger ones are computed row
/// by row into a cache within it (same answers).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MemoryBudget {
    Bytes(u64),
    /// A fraction in `(0, 1]` of [`available_bytes`].
    ShareOfAvailable(f64),
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::ShareOfAvailable(0.6)
    }
}

impl MemoryBudget {
    /// The budget in bytes on this machine now (the share of 8 GB where the available
    /// memory cannot be read).
    pub fn bytes(self) -> u64 {
        match self {
            MemoryBudget::Bytes(b) => b,
            MemoryBudget::ShareOfAvailable(share) => {
                (available_bytes().unwrap_or(8e9) * share) as u64
            }
        }
    }

    /// The SVM engine's setting for this budget.
    pub fn kernel_memory(self) -> KernelMemory {
        KernelMemory::Budget {
            bytes: usize::try_from(self.bytes()).unwrap_or(usize::MAX),
        }
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemoryBudget::Bytes(b) => write!(f, "{b}B"),
            MemoryBudget::ShareOfAvailable(share) => write!(f, "{}%", share * 100.0),
        }
    }
}

impl FromStr for MemoryBudget {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let text = s.trim();
        let bad = |why: &str| {
            Error::Study(format!(
                "memory budget `{s}`: {why} (expected a size such as 8GB, 512MB, 2GiB or a share of the available memory such as 60%)"
            ))
        };
        if let Some(percent) = text.strip_suffix('%') {
            let value: f64 = percent.trim().parse().map_err(|_| bad("not a number"))?;
            if !(value > 0.0 && value <= 100.0) {
                return Err(bad("a share must be above 0 % and at most 100 %"));
            }
            return Ok(MemoryBudget::ShareOfAvailable(value / 100.0));
        }
        // The unit is the trailing letters, so that `3e9` stays a number.
        let split = text
            .trim_end_matches(|c: char| c.is_ascii_alphabetic())
            .len();
        let (number, unit) = text.split_at(split);
        let value: f64 = number.trim().parse().map_err(|_| bad("not a number"))?;
        let scale = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kb" => 1e3,
            "m" | "mb" => 1e6,
            "g" | "gb" => 1e9,
            "t" | "tb" => 1e12,
            "kib" => 1024.0,
            "mib" => 1024.0 * 1024.0,
            "gib" => 1024.0 * 1024.0 * 1024.0,
            "tib" => 1024f64.powi(4),
            _ => return Err(bad("unknown unit")),
        };
        let bytes = value * scale;
        if !(bytes.is_finite() && bytes >= 1e6) {
            return Err(bad(
                "a budget below 1 MB cannot hold a kernel row of a useful problem",
            ));
        }
        Ok(MemoryBudget::Bytes(bytes as u64))
    }
}

/// Bytes a process may still take: the least of the memory the kernel reports
/// available, the cgroup's limit less its usage, and the address-space limit
/// (`ulimit -v`). `None` when none of them can be read (not Linux).
pub fn available_bytes() -> Option<f64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemAvailable:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<f64>()
                        .ok()
                })
                .map(|kb| kb * 1024.0)
        });
    let cgroup = || -> Option<f64> {
        let read = |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok();
        let limit = read("memory.max")?.trim().parse::<f64>().ok()?;
        let used = read("memory.current")
            .and_then(|t| t.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        Some((limit - used).max(0.0))
    };
    let address_space = || -> Option<f64> {
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let line = limits
            .lines()
            .find(|l| l.starts_with("Max address space"))?;
        // "Max address space  <soft>  <hard>  bytes"; the soft limit applies.
        let soft = line["Max address space".len()..]
            .split_whitespace()
            .next()?;
        soft.parse::<f64>().ok()
    };
    [meminfo, cgroup(), address_space()]
        .into_iter()
        .flatten()
        .reduce(f64::min)
}

/// An error unless `bytes` fit in what this machine has available. `what` says what
/// needs them, e.g. "cross-validating 2,000 chips × 1,764 features".
pub fn require(bytes: f64, what: impl FnOnce() -> String) -> Result<()> {
    match available_bytes() {
        Some(available) if bytes > available => Err(Error::Study(format!(
            "{} needs ~{}, this machine has {} available",
            what(),
            gigabytes(bytes),
            gigabytes(available)
        ))),
        _ => Ok(()),
    }
}

/// `bytes` as "N GB" with a precision that suits the size.
pub fn gigabytes(bytes: f64) -> String {
    let gb = bytes / 1e9;
    if gb >= 100.0 {
        format!("{gb:.0} GB")
    } else if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{gb:.2} GB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_parse_sizes_and_shares_and_name_what_is_wrong() {
        assert_eq!(
            "8GB".parse::<MemoryBudget>().unwrap(),
            MemoryBudget::Bytes(8_000_000_000)
        );
        assert_eq!(
            "512 MB".parse::<MemoryBudget>().unwrap(),
            MemoryBudget::Bytes(512_000_000)
        );
        assert_eq!(
            "2GiB".parse::<MemoryBudget>().unwrap(),
            MemoryBudget::Bytes(2 << 30)
        );
        assert_eq!(
            "3e9".parse::<MemoryBudget>().unwrap(),
            MemoryBudget::Bytes(3_000_000_000)
        );
        assert_eq!(
            "60%".parse::<MemoryBudget>().unwrap(),
            MemoryBudget::ShareOfAvailable(0.6)
        );
        for (bad, why) in [
            ("0%", "above 0 %"),
            ("150%", "at most 100 %"),
            ("12XB", "unknown unit"),
            ("lots", "not a number"),
            ("100", "below 1 MB"),
            ("NaN GB", "below 1 MB"),
        ] {
            let message = bad.parse::<MemoryBudget>().unwrap_err().to_string();
            assert!(
                message.contains(why) && message.contains(bad),
                "{bad}: {message}"
            );
        }
        let share = MemoryBudget::ShareOfAvailable(0.5).bytes() as f64;
        assert!(share > 0.0 && share <= available_bytes().unwrap());
    }

    #[test]
    fn this_machine_reports_some_memory_and_a_huge_need_is_refused_by_size() {
        let available = available_bytes().expect("Linux reports available memory");
        assert!(available > 1e6, "{available}");
        let err = require(1e18, || "a test of 10¹⁸ bytes".to_owned()).expect_err("refused");
        let text = err.to_string();
        assert!(
            text.starts_with("a test of 10¹⁸ bytes needs ~1000000000 GB, this machine has "),
            "{text}"
        );
        require(1.0, || unreachable!("a byte fits")).expect("one byte fits");
    }

    #[test]
    fn sizes_print_with_a_precision_that_suits_them() {
        assert_eq!(gigabytes(320e9), "320 GB");
        assert_eq!(gigabytes(2.54e9), "2.5 GB");
        assert_eq!(gigabytes(0.123e9), "0.12 GB");
    }
}
