//! Integration tests of rdbench-results: run folders written to disk and read back through the
//! gate and the merge, with the failures a codec lead must see (failed jobs, missing
//! configurations, sequences and points, null scores, undefined BD-rates, other suites,
//! incomplete shard sets).

use std::path::{Path, PathBuf};

use rdbench_results::gate::{gate, markdown, Check, GateError, GateRules, Verdict};
use rdbench_results::merge::{merge, MergeError, MergeOptions};
use rdbench_results::run::{job_file_name, load, JobResult, LoadedRun, Manifest, Shard};
use rdbench_results::summary::{finish, HarnessFigures};
use rdbench_results::{EncodeRecord, JobStatus, RcMode};

const SEQUENCES: [(&str, &str); 3] = [("a", "B"), ("b", "B"), ("c", "C")];
const CRF: [f64; 4] = [22.0, 27.0, 32.0, 37.0];

/// One configuration's encodes: at point i the rate is `base * 2^-i * scale` with the quality of
/// the unscaled rate, so its BD-rate against scale 1 is exactly `(scale - 1) * 100` %.
fn encodes(config: &str, scale: f64, cpu: f64, reps: u32) -> Vec<EncodeRecord> {
    let mut v = Vec::new();
    for (s, (seq, class)) in SEQUENCES.iter().enumerate() {
        for (i, crf) in CRF.iter().enumerate() {
            let rate = 2000.0 * (1.0 + s as f64) / 2f64.powi(i as i32);
            let x = (rate / 1000.0).log2();
            for rep in 0..reps {
                v.push(EncodeRecord {
                    run_id: "r".into(),
                    job_id: format!("t/{seq}/{config}/crf/{i}/r{rep}"),
                    status: JobStatus::Ok,
                    sequence: seq.to_string(),
                    class: class.to_string(),
                    config: config.into(),
                    codec: "libx264".into(),
                    rc_mode: RcMode::Crf,
                    rc_value: *crf,
                    rc_point: i as u32,
                    repetition: rep,
                    bitrate_kbps: rate * scale,
                    vmaf: Some(80.0 + 5.0 * x),
                    psnr_y: Some(36.0 + 2.0 * x),
                    encode_cpu_s: cpu * (1.0 + 0.01 * rep as f64),
                    decode_cpu_s: 0.1,
                    ..Default::default()
                });
            }
        }
    }
    v
}

fn design(crf: &[f64]) -> serde_json::Value {
    serde_json::json!({ "name": "s", "configs": { "x264": { "crf": crf } } })
}

fn write_run(dir: &Path, records: &[EncodeRecord], manifest: Manifest) -> LoadedRun {
    std::fs::create_dir_all(dir.join("jobs")).unwrap();
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    for r in records {
        let j = JobResult {
            record: r.clone(),
            frames: Vec::new(),
        };
        std::fs::write(
            dir.join("jobs").join(job_file_name(&r.job_id)),
            serde_json::to_vec(&j).unwrap(),
        )
        .unwrap();
    }
    load(dir).unwrap()
}

fn manifest(id: &str) -> Manifest {
    Manifest {
        run_id: id.into(),
        suite_name: "s".into(),
        suite_toml: "name = \"s\"".into(),
        anchor: "x264".into(),
        design: Some(design(&CRF)),
        ..Default::default()
    }
}

fn run(root: &Path, id: &str, records: &[EncodeRecord]) -> LoadedRun {
    write_run(&root.join(id), records, manifest(id))
}

fn baseline() -> Vec<EncodeRecord> {
    let mut v = encodes("x264", 1.0, 1.0, 3);
    v.extend(encodes("x265", 0.8, 3.0, 3));
    v
}

fn find<'a>(
    r: &'a rdbench_results::gate::GateReport,
    config: &str,
    check: Check,
) -> Vec<&'a rdbench_results::gate::GateRow> {
    r.rows
        .iter()
        .filter(|x| x.config == config && x.check == check)
        .collect()
}

#[test]
fn an_identical_candidate_passes_and_every_row_is_judged() {
    let d = tempfile::tempdir().unwrap();
    let (b, c) = (
        run(d.path(), "b", &baseline()),
        run(d.path(), "c", &baseline()),
    );
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    assert!(r.passed, "{}", markdown(&r));
    assert!(r.rows.iter().all(|x| x.verdict == Verdict::Pass));
    // Per configuration: jobs, BD-rate of VMAF and PSNR-Y, encoder and decoder CPU.
    assert_eq!(r.rows.len(), 2 * 5, "{}", markdown(&r));
    let bd = find(&r, "x265", Check::BdRate)[0];
    assert!(bd.value.unwrap().abs() < 1e-9);
    let cpu = find(&r, "x265", Check::EncodeCpu)[0];
    assert!(cpu.interval.is_some() && cpu.value.unwrap().abs() < 1e-9);
}

#[test]
fn a_candidate_whose_x265_jobs_all_failed_fails_and_says_why() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &baseline());
    let mut cand = baseline();
    for r in cand.iter_mut().filter(|r| r.config == "x265") {
        r.status = JobStatus::Failed;
        r.error = Some("libx265: invalid option `nosuch`".into());
        r.vmaf = None;
        r.psnr_y = None;
    }
    let c = run(d.path(), "c", &cand);
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    assert!(!r.passed);
    let jobs = find(&r, "x265", Check::Jobs)[0];
    assert_eq!(jobs.verdict, Verdict::NotJudged);
    assert_eq!(
        jobs.note,
        "not judged: 36 of 36 x265 jobs failed: libx265: invalid option `nosuch`"
    );
    for row in find(&r, "x265", Check::BdRate) {
        assert_eq!(row.verdict, Verdict::NotJudged, "{row:?}");
    }
    let md = markdown(&r);
    assert!(
        md.contains("| **NOT JUDGED** | x265 | jobs | n/a |"),
        "{md}"
    );
    assert!(!md.contains("| ok | x265 |"), "{md}");
    // x264 is unaffected.
    assert!(find(&r, "x264", Check::Jobs)[0].verdict == Verdict::Pass);
}

#[test]
fn missing_configs_sequences_points_and_scores_are_not_judged() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &baseline());
    // No x265 at all.
    let c = run(d.path(), "c1", &encodes("x264", 1.0, 1.0, 3));
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    let jobs = find(&r, "x265", Check::Jobs)[0];
    assert_eq!(jobs.verdict, Verdict::NotJudged);
    assert!(jobs
        .note
        .contains("configuration x265 is missing from the candidate (36 jobs)"));
    assert_eq!(find(&r, "x265", Check::BdRate).len(), 0);
    // Sequence c missing, and one point of a.
    let cand: Vec<EncodeRecord> = baseline()
        .into_iter()
        .filter(|r| {
            r.sequence != "c" && !(r.sequence == "a" && r.rc_point == 3 && r.config == "x264")
        })
        .collect();
    let c = run(d.path(), "c2", &cand);
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    assert!(!r.passed);
    let note = &find(&r, "x264", Check::Jobs)[0].note;
    assert!(
        note.contains("sequence c is missing from the candidate (12 jobs)"),
        "{note}"
    );
    assert!(
        note.contains("3 jobs of a are missing from the candidate (crf/3 r0, crf/3 r1, crf/3 r2)"),
        "{note}"
    );
    // A finished job without its VMAF score.
    let mut cand = baseline();
    cand[0].vmaf = None;
    cand[1].vmaf = Some(f64::NAN);
    let c = run(d.path(), "c3", &cand);
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    let note = &find(&r, "x264", Check::Jobs)[0].note;
    assert_eq!(note, "not judged: 2 finished jobs have no vmaf score");
}

#[test]
fn an_undefined_bd_rate_is_not_judged_with_its_reason() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &baseline());
    let mut cand = baseline();
    // Quality falls as rate rises on sequence b: no BD-rate there.
    for r in cand
        .iter_mut()
        .filter(|r| r.config == "x264" && r.sequence == "b")
    {
        r.vmaf = Some(84.0 + 3.0 * r.rc_point as f64);
    }
    let c = run(d.path(), "c", &cand);
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    let vmaf = find(&r, "x264", Check::BdRate)
        .into_iter()
        .find(|x| x.metric == Some(rdbench_results::Metric::Vmaf))
        .unwrap();
    assert_eq!(vmaf.verdict, Verdict::NotJudged);
    assert!(
        vmaf.note
            .starts_with("not judged: BD-rate undefined on 1 of 3 sequences (b: "),
        "{}",
        vmaf.note
    );
}

#[test]
fn regressions_fail_and_allowances_downgrade_them_by_name() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &baseline());
    let mut cand = encodes("x264", 1.02, 1.2, 3);
    cand.extend(encodes("x265", 0.8, 3.0, 3));
    let c = run(d.path(), "c", &cand);
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    assert!(!r.passed);
    let bd = &find(&r, "x264", Check::BdRate)[0];
    assert_eq!(bd.verdict, Verdict::Fail);
    assert!((bd.value.unwrap() - 2.0).abs() < 1e-6);
    let cpu = &find(&r, "x264", Check::EncodeCpu)[0];
    assert_eq!(
        cpu.verdict,
        Verdict::Fail,
        "20% slower with a tight interval"
    );
    assert!((cpu.value.unwrap() - 20.0).abs() < 1e-6);
    let rules = GateRules::parse(
        "[[allow]]\ncheck = \"bd_rate\"\nconfig = \"x264\"\nreason = \"accepted in review #42\"\n\
         [[allow]]\ncheck = \"encode_cpu\"\nreason = \"new analysis step\"\n",
    )
    .unwrap();
    let r = gate(&b, &c, &rules).unwrap();
    assert!(r.passed, "{}", markdown(&r));
    let bd = &find(&r, "x264", Check::BdRate)[0];
    assert_eq!(bd.verdict, Verdict::Warn);
    assert!(bd.note.ends_with("(allowed: accepted in review #42)"));
    // A rule on the interval's upper bound fails a change whose mean is fine but whose interval
    // reaches beyond the limit.
    let mut mixed = baseline();
    for r in mixed.iter_mut().filter(|r| r.config == "x264") {
        r.bitrate_kbps *= match r.sequence.as_str() {
            "a" => 0.99,
            "b" => 0.99,
            _ => 1.025,
        };
    }
    let c = run(d.path(), "mixed", &mixed);
    let mean = gate(&b, &c, &GateRules::default()).unwrap();
    assert_eq!(find(&mean, "x264", Check::BdRate)[0].verdict, Verdict::Pass);
    let strict = GateRules::parse("bd_rate_on = \"upper\"\n").unwrap();
    let upper = gate(&b, &c, &strict).unwrap();
    assert_eq!(
        find(&upper, "x264", Check::BdRate)[0].verdict,
        Verdict::Fail
    );
}

#[test]
fn timing_from_one_repetition_holds_the_point_estimate_and_cached_timings_are_not_judged() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &encodes("x264", 1.0, 1.0, 1));
    let c = run(d.path(), "c", &encodes("x264", 1.0, 1.06, 1));
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    let cpu = &find(&r, "x264", Check::EncodeCpu)[0];
    assert_eq!(cpu.verdict, Verdict::Fail);
    assert!(cpu.interval.is_none());
    assert!(cpu
        .note
        .contains("1 repetition: no interval below 3, the point estimate is held"));
    let mut cached = encodes("x264", 1.0, 1.0, 1);
    for r in &mut cached {
        r.cached = true;
    }
    let c = run(d.path(), "cached", &cached);
    let r = gate(&b, &c, &GateRules::default()).unwrap();
    let cpu = &find(&r, "x264", Check::EncodeCpu)[0];
    assert_eq!(cpu.verdict, Verdict::NotJudged);
    assert!(cpu.note.contains("came from a cache"));
}

#[test]
fn runs_of_different_suites_cannot_be_compared() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &baseline());
    let mut m = manifest("c");
    m.design = Some(design(&[20.0, 25.0, 30.0, 35.0]));
    let c = write_run(&d.path().join("c"), &baseline(), m);
    let e = gate(&b, &c, &GateRules::default()).unwrap_err();
    assert!(matches!(e, GateError::Design { .. }));
    assert_eq!(
        e.to_string(),
        format!(
            "{} ran another suite than {}: `configs.x264.crf` is [22.0,27.0,32.0,37.0] in the baseline and [20.0,25.0,30.0,35.0] in the candidate",
            c.dir.display(),
            b.dir.display()
        )
    );
    let mut m = manifest("old");
    m.design = None;
    let old = write_run(&d.path().join("old"), &baseline(), m);
    let e = gate(&b, &old, &GateRules::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("old/manifest.json: field `design` is missing"),
        "{e}"
    );
}

#[test]
fn a_bad_record_names_its_file_and_field() {
    let d = tempfile::tempdir().unwrap();
    let b = run(d.path(), "b", &baseline());
    let path = b.dir.join("jobs").join(job_file_name("t/a/x264/crf/0/r0"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"status\":\"ok\"", "\"status\":\"okk\""),
    )
    .unwrap();
    let e = load(&b.dir).unwrap_err().to_string();
    assert!(
        e.starts_with(&format!(
            "{}: field `record.status`: unknown variant `okk`",
            path.display()
        )),
        "{e}"
    );
    assert!(!e.contains('\n'));
}

fn shard(root: &Path, index: u32, count: u32, records: &[EncodeRecord]) -> PathBuf {
    let id = format!("s{index}of{count}");
    let mut m = manifest(&id);
    m.shard = Some(Shard { index, count });
    m.git_revision = "abc".into();
    let r = write_run(&root.join(&id), records, m);
    finish(&r.dir, HarnessFigures::default()).unwrap();
    r.dir
}

#[test]
fn merge_joins_a_complete_shard_set_and_refuses_the_rest() {
    let d = tempfile::tempdir().unwrap();
    let all = baseline();
    let (x264, x265): (Vec<_>, Vec<_>) = all.iter().cloned().partition(|r| r.config == "x264");
    let (a, bb) = (x264.split_at(18).0.to_vec(), x264.split_at(18).1.to_vec());
    let s1 = shard(d.path(), 1, 3, &a);
    let s2 = shard(d.path(), 2, 3, &bb);
    let s3 = shard(d.path(), 3, 3, &x265);
    let out = d.path().join("merged");
    let m = merge(
        &[s1.clone(), s2.clone(), s3.clone()],
        &out,
        &MergeOptions::default(),
    )
    .unwrap();
    assert_eq!(m.summary.jobs, 72);
    assert!(!m.summary.partial);
    let merged = load(&out).unwrap();
    assert_eq!(merged.jobs.len(), 72);
    assert_eq!(merged.manifest.merged_from, ["s1of3", "s2of3", "s3of3"]);
    // The same merge against the unsharded records gives the same BD-rates.
    let whole = run(d.path(), "whole", &all);
    let whole = finish(&whole.dir, HarnessFigures::default()).unwrap();
    assert_eq!(m.summary.bd_classes, whole.bd_classes);

    // A missing shard is named; --allow-partial merges and marks the run.
    let err = merge(
        &[s1.clone(), s3.clone()],
        &d.path().join("m2"),
        &MergeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, MergeError::Incomplete { .. }));
    assert_eq!(
        err.to_string(),
        "shards [2] of 3 are missing (have [1, 3]); give them all, or --allow-partial to merge what is there"
    );
    let part = merge(
        &[s1.clone(), s3.clone()],
        &d.path().join("m3"),
        &MergeOptions {
            allow_partial: true,
        },
    )
    .unwrap();
    assert!(part.summary.partial);
    let loaded = load(&d.path().join("m3")).unwrap();
    assert_eq!(
        (
            loaded.manifest.partial,
            loaded.manifest.missing_shards.clone()
        ),
        (true, vec![2])
    );
    let md = std::fs::read_to_string(d.path().join("m3/summary.md")).unwrap();
    assert!(
        md.contains("**Partial run: some shards are missing.**"),
        "{md}"
    );

    // The same shard twice.
    let err = merge(
        &[s1.clone(), s1.clone()],
        &d.path().join("m4"),
        &MergeOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("shard 1 of 3 is given twice"),
        "{err}"
    );
    // A shard of another rdbench build.
    let other = d.path().join("s2of3");
    let mut m: Manifest =
        serde_json::from_slice(&std::fs::read(other.join("manifest.json")).unwrap()).unwrap();
    m.git_revision = "def".into();
    std::fs::write(other.join("manifest.json"), serde_json::to_vec(&m).unwrap()).unwrap();
    let err = merge(
        &[s1, s2, s3],
        &d.path().join("m5"),
        &MergeOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("the rdbench revision differs")
            && err.to_string().contains("(def vs abc)"),
        "{err}"
    );
}
