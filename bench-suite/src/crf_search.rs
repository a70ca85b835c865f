//! The target-quality search (`rdbench crf-search`): the CRF at which an encoder reaches a
//! pooled score on an input, found by encoding and scoring samples of it.
//!
//! The input is decoded once into the corpus cache (as any clip is); samples are cut from it
//! ([`search::plan_samples`], starting at scene cuts); every probe encodes and scores each
//! sample through [`execute`], the benchmark's own job, so probes are encoded by the transcode
//! core and cached under the benchmark's content keys (the sample's SHA-256, the encoder, its
//! settings and version; the metric set, the model, the scorer's revision). A later search on
//! the same input with another target reuses every probe it shares. The per-frame scores of all
//! samples are pooled together, so the figure held is the statistic over every sampled frame.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rdbench_corpora::materialize::Decoder;
use rdbench_corpora::{Cache, Corpus, MaterializeOptions, MaterializedSequence, Slice};
use rdbench_metrics::pool::Pooled;
use rdbench_metrics::vmaf::VmafModelVersion;
use rdbench_results::{FrameRecord, JobStatus, Metric as Column, RcMode};
use rdbench_transcode::job::{self as tjob, NoProgress};
use rdbench_transcode::settings::quality_scale;
use rdbench_transcode::spec::{JobSpec, OutputSettings, RcSpec, Scalar};
use serde::Serialize;
use thiserror::Error;

use crate::cache::ResultCache;
use crate::compare::{compare, CompareOptions, Metric};
use crate::execute::{execute, Context};
use crate::grid::{Job, SourceSequence};
use crate::media::CoreDecoder;
use crate::search::{self, Decision, Probe, SampleSpan, SearchSpec, Stop};
use crate::suite::{ConfigSpec, PointSpec, Suite, SuiteSpec};

/// The score a search holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TargetMetric {
    /// VMAF (the model of the search).
    Vmaf,
    /// Luma PSNR in dB.
    Psnr,
    /// SSIM (luma).
    Ssim,
    /// MS-SSIM (luma).
    MsSsim,
    /// XPSNR of luma in dB.
    Xpsnr,
    /// SSIMULACRA2.
    Ssimulacra2,
}

impl TargetMetric {
    /// Parses `vmaf`, `psnr`, `ssim`, `ms-ssim`, `xpsnr`, `ssimulacra2`; the other metrics
    /// cannot be targets.
    pub fn parse(name: &str) -> Option<TargetMetric> {
        Some(match Metric::parse(name)? {
            Metric::Vmaf => TargetMetric::Vmaf,
            Metric::Psnr => TargetMetric::Psnr,
            Metric::Ssim => TargetMetric::Ssim,
            Metric::MsSsim => TargetMetric::MsSsim,
            Metric::Xpsnr => TargetMetric::Xpsnr,
            Metric::Ssimulacra2 => TargetMetric::Ssimulacra2,
            Metric::MsSsimDb
            | Metric::Apsnr
            | Metric::Cambi
            | Metric::Ciede2000
            | Metric::PsnrHvs => return None,
        })
    }

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        self.metric().name()
    }

    fn metric(self) -> Metric {
        match self {
            TargetMetric::Vmaf => Metric::Vmaf,
            TargetMetric::Psnr => Metric::Psnr,
            TargetMetric::Ssim => Metric::Ssim,
            TargetMetric::MsSsim => Metric::MsSsim,
            TargetMetric::Xpsnr => Metric::Xpsnr,
            TargetMetric::Ssimulacra2 => Metric::Ssimulacra2,
        }
    }

    fn column(self) -> Column {
        match self {
            TargetMetric::Vmaf => Column::Vmaf,
            TargetMetric::Psnr => Column::PsnrY,
            TargetMetric::Ssim => Column::Ssim,
            TargetMetric::MsSsim => Column::MsSsim,
            TargetMetric::Xpsnr => Column::XpsnrY,
            TargetMetric::Ssimulacra2 => Column::Ssimulacra2,
        }
    }

    fn per_frame(self, f: &FrameRecord) -> Option<f64> {
        match self {
            TargetMetric::Vmaf => f.vmaf,
            TargetMetric::Psnr => f.psnr_y,
            TargetMetric::Ssim => f.ssim,
            TargetMetric::MsSsim => f.ms_ssim,
            TargetMetric::Xpsnr => f.xpsnr_y,
            TargetMetric::Ssimulacra2 => f.ssimulacra2,
        }
    }

    /// The values a target may take, exclusive low end.
    fn range(self) -> (f64, f64) {
        match self {
            TargetMetric::Vmaf => (0.0, 100.0),
            TargetMetric::Psnr | TargetMetric::Xpsnr => (0.0, 100.0),
            TargetMetric::Ssim | TargetMetric::MsSsim => (0.0, 1.0),
            TargetMetric::Ssimulacra2 => (-100.0, 100.0),
        }
    }

    /// The default tolerance: about a tenth of a just-noticeable difference.
    pub fn default_tolerance(self) -> f64 {
        match self {
            TargetMetric::Vmaf => 0.4,
            TargetMetric::Psnr | TargetMetric::Xpsnr => 0.2,
            TargetMetric::Ssim | TargetMetric::MsSsim => 0.002,
            TargetMetric::Ssimulacra2 => 0.5,
        }
    }
}

/// Which pooled figure of the per-frame scores is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stat {
    /// Arithmetic mean.
    Mean,
    /// libvmaf's harmonic mean.
    Hmean,
    /// 1st percentile.
    P1,
    /// 5th percentile.
    P5,
    /// Minimum.
    Min,
}

impl Stat {
    /// Parses `mean`, `hmean`, `p1`, `p5`, `min`.
    pub fn parse(name: &str) -> Option<Stat> {
        Some(match name {
            "mean" => Stat::Mean,
            "hmean" => Stat::Hmean,
            "p1" => Stat::P1,
            "p5" => Stat::P5,
            "min" => Stat::Min,
            _ => return None,
        })
    }

    /// The figure of `values`.
    pub fn of(self, values: &[f64]) -> Option<f64> {
        let p = Pooled::from_series(values)?;
        Some(match self {
            Stat::Mean => p.mean,
            Stat::Hmean => p.harmonic_mean,
            Stat::P1 => p.p1,
            Stat::P5 => p.p5,
            Stat::Min => p.min,
        })
    }
}

/// The encoder a search probes.
#[derive(Clone, Debug, PartialEq)]
pub enum Encoder {
    /// A libavcodec encoder by name.
    Codec(String),
    /// An encoder program: its argument template (with `{input}`, `{output}`, `{crf}` and the
    /// other placeholders of a transcode output's `command`), the command printing its version,
    /// and the bitstream it writes.
    Command {
        /// The argument template.
        argv: Vec<String>,
        /// The version command.
        version: Option<Vec<String>>,
        /// ivf, obu, h264, hevc, mkv, webm or mp4.
        output_format: Option<String>,
    },
}

impl Encoder {
    /// The name reports use: the codec, or the program's file name.
    pub fn name(&self) -> String {
        match self {
            Encoder::Codec(c) => c.clone(),
            Encoder::Command { argv, .. } => format!(
                "external:{}",
                argv.first()
                    .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
                    .unwrap_or_default()
            ),
        }
    }
}

/// An encoder as the fields of a suite configuration or a transcode output.
struct EncoderParts {
    codec: Option<String>,
    command: Option<Vec<String>>,
    version: Option<Vec<String>>,
    output_format: Option<String>,
}

impl Encoder {
    fn parts(&self) -> EncoderParts {
        match self {
            Encoder::Codec(c) => EncoderParts {
                codec: Some(c.clone()),
                command: None,
                version: None,
                output_format: None,
            },
            Encoder::Command {
                argv,
                version,
                output_format,
            } => EncoderParts {
                codec: None,
                command: Some(argv.clone()),
                version: version.clone(),
                output_format: output_format.clone(),
            },
        }
    }
}

/// A search to run.
#[derive(Clone, Debug)]
pub struct SearchRequest {
    /// The input media file.
    pub input: PathBuf,
    /// The encoder.
    pub encoder: Encoder,
    /// Preset.
    pub preset: Option<Scalar>,
    /// Encoder parameter string.
    pub params: Option<String>,
    /// Encoder threads.
    pub threads: u32,
    /// The metric held.
    pub metric: TargetMetric,
    /// Its target value.
    pub target: f64,
    /// The pooled figure held.
    pub stat: Stat,
    /// The CRF grid's step (default: the encoder's, 1 for a program).
    pub crf_step: Option<f64>,
    /// CRF range (default: the encoder's whole range).
    pub min_crf: Option<f64>,
    /// See `min_crf`.
    pub max_crf: Option<f64>,
    /// Score tolerance above the target (default: the metric's).
    pub tolerance: Option<f64>,
    /// Probes at most.
    pub max_probes: usize,
    /// Refuse an answer whose predicted size is above this share of the input file (percent).
    pub max_encoded_percent: f64,
    /// Samples (default: one per 12 minutes of input).
    pub samples: Option<u32>,
    /// Seconds per sample.
    pub sample_seconds: f64,
    /// VMAF model.
    pub vmaf_model: VmafModelVersion,
    /// Cache folder (default: `$RDBENCH_CACHE` or `~/.cache/rdbench`).
    pub cache_dir: Option<PathBuf>,
    /// Reuse and store probes.
    pub use_cache: bool,
    /// Resample a variable-frame-rate input instead of refusing it.
    pub cfr: bool,
    /// Git revision of rdbench (recorded with the encodes).
    pub git_revision: String,
}

/// One probe as reported.
#[derive(Clone, Debug, Serialize)]
pub struct ProbeReport {
    /// The CRF.
    pub crf: f64,
    /// The pooled score over every sampled frame.
    pub score: f64,
    /// Encoded bytes of the samples.
    pub sample_bytes: u64,
    /// Predicted size of the full encode, from the samples' bits per second.
    pub predicted_bytes: u64,
    /// The prediction as a share of the input file (percent).
    pub predicted_percent: f64,
    /// Predicted encode wall time of the full input, from the samples' encoder time per frame.
    pub predicted_encode_s: f64,
    /// Whether every sample's encode and score came from the cache.
    pub cached: bool,
}

/// The full encode of the answer, measured.
#[derive(Clone, Debug, Serialize)]
pub struct FullEncode {
    /// Where it was written.
    pub path: PathBuf,
    /// Its pooled score.
    pub score: f64,
    /// Its video bytes.
    pub bytes: u64,
    /// Its size as a share of the input file (percent).
    pub percent: f64,
    /// Encoder wall seconds.
    pub encode_s: f64,
}

/// What a search found.
#[derive(Clone, Debug, Serialize)]
pub struct SearchReport {
    /// The input.
    pub input: PathBuf,
    /// Encoder (a codec, or `external:` and the program).
    pub encoder: String,
    /// The metric held.
    pub metric: TargetMetric,
    /// The pooled figure held.
    pub stat: Stat,
    /// The target.
    pub target: f64,
    /// The tolerance used.
    pub tolerance: f64,
    /// CRF range searched and its grid step.
    pub crf_range: (f64, f64, f64),
    /// Frames of the input.
    pub frames: u32,
    /// Its duration in seconds.
    pub duration_s: f64,
    /// Size of the input file.
    pub input_bytes: u64,
    /// The samples encoded (one spanning every frame when the input is short).
    pub samples: Vec<SampleSpan>,
    /// Every probe, in the order made.
    pub probes: Vec<ProbeReport>,
    /// The answer.
    pub answer: ProbeReport,
    /// Why the search stopped there.
    pub stop: Stop,
    /// The full encode, when asked for.
    pub full: Option<FullEncode>,
}

/// Why a search could not answer.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SearchError {
    /// A bad argument.
    #[error("{flag}: {message}")]
    Argument {
        /// The flag.
        flag: String,
        /// What is wrong.
        message: String,
    },
    /// The input cannot be used.
    #[error("{0}")]
    Input(String),
    /// A probe failed.
    #[error("crf {crf}: {message}")]
    Probe {
        /// Its CRF.
        crf: f64,
        /// Why.
        message: String,
    },
    /// No CRF in range reaches the target.
    #[error("no crf in {min}-{max} reaches {metric} {stat} {target}: the best is crf {best_crf} with {best_score:.3}{more}")]
    Unreachable {
        /// The metric.
        metric: &'static str,
        /// The statistic.
        stat: &'static str,
        /// The target.
        target: f64,
        /// CRF range.
        min: f64,
        /// CRF range.
        max: f64,
        /// The best probe's CRF.
        best_crf: f64,
        /// Its score.
        best_score: f64,
        /// A note on the probe budget.
        more: String,
    },
    /// The answer's predicted size is above the limit.
    #[error("crf {crf} reaches {metric} {score:.3} but its predicted size is {percent:.1}% of the input, above --max-encoded-percent {limit}")]
    TooLarge {
        /// The metric.
        metric: &'static str,
        /// The answer.
        crf: f64,
        /// Its score.
        score: f64,
        /// Its predicted share of the input.
        percent: f64,
        /// The limit.
        limit: f64,
    },
    /// The full encode failed.
    #[error("the full encode to {path}: {message}")]
    Encode {
        /// The output.
        path: PathBuf,
        /// Why.
        message: String,
    },
}

fn arg(flag: &str, message: impl Into<String>) -> SearchError {
    SearchError::Argument {
        flag: flag.into(),
        message: message.into(),
    }
}

/// The prepared input: its samples as sequences, and what the predictions scale by.
struct Prepared {
    whole: MaterializedSequence,
    samples: Vec<(SampleSpan, Arc<SourceSequence>)>,
    input_bytes: u64,
}

/// Decodes a media file into the corpus cache (once: keyed by its SHA-256) as one sequence, as
/// `rdbench bench --clips` does; the sequences its slices make come from the same corpus.
pub fn materialize_input(
    input: &Path,
    cache: &Cache,
    cfr: bool,
) -> Result<(Corpus, MaterializeOptions, MaterializedSequence), String> {
    let corpus = Corpus::of_clips("clips", &[input.to_path_buf()]).map_err(|e| e.to_string())?;
    let opts = MaterializeOptions {
        decoder: Some(Decoder(Arc::new(CoreDecoder))),
        cfr,
        ..Default::default()
    };
    let seq = corpus
        .sequences()
        .first()
        .cloned()
        .ok_or_else(|| format!("{}: no video file", input.display()))?;
    let whole = corpus
        .materialize_sequence(&seq, cache, &opts, &mut |_| {})
        .map_err(|e| e.to_string())?;
    Ok((corpus, opts, whole))
}

fn prepare(req: &SearchRequest, cache: &Cache) -> Result<Prepared, SearchError> {
    let input_bytes = std::fs::metadata(&req.input)
        .map_err(|e| SearchError::Input(format!("{}: {e}", req.input.display())))?
        .len();
    let (corpus, opts, whole) =
        materialize_input(&req.input, cache, req.cfr).map_err(SearchError::Input)?;
    let materialize = |s: &rdbench_corpora::Sequence| {
        corpus
            .materialize_sequence(s, cache, &opts, &mut |_| {})
            .map_err(|e| SearchError::Input(e.to_string()))
    };
    let fps = whole.sequence.fps.as_f64();
    // Scene cuts are only needed when the input is sampled.
    let spans = {
        let plain = search::plan_samples(whole.frames, fps, req.samples, req.sample_seconds, &[]);
        if plain.len() == 1 && plain[0].frames == whole.frames {
            plain
        } else {
            let cuts = rdbench_corpora::scenes::scene_cuts(&whole.path)
                .map_err(|e| SearchError::Input(e.to_string()))?;
            search::plan_samples(whole.frames, fps, req.samples, req.sample_seconds, &cuts)
        }
    };
    let mut samples = Vec::new();
    for span in spans {
        let m = if span.frames == whole.frames {
            whole.clone()
        } else {
            let mut s = whole.sequence.clone();
            s.slice = Some(Slice {
                start: span.start,
                frames: span.frames,
            });
            materialize(&s)?
        };
        samples.push((
            span,
            Arc::new(SourceSequence {
                corpus: "clips".into(),
                seq: m,
                siti: None,
            }),
        ));
    }
    Ok(Prepared {
        whole,
        samples,
        input_bytes,
    })
}

/// The suite the probes run under: one configuration, the metric set every search scores
/// (VMAF, PSNR and SSIM, plus the target's), so a later search with another target finds the
/// same scores in the cache.
fn probe_suite(req: &SearchRequest, min: f64, max: f64) -> Result<Suite, SearchError> {
    let parts = req.encoder.parts();
    let mut metrics: Vec<String> = ["vmaf", "psnr", "ssim"].map(String::from).to_vec();
    if !metrics.iter().any(|m| m == req.metric.name()) {
        metrics.push(req.metric.name().into());
    }
    let spec = SuiteSpec {
        name: "crf-search".into(),
        description: String::new(),
        corpora: vec!["clips".into()],
        sequences: Vec::new(),
        metrics,
        vmaf_model: req.vmaf_model.name().into(),
        anchor: "probe".into(),
        repetitions: 1,
        bd_method: "pchip".into(),
        container: "mkv".into(),
        jobs: None,
        oversubscribe: false,
        timeout_s: None,
        configs: vec![ConfigSpec {
            name: "probe".into(),
            codec: parts.codec,
            command: parts.command,
            version: parts.version,
            output_format: parts.output_format,
            command_input: None,
            timeout_s: None,
            preset: req.preset.clone(),
            threads: Some(req.threads),
            params: req.params.clone(),
            options: None,
            // Both ends of the range go through the core's encoder rules.
            crf: vec![min, max],
            qp: Vec::new(),
            abr_kbps: Vec::new(),
            abr_bpp: Vec::new(),
            abr_from: None,
            abr_passes: 1,
            cbr_kbps: Vec::new(),
            cbr_bpp: Vec::new(),
            cbr_from: None,
            cbr_buffer_s: None,
            capped_crf: Vec::new(),
            target_vmaf: Vec::new(),
            target_crf_range: None,
            target_tolerance: None,
            target_max_probes: None,
        }],
        ladder: None,
    };
    let text = toml::to_string(&spec).map_err(|e| SearchError::Input(e.to_string()))?;
    Suite::parse(&text, None).map_err(|e| match e {
        crate::suite::SuiteError::Invalid { field, message, .. } => {
            let last = field.rsplit('.').next().unwrap_or("");
            let flag = match last {
                "codec" => "--codec",
                "command" => "--command",
                "version" => "--command-version",
                "output_format" => "--output-format",
                "preset" => "--preset",
                "params" => "--params",
                "threads" => "--threads",
                _ if field.contains("crf") || last == "value" => "--min-crf/--max-crf",
                _ => "crf-search",
            };
            arg(flag, message)
        }
        other => SearchError::Input(other.to_string()),
    })
}

/// Runs a search; `on_probe` sees each probe as it finishes. With `encode`, the answer is then
/// encoded from the whole input to that file through the core and scored.
pub fn crf_search(
    req: &SearchRequest,
    encode: Option<&Path>,
    on_probe: &mut dyn FnMut(&ProbeReport),
) -> Result<SearchReport, SearchError> {
    let (lo_t, hi_t) = req.metric.range();
    if !(req.target.is_finite() && req.target > lo_t && req.target <= hi_t) {
        return Err(arg(
            "--target",
            format!(
                "{} {} is outside the metric's range ({lo_t}, {hi_t}]",
                req.metric.name(),
                req.target
            ),
        ));
    }
    let scale = match &req.encoder {
        Encoder::Codec(c) => Some(quality_scale(c, 8)).filter(|s| s.known),
        Encoder::Command { .. } => None,
    };
    let (min, max) = match (scale, req.min_crf, req.max_crf) {
        (_, Some(lo), Some(hi)) => (lo, hi),
        (Some(s), lo, hi) => (lo.unwrap_or(s.crf.0), hi.unwrap_or(s.crf.1)),
        (None, _, _) => {
            return Err(arg(
                "--min-crf/--max-crf",
                format!(
                    "rdbench does not know the CRF range of {}; give both",
                    req.encoder.name()
                ),
            ))
        }
    };
    if !(min.is_finite() && max.is_finite() && min < max) {
        return Err(arg(
            "--min-crf/--max-crf",
            format!("{min}-{max} is not a range (the low end must be below the high end)"),
        ));
    }
    let step = match req.crf_step {
        Some(s) if !(s.is_finite() && s > 0.0 && s <= max - min) => {
            return Err(arg(
                "--crf-step",
                format!("must be positive and at most the range's width, not {s}"),
            ))
        }
        Some(s) => s,
        None if scale.is_some_and(|s| s.crf_fractional) => 0.25,
        None => 1.0,
    };
    if let (Some(sc), false) = (scale, step.fract() == 0.0) {
        if !sc.crf_fractional {
            return Err(arg(
                "--crf-step",
                format!(
                    "{} takes whole CRFs, so {step} cannot be its step",
                    req.encoder.name()
                ),
            ));
        }
    }
    let tolerance = req
        .tolerance
        .unwrap_or_else(|| req.metric.default_tolerance());
    if !(tolerance.is_finite() && tolerance > 0.0) {
        return Err(arg(
            "--tolerance",
            format!("must be positive, not {tolerance}"),
        ));
    }
    if req.max_probes == 0 {
        return Err(arg("--max-probes", "must be at least 1"));
    }
    if !(req.sample_seconds.is_finite() && req.sample_seconds > 0.0) {
        return Err(arg(
            "--sample-seconds",
            format!("must be positive, not {}", req.sample_seconds),
        ));
    }
    if req.samples == Some(0) {
        return Err(arg("--samples", "must be at least 1"));
    }
    let suite = probe_suite(req, min, max)?;
    let cache =
        Cache::resolve(req.cache_dir.as_deref()).map_err(|e| SearchError::Input(e.to_string()))?;
    let prepared = prepare(req, &cache)?;
    let scratch = tempdir_in(cache.root())?;
    let ctx = Context {
        suite: &suite,
        run_id: "crf-search".into(),
        git_revision: req.git_revision.clone(),
        host: crate::harness::host_name(),
        cache: ResultCache::new(req.use_cache.then(|| cache.root().to_path_buf()).as_deref()),
        scratch: scratch.clone(),
    };
    let fps = prepared.whole.sequence.fps.as_f64();
    let total_frames = f64::from(prepared.whole.frames);
    let spec = SearchSpec {
        min_crf: min,
        max_crf: max,
        step,
        target: req.target,
        tolerance,
        max_probes: req.max_probes,
    };
    let config = Arc::new(suite.spec.configs[0].clone());
    let mut probes: Vec<Probe> = Vec::new();
    let mut reports: Vec<ProbeReport> = Vec::new();
    let result = loop {
        match search::next(&spec, &probes) {
            Decision::Probe(crf) => {
                let r = probe(&ctx, req, &prepared, &config, crf, total_frames)?;
                on_probe(&r);
                probes.push(Probe {
                    crf,
                    score: r.score,
                });
                reports.push(r);
            }
            Decision::Found { probe, stop } => break (probe, stop),
            Decision::Unreachable { best, tried_min } => {
                let _ = std::fs::remove_dir_all(&scratch);
                return Err(SearchError::Unreachable {
                    metric: req.metric.name(),
                    stat: stat_name(req.stat),
                    target: req.target,
                    min,
                    max,
                    best_crf: best.crf,
                    best_score: best.score,
                    more: if tried_min {
                        String::new()
                    } else {
                        format!(" after {} probes (--max-probes)", probes.len())
                    },
                });
            }
        }
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let (found, stop) = result;
    let answer = reports
        .iter()
        .find(|r| r.crf == found.crf)
        .cloned()
        .expect("the answer is one of the probes");
    if answer.predicted_percent > req.max_encoded_percent {
        return Err(SearchError::TooLarge {
            metric: req.metric.name(),
            crf: answer.crf,
            score: answer.score,
            percent: answer.predicted_percent,
            limit: req.max_encoded_percent,
        });
    }
    let full = match encode {
        Some(out) => Some(full_encode(req, &prepared, answer.crf, out)?),
        None => None,
    };
    Ok(SearchReport {
        input: req.input.clone(),
        encoder: req.encoder.name(),
        metric: req.metric,
        stat: req.stat,
        target: req.target,
        tolerance,
        crf_range: (min, max, step),
        frames: prepared.whole.frames,
        duration_s: total_frames / fps,
        input_bytes: prepared.input_bytes,
        samples: prepared.samples.iter().map(|(s, _)| *s).collect(),
        probes: reports,
        answer,
        stop,
        full,
    })
}

fn stat_name(s: Stat) -> &'static str {
    match s {
        Stat::Mean => "mean",
        Stat::Hmean => "hmean",
        Stat::P1 => "p1",
        Stat::P5 => "p5",
        Stat::Min => "min",
    }
}

fn tempdir_in(root: &Path) -> Result<PathBuf, SearchError> {
    let dir = root
        .join("tmp")
        .join(format!("crf-search-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| SearchError::Input(format!("{}: {e}", dir.display())))?;
    Ok(dir)
}

/// Encodes and scores every sample at `crf` (or takes them from the cache).
fn probe(
    ctx: &Context<'_>,
    req: &SearchRequest,
    prepared: &Prepared,
    config: &Arc<ConfigSpec>,
    crf: f64,
    total_frames: f64,
) -> Result<ProbeReport, SearchError> {
    let mut values: Vec<f64> = Vec::new();
    let (mut bytes, mut frames, mut encode_s, mut cached) = (0u64, 0u64, 0.0, true);
    for (span, source) in &prepared.samples {
        let job = Job {
            id: format!(
                "{}/f{}+{}/crf{crf}",
                source.seq.sequence.id, span.start, span.frames
            ),
            source: source.clone(),
            config: config.clone(),
            mode: RcMode::Crf,
            point: 0,
            spec: PointSpec::Crf(crf),
            rc: RcSpec::Crf { value: crf },
            repetition: 0,
            cost: 0.0,
            stage: crate::grid::JobStage::Whole,
        };
        let run = execute(ctx, &job);
        let r = &run.result.record;
        if r.status != JobStatus::Ok {
            return Err(SearchError::Probe {
                crf,
                message: r.error.clone().unwrap_or_else(|| format!("{:?}", r.status)),
            });
        }
        values.extend(
            run.result
                .frames
                .iter()
                .filter_map(|f| req.metric.per_frame(f)),
        );
        bytes += r.bytes;
        frames += r.frames;
        encode_s += r.encode_wall_s;
        cached &= r.cached;
    }
    let score = req.stat.of(&values).ok_or_else(|| SearchError::Probe {
        crf,
        message: format!("no per-frame {} scores", req.metric.name()),
    })?;
    let per_frame = total_frames / (frames.max(1) as f64);
    let predicted = (bytes as f64 * per_frame).round() as u64;
    Ok(ProbeReport {
        crf,
        score,
        sample_bytes: bytes,
        predicted_bytes: predicted,
        predicted_percent: 100.0 * predicted as f64 / prepared.input_bytes.max(1) as f64,
        predicted_encode_s: encode_s * per_frame,
        cached,
    })
}

/// Encodes the whole input at `crf` into `out` through the core and scores it against the
/// decoded input.
fn full_encode(
    req: &SearchRequest,
    prepared: &Prepared,
    crf: f64,
    out: &Path,
) -> Result<FullEncode, SearchError> {
    let parts = req.encoder.parts();
    let fail = |message: String| SearchError::Encode {
        path: out.to_path_buf(),
        message,
    };
    let spec = JobSpec::serial(
        req.input.to_string_lossy().into_owned(),
        vec![OutputSettings {
            path: Some(out.to_string_lossy().into_owned()),
            codec: parts.codec,
            command: parts.command,
            command_version: parts.version,
            output_format: parts.output_format,
            preset: req.preset.clone(),
            threads: Some(req.threads),
            rc: Some(RcSpec::Crf { value: crf }),
            params: req.params.clone(),
            pix_fmt: Some(prepared_pix_fmt(&prepared.whole)),
            filter: req.cfr.then(|| {
                let f = prepared.whole.sequence.fps;
                format!("fps={}/{}", f.num(), f.den())
            }),
            ..Default::default()
        }],
    );
    let job = tjob::Job::from_spec(&spec, None, None).map_err(|e| fail(e.to_string()))?;
    if let Some((_, _, e)) = job.rejected.first() {
        return Err(fail(e.to_string()));
    }
    let report = tjob::run(&job, &NoProgress).map_err(|e| fail(e.to_string()))?;
    let o = report
        .outputs
        .first()
        .ok_or_else(|| fail("the encode produced no output".into()))?;
    if let Some(e) = &o.error {
        return Err(fail(e.to_string()));
    }
    let options = CompareOptions {
        metrics: vec![req.metric.metric()],
        vmaf_model: req.vmaf_model,
        decoder_threads: 0,
        align: crate::align::Align::Timestamps { offset: 0 },
        ..Default::default()
    };
    let cmp = compare(&prepared.whole.path, out, &options).map_err(|e| fail(e.to_string()))?;
    let values = cmp
        .per_frame
        .get(req.metric.column().column())
        .ok_or_else(|| fail(format!("no {} scores", req.metric.name())))?;
    let score = req
        .stat
        .of(values)
        .ok_or_else(|| fail(format!("no {} scores", req.metric.name())))?;
    Ok(FullEncode {
        path: out.to_path_buf(),
        score,
        bytes: o.video_bytes,
        percent: 100.0 * o.video_bytes as f64 / prepared.input_bytes.max(1) as f64,
        encode_s: o.encode_wall_s,
    })
}

/// The pixel format the probes encoded from: the decoded input's (4:2:0 at its bit depth).
fn prepared_pix_fmt(m: &MaterializedSequence) -> String {
    match m.sequence.bit_depth {
        8 => "yuv420p".into(),
        d => format!("yuv420p{d}le"),
    }
}
