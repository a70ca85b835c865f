//! One job: encode a sequence at one rate point through the transcode core, analyse the packet
//! trace (bitrate error, peak bitrate, VBV), decode the encode and score it against its source,
//! and turn it all into an [`EncodeRecord`] and its [`FrameRecord`]s. Encodes and scores come
//! from the cache when an identical one was done before. [`score_group`] scores one source's
//! encodes together into that cache, for the harness's staged runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use rdbench_metrics::ratecontrol::{
    bitrate_accuracy, peak_bitrate, vbv_check, Packet, PacketTrace, VbvMode, VbvParams,
};
use rdbench_transcode::cpu;
use rdbench_transcode::job::{self as tjob, NoProgress};
use rdbench_transcode::spec::{AudioKeyword, AudioSpec, JobSpec, OutputSettings, RcSpec};
use rdbench_transcode::task::PacketRecord;
use serde::{Deserialize, Serialize};

use rdbench_results::run::{CpuInfo, JobResult};
use rdbench_results::{EncodeRecord, FrameRecord, JobStatus, Metric as Column, RcMode};

use crate::cache::{key_of, ResultCache, CACHE_VERSION};
use crate::compare::{compare, CompareOptions, Metric};
use crate::grid::{Job, JobStage};
use crate::search::{self, Decision, Probe, SearchSpec};
use crate::suite::{PointSpec, Suite};

/// What every job of a run shares.
pub struct Context<'a> {
    /// The suite.
    pub suite: &'a Suite,
    /// The run's id.
    pub run_id: String,
    /// Git revision of rdbench.
    pub git_revision: String,
    /// Host name.
    pub host: String,
    /// The cache.
    pub cache: ResultCache,
    /// Where encodes go when caching is off.
    pub scratch: PathBuf,
}

/// An encode's figures, as cached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EncodeOutcome {
    /// Frames.
    pub frames: u64,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Frame rate.
    pub fps: f64,
    /// Encoded video bytes.
    pub bytes: u64,
    /// Encoder busy seconds.
    pub encode_wall_s: f64,
    /// Encoder CPU seconds.
    pub encode_cpu_s: f64,
    /// CPU of every task of the transcode (demux, decode, filter, encode, mux).
    pub transcode_cpu_s: f64,
    /// The part of it on library-spawned threads.
    pub transcode_helper_cpu_s: f64,
    /// Packets in decode order.
    pub packets: Vec<PacketRecord>,
    /// User-space instructions of the transcode's threads, when hardware counters exist.
    #[serde(default)]
    pub instructions: Option<u64>,
    /// Why `instructions` is missing.
    #[serde(default)]
    pub instructions_note: Option<String>,
}

/// An encode's scores, as cached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScoreOutcome {
    /// Frames compared.
    pub frames: u64,
    /// Pooled values: column -> (mean, harmonic mean, 1st percentile).
    pub pooled: BTreeMap<String, [f64; 3]>,
    /// Per-frame values by column.
    pub per_frame: BTreeMap<String, Vec<f64>>,
    /// Frames VMAF scored.
    pub vmaf_frames: Vec<u32>,
    /// Decode wall seconds.
    pub decode_wall_s: f64,
    /// Decode CPU seconds (both files).
    pub decode_cpu_s: f64,
    /// Decode CPU seconds of the encode alone (DecT).
    pub distorted_decode_cpu_s: f64,
    /// Scoring wall seconds.
    pub score_wall_s: f64,
    /// Scoring CPU seconds (on the job's thread).
    pub score_cpu_s: f64,
    /// Which code computed VMAF, when it was computed.
    #[serde(default)]
    pub vmaf_path: Option<String>,
}

/// A finished job with how much CPU it took in this run (zero parts for cached work).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct JobRun {
    /// The result written to the run folder.
    pub result: JobResult,
    /// CPU this run spent on the job (all threads).
    pub cpu_s: f64,
    /// CPU on the job's thread outside its calls into the transcode core and the scorer
    /// (planning, hashing, caching, rate-control analysis, records).
    pub overhead_cpu_s: f64,
    /// Encoder CPU this run spent (0 when the encode was cached).
    pub encode_cpu_s: f64,
    /// Wall seconds.
    pub wall_s: f64,
    /// CPU this run spent scoring (the scoring thread and the decoders; 0 when the scores
    /// were cached or scored in a group, which the harness counts itself).
    #[serde(default)]
    pub score_cpu_s: f64,
}

#[derive(Serialize)]
struct EncodeKey<'a> {
    version: u32,
    source_sha256: &'a str,
    frames: u32,
    codec: String,
    encoder_version: String,
    /// An encoder program's template, bitstream and input mode (absent for libavcodec).
    #[serde(skip_serializing_if = "Option::is_none")]
    command: Option<rdbench_transcode::external::ExternalEncoder>,
    preset: Option<String>,
    params: Option<&'a str>,
    options: Option<BTreeMap<String, String>>,
    threads: u32,
    rc: &'a RcSpec,
    container: &'a str,
    repetition: u32,
}

/// Revision of the score cache's contents (raised when `ScoreOutcome` gains a figure).
const SCORE_CACHE_REVISION: u32 = 2;

/// The encode's cache key.
pub fn encode_key(ctx: &Context<'_>, job: &Job) -> String {
    let c = &job.config;
    key_of(&EncodeKey {
        version: CACHE_VERSION,
        source_sha256: &job.source.seq.sha256,
        frames: job.source.seq.frames,
        codec: c.encoder_name(),
        encoder_version: c.encoder_version(),
        command: c.external().map(|mut e| {
            // The timeout decides when to give up, not what is encoded.
            e.timeout_s = None;
            e
        }),
        preset: c.preset.as_ref().map(|p| p.to_string()),
        params: c.params.as_deref(),
        options: c
            .options
            .as_ref()
            .map(|o| o.iter().map(|(k, v)| (k.clone(), v.to_string())).collect()),
        threads: c.threads.unwrap_or(1),
        rc: &job.rc,
        container: ctx.suite.container.extension(),
        repetition: job.repetition,
    })
}

fn score_key(ctx: &Context<'_>, encode_key: &str) -> String {
    let metrics: Vec<&str> = ctx.suite.metrics.iter().map(|m| m.name()).collect();
    key_of(&(
        CACHE_VERSION,
        SCORE_CACHE_REVISION,
        encode_key,
        metrics,
        ctx.suite.vmaf_model.name(),
        // Scores computed by another revision of the scorer or another libvmaf are not reused.
        rdbench_metrics::SCORER_REVISION,
        rdbench_metrics::vmaf::libvmaf_version(),
        // Nor scores from a processor with other SIMD extensions: libvmaf picks its kernels by
        // them, and its AVX2 VIF differs from its C VIF on widths that are not multiples of 16.
        simd_features(),
    ))
}

/// This processor's SIMD extensions, read once.
fn simd_features() -> &'static [String] {
    static FEATURES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    FEATURES.get_or_init(|| CpuInfo::detect().features)
}

fn encode(ctx: &Context<'_>, job: &Job, out: &Path) -> Result<EncodeOutcome, String> {
    let c = &job.config;
    let spec = JobSpec::serial(
        job.source.seq.path.to_string_lossy().into_owned(),
        vec![OutputSettings {
            path: Some(out.to_string_lossy().into_owned()),
            format: Some(ctx.suite.spec.container.clone()),
            codec: c.codec.clone(),
            command: c.command.clone(),
            command_version: c.version.clone(),
            output_format: c.output_format.clone(),
            command_input: c.command_input,
            // A program that hangs is killed: by default after 5 minutes plus a minute per
            // second of content, generous for slow presets.
            timeout_s: c.command.as_ref().map(|_| {
                c.timeout_s.unwrap_or_else(|| {
                    let s = &job.source.seq;
                    300.0 + 60.0 * s.frames as f64 / s.sequence.fps.as_f64().max(1.0)
                })
            }),
            preset: c.preset.clone(),
            threads: Some(c.threads.unwrap_or(1)),
            rc: Some(job.rc.clone()),
            params: c.params.clone(),
            options: c.options.clone(),
            audio: Some(AudioSpec::Keyword(AudioKeyword::Drop)),
            passthrough: Some(false),
            ..Default::default()
        }],
    );
    let mut tj = tjob::Job::from_spec(&spec, None, None).map_err(|e| e.to_string())?;
    tj.decoder_threads = 1;
    if let Some((_, _, e)) = tj.rejected.first() {
        return Err(e.to_string());
    }
    // The instructions of the whole transcode of this job: the job's thread and every thread
    // its libraries start (the encoder's), counted while they run.
    let counter = cpu::InstructionCounter::start();
    let report = tjob::run(&tj, &NoProgress).map_err(|e| e.to_string())?;
    let (instructions, instructions_note) = match counter.map(|c| c.finish()) {
        Ok(Ok(n)) => (Some(n), None),
        Ok(Err(e)) | Err(e) => (None, Some(e)),
    };
    let o = report
        .outputs
        .first()
        .ok_or("the encode produced no output")?;
    if let Some(e) = &o.error {
        return Err(e.to_string());
    }
    let enc = o
        .encode_stats()
        .ok_or("the encode reported no encoder statistics")?;
    let all = report.input_tasks.iter().chain(o.tasks.iter());
    let (cpu, helper) = all.fold((0.0, 0.0), |(c, h), t| (c + t.cpu_s, h + t.helper_cpu_s));
    Ok(EncodeOutcome {
        frames: o.frames,
        width: o.width,
        height: o.height,
        fps: o.fps,
        bytes: o.video_bytes,
        encode_wall_s: o.encode_wall_s,
        encode_cpu_s: o.encode_cpu_s,
        transcode_cpu_s: cpu,
        transcode_helper_cpu_s: helper,
        packets: enc.packets.clone(),
        instructions,
        instructions_note,
    })
}

/// Where the encode with cache key `key` is kept (the cache, else the run's scratch folder).
fn encode_file(ctx: &Context<'_>, key: &str) -> PathBuf {
    ctx.cache
        .encode_path(key, ctx.suite.container.extension(), &ctx.scratch)
}

/// How the bench scores an encode against its source.
fn score_options(ctx: &Context<'_>) -> CompareOptions {
    CompareOptions {
        metrics: ctx.suite.metrics.clone(),
        vmaf_model: ctx.suite.vmaf_model,
        vmaf_threads: 0,
        decoder_threads: 1,
        // The encode comes from the source's own timeline; pairing by timestamps scores an
        // encoder program that drops or repeats frames as a viewer would see it.
        align: crate::align::Align::Timestamps { offset: 0 },
        ..Default::default()
    }
}

fn score(ctx: &Context<'_>, job: &Job, encoded: &Path) -> Result<ScoreOutcome, String> {
    let cmp =
        compare(&job.source.seq.path, encoded, &score_options(ctx)).map_err(|e| e.to_string())?;
    Ok(outcome(cmp))
}

/// What a run of the grid spent scoring a source's encodes together.
#[derive(Clone, Copy, Debug, Default)]
pub struct GroupScoring {
    /// Encodes scored (and cached).
    pub scored: usize,
    /// Encodes whose scoring failed (their jobs score them alone and record why).
    pub failed: usize,
    /// CPU seconds: the scoring thread and every decoder.
    pub cpu_s: f64,
}

/// Scores the encodes of `jobs` (one source's, each already encoded and in the cache) together
/// against their source ([`crate::compare::compare_group`]) and caches each one's scores exactly
/// as its job would have.
pub fn score_group(ctx: &Context<'_>, jobs: &[&Job]) -> GroupScoring {
    let Some(first) = jobs.first() else {
        return GroupScoring::default();
    };
    let (keys, paths): (Vec<String>, Vec<PathBuf>) = jobs
        .iter()
        .map(|j| {
            let key = encode_key(ctx, j);
            let path = encode_file(ctx, &key);
            (key, path)
        })
        .unzip();
    let cpu0 = cpu::thread_cpu_s();
    let results =
        crate::compare::compare_group(&first.source.seq.path, &paths, &score_options(ctx));
    let mut out = GroupScoring {
        cpu_s: cpu::thread_cpu_s() - cpu0,
        ..Default::default()
    };
    for (key, r) in keys.iter().zip(results) {
        match r {
            Ok(cmp) => {
                // The scoring thread's CPU is in the measured total; the decoders' is not.
                out.cpu_s += cmp.decode_cpu_s;
                ctx.cache.put("scores", &score_key(ctx, key), &outcome(cmp));
                out.scored += 1;
            }
            Err(_) => out.failed += 1,
        }
    }
    out
}

/// Whether `job`'s encode is in the cache and its scores are not: what a group can score.
pub fn needs_scores(ctx: &Context<'_>, job: &Job) -> bool {
    let key = encode_key(ctx, job);
    let encoded = ctx.cache.get::<EncodeOutcome>("encodes", &key).is_some()
        && encode_file(ctx, &key).is_file();
    encoded && !scores_cached(ctx, job)
}

/// Whether `job`'s scores are in the cache.
pub fn scores_cached(ctx: &Context<'_>, job: &Job) -> bool {
    let key = encode_key(ctx, job);
    ctx.cache
        .get::<ScoreOutcome>("scores", &score_key(ctx, &key))
        .is_some()
}

/// The cached form of a comparison.
fn outcome(cmp: crate::compare::Comparison) -> ScoreOutcome {
    let pooled = cmp
        .pooled
        .iter()
        .map(|(k, e)| (k.clone(), [e.value(), e.pooled.harmonic_mean, e.pooled.p1]))
        .collect();
    ScoreOutcome {
        frames: cmp.frames,
        pooled,
        per_frame: cmp.per_frame,
        vmaf_frames: cmp.vmaf_frames,
        decode_wall_s: cmp.decode_wall_s,
        decode_cpu_s: cmp.decode_cpu_s,
        distorted_decode_cpu_s: cmp.distorted_decode_cpu_s,
        score_wall_s: cmp.score_wall_s,
        score_cpu_s: cmp.score_cpu_s,
        vmaf_path: cmp.vmaf_path,
    }
}

/// The record of a job before anything is known about its outcome.
fn base_record(ctx: &Context<'_>, job: &Job, key: &str) -> EncodeRecord {
    let c = &job.config;
    let s = &job.source.seq.sequence;
    let (target, maxrate, bufsize) = match &job.rc {
        RcSpec::Abr { bitrate_kbps, .. } => (Some(*bitrate_kbps), None, None),
        RcSpec::Cbr {
            bitrate_kbps,
            bufsize_kbits,
        } => (Some(*bitrate_kbps), Some(*bitrate_kbps), *bufsize_kbits),
        RcSpec::CappedCrf {
            maxrate_kbps,
            bufsize_kbits,
            ..
        } => (None, Some(*maxrate_kbps), Some(*bufsize_kbits)),
        _ => (None, None, None),
    };
    let rc_value = match &job.rc {
        RcSpec::Crf { value } | RcSpec::Qp { value } | RcSpec::CappedCrf { value, .. } => *value,
        RcSpec::Abr { bitrate_kbps, .. } | RcSpec::Cbr { bitrate_kbps, .. } => *bitrate_kbps,
    };
    EncodeRecord {
        run_id: ctx.run_id.clone(),
        git_revision: ctx.git_revision.clone(),
        host: ctx.host.clone(),
        job_id: job.id.clone(),
        cache_key: key.to_string(),
        status: JobStatus::Ok,
        corpus: job.source.corpus.clone(),
        sequence: s.id.clone(),
        class: s.class.to_string(),
        config: c.name.clone(),
        codec: c.encoder_name(),
        encoder_version: c.encoder_version(),
        preset: c.preset.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        params: c.params.clone().unwrap_or_default(),
        threads: c.threads.unwrap_or(1),
        rc_mode: job.mode,
        rc_value,
        rc_point: job.point,
        target_kbps: target,
        maxrate_kbps: maxrate,
        bufsize_kbits: bufsize,
        repetition: job.repetition,
        fps: s.fps.as_f64(),
        si: job.source.siti.map(|x| x.si),
        ti: job.source.siti.map(|x| x.ti),
        ..Default::default()
    }
}

/// The encode of `job` from the cache, or encoded now (and cached); the second value says it
/// was encoded now. `out` is where its file goes.
fn encode_or_cached(
    ctx: &Context<'_>,
    job: &Job,
    key: &str,
    out: &Path,
) -> (Result<EncodeOutcome, String>, bool) {
    if let Some(e) = ctx
        .cache
        .get::<EncodeOutcome>("encodes", key)
        .filter(|_| out.is_file())
    {
        return (Ok(e), false);
    }
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let r = encode(ctx, job, out);
    if let Ok(e) = &r {
        ctx.cache.put("encodes", key, e);
    }
    (r, true)
}

/// The bitrate `job` reaches, from its encode (cached or encoded now, not scored): what sets
/// the targets of the points derived from it when its own record is not at hand.
pub fn encode_bitrate(ctx: &Context<'_>, job: &Job) -> Result<f64, String> {
    let key = encode_key(ctx, job);
    let out = encode_file(ctx, &key);
    let (enc, _) = encode_or_cached(ctx, job, &key, &out);
    if !ctx.cache.enabled() {
        let _ = std::fs::remove_file(&out);
    }
    let mut record = base_record(ctx, job, &key);
    fill_encode(&mut record, &enc?);
    Ok(record.bitrate_kbps)
}

/// Whether a bitrate target that `record` fell well short of was reachable: the same encoder at
/// its lowest quantiser on the same content (None when the target was met, or the encoder's
/// quantiser range is unknown).
fn probe_reachable(ctx: &Context<'_>, job: &Job, record: &EncodeRecord) -> Option<(bool, f64)> {
    let target = record.target_kbps?;
    if record.bitrate_kbps >= 0.9 * target {
        return None;
    }
    let qp = rdbench_transcode::settings::lowest_qp(job.config.codec.as_deref()?)?;
    let mut probe = job.clone();
    probe.rc = RcSpec::Qp { value: qp };
    probe.repetition = 0;
    let kbps = encode_bitrate(ctx, &probe).ok()?;
    Some((kbps >= target, kbps))
}

/// Runs one job (or takes it from the cache).
pub fn execute(ctx: &Context<'_>, job: &Job) -> JobRun {
    if job.stage == JobStage::Encode {
        return execute_encode(ctx, job);
    }
    if job.mode == RcMode::TargetVmaf {
        return execute_target(ctx, job);
    }
    execute_point(ctx, job)
}

/// The CRF job a target's search probes: the same sequence and configuration at `crf`, so
/// its encode and scores are cached exactly as a `crf` point at that value would be.
fn probe_job(job: &Job, crf: f64, repetition: u32) -> Job {
    Job {
        id: format!("{}/crf{crf}", job.id),
        mode: RcMode::Crf,
        point: 0,
        spec: PointSpec::Crf(crf),
        rc: RcSpec::Crf { value: crf },
        repetition,
        ..job.clone()
    }
}

/// A `target_vmaf` point: the search of `search.rs` over the configuration's CRF range on the
/// whole sequence, each probe a CRF job run (or taken from the cache) by [`execute_point`];
/// the record is the answer's encode, with the target, the probes and the search's CPU.
fn execute_target(ctx: &Context<'_>, job: &Job) -> JobRun {
    let (wall0, cpu0) = (Instant::now(), cpu::thread_cpu_s());
    let PointSpec::TargetVmaf(target) = job.spec else {
        unreachable!("target_vmaf jobs carry a VMAF target")
    };
    let c = &job.config;
    let failed = |error: String, probes: u32, search_cpu: f64| {
        let mut record = base_record(ctx, job, "");
        record.status = JobStatus::Failed;
        record.error = Some(error);
        record.target_vmaf = Some(target);
        record.search_probes = Some(probes);
        record.search_cpu_s = Some(search_cpu);
        JobRun {
            result: JobResult {
                record,
                frames: Vec::new(),
            },
            cpu_s: cpu::thread_cpu_s() - cpu0,
            overhead_cpu_s: 0.0,
            encode_cpu_s: 0.0,
            wall_s: wall0.elapsed().as_secs_f64(),
            score_cpu_s: 0.0,
        }
    };
    let Some((min_crf, max_crf, step)) = c.target_range(job.source.seq.sequence.bit_depth) else {
        return failed(
            "target_vmaf: the encoder's CRF range is unknown (set target_crf_range)".into(),
            0,
            0.0,
        );
    };
    let spec = SearchSpec {
        min_crf,
        max_crf,
        step,
        target,
        tolerance: c.target_tolerance.unwrap_or(crate::suite::TARGET_TOLERANCE),
        max_probes: c
            .target_max_probes
            .unwrap_or(crate::suite::TARGET_MAX_PROBES) as usize,
    };
    let mut probes: Vec<Probe> = Vec::new();
    let mut runs: Vec<JobRun> = Vec::new();
    let (mut search_cpu, mut cpu_now, mut encode_now, mut score_now) = (0.0, 0.0, 0.0, 0.0);
    let answer = loop {
        match search::next(&spec, &probes) {
            Decision::Probe(crf) => {
                let run = execute_point(ctx, &probe_job(job, crf, 0));
                let r = &run.result.record;
                search_cpu += r.job_cpu_s;
                cpu_now += run.cpu_s;
                encode_now += run.encode_cpu_s;
                score_now += run.score_cpu_s;
                let n = probes.len() as u32 + 1;
                if !r.is_ok() {
                    let e = r.error.clone().unwrap_or_else(|| r.status.to_string());
                    return failed(
                        format!("target_vmaf {target}: probe at crf {crf}: {e}"),
                        n,
                        search_cpu,
                    );
                }
                let Some(score) = r.vmaf else {
                    return failed(
                        format!("target_vmaf {target}: probe at crf {crf} has no VMAF"),
                        n,
                        search_cpu,
                    );
                };
                probes.push(Probe { crf, score });
                runs.push(run);
            }
            Decision::Found { probe, .. } => break probe.crf,
            Decision::Unreachable { best, tried_min } => {
                let why = if tried_min {
                    format!("no CRF in {min_crf}-{max_crf} reaches it")
                } else {
                    format!(
                        "not reached in {} probes of crf {min_crf}-{max_crf} (target_max_probes)",
                        probes.len()
                    )
                };
                return failed(
                    format!(
                        "target_vmaf {target}: {why}; the best, crf {}, scores {:.2}",
                        best.crf, best.score
                    ),
                    probes.len() as u32,
                    search_cpu,
                );
            }
        }
    };
    let n = probes.len() as u32;
    let all_cached = runs.iter().all(|r| r.result.record.cached);
    let i = probes
        .iter()
        .position(|p| p.crf == answer)
        .expect("the answer is one of the probes");
    let mut run = if job.repetition == 0 {
        runs.swap_remove(i)
    } else {
        // Timing repetitions encode the answer again; the search itself is not repeated.
        let r = execute_point(ctx, &probe_job(job, answer, job.repetition));
        cpu_now += r.cpu_s;
        encode_now += r.encode_cpu_s;
        score_now += r.score_cpu_s;
        r
    };
    let r = &mut run.result.record;
    r.job_id = job.id.clone();
    r.rc_mode = RcMode::TargetVmaf;
    r.rc_point = job.point;
    r.target_vmaf = Some(target);
    r.search_probes = Some(n);
    r.search_cpu_s = Some(search_cpu);
    r.cached = r.cached && all_cached;
    for f in &mut run.result.frames {
        f.job_id = job.id.clone();
    }
    run.cpu_s = cpu_now;
    run.encode_cpu_s = encode_now;
    run.score_cpu_s = score_now;
    run.wall_s = wall0.elapsed().as_secs_f64();
    run
}

/// Only the encode of a point job, into the cache (see [`JobStage::Encode`]). The run has the
/// encode's CPU; its record is the job's final one when the encode failed.
fn execute_encode(ctx: &Context<'_>, job: &Job) -> JobRun {
    let (wall0, cpu0) = (Instant::now(), cpu::thread_cpu_s());
    let key = encode_key(ctx, job);
    let mut record = base_record(ctx, job, &key);
    let out = encode_file(ctx, &key);
    let (enc, fresh) = encode_or_cached(ctx, job, &key, &out);
    let in_call = cpu::thread_cpu_s() - cpu0;
    let (mut helper, mut encode_cpu) = (0.0, 0.0);
    match &enc {
        Ok(e) => {
            fill_encode(&mut record, e);
            if fresh {
                helper = e.transcode_helper_cpu_s;
                encode_cpu = e.encode_cpu_s;
            }
        }
        Err(msg) => {
            record.status = JobStatus::Failed;
            record.error = Some(msg.clone());
        }
    }
    let worker_cpu = cpu::thread_cpu_s() - cpu0;
    JobRun {
        result: JobResult {
            record,
            frames: Vec::new(),
        },
        cpu_s: worker_cpu + helper,
        overhead_cpu_s: if fresh {
            (worker_cpu - in_call).max(0.0)
        } else {
            0.0
        },
        encode_cpu_s: encode_cpu,
        wall_s: wall0.elapsed().as_secs_f64(),
        score_cpu_s: 0.0,
    }
}

/// Runs one job at a fixed rate point (or takes it from the cache).
fn execute_point(ctx: &Context<'_>, job: &Job) -> JobRun {
    let (wall0, cpu0) = (Instant::now(), cpu::thread_cpu_s());
    let key = encode_key(ctx, job);
    let mut record = base_record(ctx, job, &key);
    let out = encode_file(ctx, &key);
    if let Some(dir) = out.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    // Encode. The harness's own overhead is the job thread's CPU outside its calls into the
    // transcode core and the scorer.
    let (mut encoded_now, mut in_calls_cpu, mut helper_cpu, mut encode_cpu_now) =
        (false, 0.0, 0.0, 0.0);
    let c = cpu::thread_cpu_s();
    let (enc, fresh) = encode_or_cached(ctx, job, &key, &out);
    if fresh {
        in_calls_cpu += cpu::thread_cpu_s() - c;
        if let Ok(e) = &enc {
            encoded_now = true;
            helper_cpu += e.transcode_helper_cpu_s;
            encode_cpu_now = e.encode_cpu_s;
        }
    }
    let enc = match enc {
        Ok(e) => e,
        Err(msg) => {
            record.status = JobStatus::Failed;
            record.error = Some(msg);
            let cpu = cpu::thread_cpu_s() - cpu0;
            return JobRun {
                result: JobResult {
                    record,
                    frames: Vec::new(),
                },
                cpu_s: cpu,
                overhead_cpu_s: 0.0,
                encode_cpu_s: 0.0,
                wall_s: wall0.elapsed().as_secs_f64(),
                score_cpu_s: 0.0,
            };
        }
    };
    // Score.
    let skey = score_key(ctx, &key);
    let (mut scored_now, mut score_cpu_now) = (false, 0.0);
    let sc = match ctx.cache.get::<ScoreOutcome>("scores", &skey) {
        Some(s) => Ok(s),
        None => {
            let c = cpu::thread_cpu_s();
            let r = score(ctx, job, &out);
            in_calls_cpu += cpu::thread_cpu_s() - c;
            if let Ok(s) = &r {
                scored_now = true;
                helper_cpu += s.decode_cpu_s;
                score_cpu_now = s.score_cpu_s + s.decode_cpu_s;
                ctx.cache.put("scores", &skey, s);
            }
            r
        }
    };
    if !ctx.cache.enabled() {
        let _ = std::fs::remove_file(&out);
    }
    fill_encode(&mut record, &enc);
    let c = cpu::thread_cpu_s();
    if let Some((reachable, kbps)) = probe_reachable(ctx, job, &record) {
        record.target_reachable = Some(reachable);
        record.reachable_kbps = Some(kbps);
    }
    in_calls_cpu += cpu::thread_cpu_s() - c;
    let mut frames = frame_records(&job.id, &enc.packets);
    match sc {
        Ok(s) => fill_scores(&mut record, &mut frames, &s, &ctx.suite.metrics),
        Err(msg) => {
            record.status = JobStatus::Failed;
            record.error = Some(format!("scoring: {msg}"));
        }
    }
    record.cached = !encoded_now && !scored_now && job.stage != JobStage::Finish;
    let worker_cpu = cpu::thread_cpu_s() - cpu0;
    let overhead = (worker_cpu - in_calls_cpu).max(0.0);
    JobRun {
        result: JobResult { record, frames },
        cpu_s: worker_cpu + helper_cpu,
        // A job finished from an encode made for its group: the harness adds this to the
        // overhead of that encode.
        overhead_cpu_s: if encoded_now || job.stage == JobStage::Finish {
            overhead
        } else {
            0.0
        },
        encode_cpu_s: encode_cpu_now,
        wall_s: wall0.elapsed().as_secs_f64(),
        score_cpu_s: score_cpu_now,
    }
}

fn fill_encode(r: &mut EncodeRecord, e: &EncodeOutcome) {
    r.width = e.width;
    r.height = e.height;
    r.frames = e.frames;
    r.fps = if e.fps > 0.0 { e.fps } else { r.fps };
    r.bytes = e.bytes;
    r.encode_wall_s = e.encode_wall_s;
    r.encode_cpu_s = e.encode_cpu_s;
    r.encode_instructions = e.instructions;
    r.instructions_note = match (&e.instructions, &e.instructions_note) {
        (Some(_), _) => None,
        (None, Some(n)) => Some(n.clone()),
        (None, None) => {
            Some("not counted (an encode cached before rdbench counted instructions)".into())
        }
    };
    r.encode_fps = if e.encode_wall_s > 0.0 {
        e.frames as f64 / e.encode_wall_s
    } else {
        0.0
    };
    r.job_cpu_s = e.transcode_cpu_s;
    let packets: Vec<Packet> = e
        .packets
        .iter()
        .map(|p| {
            Packet::new(
                p.size as u64,
                p.pts_s,
                p.dts_s,
                (p.duration_s > 0.0).then_some(p.duration_s),
                p.key,
            )
        })
        .collect();
    let Ok(trace) = PacketTrace::new(packets) else {
        r.bitrate_kbps = 0.0;
        return;
    };
    match bitrate_accuracy(&trace, r.target_kbps.unwrap_or(1.0)) {
        Ok(acc) => {
            r.bitrate_kbps = acc.actual_kbps;
            r.bitrate_error_pct = r.target_kbps.map(|_| acc.error_percent);
        }
        Err(_) => {
            r.bitrate_kbps = e.bytes as f64 * 8.0 / (e.frames as f64 / r.fps.max(1e-9)) / 1000.0
        }
    }
    if let Ok(p) = peak_bitrate(&trace, 1.0, r.maxrate_kbps) {
        r.peak_1s_kbps = p.peak_kbps;
    }
    if let (Some(maxrate), Some(buf)) = (r.maxrate_kbps, r.bufsize_kbits) {
        let mode = if r.rc_mode == RcMode::Cbr {
            VbvMode::Cbr
        } else {
            VbvMode::Capped
        };
        if let Ok(v) = vbv_check(&trace, &VbvParams::new(buf, maxrate, mode)) {
            r.vbv_violations = Some(v.violations as u64);
        }
    }
}

/// Per-frame records in display order (packets arrive in decode order).
fn frame_records(job_id: &str, packets: &[PacketRecord]) -> Vec<FrameRecord> {
    let mut by_pts: Vec<&PacketRecord> = packets.iter().collect();
    by_pts.sort_by(|a, b| a.pts_s.total_cmp(&b.pts_s));
    by_pts
        .iter()
        .enumerate()
        .map(|(i, p)| FrameRecord {
            job_id: job_id.to_string(),
            frame: i as u32,
            pts_s: p.pts_s,
            size_bytes: p.size,
            pict_type: p.pict_type.to_string(),
            key: p.key,
            ..Default::default()
        })
        .collect()
}

fn fill_scores(
    r: &mut EncodeRecord,
    frames: &mut [FrameRecord],
    s: &ScoreOutcome,
    metrics: &[Metric],
) {
    // The scorer's pooled map is keyed by the results table's column names; VMAF's harmonic
    // mean and 1st percentile are the second and third pooled figures of its entry.
    for column in Column::ALL {
        let value = match column {
            Column::VmafHmean | Column::VmafP1 => None,
            c => s.pooled.get(c.column()).map(|v| v[0]),
        };
        column.set(r, value);
    }
    if metrics.contains(&Metric::Vmaf) {
        let vmaf = s.pooled.get(Column::Vmaf.column());
        r.vmaf_hmean = vmaf.map(|v| v[1]);
        r.vmaf_p1 = vmaf.map(|v| v[2]);
    } else {
        r.vmaf = None;
    }
    r.decode_wall_s = s.decode_wall_s;
    r.decode_cpu_s = s.distorted_decode_cpu_s;
    r.score_wall_s = s.score_wall_s;
    r.vmaf_path = s.vmaf_path.clone();
    r.job_cpu_s += s.decode_cpu_s + s.score_cpu_s;
    let col = |c: Column, i: usize| s.per_frame.get(c.column()).and_then(|v| v.get(i)).copied();
    for (i, f) in frames.iter_mut().enumerate() {
        f.psnr_y = col(Column::PsnrY, i);
        f.psnr_u = col(Column::PsnrU, i);
        f.psnr_v = col(Column::PsnrV, i);
        f.ssim = col(Column::Ssim, i);
        f.ms_ssim = col(Column::MsSsim, i);
        f.xpsnr_y = col(Column::XpsnrY, i);
        f.ssimulacra2 = col(Column::Ssimulacra2, i);
        // VMAF and libvmaf's features cover the frames VMAF scored (every Nth with subsampling).
        let scored = |c: Column| {
            if s.vmaf_frames.is_empty() {
                col(c, i)
            } else {
                s.vmaf_frames
                    .iter()
                    .position(|&x| x as usize == i)
                    .and_then(|j| col(c, j))
            }
        };
        f.vmaf = scored(Column::Vmaf);
        f.cambi = scored(Column::Cambi);
        f.ciede2000 = scored(Column::Ciede2000);
        f.psnr_hvs = scored(Column::PsnrHvs);
    }
}
