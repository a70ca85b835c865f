//! Bad input: one-line errors naming the folder or value.

use rdbench_reports::{load_run, render, ReportOptions};
use rdbench_results::run::{job_file_name, JobResult};

use crate::fixture::{manifest, write_run, Variant};

#[test]
fn a_missing_folder_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nope");
    let err = load_run(&dir).unwrap_err().to_string();
    assert_eq!(err, format!("{}: no such run folder", dir.display()));
}

#[test]
fn a_folder_that_is_not_a_run_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let err = load_run(tmp.path()).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: not an rdbench run folder (no manifest.json)",
            tmp.path().display()
        )
    );
}

#[test]
fn a_malformed_job_record_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    let bad = run.dir.join("jobs").join("broken.json");
    std::fs::write(&bad, "{\"record\": 3}").unwrap();
    let err = load_run(&run.dir).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}: ", bad.display())), "{err}");
    assert!(!err.contains('\n'), "{err}");
}

#[test]
fn a_run_without_finished_jobs_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let v = Variant::default();
    std::fs::create_dir_all(tmp.path().join("jobs")).unwrap();
    std::fs::write(
        tmp.path().join("manifest.json"),
        serde_json::to_string(&manifest(&v)).unwrap(),
    )
    .unwrap();
    let run = load_run(tmp.path()).unwrap();
    let err = render(&run, &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: the run has no finished jobs (0 failed)",
            tmp.path().display()
        )
    );

    let mut failed = JobResult::default();
    failed.record.job_id = "synthetic/Cactus/x264/crf/0/r0".into();
    failed.record.status = rdbench_results::JobStatus::Failed;
    std::fs::write(
        tmp.path()
            .join("jobs")
            .join(job_file_name(&failed.record.job_id)),
        serde_json::to_string(&failed).unwrap(),
    )
    .unwrap();
    let run = load_run(tmp.path()).unwrap();
    let err = render(&run, &ReportOptions::default())
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        format!(
            "{}: the run has no finished jobs (1 failed)",
            tmp.path().display()
        )
    );
}

#[test]
fn an_unknown_anchor_is_named_with_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    let options = ReportOptions {
        anchor: Some("x266".into()),
        ..Default::default()
    };
    let err = render(&run, &options).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: unknown anchor 'x266' (the run's configurations are: svt-av1, x264, x265)",
            run.dir.display()
        )
    );
    assert!(
        !run.dir.join("report").exists(),
        "nothing is written for a refused report"
    );
}

#[test]
fn an_unknown_encode_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let run = write_run(tmp.path(), &Variant::default());
    let options = ReportOptions {
        encode: Some("Cactus/x264/crf/9".into()),
        ..Default::default()
    };
    let err = render(&run, &options).unwrap_err().to_string();
    assert_eq!(
        err,
        format!(
            "{}: unknown encode 'Cactus/x264/crf/9' (no finished job has that id; e.g. \
             'synthetic/BasketballDrive/x264/crf/0/r0')",
            run.dir.display()
        )
    );
}
