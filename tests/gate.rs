//! `rdbench gate` proven on real regressions: a small suite (two generated sequences, x264
//! medium, 4 CRF points, 3 repetitions so that timings carry intervals) is the baseline; each
//! candidate runs in a folder of its own with its own cache, as the CI example runs them.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::*;

const SEQUENCES: [(&str, &str, &str); 2] = [("zoom", "zoom", "C"), ("handheld", "handheld", "B")];

/// A corpus manifest of `sequences` (id, generator, class) at 320x180, 30 frames.
fn corpus(sequences: &[(&str, &str, &str)]) -> String {
    let mut s = String::from("name = \"tiny\"\n");
    for (id, generator, class) in sequences {
        s.push_str(&format!(
            "[[sequence]]\nid = \"{id}\"\nsource = {{ generator = \"{generator}\", seed = 5 }}\nclass = \"{class}\"\nwidth = 320\nheight = 180\nfps = 30\nframes = 30\nbit_depth = 8\nlicence = \"CC0-1.0\"\n"
        ));
    }
    s
}

/// The suite, with x264's preset, extra parameters and CRF points.
fn suite(preset: &str, params: &str, crf: &str) -> String {
    let params = if params.is_empty() {
        String::new()
    } else {
        format!("params = \"{params}\"\n")
    };
    format!(
        "name = \"gate\"\ncorpora = [\"tiny.toml\"]\nmetrics = [\"vmaf\", \"psnr\", \"ssim\"]\nanchor = \"x264\"\nrepetitions = 3\njobs = 1\n\
         [[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"{preset}\"\nthreads = 1\n{params}crf = [{crf}]\n"
    )
}

/// A folder of its own for one side: its suite, its corpus manifest, its runs and its cache.
/// Runs the suite there and returns the run folder.
fn side(root: &Path, name: &str, suite_text: &str, sequences: &[(&str, &str, &str)]) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("suite.toml"), suite_text).unwrap();
    std::fs::write(dir.join("tiny.toml"), corpus(sequences)).unwrap();
    let out = rdbench(
        &dir,
        &[
            "bench",
            "--suite",
            "suite.toml",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--run-id",
            "run",
        ],
    );
    assert!(
        out.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.join("runs/run")
}

fn gate(root: &Path, baseline: &Path, candidate: &Path) -> (Output, String) {
    let md = root.join("gate.md");
    let _ = std::fs::remove_file(&md);
    let out = rdbench(
        root,
        &[
            "gate",
            baseline.to_str().unwrap(),
            candidate.to_str().unwrap(),
            "--out",
            md.to_str().unwrap(),
        ],
    );
    let text = std::fs::read_to_string(&md).unwrap_or_default();
    (out, text)
}

/// The table row of `check` for x264 (its cells split).
fn row<'a>(md: &'a str, check: &str) -> Vec<&'a str> {
    md.lines()
        .find(|l| l.contains(&format!(" | x264 | {check} |")))
        .unwrap_or_else(|| panic!("no `{check}` row in:\n{md}"))
        .split(" | ")
        .collect()
}

#[test]
fn the_gate_passes_a_rerun_and_fails_real_regressions() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let root = d.path();
    let crf = "18, 23, 28, 33";
    let base = side(root, "base", &suite("medium", "", crf), &SEQUENCES);

    // The same suite rerun, nothing cached: passes, every figure judged.
    let same = side(root, "same", &suite("medium", "", crf), &SEQUENCES);
    let (out, md) = gate(root, &base, &same);
    assert!(
        out.status.success(),
        "{md}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(md.starts_with("### rdbench gate: passed\n"), "{md}");
    assert!(row(&md, "jobs")[0].ends_with("ok"), "{md}");
    assert!(
        row(&md, "jobs")[6].starts_with("24 of 24 jobs finished in both runs"),
        "{md}"
    );
    for metric in ["vmaf", "psnr_y", "ssim"] {
        let r = row(&md, &format!("BD-rate {metric} (crf)"));
        assert!(r[0].ends_with("ok") && r[3] != "n/a", "{md}");
    }
    // Timings are judged on the interval their three repetitions give.
    for check in ["encoder CPU", "decoder CPU"] {
        let r = row(&md, check);
        assert!(r[0].ends_with("ok") && r[4].starts_with('['), "{md}");
        assert!(
            r[6].contains("over 8 encodes; 3 repetitions"),
            "{check}: {md}"
        );
    }

    // x264 at a faster preset under the same name: more bits for the same quality.
    let faster = side(root, "faster", &suite("ultrafast", "", crf), &SEQUENCES);
    let (out, md) = gate(root, &base, &faster);
    assert_eq!(out.status.code(), Some(1), "{md}");
    assert!(md.starts_with("### rdbench gate: FAILED"), "{md}");
    for metric in ["vmaf", "psnr_y"] {
        let r = row(&md, &format!("BD-rate {metric} (crf)"));
        assert_eq!(r[0], "| **FAIL**", "{md}");
        let pct: f64 = r[3].trim_end_matches('%').parse().unwrap();
        assert!(pct > 5.0, "ultrafast should cost well over 5% bits: {pct}");
    }
    assert_one_line_error(&out, &["gate failed", "checks broken or not judged"]);

    // An encoder option the suite accepts but the encoder rejects at open: every job fails.
    let broken = side(
        root,
        "broken",
        &suite("medium", "nosuchparam=1", crf),
        &SEQUENCES,
    );
    let (out, md) = gate(root, &base, &broken);
    assert_eq!(out.status.code(), Some(1), "{md}");
    let r = row(&md, "jobs");
    assert_eq!(r[0], "| **NOT JUDGED**", "{md}");
    assert!(
        r[6].starts_with("not judged: 24 of 24 x264 jobs failed: ") && r[6].contains("nosuchparam"),
        "{md}"
    );
    for check in ["BD-rate vmaf (crf)", "encoder CPU"] {
        assert_eq!(row(&md, check)[0], "| **NOT JUDGED**", "{md}");
    }
    assert!(
        !md.contains("| ok |"),
        "nothing of a failed candidate passes: {md}"
    );

    // The candidate's corpus lost a sequence.
    let missing = side(root, "missing", &suite("medium", "", crf), &SEQUENCES[..1]);
    let (out, md) = gate(root, &base, &missing);
    assert_eq!(out.status.code(), Some(1), "{md}");
    let r = row(&md, "jobs");
    assert_eq!(r[0], "| **NOT JUDGED**", "{md}");
    assert!(
        r[6].contains("sequence handheld is missing from the candidate (12 jobs)"),
        "{md}"
    );

    // Runs of two different suites cannot be compared at all.
    let other = side(
        root,
        "other",
        &suite("medium", "", "22, 28, 34, 40"),
        &SEQUENCES[..1],
    );
    let (out, md) = gate(root, &base, &other);
    assert!(md.is_empty(), "no table for runs that cannot be compared");
    assert_one_line_error_with(
        &out,
        2,
        &[
            "cannot compare",
            "ran another suite",
            "configs.x264.crf",
            "[18.0,23.0,28.0,33.0]",
        ],
    );
    // So is a folder that is not a run.
    let (out, _) = gate(root, &base, root);
    assert_one_line_error_with(&out, 2, &["cannot compare", "not an rdbench run folder"]);
}

#[test]
fn a_rules_file_that_does_not_parse_is_named_with_its_field() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("rules.toml"), "bd_rate_max_pct = \"half\"\n").unwrap();
    let out = rdbench(d.path(), &["gate", "a", "b", "--rules", "rules.toml"]);
    assert_one_line_error_with(&out, 2, &["rules.toml", "line 1", "bd_rate_max_pct"]);
    std::fs::write(
        d.path().join("rules.toml"),
        "[[allow]]\ncheck = \"speed\"\nreason = \"x\"\n",
    )
    .unwrap();
    let out = rdbench(d.path(), &["gate", "a", "b", "--rules", "rules.toml"]);
    assert_one_line_error_with(&out, 2, &["rules.toml", "allow[0].check", "speed"]);
}
