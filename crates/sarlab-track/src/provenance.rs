//! Where a run was made: git commit and dirty flag, host, version, command line, and
//! whether a recorded process is still alive.

use std::path::Path;
use std::process::Command;

/// Tags describing where and from what a run was made: git commit and dirty flag of
/// the repository at `dir`, host, sarlab version, command line.
pub fn environment_tags(sarlab_version: &str, dir: &Path) -> Vec<(String, String)> {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    let dirty = match git(&["status", "--porcelain", "--untracked-files=no"]) {
        Some(s) => (!s.is_empty()).to_string(),
        None => "unknown".to_owned(),
    };
    let host = host_name();
    let command_line = std::env::args().collect::<Vec<_>>().join(" ");
    vec![
        ("git_commit".to_owned(), commit),
        ("git_dirty".to_owned(), dirty),
        ("host".to_owned(), host),
        ("sarlab_version".to_owned(), sarlab_version.to_owned()),
        ("command_line".to_owned(), command_line),
    ]
}

/// This machine's name (`/etc/hostname`, else `$HOSTNAME`), or `unknown`.
pub fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether a process with this id exists on this machine. Without `/proc` (not Linux)
/// it is assumed to exist, and only the heartbeat tells a dead run.
pub(crate) fn process_exists(pid: u32) -> bool {
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}
