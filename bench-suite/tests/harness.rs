//! A whole run through the library: records, tables, summary, cache, failures.

use rdbench_bench_suite::harness::{run, RunOptions, Silent};
use rdbench_bench_suite::suite::Suite;
use rdbench_results::tables::read_parquet;
use rdbench_results::{JobStatus, Metric, RcMode};

use crate::support::*;

fn options(dir: &std::path::Path, id: &str) -> RunOptions {
    RunOptions {
        runs_dir: dir.join("runs"),
        cache_dir: Some(dir.join("cache")),
        use_cache: true,
        run_id: Some(id.into()),
        version: "test".into(),
        git_revision: "test".into(),
        ..Default::default()
    }
}

#[test]
fn a_tiny_suite_runs_end_to_end_and_reruns_from_the_cache() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    let suite = Suite::parse(&tiny_suite(&corpus, ""), None).unwrap();
    let out = run(&suite, &options(d.path(), "first"), &Silent).unwrap();
    // 2 sequences x 2 configs x 6 points.
    let loaded = rdbench_results::run::load(&out.dir).unwrap();
    assert_eq!(loaded.jobs.len(), 24);
    for j in &loaded.jobs {
        let r = &j.record;
        assert_eq!(r.status, JobStatus::Ok, "{}: {:?}", r.job_id, r.error);
        assert_eq!((r.width, r.height, r.frames), (128, 72, 8), "{}", r.job_id);
        assert!(r.bitrate_kbps > 0.0 && r.bytes > 0 && r.encode_cpu_s > 0.0);
        assert!(r.vmaf.is_some() && r.psnr_y.is_some() && r.ssim.is_some() && r.ms_ssim.is_none());
        assert!(r.si.is_some() && r.ti.is_some());
        assert!(r
            .encoder_version
            .starts_with(if r.codec == "libx264" { "x264" } else { "x265" }));
        assert_eq!(j.frames.len(), 8);
        assert_eq!(
            j.frames.iter().map(|f| f.size_bytes as u64).sum::<u64>(),
            r.bytes
        );
        // The decoder of the encode was timed apart from the scorer.
        assert!(
            r.decode_cpu_s > 0.0 && r.decode_cpu_s < r.job_cpu_s,
            "{}",
            r.job_id
        );
        // Instructions were counted, or the record says why not.
        assert!(
            r.encode_instructions.is_some() != r.instructions_note.is_some(),
            "{r:?}"
        );
        if r.rc_mode == RcMode::Abr {
            assert!(r.target_kbps.is_some() && r.bitrate_error_pct.is_some());
        }
        assert!(!r.cached);
    }
    // Tables: one row per encode, one per frame, in CSV and Parquet.
    assert_eq!(
        read_parquet(&out.dir.join("encodes.parquet"))
            .unwrap()
            .height(),
        24
    );
    assert_eq!(
        read_parquet(&out.dir.join("frames.parquet"))
            .unwrap()
            .height(),
        24 * 8
    );
    assert_eq!(
        std::fs::read_to_string(out.dir.join("encodes.csv"))
            .unwrap()
            .lines()
            .count(),
        25
    );
    // Summary: x265 against x264, per sequence, per class and overall, for every metric and mode.
    let s = &out.summary;
    assert_eq!(s.anchor, "x264");
    for metric in [Metric::Vmaf, Metric::PsnrY, Metric::PsnrYuv, Metric::Ssim] {
        for mode in [RcMode::Crf, RcMode::Abr] {
            let n = s
                .bd_sequences
                .iter()
                .filter(|b| b.metric == metric && b.rc_mode == mode && b.config == "x265")
                .count();
            assert_eq!(n, 2, "{metric} {mode}");
            let all = s
                .bd_classes
                .iter()
                .find(|c| c.metric == metric && c.rc_mode == mode && c.class == "all")
                .unwrap();
            // Every entry is either averaged or named as skipped (8-frame ABR curves of the
            // two encoders may not overlap at all); on CRF both sequences average, with a
            // bootstrap interval around the mean.
            assert_eq!(all.sequences as usize + all.skipped.len(), 2);
            if mode == RcMode::Crf {
                assert_eq!(all.sequences, 2, "{all:?}");
                let i = all.bd_rate_interval.unwrap();
                assert!(i.contains(all.bd_rate_percent.unwrap()), "{all:?}");
            }
        }
    }
    assert!(s
        .speed
        .iter()
        .any(|p| p.config == "x265" && p.cpu_ratio.is_some()));
    assert_eq!(s.bitrate_error.len(), 2);
    assert_eq!(s.harness.jobs_run, 24);
    assert!(s.harness.jobs_cpu_s > 0.0 && s.harness.wall_s > 0.0);
    // Each sequence's encodes were scored together, and the scoring CPU is part of the jobs'.
    assert_eq!(
        (s.harness.encodes_scored, s.harness.encodes_scored_in_groups),
        (24, 24)
    );
    assert!(s.harness.score_cpu_s > 0.0 && s.harness.score_cpu_s < s.harness.jobs_cpu_s);
    assert!(out.dir.join("summary.md").is_file() && out.dir.join("manifest.json").is_file());
    let manifest = &loaded.manifest;
    assert!(
        manifest.versions.encoders.contains_key("libx264") && !manifest.versions.libvmaf.is_empty()
    );
    // The processor is recorded: its model from the kernel, and on x86-64 at least SSE4.2.
    assert!(!manifest.cpu.model.is_empty(), "{:?}", manifest.cpu);
    #[cfg(target_arch = "x86_64")]
    assert!(manifest.cpu.features.iter().any(|f| f == "sse4.2"));

    // A rerun reuses every encode and score.
    let again = run(&suite, &options(d.path(), "second"), &Silent).unwrap();
    assert_eq!(again.summary.harness.jobs_cached, 24);
    let a = rdbench_results::run::load(&again.dir).unwrap();
    for (x, y) in loaded.jobs.iter().zip(&a.jobs) {
        assert_eq!(
            (x.record.bitrate_kbps, x.record.vmaf),
            (y.record.bitrate_kbps, y.record.vmaf)
        );
        assert!(y.record.cached);
    }
    // With nothing run, there is nothing to time, and the summary says so.
    let md = std::fs::read_to_string(again.dir.join("summary.md")).unwrap();
    assert!(
        md.contains("24 jobs, every one from the cache: no timing figures."),
        "{md}"
    );
    assert!(!md.contains("wall / ideal"), "{md}");
    // The first run's summary has the figures.
    let md = std::fs::read_to_string(out.dir.join("summary.md")).unwrap();
    assert!(md.contains("wall / ideal = "), "{md}");
    assert!(md.contains("24 scored together"), "{md}");

    // Scoring each encode in its own job, from an empty cache, gives the same records.
    let alone = RunOptions {
        cache_dir: Some(d.path().join("cache-alone")),
        score_alone: true,
        ..options(d.path(), "alone")
    };
    let third = run(&suite, &alone, &Silent).unwrap();
    let h = &third.summary.harness;
    assert_eq!((h.encodes_scored, h.encodes_scored_in_groups), (24, 0));
    let t = rdbench_results::run::load(&third.dir).unwrap();
    for (x, y) in loaded.jobs.iter().zip(&t.jobs) {
        let (x, y) = (&x.record, &y.record);
        assert_eq!(x.job_id, y.job_id);
        assert_eq!(x.bytes, y.bytes, "{}: the encodes differ", x.job_id);
        assert_eq!(
            (x.vmaf, x.psnr_y, x.psnr_yuv, x.ssim, x.frames),
            (y.vmaf, y.psnr_y, y.psnr_yuv, y.ssim, y.frames),
            "{}",
            x.job_id
        );
        assert!(!y.cached);
    }
}

#[test]
fn a_failing_encode_is_recorded_and_the_grid_goes_on() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    let extra = "[[config]]\nname = \"broken\"\ncodec = \"libx264\"\nparams = \"nosuchparam=1\"\ncrf = [30]\n";
    let suite = Suite::parse(&tiny_suite(&corpus, extra), None).unwrap();
    let out = run(&suite, &options(d.path(), "f"), &Silent).unwrap();
    assert_eq!(out.failed, 2);
    let loaded = rdbench_results::run::load(&out.dir).unwrap();
    for j in &loaded.jobs {
        if j.record.config == "broken" {
            assert_eq!(j.record.status, JobStatus::Failed);
            assert!(
                j.record.error.as_deref().unwrap().contains("nosuchparam"),
                "{:?}",
                j.record.error
            );
        } else {
            assert_eq!(j.record.status, JobStatus::Ok);
        }
    }
    assert_eq!(loaded.jobs.len(), 26);
}

#[test]
fn derived_targets_are_the_anchors_crf_bitrates_and_unreachable_ones_are_set_apart() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    let text = format!(
        r#"name = "derived"
corpora = ["{}"]
metrics = ["psnr"]
anchor = "x264"
jobs = 2
[[config]]
name = "x264"
codec = "libx264"
preset = "veryfast"
threads = 1
crf = [20, 28, 36]
abr_from = "x264:crf"
[[config]]
name = "x265"
codec = "libx265"
preset = "ultrafast"
threads = 1
abr_from = "x264:crf"
cbr_kbps = [30000]
"#,
        corpus.display()
    );
    let suite = Suite::parse(&text, None).unwrap();
    let out = run(&suite, &options(d.path(), "d"), &Silent).unwrap();
    assert_eq!(out.failed, 0);
    let loaded = rdbench_results::run::load(&out.dir).unwrap();
    let rec = |id: &str| {
        &loaded
            .jobs
            .iter()
            .find(|j| j.record.job_id == id)
            .unwrap_or_else(|| panic!("no {id}"))
            .record
    };
    for seq in ["zoom", "handheld"] {
        for i in 0..3 {
            let crf = rec(&format!("tiny/{seq}/x264/crf/{i}/r0"));
            for config in ["x264", "x265"] {
                let abr = rec(&format!("tiny/{seq}/{config}/abr/{i}/r0"));
                let want = (crf.bitrate_kbps * 10.0).round() / 10.0;
                assert_eq!(abr.target_kbps, Some(want), "{config} {seq} abr/{i}");
            }
        }
        // 30 Mbit/s on 128x72: more than x265 spends even at its lowest quantiser.
        let cbr = rec(&format!("tiny/{seq}/x265/cbr/0/r0"));
        assert_eq!(cbr.target_reachable, Some(false), "{cbr:?}");
        assert!(cbr.reachable_kbps.unwrap() < 30000.0);
    }
    // The unreachable targets are counted apart, not as rate-control error.
    let cbr = out
        .summary
        .bitrate_error
        .iter()
        .find(|b| b.config == "x265" && b.rc_mode == RcMode::Cbr);
    assert!(cbr.is_none(), "{cbr:?}");
    let abr = out
        .summary
        .bitrate_error
        .iter()
        .find(|b| b.config == "x265" && b.rc_mode == RcMode::Abr)
        .unwrap();
    assert_eq!((abr.encodes, abr.unreachable), (6, 0));
    // A derived target naming a configuration that does not exist is refused at load.
    let bad = text.replace(
        "abr_from = \"x264:crf\"\ncbr_kbps",
        "abr_from = \"x266:crf\"\ncbr_kbps",
    );
    let e = Suite::parse(&bad, Some(std::path::Path::new("s.toml"))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.toml: config[1].abr_from: `x266` is not a configuration (have: x264, x265)"
    );
}

#[test]
fn target_vmaf_points_are_searched_per_sequence_and_cached_as_crf_points() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    let suite_text = |configs: &str| {
        format!(
            "name = \"targets\"\ncorpora = [\"{}\"]\nmetrics = [\"vmaf\", \"psnr\"]\nanchor = \"x264\"\njobs = 2\n{configs}",
            corpus.display()
        )
    };
    let configs = r#"[[config]]
name = "x264"
codec = "libx264"
preset = "veryfast"
target_vmaf = [85, 93]
[[config]]
name = "x265"
codec = "libx265"
preset = "ultrafast"
target_vmaf = [85, 93]
[[config]]
name = "x264-narrow"
codec = "libx264"
preset = "veryfast"
target_vmaf = [99.9]
target_crf_range = [44, 51]
target_max_probes = 4
"#;
    let suite = Suite::parse(&suite_text(configs), None).unwrap();
    let out = run(&suite, &options(d.path(), "t"), &Silent).unwrap();
    let loaded = rdbench_results::run::load(&out.dir).unwrap();
    assert_eq!(loaded.jobs.len(), 10);
    let mut found = Vec::new();
    for j in &loaded.jobs {
        let r = &j.record;
        assert_eq!(r.rc_mode, RcMode::TargetVmaf, "{}", r.job_id);
        let target = r.target_vmaf.unwrap();
        let probes = r.search_probes.unwrap();
        if r.config == "x264-narrow" {
            // No CRF in 44-51 reaches VMAF 99.9: a failed point that says so.
            assert_eq!(r.status, JobStatus::Failed);
            let e = r.error.as_deref().unwrap();
            assert!(e.contains("target_vmaf 99.9") && e.contains("44-51"), "{e}");
            assert!(e.contains("the best, crf "), "{e}");
            assert!(probes <= 4, "{probes}");
            continue;
        }
        assert_eq!(r.status, JobStatus::Ok, "{}: {:?}", r.job_id, r.error);
        let vmaf = r.vmaf.unwrap();
        // The answer reaches the target, by at most the tolerance or one grid step's worth.
        assert!(
            vmaf >= target && vmaf <= target + 3.0,
            "{}: {vmaf}",
            r.job_id
        );
        assert!((1..=8).contains(&probes), "{}: {probes}", r.job_id);
        assert!(r.search_cpu_s.unwrap() >= r.job_cpu_s, "{r:?}");
        assert!(j.frames.iter().all(|f| f.job_id == r.job_id));
        assert_eq!(j.frames.len(), 8);
        if r.config == "x264" {
            found.push((r.sequence.clone(), r.rc_value, r.vmaf, r.bitrate_kbps));
        }
    }
    // A higher target needs a lower CRF on the same sequence.
    for seq in ["zoom", "handheld"] {
        let c: Vec<f64> = [85.0, 93.0]
            .iter()
            .map(|t| {
                loaded
                    .jobs
                    .iter()
                    .find(|j| {
                        j.record.sequence == seq
                            && j.record.config == "x264"
                            && j.record.target_vmaf == Some(*t)
                    })
                    .unwrap()
                    .record
                    .rc_value
            })
            .collect();
        assert!(c[1] < c[0], "{seq}: {c:?}");
    }
    // The summary says how the targets were met, and BD-rate compares the encoders there.
    let q = &out.summary.quality_targets;
    let x264_85 = q
        .iter()
        .find(|q| q.config == "x264" && q.target == 85.0)
        .unwrap();
    assert_eq!((x264_85.encodes, x264_85.failed), (2, 0));
    let narrow = q.iter().find(|q| q.config == "x264-narrow").unwrap();
    assert_eq!((narrow.encodes, narrow.failed), (0, 2));
    assert!(out
        .summary
        .bd_classes
        .iter()
        .any(|b| b.config == "x265" && b.rc_mode == RcMode::TargetVmaf));
    let md = std::fs::read_to_string(out.dir.join("summary.md")).unwrap();
    assert!(md.contains("### Quality targets"), "{md}");
    // The answers are CRF encodes like any other: a suite of plain CRF points at those values
    // finds them in the cache, with the same scores.
    let crfs: Vec<String> = found
        .iter()
        .filter(|f| f.0 == "zoom")
        .map(|f| f.1.to_string())
        .collect();
    let plain = format!(
        "[[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"veryfast\"\ncrf = [{}]\n",
        crfs.join(", ")
    );
    let suite = Suite::parse(&suite_text(&plain), None).unwrap();
    let again = run(&suite, &options(d.path(), "plain"), &Silent).unwrap();
    let loaded = rdbench_results::run::load(&again.dir).unwrap();
    for j in loaded.jobs.iter().filter(|j| j.record.sequence == "zoom") {
        let r = &j.record;
        assert!(r.cached, "{}", r.job_id);
        let f = found
            .iter()
            .find(|f| f.0 == "zoom" && f.1 == r.rc_value)
            .unwrap();
        assert_eq!((r.vmaf, r.bitrate_kbps), (f.2, f.3), "{}", r.job_id);
    }
}

#[test]
fn a_suite_ladder_is_built_per_sequence_and_saved_with_its_saving() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    std::fs::write(
        d.path().join("reference.toml"),
        r#"[template.r72_high]
height = 72
rc = { mode = "abr", bitrate_kbps = 400 }
[template.r48_mid]
height = 48
rc = { mode = "abr", bitrate_kbps = 150 }
[template.r36_low]
height = 36
rc = { mode = "abr", bitrate_kbps = 60 }
[template.r1080]
height = 1080
rc = { mode = "abr", bitrate_kbps = 6000 }
"#,
    )
    .unwrap();
    let text = format!(
        r#"name = "ladders"
corpora = ["{}"]
metrics = ["vmaf"]
anchor = "x264"
jobs = 2
[[config]]
name = "x264"
codec = "libx264"
preset = "veryfast"
crf = [30]
[ladder]
config = "x264"
heights = [1080, 72, 48, 36]
crf = [22, 30, 38]
quality_step = 4
reference = "reference.toml"
"#,
        corpus.display()
    );
    let suite_path = d.path().join("suite.toml");
    std::fs::write(&suite_path, &text).unwrap();
    let suite = Suite::load(&suite_path).unwrap();
    let out = run(&suite, &options(d.path(), "l"), &Silent).unwrap();
    let loaded = rdbench_results::run::load(&out.dir).unwrap();
    assert_eq!(loaded.ladders.len(), 2);
    for l in &loaded.ladders {
        assert_eq!(l.error, None, "{}", l.sequence);
        let ladder = l.ladder.as_ref().unwrap();
        // 1080 is above the 72-line sequences: left out, 3 heights x 3 CRFs remain.
        assert_eq!(ladder.grid.len(), 9, "{}", l.sequence);
        assert!(!ladder.rungs.is_empty());
        let r = ladder.reference.as_ref().unwrap();
        assert_eq!(r.rungs.len(), 3);
        assert_eq!(r.skipped.len(), 1, "{:?}", r.skipped);
        assert!(r.skipped[0].contains("r1080"), "{:?}", r.skipped);
        // The reference rungs aim at their bitrates (one-pass ABR on 8 frames: loosely).
        for e in &r.rungs {
            assert!(
                e.kbps > 0.25 * e.rc_value && e.kbps < 4.0 * e.rc_value,
                "{e:?}"
            );
        }
        assert!(r.bd_hull.bd_rate_percent.is_some(), "{:?}", r.bd_hull);
    }
    // Per class (C and F, one sequence each) and overall.
    let s = &out.summary.ladder_savings;
    assert_eq!(
        s.iter().map(|x| x.scope.as_str()).collect::<Vec<_>>(),
        ["C", "F", "all"]
    );
    let md = std::fs::read_to_string(out.dir.join("summary.md")).unwrap();
    assert!(md.contains("### Per-title ladders"), "{md}");
    // A resumed run keeps the ladders it has.
    let file = rdbench_results::ladder::file(&out.dir, "tiny", "zoom");
    let before = std::fs::metadata(&file).unwrap().modified().unwrap();
    let mut again = options(d.path(), "l");
    again.resume = Some(out.dir.clone());
    again.run_id = None;
    run(&suite, &again, &Silent).unwrap();
    assert_eq!(
        std::fs::metadata(&file).unwrap().modified().unwrap(),
        before
    );
    // A ladder naming a configuration that does not exist is refused at load.
    let bad = text.replace("config = \"x264\"\nheights", "config = \"x266\"\nheights");
    let e = Suite::parse(&bad, Some(std::path::Path::new("s.toml"))).unwrap_err();
    assert_eq!(
        e.to_string(),
        "s.toml: ladder.config: `x266` is not a configuration (have: x264)"
    );
}

/// The metrics beyond VMAF, PSNR and SSIM, named in a suite: every record carries them, frames
/// carry their per-frame values, and BD-rates are computed on them.
#[test]
fn newer_metrics_named_in_a_suite_reach_records_frames_and_bd_rates() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    let text = format!(
        r#"name = "metrics"
corpora = ["{}"]
metrics = ["vmaf", "psnr", "apsnr", "xpsnr", "ssimulacra2", "ciede2000", "psnr-hvs"]
anchor = "x264"
jobs = 2
[[config]]
name = "x264"
codec = "libx264"
preset = "veryfast"
crf = [24, 32, 40]
[[config]]
name = "x264-slow"
codec = "libx264"
preset = "medium"
crf = [24, 32, 40]
"#,
        corpus.display()
    );
    let suite = Suite::parse(&text, None).unwrap();
    let out = run(&suite, &options(d.path(), "m"), &Silent).unwrap();
    let loaded = rdbench_results::run::load(&out.dir).unwrap();
    assert_eq!(loaded.jobs.len(), 12);
    for j in &loaded.jobs {
        let r = &j.record;
        assert_eq!(r.status, JobStatus::Ok, "{}: {:?}", r.job_id, r.error);
        for (name, v) in [
            ("xpsnr_y", r.xpsnr_y),
            ("xpsnr_yuv", r.xpsnr_yuv),
            ("apsnr_y", r.apsnr_y),
            ("ssimulacra2", r.ssimulacra2),
            ("ciede2000", r.ciede2000),
            ("psnr_hvs", r.psnr_hvs),
        ] {
            assert!(v.is_some_and(f64::is_finite), "{}: {name} {v:?}", r.job_id);
        }
        assert!(r.apsnr_y.unwrap() <= r.psnr_y.unwrap() + 1e-9, "{r:?}");
        assert_eq!(
            r.vmaf_path.as_deref(),
            Some("native, libvmaf for ciede, psnr_hvs")
        );
        assert_eq!(j.frames.len(), 8);
        assert!(j.frames.iter().all(|f| f.xpsnr_y.is_some()
            && f.ssimulacra2.is_some()
            && f.ciede2000.is_some()
            && f.psnr_hvs.is_some()));
    }
    // Lower CRF, higher quality, on every new metric.
    let at = |crf: f64, f: fn(&rdbench_results::EncodeRecord) -> Option<f64>| {
        loaded
            .jobs
            .iter()
            .find(|j| {
                j.record.config == "x264" && j.record.sequence == "zoom" && j.record.rc_value == crf
            })
            .and_then(|j| f(&j.record))
            .unwrap()
    };
    for f in [
        (|r: &rdbench_results::EncodeRecord| r.xpsnr_y) as fn(&_) -> _,
        |r| r.ssimulacra2,
        |r| r.ciede2000,
        |r| r.psnr_hvs,
    ] {
        assert!(at(24.0, f) > at(40.0, f));
    }
    let bd = &out.summary.bd_classes;
    for m in [
        rdbench_results::Metric::XpsnrY,
        rdbench_results::Metric::XpsnrYuv,
        rdbench_results::Metric::Ssimulacra2,
        rdbench_results::Metric::Ciede2000,
        rdbench_results::Metric::PsnrHvs,
        rdbench_results::Metric::ApsnrY,
    ] {
        assert!(
            bd.iter()
                .any(|b| b.metric == m && b.config == "x264-slow" && b.bd_rate_percent.is_some()),
            "no BD-rate on {m}"
        );
    }
    // An unknown metric is named with the known ones.
    let e = Suite::parse(
        &text.replace("\"ciede2000\"", "\"ciede\", \"blockiness\""),
        Some(std::path::Path::new("s.toml")),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown metric `blockiness` (vmaf, psnr"),
        "{e}"
    );
}

/// A run that died while scoring encodes in groups (its marker left in `jobs/`) resumes by
/// scoring each encode in its own job, so that an encode whose decoding crashes the process
/// cannot stop the run from ever finishing.
#[test]
fn a_run_that_died_scoring_groups_resumes_scoring_alone() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path());
    let suite = Suite::parse(&tiny_suite(&corpus, ""), None).unwrap();
    let out = run(&suite, &options(d.path(), "died"), &Silent).unwrap();
    assert_eq!(out.summary.harness.encodes_scored_in_groups, 24);
    let jobs = out.dir.join("jobs");
    let mut removed = 0;
    for e in std::fs::read_dir(&jobs).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && removed < 6 {
            std::fs::remove_file(e.path()).unwrap();
            removed += 1;
        }
    }
    std::fs::remove_dir_all(d.path().join("cache/bench/scores")).unwrap();
    std::fs::write(jobs.join(".scoring-groups"), b"").unwrap();
    let resumed = RunOptions {
        resume: Some(out.dir.clone()),
        ..options(d.path(), "died")
    };
    let again = run(&suite, &resumed, &Silent).unwrap();
    let h = &again.summary.harness;
    assert_eq!((h.encodes_scored, h.encodes_scored_in_groups), (6, 0));
    assert!(!jobs.join(".scoring-groups").exists());
    assert_eq!(
        rdbench_results::run::load(&again.dir).unwrap().jobs.len(),
        24
    );
}
