//! What this machine can give a study, and the check made before each large
//! allocation: a problem that cannot fit is refused with its size, instead of being
//! killed by the kernel halfway through.

use crate::error::{Error, Result};

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
