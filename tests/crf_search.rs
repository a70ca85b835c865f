//! `rdbench crf-search`: a VMAF target reached on generated content by x264 and SVT-AV1, the
//! full encode measured against it, probes reused by a later search, samples starting at scene
//! cuts, and one-line errors for what cannot work.

use std::path::Path;

use serde_json::Value;

use crate::support::{assert_one_line_error, ffmpeg, heavy, rdbench};

/// A 3-second 480x270 clip with moving detail and grain, compressed nearly losslessly.
fn clip(dir: &Path) -> &'static str {
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=480x270:rate=30:duration=3,noise=alls=10:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "10",
            "-pix_fmt",
            "yuv420p",
            "clip.mp4",
        ],
    );
    "clip.mp4"
}

fn search(dir: &Path, args: &[&str]) -> Value {
    let mut all = vec!["crf-search", "--cache-dir", "cache", "--json"];
    all.extend_from_slice(args);
    let out = rdbench(dir, &all);
    assert!(
        out.status.success(),
        "crf-search {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("--json prints JSON")
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// The acceptance: VMAF 90 within +-0.5 measured on the full encode, in at most 6
/// probes, on x264 (fractional CRF) and SVT-AV1 (whole CRFs).
#[test]
fn vmaf_90_is_reached_by_x264_and_svt_av1_within_half_a_point() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    let input = clip(d.path());
    for (codec, preset, out) in [
        ("libx264", "veryfast", "x264.mp4"),
        ("libsvtav1", "12", "svt.mkv"),
    ] {
        let r = search(
            d.path(),
            &[
                input, "--codec", codec, "--preset", preset, "--target", "vmaf=90", "--encode", out,
            ],
        );
        let probes = r["probes"].as_array().unwrap();
        assert!(probes.len() <= 6, "{codec}: {} probes", probes.len());
        // The input is short: the one sample is all of it.
        assert_eq!(r["samples"].as_array().unwrap().len(), 1, "{codec}");
        assert_eq!(r["samples"][0]["frames"], 90, "{codec}");
        let full = &r["full"];
        let measured = f(&full["score"]);
        assert!(
            (measured - 90.0).abs() <= 0.5,
            "{codec}: the full encode scores {measured}"
        );
        assert!(f(&r["answer"]["score"]) >= 90.0, "{codec}");
        // The file exists, holds what was measured, and the prediction from the whole-input
        // sample is exact.
        let size = std::fs::metadata(d.path().join(out)).unwrap().len();
        assert!(size >= full["bytes"].as_u64().unwrap(), "{codec}");
        // The prediction from the whole-input sample is the full encode's size, to the byte:
        // the probes and the full encode are the same encode, repeated in one process (which
        // x264's AVX-512 code would not reproduce; the core runs libx264 without it).
        assert_eq!(
            full["bytes"], r["answer"]["predicted_bytes"],
            "{codec}: the full encode against its prediction"
        );
        // Every probe's CRF is on the encoder's grid: quarter steps for x264, whole for SVT-AV1.
        for p in probes {
            let crf = f(&p["crf"]);
            let grid = if codec == "libx264" { 4.0 } else { 1.0 };
            assert_eq!((crf * grid).fract(), 0.0, "{codec}: crf {crf}");
        }
        if codec == "libsvtav1" {
            // Whole CRFs: the answer is the highest one reaching 90, so the next one misses.
            let answer = f(&r["answer"]["crf"]);
            if r["stop"] == "adjacent" {
                assert!(probes
                    .iter()
                    .any(|p| f(&p["crf"]) == answer + 1.0 && f(&p["score"]) < 90.0));
            }
        }
    }
    // A later search on the same input with another target finds its probes in the cache.
    let r = search(
        d.path(),
        &[
            input, "--codec", "libx264", "--preset", "veryfast", "--target", "psnr=38",
        ],
    );
    assert_eq!(
        r["probes"][0]["cached"], true,
        "the first probe (the range's middle) was made by the VMAF search"
    );
    assert_eq!(r["metric"], "psnr");
}

/// An encoder program as the probed encoder: x264's own CLI, fed by the core, on a half-CRF
/// grid; the full encode runs the same program.
#[test]
fn an_encoder_program_is_searched_like_a_codec() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    let input = clip(d.path());
    let program = "x264 --preset veryfast --crf {crf} --threads {threads} -o {output} {input}";
    let r = search(
        d.path(),
        &[
            input,
            "--command",
            program,
            "--command-version",
            "x264 --version",
            "--output-format",
            "h264",
            "--min-crf",
            "10",
            "--max-crf",
            "51",
            "--crf-step",
            "0.5",
            "--target",
            "vmaf=90",
            "--encode",
            "program.mkv",
        ],
    );
    assert_eq!(r["encoder"], "external:x264");
    let probes = r["probes"].as_array().unwrap();
    assert!(probes.len() <= 6, "{} probes", probes.len());
    assert!(probes.iter().all(|p| (f(&p["crf"]) * 2.0).fract() == 0.0));
    let measured = f(&r["full"]["score"]);
    assert!((measured - 90.0).abs() <= 0.5, "{measured}");
    // Without a range, rdbench cannot guess a program's scale.
    let out = rdbench(
        d.path(),
        &[
            "crf-search",
            "--cache-dir",
            "cache",
            input,
            "--command",
            program,
            "--output-format",
            "h264",
            "--target",
            "vmaf=90",
        ],
    );
    assert_one_line_error(&out, &["--min-crf/--max-crf", "external:x264", "give both"]);
    let out = rdbench(
        d.path(),
        &[
            "crf-search",
            "--cache-dir",
            "cache",
            input,
            "--command",
            program,
            "--min-crf",
            "10",
            "--max-crf",
            "51",
            "--target",
            "vmaf=90",
        ],
    );
    assert_one_line_error(&out, &["--output-format", "missing"]);
}

#[test]
fn samples_of_a_longer_input_start_at_its_scene_cuts() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    // 125 frames of one scene, then 55 of another: the second sample's place (frames 120-135)
    // holds the cut at 125.
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30,trim=end_frame=125",
            "-f",
            "lavfi",
            "-i",
            "smptebars=size=320x180:rate=30,trim=end_frame=55",
            "-filter_complex",
            "[0][1]concat=n=2:v=1:a=0",
            "-c:v",
            "libx264",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
            "scenes.mkv",
        ],
    );
    let r = search(
        d.path(),
        &[
            "scenes.mkv",
            "--codec",
            "libx264",
            "--preset",
            "ultrafast",
            "--target",
            "psnr=40",
            "--samples",
            "2",
            "--sample-seconds",
            "1",
            "--tolerance",
            "1",
        ],
    );
    let samples = r["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2, "{samples:?}");
    assert_eq!(samples[0]["start"], 30);
    assert_eq!(
        samples[1]["start"], 125,
        "the second sample starts at the cut"
    );
    assert!(samples.iter().all(|s| s["frames"] == 30));
    // 60 sampled frames predict the 180-frame encode: three times the samples' bytes.
    let a = &r["answer"];
    let ratio = f(&a["predicted_bytes"]) / f(&a["sample_bytes"]);
    assert!((ratio - 3.0).abs() < 1e-6, "{ratio}");
}

#[test]
fn a_target_no_crf_reaches_names_the_best_crf() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    let input = clip(d.path());
    let out = rdbench(
        d.path(),
        &[
            "crf-search",
            "--cache-dir",
            "cache",
            input,
            "--codec",
            "libx264",
            "--preset",
            "ultrafast",
            "--min-crf",
            "40",
            "--max-crf",
            "51",
            "--target",
            "vmaf=95",
        ],
    );
    assert_one_line_error(
        &out,
        &[
            "no crf in 40-51 reaches vmaf mean 95",
            "the best is crf 40 with",
        ],
    );
}

#[test]
fn bad_arguments_get_one_line_naming_them() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("notes.mp4"), "not a video").unwrap();
    let input = clip(d.path());
    let cases: [(&[&str], &[&str]); 7] = [
        (
            &["--target", "vmaf=120"],
            &["--target", "vmaf 120", "(0, 100]"],
        ),
        (&["--target", "vmaf"], &["--target", "METRIC=VALUE"]),
        (
            &["--target", "bogus=3"],
            &["--target", "unknown metric `bogus`"],
        ),
        (
            &["--target", "vmaf=90", "--stat", "p7"],
            &["--stat", "`p7`"],
        ),
        (
            &["--target", "vmaf=90", "--preset", "warp"],
            &["--preset", "`warp` is not a libx264 preset"],
        ),
        (
            &["--target", "vmaf=90", "--min-crf", "30", "--max-crf", "20"],
            &["--min-crf/--max-crf", "30-20"],
        ),
        (
            &["--target", "vmaf=90", "--max-crf", "70"],
            &["--min-crf/--max-crf", "70", "out of range"],
        ),
    ];
    for (extra, needles) in cases {
        let mut args = vec![
            "crf-search",
            "--cache-dir",
            "cache",
            input,
            "--codec",
            "libx264",
        ];
        args.extend_from_slice(extra);
        assert_one_line_error(&rdbench(d.path(), &args), needles);
    }
    let out = rdbench(
        d.path(),
        &[
            "crf-search",
            "--cache-dir",
            "cache",
            "notes.mp4",
            "--codec",
            "libx264",
            "--target",
            "vmaf=90",
        ],
    );
    assert_one_line_error(&out, &["notes.mp4"]);
    let out = rdbench(
        d.path(),
        &[
            "crf-search",
            "--cache-dir",
            "cache",
            "missing.mp4",
            "--codec",
            "libx264",
            "--target",
            "vmaf=90",
        ],
    );
    assert_one_line_error(&out, &["missing.mp4"]);
}
