//! Joining shard runs into one run: the union of their job records, with tables and summary
//! computed over all of them, as if one machine had run the whole grid.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::harness::{finish, timestamps, HarnessError};
use crate::record::{HarnessFigures, Summary};
use crate::run::{self, job_file_name, write_atomic, Manifest, RunError};
use crate::suite::Suite;

/// Merges the runs in `inputs` (shards of one suite) into a new run folder `out`.
pub fn merge(inputs: &[PathBuf], out: &Path) -> Result<Summary, HarnessError> {
    if inputs.is_empty() {
        return Err(HarnessError::Resume {
            path: out.to_path_buf(),
            message: "nothing to merge".into(),
        });
    }
    let runs: Vec<run::LoadedRun> = inputs
        .iter()
        .map(|p| run::load(p))
        .collect::<Result<_, _>>()?;
    let first = &runs[0];
    for r in &runs[1..] {
        if r.manifest.suite_toml != first.manifest.suite_toml {
            return Err(HarnessError::Resume {
                path: r.dir.clone(),
                message: format!(
                    "ran another suite than {} (`{}` vs `{}`)",
                    first.dir.display(),
                    r.manifest.suite_name,
                    first.manifest.suite_name
                ),
            });
        }
    }
    if out.join("manifest.json").exists() {
        return Err(HarnessError::Resume {
            path: out.to_path_buf(),
            message: "already holds a run; merge into a new folder".into(),
        });
    }
    let suite =
        Suite::parse(&first.manifest.suite_toml, None).map_err(|e| HarnessError::Resume {
            path: first.dir.clone(),
            message: e.to_string(),
        })?;
    let jobs_dir = out.join("jobs");
    std::fs::create_dir_all(&jobs_dir).map_err(|e| RunError::Io {
        path: jobs_dir.clone(),
        action: "creating",
        source: e,
    })?;
    let mut seen: std::collections::BTreeMap<String, PathBuf> = std::collections::BTreeMap::new();
    let run_id = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "merged".into());
    let mut cpu = 0.0;
    let mut failed = 0;
    for r in &runs {
        for j in &r.jobs {
            if let Some(other) = seen.insert(j.record.job_id.clone(), r.dir.clone()) {
                return Err(HarnessError::Resume {
                    path: r.dir.clone(),
                    message: format!(
                        "job {} is also in {}: shards overlap",
                        j.record.job_id,
                        other.display()
                    ),
                });
            }
            let mut j = j.clone();
            j.record.run_id = run_id.clone();
            cpu += j.record.job_cpu_s;
            failed += (j.record.status != "ok") as u32;
            write_atomic(
                &jobs_dir.join(job_file_name(&j.record.job_id)),
                &serde_json::to_vec(&j).expect("records serialise"),
            )?;
        }
    }
    let manifest = Manifest {
        run_id: run_id.clone(),
        shard: None,
        merged_from: runs.iter().map(|r| r.manifest.run_id.clone()).collect(),
        started: runs
            .iter()
            .map(|r| r.manifest.started.clone())
            .min()
            .unwrap_or_default(),
        finished: Some(timestamps(SystemTime::now()).0),
        host: runs
            .iter()
            .map(|r| r.manifest.host.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(","),
        ..first.manifest.clone()
    };
    write_atomic(
        &out.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
    )?;
    let wall = runs
        .iter()
        .filter_map(|r| r.summary.as_ref().map(|s| s.harness.wall_s))
        .fold(0.0, f64::max);
    let harness = HarnessFigures {
        wall_s: wall,
        jobs_cpu_s: cpu,
        cores: runs.iter().map(|r| r.manifest.cores).sum(),
        wall_over_ideal: 0.0,
        jobs_run: seen.len() as u32,
        jobs_failed: failed,
        ..Default::default()
    };
    finish(out, &suite, harness)
}
