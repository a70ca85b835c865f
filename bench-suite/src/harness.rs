//! A benchmark run: materialise the corpora, expand the job grid, run the jobs on a sized rayon
//! pool (longest first), write each finished job's record atomically, and finish with the tables
//! and the summary. A killed run continues with [`RunOptions::resume`]; a shard runs a slice.
//! With the cache on, the point jobs of each source run in stages (encode all, score each
//! source's encodes together into the score cache, finish every job from the cache) unless
//! [`RunOptions::score_alone`] asks for each job to score its own encode.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use rdbench_corpora::materialize::Decoder;
use rdbench_corpora::{Cache, Corpus, MaterializeOptions};

use crate::media::CoreDecoder;
use rdbench_results::run::{
    self, job_file_name, timestamps, write_atomic, CpuInfo, JobResult, Manifest, RunError, Shard,
    Versions,
};
use rdbench_results::summary::{finish, HarnessFigures, Summary};
use rdbench_results::{EncodeRecord, JobStatus, RcMode};
use thiserror::Error;

use crate::cache::ResultCache;
use crate::execute::{
    execute, needs_scores, score_group, scores_cached, Context, GroupScoring, JobRun,
};
use crate::grid::{self, Job, JobStage, SourceSequence};
use crate::suite::Suite;
use crate::worker::{failed_record, lost_job, Worker, WorkerInit};

/// Errors of a run as a whole (a failing job is recorded, not an error).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum HarnessError {
    /// A corpus problem (unknown name, missing file, checksum mismatch).
    #[error(transparent)]
    Corpus(#[from] rdbench_corpora::CorpusError),
    /// The run folder.
    #[error(transparent)]
    Run(#[from] RunError),
    /// Resuming a run of another suite, or a run that is not one.
    #[error("{path}: cannot resume: {message}")]
    Resume { path: PathBuf, message: String },
    /// Writing results failed (disk full?); what finished is kept.
    #[error("{message}; the {finished} jobs finished so far are kept, `--resume {run}` continues", run = run.display())]
    Write {
        /// What failed, naming the file.
        message: String,
        finished: usize,
        run: PathBuf,
    },
    /// A sequence filter named nothing.
    #[error("suite `sequences`: `{0}` matches no sequence of the suite's corpora")]
    NoSuchSequence(String),
    /// The thread pool.
    #[error("cannot start the job pool: {0}")]
    Pool(String),
}

/// How to run.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// The folder that holds run folders (`runs/`).
    pub runs_dir: PathBuf,
    /// Continue this run folder instead of starting a new one.
    pub resume: Option<PathBuf>,
    /// Run only this slice of the job list.
    pub shard: Option<Shard>,
    /// Concurrent jobs (default: the suite's, else cores / encoder threads).
    pub jobs: Option<u32>,
    /// Cache root (corpora and results); None: the default cache.
    pub cache_dir: Option<PathBuf>,
    /// Reuse and store encodes and scores.
    pub use_cache: bool,
    /// The command line, for the manifest.
    pub command_line: Vec<String>,
    /// rdbench's git revision.
    pub git_revision: String,
    /// rdbench's version.
    pub version: String,
    /// A fixed run id (default: time and host).
    pub run_id: Option<String>,
    /// Media files (files, folders, patterns) to benchmark instead of the suite's corpora.
    pub clips: Vec<PathBuf>,
    /// Resample variable-frame-rate sources to their nominal rate instead of refusing them.
    pub cfr: bool,
    /// Run each job in a worker process of this executable (`EXE __worker`); None: on the
    /// pool's threads in this process.
    pub worker: Option<PathBuf>,
    /// Score each encode on its own, in its job, instead of all encodes of a source together
    /// (which needs the cache: the groups hand their scores to the jobs through it).
    pub score_alone: bool,
}

/// Hears about a run's progress.
pub trait Observer: Sync {
    /// The job list is known: `todo` to run, `done` already finished (resume).
    fn planned(&self, _todo: usize, _done: usize) {}
    /// A job finished.
    fn finished(&self, _record: &EncodeRecord, _done: usize, _todo: usize) {}
    /// The encode of a job whose source's encodes are scored together finished (`done` of
    /// `todo` such encodes); its job finishes after the scoring.
    fn encoded(&self, _record: &EncodeRecord, _done: usize, _todo: usize) {}
    /// Something worth saying.
    fn note(&self, _text: &str) {}
}

/// An observer that says nothing.
pub struct Silent;
impl Observer for Silent {}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutcome {
    /// The run folder.
    pub dir: PathBuf,
    /// Its summary.
    pub summary: Summary,
    /// Jobs that failed.
    pub failed: usize,
}

/// This host's name.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// Materialises the suite's sequences (generating, decoding or verifying files) with their
/// SI/TI; `clips` (media files) replace the suite's corpora when given.
pub fn sources(
    suite: &Suite,
    cache: &Cache,
    observer: &dyn Observer,
    clips: &[PathBuf],
    cfr: bool,
) -> Result<Vec<Arc<SourceSequence>>, HarnessError> {
    let mut out = Vec::new();
    let corpora: Vec<Corpus> = if clips.is_empty() {
        suite
            .spec
            .corpora
            .iter()
            .map(|n| Corpus::load(n))
            .collect::<Result<_, _>>()?
    } else {
        vec![Corpus::of_clips("clips", clips)?]
    };
    let opts = MaterializeOptions {
        decoder: Some(Decoder(Arc::new(CoreDecoder))),
        cfr,
        ..Default::default()
    };
    for corpus in corpora {
        observer.note(&format!(
            "corpus {}: preparing {} sequences",
            corpus.name,
            corpus.sequences().len()
        ));
        let mut on_event = |e: &rdbench_corpora::Event| {
            if let rdbench_corpora::Event::Decoded { id, .. } = e {
                observer.note(&format!("{id}: decoded into the corpus cache"));
            }
        };
        let materialized: Vec<_> = corpus
            .sequences()
            .iter()
            .map(|s| corpus.materialize_sequence(s, cache, &opts, &mut on_event))
            .collect::<Result<_, _>>()?;
        for m in materialized {
            let wanted = suite.spec.sequences.is_empty()
                || suite.spec.sequences.iter().any(|s| {
                    *s == m.sequence.id || *s == format!("{}/{}", corpus.name, m.sequence.id)
                });
            if !wanted {
                continue;
            }
            let siti = m.siti().ok();
            out.push(Arc::new(SourceSequence {
                corpus: corpus.name.clone(),
                seq: m,
                siti,
            }));
        }
    }
    for s in &suite.spec.sequences {
        if !out
            .iter()
            .any(|x| *s == x.seq.sequence.id || *s == format!("{}/{}", x.corpus, x.seq.sequence.id))
        {
            return Err(HarnessError::NoSuchSequence(s.clone()));
        }
    }
    Ok(out)
}

fn running_marker(jobs_dir: &Path, id: &str) -> PathBuf {
    jobs_dir.join(format!(".running-{}", job_file_name(id)))
}

/// Runs a suite.
pub fn run(
    suite: &Suite,
    options: &RunOptions,
    observer: &dyn Observer,
) -> Result<RunOutcome, HarnessError> {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    let corpus_cache = Cache::resolve(options.cache_dir.as_deref())?;
    let results_cache = ResultCache::new(
        options
            .use_cache
            .then(|| corpus_cache.root().to_path_buf())
            .as_deref(),
    );
    let host = host_name();
    let (started, stamp) = timestamps(SystemTime::now());

    let srcs = sources(suite, &corpus_cache, observer, &options.clips, options.cfr)?;
    // The design names the clips by content, so two runs over other files are not compared.
    let design = {
        let mut d = suite.design();
        if !options.clips.is_empty() {
            d["corpora"] = serde_json::json!(["clips"]);
            d["clips"] = serde_json::json!(srcs
                .iter()
                .map(|s| serde_json::json!({ "id": s.seq.sequence.id, "sha256": s.seq.source_sha256 }))
                .collect::<Vec<_>>());
        }
        d
    };
    // The run folder: new, or the one being resumed.
    let (dir, manifest) = match &options.resume {
        Some(dir) => {
            let loaded = run::load(dir).map_err(|e| HarnessError::Resume {
                path: dir.clone(),
                message: e.to_string(),
            })?;
            if loaded.manifest.suite_toml != suite.text {
                return Err(HarnessError::Resume {
                    path: dir.clone(),
                    message: format!(
                        "it ran suite `{}` with other settings; resume with the same suite file",
                        loaded.manifest.suite_name
                    ),
                });
            }
            if loaded
                .manifest
                .design
                .as_ref()
                .is_some_and(|d| *d != design)
            {
                return Err(HarnessError::Resume {
                    path: dir.clone(),
                    message: "it ran other sequences (the clips or corpora differ); resume with the same ones".into(),
                });
            }
            (dir.clone(), loaded.manifest)
        }
        None => {
            let mut id = options
                .run_id
                .clone()
                .unwrap_or_else(|| format!("{stamp}-{host}"));
            if let Some(s) = options.shard {
                id.push_str(&format!("-shard{}of{}", s.index, s.count));
            }
            let dir = options.runs_dir.join(&id);
            std::fs::create_dir_all(dir.join("jobs")).map_err(|e| RunError::Io {
                path: dir.clone(),
                action: "creating",
                source: e,
            })?;
            let manifest = Manifest {
                run_id: id,
                suite_name: suite.spec.name.clone(),
                suite_toml: suite.text.clone(),
                anchor: suite.spec.anchor.clone(),
                command_line: options.command_line.clone(),
                git_revision: options.git_revision.clone(),
                host: host.clone(),
                cores,
                cpu: CpuInfo::detect(),
                started: started.clone(),
                finished: None,
                versions: Versions {
                    rdbench: options.version.clone(),
                    ffmpeg: rdbench_transcode::versions::ffmpeg(),
                    encoders: {
                        let mut e = rdbench_transcode::versions::encoders();
                        for c in suite.spec.configs.iter().filter(|c| c.command.is_some()) {
                            e.insert(c.encoder_name(), c.encoder_version());
                        }
                        e
                    },
                    libvmaf: rdbench_metrics::vmaf::libvmaf_version(),
                    scorer: rdbench_metrics::scorer_description(),
                },
                shard: options.shard,
                merged_from: Vec::new(),
                suite_sha256: run::suite_hash(&suite.text),
                design: Some(design),
                bd_method: suite.bd_method,
                partial: false,
                missing_shards: Vec::new(),
            };
            write_atomic(
                &dir.join("manifest.json"),
                &serde_json::to_vec_pretty(&manifest).expect("manifest serialises"),
            )?;
            (dir, manifest)
        }
    };
    let jobs_dir = dir.join("jobs");
    // A run killed while writing leaves temporary files: they were never complete, so they go.
    for folder in [&dir, &jobs_dir] {
        for e in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') && name.contains(".tmp-") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::create_dir_all(&jobs_dir).map_err(|e| RunError::Io {
        path: jobs_dir.clone(),
        action: "creating",
        source: e,
    })?;

    let everything = grid::expand(suite, &srcs);
    let all = grid::shard(everything.clone(), manifest.shard.or(options.shard));
    let total = all.len();
    // Resume: skip finished jobs. In-process, a job that was running when the process died is
    // retried once and recorded as failed if it kills the process again. With workers a job's
    // crash is recorded when it happens, so a marker only says the harness itself was killed
    // (not the job's fault): it is removed and the job runs again.
    let mut todo: Vec<Job> = Vec::new();
    let mut crashed: Vec<JobResult> = Vec::new();
    for job in all {
        if jobs_dir.join(job_file_name(&job.id)).is_file() {
            continue;
        }
        let marker = running_marker(&jobs_dir, &job.id);
        let attempts: u32 = std::fs::read_to_string(&marker)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if options.worker.is_some() && attempts > 0 {
            let _ = std::fs::remove_file(&marker);
        } else if attempts >= 2 {
            let record = failed_record(
                &manifest.run_id,
                &job,
                JobStatus::Failed,
                format!(
                    "the process died {attempts} times while running this job (an encoder crash?)"
                ),
            );
            crashed.push(JobResult {
                record,
                frames: Vec::new(),
            });
            continue;
        }
        todo.push(job);
    }
    for c in &crashed {
        let path = jobs_dir.join(job_file_name(&c.record.job_id));
        write_atomic(&path, &serde_json::to_vec(c).expect("records serialise"))?;
        let _ = std::fs::remove_file(running_marker(&jobs_dir, &c.record.job_id));
    }
    // Jobs whose bitrate target comes from another job's encode (`abr_from`) run after the
    // others, once their sources are known.
    let (derived, fixed): (Vec<Job>, Vec<Job>) = todo.into_iter().partition(|j| j.is_derived());
    let todo = grid::longest_first(fixed);
    let planned = todo.len() + derived.len();
    observer.planned(planned, total - planned);

    let ctx = Context {
        suite,
        run_id: manifest.run_id.clone(),
        git_revision: manifest.git_revision.clone(),
        host: host.clone(),
        cache: results_cache,
        scratch: dir.join("encodes"),
    };
    if !ctx.cache.enabled() {
        let _ = std::fs::create_dir_all(&ctx.scratch);
    }
    let n_jobs = match options.jobs {
        Some(j) => j.max(1),
        None => {
            let (j, note) = suite.jobs(cores);
            if let Some(note) = note {
                observer.note(&note);
            }
            j
        }
    } as usize;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_jobs)
        .thread_name(|i| format!("bench-job-{i}"))
        .build()
        .map_err(|e| HarnessError::Pool(e.to_string()))?;
    let done = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let runs: Mutex<Vec<JobRun>> = Mutex::new(Vec::new());
    // Encodes made for the groups to score (their jobs' records come later), and the groups.
    let prepared: Mutex<Vec<JobRun>> = Mutex::new(Vec::new());
    let grouped: Mutex<GroupScoring> = Mutex::new(GroupScoring::default());
    let write_error: Mutex<Option<RunError>> = Mutex::new(None);
    let phase_start = Instant::now();
    let record = |run: JobRun| -> Result<(), RunError> {
        let path = jobs_dir.join(job_file_name(&run.result.record.job_id));
        write_atomic(
            &path,
            &serde_json::to_vec(&run.result).expect("records serialise"),
        )?;
        let n = done.fetch_add(1, Ordering::SeqCst) + 1;
        observer.finished(&run.result.record, n, planned);
        runs.lock().unwrap_or_else(|p| p.into_inner()).push(run);
        Ok(())
    };
    let init = WorkerInit {
        suite_text: suite.text.clone(),
        suite_path: suite.path.clone(),
        run_id: ctx.run_id.clone(),
        git_revision: ctx.git_revision.clone(),
        host: ctx.host.clone(),
        cache_root: options.use_cache.then(|| corpus_cache.root().to_path_buf()),
        scratch: ctx.scratch.clone(),
    };
    let run_phase = |todo: &[Job]| {
        let next = AtomicUsize::new(0);
        let encoded = AtomicUsize::new(0);
        pool.scope(|s| {
            for _ in 0..n_jobs {
                s.spawn(|_| {
                    let mut worker: Option<Worker> = None;
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(job) = todo.get(i) else { break };
                        let marker = running_marker(&jobs_dir, &job.id);
                        if options.worker.is_none() {
                            let attempts: u32 = std::fs::read_to_string(&marker)
                                .ok()
                                .and_then(|s| s.trim().parse().ok())
                                .unwrap_or(0);
                            let _ = std::fs::write(&marker, format!("{}", attempts + 1));
                        }
                        let run = match &options.worker {
                            // In a worker process: a crash takes this job down alone.
                            Some(exe) => {
                                let w = match worker.take() {
                                    Some(w) => Ok(w),
                                    None => Worker::spawn(exe, &init),
                                };
                                match w {
                                    Ok(mut w) => {
                                        let timeout = suite.job_timeout(job);
                                        match w.run(job, timeout, &ctx.run_id) {
                                            Ok(run) => {
                                                worker = Some(w);
                                                run
                                            }
                                            Err(lost) => lost,
                                        }
                                    }
                                    Err(e) => lost_job(&ctx.run_id, job, JobStatus::Failed, e),
                                }
                            }
                            None => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                execute(&ctx, job)
                            }))
                            .unwrap_or_else(|p| {
                                let msg = p
                                    .downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                                    .unwrap_or_default();
                                lost_job(
                                    &ctx.run_id,
                                    job,
                                    JobStatus::Failed,
                                    format!("internal error: {msg}"),
                                )
                            }),
                        };
                        // An encode for a group: kept aside until its job is finished. A failed
                        // one is the job's record.
                        if job.stage == JobStage::Encode && run.result.record.is_ok() {
                            let _ = std::fs::remove_file(&marker);
                            let n = encoded.fetch_add(1, Ordering::SeqCst) + 1;
                            observer.encoded(&run.result.record, n, todo.len());
                            prepared.lock().unwrap_or_else(|p| p.into_inner()).push(run);
                            continue;
                        }
                        // A job that failed because the disk is full did not fail: stop the run
                        // without recording it, so that `--resume` on a larger disk redoes it.
                        let disk_full = !run.result.record.is_ok()
                            && run
                                .result
                                .record
                                .error
                                .as_deref()
                                .is_some_and(|e| e.contains("No space left on device"));
                        if disk_full {
                            let _ = std::fs::remove_file(&marker);
                            stop.store(true, Ordering::SeqCst);
                            write_error
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(RunError::Io {
                                    path: dir.clone(),
                                    action: "writing",
                                    source: std::io::Error::from_raw_os_error(libc_enospc()),
                                });
                            continue;
                        }
                        let path = jobs_dir.join(job_file_name(&job.id));
                        let mut run = run;
                        let c = rdbench_transcode::cpu::thread_cpu_s();
                        let written = write_atomic(
                            &path,
                            &serde_json::to_vec(&run.result).expect("records serialise"),
                        );
                        // Writing the record is the harness's own work too.
                        run.overhead_cpu_s += rdbench_transcode::cpu::thread_cpu_s() - c;
                        match written {
                            Ok(()) => {
                                let _ = std::fs::remove_file(&marker);
                                let n = done.fetch_add(1, Ordering::SeqCst) + 1;
                                observer.finished(&run.result.record, n, planned);
                                runs.lock().unwrap_or_else(|p| p.into_inner()).push(run);
                            }
                            Err(e) => {
                                let _ = std::fs::remove_file(&marker);
                                stop.store(true, Ordering::SeqCst);
                                write_error
                                    .lock()
                                    .unwrap_or_else(|p| p.into_inner())
                                    .get_or_insert(e);
                            }
                        }
                    }
                });
            }
        });
    };
    // With the cache, the point jobs of a source with several of them run in three steps: every
    // encode, then the scoring of each source's encodes together (the reference decoded once,
    // its share of the metrics done once per frame) into the score cache, then each job from its
    // prepared encode and scores. Records and cache entries are those of jobs run alone.
    // Groups are scored in this process, not in the workers. If a previous attempt of the run
    // died while scoring groups (a decoder crashing on an encode, say), this one scores each
    // encode in its own job, where a crash takes that job alone, so the run always ends.
    let group_marker = jobs_dir.join(".scoring-groups");
    let died_grouping = group_marker.is_file();
    if died_grouping {
        let _ = std::fs::remove_file(&group_marker);
        observer.note(
            "the previous attempt of this run died while scoring encodes in groups: this one scores each encode in its own job",
        );
    }
    let run_grouped = |todo: &[Job]| {
        let mut by_source: std::collections::BTreeMap<&Path, Vec<usize>> = Default::default();
        if !options.score_alone && !died_grouping && ctx.cache.enabled() {
            for (i, j) in todo.iter().enumerate() {
                if j.mode != RcMode::TargetVmaf && !scores_cached(&ctx, j) {
                    by_source.entry(&j.source.seq.path).or_default().push(i);
                }
            }
        }
        by_source.retain(|_, v| v.len() >= 2);
        if by_source.is_empty() {
            run_phase(todo);
            return;
        }
        let in_group: std::collections::HashSet<usize> =
            by_source.values().flatten().copied().collect();
        let staged = |stage: JobStage| -> Vec<Job> {
            todo.iter()
                .enumerate()
                .map(|(i, j)| {
                    let mut j = j.clone();
                    if in_group.contains(&i) {
                        j.stage = stage;
                    }
                    j
                })
                .collect()
        };
        let encodes: Vec<Job> = staged(JobStage::Encode)
            .into_iter()
            .filter(|j| j.stage == JobStage::Encode)
            .collect();
        run_phase(&encodes);
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let groups: Vec<Vec<&Job>> = by_source
            .values()
            .map(|v| {
                v.iter()
                    .map(|&i| &todo[i])
                    .filter(|j| needs_scores(&ctx, j))
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect();
        // Enough groups to keep every thread busy to the end (at least four a thread, each of
        // at least four encodes, as even as can be), the largest first.
        let n: usize = groups.iter().map(Vec::len).sum();
        let limit = n.div_ceil(4 * n_jobs).clamp(4, crate::compare::GROUP_LIMIT);
        let mut groups: Vec<Vec<&Job>> = groups
            .into_iter()
            .flat_map(|g| {
                let even = g.len().div_ceil(g.len().div_ceil(limit));
                g.chunks(even).map(<[&Job]>::to_vec).collect::<Vec<_>>()
            })
            .collect();
        let size = |g: &Vec<&Job>| {
            let s = &g[0].source.seq;
            s.sequence.width as f64 * s.sequence.height as f64 * s.frames as f64 * g.len() as f64
        };
        groups.sort_by(|a, b| size(b).total_cmp(&size(a)));
        observer.note(&format!(
            "scoring {n} encodes in {} groups, each of encodes of one source",
            groups.len()
        ));
        let next = AtomicUsize::new(0);
        let _ = std::fs::write(&group_marker, b"");
        pool.scope(|s| {
            for _ in 0..n_jobs {
                s.spawn(|_| loop {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Some(g) = groups.get(next.fetch_add(1, Ordering::SeqCst)) else {
                        break;
                    };
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        score_group(&ctx, g)
                    }))
                    .unwrap_or_default();
                    let mut t = grouped.lock().unwrap_or_else(|p| p.into_inner());
                    t.scored += r.scored;
                    t.failed += r.failed;
                    t.cpu_s += r.cpu_s;
                });
            }
        });
        let _ = std::fs::remove_file(&group_marker);
        // Jobs whose encode failed have their record already.
        let finish: Vec<Job> = staged(JobStage::Finish)
            .into_iter()
            .filter(|j| !jobs_dir.join(job_file_name(&j.id)).is_file())
            .collect();
        run_phase(&finish);
    };
    run_grouped(&todo);
    // Resolve the derived targets: from this run's records, else from the source encode
    // itself (a shard may not hold the jobs its targets come from; the encode cache makes that
    // free when the shards share it).
    let mut ready = Vec::new();
    if !stop.load(Ordering::SeqCst) {
        for mut job in derived {
            let source = job.source_id().expect("derived");
            let from_record = std::fs::read(jobs_dir.join(job_file_name(&source)))
                .ok()
                .and_then(|b| serde_json::from_slice::<JobResult>(&b).ok());
            let kbps = match from_record {
                Some(r) if r.record.is_ok() => Ok(r.record.bitrate_kbps),
                Some(r) => Err(r.record.error.unwrap_or_default()),
                None => match everything.iter().find(|j| j.id == source) {
                    Some(src) => crate::execute::encode_bitrate(&ctx, src),
                    None => Err("it is not a job of this suite".into()),
                },
            };
            match kbps {
                Ok(k) if k > 0.0 => {
                    job.resolve(k);
                    ready.push(job);
                }
                other => {
                    let why = match other {
                        Err(e) => e,
                        Ok(k) => format!("it reached {k} kbit/s"),
                    };
                    let failed = lost_job(
                        &ctx.run_id,
                        &job,
                        JobStatus::Failed,
                        format!("its target is the bitrate of {source}, which has none: {why}"),
                    );
                    if let Err(e) = record(failed) {
                        stop.store(true, Ordering::SeqCst);
                        write_error
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .get_or_insert(e);
                    }
                }
            }
        }
    }
    if !stop.load(Ordering::SeqCst) {
        run_grouped(&grid::longest_first(ready));
    }
    let phase_wall = phase_start.elapsed().as_secs_f64();
    if let Some(e) = write_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(HarnessError::Write {
            message: e.to_string(),
            finished: done.load(Ordering::SeqCst),
            run: dir.clone(),
        });
    }
    let runs = runs.into_inner().unwrap_or_else(|p| p.into_inner());

    // Machine use of the jobs this process ran, the encodes made for groups included.
    let prepared = prepared.into_inner().unwrap_or_else(|p| p.into_inner());
    let grouped = grouped.into_inner().unwrap_or_else(|p| p.into_inner());
    let executed: Vec<&JobRun> = runs
        .iter()
        .filter(|r| !r.result.record.cached)
        .chain(&prepared)
        .collect();
    let jobs_cpu: f64 = executed.iter().map(|r| r.cpu_s).sum::<f64>() + grouped.cpu_s;
    let alone_scored: Vec<&JobRun> = runs.iter().filter(|r| r.score_cpu_s > 0.0).collect();
    // Per encode: the harness's CPU outside the encoder, decoders and scorers, as a share of the
    // encoder's; an encode made for a group has its job's finishing added.
    let made_for_groups: std::collections::HashMap<&str, &JobRun> = prepared
        .iter()
        .map(|r| (r.result.record.job_id.as_str(), r))
        .collect();
    let overheads: Vec<f64> = runs
        .iter()
        .filter(|r| !r.result.record.cached)
        .filter_map(
            |r| match made_for_groups.get(r.result.record.job_id.as_str()) {
                Some(p) if p.encode_cpu_s > 0.0 => {
                    Some(100.0 * (p.overhead_cpu_s + r.overhead_cpu_s) / p.encode_cpu_s)
                }
                _ if r.encode_cpu_s > 0.0 => Some(100.0 * r.overhead_cpu_s / r.encode_cpu_s),
                _ => None,
            },
        )
        .collect();
    let harness = HarnessFigures {
        wall_s: phase_wall,
        jobs_cpu_s: jobs_cpu,
        cores,
        wall_over_ideal: if jobs_cpu > 0.0 {
            phase_wall / (jobs_cpu / cores as f64)
        } else {
            0.0
        },
        overhead_pct_max: overheads.iter().copied().fold(0.0, f64::max),
        overhead_pct_mean: if overheads.is_empty() {
            0.0
        } else {
            overheads.iter().sum::<f64>() / overheads.len() as f64
        },
        jobs_run: runs.len() as u32,
        jobs_cached: runs.iter().filter(|r| r.result.record.cached).count() as u32,
        jobs_failed: runs.iter().filter(|r| !r.result.record.is_ok()).count() as u32,
        score_cpu_s: grouped.cpu_s + alone_scored.iter().map(|r| r.score_cpu_s).sum::<f64>(),
        encodes_scored: (grouped.scored + alone_scored.len()) as u32,
        encodes_scored_in_groups: grouped.scored as u32,
    };
    // The per-title ladders, one per sequence (a shard builds its share of them).
    if suite.spec.ladder.is_some() {
        let shard = manifest.shard.or(options.shard);
        let keep = |i: usize| shard.map_or(true, |s| i % s.count as usize == s.index as usize - 1);
        crate::per_title::suite_ladders(
            suite,
            &srcs,
            keep,
            &dir,
            &corpus_cache,
            options.use_cache,
            n_jobs,
            &|t| observer.note(t),
        )
        .map_err(|e| HarnessError::Write {
            message: e.to_string(),
            finished: total,
            run: dir.clone(),
        })?;
    }
    // Writing the tables and the summary can meet a full disk too: every record is kept, and
    // `--resume` writes them again.
    let summary = finish(&dir, harness).map_err(|e| match e {
        e @ RunError::Io { .. } => HarnessError::Write {
            message: e.to_string(),
            finished: total,
            run: dir.clone(),
        },
        other => HarnessError::Run(other),
    })?;
    let failed = summary.harness.jobs_failed as usize;
    Ok(RunOutcome {
        dir,
        summary,
        failed,
    })
}

/// ENOSPC, the error of a full disk.
fn libc_enospc() -> i32 {
    28
}
