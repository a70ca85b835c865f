//! `rdbench metrics` and `rdbench bdrate` as a user runs them, good input and bad.

use crate::support::*;

fn clip(d: &std::path::Path, name: &str, size: &str, frames: u32, extra: &[&str]) {
    let mut args = vec!["-f", "lavfi", "-i"];
    let src = format!("testsrc2=size={size}:rate=25");
    args.push(&src);
    let n = frames.to_string();
    args.extend_from_slice(&["-frames:v", &n]);
    args.extend_from_slice(extra);
    args.push(name);
    ffmpeg(d, &args);
}

#[test]
fn metrics_json_has_the_documented_shape() {
    let d = tempfile::tempdir().unwrap();
    clip(d.path(), "ref.y4m", "352x288", 6, &["-pix_fmt", "yuv420p"]);
    clip(
        d.path(),
        "dis.mkv",
        "176x144",
        6,
        &["-c:v", "libx264", "-crf", "35"],
    );
    let out = rdbench(
        d.path(),
        &[
            "metrics",
            "ref.y4m",
            "dis.mkv",
            "--metrics",
            "psnr,ssim,vmaf",
            "--json",
            "--per-frame",
            "pf.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["frames"], 6);
    for key in ["vmaf", "psnr_y", "psnr_u", "psnr_v", "psnr_yuv", "ssim"] {
        let e = &v["pooled"][key];
        for field in ["mean", "harmonic_mean", "min", "p1", "p5", "p10", "stddev"] {
            assert!(e[field].is_number(), "{key}.{field} missing: {e}");
        }
    }
    assert!(v["pooled"]["psnr_y"]["global"].is_number());
    assert!(v["pooled"]["ms_ssim"].is_null(), "not requested");
    let csv = std::fs::read_to_string(d.path().join("pf.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7);
    assert!(csv.starts_with("frame,"));
    // Only PSNR: only the psnr_* keys.
    let out = rdbench(
        d.path(),
        &[
            "metrics",
            "ref.y4m",
            "dis.mkv",
            "--metrics",
            "psnr",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&String> = v["pooled"].as_object().unwrap().keys().collect();
    assert!(keys.iter().all(|k| k.starts_with("psnr_")), "{keys:?}");
}

/// The metrics beyond VMAF, PSNR and SSIM, by name: each is in the pooled output with its own
/// sequence figure where it pools otherwise than by the mean, and VMAF says which path scored.
/// Several distorted files in one run: each gets what a run of its own gives (pooled values to
/// the last digit, the alignment it searched), the per-frame CSV names each file, and a file that
/// cannot be scored is named in a one-line error and a non-zero exit after the others are printed.
#[test]
fn several_distorted_files_score_as_each_alone() {
    let d = tempfile::tempdir().unwrap();
    clip(d.path(), "ref.y4m", "176x144", 12, &["-pix_fmt", "yuv420p"]);
    for (name, crf) in [("a.mkv", "22"), ("b.mkv", "40"), ("c.mkv", "30")] {
        ffmpeg(
            d.path(),
            &["-i", "ref.y4m", "-c:v", "libx264", "-crf", crf, name],
        );
    }
    fn args<'a>(files: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["metrics", "ref.y4m"];
        a.extend_from_slice(files);
        a.extend_from_slice(&["--metrics", "vmaf,psnr", "--json", "--threads", "2"]);
        a
    }
    let json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = rdbench(
        d.path(),
        &[
            args(&["a.mkv", "b.mkv", "c.mkv"]),
            vec!["--per-frame", "pf.csv"],
        ]
        .concat(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = json(&out);
    let all = all.as_array().expect("an array for several files");
    assert_eq!(all.len(), 3);
    for (got, name) in all.iter().zip(["a.mkv", "b.mkv", "c.mkv"]) {
        let alone = rdbench(d.path(), &args(&[name]));
        assert!(alone.status.success());
        let alone = json(&alone);
        assert_eq!(got["distorted"], name);
        for key in ["frames", "pooled", "alignment", "vmaf_path"] {
            assert_eq!(got[key], alone[key], "{name}: {key}");
        }
    }
    let vmaf = |i: usize| all[i]["pooled"]["vmaf"]["mean"].as_f64().unwrap();
    assert!(vmaf(1) < vmaf(2) && vmaf(2) < vmaf(0), "the encodes differ");
    let csv = std::fs::read_to_string(d.path().join("pf.csv")).unwrap();
    assert!(csv.starts_with("distorted,frame,"), "{csv}");
    assert_eq!(csv.lines().count(), 1 + 3 * 12);
    assert_eq!(csv.lines().filter(|l| l.starts_with("b.mkv,")).count(), 12);

    // A missing file: the others are printed, its error names it, the exit is non-zero.
    let out = rdbench(d.path(), &args(&["a.mkv", "gone.mkv"]));
    assert!(!out.status.success());
    let all = json(&out);
    assert!(all[0]["pooled"]["vmaf"]["mean"].is_number());
    assert!(
        all[1]["error"].as_str().unwrap().contains("gone.mkv"),
        "{all}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.contains("gone.mkv") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn every_named_metric_is_computed_and_pooled_its_own_way() {
    let d = tempfile::tempdir().unwrap();
    clip(d.path(), "ref.y4m", "320x240", 5, &["-pix_fmt", "yuv420p"]);
    clip(
        d.path(),
        "dis.mkv",
        "320x240",
        5,
        &["-c:v", "libx264", "-crf", "38"],
    );
    let out = rdbench(
        d.path(),
        &[
            "metrics",
            "ref.y4m",
            "dis.mkv",
            "--metrics",
            "vmaf,xpsnr,ssimulacra2,cambi,ciede2000,psnr-hvs,apsnr,ms-ssim-db",
            "--json",
            "--per-frame",
            "pf.csv",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let p = &v["pooled"];
    let num = |key: &str, field: &str| {
        p[key][field]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}.{field} missing: {p}"))
    };
    // VMAF at 320 wide: a multiple of 16 and big enough, so the native kernels scored it, with
    // libvmaf beside them for the metrics rdbench has no kernel of its own for.
    assert_eq!(v["vmaf_path"], "native, libvmaf for cambi, ciede, psnr_hvs");
    for key in [
        "xpsnr_y",
        "xpsnr_u",
        "xpsnr_v",
        "xpsnr_yuv",
        "ssimulacra2",
        "cambi",
        "ciede2000",
        "psnr_hvs",
        "psnr_hvs_y",
        "apsnr_y",
        "ms_ssim_db",
        "psnr_y",
        "ms_ssim",
    ] {
        assert!(num(key, "mean").is_finite(), "{key}");
    }
    // APSNR is the PSNR of the mean MSE: never above the mean of the per-frame PSNRs.
    assert_eq!(num("apsnr_y", "sequence"), num("psnr_y", "global"));
    assert!(num("apsnr_y", "sequence") <= num("psnr_y", "mean") + 1e-9);
    // MS-SSIM in dB of the pooled MS-SSIM.
    let db = -10.0 * (1.0 - num("ms_ssim", "mean")).log10();
    assert!((num("ms_ssim_db", "sequence") - db).abs() < 1e-9);
    // XPSNR: the filter's pooling, and the 6:1:1 weighting of the planes.
    let w = (6.0 * num("xpsnr_y", "sequence")
        + num("xpsnr_u", "sequence")
        + num("xpsnr_v", "sequence"))
        / 8.0;
    assert!((num("xpsnr_yuv", "sequence") - w).abs() < 1e-9);
    assert!((20.0..60.0).contains(&num("xpsnr_y", "sequence")));
    // An x264 CRF 38 encode is visibly worse than the source: SSIMULACRA2 below 90.
    assert!(num("ssimulacra2", "mean") < 90.0);
    let csv = std::fs::read_to_string(d.path().join("pf.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    for col in ["xpsnr_y", "ssimulacra2", "cambi", "ciede2000", "psnr_hvs"] {
        assert!(header.split(',').any(|c| c == col), "{col} in {header}");
    }
    // CAMBI alone needs no VMAF model: libvmaf computes it.
    let out = rdbench(
        d.path(),
        &[
            "metrics",
            "ref.y4m",
            "dis.mkv",
            "--metrics",
            "cambi",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["pooled"]["cambi"]["mean"].is_number(), "{v}");
    assert!(v["pooled"]["vmaf"].is_null(), "{v}");
    // Too small for CAMBI: an error that says so, not a missing column.
    clip(
        d.path(),
        "small.y4m",
        "176x144",
        2,
        &["-pix_fmt", "yuv420p"],
    );
    let out = rdbench(
        d.path(),
        &["metrics", "small.y4m", "small.y4m", "--metrics", "cambi"],
    );
    assert_one_line_error(&out, &["cambi", "176x144", "320"]);
    // The oracle path on request.
    let out = rdbench(
        d.path(),
        &[
            "metrics",
            "ref.y4m",
            "dis.mkv",
            "--metrics",
            "vmaf",
            "--libvmaf",
            "--json",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["vmaf_path"], "libvmaf (native kernels turned off)");
}

#[test]
fn metrics_bad_inputs_get_one_line_errors() {
    let d = tempfile::tempdir().unwrap();
    clip(d.path(), "ref.y4m", "160x120", 6, &["-pix_fmt", "yuv420p"]);
    clip(d.path(), "short.mkv", "160x120", 4, &["-c:v", "libx264"]);
    clip(
        d.path(),
        "ten.mkv",
        "160x120",
        6,
        &["-c:v", "libx265", "-pix_fmt", "yuv420p10le"],
    );
    std::fs::write(d.path().join("text.mp4"), "not a video").unwrap();
    assert_one_line_error(
        &rdbench(
            d.path(),
            &[
                "metrics",
                "ref.y4m",
                "short.mkv",
                "--metrics",
                "psnr",
                "--no-align",
            ],
        ),
        &["frame counts differ", "6", "4", "--frames"],
    );
    // Aligned (the default), the reference frames past the distorted end are left out and said.
    let short = rdbench(
        d.path(),
        &["metrics", "ref.y4m", "short.mkv", "--metrics", "psnr"],
    );
    assert!(
        short.status.success(),
        "{}",
        String::from_utf8_lossy(&short.stderr)
    );
    assert!(
        String::from_utf8_lossy(&short.stdout).contains(
            "4 reference frames scored: 4 matched, 0 repeated, 0 distorted frames skipped; 2 reference frames after the end of the distorted stream not scored"
        ),
        "{}",
        String::from_utf8_lossy(&short.stdout)
    );
    let ok = rdbench(
        d.path(),
        &[
            "metrics",
            "ref.y4m",
            "short.mkv",
            "--metrics",
            "psnr",
            "--frames",
            "4",
            "--json",
        ],
    );
    assert!(
        ok.status.success(),
        "a prefix compares: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // Another bit depth is converted, not refused.
    let ten = rdbench(
        d.path(),
        &["metrics", "ref.y4m", "ten.mkv", "--metrics", "psnr"],
    );
    assert!(
        ten.status.success(),
        "{}",
        String::from_utf8_lossy(&ten.stderr)
    );
    assert!(
        String::from_utf8_lossy(&ten.stdout).contains("distorted stream converted from 10-bit"),
        "{}",
        String::from_utf8_lossy(&ten.stdout)
    );
    assert_one_line_error(
        &rdbench(
            d.path(),
            &[
                "metrics",
                "ref.y4m",
                "ref.y4m",
                "--metrics",
                "psnr",
                "--feature",
                "cambi",
            ],
        ),
        &["--feature cambi", "add vmaf to --metrics"],
    );
    assert_one_line_error(
        &rdbench(
            d.path(),
            &["metrics", "ref.y4m", "ref.y4m", "--metrics", "ms-ssim"],
        ),
        &["MS-SSIM", "160"],
    );
    assert_one_line_error(
        &rdbench(d.path(), &["metrics", "ref.y4m", "text.mp4"]),
        &["text.mp4", "not a media file"],
    );
    assert_one_line_error(
        &rdbench(d.path(), &["metrics", "ref.y4m", "gone.mkv"]),
        &["gone.mkv", "no such file"],
    );
    assert_one_line_error(
        &rdbench(
            d.path(),
            &["metrics", "ref.y4m", "ref.y4m", "--metrics", "psnr,blur"],
        ),
        &["--metrics", "blur"],
    );
}

#[test]
fn bdrate_cli_answers_and_names_bad_cells() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("a.csv"),
        "bitrate_kbps,vmaf\n1000,80\n2000,88\n4000,93\n8000,96\n",
    )
    .unwrap();
    std::fs::write(
        d.path().join("b.csv"),
        "bitrate_kbps,vmaf\n820,80\n1640,88\n3280,93\n6560,96\n",
    )
    .unwrap();
    let out = rdbench(d.path(), &["bdrate", "a.csv", "b.csv", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["method"], "pchip");
    assert!((v["bd_rate_percent"].as_f64().unwrap() + 18.0).abs() < 1e-9);
    // No overlap: a null result with a reason, still exit 0.
    std::fs::write(
        d.path().join("far.csv"),
        "bitrate_kbps,vmaf\n100,20\n200,30\n400,40\n800,50\n",
    )
    .unwrap();
    let out = rdbench(d.path(), &["bdrate", "a.csv", "far.csv", "--json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["bd_rate_percent"].is_null() && v["reason"].is_string(),
        "{v}"
    );
    std::fs::write(
        d.path().join("bad.csv"),
        "bitrate_kbps,vmaf\n1000,80\n2000,eighty-eight\n",
    )
    .unwrap();
    assert_one_line_error(
        &rdbench(d.path(), &["bdrate", "a.csv", "bad.csv"]),
        &["bad.csv:3", "vmaf", "eighty-eight"],
    );
    std::fs::write(
        d.path().join("nan.csv"),
        "bitrate_kbps,vmaf\n1000,80\n2000,NaN\n",
    )
    .unwrap();
    assert_one_line_error(
        &rdbench(d.path(), &["bdrate", "a.csv", "nan.csv"]),
        &["nan.csv:3", "vmaf"],
    );
    assert_one_line_error(
        &rdbench(d.path(), &["bdrate", "a.csv", "b.csv", "--metric", "ssim"]),
        &["ssim"],
    );
}
