//! What a job reports: per output (sizes, rate, bytes, encoder time, every task's stats) and
//! for the whole job, and the progress callbacks a caller can follow it by.

use std::path::PathBuf;

use serde::Serialize;

use super::plan::Resolved;
use crate::error::Error;
use crate::media;
use crate::settings::RateControl;
use crate::snapshot::SnapshotReport;
use crate::task::TaskStats;

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

pub(crate) fn error_text<S: serde::Serializer>(
    e: &Option<Error>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

impl OutputReport {
    pub(super) fn failed(index: usize, path: Option<PathBuf>, codec: String, error: Error) -> Self {
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
    /// Every snapshot set, in job order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotReport>,
    /// The chunks of a chunked job, or the inputs of a concatenation, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<crate::chunk::Chunk>,
    /// Every command a live job took, with its answer, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub commands: Vec<crate::control::Ack>,
}

impl JobReport {
    /// Whether every output succeeded.
    pub fn all_ok(&self) -> bool {
        self.outputs.iter().all(|o| o.error.is_none())
            && self.snapshots.iter().all(|s| s.error.is_none())
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

pub(super) fn summarize(r: &Resolved, error: Option<Error>, tasks: Vec<TaskStats>) -> OutputReport {
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
