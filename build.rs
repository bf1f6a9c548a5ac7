//! Records the git commit sarlab is built from (`SARLAB_BUILD_COMMIT`, with `-dirty`
//! when tracked files had uncommitted changes), so a study run names the exact build
//! that made it. Outside a repository, or without git, nothing is set.

use std::path::Path;
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn main() {
    // Rerun when the commit moves (HEAD, the branch it points to) or files are staged.
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        let git_dir = Path::new(&git_dir);
        println!("cargo:rerun-if-changed={}", git_dir.join("HEAD").display());
        println!("cargo:rerun-if-changed={}", git_dir.join("index").display());
        // A packed ref has no file of its own: packed-refs changes instead.
        if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let loose = git_dir.join(branch);
            let watched = match loose.exists() {
                true => loose,
                false => git_dir.join("packed-refs"),
            };
            println!("cargo:rerun-if-changed={}", watched.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return;
    };
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    let suffix = if dirty { "-dirty" } else { "" };
    println!("cargo:rustc-env=SARLAB_BUILD_COMMIT={commit}{suffix}");
}
