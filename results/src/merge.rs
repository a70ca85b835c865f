//! Joining shard runs into one run: the union of their job records, with tables and summary
//! computed over all of them, as if one machine had run the whole grid.
//!
//! A merge refuses what it cannot join: shards of different suites (content hash), of different
//! rdbench revisions or encoder library versions, overlapping shards, and an incomplete shard
//! set (every index of N present once, the missing ones named) unless
//! [`MergeOptions::allow_partial`] is set, in which case the run is marked partial and the
//! summary, reports and gate say so. It never depends on the merging host: no suite is re-checked
//! against this machine's cores.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use thiserror::Error;

use crate::run::{self, job_file_name, timestamps, write_atomic, LoadedRun, Manifest, RunError};
use crate::summary::{finish, HarnessFigures, Summary};

/// Why shards cannot be merged.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MergeError {
    /// A run folder.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Nothing given.
    #[error("nothing to merge: give the shard run folders")]
    Empty,
    /// The output folder holds a run already.
    #[error("{0}: already holds a run; merge into a new folder")]
    OutputExists(PathBuf),
    /// Two shards disagree on what they ran.
    #[error("{shard}: {what} differs from {first}'s ({value} vs {first_value}); shards must come from one suite run by one rdbench build")]
    Mismatch {
        shard: PathBuf,
        first: PathBuf,
        what: &'static str,
        value: String,
        first_value: String,
    },
    /// A folder that is not a shard.
    #[error("{0}: not a shard run (its manifest has no `shard`); merge the folders `rdbench bench --shard K/N` wrote")]
    NotAShard(PathBuf),
    /// Shards of different splits.
    #[error("{shard}: shard {index} of {count}, but {first} is of {first_count}")]
    ShardCount {
        shard: PathBuf,
        index: u32,
        count: u32,
        first: PathBuf,
        first_count: u32,
    },
    /// The same shard twice.
    #[error("shard {index} of {count} is given twice: {a} and {b}")]
    Duplicate {
        index: u32,
        count: u32,
        a: PathBuf,
        b: PathBuf,
    },
    /// Shards missing.
    #[error("shards {missing:?} of {count} are missing (have {have:?}); give them all, or --allow-partial to merge what is there")]
    Incomplete {
        missing: Vec<u32>,
        have: Vec<u32>,
        count: u32,
    },
    /// A job in two shards.
    #[error("job {job} is in both {a} and {b}: shards overlap")]
    Overlap { job: String, a: PathBuf, b: PathBuf },
}

/// How to merge.
#[derive(Clone, Debug, Default)]
pub struct MergeOptions {
    /// Merge an incomplete shard set, marking the run partial.
    pub allow_partial: bool,
}

/// What a merge did.
#[derive(Debug)]
pub struct MergeOutcome {
    /// The merged run's summary.
    pub summary: Summary,
    /// Notes for the user (processors that differ, a partial merge).
    pub notes: Vec<String>,
}

fn check_same(
    first: &LoadedRun,
    r: &LoadedRun,
    what: &'static str,
    get: impl Fn(&Manifest) -> String,
) -> Result<(), MergeError> {
    let (a, b) = (get(&first.manifest), get(&r.manifest));
    if a == b {
        Ok(())
    } else {
        Err(MergeError::Mismatch {
            shard: r.dir.clone(),
            first: first.dir.clone(),
            what,
            value: b,
            first_value: a,
        })
    }
}

/// Checks the shard set and returns the missing shard numbers.
fn check_shards(runs: &[LoadedRun]) -> Result<Vec<u32>, MergeError> {
    let first = &runs[0];
    for r in runs {
        check_same(first, r, "the suite (SHA-256 of its text)", |m| {
            if m.suite_sha256.is_empty() {
                run::suite_hash(&m.suite_toml)
            } else {
                m.suite_sha256.clone()
            }
        })?;
        check_same(first, r, "the rdbench revision", |m| m.git_revision.clone())?;
        check_same(first, r, "the encoder library versions", |m| {
            format!("{:?}", m.versions.encoders)
        })?;
        check_same(first, r, "the FFmpeg library versions", |m| {
            format!("{:?}", m.versions.ffmpeg)
        })?;
        check_same(first, r, "the libvmaf version", |m| {
            m.versions.libvmaf.clone()
        })?;
    }
    let count = first
        .manifest
        .shard
        .ok_or_else(|| MergeError::NotAShard(first.dir.clone()))?
        .count;
    let mut seen: BTreeMap<u32, &Path> = BTreeMap::new();
    for r in runs {
        let s = r
            .manifest
            .shard
            .ok_or_else(|| MergeError::NotAShard(r.dir.clone()))?;
        if s.count != count {
            return Err(MergeError::ShardCount {
                shard: r.dir.clone(),
                index: s.index,
                count: s.count,
                first: first.dir.clone(),
                first_count: count,
            });
        }
        if let Some(prev) = seen.insert(s.index, &r.dir) {
            return Err(MergeError::Duplicate {
                index: s.index,
                count,
                a: prev.to_path_buf(),
                b: r.dir.clone(),
            });
        }
    }
    Ok((1..=count).filter(|i| !seen.contains_key(i)).collect())
}

/// Merges the shard runs in `inputs` into a new run folder `out`.
pub fn merge(
    inputs: &[PathBuf],
    out: &Path,
    options: &MergeOptions,
) -> Result<MergeOutcome, MergeError> {
    if inputs.is_empty() {
        return Err(MergeError::Empty);
    }
    if out.join("manifest.json").exists() {
        return Err(MergeError::OutputExists(out.to_path_buf()));
    }
    let runs: Vec<LoadedRun> = inputs
        .iter()
        .map(|p| run::load(p))
        .collect::<Result<_, _>>()?;
    let missing = check_shards(&runs)?;
    let count = runs[0].manifest.shard.map(|s| s.count).unwrap_or(1);
    if !missing.is_empty() && !options.allow_partial {
        let mut have: Vec<u32> = runs
            .iter()
            .filter_map(|r| r.manifest.shard.map(|s| s.index))
            .collect();
        have.sort();
        return Err(MergeError::Incomplete {
            missing,
            have,
            count,
        });
    }
    let mut notes = Vec::new();
    let cpus: BTreeSet<String> = runs.iter().map(|r| r.manifest.cpu.describe()).collect();
    if cpus.len() > 1 {
        notes.push(format!(
            "the shards ran on different processors ({}): their CPU times are not comparable with each other",
            cpus.into_iter().collect::<Vec<_>>().join("; ")
        ));
    }
    if !missing.is_empty() {
        notes.push(format!(
            "partial merge: shards {missing:?} of {count} are missing; the run is marked partial"
        ));
    }
    let jobs_dir = out.join("jobs");
    std::fs::create_dir_all(&jobs_dir).map_err(|e| RunError::Io {
        path: jobs_dir.clone(),
        action: "creating",
        source: e,
    })?;
    let run_id = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "merged".into());
    let mut seen: BTreeMap<String, PathBuf> = BTreeMap::new();
    let (mut cpu, mut failed) = (0.0, 0);
    for r in &runs {
        for j in &r.jobs {
            if let Some(other) = seen.insert(j.record.job_id.clone(), r.dir.clone()) {
                return Err(MergeError::Overlap {
                    job: j.record.job_id.clone(),
                    a: other,
                    b: r.dir.clone(),
                });
            }
        }
    }
    for r in &runs {
        for j in &r.jobs {
            let mut j = j.clone();
            j.record.run_id = run_id.clone();
            cpu += j.record.job_cpu_s;
            failed += (!j.record.is_ok()) as u32;
            write_atomic(
                &jobs_dir.join(job_file_name(&j.record.job_id)),
                &serde_json::to_vec(&j).expect("records serialise"),
            )?;
        }
    }
    for r in &runs {
        for l in &r.ladders {
            crate::ladder::write(out, l)?;
        }
    }
    let first = &runs[0].manifest;
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
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
            .join(","),
        cores: runs.iter().map(|r| r.manifest.cores).sum(),
        partial: !missing.is_empty(),
        missing_shards: missing,
        ..first.clone()
    };
    write_atomic(
        &out.join("manifest.json"),
        &serde_json::to_vec_pretty(&manifest).expect("manifests serialise"),
    )?;
    let wall = runs
        .iter()
        .filter_map(|r| r.harness.as_ref().map(|h| h.wall_s))
        .fold(0.0, f64::max);
    let harness = HarnessFigures {
        wall_s: wall,
        jobs_cpu_s: cpu,
        cores: manifest.cores,
        jobs_run: seen.len() as u32,
        jobs_failed: failed,
        ..Default::default()
    };
    let summary = finish(out, harness)?;
    Ok(MergeOutcome { summary, notes })
}
