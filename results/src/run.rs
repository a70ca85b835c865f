//! The run folder: where a benchmark run keeps everything, written so that nothing is ever half
//! written (each file goes to a temporary name and is renamed) and a killed run can resume.
//! Loading checks what it reads and names the file and the field when something is wrong.
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

use rdbench_bdrate::BdMethod;

use crate::record::{EncodeRecord, FrameRecord};

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
    /// The scorer: rdbench's revision of its metric kernels and which VMAF path it takes
    /// (each encode's record says which path scored it).
    #[serde(default)]
    pub scorer: String,
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
    /// SHA-256 of `suite_toml`.
    #[serde(default)]
    pub suite_sha256: String,
    /// The run's design: everything two runs must share to be compared (corpora, sequences,
    /// metrics, the configurations' names and rate points, repetitions, the BD method), as the
    /// harness wrote it. The encoder settings under test are not part of it. Absent from runs
    /// recorded before rdbench wrote it.
    #[serde(default)]
    pub design: Option<serde_json::Value>,
    /// The BD-rate method of the suite.
    #[serde(default)]
    pub bd_method: BdMethod,
    /// A merge of an incomplete set of shards (`rdbench merge --allow-partial`): the shards
    /// listed in `missing_shards` are not in it.
    #[serde(default)]
    pub partial: bool,
    /// The shard numbers a partial merge lacks.
    #[serde(default)]
    pub missing_shards: Vec<u32>,
}

impl Manifest {
    /// The design's content hash (SHA-256 of its canonical JSON), empty when there is none.
    pub fn design_hash(&self) -> String {
        use sha2::Digest;
        match &self.design {
            Some(d) => hex::encode(sha2::Sha256::digest(
                serde_json::to_vec(d).expect("JSON values serialise"),
            )),
            None => String::new(),
        }
    }
}

/// SHA-256 of a suite's text, as the manifest records it.
pub fn suite_hash(text: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// UTC time of `t` as RFC 3339 (`2026-11-21T13:45:07Z`) and as a folder stamp (`20261121-134507`).
pub fn timestamps(t: std::time::SystemTime) -> (String, String) {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    let (hh, mm, ss) = (rem / 3600, rem % 3600 / 60, rem % 60);
    (
        format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
        format!("{y:04}{m:02}{d:02}-{hh:02}{mm:02}{ss:02}"),
    )
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
    /// The job-phase figures of its summary (`summary.json`'s `harness`), when the run finished.
    pub harness: Option<crate::summary::HarnessFigures>,
    /// The per-title ladders of its sequences (`ladders/<corpus>/<sequence>.json`), when the
    /// suite asked for them, ordered by corpus and sequence.
    pub ladders: Vec<crate::ladder::SequenceLadder>,
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
    let mut de = serde_json::Deserializer::from_str(&text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        RunError::Format {
            path: path.to_path_buf(),
            message: if field.is_empty() || field == "." {
                inner.to_string()
            } else {
                format!("field `{field}`: {inner}")
            },
        }
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
    let harness = if summary_path.is_file() {
        let value: serde_json::Value = read_json(&summary_path)?;
        value
            .get("harness")
            .and_then(|h| serde_json::from_value(h.clone()).ok())
    } else {
        None
    };
    let mut ladders = Vec::new();
    let ladders_dir = dir.join("ladders");
    for corpus in std::fs::read_dir(&ladders_dir)
        .into_iter()
        .flatten()
        .flatten()
    {
        for e in std::fs::read_dir(corpus.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            ladders.push(read_json::<crate::ladder::SequenceLadder>(&p)?);
        }
    }
    ladders.sort_by(|a, b| (&a.corpus, &a.sequence).cmp(&(&b.corpus, &b.sequence)));
    Ok(LoadedRun {
        dir: dir.to_path_buf(),
        manifest,
        jobs,
        harness,
        ladders,
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
    fn timestamps_are_utc_civil_dates() {
        use std::time::{Duration, UNIX_EPOCH};
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        // Expected values from GNU date: `date -u -d @1795000000`.
        assert_eq!(timestamps(t).0, "2026-11-18T11:06:40Z");
        assert_eq!(timestamps(UNIX_EPOCH).1, "19700101-000000");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(timestamps(leap).0, "2000-02-29T00:00:00Z");
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
