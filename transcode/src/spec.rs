//! The job spec: what a transcode job asks for, as written in TOML (or the same structure in
//! JSON), with named templates, and its validation into a [`Job`](crate::job::Job) the runner executes.
//!
//! An output's settings come from three layers, the first that sets a field winning: the
//! `[[output]]` entry itself, the template it names, and the job's `[defaults]`. Relative paths
//! are resolved against the folder of the file that names them.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A job as written: one input, settings shared by all outputs, and the outputs.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JobSpec {
    /// The input file, or `lavfi:GRAPH` for a libavfilter source (test patterns). Empty when
    /// `concat` names the inputs.
    #[serde(default)]
    pub input: String,
    /// Inputs played one after the other (2 to 20 files) instead of `input`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concat: Vec<String>,
    /// A TOML file of named templates (`[template.NAME]` tables of output settings).
    #[serde(default)]
    pub templates: Option<String>,
    /// Settings every output inherits.
    #[serde(default)]
    pub defaults: OutputSettings,
    /// How tasks run: VOD or live, queue sizes, serial or parallel per task.
    #[serde(default)]
    pub execution: ExecutionSpec,
    /// The outputs, one pipeline each.
    #[serde(default, rename = "output")]
    pub outputs: Vec<OutputSettings>,
    /// Still images of chosen frames (`[[snapshot]]`).
    #[serde(default, rename = "snapshot", skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotSpec>,
    /// A part of the input to transcode, cut on decoded frames.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clip: Option<ClipSpec>,
}

/// A clip as written.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ClipSpec {
    /// Seconds from the start of the input (0 when absent).
    pub start: Option<f64>,
    /// Seconds kept (to the end when absent).
    pub duration: Option<f64>,
}

/// A watermark as written: an `image` or a `text`.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WatermarkSpec {
    /// An image file (PNG with alpha, or any still image).
    pub image: Option<String>,
    /// Text to draw.
    pub text: Option<String>,
    /// A font file for text (default: the system's font).
    pub font: Option<String>,
    /// Text size: a fraction of the frame height, or pixels (default 0.05).
    pub size: Option<f64>,
    /// Text colour (default white).
    pub color: Option<String>,
    /// top-left (default), top-right, bottom-left, bottom-right or center.
    pub position: Option<String>,
    /// Horizontal offset inwards: a fraction of the frame width, or pixels.
    pub x: Option<f64>,
    /// Vertical offset inwards: a fraction of the frame height, or pixels.
    pub y: Option<f64>,
    /// Image width: a fraction of the frame width, or pixels (default: its own size).
    pub width: Option<f64>,
    /// Shown from this time, in seconds.
    pub start: Option<f64>,
    /// Shown until this time, in seconds.
    pub end: Option<f64>,
}

/// HLS AES-128 encryption as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HlsEncryptionSpec {
    /// A 16-byte key file; keys are generated when absent.
    pub key_file: Option<String>,
    /// The key URI in the playlist: `{n}` the key number, `{file}` its file name (default).
    pub key_uri: Option<String>,
    /// A new generated key every this many segments.
    pub rotate_segments: Option<u32>,
    /// `sequence` (the segment's media sequence number, the default) or `random` per segment.
    pub iv: Option<String>,
}

/// A set of still images taken from the input, as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SnapshotSpec {
    /// File-name pattern with `%d` or `%0Nd` for the image number, e.g. `thumbs/%03d.jpg`.
    pub path: Option<String>,
    /// `jpeg` or `png`, when the extension does not tell.
    pub format: Option<String>,
    /// Times in seconds: the first frame at or after each.
    pub times: Option<Vec<f64>>,
    /// This many images evenly spaced over the input.
    pub count: Option<u32>,
    /// Every keyframe.
    pub keyframes: Option<bool>,
    /// At most this many keyframes.
    pub max: Option<u32>,
    /// Image width (the height follows the aspect unless given).
    pub width: Option<u32>,
    /// Image height.
    pub height: Option<u32>,
    /// JPEG quantiser scale, 2 (best, the default) to 31.
    pub quality: Option<u32>,
    /// Tile the images into sprite sheets with a WebVTT thumbnails track.
    pub sprite: Option<SpriteSpec>,
}

/// Sprite sheets as written.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SpriteSpec {
    /// Thumbnails per row.
    pub columns: Option<u32>,
    /// Rows per sheet.
    pub rows: Option<u32>,
    /// The WebVTT file mapping time ranges to tiles.
    pub vtt: Option<String>,
}

/// The settings of one output; every field is optional so that templates and defaults can
/// fill it in.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSettings {
    /// Where the output is written (an HLS playlist for `.m3u8`).
    pub path: Option<String>,
    /// The name of a template in the job's templates file.
    pub template: Option<String>,
    /// Container, when the extension does not tell: mp4, mkv, webm, ts, flv, ivf, y4m, hls.
    pub format: Option<String>,
    /// A libavcodec encoder name: libx264, libx265, libsvtav1, libaom-av1, librav1e, libvpx-vp9...
    pub codec: Option<String>,
    /// The encoder's speed preset (x264/x265 names, SVT-AV1/rav1e/aom/vpx numbers).
    pub preset: Option<Scalar>,
    /// Encoder threads; absent means the encoder's automatic choice.
    pub threads: Option<u32>,
    /// Rate control.
    pub rc: Option<RcSpec>,
    /// Output width; with only one of width/height the other keeps the aspect ratio (even).
    pub width: Option<u32>,
    /// Output height.
    pub height: Option<u32>,
    /// Scaling algorithm: bicubic (default), bilinear, lanczos, spline, area, neighbor, gauss.
    pub scale: Option<String>,
    /// Target frame rate: a number or a ratio such as "30000/1001".
    pub fps: Option<Scalar>,
    /// How the frame rate is reached: cfr, vfr, vfr_half (the default is cfr when fps is set).
    pub fps_mode: Option<FpsMode>,
    /// Crop applied before scaling.
    pub crop: Option<CropSpec>,
    /// Output pixel format, e.g. yuv420p or yuv420p10le.
    pub pix_fmt: Option<String>,
    /// An extra libavfilter graph appended after rdbench's own filters.
    pub filter: Option<String>,
    /// Encoder-specific parameters as the encoder writes them (x264-params, x265-params, ...).
    pub params: Option<String>,
    /// Raw libavcodec options of the encoder (name = value).
    pub options: Option<BTreeMap<String, Scalar>>,
    /// Keyframe interval in frames.
    pub gop: Option<u32>,
    /// Audio: "copy", "drop", or an encode such as { codec = "aac", bitrate_kbps = 128 }.
    pub audio: Option<AudioSpec>,
    /// HLS segment duration in seconds (1 to 60).
    pub hls_time: Option<f64>,
    /// HLS AES-128 segment encryption.
    pub hls_encryption: Option<HlsEncryptionSpec>,
    /// Turn the picture clockwise: 90, 180 or 270 degrees.
    pub rotate: Option<u32>,
    /// Flip the picture (after any turn): horizontal, vertical or both.
    pub flip: Option<String>,
    /// Apply the rotation the source's display matrix asks for.
    pub autorotate: Option<bool>,
    /// Detect the source's black borders and crop them.
    pub crop_black: Option<bool>,
    /// Image and text watermarks, drawn in order (at most 20).
    pub watermarks: Option<Vec<WatermarkSpec>>,
    /// Subtitles from a file, burned into the picture.
    pub subtitles: Option<SubtitlesSpec>,
    /// Pass HDR side data, unregistered SEI and A/53 captions to the output (default true).
    pub passthrough: Option<bool>,
    /// User data written after the encoder: messages, latency records, what happens to the
    /// user data of frames the sampler drops.
    pub sei: Option<SeiSpec>,
    /// Serial or parallel execution of this output's tasks.
    pub tasks: Option<TaskModesSpec>,
    /// An encoder program instead of a libavcodec encoder: the program and its argument
    /// template (`{input}`, `{output}`, `{crf}`, ... see `external::PLACEHOLDERS`). When set,
    /// `codec`, `preset`, `params` and `options` do not apply.
    pub command: Option<Vec<String>>,
    /// A command that prints the program's version (its first line is recorded).
    pub command_version: Option<Vec<String>>,
    /// The bitstream the program writes: ivf, obu, h264, hevc, mkv, webm, mp4.
    pub output_format: Option<String>,
    /// How the program reads `{input}`: "fifo" (default, streamed) or "file" (written first).
    pub command_input: Option<crate::external::InputMode>,
    /// Seconds after which the program is killed.
    pub timeout_s: Option<f64>,
}

/// A TOML scalar: presets and options may be written as numbers or strings.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum Scalar {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(String),
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Int(v) => write!(f, "{v}"),
            Scalar::Float(v) => write!(f, "{v}"),
            Scalar::Bool(v) => write!(f, "{}", if *v { 1 } else { 0 }),
            Scalar::Str(v) => f.write_str(v),
        }
    }
}

/// Rate control as written in a job.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum RcSpec {
    /// Constant rate factor.
    Crf { value: f64 },
    /// Constant quantiser.
    Qp { value: f64 },
    /// Average bitrate, one pass or two.
    Abr {
        bitrate_kbps: f64,
        passes: Option<u8>,
    },
    /// Constant bitrate: maxrate = bitrate, with a VBV buffer.
    Cbr {
        bitrate_kbps: f64,
        bufsize_kbits: Option<f64>,
    },
    /// CRF with a VBV cap.
    CappedCrf {
        value: f64,
        maxrate_kbps: f64,
        bufsize_kbits: f64,
    },
}

/// How an output reaches its frame rate.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FpsMode {
    /// Constant frame rate at the target: frames are duplicated or dropped (libavfilter's fps).
    Cfr,
    /// Variable frame rate: frames are dropped so that the rate never exceeds the target, and the
    /// kept frames keep their timestamps.
    Vfr,
    /// Keep one frame in k uniformly, k the smallest whole divisor bringing the source rate to at
    /// most 10% above the target (50 -> 25 for a 30 target, 60 -> 30).
    #[serde(alias = "vfr-half")]
    VfrHalf,
}

/// A crop rectangle.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CropSpec {
    /// Width of the kept area.
    pub width: u32,
    /// Height of the kept area.
    pub height: u32,
    /// Left edge.
    #[serde(default)]
    pub x: u32,
    /// Top edge.
    #[serde(default)]
    pub y: u32,
}

/// What happens to the input's audio.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum AudioSpec {
    /// "copy" or "drop".
    Keyword(AudioKeyword),
    /// An encode.
    Encode(AudioEncodeSpec),
}

/// The keyword forms of [`AudioSpec`].
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AudioKeyword {
    /// Copy the audio packets unchanged.
    Copy,
    /// No audio in the output.
    Drop,
}

/// An audio encode.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AudioEncodeSpec {
    /// aac or libopus (or any libavcodec audio encoder).
    pub codec: String,
    /// Bitrate in kbit/s.
    pub bitrate_kbps: Option<f64>,
    /// Output channels (default: the input's, at most 2 for opus... as the encoder allows).
    pub channels: Option<u32>,
    /// Output sample rate (default: the input's, 48000 for opus).
    pub sample_rate: Option<u32>,
}

impl JobSpec {
    /// A job reading `input` into `outputs` with every task serial (decode, filter, encode and
    /// mux inline on the calling thread): how the benchmark and the target-quality search run
    /// an encode, so its CPU time is the job's own.
    pub fn serial(input: String, outputs: Vec<OutputSettings>) -> JobSpec {
        JobSpec {
            input,
            templates: None,
            defaults: OutputSettings::default(),
            execution: ExecutionSpec {
                decode: Some(TaskMode::Serial),
                filter: Some(TaskMode::Serial),
                encode: Some(TaskMode::Serial),
                mux: Some(TaskMode::Serial),
                ..Default::default()
            },
            outputs,
            snapshots: Vec::new(),
            clip: None,
            concat: Vec::new(),
        }
    }
}

/// Job-wide execution settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExecutionSpec {
    /// vod (back-pressure) or live (drop frames when a queue passes the threshold).
    pub mode: Option<RunMode>,
    /// Frames (or packets) a parallel task's queue holds.
    pub queue: Option<usize>,
    /// In live mode, the queue length at which a task drops an incoming frame.
    pub live_drop_threshold: Option<usize>,
    /// The decode task (serial: on the demuxing thread).
    pub decode: Option<TaskMode>,
    /// Default mode of every output's filter task.
    pub filter: Option<TaskMode>,
    /// Default mode of every output's encode task.
    pub encode: Option<TaskMode>,
    /// Default mode of every output's mux task.
    pub mux: Option<TaskMode>,
    /// Chunked parallel transcoding: the input split into chunks encoded in parallel and joined
    /// without re-encoding.
    pub chunked: Option<ChunkedSpec>,
    /// Read the input no faster than real time (its timestamps against the wall clock), as a
    /// live source delivers it.
    pub realtime: Option<bool>,
    /// The input file is still being written: read it as it grows, and end when nothing new
    /// has come for this many seconds.
    pub follow_s: Option<f64>,
}

/// `subtitles = { file = "subs.srt", burn = true }`: a subtitle file (SRT, ASS/SSA, WebVTT).
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SubtitlesSpec {
    /// The subtitle file.
    pub file: String,
    /// Draw them into the picture (the only way supported: soft subtitle streams are not).
    pub burn: Option<bool>,
}

/// `sei = { messages = [...], dropped = "merge", latency = true }`: user data an output's
/// bitstream carries (H.264/HEVC SEI, AV1 metadata OBUs), written after the encoder.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeiSpec {
    /// Messages from the job.
    pub messages: Option<Vec<SeiMessageSpec>>,
    /// The user data of frames the frame-rate sampler drops: "merge" (onto the next kept frame,
    /// the default) or "drop".
    pub dropped: Option<String>,
    /// Write a latency record on every picture: when each stage handled the frame.
    pub latency: Option<bool>,
}

/// One message: a UUID and a payload given as text or as hex digits.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SeiMessageSpec {
    /// 32 hex digits (dashes allowed).
    pub uuid: String,
    /// The payload as UTF-8 text.
    pub text: Option<String>,
    /// The payload as hex digits.
    pub hex: Option<String>,
    /// When: "first" picture, every "keyframe" (the default), every "frame".
    pub every: Option<String>,
}

/// `[execution] chunked = { ... }`: how the input is split and how many chunks encode at once.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChunkedSpec {
    /// Chunk length in seconds: chunks start at the first source keyframe at or after each
    /// multiple (with `scene_cuts`, the longest a scene runs before it is split).
    pub seconds: Option<f64>,
    /// Start chunks at detected scene cuts instead of source keyframes.
    pub scene_cuts: Option<bool>,
    /// Scene-change score (0 to 100, on downscaled luma) at which a cut is detected.
    pub threshold: Option<f64>,
    /// With scene cuts: the shortest chunk, in seconds.
    pub min_seconds: Option<f64>,
    /// Chunks encoded at once (default: the machine's cores).
    pub workers: Option<usize>,
}

/// Serial or parallel per task kind of an output.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TaskModesSpec {
    /// The filter task (scale, frame rate, crop, format).
    pub filter: Option<TaskMode>,
    /// The encode task.
    pub encode: Option<TaskMode>,
    /// The mux task.
    pub mux: Option<TaskMode>,
}

/// Whether a task runs inline in its caller or on its own thread behind a bounded queue.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TaskMode {
    /// Inline in the calling task's thread.
    Serial,
    /// On its own thread, fed through a bounded queue.
    Parallel,
}

/// VOD or live.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum RunMode {
    /// Never drop: a full queue blocks its producer (back-pressure).
    #[default]
    Vod,
    /// Keep up: a task drops frames while its queue is past the threshold, and counts them.
    Live,
}

/// A templates file: `[template.NAME]` tables.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    /// Named output settings.
    #[serde(default, alias = "templates")]
    pub template: BTreeMap<String, OutputSettings>,
}

impl OutputSettings {
    /// Fills every field `self` leaves unset from `lower`.
    pub fn or(self, lower: &OutputSettings) -> OutputSettings {
        let l = lower.clone();
        OutputSettings {
            path: self.path.or(l.path),
            template: self.template.or(l.template),
            format: self.format.or(l.format),
            codec: self.codec.or(l.codec),
            preset: self.preset.or(l.preset),
            threads: self.threads.or(l.threads),
            rc: self.rc.or(l.rc),
            width: self.width.or(l.width),
            height: self.height.or(l.height),
            scale: self.scale.or(l.scale),
            fps: self.fps.or(l.fps),
            fps_mode: self.fps_mode.or(l.fps_mode),
            crop: self.crop.or(l.crop),
            pix_fmt: self.pix_fmt.or(l.pix_fmt),
            filter: self.filter.or(l.filter),
            params: self.params.or(l.params),
            options: match (self.options, l.options) {
                (Some(mut mine), Some(theirs)) => {
                    for (k, v) in theirs {
                        mine.entry(k).or_insert(v);
                    }
                    Some(mine)
                }
                (mine, theirs) => mine.or(theirs),
            },
            gop: self.gop.or(l.gop),
            audio: self.audio.or(l.audio),
            hls_time: self.hls_time.or(l.hls_time),
            hls_encryption: self.hls_encryption.or(l.hls_encryption),
            rotate: self.rotate.or(l.rotate),
            flip: self.flip.or(l.flip),
            autorotate: self.autorotate.or(l.autorotate),
            crop_black: self.crop_black.or(l.crop_black),
            watermarks: self.watermarks.or(l.watermarks),
            subtitles: self.subtitles.or(l.subtitles),
            passthrough: self.passthrough.or(l.passthrough),
            sei: self.sei.or(l.sei),
            tasks: match (self.tasks, l.tasks) {
                (Some(a), Some(b)) => Some(TaskModesSpec {
                    filter: a.filter.or(b.filter),
                    encode: a.encode.or(b.encode),
                    mux: a.mux.or(b.mux),
                }),
                (a, b) => a.or(b),
            },
            command: self.command.or(l.command),
            command_version: self.command_version.or(l.command_version),
            output_format: self.output_format.or(l.output_format),
            command_input: self.command_input.or(l.command_input),
            timeout_s: self.timeout_s.or(l.timeout_s),
        }
    }
}

/// Parses a job spec from text; `path` names the source in errors and picks the syntax
/// (`.json` is JSON, anything else TOML).
pub fn parse_job(text: &str, path: &Path) -> Result<JobSpec> {
    parse_any(text, path)
}

/// Parses a templates file.
pub fn parse_templates(text: &str, path: &Path) -> Result<TemplateFile> {
    parse_any(text, path)
}

fn parse_any<T: serde::de::DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        serde_json::from_str(text).map_err(|e| Error::SpecParse {
            path: path.to_path_buf(),
            message: format!(
                "line {} column {}: {}",
                e.line(),
                e.column(),
                strip_json_position(&e.to_string())
            ),
        })
    } else {
        toml::from_str(text).map_err(|e| Error::SpecParse {
            path: path.to_path_buf(),
            message: toml_message(text, &e),
        })
    }
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

/// One line: "line L column C: message", from a toml error and the text it came from.
pub fn toml_message(text: &str, err: &toml::de::Error) -> String {
    let msg = err.message().trim().replace('\n', " ");
    match err.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let column = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
            format!("line {line} column {column}: {msg}")
        }
        None => msg,
    }
}

/// Reads and parses a job file, and its templates file when it names one.
pub fn load_job(path: &Path) -> Result<(JobSpec, Option<TemplateFile>)> {
    let text = read_text(path)?;
    let spec = parse_job(&text, path)?;
    let templates = match &spec.templates {
        Some(t) => {
            let tpath = resolve(path, t);
            let ttext = read_text(&tpath)?;
            Some(parse_templates(&ttext, &tpath)?)
        }
        None => None,
    };
    Ok((spec, templates))
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            Error::io(path, "reading", e)
        }
    })
}

/// `relative` resolved against the folder of the file `base` (absolute paths unchanged).
pub fn resolve(base: &Path, relative: &str) -> PathBuf {
    let p = Path::new(relative);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match base.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join(p),
        _ => p.to_path_buf(),
    }
}

/// The settings of output `index` after templates and defaults are applied.
pub fn effective_output(
    spec: &JobSpec,
    templates: Option<&TemplateFile>,
    index: usize,
) -> Result<OutputSettings> {
    let out = spec.outputs[index].clone();
    let field = format!("output[{index}]");
    if spec.defaults.path.is_some() {
        return Err(Error::Spec {
            field: "defaults.path".into(),
            message: "a path belongs to one output, not to the defaults".into(),
        });
    }
    let template_name = out
        .template
        .clone()
        .or_else(|| spec.defaults.template.clone());
    let with_template = match template_name {
        None => out,
        Some(name) => {
            let Some(file) = templates else {
                return Err(Error::Spec {
                    field: format!("{field}.template"),
                    message: format!("template `{name}` named but the job has no `templates` file"),
                });
            };
            let Some(t) = file.template.get(&name) else {
                let known: Vec<&str> = file.template.keys().map(String::as_str).collect();
                return Err(Error::Spec {
                    field: format!("{field}.template"),
                    message: format!("unknown template `{name}` (known: {})", known.join(", ")),
                });
            };
            out.or(t)
        }
    };
    Ok(with_template.or(&spec.defaults))
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"
input = "mezz.mp4"
[defaults]
codec = "libx264"
preset = "veryfast"
threads = 1
[[output]]
path = "out/1080.mp4"
height = 1080
rc = { mode = "crf", value = 23 }
[[output]]
path = "out/360.mp4"
height = 360
rc = { mode = "abr", bitrate_kbps = 800 }
"#;

    #[test]
    fn the_documented_example_parses() {
        let spec = parse_job(EXAMPLE, Path::new("job.toml")).unwrap();
        assert_eq!(spec.input, "mezz.mp4");
        assert_eq!(spec.outputs.len(), 2);
        let o1 = effective_output(&spec, None, 1).unwrap();
        assert_eq!(o1.codec.as_deref(), Some("libx264"));
        assert_eq!(o1.preset, Some(Scalar::Str("veryfast".into())));
        assert_eq!(o1.threads, Some(1));
        assert_eq!(o1.height, Some(360));
        assert_eq!(
            o1.rc,
            Some(RcSpec::Abr {
                bitrate_kbps: 800.0,
                passes: None
            })
        );
        let o0 = effective_output(&spec, None, 0).unwrap();
        assert_eq!(o0.rc, Some(RcSpec::Crf { value: 23.0 }));
    }

    #[test]
    fn json_has_the_same_structure() {
        let json = r#"{"input": "mezz.mp4", "defaults": {"codec": "libx264", "threads": 1},
            "output": [{"path": "a.mp4", "height": 720, "rc": {"mode": "cbr", "bitrate_kbps": 3000, "bufsize_kbits": 6000}}]}"#;
        let spec = parse_job(json, Path::new("job.json")).unwrap();
        assert_eq!(
            spec.outputs[0].rc,
            Some(RcSpec::Cbr {
                bitrate_kbps: 3000.0,
                bufsize_kbits: Some(6000.0)
            })
        );
    }

    #[test]
    fn an_unknown_field_names_its_line_and_the_field() {
        let text = "input = \"a.mp4\"\n[[output]]\npath = \"b.mp4\"\nheigth = 720\n";
        let err = parse_job(text, Path::new("job.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("job.toml: line 4 column 1: unknown field `heigth`"),
            "{err}"
        );
        assert!(!err.contains('\n'));
    }

    #[test]
    fn an_unknown_rc_mode_is_refused() {
        let text =
            "input = \"a.mp4\"\n[[output]]\npath = \"b.mp4\"\nrc = { mode = \"vbr\", value = 3 }\n";
        let err = parse_job(text, Path::new("job.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 4") && err.contains("vbr"), "{err}");
    }

    #[test]
    fn output_beats_template_beats_defaults() {
        let spec = parse_job(
            "input = \"a.mp4\"\ntemplates = \"t.toml\"\n[defaults]\ncodec = \"libx264\"\npreset = \"slow\"\nthreads = 2\n\
             [[output]]\npath = \"o.mp4\"\ntemplate = \"hd\"\nthreads = 4\n",
            Path::new("job.toml"),
        )
        .unwrap();
        let t = parse_templates(
            "[template.hd]\ncodec = \"libx265\"\nheight = 720\nthreads = 3\nrc = { mode = \"crf\", value = 28 }\n",
            Path::new("t.toml"),
        )
        .unwrap();
        let o = effective_output(&spec, Some(&t), 0).unwrap();
        assert_eq!(o.codec.as_deref(), Some("libx265"));
        assert_eq!(o.threads, Some(4));
        assert_eq!(o.preset, Some(Scalar::Str("slow".into())));
        assert_eq!(o.height, Some(720));
        let missing = parse_job(
            "input = \"a.mp4\"\n[[output]]\npath = \"o.mp4\"\ntemplate = \"sd\"\n",
            Path::new("j.toml"),
        )
        .unwrap();
        let err = effective_output(&missing, Some(&t), 0)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "output[0].template: unknown template `sd` (known: hd)");
    }

    #[test]
    fn relative_paths_resolve_against_the_spec_folder() {
        assert_eq!(
            resolve(Path::new("jobs/a.toml"), "in.mp4"),
            PathBuf::from("jobs/in.mp4")
        );
        assert_eq!(
            resolve(Path::new("a.toml"), "in.mp4"),
            PathBuf::from("in.mp4")
        );
        assert_eq!(
            resolve(Path::new("jobs/a.toml"), "/abs/in.mp4"),
            PathBuf::from("/abs/in.mp4")
        );
    }
}
