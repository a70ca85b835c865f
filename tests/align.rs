//! `rdbench metrics` aligning a distorted file with its reference: a known temporal offset
//! either way, known dropped frames and a half-rate copy, each checked for the alignment it
//! reports and for a score equal to that of the correctly aligned pair (built with FFmpeg and
//! compared frame by frame with `--no-align`).

use std::path::Path;

use crate::support::*;

fn metrics(dir: &Path, reference: &str, distorted: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "metrics",
        reference,
        distorted,
        "--metrics",
        "psnr",
        "--json",
    ];
    args.extend_from_slice(extra);
    let out = rdbench(dir, &args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn psnr(v: &serde_json::Value) -> f64 {
    v["pooled"]["psnr_y"]["mean"].as_f64().unwrap()
}

/// A reference of 60 distinct frames and a second, unrelated source.
fn sources(dir: &Path) {
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30,trim=end_frame=60",
            "-pix_fmt",
            "yuv420p",
            "ref.y4m",
        ],
    );
}

/// Decodes `input` with FFmpeg through `filter` into a Y4M file: the correctly aligned frames.
fn decoded(dir: &Path, input: &str, filter: &str, out: &str) {
    ffmpeg(
        dir,
        &["-i", input, "-vf", filter, "-pix_fmt", "yuv420p", out],
    );
}

/// An x264 encode (`x264_args`) of `lead` frames of another picture followed by the reference:
/// a distorted file that starts `lead` frames late.
fn late_copy(dir: &Path, lead: u32, x264_args: &[&str], out: &str) {
    let other = format!("testsrc=size=320x180:rate=30,trim=end_frame={lead},format=yuv420p");
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        &other,
        "-i",
        "ref.y4m",
        "-filter_complex",
        "[0:v][1:v]concat=n=2:v=1[v]",
        "-map",
        "[v]",
        "-c:v",
        "libx264",
    ];
    args.extend_from_slice(x264_args);
    args.push(out);
    ffmpeg(dir, &args);
}

#[test]
fn a_known_offset_is_found_either_way() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    sources(dir);
    // Early: the distorted file lacks the reference's first 5 frames.
    ffmpeg(
        dir,
        &[
            "-i",
            "ref.y4m",
            "-vf",
            "trim=start_frame=5,setpts=PTS-STARTPTS",
            "-c:v",
            "libx264",
            "-crf",
            "26",
            "early.mkv",
        ],
    );
    let got = metrics(dir, "ref.y4m", "early.mkv", &[]);
    let a = &got["alignment"];
    assert_eq!(
        (a["offset"].as_i64(), a["searched"].as_bool()),
        (Some(-5), Some(true)),
        "{a}"
    );
    assert_eq!(got["frames"].as_u64(), Some(55));
    decoded(
        dir,
        "ref.y4m",
        "trim=start_frame=5,setpts=PTS-STARTPTS",
        "ref_from5.y4m",
    );
    let truth = metrics(dir, "ref_from5.y4m", "early.mkv", &["--no-align"]);
    assert!((psnr(&got) - psnr(&truth)).abs() < 1e-9, "{got} vs {truth}");
    // VMAF on two threads decodes on the scoring thread, the search made while scoring
    // included: the same alignment and PSNR as with a decoder thread per file.
    let vmaf = ["--metrics", "vmaf,psnr", "--threads", "2"];
    let inline = metrics(dir, "ref.y4m", "early.mkv", &vmaf);
    assert_eq!(inline["alignment"], got["alignment"]);
    assert!(
        (psnr(&inline) - psnr(&got)).abs() < 1e-9,
        "{inline} vs {got}"
    );

    // Late: 4 frames of something else come first.
    late_copy(dir, 4, &["-crf", "26"], "late.mkv");
    let got = metrics(dir, "ref.y4m", "late.mkv", &[]);
    assert_eq!(
        got["alignment"]["offset"].as_i64(),
        Some(4),
        "{}",
        got["alignment"]
    );
    decoded(
        dir,
        "late.mkv",
        "trim=start_frame=4,setpts=PTS-STARTPTS",
        "late_from4.y4m",
    );
    let truth = metrics(dir, "ref.y4m", "late_from4.y4m", &["--no-align"]);
    assert!((psnr(&got) - psnr(&truth)).abs() < 1e-9, "{got} vs {truth}");
    let inline = metrics(dir, "ref.y4m", "late.mkv", &vmaf);
    assert_eq!(inline["alignment"], got["alignment"]);
    assert!(
        (psnr(&inline) - psnr(&got)).abs() < 1e-9,
        "{inline} vs {got}"
    );
    // A window wider than the clip: the search has its frames only when the scoring at offset
    // 0 has reached the end, and the clip is scored again at the offset found.
    let wide = metrics(dir, "ref.y4m", "late.mkv", &["--align-window", "60"]);
    assert_eq!(wide["alignment"], got["alignment"]);
    assert!((psnr(&wide) - psnr(&got)).abs() < 1e-9, "{wide} vs {got}");
    // A forced offset is taken as given, and --no-align pairs frame by frame.
    let forced = metrics(dir, "ref.y4m", "late.mkv", &["--offset", "4"]);
    assert_eq!(forced["alignment"]["searched"].as_bool(), Some(false));
    assert!((psnr(&forced) - psnr(&got)).abs() < 1e-9);
    let naive = metrics(
        dir,
        "ref.y4m",
        "late.mkv",
        &["--no-align", "--frames", "60"],
    );
    assert!(
        psnr(&naive) < psnr(&got) - 3.0,
        "misaligned pairs score far lower"
    );
}

#[test]
fn dropped_frames_and_a_half_rate_copy_are_paired_by_time() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    sources(dir);
    // Frames 10, 20 and 30 dropped, the others keep their timestamps.
    ffmpeg(
        dir,
        &[
            "-i",
            "ref.y4m",
            "-vf",
            "select='not(eq(n\\,10)+eq(n\\,20)+eq(n\\,30))'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-crf",
            "26",
            "dropped.mkv",
        ],
    );
    let got = metrics(dir, "ref.y4m", "dropped.mkv", &[]);
    let a = &got["alignment"];
    assert_eq!(
        (
            a["offset"].as_i64(),
            a["matched"].as_u64(),
            a["repeated"].as_u64(),
            a["skipped"].as_u64()
        ),
        (Some(0), Some(57), Some(3), Some(0)),
        "{a}"
    );
    assert_eq!(got["frames"].as_u64(), Some(60));
    // Correctly aligned: the previous frame stays on screen where one is missing.
    decoded(dir, "dropped.mkv", "fps=30", "dropped_cfr.y4m");
    let truth = metrics(dir, "ref.y4m", "dropped_cfr.y4m", &["--no-align"]);
    assert!((psnr(&got) - psnr(&truth)).abs() < 1e-9, "{got} vs {truth}");

    // Half the frame rate: every distorted frame stands for two reference frames.
    ffmpeg(
        dir,
        &[
            "-i", "ref.y4m", "-vf", "fps=15", "-c:v", "libx264", "-crf", "26", "half.mkv",
        ],
    );
    let got = metrics(dir, "ref.y4m", "half.mkv", &[]);
    let a = &got["alignment"];
    assert_eq!(
        (
            a["matched"].as_u64(),
            a["repeated"].as_u64(),
            a["searched"].as_bool()
        ),
        (Some(30), Some(30), Some(false)),
        "{a}"
    );
    decoded(dir, "half.mkv", "fps=30", "half_at30.y4m");
    let truth = metrics(dir, "ref.y4m", "half_at30.y4m", &["--no-align"]);
    assert!((psnr(&got) - psnr(&truth)).abs() < 1e-9, "{got} vs {truth}");
}

/// Scoring several encodes of one source together gives each exactly what scoring it alone
/// gives: scores, per-frame values and alignment, with pairing by time per stream (a stream that
/// drops frames, one at half the rate, one that ends early), frame by frame, where the short
/// stream fails alone and a missing file fails alone, and with each stream's offset searched (a
/// stream that starts late, and one that starts early and is scored alone).
#[test]
fn a_group_scores_each_stream_as_it_scores_alone() {
    use rdbench_bench_suite::align::Align;
    use rdbench_bench_suite::compare::{compare, compare_group, CompareOptions, Metric};
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    sources(dir);
    let x264 = |args: &[&str], out: &str| {
        let mut a = vec!["-i", "ref.y4m"];
        a.extend_from_slice(args);
        a.extend_from_slice(&["-c:v", "libx264", "-preset", "ultrafast", out]);
        ffmpeg(dir, &a);
    };
    x264(&["-crf", "24"], "a.mkv");
    x264(&["-crf", "38"], "b.mkv");
    x264(
        &[
            "-vf",
            "select='not(eq(n\\,10)+eq(n\\,20))'",
            "-fps_mode",
            "vfr",
            "-crf",
            "30",
        ],
        "dropped.mkv",
    );
    x264(&["-vf", "fps=15", "-crf", "30"], "half.mkv");
    x264(&["-frames:v", "40", "-crf", "30"], "short.mkv");
    // Offsets either way: the first 5 frames missing, and 3 frames of another picture first.
    x264(
        &[
            "-vf",
            "trim=start_frame=5,setpts=PTS-STARTPTS",
            "-crf",
            "26",
        ],
        "early.mkv",
    );
    late_copy(dir, 3, &["-preset", "ultrafast", "-crf", "26"], "late.mkv");
    let reference = dir.join("ref.y4m");
    let streams: Vec<std::path::PathBuf> = [
        "a.mkv",
        "b.mkv",
        "dropped.mkv",
        "half.mkv",
        "short.mkv",
        "missing.mkv",
        "early.mkv",
        "late.mkv",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    for align in [
        Align::Timestamps { offset: 0 },
        Align::Exact,
        Align::Auto { window: 8 },
    ] {
        let options = CompareOptions {
            metrics: vec![Metric::Vmaf, Metric::Psnr, Metric::Ssim],
            align,
            ..Default::default()
        };
        let group = compare_group(&reference, &streams, &options);
        assert_eq!(group.len(), streams.len());
        let mut vmafs = Vec::new();
        for (path, got) in streams.iter().zip(&group) {
            let alone = compare(&reference, path, &options);
            let case = format!("{align:?} {}", path.display());
            match (got, alone) {
                (Ok(g), Ok(a)) => {
                    assert_eq!(g.per_frame, a.per_frame, "{case}");
                    assert_eq!(g.pooled, a.pooled, "{case}");
                    assert_eq!(g.alignment, a.alignment, "{case}");
                    assert_eq!(g.frames, a.frames, "{case}");
                    assert_eq!(g.vmaf_path.as_deref(), Some("native"), "{case}");
                    vmafs.push(g.pooled["vmaf"].pooled.mean);
                }
                (Err(g), Err(a)) => assert_eq!(g.to_string(), a.to_string(), "{case}"),
                (g, a) => panic!("{case}: the group gave {g:?}, alone {a:?}"),
            }
        }
        // The encodes differ, so a group that scored one stream for all would fail above; and
        // the low-rate encode scores lower.
        assert!(vmafs[1] < vmafs[0] - 3.0, "{vmafs:?}");
        match align {
            Align::Exact => {
                assert!(group[4].is_err(), "a short stream fails frame by frame");
                assert!(group[2].is_err() && group[3].is_err());
            }
            _ => {
                let short = group[4].as_ref().unwrap();
                assert_eq!((short.frames, short.alignment.unscored), (40, 20));
                let half = group[3].as_ref().unwrap();
                assert_eq!(half.alignment.repeated, 30);
            }
        }
        assert!(group[5].is_err(), "a missing file fails alone");
        if let Align::Auto { .. } = align {
            // Each stream's offset is its own: found by search, skipped in the group when
            // positive, scored alone when negative.
            let offset = |i: usize| {
                let a = &group[i].as_ref().unwrap().alignment;
                (a.offset, a.searched)
            };
            assert_eq!(offset(0), (0, true));
            assert_eq!(offset(6), (-5, true));
            assert_eq!(offset(7), (3, true));
            assert_eq!(group[7].as_ref().unwrap().frames, 60);
        }
    }
    // The search made while scoring finds what a search made beforehand finds: a frame limit
    // of exactly the search's frames (window + 8) lets it run while scoring, one frame fewer
    // makes it run first.
    for i in [0, 6, 7] {
        let run = |frames: u64| {
            let options = CompareOptions {
                metrics: vec![Metric::Psnr],
                align: Align::Auto { window: 8 },
                frames: Some(frames),
                ..Default::default()
            };
            let a = compare(&reference, &streams[i], &options)
                .unwrap()
                .alignment;
            (a.offset, a.searched, a.search_psnr)
        };
        let (during, before) = (run(16), run(15));
        assert!(during.1 && during.2.is_some(), "{during:?}");
        assert_eq!(during, before, "{}", streams[i].display());
    }
}
