//! The run folder: where a benchmark run keeps everything, written so that nothing is ever half
//! written (each file goes to a temporary name and is renamed) and a killed run can resume.
//!
//! ```text
//! runs/<run_id>/
//!   manifest.json           Manifest: suite, versions, command line, host, processor, shard
//!   jobs/<job>.json         JobResult: one per finished job (the resume point)
//!   encodes.csv|.parquet    one EncodeRecord per row
//!   frames.csv|.parquet     one FrameRecord per row
//!   summary.json|.md        Summary: BD-rates, speed, bitrate error, machine use
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::record::{EncodeRecord, FrameRecord, Summary};

/// Errors reading or writing a run folder.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum RunError {
    /// A file that cannot be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A file that does not hold what it should.
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
    /// Not a run folder.
    #[error("{path}: not an rdbench run folder (no manifest.json)")]
    NotARun { path: PathBuf },
}

/// Versions of everything that shapes the results.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Versions {
    /// rdbench's version.
    pub rdbench: String,
    /// libavcodec, libavformat, libavfilter, libavutil, libswscale versions.
    pub ffmpeg: BTreeMap<String, String>,
    /// Each encoder's library version, by encoder name.
    pub encoders: BTreeMap<String, String>,
    /// libvmaf's version.
    pub libvmaf: String,
}

/// Which slice of the job list a run covers.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards.
    pub count: u32,
}

/// The processor a run ran on: its model and the SIMD extensions encoders pick kernels by. Runs on
/// different processors differ in speed, and some encoders' output depends on the kernels chosen
/// (libx264's AVX-512 macroblock tree, see the README's "Reproducibility").
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct CpuInfo {
    /// The model name as the kernel reports it (`/proc/cpuinfo`), empty when unknown.
    pub model: String,
    /// SIMD extensions present, from this list: sse4.2, avx, avx2, fma, avx512f, avx512bw,
    /// avx512vl, neon.
    pub features: Vec<String>,
}

impl CpuInfo {
    /// This machine's processor.
    pub fn detect() -> Self {
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|text| {
                text.lines()
                    .find(|l| l.starts_with("model name"))
                    .and_then(|l| l.split_once(':'))
                    .map(|(_, v)| v.trim().to_string())
            })
            .unwrap_or_default();
        let mut features: Vec<String> = Vec::new();
        #[cfg(target_arch = "x86_64")]
        {
            let found = [
                ("sse4.2", std::arch::is_x86_feature_detected!("sse4.2")),
                ("avx", std::arch::is_x86_feature_detected!("avx")),
                ("avx2", std::arch::is_x86_feature_detected!("avx2")),
                ("fma", std::arch::is_x86_feature_detected!("fma")),
                ("avx512f", std::arch::is_x86_feature_detected!("avx512f")),
                ("avx512bw", std::arch::is_x86_feature_detected!("avx512bw")),
                ("avx512vl", std::arch::is_x86_feature_detected!("avx512vl")),
            ];
            features.extend(found.iter().filter(|f| f.1).map(|f| f.0.to_string()));
        }
        #[cfg(target_arch = "aarch64")]
        features.push("neon".to_string());
        CpuInfo { model, features }
    }

    /// A short description: the model and the extensions.
    pub fn describe(&self) -> String {
        let model = if self.model.is_empty() {
            "unknown processor"
        } else {
            &self.model
        };
        format!("{model} [{}]", self.features.join(" "))
    }
}

/// `manifest.json`.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The run's id (its folder name).
    pub run_id: String,
    /// Suite name.
    pub suite_name: String,
    /// The suite exactly as read.
    pub suite_toml: String,
    /// The anchor configuration.
    pub anchor: String,
    /// The command line.
    pub command_line: Vec<String>,
    /// Git revision of rdbench.
    pub git_revision: String,
    /// Host name.
    pub host: String,
    /// Cores the run was allowed.
    pub cores: u32,
    /// The host's processor (absent from manifests written before it was recorded).
    #[serde(default)]
    pub cpu: CpuInfo,
    /// Start time (RFC 3339, UTC).
    pub started: String,
    /// End time, once finished.
    pub finished: Option<String>,
    /// Versions.
    pub versions: Versions,
    /// The shard, when sharded.
    pub shard: Option<Shard>,
    /// Runs merged into this one (their ids), when merged.
    pub merged_from: Vec<String>,
}

/// `jobs/<job>.json`: one finished job.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct JobResult {
    /// The table row.
    pub record: EncodeRecord,
    /// Per-frame data.
    pub frames: Vec<FrameRecord>,
}

/// A run folder, loaded.
#[derive(Clone, Debug, Default)]
pub struct LoadedRun {
    /// Where it is.
    pub dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// Every finished job, ordered by job id.
    pub jobs: Vec<JobResult>,
    /// Its summary, when the run finished.
    pub summary: Option<Summary>,
}

impl LoadedRun {
    /// The rows of the results table.
    pub fn records(&self) -> impl Iterator<Item = &EncodeRecord> {
        self.jobs.iter().map(|j| &j.record)
    }
}

/// The file name of a job's record (job ids contain '/').
pub fn job_file_name(job_id: &str) -> String {
    let safe: String = job_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.+=".contains(c) {
                c
            } else {
                '~'
            }
        })
        .collect();
    format!("{safe}.json")
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced, renamed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RunError> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let io = |action, source| RunError::Io {
        path: path.to_path_buf(),
        action,
        source,
    };
    let mut f = std::fs::File::create(&tmp).map_err(|e| io("creating", e))?;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io("writing", e));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io("renaming into place", e)
    })
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, RunError> {
    let text = std::fs::read_to_string(path).map_err(|e| RunError::Io {
        path: path.to_path_buf(),
        action: "reading",
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| RunError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Loads a run folder: its manifest, every job record, and its summary when present.
pub fn load(dir: &Path) -> Result<LoadedRun, RunError> {
    let manifest_path = dir.join("manifest.json");
    if !manifest_path.is_file() {
        return Err(RunError::NotARun {
            path: dir.to_path_buf(),
        });
    }
    let manifest: Manifest = read_json(&manifest_path)?;
    let mut jobs = Vec::new();
    let jobs_dir = dir.join("jobs");
    if jobs_dir.is_dir() {
        let entries = std::fs::read_dir(&jobs_dir).map_err(|e| RunError::Io {
            path: jobs_dir.clone(),
            action: "listing",
            source: e,
        })?;
        for e in entries.flatten() {
            let p = e.path();
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            jobs.push(read_json::<JobResult>(&p)?);
        }
    }
    jobs.sort_by(|a, b| a.record.job_id.cmp(&b.record.job_id));
    let summary_path = dir.join("summary.json");
    let summary = if summary_path.is_file() {
        Some(read_json(&summary_path)?)
    } else {
        None
    };
    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        manifest,
        jobs,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_file_names_are_flat_and_distinct() {
        assert_eq!(
            job_file_name("quick/titles/x264/crf/0/r0"),
            "quick~titles~x264~crf~0~r0.json"
        );
        assert_ne!(job_file_name("a/b"), job_file_name("a/c"));
    }

    #[test]
    fn atomic_writes_leave_no_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write_atomic(&p, b"{}").unwrap();
        write_atomic(&p, b"[1]").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "[1]");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn manifests_without_a_processor_still_load() {
        let mut value = serde_json::to_value(Manifest::default()).unwrap();
        value
            .as_object_mut()
            .unwrap()
            .remove("cpu")
            .expect("cpu is written");
        let m: Manifest = serde_json::from_value(value).unwrap();
        assert_eq!(m.cpu, CpuInfo::default());
    }

    #[test]
    fn the_processor_is_described_by_model_and_extensions() {
        let cpu = CpuInfo {
            model: "EPYC".into(),
            features: vec!["avx2".into(), "avx512f".into()],
        };
        assert_eq!(cpu.describe(), "EPYC [avx2 avx512f]");
        assert_eq!(CpuInfo::default().describe(), "unknown processor []");
    }
}
