//! Planning: a job spec checked into outputs that can run ([`Job::from_spec`], no input
//! needed), then each output resolved against the source's size, rate and pixel format
//! ([`resolve_output`]). Pure apart from FFmpeg's encoder registry and the writability check of
//! each output's folder; the tests below check plans by exact value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ffmpeg_next as ff;

use crate::chunk::{Chunk, Chunking};
use crate::encode::best_pix_fmt;
use crate::error::{Error, Result};
use crate::external::{Bitstream, ExternalEncoder};
use crate::filter::{
    declared_rate, frame_rate_plan, output_size, Rate, Sampler, ScaleAlgorithm, VideoGraphPlan,
};
use crate::hls_crypt::HlsEncryption;
use crate::input::{Clip, InputSource, VideoInfo};
use crate::media;
use crate::mux::{self, Container};
use crate::orient::Flip;
use crate::settings::{encoder_config, EncoderRequest, Pass, RateControl};
use crate::snapshot::SnapshotPlan;
use crate::spec::{
    AudioKeyword, AudioSpec, CropSpec, FpsMode, JobSpec, OutputSettings, Scalar, TaskMode,
    TemplateFile,
};
use crate::task::{Mode, QueuePolicy};
use crate::watermark::{Watermark, MAX_WATERMARKS};

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
    /// Crop (in the source's stored pixels, before any turn).
    pub crop: Option<CropSpec>,
    /// Crop the black borders found in the source.
    pub crop_black: bool,
    /// Clockwise turn requested (0, 90, 180, 270), on top of the source's own with `autorotate`.
    pub rotate: u32,
    /// Apply the source's display-matrix rotation.
    pub autorotate: bool,
    /// Flip after turning.
    pub flip: Option<Flip>,
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
    /// HLS AES-128 encryption.
    pub hls_encryption: Option<HlsEncryption>,
    /// Watermarks, drawn in order.
    pub watermarks: Vec<Watermark>,
    /// Subtitles burned into the picture.
    pub subtitles: Option<BurnedSubtitles>,
    /// Subtitles carried as a stream of the output.
    pub soft_subtitles: Option<SoftSubtitles>,
    /// Pass SEI/HDR/captions through.
    pub passthrough: bool,
    /// User data written after the encoder.
    pub sei: crate::sei::SeiPlan,
    /// Serial or parallel per task.
    pub modes: FlowModes,
    /// An encoder program instead of the libavcodec encoder `codec`.
    pub external: Option<ExternalEncoder>,
}

/// Subtitles from a file, drawn into the picture at the input's time.
#[derive(Clone, Debug, PartialEq)]
pub struct BurnedSubtitles {
    /// The subtitle file (SRT, ASS/SSA or WebVTT).
    pub file: PathBuf,
    /// Seconds of the input before this output's first frame (a clip's or a chunk's start).
    pub offset_s: f64,
}

impl BurnedSubtitles {
    /// The filters that draw them, on frames timed from the output's start.
    pub fn filter(&self) -> String {
        let sub = format!(
            "subtitles=filename={}",
            crate::watermark::escape(&self.file.to_string_lossy())
        );
        if self.offset_s > 0.0 {
            let o = self.offset_s;
            format!("setpts=PTS+{o}/TB,{sub},setpts=PTS-{o}/TB")
        } else {
            sub
        }
    }
}

/// An output's checked user data. `codec` is the libavcodec encoder (None for an encoder
/// program, whose bitstream is known when it is read back).
pub(crate) fn sei_plan(
    spec: Option<&crate::spec::SeiSpec>,
    field: &str,
    codec: Option<&str>,
) -> Result<crate::sei::SeiPlan> {
    use crate::sei::{parse_uuid, Every, SeiCodec, SeiPlan, UserData, MAX_PAYLOAD};
    let mut plan = SeiPlan::default();
    let Some(s) = spec else { return Ok(plan) };
    let err = |name: String, message: String| Error::Spec {
        field: format!("{field}.sei{name}"),
        message,
    };
    plan.merge_dropped = match s.dropped.as_deref() {
        None | Some("merge") => true,
        Some("drop") => false,
        Some(other) => {
            return Err(err(
                ".dropped".into(),
                format!("unknown policy `{other}` (merge, drop)"),
            ))
        }
    };
    plan.latency = s.latency.unwrap_or(false);
    for (j, m) in s.messages.iter().flatten().enumerate() {
        let at = |name: &str| format!(".messages[{j}].{name}");
        let uuid = parse_uuid(&m.uuid).ok_or_else(|| {
            err(
                at("uuid"),
                format!("`{}` is not a UUID (32 hex digits, dashes allowed)", m.uuid),
            )
        })?;
        if uuid == crate::sei::LATENCY_UUID || uuid == crate::sei::STAMP_UUID {
            return Err(err(
                at("uuid"),
                "is rdbench's own (latency records); pick another".into(),
            ));
        }
        let payload = match (&m.text, &m.hex) {
            (Some(t), None) => t.as_bytes().to_vec(),
            (None, Some(h)) => {
                let h: String = h.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = (h.len() % 2 == 0)
                    .then(|| {
                        (0..h.len())
                            .step_by(2)
                            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok())
                            .collect::<Option<Vec<u8>>>()
                    })
                    .flatten();
                bytes.ok_or_else(|| {
                    err(
                        at("hex"),
                        format!("`{h}` is not an even number of hex digits"),
                    )
                })?
            }
            _ => {
                return Err(err(
                    format!(".messages[{j}]"),
                    "give the payload as `text` or as `hex`, one of them".into(),
                ))
            }
        };
        if payload.len() > MAX_PAYLOAD {
            return Err(err(
                format!(".messages[{j}]"),
                format!(
                    "a payload of {} bytes is more than {MAX_PAYLOAD}",
                    payload.len()
                ),
            ));
        }
        let every = match m.every.as_deref() {
            None => Every::Keyframe,
            Some(e) => Every::parse(e).ok_or_else(|| {
                err(
                    at("every"),
                    format!("unknown `{e}` (first, keyframe, frame)"),
                )
            })?,
        };
        plan.messages.push((UserData { uuid, payload }, every));
    }
    if let Some(c) = codec {
        let id = ff::encoder::find_by_name(c).map(|e| e.id());
        if plan.requested() && id.and_then(SeiCodec::from_codec_id).is_none() {
            return Err(err(
                String::new(),
                format!("{c} bitstreams have no place for user data (H.264, HEVC and AV1 do)"),
            ));
        }
    }
    Ok(plan)
}

/// Subtitles from a file, carried as a stream of the output (see [`crate::subtitle`]).
#[derive(Clone, Debug, PartialEq)]
pub struct SoftSubtitles {
    /// The subtitle file (SRT, ASS/SSA or WebVTT).
    pub file: PathBuf,
    /// Seconds of the file's clock before the output's first frame (a clip's start).
    pub offset_s: f64,
    /// Seconds the output lasts, when cut (a clip's duration).
    pub length_s: Option<f64>,
}

/// An output's checked subtitles: burned in, or carried as a stream.
fn subtitles(
    spec: Option<&crate::spec::SubtitlesSpec>,
    field: &str,
    spec_path: Option<&Path>,
    container: Container,
) -> Result<(Option<BurnedSubtitles>, Option<SoftSubtitles>)> {
    let Some(s) = spec else {
        return Ok((None, None));
    };
    let err = |name: &str, message: String| Error::Spec {
        field: format!("{field}.subtitles.{name}"),
        message,
    };
    let burn = s.burn == Some(true);
    if !burn && crate::subtitle::carriage(container).is_none() {
        return Err(err(
            "burn",
            format!(
                "the {} container carries no subtitle stream (mkv, mp4, mov, webm and hls do); `burn = true` draws them into the picture",
                container.muxer()
            ),
        ));
    }
    if container == Container::Y4m {
        return Err(err(
            "burn",
            "a Y4M output is the decoded source; it takes no subtitles".into(),
        ));
    }
    let file = resolve(spec_path, &s.file);
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if !matches!(ext.as_str(), "srt" | "ass" | "ssa" | "vtt") {
        return Err(err(
            "file",
            format!(
                "{} is not a subtitle file (.srt, .ass, .ssa, .vtt)",
                file.display()
            ),
        ));
    }
    if !file.is_file() {
        return Err(err("file", format!("{} does not exist", file.display())));
    }
    Ok(if burn {
        (
            Some(BurnedSubtitles {
                file,
                offset_s: 0.0,
            }),
            None,
        )
    } else {
        (
            None,
            Some(SoftSubtitles {
                file,
                offset_s: 0.0,
                length_s: None,
            }),
        )
    })
}

/// The most inputs a concatenation takes.
pub const MAX_CONCAT: usize = 20;

/// A validated job.
#[derive(Debug)]
pub struct Job {
    /// The input.
    pub input: InputSource,
    /// Outputs that passed validation.
    pub outputs: Vec<OutputPlan>,
    /// Outputs refused by validation, with their index and path (when known).
    pub rejected: Vec<(usize, Option<PathBuf>, Error)>,
    /// The part of the input transcoded, when not all of it.
    pub clip: Option<Clip>,
    /// Snapshot sets that passed validation.
    pub snapshots: Vec<SnapshotPlan>,
    /// Snapshot sets refused by validation, with their index.
    pub rejected_snapshots: Vec<(usize, Error)>,
    /// Queueing rules.
    pub policy: QueuePolicy,
    /// The decode task's mode.
    pub decode_mode: Mode,
    /// Decoder threads (0: automatic).
    pub decoder_threads: u32,
    /// Chunked parallel transcoding, when asked for.
    pub chunked: Option<Chunking>,
    /// The one chunk of the input this job encodes (a chunked job's part).
    pub(crate) span: Option<Chunk>,
    /// Inputs played one after the other (`input` is the first), empty for one input.
    pub concat: Vec<InputSource>,
    /// The spec the job was planned from, for outputs added while it runs.
    pub(crate) spec: Option<Arc<SpecContext>>,
    /// Read the input no faster than real time.
    pub realtime: bool,
    /// Read a growing input file, ending after this many idle seconds.
    pub follow_s: Option<f64>,
}

/// A job's spec with what resolves it: its templates and where it was read from.
#[derive(Debug)]
pub(crate) struct SpecContext {
    pub spec: JobSpec,
    pub templates: Option<TemplateFile>,
    pub spec_path: Option<PathBuf>,
}

impl Job {
    /// Plans an output added while the job runs, as if it were `[[output]]` number `index` of
    /// the job's spec (defaults and templates apply).
    pub(crate) fn plan_added(&self, settings: OutputSettings, index: usize) -> Result<OutputPlan> {
        let ctx = self.spec.as_ref().ok_or_else(|| Error::Spec {
            field: "output".into(),
            message: "this job was not planned from a spec; it takes no new outputs".into(),
        })?;
        let mut spec = ctx.spec.clone();
        spec.outputs.resize(index + 1, OutputSettings::default());
        spec.outputs[index] = settings;
        plan_output(
            &spec,
            ctx.templates.as_ref(),
            ctx.spec_path.as_deref(),
            index,
            FlowModes::default(),
            &spec.execution,
        )
    }
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
        if spec.outputs.is_empty() && spec.snapshots.is_empty() {
            return Err(Error::Spec {
                field: "output".into(),
                message: "the job has no [[output]] (and no [[snapshot]])".into(),
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
        let follow_s = match ex.follow_s {
            None => None,
            Some(f) if f.is_finite() && f > 0.0 && f <= 3600.0 => Some(f),
            Some(f) => {
                return Err(Error::Spec {
                    field: "execution.follow_s".into(),
                    message: format!("must be between 0 and 3600 seconds, not {f}"),
                })
            }
        };
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
        let clip = match spec.clip {
            None => None,
            Some(c) => Some(check_clip(c)?),
        };
        if let Some(c) = clip {
            // Subtitles are timed on the input: a clip's frames start at its start.
            for p in &mut outputs {
                if let Some(s) = &mut p.subtitles {
                    s.offset_s = c.start;
                }
                if let Some(s) = &mut p.soft_subtitles {
                    s.offset_s = c.start;
                    s.length_s = c.duration;
                }
            }
        }
        if clip.is_some() {
            // Copied audio packets cannot be cut at the clip's frames: those outputs fail alone.
            let (keep, copy): (Vec<OutputPlan>, Vec<OutputPlan>) = std::mem::take(&mut outputs)
                .into_iter()
                .partition(|p| p.audio != AudioPlan::Copy);
            outputs = keep;
            for p in copy {
                rejected.push((
                    p.index,
                    Some(p.path.clone()),
                    Error::Spec {
                        field: format!("{}.audio", p.field),
                        message: "`copy` cannot be cut to the clip; encode the audio".into(),
                    },
                ));
            }
            rejected.sort_by_key(|r| r.0);
        }
        if ex.chunked.is_some() || !spec.concat.is_empty() {
            // A subtitle stream is not joined from pieces: those outputs fail alone.
            let (keep, soft): (Vec<OutputPlan>, Vec<OutputPlan>) = std::mem::take(&mut outputs)
                .into_iter()
                .partition(|p| p.soft_subtitles.is_none());
            outputs = keep;
            for p in soft {
                rejected.push((
                    p.index,
                    Some(p.path.clone()),
                    Error::Spec {
                        field: format!("{}.subtitles.burn", p.field),
                        message: "a subtitle stream is not joined from chunks or concatenated inputs; burn them in (`burn = true`) or run the output in a job of its own".into(),
                    },
                ));
            }
            rejected.sort_by_key(|r| r.0);
        }
        let chunked = match &ex.chunked {
            None => None,
            Some(c) => {
                if clip.is_some() {
                    return Err(Error::Spec {
                        field: "execution.chunked".into(),
                        message:
                            "a chunked job transcodes the whole input; remove `clip` or `chunked`"
                                .into(),
                    });
                }
                // Pictures and animations are not joined from chunks: those outputs fail alone.
                let (keep, whole): (Vec<OutputPlan>, Vec<OutputPlan>) =
                    std::mem::take(&mut outputs).into_iter().partition(|p| {
                        !matches!(p.container, Container::Gif | Container::Y4m)
                            && !p.container.audio_only()
                    });
                outputs = keep;
                for p in whole {
                    rejected.push((
                        p.index,
                        Some(p.path.clone()),
                        Error::Spec {
                            field: format!("{}.format", p.field),
                            message: format!(
                                "a {} output is not chunked; run it in a job without `execution.chunked`",
                                p.container.extension()
                            ),
                        },
                    ));
                }
                rejected.sort_by_key(|r| r.0);
                Some(Chunking::from_spec(c)?)
            }
        };
        if follow_s.is_some() && (chunked.is_some() || !spec.concat.is_empty()) {
            return Err(Error::Spec {
                field: "execution.follow_s".into(),
                message:
                    "a file still being written is read once, in order: not chunked or concatenated"
                        .into(),
            });
        }
        if spec.input.is_empty() == spec.concat.is_empty() {
            return Err(Error::Spec {
                field: "input".into(),
                message: if spec.input.is_empty() {
                    "missing (name the input, or the inputs of a `concat`)".into()
                } else {
                    "give `input` or `concat`, not both".into()
                },
            });
        }
        if !spec.concat.is_empty() {
            let refuse = |message: &str| {
                Err(Error::Spec {
                    field: "concat".into(),
                    message: message.into(),
                })
            };
            if !(2..=MAX_CONCAT).contains(&spec.concat.len()) {
                return Err(Error::Spec {
                    field: "concat".into(),
                    message: format!(
                        "{} inputs; a concatenation takes 2 to {MAX_CONCAT}",
                        spec.concat.len()
                    ),
                });
            }
            if clip.is_some() {
                return refuse("a concatenation plays every input whole; remove `clip`");
            }
            if chunked.is_some() {
                return refuse(
                    "its inputs are already encoded in parallel; remove `execution.chunked`",
                );
            }
            if !spec.snapshots.is_empty() {
                return refuse(
                    "snapshots are taken from one input; run them in a job of that input",
                );
            }
            // Each input is encoded apart and the pieces joined: outputs that cannot be joined
            // fail alone.
            let (keep, other): (Vec<OutputPlan>, Vec<OutputPlan>) =
                std::mem::take(&mut outputs).into_iter().partition(|p| {
                    !matches!(p.container, Container::Gif | Container::Y4m)
                        && !p.container.audio_only()
                        && p.audio != AudioPlan::Copy
                });
            outputs = keep;
            for p in other {
                let (field, message) = if p.audio == AudioPlan::Copy {
                    (
                        format!("{}.audio", p.field),
                        "`copy` cannot join inputs whose audio differs; encode it".to_string(),
                    )
                } else {
                    (
                        format!("{}.format", p.field),
                        format!(
                            "a {} output is not made from a concatenation",
                            p.container.extension()
                        ),
                    )
                };
                rejected.push((
                    p.index,
                    Some(p.path.clone()),
                    Error::Spec { field, message },
                ));
            }
            rejected.sort_by_key(|r| r.0);
        }
        let concat: Vec<InputSource> = spec
            .concat
            .iter()
            .map(|c| InputSource::parse(c, spec_path))
            .collect();
        let mut snapshots = Vec::new();
        let mut rejected_snapshots = Vec::new();
        for (i, s) in spec.snapshots.iter().enumerate() {
            match SnapshotPlan::from_spec(s, i, |p| resolve(spec_path, p)) {
                Ok(plan) => snapshots.push(plan),
                Err(e) => rejected_snapshots.push((i, e)),
            }
        }
        Ok(Job {
            input: concat
                .first()
                .cloned()
                .unwrap_or_else(|| InputSource::parse(&spec.input, spec_path)),
            concat,
            outputs,
            rejected,
            clip,
            snapshots,
            rejected_snapshots,
            policy,
            decode_mode: mode(ex.decode, Mode::Serial),
            decoder_threads: 0,
            chunked,
            span: None,
            realtime: ex.realtime.unwrap_or(false),
            follow_s,
            spec: Some(Arc::new(SpecContext {
                spec: spec.clone(),
                templates: templates.cloned(),
                spec_path: spec_path.map(Path::to_path_buf),
            })),
        })
    }
}

/// Checks a clip: a start of 0 or more, a positive duration, at least one of them.
fn check_clip(c: crate::spec::ClipSpec) -> Result<Clip> {
    let err = |name: &str, message: String| Error::Spec {
        field: format!("clip.{name}"),
        message,
    };
    if c.start.is_none() && c.duration.is_none() {
        return Err(err("start", "give `start`, `duration` or both".into()));
    }
    let start = c.start.unwrap_or(0.0);
    if !(start.is_finite() && start >= 0.0) {
        return Err(err("start", format!("{start} is not a time in seconds")));
    }
    if let Some(d) = c.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(err(
                "duration",
                format!("must be a positive number of seconds, not {d}"),
            ));
        }
    }
    Ok(Clip {
        start,
        duration: c.duration,
    })
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
    let container = container_of(o.format.as_deref(), &path, &field)?;
    if container.audio_only() {
        return audio_only_output(&o, i, field, path, container, defaults, ex);
    }
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
    // A GIF has one encoder and no rate control; unless told otherwise it is kept small: at
    // most 15 frames per second and 480 pixels wide.
    if container == Container::Gif {
        o.codec = Some("gif".into());
        o.rc = None;
        o.preset = None;
        o.params = None;
        o.options = None;
        o.gop = None;
        if o.pix_fmt.is_some() {
            return Err(Error::Spec {
                field: format!("{field}.pix_fmt"),
                message: "a GIF is 8-bit palette colour; its palette is made per output".into(),
            });
        }
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
    let hls_time = hls_time(container, o.hls_time, &field)?;
    let watermarks = watermarks(o.watermarks.as_deref(), &field, spec_path, container)?;
    let (subtitles, soft_subtitles) =
        subtitles(o.subtitles.as_ref(), &field, spec_path, container)?;
    let sei = sei_plan(
        o.sei.as_ref(),
        &field,
        (external.is_none()).then_some(codec.as_str()),
    )?;
    let rotate = match o.rotate {
        None => 0,
        Some(r @ (0 | 90 | 180 | 270)) => r,
        Some(r) => {
            return Err(Error::Spec {
                field: format!("{field}.rotate"),
                message: format!("must be 90, 180 or 270 (degrees clockwise), not {r}"),
            })
        }
    };
    let flip = match o.flip.as_deref() {
        None => None,
        Some(f) => Some(Flip::parse(f).ok_or_else(|| Error::Spec {
            field: format!("{field}.flip"),
            message: format!("unknown flip `{f}` (horizontal, vertical, both)"),
        })?),
    };
    let crop_black = o.crop_black.unwrap_or(false);
    if crop_black && o.crop.is_some() {
        return Err(Error::Spec {
            field: format!("{field}.crop_black"),
            message: "conflicts with `crop`: give one".into(),
        });
    }
    let hls_encryption = match (&o.hls_encryption, container) {
        (None, _) => None,
        (Some(_), c) if c != Container::Hls => {
            return Err(Error::Spec {
                field: format!("{field}.hls_encryption"),
                message: "only applies to HLS outputs (.m3u8)".into(),
            })
        }
        (Some(e), _) => {
            let fmp4 = ff::encoder::find_by_name(&codec).is_some_and(|c| {
                matches!(
                    c.id(),
                    ff::codec::Id::HEVC | ff::codec::Id::AV1 | ff::codec::Id::VP9
                )
            });
            if fmp4 {
                return Err(Error::Spec {
                    field: format!("{field}.hls_encryption"),
                    message: format!(
                        "AES-128 applies to MPEG-TS segments; {codec} writes fragmented MP4 ones"
                    ),
                });
            }
            Some(HlsEncryption::from_spec(e, &field, |p| {
                resolve(spec_path, p)
            })?)
        }
    };
    let audio = audio_plan(o.audio.as_ref(), container, &field)?;
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
        crop_black,
        rotate,
        autorotate: o.autorotate.unwrap_or(false),
        flip,
        pix_fmt: o.pix_fmt.clone(),
        filter: o.filter.clone(),
        params: o.params.clone(),
        options: o.options.clone().unwrap_or_default(),
        gop: o.gop,
        audio,
        hls_time,
        hls_encryption,
        watermarks,
        subtitles,
        soft_subtitles,
        passthrough: o.passthrough.unwrap_or(true),
        sei,
        modes: FlowModes {
            filter: mode(t.filter.or(ex.filter), defaults.filter),
            encode: mode(t.encode.or(ex.encode), defaults.encode),
            mux: mode(t.mux.or(ex.mux), defaults.mux),
        },
        external,
    })
}

/// The container an output names with `format`, or else the one its path's extension implies.
fn container_of(format: Option<&str>, path: &Path, field: &str) -> Result<Container> {
    Ok(match format {
        Some(name) => Container::from_name(name).ok_or_else(|| Error::Spec {
            field: format!("{field}.format"),
            message: format!("unknown container `{name}` (mp4, mov, mkv, webm, ts, flv, ivf, y4m, hls, h264, hevc, gif; audio alone: mp3, m4a, ogg, opus, flac)"),
        })?,
        None => Container::from_path(path).ok_or_else(|| Error::Spec {
            field: format!("{field}.path"),
            message: format!("cannot tell the container from `{}`; add an extension or set `format`", path.display()),
        })?,
    })
}

/// An output of audio alone (MP3, M4A, Ogg, Opus, FLAC): the video settings it inherits from
/// defaults or templates do not apply; its audio is encoded (by default with the container's
/// usual codec) or copied.
fn audio_only_output(
    o: &crate::spec::OutputSettings,
    index: usize,
    field: String,
    path: PathBuf,
    container: Container,
    defaults: FlowModes,
    ex: &crate::spec::ExecutionSpec,
) -> Result<OutputPlan> {
    let audio = match o.audio.as_ref() {
        Some(AudioSpec::Keyword(AudioKeyword::Drop)) => {
            return Err(Error::Spec {
                field: format!("{field}.audio"),
                message: format!(
                    "a .{} output is audio alone; it cannot drop its audio",
                    container.extension()
                ),
            })
        }
        a => audio_plan(a, container, &field)?,
    };
    let codec = match &audio {
        AudioPlan::Encode { codec, .. } => codec.clone(),
        _ => "copy".to_string(),
    };
    mux::check_writable(&path, &field)?;
    let t = o.tasks.unwrap_or_default();
    Ok(OutputPlan {
        index,
        field,
        path,
        container,
        codec,
        preset: None,
        threads: None,
        rc: None,
        width: None,
        height: None,
        scale: ScaleAlgorithm::default(),
        fps: None,
        fps_mode: None,
        crop: None,
        crop_black: false,
        rotate: 0,
        autorotate: false,
        flip: None,
        pix_fmt: None,
        filter: None,
        params: None,
        options: BTreeMap::new(),
        gop: None,
        audio,
        hls_time: None,
        hls_encryption: None,
        watermarks: Vec::new(),
        subtitles: None,
        soft_subtitles: None,
        passthrough: false,
        sei: crate::sei::SeiPlan::default(),
        modes: FlowModes {
            filter: mode(t.filter.or(ex.filter), defaults.filter),
            encode: mode(t.encode.or(ex.encode), defaults.encode),
            mux: mode(t.mux.or(ex.mux), defaults.mux),
        },
        external: None,
    })
}

/// The largest width a GIF output gets unless it asks for one.
const GIF_MAX_WIDTH: u32 = 480;
/// The highest frame rate a GIF output gets unless it asks for one.
const GIF_MAX_FPS: u32 = 15;

/// An output's checked watermarks (none for raw Y4M, which is not filtered for them).
fn watermarks(
    specs: Option<&[crate::spec::WatermarkSpec]>,
    field: &str,
    spec_path: Option<&Path>,
    container: Container,
) -> Result<Vec<Watermark>> {
    let Some(specs) = specs else {
        return Ok(Vec::new());
    };
    if specs.len() > MAX_WATERMARKS {
        return Err(Error::Spec {
            field: format!("{field}.watermarks"),
            message: format!("{} watermarks; at most {MAX_WATERMARKS}", specs.len()),
        });
    }
    if container == Container::Y4m && !specs.is_empty() {
        return Err(Error::Spec {
            field: format!("{field}.watermarks"),
            message: "a Y4M output is the decoded source; it takes no watermarks".into(),
        });
    }
    specs
        .iter()
        .enumerate()
        .map(|(i, s)| Watermark::from_spec(s, field, i, &|p| resolve(spec_path, p)))
        .collect()
}

/// The segment duration of an HLS output (6 s unless given, 1 to 60 s); none for other
/// containers, where setting it is an error.
fn hls_time(container: Container, given: Option<f64>, field: &str) -> Result<Option<f64>> {
    Ok(match (container, given) {
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
    })
}

/// What an output does with the input's audio: as asked, or by default AAC at 128 kbit/s (Opus
/// at 96 kbit/s in WebM, none in containers without audio).
fn audio_plan(audio: Option<&AudioSpec>, container: Container, field: &str) -> Result<AudioPlan> {
    Ok(match audio {
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
            Container::Webm | Container::Opus => AudioPlan::Encode {
                codec: "libopus".into(),
                bitrate_kbps: Some(96.0),
                channels: None,
                sample_rate: None,
            },
            Container::Mp3 => AudioPlan::Encode {
                codec: "libmp3lame".into(),
                bitrate_kbps: Some(192.0),
                channels: None,
                sample_rate: None,
            },
            Container::Ogg => AudioPlan::Encode {
                codec: "libvorbis".into(),
                bitrate_kbps: Some(128.0),
                channels: None,
                sample_rate: None,
            },
            Container::Flac => AudioPlan::Encode {
                codec: "flac".into(),
                bitrate_kbps: None,
                channels: None,
                sample_rate: None,
            },
            Container::Ivf
            | Container::Y4m
            | Container::H264
            | Container::Hevc
            | Container::Gif => AudioPlan::Drop,
            _ => AudioPlan::Encode {
                codec: "aac".into(),
                bitrate_kbps: Some(128.0),
                channels: None,
                sample_rate: None,
            },
        },
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

/// One output resolved against the source.
pub(super) struct Resolved {
    pub(super) plan: OutputPlan,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) pix_fmt: ff::format::Pixel,
    pub(super) graph: Option<String>,
    pub(super) sampler: Sampler,
    pub(super) rate: Rate,
    pub(super) cfr_time_base: bool,
    pub(super) passes: u8,
    pub(super) stats_file: Option<PathBuf>,
    pub(super) stats_text: Arc<Mutex<String>>,
}

/// Resolves `plan` against the source `v`; `black` is the crop that removes the source's black
/// borders, when they were looked for.
pub(super) fn resolve_output(
    plan: &OutputPlan,
    v: &VideoInfo,
    black: Option<CropSpec>,
) -> Result<Resolved> {
    if plan.container.audio_only() {
        // No video flow: nothing of the picture to resolve.
        return Ok(Resolved {
            plan: plan.clone(),
            width: 0,
            height: 0,
            pix_fmt: ff::format::Pixel::None,
            graph: None,
            sampler: Sampler::new(crate::filter::Sampling::All),
            rate: v.rate,
            cfr_time_base: true,
            passes: 1,
            stats_file: None,
            stats_text: Arc::new(Mutex::new(String::new())),
        });
    }
    let field = &plan.field;
    let crop = if plan.crop_black { black } else { plan.crop };
    let (base_w, base_h) = match crop {
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
    let rotate = (plan.rotate + if plan.autorotate { v.rotation } else { 0 }) % 360;
    let (base_w, base_h) = crate::orient::turned(base_w, base_h, rotate);
    let gif = plan.container == Container::Gif;
    let (want_w, want_h) = match (plan.width, plan.height) {
        (None, None) if gif && base_w > GIF_MAX_WIDTH => (Some(GIF_MAX_WIDTH), None),
        given => given,
    };
    let (w, h) = output_size(base_w, base_h, want_w, want_h);
    let wanted = match &plan.pix_fmt {
        Some(p) => media::pix_fmt_by_name(p).expect("validated"),
        None => v.pix_fmt,
    };
    let pix_fmt = match &plan.external {
        // GIF: the palette filter makes 8-bit palette pictures.
        None if gif => ff::format::Pixel::PAL8,
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
    let fps = match plan.fps {
        None if gif && v.rate.fps() > GIF_MAX_FPS as f64 => Some(Rate {
            num: GIF_MAX_FPS as i32,
            den: 1,
        }),
        given => given,
    };
    let fr = frame_rate_plan(v.rate, fps, plan.fps_mode);
    let mut graph_plan = VideoGraphPlan {
        cfr: fr.cfr,
        crop,
        turn: crate::orient::filters(rotate, plan.flip),
        scale: ((w, h) != (base_w, base_h)).then_some((w, h, plan.scale)),
        pix_fmt: (pix_fmt != v.pix_fmt && !gif).then(|| media::pix_fmt_name(pix_fmt)),
        extra: plan.filter.clone(),
    };
    if let Some(s) = &plan.subtitles {
        // Subtitles go on the output-sized picture, before any user graph.
        let f = s.filter();
        graph_plan.extra = Some(
            match graph_plan.extra.take().filter(|e| !e.trim().is_empty()) {
                Some(e) => format!("{f},{}", e.trim()),
                None => f,
            },
        );
    }
    if gif {
        // One palette for the whole animation, from every frame, then dithered onto it.
        let palette = "split[gif_a][gif_b];[gif_a]palettegen=stats_mode=diff[gif_p];[gif_b][gif_p]paletteuse=dither=bayer:bayer_scale=3";
        graph_plan.extra = Some(
            match graph_plan.extra.take().filter(|e| !e.trim().is_empty()) {
                Some(e) => format!("{},{palette}", e.trim()),
                None => palette.to_string(),
            },
        );
    }
    let graph = if plan.watermarks.is_empty() {
        graph_plan.graph()
    } else {
        // Marks go on the output-sized picture, before any user graph.
        let extra = graph_plan.extra.take();
        let marked = crate::watermark::graph(
            graph_plan.graph().as_deref(),
            &plan.watermarks,
            w,
            h,
            &if gif {
                "rgb24".to_string()
            } else {
                media::pix_fmt_name(pix_fmt)
            },
        );
        Some(match extra.filter(|e| !e.trim().is_empty()) {
            Some(e) => format!("{marked},{}", e.trim()),
            None => marked,
        })
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{parse_job, parse_templates};

    /// Plans `text` as a job file in `dir` (outputs' folders are checked for writability there).
    fn plan(dir: &Path, text: &str, templates: Option<&str>) -> Job {
        let spec_path = dir.join("job.toml");
        let spec = parse_job(text, &spec_path).unwrap();
        let templates = templates.map(|t| parse_templates(t, &dir.join("t.toml")).unwrap());
        Job::from_spec(&spec, templates.as_ref(), Some(&spec_path)).unwrap()
    }

    fn errors(job: &Job) -> Vec<String> {
        job.rejected.iter().map(|(_, _, e)| e.to_string()).collect()
    }

    fn source(width: u32, height: u32, pix_fmt: &str, num: i32, den: i32) -> VideoInfo {
        VideoInfo {
            index: 0,
            codec: "h264".into(),
            width,
            height,
            pix_fmt: media::pix_fmt_by_name(pix_fmt).unwrap(),
            bit_depth: 8,
            rate: Rate { num, den },
            cfr: true,
            base_rate: Some(Rate { num, den }),
            time_base: ff::Rational::new(den, num),
            duration_s: Some(10.0),
            frames: Some(300),
            rotation: 0,
        }
    }

    #[test]
    fn defaults_templates_and_outputs_merge_into_one_plan() {
        let dir = tempfile::tempdir().unwrap();
        let job = plan(
            dir.path(),
            r#"
input = "in.mp4"
[defaults]
codec = "libx264"
preset = "medium"
threads = 2
[[output]]
path = "out/720.mp4"
template = "hd"
threads = 1
fps = "30000/1001"
gop = 60
"#,
            Some("[template.hd]\nheight = 720\nrc = { mode = \"crf\", value = 23 }\nscale = \"lanczos\"\n"),
        );
        assert!(job.rejected.is_empty(), "{:?}", errors(&job));
        let o = &job.outputs[0];
        assert_eq!(o.field, "output[0]");
        assert_eq!(o.path, dir.path().join("out/720.mp4"));
        assert_eq!(o.container, Container::Mp4);
        assert_eq!(o.codec, "libx264");
        assert_eq!(o.preset, Some(Scalar::Str("medium".into())));
        assert_eq!(o.threads, Some(1), "the output overrides the defaults");
        assert_eq!(o.rc, Some(RateControl::Crf(23.0)), "from the template");
        assert_eq!((o.width, o.height), (None, Some(720)));
        assert_eq!(o.scale.name(), "lanczos");
        assert_eq!(
            o.fps,
            Some(Rate {
                num: 30000,
                den: 1001
            })
        );
        assert_eq!(o.gop, Some(60));
        assert_eq!(
            o.audio,
            AudioPlan::Encode {
                codec: "aac".into(),
                bitrate_kbps: Some(128.0),
                channels: None,
                sample_rate: None
            }
        );
        assert_eq!(o.hls_time, None);
        assert_eq!(o.modes, FlowModes::default());
        assert!(o.passthrough);
        assert!(o.external.is_none());
    }

    #[test]
    fn containers_choose_their_default_audio_and_segments() {
        let dir = tempfile::tempdir().unwrap();
        let job = plan(
            dir.path(),
            r#"
input = "in.mp4"
[defaults]
codec = "libvpx-vp9"
[[output]]
path = "a.webm"
[[output]]
path = "b.ivf"
[[output]]
path = "c.m3u8"
codec = "libx264"
[[output]]
path = "d.y4m"
rc = { mode = "crf", value = 30 }
[execution]
encode = "parallel"
"#,
            None,
        );
        assert!(job.rejected.is_empty(), "{:?}", errors(&job));
        let o = &job.outputs;
        assert_eq!(
            o[0].audio,
            AudioPlan::Encode {
                codec: "libopus".into(),
                bitrate_kbps: Some(96.0),
                channels: None,
                sample_rate: None
            }
        );
        assert_eq!(o[1].audio, AudioPlan::Drop);
        assert_eq!(o[2].container, Container::Hls);
        assert_eq!(o[2].hls_time, Some(6.0));
        // Raw video: encoder settings from the defaults do not apply.
        assert_eq!(o[3].codec, "wrapped_avframe");
        assert_eq!(o[3].rc, None);
        assert_eq!(o[3].audio, AudioPlan::Drop);
        for p in o {
            assert_eq!(p.modes.encode, Mode::Parallel, "{}", p.field);
            assert_eq!(p.modes.filter, Mode::Parallel, "{}", p.field);
            assert_eq!(p.modes.mux, Mode::Serial, "{}", p.field);
        }
    }

    #[test]
    fn each_bad_output_is_refused_alone_with_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let job = plan(
            dir.path(),
            r#"
input = "in.mp4"
[defaults]
codec = "libx264"
[[output]]
path = "ok.mp4"
[[output]]
path = "a.mp4"
format = "mp5"
[[output]]
path = "b.mp4"
hls_time = 4
[[output]]
path = "c.mp4"
fps_mode = "cfr"
[[output]]
path = "d.mp4"
width = 0
[[output]]
path = "ok.mp4"
[[output]]
path = "e.webm"
codec = "libx264"
[[output]]
path = "f.mp4"
audio = { codec = "libx264" }
[[output]]
path = "g.mp4"
scale = "nearest-ish"
[[output]]
path = "h.m3u8"
hls_time = 0.5
"#,
            None,
        );
        assert_eq!(job.outputs.len(), 1);
        let ok = dir.path().join("ok.mp4");
        assert_eq!(
            errors(&job),
            vec![
                "output[1].format: unknown container `mp5` (mp4, mov, mkv, webm, ts, flv, ivf, y4m, hls, h264, hevc, gif; audio alone: mp3, m4a, ogg, opus, flac)".to_string(),
                "output[2].hls_time: only applies to HLS outputs (.m3u8)".into(),
                "output[3].fps_mode: needs a target `fps`".into(),
                "output[4].width: must be positive".into(),
                format!("output[5].path: {} is already written by another output", ok.display()),
                "output[6].codec: the webm container cannot carry libx264 (h264)".into(),
                "output[7].audio.codec: libx264 is not an audio encoder".into(),
                format!(
                    "output[8].scale: unknown algorithm `nearest-ish` ({})",
                    ScaleAlgorithm::ALL.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
                "output[9].hls_time: must be between 1 and 60 seconds, not 0.5".into(),
            ]
        );
        let indices: Vec<usize> = job.rejected.iter().map(|r| r.0).collect();
        assert_eq!(indices, vec![1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }

    #[test]
    fn outputs_resolve_against_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let job = plan(
            dir.path(),
            r#"
input = "in.mp4"
[defaults]
codec = "libx264"
[[output]]
path = "a.mp4"
height = 360
[[output]]
path = "b.mp4"
crop = { width = 1280, height = 536, y = 92 }
width = 640
fps = 30
pix_fmt = "yuv420p10le"
rc = { mode = "abr", bitrate_kbps = 800, passes = 2 }
[[output]]
path = "c.mp4"
crop = { width = 1280, height = 800 }
"#,
            None,
        );
        let src = source(1280, 720, "yuv420p", 60, 1);
        let a = resolve_output(&job.outputs[0], &src, None).unwrap();
        assert_eq!((a.width, a.height), (640, 360));
        assert_eq!(a.graph.as_deref(), Some("scale=640:360:flags=bicubic"));
        assert_eq!(a.passes, 1);
        assert!(a.stats_file.is_none());
        assert!(a.cfr_time_base);

        let b = resolve_output(&job.outputs[1], &src, None).unwrap();
        assert_eq!((b.width, b.height), (640, 268));
        assert_eq!(media::pix_fmt_name(b.pix_fmt), "yuv420p10le");
        assert_eq!(
            b.graph.as_deref(),
            Some("fps=30,crop=1280:536:0:92,scale=640:268:flags=bicubic,format=yuv420p10le")
        );
        assert_eq!(b.rate, Rate { num: 30, den: 1 });
        assert_eq!(b.passes, 2);
        let stats = b.stats_file.as_ref().unwrap();
        assert!(
            stats.to_string_lossy().ends_with(".2pass.log"),
            "{}",
            stats.display()
        );
        assert_eq!(stats.parent(), Some(dir.path()));

        let c = resolve_output(&job.outputs[2], &src, None).err().unwrap();
        assert_eq!(
            c.to_string(),
            "output[2].crop: 1280x800 at (0,0) does not fit the 1280x720 source"
        );
    }

    #[test]
    fn user_data_plans_are_exact_and_bad_ones_named() {
        use crate::sei::{Every, SeiPlan, UserData};
        use crate::spec::{SeiMessageSpec, SeiSpec};
        let msg = |uuid: &str, text: Option<&str>, hex: Option<&str>, every: Option<&str>| {
            SeiMessageSpec {
                uuid: uuid.into(),
                text: text.map(Into::into),
                hex: hex.map(Into::into),
                every: every.map(Into::into),
            }
        };
        let u = "00112233-4455-6677-8899-aabbccddeeff";
        let spec = SeiSpec {
            messages: Some(vec![
                msg(u, Some("hi"), None, None),
                msg(u, None, Some("00 01 ff"), Some("frame")),
            ]),
            dropped: Some("drop".into()),
            latency: Some(true),
        };
        let uuid: [u8; 16] = std::array::from_fn(|i| (i as u8) * 0x11);
        assert_eq!(
            sei_plan(Some(&spec), "output[0]", Some("libx264")).unwrap(),
            SeiPlan {
                messages: vec![
                    (
                        UserData {
                            uuid,
                            payload: b"hi".to_vec()
                        },
                        Every::Keyframe
                    ),
                    (
                        UserData {
                            uuid,
                            payload: vec![0, 1, 0xff]
                        },
                        Every::Frame
                    ),
                ],
                merge_dropped: false,
                latency: true,
            }
        );
        // Absent: nothing written, dropped frames' user data merged.
        assert_eq!(
            sei_plan(None, "o", Some("libvpx-vp9")).unwrap(),
            SeiPlan::default()
        );
        assert!(SeiPlan::default().merge_dropped);
        // An encoder program's bitstream is checked when it is read back.
        assert!(sei_plan(Some(&spec), "o", None).is_ok());
        let err = |s: SeiSpec| {
            sei_plan(Some(&s), "output[3]", Some("libsvtav1"))
                .unwrap_err()
                .to_string()
        };
        let one = |m: SeiMessageSpec| SeiSpec {
            messages: Some(vec![m]),
            ..SeiSpec::default()
        };
        assert_eq!(
            err(one(msg("123", Some("x"), None, None))),
            "output[3].sei.messages[0].uuid: `123` is not a UUID (32 hex digits, dashes allowed)"
        );
        assert_eq!(
            err(one(msg(
                &crate::sei::uuid_text(&crate::sei::LATENCY_UUID),
                Some("x"),
                None,
                None
            ))),
            "output[3].sei.messages[0].uuid: is rdbench's own (latency records); pick another"
        );
        assert_eq!(
            err(one(msg(u, Some("x"), Some("00"), None))),
            "output[3].sei.messages[0]: give the payload as `text` or as `hex`, one of them"
        );
        assert_eq!(
            err(one(msg(u, None, Some("abc"), None))),
            "output[3].sei.messages[0].hex: `abc` is not an even number of hex digits"
        );
        assert_eq!(
            err(one(msg(u, Some("x"), None, Some("sometimes")))),
            "output[3].sei.messages[0].every: unknown `sometimes` (first, keyframe, frame)"
        );
        assert_eq!(
            err(SeiSpec {
                dropped: Some("keep".into()),
                ..SeiSpec::default()
            }),
            "output[3].sei.dropped: unknown policy `keep` (merge, drop)"
        );
        let big = "a".repeat(crate::sei::MAX_PAYLOAD + 1);
        assert_eq!(
            err(one(msg(u, Some(&big), None, None))),
            "output[3].sei.messages[0]: a payload of 65537 bytes is more than 65536"
        );
    }
}
