//! The job grid: sequences x configurations x rate points x repetitions, with stable ids,
//! deterministic sharding, and the order jobs start in (longest first, so the run does not end
//! with one long job on an otherwise idle machine).

use std::sync::Arc;

use rdbench_corpora::{MaterializedSequence, SiTi};
use rdbench_transcode::spec::RcSpec;

use crate::suite::{ConfigSpec, PointSpec, Suite};
use rdbench_results::run::Shard;
use rdbench_results::RcMode;

/// A sequence ready to encode, with its corpus and content characterisation.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SourceSequence {
    /// Corpus name.
    pub corpus: String,
    /// The materialised sequence.
    pub seq: MaterializedSequence,
    /// SI/TI of its used frames.
    pub siti: Option<SiTi>,
}

/// How much of a job a run of it does. A run that scores the encodes of each source together
/// first encodes them all ([`JobStage::Encode`]), then scores them in groups into the score
/// cache, then finishes every job from its prepared encode and scores ([`JobStage::Finish`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStage {
    /// Encode and score (each from the cache when there).
    #[default]
    Whole,
    /// Only the encode, into the cache, for a group to score.
    Encode,
    /// The whole job, after this run prepared its encode and scores: the record counts as
    /// work of this run, not as taken from the cache.
    Finish,
}

/// One encode-and-score job.
#[derive(Clone, Debug)]
pub struct Job {
    /// `corpus/sequence/config/mode/point/rN`.
    pub id: String,
    /// The source.
    pub source: Arc<SourceSequence>,
    /// The encoder configuration.
    pub config: Arc<ConfigSpec>,
    /// The rate-control mode.
    pub mode: RcMode,
    /// Index of the point within the mode.
    pub point: u32,
    /// The point as written.
    pub spec: PointSpec,
    /// The rate control for this sequence (a derived target holds a placeholder until
    /// [`Job::resolve`] sets the bitrate its source reached).
    pub rc: RcSpec,
    /// Repetition.
    pub repetition: u32,
    /// Relative cost estimate (for ordering).
    pub cost: f64,
    /// How much of the job to run.
    pub stage: JobStage,
}

impl Job {
    /// Whether the target of this job comes from another job's bitrate.
    pub fn is_derived(&self) -> bool {
        self.spec.derived().is_some()
    }

    /// The id of the job whose bitrate sets this job's target (its first repetition).
    pub fn source_id(&self) -> Option<String> {
        let d = self.spec.derived()?;
        Some(format!(
            "{}/{}/{}/{}/{}/r0",
            self.source.corpus, self.source.seq.sequence.id, d.config, d.mode, d.index
        ))
    }

    /// Sets a derived target to `kbps` (rounded like every bitrate target).
    pub fn resolve(&mut self, kbps: f64) {
        let s = &self.source.seq.sequence;
        let pixels_per_s = s.width as f64 * s.height as f64 * s.fps.as_f64();
        self.rc = self
            .spec
            .rc_with(pixels_per_s, Some((kbps * 10.0).round() / 10.0));
    }
}

/// Relative encoder CPU cost per pixel at the presets people use (x264 medium = 1).
fn codec_cost(codec: &str) -> f64 {
    match codec {
        "libx264" => 1.0,
        "libx265" => 4.0,
        "libsvtav1" => 5.0,
        "libvpx-vp9" => 3.0,
        "libaom-av1" => 10.0,
        "librav1e" => 20.0,
        "external:x264" => 1.0,
        "external:x265" => 4.0,
        "external:SvtAv1EncApp" => 5.0,
        "external:aomenc" => 10.0,
        "external:vpxenc" => 3.0,
        _ => 2.0,
    }
}

/// Every job of `suite` over `sources`, sorted by id.
pub fn expand(suite: &Suite, sources: &[Arc<SourceSequence>]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for src in sources {
        let s = &src.seq.sequence;
        let pixels_per_s = s.width as f64 * s.height as f64 * s.fps.as_f64();
        let pixels = s.width as f64 * s.height as f64 * src.seq.frames as f64;
        for cfg in &suite.spec.configs {
            let cfg = Arc::new(cfg.clone());
            for (mode, point, spec) in cfg.points_in(&suite.spec.configs) {
                let rc = spec.rc(pixels_per_s);
                // A target's search encodes and scores about four CRFs.
                let passes = match mode {
                    RcMode::Abr2 => 2.0,
                    RcMode::TargetVmaf => 4.0,
                    _ => 1.0,
                };
                let score = 1.5 * suite.metrics.len() as f64 / 3.0;
                let cost = pixels
                    * (codec_cost(&cfg.encoder_name()) * cfg.threads.unwrap_or(1).max(1) as f64
                        + score)
                    * passes;
                for repetition in 0..suite.spec.repetitions {
                    jobs.push(Job {
                        id: format!(
                            "{}/{}/{}/{}/{}/r{}",
                            src.corpus, s.id, cfg.name, mode, point, repetition
                        ),
                        source: src.clone(),
                        config: cfg.clone(),
                        mode,
                        point,
                        spec: spec.clone(),
                        rc: rc.clone(),
                        repetition,
                        cost,
                        stage: JobStage::Whole,
                    });
                }
            }
        }
    }
    jobs.sort_by(|a, b| a.id.cmp(&b.id));
    jobs
}

/// The jobs of shard `shard` (1-based): every Nth job of the id-sorted list, so shards are
/// deterministic, disjoint and together cover the grid.
pub fn shard(jobs: Vec<Job>, shard: Option<Shard>) -> Vec<Job> {
    match shard {
        None => jobs,
        Some(s) => jobs
            .into_iter()
            .enumerate()
            .filter(|(i, _)| (*i as u32) % s.count == s.index - 1)
            .map(|(_, j)| j)
            .collect(),
    }
}

/// Orders jobs longest first (ties by id), so the run's tail is short.
pub fn longest_first(mut jobs: Vec<Job>) -> Vec<Job> {
    jobs.sort_by(|a, b| b.cost.total_cmp(&a.cost).then_with(|| a.id.cmp(&b.id)));
    jobs
}

/// Parses `K/N` (1 <= K <= N).
pub fn parse_shard(text: &str) -> Option<Shard> {
    let (k, n) = text.split_once('/')?;
    let (k, n): (u32, u32) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (n >= 1 && (1..=n).contains(&k)).then_some(Shard { index: k, count: n })
}

/// The shard from the environment of a cluster scheduler: a Slurm job array
/// (`SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`, `SLURM_ARRAY_TASK_MIN`) or a Kubernetes
/// Indexed Job (`JOB_COMPLETION_INDEX`, 0-based, with the count given separately).
pub fn shard_from_env(
    get: impl Fn(&str) -> Option<String>,
    count_hint: Option<u32>,
) -> Result<Option<Shard>, String> {
    let num = |name: &str| -> Result<Option<u32>, String> {
        match get(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u32>()
                .map(Some)
                .map_err(|_| format!("{name}={v} is not a whole number")),
        }
    };
    if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
        let count = num("SLURM_ARRAY_TASK_COUNT")?
            .or(count_hint)
            .ok_or("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not")?;
        let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
        let index = id.checked_sub(min).ok_or(format!(
            "SLURM_ARRAY_TASK_ID {id} is below SLURM_ARRAY_TASK_MIN {min}"
        ))? + 1;
        if index > count {
            return Err(format!(
                "SLURM_ARRAY_TASK_ID {id} is beyond the array of {count} tasks starting at {min}"
            ));
        }
        return Ok(Some(Shard { index, count }));
    }
    if let Some(i) = num("JOB_COMPLETION_INDEX")? {
        let count = count_hint.ok_or("JOB_COMPLETION_INDEX is set: give the number of shards with --shard-count (the Job's completions)")?;
        if i >= count {
            return Err(format!(
                "JOB_COMPLETION_INDEX {i} is beyond --shard-count {count}"
            ));
        }
        return Ok(Some(Shard {
            index: i + 1,
            count,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn shards_parse_and_come_from_schedulers() {
        assert_eq!(parse_shard("2/3"), Some(Shard { index: 2, count: 3 }));
        assert_eq!(parse_shard("0/3"), None);
        assert_eq!(parse_shard("4/3"), None);
        let env = |pairs: &[(&str, &str)]| {
            let m: HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            move |k: &str| m.get(k).cloned()
        };
        assert_eq!(
            shard_from_env(
                env(&[
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                    ("SLURM_ARRAY_TASK_MIN", "0")
                ]),
                None
            ),
            Ok(Some(Shard { index: 4, count: 4 }))
        );
        assert_eq!(
            shard_from_env(
                env(&[
                    ("SLURM_ARRAY_TASK_ID", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "2"),
                    ("SLURM_ARRAY_TASK_MIN", "1")
                ]),
                None
            ),
            Ok(Some(Shard { index: 1, count: 2 }))
        );
        assert_eq!(
            shard_from_env(env(&[("JOB_COMPLETION_INDEX", "0")]), Some(3)),
            Ok(Some(Shard { index: 1, count: 3 }))
        );
        assert!(shard_from_env(env(&[("JOB_COMPLETION_INDEX", "0")]), None)
            .unwrap_err()
            .contains("--shard-count"));
        assert_eq!(shard_from_env(env(&[]), None), Ok(None));
    }
}
