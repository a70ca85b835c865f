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
    assert_one_line_error(&run(&["--quality-step", "0"]), &["--quality-step"]);
    assert_one_line_error(&run(&["--scale", "blur"]), &["--scale", "`blur`"]);
    let out = rdbench(d.path(), &["ladder", "nothing.mp4", "--cache-dir", "cache"]);
    assert_one_line_error(&out, &["nothing.mp4"]);
}
