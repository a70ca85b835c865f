//! A tiny corpus and suites for harness tests.

use std::path::{Path, PathBuf};

/// Writes a manifest of two tiny generated sequences (128x72, 8 frames) and returns its path.
pub fn tiny_corpus(dir: &Path) -> PathBuf {
    let p = dir.join("tiny.toml");
    std::fs::write(
        &p,
        r#"name = "tiny"
description = "two tiny generated sequences"
[[sequence]]
id = "zoom"
source = { generator = "zoom", seed = 1 }
class = "C"
width = 128
height = 72
fps = 30
frames = 8
bit_depth = 8
licence = "CC0-1.0"
[[sequence]]
id = "handheld"
source = { generator = "handheld", seed = 2 }
class = "F"
width = 128
height = 72
fps = 30
frames = 8
bit_depth = 8
licence = "CC0-1.0"
"#,
    )
    .unwrap();
    p
}

/// A suite over the tiny corpus: x264 (anchor) and x265, 4 CRF points and 2 ABR points each.
pub fn tiny_suite(corpus: &Path, extra_config: &str) -> String {
    format!(
        r#"name = "tiny"
corpora = ["{}"]
metrics = ["vmaf", "psnr", "ssim"]
anchor = "x264"
jobs = 2
[[config]]
name = "x264"
codec = "libx264"
preset = "veryfast"
crf = [20, 26, 32, 38]
abr_bpp = [0.1, 0.2]
[[config]]
name = "x265"
codec = "libx265"
preset = "ultrafast"
crf = [22, 28, 34, 40]
abr_bpp = [0.1, 0.2]
{extra_config}"#,
        corpus.display()
    )
}
