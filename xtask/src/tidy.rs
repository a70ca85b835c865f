//! Checks of the tree that `cargo test` runs: every Rust file says what it owns (`//!`), `unsafe`
//! appears only in the crates that own a foreign library (the transcode core, the libvmaf wrapper),
//! every `unsafe` block there carries a `// SAFETY:` justification, and the crates that read run
//! folders (results, reports, bdrate) depend on neither FFmpeg nor libvmaf.

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if p.is_dir() {
                if !["target", ".git", "runs"].contains(&name.as_str()) && !name.starts_with('.') {
                    rust_files(&p, out);
                }
            } else if name.ends_with(".rs") {
                out.push(p);
            }
        }
    }

    fn files() -> Vec<(String, String)> {
        let root = crate::util::project_root();
        let mut v = Vec::new();
        rust_files(&root, &mut v);
        v.sort();
        v.into_iter()
            .map(|p| {
                (
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect()
    }

    /// Files allowed to contain `unsafe`: the FFmpeg owner and the libvmaf wrapper.
    fn may_be_unsafe(path: &str) -> bool {
        path.starts_with("transcode/src/") || path == "metrics/src/vmaf/ffi.rs"
    }

    #[test]
    fn every_source_file_says_what_it_owns() {
        let missing: Vec<String> = files()
            .into_iter()
            .filter(|(p, _)| p.contains("/src/") || p.starts_with("src/"))
            .filter(|(p, _)| !p.ends_with("build.rs"))
            .filter(|(_, text)| !text.trim_start().starts_with("//!"))
            .map(|(p, _)| p)
            .collect();
        assert!(
            missing.is_empty(),
            "files without a //! comment: {missing:#?}"
        );
    }

    #[test]
    fn unsafe_code_stays_in_the_ffi_owners_and_is_justified() {
        let mut outside = Vec::new();
        let mut unjustified = Vec::new();
        for (path, text) in files() {
            if path == "xtask/src/tidy.rs" {
                continue; // this file names the patterns it looks for
            }
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                let is_unsafe_use = code.contains("unsafe {")
                    || code.contains("unsafe impl")
                    || code.contains("unsafe fn")
                    || code.contains("unsafe extern");
                if !is_unsafe_use {
                    continue;
                }
                if !may_be_unsafe(&path) {
                    outside.push(format!("{path}:{}", i + 1));
                }
                if code.contains("unsafe {") || code.contains("unsafe impl") {
                    // The justification sits on one of the few lines above (it may span lines).
                    let start = i.saturating_sub(8);
                    if !lines[start..=i].iter().any(|l| l.contains("SAFETY:")) {
                        unjustified.push(format!("{path}:{}", i + 1));
                    }
                }
            }
        }
        assert!(
            outside.is_empty(),
            "unsafe outside transcode/ and metrics/src/vmaf/ffi.rs: {outside:#?}"
        );
        assert!(
            unjustified.is_empty(),
            "unsafe without a // SAFETY: note just above: {unjustified:#?}"
        );
    }

    #[test]
    fn library_crates_forbid_or_deny_unsafe_code() {
        for lib in [
            "corpora/src/lib.rs",
            "bench-suite/src/lib.rs",
            "reports/src/lib.rs",
            "results/src/lib.rs",
            "bdrate/src/lib.rs",
            "metrics/src/lib.rs",
        ] {
            let text = std::fs::read_to_string(crate::util::project_root().join(lib)).unwrap();
            assert!(
                text.contains("#![forbid(unsafe_code)]") || text.contains("#![deny(unsafe_code)]"),
                "{lib} does not forbid unsafe code"
            );
        }
    }

    #[test]
    fn the_results_layer_links_no_codec_library_and_no_scorer() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        for krate in ["rdbench-results", "rdbench-reports", "rdbench-bdrate"] {
            let out = std::process::Command::new(&cargo)
                .current_dir(crate::util::project_root())
                .args([
                    "tree",
                    "--offline",
                    "-e",
                    "normal,build",
                    "--prefix",
                    "none",
                    "-p",
                    krate,
                ])
                .output()
                .expect("cargo tree runs");
            assert!(
                out.status.success(),
                "cargo tree -p {krate}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let tree = String::from_utf8_lossy(&out.stdout);
            assert!(tree.lines().count() > 3, "{tree}");
            let banned: Vec<&str> = tree
                .lines()
                .filter(|l| {
                    [
                        "ffmpeg",
                        "libvmaf",
                        "rdbench-transcode",
                        "rdbench-metrics",
                        "rdbench-bench-suite",
                    ]
                    .iter()
                    .any(|b| l.starts_with(b))
                })
                .collect();
            assert!(banned.is_empty(), "{krate} depends on {banned:?}");
        }
    }
}
