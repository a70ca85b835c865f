//! Jobs: a validated plan of outputs (pipelines) over one input, and the runner that demuxes and
//! decodes the input once and feeds every pipeline.
//!
//! A pipeline is one output; its video flow is filter -> encode -> mux and its audio flow is
//! encode -> mux (or packet copy -> mux). Planning happens in two steps: [`Job::from_spec`] checks
//! what can be checked without the input (rate-control numbers, containers, writable folders),
//! and [`run`] resolves sizes, pixel formats and encoder settings against the source. An output
//! whose settings are wrong fails alone; the others run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;
use serde::Serialize;

use crate::encode::{AudioEncode, AudioEncodeSetup, VideoEncode, VideoEncodeSetup};
use crate::error::{Error, Result};
use crate::external::{Bitstream, ExternalEncode, ExternalEncodeSetup, ExternalEncoder};
use crate::filter::{
    declared_rate, frame_rate_plan, output_size, Rate, Sampler, ScaleAlgorithm, VideoGraphPlan,
};
use crate::input::{self, AudioDecode, AudioInfo, InputSource, VideoDecode, VideoInfo};
use crate::media::{self, AudioFrame, MuxItem, MuxPacket, VideoFrame};
use crate::mux::{self, Container, MuxSetup, Muxer};
use crate::settings::{encoder_config, EncoderRequest, Pass, RateControl, StatsChannel};
use crate::spec::{
    AudioKeyword, AudioSpec, CropSpec, FpsMode, JobSpec, Scalar, TaskMode, TemplateFile,
};
use crate::task::{self, Mode, NullSink, PipelineState, QueuePolicy, Shared, Sink, TaskStats, Tee};

/// What happens to the input's audio in one output.
#[derive(Clone, Debug, PartialEq)]
pub enum AudioPlan {
    /// No audio.
    Drop,
    /// Copy the packets.
    Copy,
    /// Encode.
    Encode {
        /// Encoder name.
        codec: String,
        /// Bitrate in kbit/s.
        bitrate_kbps: Option<f64>,
        /// Channels.
        channels: Option<u32>,
        /// Sample rate.
        sample_rate: Option<u32>,
    },
}

/// Serial or parallel, per task of an output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlowModes {
    /// The filter task.
    pub filter: Mode,
    /// The encode task.
    pub encode: Mode,
    /// The mux task.
    pub mux: Mode,
}

impl Default for FlowModes {
    /// Filter on its own thread; encode and mux inline after it: one thread per rung.
    fn default() -> Self {
        FlowModes {
            filter: Mode::Parallel,
            encode: Mode::Serial,
            mux: Mode::Serial,
        }
    }
}

/// One validated output.
#[derive(Clone, Debug)]
pub struct OutputPlan {
    /// Position in the job.
    pub index: usize,
    /// Job-spec field prefix, `output[i]`.
    pub field: String,
    /// Final path.
    pub path: PathBuf,
    /// Container.
    pub container: Container,
    /// Video encoder.
    pub codec: String,
    /// Preset.
    pub preset: Option<Scalar>,
    /// Encoder threads (None: automatic).
    pub threads: Option<u32>,
    /// Rate control.
    pub rc: Option<RateControl>,
    /// Requested width.
    pub width: Option<u32>,
    /// Requested height.
    pub height: Option<u32>,
    /// Scaling algorithm.
    pub scale: ScaleAlgorithm,
    /// Target frame rate.
    pub fps: Option<Rate>,
    /// How the frame rate is reached.
    pub fps_mode: Option<FpsMode>,
    /// Crop.
    pub crop: Option<CropSpec>,
    /// Output pixel format.
    pub pix_fmt: Option<String>,
    /// Extra filter graph.
    pub filter: Option<String>,
    /// Encoder parameter string.
    pub params: Option<String>,
    /// Raw encoder options.
    pub options: BTreeMap<String, Scalar>,
    /// Keyframe interval.
    pub gop: Option<u32>,
    /// Audio.
    pub audio: AudioPlan,
    /// HLS segment duration.
    pub hls_time: Option<f64>,
    /// Pass SEI/HDR/captions through.
    pub passthrough: bool,
    /// Serial or parallel per task.
    pub modes: FlowModes,
    /// An encoder program instead of the libavcodec encoder `codec`.
    pub external: Option<ExternalEncoder>,
}

/// A validated job.
#[derive(Debug)]
pub struct Job {
    /// The input.
    pub input: InputSource,
    /// Outputs that passed validation.
    pub outputs: Vec<OutputPlan>,
    /// Outputs refused by validation, with their index and path (when known).
    pub rejected: Vec<(usize, Option<PathBuf>, Error)>,
    /// Queueing rules.
    pub policy: QueuePolicy,
    /// The decode task's mode.
    pub decode_mode: Mode,
    /// Decoder threads (0: automatic).
    pub decoder_threads: u32,
}

fn mode(m: Option<TaskMode>, default: Mode) -> Mode {
    match m {
        Some(TaskMode::Serial) => Mode::Serial,
        Some(TaskMode::Parallel) => Mode::Parallel,
        None => default,
    }
}

impl Job {
    /// Validates a spec. `spec_path` resolves relative paths (None: the current folder).
    pub fn from_spec(
        spec: &JobSpec,
        templates: Option<&TemplateFile>,
        spec_path: Option<&Path>,
    ) -> Result<Job> {
        crate::init();
        if spec.outputs.is_empty() {
            return Err(Error::Spec {
                field: "output".into(),
                message: "the job has no [[output]]".into(),
            });
        }
        let ex = &spec.execution;
        let queue = ex.queue.unwrap_or(8);
        if queue == 0 {
            return Err(Error::Spec {
                field: "execution.queue".into(),
                message: "must be at least 1".into(),
            });
        }
        let policy = QueuePolicy {
            capacity: queue,
            mode: ex.mode.unwrap_or_default(),
            live_drop_threshold: ex
                .live_drop_threshold
                .unwrap_or(queue.saturating_sub(2).max(1)),
        };
        if policy.live_drop_threshold == 0 || policy.live_drop_threshold > queue {
            return Err(Error::Spec {
                field: "execution.live_drop_threshold".into(),
                message: format!(
                    "must be between 1 and the queue size {queue}, not {}",
                    policy.live_drop_threshold
                ),
            });
        }
        let defaults = FlowModes::default();
        let mut outputs = Vec::new();
        let mut rejected = Vec::new();
        let mut seen_paths: Vec<PathBuf> = Vec::new();
        for i in 0..spec.outputs.len() {
            let path_hint = spec.outputs[i].path.as_ref().map(|p| resolve(spec_path, p));
            match plan_output(spec, templates, spec_path, i, defaults, ex) {
                Ok(plan) => {
                    if seen_paths.contains(&plan.path) {
                        rejected.push((
                            i,
                            Some(plan.path.clone()),
                            Error::Spec {
                                field: format!("output[{i}].path"),
                                message: format!(
                                    "{} is already written by another output",
                                    plan.path.display()
                                ),
                            },
                        ));
                    } else {
                        seen_paths.push(plan.path.clone());
                        outputs.push(plan);
                    }
                }
                Err(e) => rejected.push((i, path_hint, e)),
            }
        }
        Ok(Job {
            input: InputSource::parse(&spec.input, spec_path),
            outputs,
            rejected,
            policy,
            decode_mode: mode(ex.decode, Mode::Serial),
            decoder_threads: 0,
        })
    }
}

fn resolve(spec_path: Option<&Path>, p: &str) -> PathBuf {
    match spec_path {
        Some(s) => crate::spec::resolve(s, p),
        None => PathBuf::from(p),
    }
}

fn plan_output(
    spec: &JobSpec,
    templates: Option<&TemplateFile>,
    spec_path: Option<&Path>,
    i: usize,
    defaults: FlowModes,
    ex: &crate::spec::ExecutionSpec,
) -> Result<OutputPlan> {
    let o = crate::spec::effective_output(spec, templates, i)?;
    let field = format!("output[{i}]");
    let path = o
        .path
        .as_deref()
        .map(|p| resolve(spec_path, p))
        .ok_or_else(|| Error::Spec {
            field: format!("{field}.path"),
            message: "missing".into(),
        })?;
    let container = match &o.format {
        Some(name) => Container::from_name(name).ok_or_else(|| Error::Spec {
            field: format!("{field}.format"),
            message: format!("unknown container `{name}` (mp4, mov, mkv, webm, ts, flv, ivf, y4m, hls, h264, hevc)"),
        })?,
        None => Container::from_path(&path).ok_or_else(|| Error::Spec {
            field: format!("{field}.path"),
            message: format!("cannot tell the container from `{}`; add an extension or set `format`", path.display()),
        })?,
    };
    // A Y4M output is raw video: encoder settings inherited from defaults or templates do not
    // apply to it (FFmpeg's Y4M muxer takes decoded frames wrapped as packets).
    let mut o = o;
    if container == Container::Y4m {
        o.codec = Some("wrapped_avframe".into());
        o.rc = None;
        o.preset = None;
        o.params = None;
        o.options = None;
        o.threads = None;
        o.gop = None;
    }
    let rc =
        o.rc.as_ref()
            .map(|r| RateControl::from_spec(r, &format!("{field}.rc")))
            .transpose()?;
    let external = external_plan(&o, rc.as_ref(), &field, container)?;
    let codec = match (&external, o.codec.as_deref()) {
        (Some(e), _) => external_name(e),
        (None, Some(c)) => c.to_string(),
        (None, None) => {
            return Err(Error::Spec {
                field: format!("{field}.codec"),
                message: "missing (e.g. codec = \"libx264\", or a `command`)".into(),
            })
        }
    };
    if external.is_none() {
        let enc = ff::encoder::find_by_name(&codec).ok_or_else(|| Error::UnknownCodec {
            field: format!("{field}.codec"),
            what: "encoder",
            name: codec.clone(),
        })?;
        if enc.medium() != ff::media::Type::Video {
            return Err(Error::Spec {
                field: format!("{field}.codec"),
                message: format!("{codec} is not a video encoder"),
            });
        }
        if container.can_carry(enc.id()) == Some(false) {
            return Err(Error::Spec {
                field: format!("{field}.codec"),
                message: format!(
                    "the {} container cannot carry {codec} ({})",
                    container.muxer(),
                    enc.id().name()
                ),
            });
        }
    }
    let scale = match &o.scale {
        Some(name) => ScaleAlgorithm::parse(name).ok_or_else(|| Error::Spec {
            field: format!("{field}.scale"),
            message: format!(
                "unknown algorithm `{name}` ({})",
                ScaleAlgorithm::ALL
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })?,
        None => ScaleAlgorithm::default(),
    };
    let fps = match &o.fps {
        Some(v) => Some(Rate::parse(&v.to_string()).ok_or_else(|| Error::Spec {
            field: format!("{field}.fps"),
            message: format!("`{v}` is not a frame rate (30, 29.97, 30000/1001)"),
        })?),
        None => None,
    };
    if o.fps_mode.is_some() && fps.is_none() {
        return Err(Error::Spec {
            field: format!("{field}.fps_mode"),
            message: "needs a target `fps`".into(),
        });
    }
    for (name, v) in [("width", o.width), ("height", o.height)] {
        if v == Some(0) {
            return Err(Error::Spec {
                field: format!("{field}.{name}"),
                message: "must be positive".into(),
            });
        }
    }
    if let Some(p) = &o.pix_fmt {
        if media::pix_fmt_by_name(p).is_none() {
            return Err(Error::Spec {
                field: format!("{field}.pix_fmt"),
                message: format!("unknown pixel format `{p}`"),
            });
        }
    }
    let hls_time = match (container, o.hls_time) {
        (Container::Hls, t) => {
            let t = t.unwrap_or(6.0);
            if !(1.0..=60.0).contains(&t) {
                return Err(Error::Spec {
                    field: format!("{field}.hls_time"),
                    message: format!("must be between 1 and 60 seconds, not {t}"),
                });
            }
            Some(t)
        }
        (_, Some(_)) => {
            return Err(Error::Spec {
                field: format!("{field}.hls_time"),
                message: "only applies to HLS outputs (.m3u8)".into(),
            })
        }
        (_, None) => None,
    };
    let audio = match &o.audio {
        Some(AudioSpec::Keyword(AudioKeyword::Drop)) => AudioPlan::Drop,
        Some(AudioSpec::Keyword(AudioKeyword::Copy)) => AudioPlan::Copy,
        Some(AudioSpec::Encode(a)) => {
            let enc = ff::encoder::find_by_name(&a.codec).ok_or_else(|| Error::UnknownCodec {
                field: format!("{field}.audio.codec"),
                what: "encoder",
                name: a.codec.clone(),
            })?;
            if enc.medium() != ff::media::Type::Audio {
                return Err(Error::Spec {
                    field: format!("{field}.audio.codec"),
                    message: format!("{} is not an audio encoder", a.codec),
                });
            }
            if container.can_carry(enc.id()) == Some(false) {
                return Err(Error::Spec {
                    field: format!("{field}.audio.codec"),
                    message: format!(
                        "the {} container cannot carry {}",
                        container.muxer(),
                        a.codec
                    ),
                });
            }
            AudioPlan::Encode {
                codec: a.codec.clone(),
                bitrate_kbps: a.bitrate_kbps,
                channels: a.channels,
                sample_rate: a.sample_rate,
            }
        }
        None => match container {
            Container::Webm => AudioPlan::Encode {
                codec: "libopus".into(),
                bitrate_kbps: Some(96.0),
                channels: None,
                sample_rate: None,
            },
            Container::Ivf | Container::Y4m | Container::H264 | Container::Hevc => AudioPlan::Drop,
            _ => AudioPlan::Encode {
                codec: "aac".into(),
                bitrate_kbps: Some(128.0),
                channels: None,
                sample_rate: None,
            },
        },
    };
    // Rate-control numbers that do not depend on the source (ranges are checked per source
    // bit depth when the job runs; this catches them early for 8-bit output). An external
    // program's ranges are its own business.
    let probe_req = EncoderRequest {
        field: &field,
        codec: &codec,
        preset: o.preset.as_ref(),
        threads: o.threads,
        rc: rc.as_ref(),
        params: o.params.as_deref(),
        options: o.options.as_ref(),
        gop: o.gop,
        bit_depth: o
            .pix_fmt
            .as_deref()
            .and_then(media::pix_fmt_by_name)
            .map(media::bit_depth)
            .unwrap_or(8),
        pass: Pass::Only,
        stats_file: None,
    };
    if external.is_none() {
        encoder_config(&probe_req)?;
    }
    mux::check_writable(&path, &field)?;
    let t = o.tasks.unwrap_or_default();
    Ok(OutputPlan {
        index: i,
        field,
        path,
        container,
        codec,
        preset: o.preset.clone(),
        threads: o.threads,
        rc,
        width: o.width,
        height: o.height,
        scale,
        fps,
        fps_mode: o.fps_mode,
        crop: o.crop,
        pix_fmt: o.pix_fmt.clone(),
        filter: o.filter.clone(),
        params: o.params.clone(),
        options: o.options.clone().unwrap_or_default(),
        gop: o.gop,
        audio,
        hls_time,
        passthrough: o.passthrough.unwrap_or(true),
        modes: FlowModes {
            filter: mode(t.filter.or(ex.filter), defaults.filter),
            encode: mode(t.encode.or(ex.encode), defaults.encode),
            mux: mode(t.mux.or(ex.mux), defaults.mux),
        },
        external,
    })
}

/// How an output's encoder program is named in reports: `external:` and the program's file
/// name.
fn external_name(e: &ExternalEncoder) -> String {
    let program = e.command.first().map(String::as_str).unwrap_or("");
    let base = Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_string());
    format!("external:{base}")
}

/// The encoder program of an output that names one, checked: its template against the rate
/// control, its bitstream format, what the container can carry.
fn external_plan(
    o: &crate::spec::OutputSettings,
    rc: Option<&RateControl>,
    field: &str,
    container: Container,
) -> Result<Option<ExternalEncoder>> {
    let Some(command) = &o.command else {
        for (name, set) in [
            ("command_version", o.command_version.is_some()),
            ("output_format", o.output_format.is_some()),
            ("command_input", o.command_input.is_some()),
            ("timeout_s", o.timeout_s.is_some()),
        ] {
            if set {
                return Err(Error::Spec {
                    field: format!("{field}.{name}"),
                    message: "only applies to an encoder program (`command`)".into(),
                });
            }
        }
        return Ok(None);
    };
    crate::external::check_template(command, rc, &format!("{field}.command"))?;
    let names = || {
        Bitstream::ALL
            .iter()
            .map(|b| b.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let output_format = match &o.output_format {
        None => {
            return Err(Error::Spec {
                field: format!("{field}.output_format"),
                message: format!("missing: the bitstream the program writes ({})", names()),
            })
        }
        Some(n) => Bitstream::from_name(n).ok_or_else(|| Error::Spec {
            field: format!("{field}.output_format"),
            message: format!("unknown bitstream `{n}` ({})", names()),
        })?,
    };
    let carried = match output_format {
        Bitstream::H264 => Some(ff::codec::Id::H264),
        Bitstream::Hevc => Some(ff::codec::Id::HEVC),
        Bitstream::Obu => Some(ff::codec::Id::AV1),
        _ => None,
    };
    if let Some(id) = carried {
        if container.can_carry(id) == Some(false) {
            return Err(Error::Spec {
                field: format!("{field}.output_format"),
                message: format!(
                    "the {} container cannot carry {}",
                    container.muxer(),
                    id.name()
                ),
            });
        }
    }
    if let Some(t) = o.timeout_s {
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::Spec {
                field: format!("{field}.timeout_s"),
                message: format!("must be a positive number of seconds, not {t}"),
            });
        }
    }
    Ok(Some(ExternalEncoder {
        command: command.clone(),
        version: o.command_version.clone(),
        output_format,
        input: o.command_input.unwrap_or_default(),
        timeout_s: o.timeout_s,
    }))
}

/// What one output became.
#[derive(Debug, Serialize)]
pub struct OutputReport {
    /// Position in the job.
    pub index: usize,
    /// Final path (None when the spec had none).
    pub path: Option<PathBuf>,
    /// Why it failed, or None.
    #[serde(serialize_with = "error_text")]
    pub error: Option<Error>,
    /// Encoder name.
    pub codec: String,
    /// Rate-control mode and value.
    pub rc_mode: Option<String>,
    /// CRF/QP or target kbit/s.
    pub rc_value: Option<f64>,
    /// Target bitrate, for bitrate modes.
    pub target_kbps: Option<f64>,
    /// Picture width.
    pub width: u32,
    /// Picture height.
    pub height: u32,
    /// Pixel format.
    pub pix_fmt: String,
    /// Nominal frame rate.
    pub fps: f64,
    /// Frames encoded.
    pub frames: u64,
    /// Seconds of video.
    pub duration_s: f64,
    /// Encoded video bytes.
    pub video_bytes: u64,
    /// Bytes of the output file(s).
    pub file_bytes: u64,
    /// Video bitrate in kbit/s.
    pub video_kbps: f64,
    /// Encoder frames per second of its own busy time.
    pub encode_fps: f64,
    /// Seconds the encoder worked.
    pub encode_wall_s: f64,
    /// CPU seconds of the encoder (its thread's share plus its library's threads).
    pub encode_cpu_s: f64,
    /// Every task of the pipeline (the encoder's includes its packet list).
    pub tasks: Vec<TaskStats>,
}

fn error_text<S: serde::Serializer>(
    e: &Option<Error>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

impl OutputReport {
    fn failed(index: usize, path: Option<PathBuf>, codec: String, error: Error) -> Self {
        OutputReport {
            index,
            path,
            error: Some(error),
            codec,
            rc_mode: None,
            rc_value: None,
            target_kbps: None,
            width: 0,
            height: 0,
            pix_fmt: String::new(),
            fps: 0.0,
            frames: 0,
            duration_s: 0.0,
            video_bytes: 0,
            file_bytes: 0,
            video_kbps: 0.0,
            encode_fps: 0.0,
            encode_wall_s: 0.0,
            encode_cpu_s: 0.0,
            tasks: Vec::new(),
        }
    }

    /// The encoder's task stats (with its packet list), when it ran.
    pub fn encode_stats(&self) -> Option<&TaskStats> {
        self.tasks.iter().rev().find(|t| t.kind == "encode")
    }
}

/// What a whole job did.
#[derive(Debug, Serialize)]
pub struct JobReport {
    /// The input as named.
    pub input: PathBuf,
    /// Source width, height, frame rate and frames.
    pub source: SourceSummary,
    /// Every output, in job order.
    pub outputs: Vec<OutputReport>,
    /// The input-side tasks (demux, decode) of the final pass.
    pub input_tasks: Vec<TaskStats>,
    /// Wall seconds of the whole job.
    pub wall_s: f64,
    /// CPU seconds of the whole process during the job.
    pub cpu_s: f64,
    /// Corrupt packets skipped while decoding.
    pub corrupt_packets: u64,
}

impl JobReport {
    /// Whether every output succeeded.
    pub fn all_ok(&self) -> bool {
        self.outputs.iter().all(|o| o.error.is_none())
    }
}

/// The source as the job saw it.
#[derive(Clone, Debug, Serialize, Default)]
pub struct SourceSummary {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Frames per second.
    pub fps: f64,
    /// Pixel format.
    pub pix_fmt: String,
    /// Declared duration.
    pub duration_s: Option<f64>,
    /// Frames (declared or estimated).
    pub frames: Option<u64>,
}

/// Receives progress while a job runs.
pub trait Progress: Sync {
    /// A pass starts: `pass` of `passes`, with this many source frames to decode (when known).
    fn pass_started(&self, _pass: u32, _passes: u32, _total_frames: Option<u64>) {}
    /// Frames decoded so far in the current pass.
    fn decoded(&self, _frames: u64) {}
}

/// Progress that goes nowhere.
pub struct NoProgress;
impl Progress for NoProgress {}

/// One output resolved against the source.
struct Resolved {
    plan: OutputPlan,
    width: u32,
    height: u32,
    pix_fmt: ff::format::Pixel,
    graph: Option<String>,
    sampler: Sampler,
    rate: Rate,
    cfr_time_base: bool,
    passes: u8,
    stats_file: Option<PathBuf>,
    stats_text: Arc<Mutex<String>>,
}

fn resolve_output(plan: &OutputPlan, v: &VideoInfo) -> Result<Resolved> {
    let field = &plan.field;
    let (base_w, base_h) = match plan.crop {
        Some(c) => {
            if c.width == 0 || c.height == 0 || c.x + c.width > v.width || c.y + c.height > v.height
            {
                return Err(Error::Spec {
                    field: format!("{field}.crop"),
                    message: format!(
                        "{}x{} at ({},{}) does not fit the {}x{} source",
                        c.width, c.height, c.x, c.y, v.width, v.height
                    ),
                });
            }
            (c.width, c.height)
        }
        None => (v.width, v.height),
    };
    let (w, h) = output_size(base_w, base_h, plan.width, plan.height);
    let wanted = match &plan.pix_fmt {
        Some(p) => media::pix_fmt_by_name(p).expect("validated"),
        None => v.pix_fmt,
    };
    let pix_fmt = match &plan.external {
        // An encoder program reads Y4M: the nearest planar format of the same depth.
        Some(_) => crate::external::y4m_format(wanted),
        None => {
            let codec =
                ff::encoder::find_by_name(&plan.codec).ok_or_else(|| Error::UnknownCodec {
                    field: format!("{field}.codec"),
                    what: "encoder",
                    name: plan.codec.clone(),
                })?;
            best_pix_fmt(&codec, wanted)
        }
    };
    if plan.pix_fmt.is_some() && pix_fmt != wanted {
        return Err(Error::Spec {
            field: format!("{field}.pix_fmt"),
            message: format!(
                "{} cannot encode {}",
                plan.codec,
                media::pix_fmt_name(wanted)
            ),
        });
    }
    let fr = frame_rate_plan(v.rate, plan.fps, plan.fps_mode);
    let graph = VideoGraphPlan {
        cfr: fr.cfr,
        crop: plan.crop,
        scale: ((w, h) != (base_w, base_h)).then_some((w, h, plan.scale)),
        pix_fmt: (pix_fmt != v.pix_fmt).then(|| media::pix_fmt_name(pix_fmt)),
        extra: plan.filter.clone(),
    }
    .graph();
    // Y4M has no timestamps: its frames are written in order under one declared rate.
    let timestamp_free = plan.container == Container::Y4m;
    let vfr_out = !timestamp_free
        && (matches!(fr.sampling, crate::filter::Sampling::MaxRate(_))
            || (!v.cfr && fr.cfr.is_none() && plan.fps_mode != Some(FpsMode::VfrHalf)));
    let rate = if timestamp_free {
        declared_rate(&fr, v.base_rate)
    } else {
        fr.output
    };
    let passes = plan.rc.as_ref().map(RateControl::passes).unwrap_or(1);
    let stats_file = (passes == 2).then(|| {
        let p = mux::temp_path(&plan.path);
        p.with_extension("2pass.log")
    });
    // Check encoder settings against the real bit depth now.
    let req = EncoderRequest {
        field,
        codec: &plan.codec,
        preset: plan.preset.as_ref(),
        threads: plan.threads,
        rc: plan.rc.as_ref(),
        params: plan.params.as_deref(),
        options: Some(&plan.options),
        gop: plan.gop,
        bit_depth: media::bit_depth(pix_fmt),
        pass: if passes == 2 { Pass::First } else { Pass::Only },
        stats_file: stats_file.as_deref(),
    };
    if plan.external.is_none() {
        encoder_config(&req)?;
    }
    Ok(Resolved {
        plan: plan.clone(),
        width: w,
        height: h,
        pix_fmt,
        graph,
        sampler: Sampler::new(fr.sampling),
        rate,
        cfr_time_base: !vfr_out,
        passes,
        stats_file,
        stats_text: Arc::new(Mutex::new(String::new())),
    })
}

/// The encoder's own choice of pixel format closest to `wanted` (wanted itself when supported).
fn best_pix_fmt(codec: &ff::Codec, wanted: ff::format::Pixel) -> ff::format::Pixel {
    // SAFETY: the codec's pix_fmts list is static and terminated by AV_PIX_FMT_NONE;
    // avcodec_find_best_pix_fmt_of_list only reads it.
    unsafe {
        let list = (*codec.as_ptr()).pix_fmts;
        if list.is_null() {
            return wanted;
        }
        let mut i = 0;
        loop {
            let p = *list.add(i);
            if p == ffi::AVPixelFormat::AV_PIX_FMT_NONE {
                break;
            }
            if p == wanted.into() {
                return wanted;
            }
            i += 1;
        }
        let mut loss = 0;
        ff::format::Pixel::from(ffi::avcodec_find_best_pix_fmt_of_list(
            list,
            wanted.into(),
            0,
            &mut loss,
        ))
    }
}

/// Runs a job: every output that passed validation is produced (or fails alone). The error
/// case is for the job as a whole: the input cannot be read.
pub fn run(job: &Job, progress: &dyn Progress) -> Result<JobReport> {
    crate::init();
    let start = Instant::now();
    let cpu0 = crate::cpu::process_cpu_s();
    let path = job.input.display_path();
    let probe = input::open(&job.input)?;
    let vinfo = input::video_info(&probe, &path)?;
    let ainfo = input::audio_info(&probe);
    drop(probe);

    let mut reports: BTreeMap<usize, OutputReport> = BTreeMap::new();
    for (i, p, e) in &job.rejected {
        let e = clone_error(e);
        reports.insert(*i, OutputReport::failed(*i, p.clone(), String::new(), e));
    }
    let mut resolved = Vec::new();
    for plan in &job.outputs {
        match resolve_output(plan, &vinfo) {
            Ok(r) => resolved.push(r),
            Err(e) => {
                reports.insert(
                    plan.index,
                    OutputReport::failed(
                        plan.index,
                        Some(plan.path.clone()),
                        plan.codec.clone(),
                        e,
                    ),
                );
            }
        }
    }

    let two_pass: Vec<usize> = (0..resolved.len())
        .filter(|&i| resolved[i].passes == 2)
        .collect();
    let passes = if two_pass.is_empty() { 1 } else { 2 };
    let mut first_pass_failed: BTreeMap<usize, Error> = BTreeMap::new();
    if !two_pass.is_empty() {
        let flows: Vec<&Resolved> = two_pass.iter().map(|&i| &resolved[i]).collect();
        progress.pass_started(1, passes, vinfo.frames);
        let outcome = execute(job, &path, &vinfo, None, &flows, PassKind::First, progress)?;
        for (r, (errors, _)) in flows.iter().zip(outcome.flows) {
            if let Some(e) = errors.into_iter().next() {
                first_pass_failed.insert(r.plan.index, e);
            }
        }
    }
    let (ok, failed_first): (Vec<&Resolved>, Vec<&Resolved>) = resolved
        .iter()
        .partition(|r| !first_pass_failed.contains_key(&r.plan.index));
    for r in failed_first {
        let e = first_pass_failed.remove(&r.plan.index).expect("recorded");
        reports.insert(
            r.plan.index,
            OutputReport::failed(
                r.plan.index,
                Some(r.plan.path.clone()),
                r.plan.codec.clone(),
                e,
            ),
        );
    }
    progress.pass_started(passes, passes, vinfo.frames);
    let outcome = execute(
        job,
        &path,
        &vinfo,
        ainfo.as_ref(),
        &ok,
        PassKind::Final,
        progress,
    )?;
    for (r, (errors, tasks)) in ok.iter().zip(outcome.flows) {
        let report = summarize(r, errors.into_iter().next(), tasks);
        reports.insert(r.plan.index, report);
    }
    for r in &resolved {
        if let Some(f) = &r.stats_file {
            for ext in [
                "",
                ".mbtree",
                ".cutree",
                ".temp",
                ".mbtree.temp",
                ".cutree.temp",
            ] {
                let _ = std::fs::remove_file(format!("{}{ext}", f.display()));
            }
        }
    }
    Ok(JobReport {
        input: path,
        source: SourceSummary {
            width: vinfo.width,
            height: vinfo.height,
            fps: vinfo.rate.fps(),
            pix_fmt: media::pix_fmt_name(vinfo.pix_fmt),
            duration_s: vinfo.duration_s,
            frames: vinfo.frames,
        },
        outputs: reports.into_values().collect(),
        input_tasks: outcome.input_tasks,
        wall_s: start.elapsed().as_secs_f64(),
        cpu_s: crate::cpu::process_cpu_s() - cpu0,
        corrupt_packets: outcome.corrupt,
    })
}

/// Errors are not Clone (they may hold io::Error); rejected outputs are reported once per run,
/// so a textual copy keeps the message intact.
fn clone_error(e: &Error) -> Error {
    match e {
        Error::Spec { field, message } => Error::Spec {
            field: field.clone(),
            message: message.clone(),
        },
        Error::UnknownCodec { field, what, name } => Error::UnknownCodec {
            field: field.clone(),
            what,
            name: name.clone(),
        },
        other => Error::Spec {
            field: "output".into(),
            message: other.to_string(),
        },
    }
}

fn summarize(r: &Resolved, error: Option<Error>, tasks: Vec<TaskStats>) -> OutputReport {
    let mut rep = OutputReport::failed(
        r.plan.index,
        Some(r.plan.path.clone()),
        r.plan.codec.clone(),
        Error::Disconnected,
    );
    rep.error = error;
    rep.rc_mode = r.plan.rc.as_ref().map(|rc| rc.mode().to_string());
    rep.rc_value = r.plan.rc.as_ref().map(RateControl::value);
    rep.target_kbps = r.plan.rc.as_ref().and_then(RateControl::target_kbps);
    rep.width = r.width;
    rep.height = r.height;
    rep.pix_fmt = media::pix_fmt_name(r.pix_fmt);
    rep.fps = r.rate.fps();
    if let Some(enc) = tasks.iter().find(|t| t.kind == "encode") {
        rep.frames = enc.frames_in;
        rep.video_bytes = enc.bytes_out;
        rep.encode_wall_s = enc.busy_s;
        rep.encode_cpu_s = enc.cpu_s;
        rep.encode_fps = if enc.busy_s > 0.0 {
            enc.frames_in as f64 / enc.busy_s
        } else {
            0.0
        };
        let first = enc
            .packets
            .iter()
            .map(|p| p.pts_s)
            .fold(f64::INFINITY, f64::min);
        let last = enc
            .packets
            .iter()
            .map(|p| p.pts_s + p.duration_s)
            .fold(f64::NEG_INFINITY, f64::max);
        let by_count = if r.rate.fps() > 0.0 {
            enc.frames_in as f64 / r.rate.fps()
        } else {
            0.0
        };
        rep.duration_s = if last > first && r.cfr_time_base {
            by_count.max(last - first)
        } else if last > first {
            last - first
        } else {
            by_count
        };
        if rep.duration_s > 0.0 {
            rep.video_kbps = enc.bytes_out as f64 * 8.0 / rep.duration_s / 1000.0;
        }
    }
    if let Some(m) = tasks.iter().find(|t| t.kind == "mux") {
        rep.file_bytes = m.bytes_out;
    }
    rep.tasks = tasks;
    rep
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum PassKind {
    First,
    Final,
}

struct Outcome {
    flows: Vec<(Vec<Error>, Vec<TaskStats>)>,
    input_tasks: Vec<TaskStats>,
    corrupt: u64,
}

/// Copies audio packets into a muxer.
struct AudioCopy {
    stream: usize,
    params: Option<ff::codec::Parameters>,
    time_base: ff::Rational,
    next: Box<dyn Sink<MuxItem>>,
}

impl Sink<ff::Packet> for AudioCopy {
    fn push(&mut self, mut packet: ff::Packet) -> Result<()> {
        if let Some(params) = self.params.take() {
            self.next.push(MuxItem::Stream {
                stream: self.stream,
                params,
                time_base: self.time_base,
                side_data: Vec::new(),
            })?;
        }
        packet.set_stream(self.stream);
        self.next.push(MuxItem::Packet(MuxPacket {
            stream: self.stream,
            packet,
            time_base: self.time_base,
        }))
    }
    fn close(&mut self) -> Result<()> {
        self.next.close()
    }
}

/// Feeds a packet-copy branch only the packets it needs; a Tee of packets clones them (a new
/// reference, no copy).
struct PacketBranch(Box<dyn Sink<ff::Packet>>);
impl Sink<ff::Packet> for PacketBranch {
    fn push(&mut self, p: ff::Packet) -> Result<()> {
        self.0.push(p)
    }
    fn close(&mut self) -> Result<()> {
        self.0.close()
    }
}

#[allow(clippy::too_many_arguments)]
fn execute(
    job: &Job,
    path: &Path,
    vinfo: &VideoInfo,
    ainfo: Option<&AudioInfo>,
    flows: &[&Resolved],
    kind: PassKind,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let mut ictx = input::open(&job.input)?;
    let policy = job.policy;
    let input_state = PipelineState::new();
    let mut states = Vec::new();
    let mut video_branches: Vec<Box<dyn Sink<VideoFrame>>> = Vec::new();
    let mut audio_enc_branches: Vec<Box<dyn Sink<AudioFrame>>> = Vec::new();
    let mut audio_copy_branches: Vec<Box<dyn Sink<ff::Packet>>> = Vec::new();

    for r in flows {
        let p = &r.plan;
        let state = PipelineState::new();
        states.push(state.clone());
        let with_audio = kind == PassKind::Final && ainfo.is_some() && p.audio != AudioPlan::Drop;
        let global_header = p.container.global_header();
        // Mux (or nothing, in a first pass).
        let mut mux_handles: Vec<Shared<MuxItem>> = if kind == PassKind::Final {
            let codec_id = ff::encoder::find_by_name(&p.codec)
                .map(|c| c.id())
                .unwrap_or(ff::codec::Id::None);
            let setup = MuxSetup {
                field: p.field.clone(),
                path: p.path.clone(),
                container: p.container,
                streams: if with_audio { 2 } else { 1 },
                hls_time: p.hls_time,
                hls_fmp4: matches!(
                    codec_id,
                    ff::codec::Id::HEVC | ff::codec::Id::AV1 | ff::codec::Id::VP9
                ),
            };
            let muxer = task::stage(
                p.modes.mux,
                policy,
                Muxer::new(setup),
                format!("mux[{}]", p.index),
                "mux",
                Box::new(NullSink),
                state.clone(),
            );
            Shared::split(muxer, if with_audio { 2 } else { 1 })
        } else {
            Vec::new()
        };
        let video_mux: Box<dyn Sink<MuxItem>> = if kind == PassKind::Final {
            Box::new(mux_handles.remove(0))
        } else {
            Box::new(NullSink)
        };
        let (pass, stats_out, stats_in) = match (kind, r.passes) {
            (PassKind::First, _) => (Pass::First, Some(r.stats_text.clone()), None),
            (PassKind::Final, 2) => (Pass::Second, None, Some(r.stats_text.clone())),
            _ => (Pass::Only, None, None),
        };
        let encode = match &p.external {
            Some(ext) => {
                let setup = ExternalEncodeSetup {
                    field: p.field.clone(),
                    encoder: ext.clone(),
                    rc: p.rc.clone(),
                    threads: p.threads.unwrap_or(0),
                    pass: match pass {
                        Pass::First => Some(1),
                        Pass::Second => Some(2),
                        Pass::Only => None,
                    },
                    stats_file: r.stats_file.clone(),
                    frame_rate: r.rate,
                    frames: if p.fps.is_none() {
                        vinfo.frames.unwrap_or(0)
                    } else {
                        0
                    },
                    stream: 0,
                    keep_output: kind == PassKind::Final,
                };
                task::stage(
                    p.modes.encode,
                    policy,
                    ExternalEncode::new(setup),
                    format!("encode[{}] {}", p.index, p.codec),
                    "encode",
                    video_mux,
                    state.clone(),
                )
            }
            None => {
                let config = encoder_config(&EncoderRequest {
                    field: &p.field,
                    codec: &p.codec,
                    preset: p.preset.as_ref(),
                    threads: p.threads,
                    rc: p.rc.as_ref(),
                    params: p.params.as_deref(),
                    options: Some(&p.options),
                    gop: p.gop,
                    bit_depth: media::bit_depth(r.pix_fmt),
                    pass,
                    stats_file: r.stats_file.as_deref(),
                })?;
                let uses_context_stats = config.stats == Some(StatsChannel::Context);
                let setup = VideoEncodeSetup {
                    field: p.field.clone(),
                    config,
                    stream: 0,
                    frame_rate: r.rate,
                    cfr_time_base: r.cfr_time_base,
                    global_header,
                    force_key_every_s: p.hls_time,
                    passthrough: p.passthrough,
                    stats_out: if uses_context_stats { stats_out } else { None },
                    stats_in: if uses_context_stats { stats_in } else { None },
                };
                task::stage(
                    p.modes.encode,
                    policy,
                    VideoEncode::new(setup),
                    format!("encode[{}] {}", p.index, p.codec),
                    "encode",
                    video_mux,
                    state.clone(),
                )
            }
        };
        let filter_threads = p.threads.unwrap_or(0);
        let vf = crate::video_filter::VideoFilter::new(
            p.field.clone(),
            r.sampler.clone(),
            r.graph.clone(),
            filter_threads,
        );
        let filter = task::stage(
            p.modes.filter,
            policy,
            vf,
            format!("filter[{}]", p.index),
            "filter",
            encode,
            state.clone(),
        );
        video_branches.push(filter);

        if with_audio {
            let a = ainfo.expect("checked");
            let audio_mux: Box<dyn Sink<MuxItem>> = Box::new(mux_handles.remove(0));
            match &p.audio {
                AudioPlan::Copy => {
                    let stream = ictx.stream(a.index).expect("audio stream");
                    let id = stream.parameters().id();
                    if p.container.can_carry(id) == Some(false) {
                        state.fail(Error::Spec {
                            field: format!("{}.audio", p.field),
                            message: format!("the {} container cannot carry the input's {} audio; encode it (audio = {{ codec = \"aac\" }})", p.container.muxer(), id.name()),
                        });
                    }
                    audio_copy_branches.push(Box::new(PacketBranch(Box::new(AudioCopy {
                        stream: 1,
                        params: Some(stream.parameters()),
                        time_base: a.time_base,
                        next: audio_mux,
                    }))));
                }
                AudioPlan::Encode {
                    codec,
                    bitrate_kbps,
                    channels,
                    sample_rate,
                } => {
                    let setup = AudioEncodeSetup {
                        field: p.field.clone(),
                        codec: codec.clone(),
                        bit_rate: bitrate_kbps.map(|k| (k * 1000.0) as i64).unwrap_or(0),
                        channels: *channels,
                        sample_rate: *sample_rate,
                        stream: 1,
                        global_header,
                        options: BTreeMap::new(),
                    };
                    // Audio is cheap: its encoder runs inline on the audio decoder's thread.
                    let st = task::stage(
                        Mode::Serial,
                        policy,
                        AudioEncode::new(setup),
                        format!("audio[{}] {codec}", p.index),
                        "encode-audio",
                        audio_mux,
                        state.clone(),
                    );
                    audio_enc_branches.push(st);
                }
                AudioPlan::Drop => unreachable!("with_audio excludes drop"),
            }
        }
    }

    // Input side: video decode feeding every pipeline, audio decode feeding audio encoders.
    let passthrough = flows.iter().any(|r| r.plan.passthrough);
    let vdec = VideoDecode::new(&ictx, vinfo, job.decoder_threads, passthrough, path)?;
    let mut video_in = task::stage(
        job.decode_mode,
        policy,
        vdec,
        "decode-video".into(),
        "decode",
        Box::new(Tee::new(video_branches)),
        input_state.clone(),
    );
    let mut audio_in: Option<Box<dyn Sink<ff::Packet>>> = None;
    let mut audio_copy: Option<Tee<ff::Packet>> = None;
    if let Some(a) = ainfo {
        if !audio_enc_branches.is_empty() {
            let adec = AudioDecode::new(&ictx, a, path)?;
            audio_in = Some(task::stage(
                Mode::Serial,
                policy,
                adec,
                "decode-audio".into(),
                "decode",
                Box::new(Tee::new(audio_enc_branches)),
                input_state.clone(),
            ));
        }
        if !audio_copy_branches.is_empty() {
            audio_copy = Some(Tee::new(audio_copy_branches));
        }
    }

    // Demux.
    let demux_start = Instant::now();
    let mut demux_stats = TaskStats {
        name: "demux".into(),
        kind: "demux",
        ..Default::default()
    };
    let v_index = vinfo.index;
    let a_index = ainfo.map(|a| a.index);
    let v_start = ictx
        .stream(v_index)
        .map(|s| s.start_time())
        .filter(|&t| t != ffi::AV_NOPTS_VALUE)
        .unwrap_or(0);
    let mut reached_s: f64 = 0.0;
    let mut video_packets: u64 = 0;
    let mut read_error: Option<Error> = None;
    let mut video_alive = true;
    // The demux task's own time is the reading; the stages it feeds (inline when serial) are
    // measured by their own stats.
    let (mut demux_busy, mut demux_cpu) = (0.0f64, 0.0f64);
    loop {
        let mut packet = ff::Packet::empty();
        let (w, c) = (Instant::now(), crate::cpu::thread_cpu_s());
        let read = packet.read(&mut ictx);
        demux_busy += w.elapsed().as_secs_f64();
        demux_cpu += crate::cpu::thread_cpu_s() - c;
        match read {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(ff::Error::Other {
                errno: libc::EAGAIN,
            }) => continue,
            Err(e) => {
                read_error = Some(Error::ffmpeg(format!("{}: reading", path.display()), e));
                break;
            }
        }
        demux_stats.frames_in += 1;
        demux_stats.bytes_out += packet.size() as u64;
        let idx = packet.stream();
        if idx == v_index {
            if let Some(pts) = packet.pts().or(packet.dts()) {
                let end = media::seconds(pts - v_start + packet.duration().max(0), vinfo.time_base);
                reached_s = reached_s.max(end);
            }
            video_packets += 1;
            if video_alive && video_in.push(packet).is_err() {
                // Every pipeline has failed (or the decoder did): stop reading.
                video_alive = false;
                break;
            }
            if video_packets % 8 == 0 {
                progress.decoded(video_packets);
            }
        } else if Some(idx) == a_index {
            if let Some(c) = audio_copy.as_mut() {
                let shared = packet.clone();
                let _ = c.push(shared);
            }
            if let Some(a) = audio_in.as_mut() {
                let _ = a.push(packet);
            }
        }
    }
    progress.decoded(video_packets);
    demux_stats.wall_s = demux_start.elapsed().as_secs_f64();
    demux_stats.busy_s = demux_busy;
    demux_stats.cpu_s = demux_cpu;
    demux_stats.frames_out = demux_stats.frames_in;

    // A file that ends well before its declared duration is truncated: fail every output
    // before its muxer commits anything.
    let declared = vinfo.duration_s.unwrap_or(0.0);
    let truncated = video_alive
        && input::is_truncated(vinfo.duration_s, reached_s)
        && matches!(job.input, InputSource::File(_));
    let job_error: Option<Error> = if truncated {
        Some(Error::Truncated {
            path: path.to_path_buf(),
            reached_s,
            declared_s: declared,
        })
    } else {
        read_error
    };
    if let Some(e) = &job_error {
        for s in &states {
            s.fail(Error::Spec {
                field: "input".into(),
                message: e.to_string(),
            });
        }
    }

    let _ = video_in.close();
    if let Some(mut a) = audio_in {
        let _ = a.close();
    }
    if let Some(mut c) = audio_copy {
        let _ = c.close();
    }
    drop(video_in);
    if let Some(e) = job_error {
        return Err(e);
    }
    let mut input_tasks = vec![demux_stats];
    input_tasks.extend(input_state.take_stats());
    let corrupt = input_tasks.iter().map(|t| t.corrupt).sum();
    let flows_out = states
        .iter()
        .map(|s| (s.take_errors(), s.take_stats()))
        .collect();
    Ok(Outcome {
        flows: flows_out,
        input_tasks,
        corrupt,
    })
}
