//! `rdbench ladder`: the grid of a generated clip, its hull and rungs, and the job it writes,
//! run through `rdbench transcode` and measured: each rung's bitrate and VMAF land within 5% of
//! the hull point it was chosen from.

use serde_json::Value;

use crate::support::{assert_one_line_error, ffmpeg, heavy, rdbench};

fn json(out: &std::process::Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_ladder_job_encodes_what_the_hull_promised() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30:duration=2,noise=alls=8:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
            "src.mp4",
        ],
    );
    let r = json(&rdbench(
        d.path(),
        &[
            "ladder",
            "src.mp4",
            "--cache-dir",
            "cache",
            "--preset",
            "veryfast",
            "--heights",
            "180,120,90",
            "--crf",
            "22,30,38",
            "--quality-step",
            "6",
            "--job",
            "job.toml",
            "--json",
        ],
    ));
    assert_eq!(r["grid"].as_array().unwrap().len(), 9);
    let hull = r["hull"].as_array().unwrap();
    // Ascending bitrate and quality along the hull.
    for w in hull.windows(2) {
        assert!(w[1]["kbps"].as_f64() > w[0]["kbps"].as_f64());
        assert!(w[1]["vmaf"].as_f64() > w[0]["vmaf"].as_f64());
    }
    let rungs = r["rungs"].as_array().unwrap();
    assert!(!rungs.is_empty());
    assert!(rungs.iter().all(|x| hull.contains(&x["encode"])));
    // The job runs through the core; each output is measured against its promise.
    let out = rdbench(d.path(), &["transcode", "job.toml"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for rung in rungs {
        let e = &rung["encode"];
        let name = format!(
            "job_{}p_{:.0}k.mp4",
            e["height"],
            e["kbps"].as_f64().unwrap()
        );
        let probe = json(&rdbench(d.path(), &["probe", &name, "--json"]));
        let v = &probe["streams"].as_array().unwrap()[0];
        assert_eq!(v["height"], e["height"], "{name}");
        let kbps = v["bitrate_kbps"].as_f64().unwrap();
        let promised = e["kbps"].as_f64().unwrap();
        assert!(
            (kbps / promised - 1.0).abs() <= 0.05,
            "{name}: {kbps} vs {promised}"
        );
        let m = json(&rdbench(
            d.path(),
            &[
                "metrics",
                "src.mp4",
                &name,
                "--metrics",
                "vmaf",
                "--scale",
                "lanczos",
                "--json",
            ],
        ));
        let vmaf = m["pooled"]["vmaf"]["mean"].as_f64().unwrap();
        let promised = e["vmaf"].as_f64().unwrap();
        assert!(
            (vmaf / promised - 1.0).abs() <= 0.05,
            "{name}: vmaf {vmaf} vs {promised}"
        );
    }
}

/// A reference ladder given as templates is encoded and scored like the grid; the per-title
/// hull against it has a BD-rate, the text output says it, and the chart is drawn.
#[test]
fn the_ladder_is_measured_against_a_reference_ladder_and_charted() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30:duration=1,noise=alls=8:allf=t",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
            "src.mp4",
        ],
    );
    // A one-size-fits-all ladder: every rung at 180p, at fixed bitrates; a 1080p rung the
    // input cannot feed is left out.
    std::fs::write(
        d.path().join("fixed.toml"),
        "[template.low]\nheight = 90\nrc = { mode = \"abr\", bitrate_kbps = 150 }\n\
         [template.mid]\nheight = 180\nrc = { mode = \"abr\", bitrate_kbps = 400 }\n\
         [template.high]\nheight = 180\nrc = { mode = \"abr\", bitrate_kbps = 1200 }\n\
         [template.full]\nheight = 1080\nrc = { mode = \"abr\", bitrate_kbps = 6000 }\n",
    )
    .unwrap();
    let args = [
        "ladder",
        "src.mp4",
        "--cache-dir",
        "cache",
        "--preset",
        "veryfast",
        "--heights",
        "180,90",
        "--crf",
        "20,28,36,44",
        "--reference",
        "fixed.toml",
        "--chart",
        "charts/hull",
    ];
    let r = json(&rdbench(d.path(), &[&args[..], &["--json"]].concat()));
    let reference = &r["reference"];
    let rungs = reference["rungs"].as_array().unwrap();
    assert_eq!(
        rungs
            .iter()
            .map(|x| x["name"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["low", "mid", "high"],
        "sorted by measured bitrate"
    );
    assert_eq!(rungs[0]["height"], 90);
    let skipped = reference["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].as_str().unwrap().contains("full"), "{skipped:?}");
    let bd = reference["bd_hull"]["bd_rate_percent"].as_f64();
    assert!(bd.is_some_and(f64::is_finite), "{reference}");
    for ext in ["svg", "png"] {
        let p = d.path().join("charts").join(format!("hull.{ext}"));
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 1000)
                .unwrap_or(false),
            "{}",
            p.display()
        );
    }
    // The text output says the same, from the cache.
    let out = rdbench(d.path(), &args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("reference ladder (") && text.contains("left out: full"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "BD-rate (VMAF) of the per-title hull against the reference: {:+.2}%",
            bd.unwrap()
        )),
        "{text}"
    );
}

/// A grid of constant-quantiser points: the encodes and the job's rungs are QP encodes.
#[test]
fn a_qp_grid_gives_qp_rungs() {
    let _g = heavy();
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=192x108:rate=10:duration=1",
            "-c:v",
            "libx264",
            "-crf",
            "10",
            "v.mkv",
        ],
    );
    let r = json(&rdbench(
        d.path(),
        &[
            "ladder",
            "v.mkv",
            "--cache-dir",
            "cache",
            "--preset",
            "veryfast",
            "--heights",
            "108,72",
            "--qp",
            "24,36,48",
            "--reference",
            "none",
            "--job",
            "job.toml",
            "--json",
        ],
    ));
    let grid = r["grid"].as_array().unwrap();
    assert_eq!(grid.len(), 6);
    assert!(grid.iter().all(|g| g["mode"] == "qp"), "{grid:?}");
    // A higher QP spends fewer bits at the same height.
    let kbps = |h: u64, qp: f64| {
        grid.iter()
            .find(|g| g["height"] == h && g["value"] == qp)
            .unwrap()["kbps"]
            .as_f64()
            .unwrap()
    };
    assert!(kbps(108, 24.0) > kbps(108, 48.0));
    assert!(r["reference"].is_null());
    let job = std::fs::read_to_string(d.path().join("job.toml")).unwrap();
    assert!(job.contains("mode = \"qp\""), "{job}");
    assert!(!job.contains("mode = \"crf\""), "{job}");
}

#[test]
fn bad_ladder_arguments_get_one_line() {
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x90:rate=10:duration=1",
            "-c:v",
            "libx264",
            "v.mkv",
        ],
    );
    let run = |extra: &[&str]| {
        let mut a = vec!["ladder", "v.mkv", "--cache-dir", "cache"];
        a.extend_from_slice(extra);
        rdbench(d.path(), &a)
    };
    assert_one_line_error(
        &run(&["--heights", "1080,90"]),
        &["--heights", "1080", "160x90"],
    );
    assert_one_line_error(&run(&["--crf", "99"]), &["--crf", "99", "out of range"]);
    assert_one_line_error(&run(&["--qp", "99"]), &["--qp", "99", "out of range"]);
    assert_one_line_error(&run(&["--quality-step", "0"]), &["--quality-step"]);
    assert_one_line_error(&run(&["--scale", "blur"]), &["--scale", "`blur`"]);
    assert_one_line_error(
        &run(&["--reference", "missing.toml"]),
        &["--reference", "missing.toml"],
    );
    std::fs::write(d.path().join("norc.toml"), "[template.low]\nheight = 90\n").unwrap();
    assert_one_line_error(
        &run(&["--reference", "norc.toml"]),
        &["--reference", "norc.toml", "`low`", "`rc`"],
    );
    std::fs::write(d.path().join("bad.toml"), "[template.low\n").unwrap();
    assert_one_line_error(&run(&["--reference", "bad.toml"]), &["bad.toml"]);
    let out = rdbench(d.path(), &["ladder", "nothing.mp4", "--cache-dir", "cache"]);
    assert_one_line_error(&out, &["nothing.mp4"]);
}
