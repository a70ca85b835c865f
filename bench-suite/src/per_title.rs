//! The per-title ladder (`rdbench ladder`): an input encoded at every resolution x CRF of a grid
//! through the transcode core, in parallel, each encode scored with VMAF at the input's own
//! resolution (the encode upscaled, Lanczos by default, as the AOM CTC's adaptive-streaming
//! condition scores), the convex hull over (bitrate, quality), the rungs chosen from it
//! ([`crate::ladder`]), and the transcode job that ships them.
//!
//! The per-title ladder is then measured against a fixed reference ladder (the built-in
//! [`HLS_LADDER`], or rungs given as a templates file): each reference rung is encoded at its
//! bitrate the same way and scored the same way, and the BD-rate of the per-title hull and of
//! its rungs against the reference rungs is the saving the per-title ladder buys on this title.
//!
//! Encodes and scores are cached by content: the decoded input's SHA-256, the encoder, its
//! version and settings, the resolution and rate control, the scaler, the VMAF model, the
//! scorer's revision and libvmaf's version.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rdbench_corpora::Cache;
use rdbench_metrics::vmaf::VmafModelVersion;
use rdbench_results::ladder::against_reference;
use rdbench_results::RcMode;
use rdbench_transcode::filter::ScaleAlgorithm;
use rdbench_transcode::job::{self as tjob, NoProgress};
use rdbench_transcode::spec::{
    parse_templates, AudioKeyword, AudioSpec, JobSpec, OutputSettings, RcSpec, Scalar,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::cache::{key_of, ResultCache, CACHE_VERSION};
use crate::compare::{compare, CompareOptions, Metric};
use crate::crf_search::materialize_input;
use crate::ladder::{convex_hull, rungs_at_bitrates, rungs_by_quality, LadderPoint};

/// The heights of the default grid (capped at the input's).
pub const DEFAULT_HEIGHTS: [u32; 7] = [1080, 720, 540, 432, 360, 270, 234];

/// The built-in reference ladder, (height, kbit/s): the H.264 rungs of the HLS authoring
/// guidance for 16:9 video, the one-size-fits-all ladder a per-title ladder replaces. It is
/// used as it is whatever the codec (a fixed ladder does not adapt to the codec either).
pub const HLS_LADDER: [(u32, f64); 9] = [
    (234, 145.0),
    (360, 365.0),
    (432, 730.0),
    (432, 1100.0),
    (540, 2000.0),
    (720, 3000.0),
    (720, 4500.0),
    (1080, 6000.0),
    (1080, 7800.0),
];

/// The fixed ladder the per-title ladder is measured against.
#[derive(Clone, Debug, PartialEq)]
pub enum Reference {
    /// None: no reference encodes, no BD-rate.
    None,
    /// [`HLS_LADDER`]'s rungs at or below the input's height, encoded with the ladder's encoder
    /// at their bitrates (one-pass ABR).
    Hls,
    /// The templates of a templates file (`[template.NAME]`), each one rung: its `height` (or
    /// `width`) and `rc` are required, its encoder settings default to the ladder's.
    Templates(PathBuf),
}

/// How rungs are chosen.
#[derive(Clone, Debug, PartialEq)]
pub enum RungChoice {
    /// The best hull point under each target bitrate (kbit/s).
    Bitrates(Vec<f64>),
    /// Steps of this much quality down from the top rung.
    QualityStep(f64),
}

/// A ladder to build.
#[derive(Clone, Debug)]
pub struct LadderRequest {
    /// The input media file.
    pub input: PathBuf,
    /// libavcodec encoder.
    pub codec: String,
    /// Preset.
    pub preset: Option<Scalar>,
    /// Encoder parameters.
    pub params: Option<String>,
    /// Heights to encode (default: [`DEFAULT_HEIGHTS`] up to the input's).
    pub heights: Option<Vec<u32>>,
    /// Leave out the `heights` above the input's instead of refusing them (a suite's ladder
    /// over sequences of several sizes).
    pub clamp_heights: bool,
    /// The rate points of every resolution: CRFs, or QPs with `qp`.
    pub points: Vec<f64>,
    /// The points are QPs (constant quantiser) rather than CRFs.
    pub qp: bool,
    /// How rungs are picked.
    pub choice: RungChoice,
    /// The top rung's bitrate cap in kbit/s.
    pub top_kbps: Option<f64>,
    /// Rungs at most (quality steps).
    pub max_rungs: usize,
    /// Scaler of the upscale before scoring.
    pub scale: ScaleAlgorithm,
    /// VMAF model.
    pub vmaf_model: VmafModelVersion,
    /// Concurrent encodes (default: the cores).
    pub jobs: Option<usize>,
    /// Cache folder.
    pub cache_dir: Option<PathBuf>,
    /// Reuse and store encodes.
    pub use_cache: bool,
    /// The fixed ladder to measure against.
    pub reference: Reference,
}

pub use rdbench_results::ladder::{
    GridEncode, LadderReport, ReferenceEncode, ReferenceReport, Rung,
};

/// Why a ladder could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum LadderError {
    /// A bad argument.
    #[error("{flag}: {message}")]
    Argument {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The input cannot be used, or an encode failed.
    #[error("{0}")]
    Failed(String),
}

fn arg(flag: &'static str, message: String) -> LadderError {
    LadderError::Argument { flag, message }
}

/// Builds the ladder of `req`.
pub fn build(req: &LadderRequest) -> Result<LadderReport, LadderError> {
    if req.points.is_empty() {
        return Err(arg(req.flag(), "names no rate point".into()));
    }
    match &req.choice {
        RungChoice::Bitrates(b)
            if b.is_empty() || b.iter().any(|k| !(k.is_finite() && *k > 0.0)) =>
        {
            return Err(arg(
                "--bitrates",
                format!("must be positive kbit/s, not {b:?}"),
            ))
        }
        RungChoice::QualityStep(s) if !(s.is_finite() && *s > 0.0) => {
            return Err(arg("--quality-step", format!("must be positive, not {s}")))
        }
        _ => {}
    }
    let cache =
        Cache::resolve(req.cache_dir.as_deref()).map_err(|e| LadderError::Failed(e.to_string()))?;
    let (_, _, src) = materialize_input(&req.input, &cache, false).map_err(LadderError::Failed)?;
    build_on(req, &cache, &src)
}

/// Builds the ladder of `req` on a sequence already decoded into the corpus cache (`req.input`
/// names it in the report).
pub fn build_on(
    req: &LadderRequest,
    cache: &Cache,
    src: &rdbench_corpora::MaterializedSequence,
) -> Result<LadderReport, LadderError> {
    let (sw, sh) = (src.sequence.width, src.sequence.height);
    let heights: Vec<u32> = match &req.heights {
        Some(h) if req.clamp_heights => h.iter().copied().filter(|&x| x <= sh).collect(),
        Some(h) => {
            if let Some(too) = h.iter().find(|&&x| x > sh || x < 2) {
                return Err(arg(
                    "--heights",
                    format!("{too} is not a height of a {sw}x{sh} input (2 to {sh}; rdbench does not upscale)"),
                ));
            }
            h.clone()
        }
        None => DEFAULT_HEIGHTS
            .iter()
            .copied()
            .filter(|&x| x <= sh)
            .collect(),
    };
    let heights = if heights.is_empty() {
        vec![sh]
    } else {
        heights
    };
    // Every rate point must pass the core's encoder rules before anything is encoded.
    for &v in &req.points {
        check_settings(&src.path, &grid_settings(req, heights[0], v))
            .map_err(|e| arg(req.flag(), e))?;
    }
    let (reference_source, reference_cells, skipped) = reference_cells(req, &src.path, sw, sh)?;
    let results = ResultCache::new(req.use_cache.then(|| cache.root().to_path_buf()).as_deref());
    let scratch = cache
        .root()
        .join("tmp")
        .join(format!("ladder-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)
        .map_err(|e| LadderError::Failed(format!("{}: {e}", scratch.display())))?;
    let cells: Vec<(u32, f64)> = heights
        .iter()
        .flat_map(|&h| req.points.iter().map(move |&c| (h, c)))
        .collect();
    let jobs = req.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .build()
        .map_err(|e| LadderError::Failed(e.to_string()))?;
    // The grid and the reference rungs, as one list of encodes for the pool.
    let mut work: Vec<(String, OutputSettings)> = cells
        .iter()
        .map(|&(h, v)| (format!("{h}p {} {v}", req.mode()), grid_settings(req, h, v)))
        .collect();
    work.extend(
        reference_cells
            .iter()
            .map(|c| (format!("reference {}", c.name), c.settings.clone())),
    );
    let measured: Result<Vec<Measured>, LadderError> = pool.install(|| {
        work.par_iter()
            .map(|(label, settings)| measure(req, &src, &results, &scratch, settings, label))
            .collect()
    });
    let _ = std::fs::remove_dir_all(&scratch);
    let measured = measured?;
    let grid: Vec<GridEncode> = cells
        .iter()
        .zip(&measured)
        .map(|(&(height, value), m)| GridEncode {
            height,
            width: m.width,
            mode: req.mode(),
            value,
            kbps: m.kbps,
            vmaf: m.vmaf,
        })
        .collect();
    let reference_rungs: Vec<ReferenceEncode> = reference_cells
        .iter()
        .zip(&measured[cells.len()..])
        .map(|(c, m)| {
            let (rc_mode, rc_value) = rc_point(
                c.settings
                    .rc
                    .as_ref()
                    .expect("reference rungs have rate control"),
            );
            ReferenceEncode {
                name: c.name.clone(),
                height: c.height,
                width: m.width,
                rc_mode,
                rc_value,
                kbps: m.kbps,
                vmaf: m.vmaf,
            }
        })
        .collect();
    let points: Vec<LadderPoint> = grid
        .iter()
        .map(|g| LadderPoint {
            height: g.height,
            kbps: g.kbps,
            quality: g.vmaf,
        })
        .collect();
    let hull_points = convex_hull(&points);
    let back = |p: &LadderPoint| {
        *grid
            .iter()
            .find(|g| g.height == p.height && g.kbps == p.kbps && g.vmaf == p.quality)
            .expect("hull points are grid points")
    };
    let hull: Vec<GridEncode> = hull_points.iter().map(back).collect();
    let top = req.top_kbps.unwrap_or(f64::INFINITY);
    let mut rungs: Vec<Rung> = match &req.choice {
        RungChoice::Bitrates(targets) => {
            let capped: Vec<f64> = targets.iter().map(|t| t.min(top)).collect();
            rungs_at_bitrates(&hull_points, &capped)
                .iter()
                .zip(targets)
                .filter_map(|(r, t)| {
                    r.map(|p| Rung {
                        encode: back(&p),
                        target_kbps: Some(*t),
                    })
                })
                .collect()
        }
        RungChoice::QualityStep(step) => rungs_by_quality(&hull_points, *step, top, req.max_rungs)
            .iter()
            .map(|p| Rung {
                encode: back(p),
                target_kbps: None,
            })
            .collect(),
    };
    rungs.sort_by(|a, b| b.encode.kbps.total_cmp(&a.encode.kbps));
    if rungs.is_empty() {
        return Err(LadderError::Failed(
            "no encode of the grid is under the requested bitrates; lower the CRFs or raise the targets".into(),
        ));
    }
    let reference = (req.reference != Reference::None)
        .then(|| against_reference(reference_source, reference_rungs, skipped, &hull, &rungs));
    Ok(LadderReport {
        input: req.input.clone(),
        source: (sw, sh),
        grid,
        hull,
        rungs,
        reference,
    })
}

/// The ladder's own encoder settings: codec, preset, parameters, one thread, no audio.
fn encoder_defaults(req: &LadderRequest) -> OutputSettings {
    OutputSettings {
        codec: Some(req.codec.clone()),
        preset: req.preset.clone(),
        threads: Some(1),
        params: req.params.clone(),
        audio: Some(AudioSpec::Keyword(AudioKeyword::Drop)),
        ..Default::default()
    }
}

/// The settings of one grid encode.
fn grid_settings(req: &LadderRequest, height: u32, value: f64) -> OutputSettings {
    OutputSettings {
        height: Some(height),
        rc: Some(rc_spec(req.mode(), value)),
        ..encoder_defaults(req)
    }
}

/// The rate control of a grid point.
fn rc_spec(mode: RcMode, value: f64) -> RcSpec {
    match mode {
        RcMode::Qp => RcSpec::Qp { value },
        _ => RcSpec::Crf { value },
    }
}

impl LadderRequest {
    /// The grid's rate-control mode.
    pub fn mode(&self) -> RcMode {
        if self.qp {
            RcMode::Qp
        } else {
            RcMode::Crf
        }
    }

    /// The command-line flag that gave the grid's points.
    fn flag(&self) -> &'static str {
        if self.qp {
            "--qp"
        } else {
            "--crf"
        }
    }
}

fn job_spec(input: &Path, out: &Path, settings: &OutputSettings) -> JobSpec {
    JobSpec::serial(
        input.to_string_lossy().into_owned(),
        vec![OutputSettings {
            path: Some(out.to_string_lossy().into_owned()),
            ..settings.clone()
        }],
    )
}

/// Checks `settings` against the core's encoder rules without encoding anything.
fn check_settings(input: &Path, settings: &OutputSettings) -> Result<(), String> {
    let spec = job_spec(input, Path::new("check.mkv"), settings);
    let j = tjob::Job::from_spec(&spec, None, None).map_err(|e| e.to_string())?;
    match j.rejected.first() {
        Some((_, _, e)) => Err(e.to_string()),
        None => Ok(()),
    }
}

/// A reference rung before it is encoded.
struct ReferenceCell {
    name: String,
    height: u32,
    settings: OutputSettings,
}

/// The reference ladder's rungs that fit a `sw`x`sh` input, and those left out with the reason.
fn reference_cells(
    req: &LadderRequest,
    input: &Path,
    sw: u32,
    sh: u32,
) -> Result<(String, Vec<ReferenceCell>, Vec<String>), LadderError> {
    let mut cells = Vec::new();
    let mut skipped = Vec::new();
    let above = |name: &str, h: u32| format!("{name}: {h}p is above the {sw}x{sh} input");
    let source = match &req.reference {
        Reference::None => return Ok((String::new(), cells, skipped)),
        Reference::Hls => {
            for &(h, kbps) in &HLS_LADDER {
                let name = format!("{h}p_{kbps:.0}k");
                if h > sh {
                    skipped.push(above(&name, h));
                    continue;
                }
                cells.push(ReferenceCell {
                    name,
                    height: h,
                    settings: OutputSettings {
                        height: Some(h),
                        rc: Some(RcSpec::Abr {
                            bitrate_kbps: kbps,
                            passes: None,
                        }),
                        ..encoder_defaults(req)
                    },
                });
            }
            "built-in HLS".to_owned()
        }
        Reference::Templates(path) => {
            let bad = |m: String| arg("--reference", format!("{}: {m}", path.display()));
            let text = std::fs::read_to_string(path).map_err(|e| bad(e.to_string()))?;
            let file =
                parse_templates(&text, path).map_err(|e| arg("--reference", e.to_string()))?;
            if file.template.is_empty() {
                return Err(bad("names no [template.NAME] rung".into()));
            }
            for (name, t) in &file.template {
                if t.command.is_some() {
                    return Err(bad(format!(
                        "template `{name}`: an encoder program cannot be a reference rung; use a libavcodec `codec`"
                    )));
                }
                if t.rc.is_none() {
                    return Err(bad(format!(
                        "template `{name}`: a reference rung needs `rc`"
                    )));
                }
                let h = match (t.height, t.width) {
                    (Some(h), _) => h,
                    (None, Some(w)) => {
                        (((u64::from(w) * u64::from(sh)) as f64 / f64::from(sw) / 2.0).round()
                            as u32)
                            * 2
                    }
                    (None, None) => {
                        return Err(bad(format!(
                            "template `{name}`: a reference rung needs `height` or `width`"
                        )))
                    }
                };
                if h > sh {
                    skipped.push(above(name, h));
                    continue;
                }
                let settings = OutputSettings {
                    path: None,
                    template: None,
                    audio: Some(AudioSpec::Keyword(AudioKeyword::Drop)),
                    ..t.clone()
                }
                .or(&encoder_defaults(req));
                cells.push(ReferenceCell {
                    name: name.clone(),
                    height: h,
                    settings,
                });
            }
            path.display().to_string()
        }
    };
    for c in &cells {
        check_settings(input, &c.settings)
            .map_err(|e| arg("--reference", format!("{}: {e}", c.name)))?;
    }
    Ok((source, cells, skipped))
}

/// An encode measured: its width, bitrate and VMAF.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
struct Measured {
    width: u32,
    kbps: f64,
    vmaf: f64,
}

#[derive(Serialize)]
struct MeasureKey<'a> {
    version: u32,
    source_sha256: &'a str,
    encoder_version: String,
    settings: String,
    scale: &'static str,
    model: &'static str,
    scorer: u32,
    libvmaf: String,
}

/// Encodes the input with `settings` through the core, scores the encode upscaled to the
/// input's size, and caches the measurement.
fn measure(
    req: &LadderRequest,
    src: &rdbench_corpora::MaterializedSequence,
    cache: &ResultCache,
    scratch: &Path,
    settings: &OutputSettings,
    label: &str,
) -> Result<Measured, LadderError> {
    let codec = settings.codec.as_deref().unwrap_or(&req.codec);
    let key = key_of(&MeasureKey {
        version: CACHE_VERSION,
        source_sha256: &src.sha256,
        encoder_version: rdbench_transcode::versions::encoder(codec),
        settings: serde_json::to_string(settings).expect("output settings serialise"),
        scale: req.scale.name(),
        model: req.vmaf_model.name(),
        scorer: rdbench_metrics::SCORER_REVISION,
        libvmaf: rdbench_metrics::vmaf::libvmaf_version(),
    });
    if let Some(m) = cache.get::<Measured>("ladder", &key) {
        return Ok(m);
    }
    let fail = |m: String| LadderError::Failed(format!("{label}: {m}"));
    let out = scratch.join(format!("{key}.mkv"));
    let spec = job_spec(&src.path, &out, settings);
    let job = tjob::Job::from_spec(&spec, None, None).map_err(|e| fail(e.to_string()))?;
    let report = tjob::run(&job, &NoProgress).map_err(|e| fail(e.to_string()))?;
    let o = report
        .outputs
        .first()
        .ok_or_else(|| fail("no output".into()))?;
    if let Some(e) = &o.error {
        return Err(fail(e.to_string()));
    }
    let seconds = f64::from(src.frames) / src.sequence.fps.as_f64();
    let options = CompareOptions {
        metrics: vec![Metric::Vmaf],
        vmaf_model: req.vmaf_model,
        scale: req.scale,
        decoder_threads: 1,
        align: crate::align::Align::Timestamps { offset: 0 },
        ..Default::default()
    };
    let cmp = compare(&src.path, &out, &options).map_err(|e| fail(e.to_string()))?;
    let _ = std::fs::remove_file(&out);
    let vmaf = cmp
        .pooled
        .get(rdbench_results::Metric::Vmaf.column())
        .map(|e| e.pooled.mean)
        .ok_or_else(|| fail("no VMAF".into()))?;
    let m = Measured {
        width: o.width,
        kbps: o.video_bytes as f64 * 8.0 / seconds / 1000.0,
        vmaf,
    };
    cache.put("ladder", &key, &m);
    Ok(m)
}

/// A job spec's rate control as a results rate point: mode and value.
fn rc_point(rc: &RcSpec) -> (RcMode, f64) {
    match rc {
        RcSpec::Crf { value } => (RcMode::Crf, *value),
        RcSpec::Qp { value } => (RcMode::Qp, *value),
        RcSpec::CappedCrf { value, .. } => (RcMode::CappedCrf, *value),
        RcSpec::Abr {
            bitrate_kbps,
            passes,
        } => (
            if *passes == Some(2) {
                RcMode::Abr2
            } else {
                RcMode::Abr
            },
            *bitrate_kbps,
        ),
        RcSpec::Cbr { bitrate_kbps, .. } => (RcMode::Cbr, *bitrate_kbps),
    }
}

/// The transcode job (TOML) that encodes `report`'s rungs from its input, one output per rung
/// named `<stem>_<height>p_<kbps>k.<ext>`.
pub fn job_toml(req: &LadderRequest, report: &LadderReport, stem: &str, ext: &str) -> String {
    let input = std::fs::canonicalize(&report.input).unwrap_or_else(|_| report.input.clone());
    let spec = JobSpec {
        input: input.to_string_lossy().into_owned(),
        concat: Vec::new(),
        templates: None,
        defaults: OutputSettings {
            codec: Some(req.codec.clone()),
            preset: req.preset.clone(),
            params: req.params.clone(),
            threads: Some(1),
            ..Default::default()
        },
        execution: Default::default(),
        outputs: report
            .rungs
            .iter()
            .map(|r| OutputSettings {
                path: Some(format!(
                    "{stem}_{}p_{:.0}k.{ext}",
                    r.encode.height, r.encode.kbps
                )),
                height: Some(r.encode.height),
                rc: Some(rc_spec(r.encode.mode, r.encode.value)),
                ..Default::default()
            })
            .collect(),
        snapshots: Vec::new(),
        clip: None,
    };
    toml::to_string(&spec).expect("a job spec serialises")
}

/// The suite's `[ladder]` for every sequence of `sources` that `keep` accepts (a shard's share),
/// written to the run folder as each finishes; a ladder already there (a resumed run) is kept.
/// A ladder that cannot be built is written with its error, and the others go on.
pub fn suite_ladders(
    suite: &crate::suite::Suite,
    sources: &[std::sync::Arc<crate::grid::SourceSequence>],
    keep: impl Fn(usize) -> bool,
    run_dir: &Path,
    cache: &Cache,
    use_cache: bool,
    jobs: usize,
    note: &dyn Fn(&str),
) -> Result<(), rdbench_results::run::RunError> {
    let Some(spec) = &suite.spec.ladder else {
        return Ok(());
    };
    let config = suite
        .config(&spec.config)
        .expect("the suite check found the ladder's configuration");
    let reference = match spec.reference.as_deref() {
        None | Some("hls") => Reference::Hls,
        Some("none") => Reference::None,
        Some(path) => Reference::Templates(crate::suite::ladder_reference_path(
            path,
            suite.path.as_deref(),
        )),
    };
    for (i, src) in sources.iter().enumerate() {
        if !keep(i) {
            continue;
        }
        let seq = &src.seq.sequence;
        if rdbench_results::ladder::file(run_dir, &src.corpus, &seq.id).is_file() {
            continue;
        }
        let req = LadderRequest {
            input: src.seq.path.clone(),
            codec: config.codec.clone().unwrap_or_default(),
            preset: config.preset.clone(),
            params: config.params.clone(),
            heights: spec.heights.clone(),
            clamp_heights: true,
            points: spec.qp.clone().unwrap_or_else(|| spec.crf.clone()),
            qp: spec.qp.is_some(),
            choice: match &spec.bitrates {
                Some(b) => RungChoice::Bitrates(b.clone()),
                None => RungChoice::QualityStep(spec.quality_step.unwrap_or(6.0)),
            },
            top_kbps: spec.top_kbps,
            max_rungs: spec.max_rungs.unwrap_or(8),
            scale: spec
                .scale
                .as_deref()
                .and_then(ScaleAlgorithm::parse)
                .unwrap_or(ScaleAlgorithm::Lanczos),
            vmaf_model: suite.vmaf_model,
            jobs: Some(jobs),
            cache_dir: Some(cache.root().to_path_buf()),
            use_cache,
            reference: reference.clone(),
        };
        let t0 = std::time::Instant::now();
        let built = build_on(&req, cache, &src.seq);
        let (ladder, error) = match built {
            Ok(l) => {
                note(&format!(
                    "ladder {}/{}: {} encodes, {} rungs, {:.0} s",
                    src.corpus,
                    seq.id,
                    l.grid.len() + l.reference.as_ref().map_or(0, |r| r.rungs.len()),
                    l.rungs.len(),
                    t0.elapsed().as_secs_f64()
                ));
                (Some(l), None)
            }
            Err(e) => {
                note(&format!("ladder {}/{}: {e}", src.corpus, seq.id));
                (None, Some(e.to_string()))
            }
        };
        let record = rdbench_results::ladder::SequenceLadder {
            corpus: src.corpus.clone(),
            sequence: seq.id.clone(),
            class: seq.class.to_string(),
            config: config.name.clone(),
            ladder,
            error,
        };
        rdbench_results::ladder::write(run_dir, &record)?;
    }
    Ok(())
}
