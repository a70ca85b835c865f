//! System packages the build and the tests need, and their installation through apt-get.
//!
//! Each task calls [`ensure`] first: it asks dpkg which packages are missing and installs only those.
//! When it cannot (not root, no apt-get, not Debian), it fails with one message listing them.

use anyhow::{bail, Context, Result};
use std::process::{Command, Stdio};

/// What a task needs from the system.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// Building rdbench and running it: FFmpeg's libraries, bindgen's libclang, libvmaf's build tools.
    Build,
    /// Everything for `Build`, plus what the tests use as oracles (the `ffmpeg` CLI, a browser).
    Test,
    /// Everything for `Build`, plus the packages holding the `debian` corpus's real video.
    Real,
}

/// Debian packages required to build rdbench (FFmpeg development files, bindgen, libvmaf's meson build).
const BUILD: &[&str] = &[
    "libavcodec-dev",
    "libavformat-dev",
    "libavfilter-dev",
    "libswscale-dev",
    "libswresample-dev",
    "libavutil-dev",
    "pkg-config",
    "clang",
    "libclang-dev",
    "meson",
    "ninja-build",
    "nasm",
    "xxd",
    // The ffmpeg CLI: the anchor of the speed benchmarks and an oracle in tests.
    "ffmpeg",
];

/// Extra packages the tests use.
const TEST: &[&str] = &[
    // Headless browser: the reports crate opens its HTML page in it.
    "chromium",
    // Encoder programs: the external-encoder tests run them as tasks of the transcode core.
    "x264",
    "x265",
    "svt-av1",
    "aom-tools",
    "vpx-tools",
    // A single-node Slurm cluster that the sharding test starts and stops itself.
    "slurm-wlm",
    "munge",
    // The HLS AES-128 tests decrypt segments with its command-line tool.
    "openssl",
    // The text-watermark test draws with the system's default font.
    "fonts-dejavu-core",
];

/// Packages whose files are the `debian` corpus (corpora/manifests/debian.toml).
const REAL: &[&str] = &["opencv-doc", "pd-extendedview", "forensics-samples-files"];

/// The packages `need` asks for.
pub fn packages(need: Need) -> Vec<&'static str> {
    let mut all: Vec<&str> = BUILD.to_vec();
    match need {
        Need::Build => {}
        Need::Test => all.extend_from_slice(TEST),
        Need::Real => all.extend_from_slice(REAL),
    }
    all
}

/// Installs whatever of `need`'s packages is missing; does nothing when all are present.
pub fn ensure(need: Need) -> Result<()> {
    if std::env::var_os("RDBENCH_SKIP_DEPS").is_some() {
        return Ok(());
    }
    let wanted = packages(need);
    let missing = missing(&wanted)?;
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    let apt = which("apt-get");
    let root = is_root();
    if !apt || !root {
        let why = if !apt {
            "this is not a Debian-like system (no apt-get)"
        } else {
            "this user is not root"
        };
        bail!(
            "missing system packages: {list}; {why}, so install them yourself \
             (Debian 12: sudo apt-get install -y {list}) and run the command again"
        );
    }
    eprintln!("xtask: installing missing system packages: {list}");
    let update = Command::new("apt-get")
        .args(["update", "-q"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get update")?;
    if !update.success() {
        bail!("apt-get update failed ({update}); install these packages yourself: {list}");
    }
    let install = Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(&missing)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .context("running apt-get install")?;
    if !install.success() {
        bail!("apt-get install failed ({install}); install these packages yourself: {list}");
    }
    let still = self::missing(&wanted)?;
    if !still.is_empty() {
        bail!(
            "after apt-get install these packages are still missing: {}",
            still.join(" ")
        );
    }
    Ok(())
}

/// The packages of `wanted` that dpkg does not report as installed. Without dpkg, all of them.
fn missing(wanted: &[&'static str]) -> Result<Vec<&'static str>> {
    if !which("dpkg-query") {
        return Ok(wanted.to_vec());
    }
    let out = Command::new("dpkg-query")
        .args(["-W", "-f=${Package} ${db:Status-Abbrev}\n"])
        .args(wanted)
        .stderr(Stdio::null())
        .output()
        .context("running dpkg-query")?;
    let text = String::from_utf8_lossy(&out.stdout);
    let installed: Vec<&str> = text
        .lines()
        .filter_map(|line| {
            let (name, status) = line.split_once(' ')?;
            status.starts_with("ii").then_some(name)
        })
        .collect();
    Ok(wanted
        .iter()
        .copied()
        .filter(|p| !installed.contains(p))
        .collect())
}

fn which(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
        .unwrap_or(false)
}

fn is_root() -> bool {
    // /proc/self/status has "Uid:\treal\teffective\t..."; effective uid 0 may run apt-get.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_needs_include_build_needs() {
        let build = packages(Need::Build);
        let test = packages(Need::Test);
        assert!(build.iter().all(|p| test.contains(p)));
        assert!(
            build.contains(&"libavcodec-dev")
                && build.contains(&"ffmpeg")
                && build.contains(&"nasm")
        );
    }
}
