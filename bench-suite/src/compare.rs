//! Comparing two files: decode the reference and the distorted video on their own threads
//! (bounded queues, so only a few frames are in flight), scale the distorted pictures to the
//! reference size and format, and compute every requested metric in one pass.
//! [`compare_group`] does the same for several distorted files against one reference, decoded
//! once, with the streams in lockstep and each aligned on its own.
//!
//! This is the glue between the transcode core (which decodes) and the metrics crate (which
//! never sees FFmpeg): pictures, decoded or read directly from Y4M files (`source.rs`),
//! become metric [`FrameView`]s here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crossbeam_channel::{bounded, Receiver};
use rdbench_metrics::frame::FrameView;
use rdbench_metrics::pool::Pooled;
use rdbench_metrics::psnr::{pool_psnr, PsnrFrame};
use rdbench_metrics::vmaf::{VmafConfig, VmafModelVersion, VmafScorer};
use rdbench_metrics::xpsnr::{pool_xpsnr, Xpsnr, XpsnrFrame};
use rdbench_metrics::{ms_ssim, psnr, ssim, Fps, MetricError, Ssimulacra2};
use rdbench_transcode::cpu;
use rdbench_transcode::filter::ScaleAlgorithm;
use rdbench_transcode::reader::ReaderOptions;

use crate::align::{best_offset, Align, Alignment, Pairing, Step, Thumb};
use crate::source::{Pic, PictureSample, Source};
use serde::Serialize;
use thiserror::Error;

/// A metric rdbench computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Metric {
    /// VMAF through libvmaf.
    Vmaf,
    /// PSNR per plane and weighted YUV.
    Psnr,
    /// SSIM (luma).
    Ssim,
    /// MS-SSIM (luma).
    MsSsim,
    /// MS-SSIM in dB, `-10 log10(1 - MS-SSIM)` of the pooled MS-SSIM, as the AOM CTC reports it.
    MsSsimDb,
    /// APSNR: PSNR of the mean squared error over the sequence, per plane (where PSNR is the
    /// mean of the per-frame PSNRs).
    Apsnr,
    /// XPSNR per plane and 6:1:1-weighted, pooled as FFmpeg's `xpsnr` filter pools it.
    Xpsnr,
    /// SSIMULACRA2 (BT.709, limited range), mean of the per-frame scores.
    Ssimulacra2,
    /// CAMBI (banding; lower is better), through libvmaf.
    Cambi,
    /// CIEDE2000 (libvmaf's `45 - 20 log10(mean ΔE00)`), through libvmaf.
    Ciede2000,
    /// PSNR-HVS per plane and combined, through libvmaf.
    PsnrHvs,
}

/// Every metric, as named in suites and on the command line.
pub const METRIC_NAMES: &str =
    "vmaf, psnr, ssim, ms-ssim, ms-ssim-db, apsnr, xpsnr, ssimulacra2, cambi, ciede2000, psnr-hvs";

impl Metric {
    /// Parses a name of [`METRIC_NAMES`] (`ms_ssim` for `ms-ssim` and the like also).
    pub fn parse(name: &str) -> Option<Metric> {
        match name.trim().to_ascii_lowercase().as_str() {
            "vmaf" => Some(Metric::Vmaf),
            "psnr" => Some(Metric::Psnr),
            "ssim" => Some(Metric::Ssim),
            "ms-ssim" | "ms_ssim" | "msssim" => Some(Metric::MsSsim),
            "ms-ssim-db" | "ms_ssim_db" => Some(Metric::MsSsimDb),
            "apsnr" => Some(Metric::Apsnr),
            "xpsnr" => Some(Metric::Xpsnr),
            "ssimulacra2" => Some(Metric::Ssimulacra2),
            "cambi" => Some(Metric::Cambi),
            "ciede2000" | "ciede" => Some(Metric::Ciede2000),
            "psnr-hvs" | "psnr_hvs" => Some(Metric::PsnrHvs),
            _ => None,
        }
    }

    /// The name as written in suites and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Vmaf => "vmaf",
            Metric::Psnr => "psnr",
            Metric::Ssim => "ssim",
            Metric::MsSsim => "ms-ssim",
            Metric::MsSsimDb => "ms-ssim-db",
            Metric::Apsnr => "apsnr",
            Metric::Xpsnr => "xpsnr",
            Metric::Ssimulacra2 => "ssimulacra2",
            Metric::Cambi => "cambi",
            Metric::Ciede2000 => "ciede2000",
            Metric::PsnrHvs => "psnr-hvs",
        }
    }

    /// The libvmaf feature extractor that computes this metric, for those rdbench has no kernel
    /// of its own for.
    pub fn libvmaf_feature(self) -> Option<&'static str> {
        match self {
            Metric::Cambi => Some("cambi"),
            Metric::Ciede2000 => Some("ciede"),
            Metric::PsnrHvs => Some("psnr_hvs"),
            _ => None,
        }
    }

    /// Whether computing this metric reads the chroma planes (those that do not are given
    /// pictures whose chroma was not read, where that saves work: see `source.rs`).
    pub fn reads_chroma(self) -> bool {
        match self {
            Metric::Vmaf | Metric::Ssim | Metric::MsSsim | Metric::MsSsimDb | Metric::Cambi => {
                false
            }
            Metric::Psnr
            | Metric::Apsnr
            | Metric::Xpsnr
            | Metric::Ssimulacra2
            | Metric::Ciede2000
            | Metric::PsnrHvs => true,
        }
    }

    /// The metrics this one is computed from (MS-SSIM in dB from MS-SSIM, APSNR from PSNR).
    pub fn needs(self) -> Option<Metric> {
        match self {
            Metric::MsSsimDb => Some(Metric::MsSsim),
            Metric::Apsnr => Some(Metric::Psnr),
            _ => None,
        }
    }
}

/// Errors comparing two files.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CompareError {
    /// A file could not be opened or decoded.
    #[error(transparent)]
    Decode(#[from] rdbench_transcode::Error),
    /// A Y4M file read directly is malformed or cut short.
    #[error(transparent)]
    Y4m(#[from] rdbench_metrics::y4m::Y4mError),
    /// The files have different numbers of frames.
    #[error("frame counts differ: reference {reference} has {reference_frames} frames, distorted {distorted} has {distorted_frames} (compare a prefix with --frames N, or let rdbench align them)")]
    FrameCount {
        reference: PathBuf,
        reference_frames: u64,
        distorted: PathBuf,
        distorted_frames: u64,
    },
    /// A picture format the metrics cannot read.
    #[error("{path}: pixel format {pix_fmt} is not planar Y'CbCr 4:2:0, 4:2:2 or 4:4:4")]
    Format { path: PathBuf, pix_fmt: String },
    /// A metric refused the pictures (e.g. too small for MS-SSIM).
    #[error("{0}")]
    Metric(#[from] MetricError),
    /// libvmaf failed.
    #[error("VMAF: {0}")]
    Vmaf(#[from] rdbench_metrics::vmaf::VmafError),
    /// Nothing to compare.
    #[error("{path}: no frames")]
    Empty { path: PathBuf },
    /// What another stream scored in the same group met (the shared reference failed to
    /// decode, or the group's VMAF scorer failed).
    #[error("{message}")]
    Shared { message: String },
    /// libvmaf gave no value for a metric it computes.
    #[error("{metric}: libvmaf computed no value for {width}x{height} pictures{hint}")]
    NoValue {
        metric: &'static str,
        width: u32,
        height: u32,
        hint: &'static str,
    },
}

/// What to compute and how.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// Metrics to compute.
    pub metrics: Vec<Metric>,
    /// VMAF model.
    pub vmaf_model: VmafModelVersion,
    /// Extra libvmaf features by name (cambi, ciede, psnr_hvs...).
    pub vmaf_features: Vec<String>,
    /// libvmaf threads (0: on the scoring thread).
    pub vmaf_threads: u32,
    /// Score every Nth frame with VMAF (1: all).
    pub vmaf_subsample: u32,
    /// Compare only the first N frames.
    pub frames: Option<u64>,
    /// Scaling algorithm for a distorted picture of another size.
    pub scale: ScaleAlgorithm,
    /// Decoded pictures in flight per file.
    pub queue: usize,
    /// Decoder threads per file (0: automatic).
    pub decoder_threads: u32,
    /// Decode on the scoring thread, when it asks for the next picture, instead of on a thread
    /// per file ahead of it: for VMAF on worker threads, whose scorer keeps the workers fed and
    /// scores frames itself only when they are busy, so the cores are shared out without
    /// decoder threads competing with the workers for them.
    pub decode_inline: bool,
    /// How the distorted stream is aligned with the reference.
    pub align: Align,
    /// Let rdbench's own kernels compute VMAF where they equal libvmaf (off: libvmaf scores all).
    pub vmaf_native: bool,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            metrics: vec![Metric::Vmaf, Metric::Psnr, Metric::Ssim],
            vmaf_model: VmafModelVersion::V0_6_1,
            vmaf_features: Vec::new(),
            vmaf_threads: 0,
            vmaf_subsample: 1,
            frames: None,
            scale: ScaleAlgorithm::Bicubic,
            queue: 4,
            decoder_threads: 1,
            decode_inline: false,
            align: Align::Exact,
            vmaf_native: true,
        }
    }
}

/// A pooled metric, plus the global PSNR for PSNR entries.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct PooledEntry {
    /// The poolings of the per-frame values.
    #[serde(flatten)]
    pub pooled: Pooled,
    /// PSNR of the mean MSE (PSNR entries only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global: Option<f64>,
    /// The metric's own figure for the sequence where it pools otherwise than by the mean of
    /// the per-frame values (XPSNR as FFmpeg's filter pools it, APSNR, MS-SSIM in dB): the
    /// value results tables report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<f64>,
}

impl PooledEntry {
    /// An entry pooled from `series` by its statistics alone.
    fn of(series: &[f64]) -> Option<PooledEntry> {
        Pooled::from_series(series).map(|pooled| PooledEntry {
            pooled,
            global: None,
            sequence: None,
        })
    }

    /// The figure a results table reports: the sequence figure when the metric has one of its
    /// own, else the mean of the per-frame values.
    pub fn value(&self) -> f64 {
        self.sequence.unwrap_or(self.pooled.mean)
    }
}

/// Per-frame values of every metric computed, by column name (vmaf, psnr_y, psnr_u, psnr_v,
/// psnr_yuv, ssim, ms_ssim, and extra libvmaf features by their names).
pub type PerFrame = BTreeMap<String, Vec<f64>>;

/// The result of a comparison.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// Frames compared.
    pub frames: u64,
    /// Pooled values by column name.
    pub pooled: BTreeMap<String, PooledEntry>,
    /// Per-frame values by column name (VMAF with subsampling covers `vmaf_frames` only).
    #[serde(skip)]
    pub per_frame: PerFrame,
    /// The frame indices VMAF scored.
    #[serde(skip)]
    pub vmaf_frames: Vec<u32>,
    /// Wall seconds the decoders spent decoding (the slower of the two).
    #[serde(skip)]
    pub decode_wall_s: f64,
    /// CPU seconds of both decoders.
    #[serde(skip)]
    pub decode_cpu_s: f64,
    /// CPU seconds of the distorted file's decoder alone (with its library's threads): what
    /// the bitstream costs to decode.
    #[serde(skip)]
    pub distorted_decode_cpu_s: f64,
    /// Wall seconds of scoring.
    #[serde(skip)]
    pub score_wall_s: f64,
    /// CPU seconds of scoring (the scoring thread, libvmaf's threads when it has them excluded).
    #[serde(skip)]
    pub score_cpu_s: f64,
    /// How the streams were aligned.
    pub alignment: Alignment,
    /// Which code computed VMAF (`native`, or `libvmaf (reason)`), when it was computed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmaf_path: Option<String>,
}

/// A file's pictures as the scorer takes them: decoded ahead on a thread of their own, or, with
/// [`CompareOptions::decode_inline`], on the scoring thread when asked for.
struct Decoding {
    feed: Feed,
}

enum Feed {
    Thread {
        rx: Receiver<Result<Pic, CompareError>>,
        handle: std::thread::JoinHandle<(f64, f64)>,
    },
    Inline {
        feeder: Box<Feeder>,
        /// Wall and CPU seconds spent decoding.
        wall: f64,
        cpu: f64,
    },
}

impl Decoding {
    /// The next picture, or `None` at the end (after an error, which comes once).
    fn recv(&mut self) -> Option<Result<Pic, CompareError>> {
        match &mut self.feed {
            Feed::Thread { rx, .. } => rx.recv().ok(),
            Feed::Inline { feeder, wall, cpu } => {
                let (w, c) = (Instant::now(), cpu::thread_cpu_s());
                let next = feeder.next();
                *wall += w.elapsed().as_secs_f64();
                *cpu += cpu::thread_cpu_s() - c;
                next
            }
        }
    }

    /// Wall and CPU seconds spent decoding on the scoring thread so far (none for a decoder
    /// on its own thread), which that thread's scoring time must leave out.
    fn here(&self) -> (f64, f64) {
        match &self.feed {
            Feed::Thread { .. } => (0.0, 0.0),
            Feed::Inline { wall, cpu, .. } => (*wall, *cpu),
        }
    }

    /// Counts the pictures left, decoding them.
    fn count_rest(&mut self) -> u64 {
        let mut n = 0;
        while self.recv().is_some() {
            n += 1;
        }
        n
    }

    /// Stops decoding: the decoder's wall and CPU seconds.
    fn finish(self) -> (f64, f64) {
        match self.feed {
            Feed::Thread { rx, handle } => {
                drop(rx);
                handle.join().unwrap_or((0.0, 0.0))
            }
            Feed::Inline { feeder, wall, cpu } => (wall, cpu + feeder.finish()),
        }
    }
}

/// The thumbnails a decoder makes of its first pictures for the offset search: it sends them
/// once it has `want` of them, or has no more pictures. A picture that cannot be made into one
/// ends the collection unsent (the receiver sees the sender go).
pub(crate) struct ThumbsTo {
    want: usize,
    made: Vec<Thumb>,
    to: std::sync::mpsc::SyncSender<Vec<Thumb>>,
}

impl ThumbsTo {
    /// A collection of the first `want` thumbnails and the receiver they arrive on.
    fn new(want: usize) -> (ThumbsTo, std::sync::mpsc::Receiver<Vec<Thumb>>) {
        let (to, rx) = std::sync::mpsc::sync_channel(1);
        let made = Vec::with_capacity(want);
        (ThumbsTo { want, made, to }, rx)
    }

    fn send(self) {
        let _ = self.to.send(self.made);
    }
}

/// An opened file's pictures one by one, with at most `limit` in all; with `thumbs`, the
/// thumbnails of its first pictures are made on the way.
struct Feeder {
    reader: Source,
    limit: Option<u64>,
    thumbs: Option<ThumbsTo>,
    n: u64,
    done: bool,
}

impl Feeder {
    /// The next picture, or `None` at the end (after an error, which comes once).
    fn next(&mut self) -> Option<Result<Pic, CompareError>> {
        if self.done || self.limit.is_some_and(|l| self.n >= l) {
            self.done = true;
            return None;
        }
        match self.reader.next_picture() {
            Ok(Some(p)) => {
                self.n += 1;
                if let Some(mut t) = self.thumbs.take() {
                    if let Ok(thumb) = p.thumb() {
                        t.made.push(thumb);
                        if t.made.len() >= t.want {
                            t.send();
                        } else {
                            self.thumbs = Some(t);
                        }
                    }
                }
                Some(Ok(p))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Sends the thumbnails made so far, if not sent yet: the CPU seconds of the decoder's
    /// own threads.
    fn finish(mut self) -> f64 {
        if let Some(t) = self.thumbs.take() {
            t.send();
        }
        self.reader.helper_cpu_s()
    }
}

/// Starts the decoder of an opened file, with at most `queue` pictures decoded ahead and at
/// most `limit` in all (on the scoring thread with `inline`, none ahead); with `thumbs`, it
/// also makes the thumbnails of its first pictures.
fn spawn_decoder(
    reader: Source,
    queue: usize,
    limit: Option<u64>,
    thumbs: Option<ThumbsTo>,
    inline: bool,
) -> Result<(Decoding, rdbench_transcode::input::VideoInfo), CompareError> {
    let info = reader.info().clone();
    // Reading a frame directly is a copy from the page cache, far quicker than scoring it: a
    // hand-over channel (the reader holds the next picture until it is taken, then reads the
    // one after while it is scored) keeps the scorer fed with two pictures in all.
    let queue = match reader {
        Source::Y4m(_) => 0,
        Source::Decoder(_) => queue.max(1),
    };
    let mut feeder = Box::new(Feeder {
        reader,
        limit,
        thumbs,
        n: 0,
        done: false,
    });
    if inline {
        let feed = Feed::Inline {
            feeder,
            wall: 0.0,
            cpu: 0.0,
        };
        return Ok((Decoding { feed }, info));
    }
    let (tx, rx) = bounded(queue);
    let handle = std::thread::Builder::new()
        .name("decode-score".into())
        .spawn(move || {
            let (w, c) = (Instant::now(), cpu::thread_cpu_s());
            while let Some(p) = feeder.next() {
                if tx.send(p).is_err() {
                    break;
                }
            }
            let helper = feeder.finish();
            (w.elapsed().as_secs_f64(), cpu::thread_cpu_s() - c + helper)
        })
        .expect("spawning a decoder thread");
    let feed = Feed::Thread { rx, handle };
    Ok((Decoding { feed }, info))
}

/// Per-frame scores of one pair, by metric.
#[derive(Default)]
struct Scores {
    psnr: Vec<PsnrFrame>,
    ssim: Vec<f64>,
    ms_ssim: Vec<f64>,
    xpsnr: Vec<XpsnrFrame>,
    ssimulacra2: Vec<f64>,
}

/// Scorers that keep state or buffers across frames.
struct Stateful {
    /// XPSNR (created at the first frame, whose format it takes), with the stream's rate.
    xpsnr: Option<Xpsnr>,
    fps: Fps,
    ssimulacra2: Option<Ssimulacra2>,
}

fn score_pair<T: rdbench_metrics::Sample>(
    r: FrameView<'_, T>,
    d: FrameView<'_, T>,
    metrics: &[Metric],
    vmaf: Option<&mut VmafScorer>,
    stateful: &mut Stateful,
    scores: &mut Scores,
) -> Result<(), CompareError> {
    if metrics.contains(&Metric::Xpsnr) {
        let x = match &mut stateful.xpsnr {
            Some(x) => x,
            none => none.insert(Xpsnr::for_frame(&r, stateful.fps)?),
        };
        scores.xpsnr.push(x.push(&r, &d)?);
    }
    if let Some(s) = &mut stateful.ssimulacra2 {
        scores.ssimulacra2.push(s.score(&r, &d)?);
    }
    if metrics.contains(&Metric::Psnr) {
        scores.psnr.push(psnr(&r, &d)?);
    }
    if metrics.contains(&Metric::Ssim) {
        scores.ssim.push(ssim(&r, &d)?);
    }
    if metrics.contains(&Metric::MsSsim) {
        scores.ms_ssim.push(ms_ssim(&r, &d)?);
    }
    if let Some(v) = vmaf {
        v.push(&r, &d)?;
    }
    Ok(())
}

/// Frames of each file beyond the window that the offset search compares.
const SEARCH_PAIRS: usize = 8;

/// The offset within +-`window` that maximises luma PSNR over the first frames of the two
/// files, from the thumbnails of their first `window` + [`SEARCH_PAIRS`] frames (short clips
/// get a smaller window, so that every offset still has its pairs), and that PSNR.
fn offset_from_thumbs(r: &[Thumb], d: &[Thumb], window: u32) -> Option<(i64, f64)> {
    let shorter = r.len().min(d.len());
    let pairs = SEARCH_PAIRS.min(shorter / 2).max(1);
    let window = window.min(shorter.saturating_sub(pairs) as u32);
    best_offset(r, d, window, pairs)
}

/// The offset of `distorted` against `reference` that maximises luma PSNR over their first
/// frames, searched within +-`window` frames on small grey thumbnails (the first `window` + 8
/// frames of each are decoded once more for it).
fn search_offset(
    reference: &Path,
    distorted: &Path,
    dist_opts: &ReaderOptions,
    window: u32,
    threads: u32,
) -> Result<Option<(i64, f64)>, CompareError> {
    let thumbs = |path: &Path, opts: ReaderOptions| -> Result<Vec<Thumb>, CompareError> {
        let mut reader = Source::open(path, opts, true)?;
        let mut out = Vec::new();
        while out.len() < window as usize + SEARCH_PAIRS {
            let Some(p) = reader.next_picture()? else {
                break;
            };
            out.push(p.thumb()?);
        }
        Ok(out)
    };
    // Both files at once, each on its own thread.
    let (r, d) = std::thread::scope(|s| {
        let r = s.spawn(|| {
            thumbs(
                reference,
                ReaderOptions {
                    threads,
                    ..Default::default()
                },
            )
        });
        let d = thumbs(distorted, dist_opts.clone());
        (r.join().expect("the reference's thumbnail thread"), d)
    });
    Ok(offset_from_thumbs(&r?, &d?, window))
}

/// How a distorted stream's frames are paired with the reference's.
enum Cursor {
    /// Frame i with frame i.
    Exact,
    /// Each reference frame with the distorted frame on screen at its time.
    Timestamps(Box<TimestampCursor>),
}

/// The state of pairing by presentation time.
struct TimestampCursor {
    pairing: Pairing,
    dist_frame_s: f64,
    cur: Option<Pic>,
    ahead: Option<Pic>,
    dist_done: bool,
    last_used: Option<u64>,
    shown_upto: Option<u64>,
}

/// What a distorted stream has for the next reference frame.
enum Next {
    /// The picture to score against (held by the stream).
    Pair,
    /// The stream has ended.
    End,
}

/// One distorted stream being scored against the shared reference.
struct Stream<'p> {
    path: &'p Path,
    decoding: Option<Decoding>,
    cursor: Cursor,
    alignment: Alignment,
    /// The picture to score for the current reference frame (Exact pairing).
    current: Option<Pic>,
    scores: Scores,
    stateful: Stateful,
    vmaf: Option<VmafScorer>,
    frames: u64,
    /// Reference frames left over after the stream ended (Exact pairing).
    ref_left: u64,
    /// Distorted frames left over after the reference ended (Exact pairing).
    dist_left: u64,
    ended: bool,
    /// Taken out of the scoring (another offset was found for it while it was scored).
    withdrawn: bool,
    error: Option<CompareError>,
    decode: (f64, f64),
    /// Of that, the wall and CPU seconds spent on the scoring thread.
    decoded_here: (f64, f64),
}

impl Stream<'_> {
    /// Moves to the distorted picture paired with the reference frame `r`.
    fn next(&mut self, r: &Pic) -> Result<Next, CompareError> {
        match &mut self.cursor {
            Cursor::Exact => match self.decoding.as_mut().expect("a running decoder").recv() {
                Some(Ok(d)) => {
                    self.current = Some(d);
                    Ok(Next::Pair)
                }
                Some(Err(e)) => Err(e),
                None => Ok(Next::End),
            },
            Cursor::Timestamps(t) => {
                let decoding = self.decoding.as_mut().expect("a running decoder");
                let mut next_dist = || decoding.recv().transpose();
                if t.cur.is_none() {
                    match next_dist()? {
                        Some(d) => {
                            t.pairing.start_distorted(d.pts_s);
                            t.cur = Some(d);
                        }
                        None => return Ok(Next::End),
                    }
                }
                loop {
                    if t.ahead.is_none() && !t.dist_done {
                        match next_dist()? {
                            Some(d) => t.ahead = Some(d),
                            None => t.dist_done = true,
                        }
                    }
                    match &t.ahead {
                        Some(a) if t.pairing.step(r.pts_s, a.pts_s) == Step::Advance => {
                            t.cur = t.ahead.take();
                        }
                        _ => break,
                    }
                }
                let d = t.cur.as_ref().expect("a distorted frame");
                if t.dist_done && t.pairing.past_end(r.pts_s, d.pts_s, t.dist_frame_s) {
                    return Ok(Next::End);
                }
                // Distorted frames passed over without being on screen.
                if let Some(prev) = t.shown_upto {
                    self.alignment.skipped += d.index.saturating_sub(prev + 1);
                }
                t.shown_upto = Some(t.shown_upto.map_or(d.index, |p| p.max(d.index)));
                if t.last_used == Some(d.index) {
                    self.alignment.repeated += 1;
                } else {
                    self.alignment.matched += 1;
                }
                t.last_used = Some(d.index);
                Ok(Next::Pair)
            }
        }
    }

    /// The stream ended (or failed) at a reference frame: notes what was left over.
    fn end(&mut self) {
        self.ended = true;
        match self.cursor {
            Cursor::Exact => self.ref_left += 1,
            Cursor::Timestamps(_) => self.alignment.unscored += 1,
        }
    }

    /// Stops the decoder and keeps its wall and CPU seconds.
    fn stop_decoder(&mut self) {
        if let Some(mut decoding) = self.decoding.take() {
            if matches!(self.cursor, Cursor::Exact) && !self.ended && self.error.is_none() {
                self.dist_left = decoding.count_rest();
            }
            self.decoded_here = decoding.here();
            self.decode = decoding.finish();
        }
    }
}

/// The window of the offset search `options` asks for on these two files: under
/// [`Align::Auto`] with a window, when they have the same frame rate (timestamps pair the
/// others).
fn search_window(
    options: &CompareOptions,
    ref_info: &rdbench_transcode::input::VideoInfo,
    dist_info: &rdbench_transcode::input::VideoInfo,
) -> Option<u32> {
    let same_rate =
        (dist_info.rate.fps() - ref_info.rate.fps()).abs() <= 0.005 * ref_info.rate.fps();
    match options.align {
        Align::Auto { window } if window > 0 && same_rate => Some(window),
        _ => None,
    }
}

/// The offset of `distorted` against `reference` when `options` asks for one to be searched
/// beforehand (0 otherwise), with what the search found.
fn offset_of(
    reference: &Path,
    distorted: &Path,
    window: Option<u32>,
    dist_opts: &ReaderOptions,
    options: &CompareOptions,
    alignment: &mut Alignment,
) -> Result<i64, CompareError> {
    Ok(match (options.align, window) {
        (Align::Timestamps { offset }, _) => offset,
        (Align::Auto { .. }, Some(window)) => {
            match search_offset(
                reference,
                distorted,
                dist_opts,
                window,
                options.decoder_threads,
            )? {
                Some((o, psnr)) => {
                    alignment.searched = true;
                    alignment.search_psnr = Some(psnr);
                    o
                }
                None => 0,
            }
        }
        _ => 0,
    })
}

/// Opens `distorted` for scoring against a reference of `ref_info`: its pictures converted to
/// the reference's size and pixel format (bit depth included), paired as `options` says after
/// skipping `offset` frames of it when positive (given, or searched here). With `thumbs`, a
/// search that `options` asks for is left to the caller: the stream starts at offset 0 and its
/// decoder makes the thumbnails of its first pictures as it goes (the last value returned says
/// whether it does).
fn open_stream<'p>(
    reference: &Path,
    distorted: &'p Path,
    ref_info: &rdbench_transcode::input::VideoInfo,
    options: &CompareOptions,
    metrics: &[Metric],
    vmaf: Option<VmafScorer>,
    queue: usize,
    thumbs: Option<ThumbsTo>,
) -> Result<(Stream<'p>, i64, bool), CompareError> {
    let dist_opts = ReaderOptions {
        size: Some((ref_info.width, ref_info.height)),
        pix_fmt: Some(rdbench_transcode::media::pix_fmt_name(ref_info.pix_fmt)),
        scale: options.scale,
        threads: options.decoder_threads,
    };
    // Opened once: what it declares decides the search, and it is then read from the start.
    let source = Source::open(
        distorted,
        dist_opts.clone(),
        luma_only(metrics, &options.vmaf_features),
    )?;
    let dist_info = source.info().clone();
    let mut alignment = Alignment {
        converted_from_depth: (dist_info.bit_depth != ref_info.bit_depth)
            .then_some(dist_info.bit_depth),
        ..Default::default()
    };
    let window = search_window(options, ref_info, &dist_info);
    let thumbs = thumbs.filter(|_| window.is_some());
    let speculating = thumbs.is_some();
    let offset = if speculating {
        0
    } else {
        offset_of(
            reference,
            distorted,
            window,
            &dist_opts,
            options,
            &mut alignment,
        )?
    };
    alignment.offset = offset;
    alignment.by_timestamps = options.align != Align::Exact;
    let dist_limit = match options.align {
        Align::Exact => options.frames,
        _ => None,
    };
    let (mut decoding, _) =
        spawn_decoder(source, queue, dist_limit, thumbs, options.decode_inline)?;
    for _ in 0..offset.max(0) {
        if decoding.recv().is_none() {
            break;
        }
    }
    let cursor = match options.align {
        Align::Exact => Cursor::Exact,
        _ => Cursor::Timestamps(Box::new(TimestampCursor {
            pairing: Pairing::new(ref_info.rate.fps()),
            dist_frame_s: 1.0 / dist_info.rate.fps().max(1e-3),
            cur: None,
            ahead: None,
            dist_done: false,
            last_used: None,
            shown_upto: None,
        })),
    };
    let stream = Stream {
        path: distorted,
        decoding: Some(decoding),
        cursor,
        alignment,
        current: None,
        scores: Scores::default(),
        stateful: Stateful {
            xpsnr: None,
            fps: Fps::new(
                ref_info.rate.num.max(1) as u32,
                ref_info.rate.den.max(1) as u32,
            )
            .unwrap_or(Fps::new(25, 1).expect("a valid rate")),
            ssimulacra2: metrics
                .contains(&Metric::Ssimulacra2)
                .then(Ssimulacra2::default),
        },
        vmaf,
        frames: 0,
        ref_left: 0,
        dist_left: 0,
        ended: false,
        withdrawn: false,
        error: None,
        decode: (0.0, 0.0),
        decoded_here: (0.0, 0.0),
    };
    Ok((stream, offset, speculating))
}

/// libvmaf features known to read the luma alone.
const LUMA_FEATURES: [&str; 4] = ["adm", "vif", "motion", "cambi"];

/// Whether the pictures' chroma may go unread: no metric asked for reads it, and every extra
/// libvmaf feature is one of [`LUMA_FEATURES`].
fn luma_only(metrics: &[Metric], vmaf_features: &[String]) -> bool {
    !metrics.iter().any(|m| m.reads_chroma())
        && vmaf_features
            .iter()
            .all(|f| LUMA_FEATURES.contains(&f.as_str()))
}

/// The metrics asked for, with those they are computed from, and the libvmaf features they
/// need.
fn metric_plan(options: &CompareOptions) -> (Vec<Metric>, Vec<String>) {
    let mut metrics = options.metrics.clone();
    for m in &options.metrics {
        if let Some(base) = m.needs() {
            if !metrics.contains(&base) {
                metrics.push(base);
            }
        }
    }
    let mut vmaf_features = options.vmaf_features.clone();
    for f in metrics.iter().filter_map(|m| m.libvmaf_feature()) {
        if !vmaf_features.iter().any(|x| x == f) {
            vmaf_features.push(f.to_string());
        }
    }
    (metrics, vmaf_features)
}

/// A VMAF scorer for one stream, when VMAF or a libvmaf feature is asked for.
fn vmaf_scorer(
    options: &CompareOptions,
    metrics: &[Metric],
    vmaf_features: &[String],
) -> Result<Option<VmafScorer>, CompareError> {
    let with_vmaf = metrics.contains(&Metric::Vmaf);
    if !with_vmaf && vmaf_features.is_empty() {
        return Ok(None);
    }
    Ok(Some(VmafScorer::new(VmafConfig {
        models: if with_vmaf {
            vec![options.vmaf_model]
        } else {
            Vec::new()
        },
        features: vmaf_features.to_vec(),
        n_threads: options.vmaf_threads,
        n_subsample: options.vmaf_subsample.max(1),
        native: options.vmaf_native,
        ..Default::default()
    })?))
}

/// Compares `distorted` against `reference`.
///
/// Under [`Align::Auto`], the scoring starts at offset 0 while the decoders make the
/// thumbnails of their first frames for the offset search; the search runs as soon as they are
/// there. Aligned files (the usual case) are thus decoded once. When the search finds another
/// offset, the scoring stops there and starts again at that offset, so the result is the one a
/// search made beforehand gives.
pub fn compare(
    reference: &Path,
    distorted: &Path,
    options: &CompareOptions,
) -> Result<Comparison, CompareError> {
    score_files(reference, &[distorted], options, options.queue)
        .pop()
        .expect("one stream, one result")
}

/// Streams a group scores together at most (each has a decoder thread and its queue).
pub const GROUP_LIMIT: usize = 12;

/// Compares several distorted files against one reference, as [`compare`] compares each, with
/// the reference decoded once and its share of the metrics' work done once per frame for all
/// of them: the distorted streams are decoded in lockstep, each paired with the reference by
/// its own alignment state, so memory stays bounded (a few pictures per stream). The results
/// come in the order of `distorted`; one stream's failure is its own.
///
/// Offsets are per stream. Under [`Align::Auto`] each stream's is searched on its own while
/// the group is scored, as [`compare`] does; a stream found at another offset leaves the group
/// and is scored alone at it. A given negative offset skips frames of the reference, so then
/// each stream is scored alone.
///
/// Scoring CPU and the reference's decoding CPU are shared out evenly among the streams.
pub fn compare_group(
    reference: &Path,
    distorted: &[PathBuf],
    options: &CompareOptions,
) -> Vec<Result<Comparison, CompareError>> {
    let per_pair = matches!(options.align, Align::Timestamps { offset } if offset < 0);
    if per_pair || distorted.len() < 2 {
        return distorted
            .iter()
            .map(|d| compare(reference, d, options))
            .collect();
    }
    if distorted.len() > GROUP_LIMIT {
        return distorted
            .chunks(GROUP_LIMIT)
            .flat_map(|c| compare_group(reference, c, options))
            .collect();
    }
    let paths: Vec<&Path> = distorted.iter().map(PathBuf::as_path).collect();
    score_files(reference, &paths, options, 2)
}

/// Thumbnails on their way from a decoder: `got` is None until they arrive, then None inside
/// when the decoder could not make them.
struct Arrival {
    rx: std::sync::mpsc::Receiver<Vec<Thumb>>,
    got: Option<Option<Vec<Thumb>>>,
}

impl Arrival {
    fn poll(&mut self) -> Option<&Option<Vec<Thumb>>> {
        if self.got.is_none() {
            match self.rx.try_recv() {
                Ok(t) => self.got = Some(Some(t)),
                Err(std::sync::mpsc::TryRecvError::Disconnected) => self.got = Some(None),
                Err(std::sync::mpsc::TryRecvError::Empty) => {}
            }
        }
        self.got.as_ref()
    }
}

/// The offset search made while the streams are scored at offset 0 (see [`compare`]).
struct SearchWhileScoring {
    window: u32,
    reference: Arrival,
    /// Per stream scored: its thumbnails and, once both sides' are there, the offset found
    /// (None inside: no offset could be found). None for a stream not searched this way.
    streams: Vec<Option<(Arrival, Option<Option<(i64, f64)>>)>>,
}

impl SearchWhileScoring {
    /// Searches the streams whose thumbnails (and the reference's) have all arrived; returns
    /// those found at another offset than 0.
    fn decide(&mut self) -> Vec<usize> {
        let mut moved = Vec::new();
        let Some(r) = self.reference.poll() else {
            return moved;
        };
        for (i, slot) in self.streams.iter_mut().enumerate() {
            let Some((arrival, decided @ None)) = slot else {
                continue;
            };
            let Some(d) = arrival.poll() else {
                continue;
            };
            let found = match (r, d) {
                (Some(r), Some(d)) => offset_from_thumbs(r, d, self.window),
                _ => None,
            };
            *decided = Some(found);
            if found.is_some_and(|(o, _)| o != 0) {
                moved.push(i);
            }
        }
        moved
    }

    /// Between reference frames: a stream found at another offset stops being scored (its
    /// decoder stopped); false when no stream is left.
    fn go_on(&mut self, streams: &mut [Stream<'_>]) -> bool {
        for i in self.decide() {
            let s = &mut streams[i];
            s.ended = true;
            s.withdrawn = true;
            s.stop_decoder();
        }
        !streams.iter().all(|s| s.withdrawn)
    }

    /// Each stream's offset found, once the scoring is over: the decoders have all finished
    /// by then, so every side has sent its thumbnails or given up (a clip shorter than the
    /// search's frames ends before they are sent).
    fn finish(mut self) -> Vec<Option<(i64, f64)>> {
        self.decide();
        self.streams
            .into_iter()
            .map(|s| s.and_then(|(_, d)| d.flatten()))
            .collect()
    }
}

/// The window of a search made while scoring, when `options` asks for one: the search's frames
/// must all be decoded, which a frame limit below them would prevent (then each stream's
/// offset is searched beforehand).
fn window_while_scoring(options: &CompareOptions) -> Option<u32> {
    match options.align {
        Align::Auto { window }
            if window > 0
                && options
                    .frames
                    .is_none_or(|n| n >= window as u64 + SEARCH_PAIRS as u64) =>
        {
            Some(window)
        }
        _ => None,
    }
}

/// Scores `distorted` files against `reference`, decoded once, with `queue` pictures in flight
/// per file: what [`compare`] and [`compare_group`] do. The results come in the order of
/// `distorted`.
fn score_files(
    reference: &Path,
    distorted: &[&Path],
    options: &CompareOptions,
    queue: usize,
) -> Vec<Result<Comparison, CompareError>> {
    let failed_all = |e: CompareError| -> Vec<Result<Comparison, CompareError>> {
        let msg = e.to_string();
        let mut out = vec![Err(e)];
        out.extend((1..distorted.len()).map(|_| {
            Err(CompareError::Shared {
                message: msg.clone(),
            })
        }));
        out
    };
    let ref_opts = ReaderOptions {
        threads: options.decoder_threads,
        ..Default::default()
    };
    let window = window_while_scoring(options);
    let want = window.map(|w| w as usize + SEARCH_PAIRS);
    let (ref_thumbs, ref_rx) = want.map(ThumbsTo::new).unzip();
    let (metrics, vmaf_features) = metric_plan(options);
    let (mut ref_dec, ref_info) =
        match Source::open(reference, ref_opts, luma_only(&metrics, &vmaf_features)).and_then(
            |source| {
                spawn_decoder(
                    source,
                    options.queue,
                    options.frames,
                    ref_thumbs,
                    options.decode_inline,
                )
            },
        ) {
            Ok(x) => x,
            Err(e) => return failed_all(e),
        };
    // Streams that cannot even be opened fail alone. A stream that starts before the reference
    // skips reference frames: alone, that is done here; in a group, it is scored alone.
    let mut results: Vec<Option<Result<Comparison, CompareError>>> = Vec::new();
    let (mut ok, mut positions, mut arrivals) = (Vec::new(), Vec::new(), Vec::new());
    for (i, &d) in distorted.iter().enumerate() {
        let (thumbs, rx) = want.map(ThumbsTo::new).unzip();
        let opened = vmaf_scorer(options, &metrics, &vmaf_features).and_then(|vmaf| {
            open_stream(
                reference, d, &ref_info, options, &metrics, vmaf, queue, thumbs,
            )
        });
        match opened {
            Ok((s, offset, _)) if offset < 0 && distorted.len() > 1 => {
                let found = s.alignment.clone();
                drop(s);
                let alone = CompareOptions {
                    align: Align::Timestamps { offset },
                    ..options.clone()
                };
                results.push(Some(compare(reference, d, &alone).map(|mut c| {
                    c.alignment.searched = found.searched;
                    c.alignment.search_psnr = found.search_psnr;
                    c
                })));
            }
            Ok((s, offset, speculating)) => {
                for _ in 0..(-offset).max(0) {
                    if ref_dec.recv().is_none() {
                        break;
                    }
                }
                positions.push(i);
                ok.push(s);
                arrivals.push(
                    rx.filter(|_| speculating)
                        .map(|rx| (Arrival { rx, got: None }, None)),
                );
                results.push(None);
            }
            Err(e) => results.push(Some(Err(e))),
        }
    }
    let mut search = match (window, ref_rx) {
        (Some(window), Some(rx)) if arrivals.iter().any(Option::is_some) => {
            Some(SearchWhileScoring {
                window,
                reference: Arrival { rx, got: None },
                streams: arrivals,
            })
        }
        _ => None,
    };
    let mut go_on = |streams: &mut [Stream<'_>]| search.as_mut().is_none_or(|s| s.go_on(streams));
    let scored = score_streams(
        reference,
        ref_dec,
        &ref_info,
        ok,
        options,
        &metrics,
        &vmaf_features,
        Some(&mut go_on),
    );
    let found = match search {
        Some(s) => s.finish(),
        None => vec![None; scored.len()],
    };
    for ((i, r), found) in positions.into_iter().zip(scored).zip(found) {
        let searched = |mut c: Comparison, psnr: f64| {
            c.alignment.searched = true;
            c.alignment.search_psnr = Some(psnr);
            c
        };
        results[i] = Some(match found {
            Some((0, psnr)) => r.map(|c| searched(c, psnr)),
            // Scored again, alone, at the offset found.
            Some((offset, psnr)) => {
                let again = CompareOptions {
                    align: Align::Timestamps { offset },
                    ..options.clone()
                };
                compare(reference, distorted[i], &again).map(|c| searched(c, psnr))
            }
            None => r,
        });
    }
    results
        .into_iter()
        .map(|r| r.expect("every stream has a result"))
        .collect()
}

/// Scores every frame of `streams` against the reference decoded by `ref_dec`, the streams in
/// lockstep, and assembles each stream's [`Comparison`]. `go_on`, asked before each reference
/// frame, may take streams out (marked `withdrawn`, their results for the caller to throw
/// away) or stop the scoring early (false: nothing left to score).
#[allow(clippy::too_many_arguments)]
fn score_streams(
    reference: &Path,
    mut ref_dec: Decoding,
    ref_info: &rdbench_transcode::input::VideoInfo,
    mut streams: Vec<Stream<'_>>,
    options: &CompareOptions,
    metrics: &[Metric],
    vmaf_features: &[String],
    mut go_on: Option<&mut dyn FnMut(&mut [Stream<'_>]) -> bool>,
) -> Vec<Result<Comparison, CompareError>> {
    let (score_start, score_cpu0) = (Instant::now(), cpu::thread_cpu_s());
    // Decoding done on this thread before the scoring, to tell it from what is done during it.
    let decoded_before = streams
        .iter()
        .filter_map(|s| s.decoding.as_ref().map(Decoding::here))
        .fold(ref_dec.here(), |a, b| (a.0 + b.0, a.1 + b.1));
    let mut ref_error: Option<String> = None;
    let mut ref_frames = 0u64;
    let mut stopped = false;
    loop {
        if streams.iter().all(|s| s.ended || s.error.is_some()) {
            break;
        }
        if options.frames.is_some_and(|n| ref_frames >= n) {
            break;
        }
        if go_on.as_mut().is_some_and(|g| !g(&mut streams)) {
            stopped = true;
            break;
        }
        let r = match ref_dec.recv() {
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                ref_error = Some(e.to_string());
                break;
            }
            None => break,
        };
        ref_frames += 1;
        let mut live = Vec::with_capacity(streams.len());
        for (i, s) in streams.iter_mut().enumerate() {
            if s.ended || s.error.is_some() {
                if s.ended {
                    s.end();
                }
                continue;
            }
            match s.next(&r) {
                Ok(Next::Pair) => live.push(i),
                Ok(Next::End) => s.end(),
                Err(e) => s.error = Some(e),
            }
        }
        if live.is_empty() {
            continue;
        }
        if r.bit_depth() == 8 {
            score_frame::<u8>(reference, &r, &mut streams, &live, metrics);
        } else {
            score_frame::<u16>(reference, &r, &mut streams, &live, metrics);
        }
    }
    // The reference frames no stream took.
    let ref_rest = if ref_error.is_none() && !stopped {
        ref_dec.count_rest()
    } else {
        0
    };
    for s in &mut streams {
        if s.ended {
            match s.cursor {
                Cursor::Exact => s.ref_left += ref_rest,
                Cursor::Timestamps(_) => s.alignment.unscored += ref_rest,
            }
        }
        s.stop_decoder();
    }
    let decoded_here = streams
        .iter()
        .map(|s| s.decoded_here)
        .fold(ref_dec.here(), |a, b| (a.0 + b.0, a.1 + b.1));
    let (rw, rc) = ref_dec.finish();
    let n = streams.len().max(1) as f64;
    let score_wall = score_start.elapsed().as_secs_f64() - (decoded_here.0 - decoded_before.0);
    let score_cpu = cpu::thread_cpu_s() - score_cpu0 - (decoded_here.1 - decoded_before.1);
    streams
        .into_iter()
        .map(|s| {
            if let Some(e) = s.error {
                return Err(e);
            }
            if let Some(e) = &ref_error {
                return Err(CompareError::Shared { message: e.clone() });
            }
            let mut alignment = s.alignment;
            alignment.scored = s.frames;
            if matches!(s.cursor, Cursor::Exact) {
                alignment.matched = s.frames;
            }
            if s.ref_left > 0 || s.dist_left > 0 {
                return Err(CompareError::FrameCount {
                    reference: reference.to_path_buf(),
                    reference_frames: s.frames + s.ref_left,
                    distorted: s.path.to_path_buf(),
                    distorted_frames: s.frames + s.dist_left,
                });
            }
            if s.frames == 0 {
                return Err(CompareError::Empty {
                    path: reference.to_path_buf(),
                });
            }
            let timing = Timing {
                decode_wall_s: rw.max(s.decode.0),
                decode_cpu_s: rc / n + s.decode.1,
                distorted_decode_cpu_s: s.decode.1,
                score_wall_s: score_wall,
                score_cpu_s: score_cpu / n,
            };
            assemble(
                s.scores,
                s.vmaf,
                s.frames,
                alignment,
                timing,
                metrics,
                vmaf_features,
                ref_info,
            )
        })
        .collect()
}

/// Scores one reference picture against the picture each of the `live` streams paired with
/// it; VMAF of them all together ([`VmafScorer::push_group`]).
fn score_frame<T: PictureSample>(
    reference: &Path,
    r: &Pic,
    streams: &mut [Stream<'_>],
    live: &[usize],
    metrics: &[Metric],
) {
    let rv = match r.view::<T>(reference) {
        Ok(v) => v,
        Err(e) => {
            let msg = e.to_string();
            for &i in live {
                streams[i].error = Some(CompareError::Shared {
                    message: msg.clone(),
                });
            }
            return;
        }
    };
    // Take the paired pictures out of the streams for the duration of the frame.
    let mut pictures: Vec<(usize, Pic)> = Vec::with_capacity(live.len());
    for &i in live {
        let p = match &mut streams[i].cursor {
            Cursor::Exact => streams[i].current.take(),
            Cursor::Timestamps(t) => t.cur.take(),
        };
        if let Some(p) = p {
            pictures.push((i, p));
        }
    }
    {
        let mut views: Vec<(usize, FrameView<'_, T>)> = Vec::with_capacity(pictures.len());
        for (i, p) in &pictures {
            let s = &mut streams[*i];
            match p.view::<T>(s.path) {
                Ok(v) => views.push((*i, v)),
                Err(e) => s.error = Some(e),
            }
        }
        let mut with_vmaf: Vec<(usize, &FrameView<'_, T>)> = Vec::new();
        for (i, dv) in &views {
            let s = &mut streams[*i];
            s.frames += 1;
            if let Err(e) = score_pair(rv, *dv, metrics, None, &mut s.stateful, &mut s.scores) {
                s.error = Some(e);
                continue;
            }
            if s.vmaf.is_some() {
                with_vmaf.push((*i, dv));
            }
        }
        if !with_vmaf.is_empty() {
            // Every member's scorer, in the order of `with_vmaf` (ascending stream index).
            let mut scorers: Vec<&mut VmafScorer> = streams
                .iter_mut()
                .enumerate()
                .filter(|(i, _)| with_vmaf.iter().any(|(j, _)| j == i))
                .filter_map(|(_, s)| s.vmaf.as_mut())
                .collect();
            let dvs: Vec<&FrameView<'_, T>> = with_vmaf.iter().map(|(_, d)| *d).collect();
            if let Err(e) = VmafScorer::push_group(&mut scorers, &rv, &dvs) {
                drop(scorers);
                let msg = e.to_string();
                for (k, (i, _)) in with_vmaf.iter().enumerate() {
                    streams[*i].error = Some(if k == 0 {
                        CompareError::Vmaf(e.clone())
                    } else {
                        CompareError::Shared {
                            message: msg.clone(),
                        }
                    });
                }
            }
        }
    }
    // Give the pictures back: the timestamp cursor keeps its current picture for the next
    // reference frame (a repeated frame).
    for (i, p) in pictures {
        match &mut streams[i].cursor {
            Cursor::Exact => {}
            Cursor::Timestamps(t) => t.cur = Some(p),
        }
    }
}

/// Decode and scoring times of one stream.
struct Timing {
    decode_wall_s: f64,
    decode_cpu_s: f64,
    distorted_decode_cpu_s: f64,
    score_wall_s: f64,
    score_cpu_s: f64,
}

/// A stream's [`Comparison`] from its per-frame scores.
#[allow(clippy::too_many_arguments)]
fn assemble(
    scores: Scores,
    vmaf: Option<VmafScorer>,
    frames: u64,
    alignment: Alignment,
    timing: Timing,
    metrics: &[Metric],
    vmaf_features: &[String],
    ref_info: &rdbench_transcode::input::VideoInfo,
) -> Result<Comparison, CompareError> {
    let with_vmaf = metrics.contains(&Metric::Vmaf);
    let mut per_frame = PerFrame::new();
    let mut pooled = BTreeMap::new();
    let mut vmaf_frames = Vec::new();
    let mut vmaf_path = None;
    if !scores.psnr.is_empty() {
        let cols: [(&str, Box<dyn Fn(&PsnrFrame) -> f64>); 5] = [
            ("psnr_y", Box::new(|f: &PsnrFrame| f.psnr[0])),
            ("psnr_u", Box::new(|f: &PsnrFrame| f.psnr[1])),
            ("psnr_v", Box::new(|f: &PsnrFrame| f.psnr[2])),
            ("psnr_yuv", Box::new(|f: &PsnrFrame| f.yuv_6_1_1())),
            ("psnr_yuv_14_1_1", Box::new(|f: &PsnrFrame| f.yuv_14_1_1())),
        ];
        let summary = pool_psnr(&scores.psnr);
        for (i, (name, get)) in cols.iter().enumerate() {
            let series: Vec<f64> = scores.psnr.iter().map(get).collect();
            let global = summary.as_ref().map(|s| match i {
                0..=2 => s.global_psnr[i],
                3 => s.global_yuv_6_1_1,
                _ => s.global_yuv_14_1_1,
            });
            if let Some(p) = Pooled::from_series(&series) {
                pooled.insert(
                    name.to_string(),
                    PooledEntry {
                        pooled: p,
                        global,
                        sequence: None,
                    },
                );
            }
            per_frame.insert(name.to_string(), series);
        }
    }
    if metrics.contains(&Metric::Apsnr) {
        // The PSNR of the mean MSE, beside the per-frame PSNRs it summarises.
        for plane in ["y", "u", "v"] {
            if let Some(e) = pooled.get(&format!("psnr_{plane}")).cloned() {
                let sequence = e.global;
                pooled.insert(
                    format!("apsnr_{plane}"),
                    PooledEntry {
                        sequence,
                        global: None,
                        ..e
                    },
                );
            }
        }
    }
    let ms_ssim_db = |v: f64| -10.0 * (1.0 - v).log10();
    if metrics.contains(&Metric::MsSsimDb) && !scores.ms_ssim.is_empty() {
        let series: Vec<f64> = scores.ms_ssim.iter().map(|&v| ms_ssim_db(v)).collect();
        if let Some(mut e) = PooledEntry::of(&series) {
            let mean = scores.ms_ssim.iter().sum::<f64>() / scores.ms_ssim.len() as f64;
            e.sequence = Some(ms_ssim_db(mean));
            pooled.insert("ms_ssim_db".into(), e);
        }
        per_frame.insert("ms_ssim_db".into(), series);
    }
    for (name, series) in [
        ("ssim", scores.ssim),
        ("ms_ssim", scores.ms_ssim),
        ("ssimulacra2", scores.ssimulacra2),
    ] {
        if !series.is_empty() {
            if let Some(e) = PooledEntry::of(&series) {
                pooled.insert(name.to_string(), e);
            }
            per_frame.insert(name.to_string(), series);
        }
    }
    if let Some(summary) = pool_xpsnr(&scores.xpsnr) {
        // Per plane and 6:1:1-weighted; the sequence figure is the filter's own pooling.
        let weighted = |x: [f64; 3]| (6.0 * x[0] + x[1] + x[2]) / 8.0;
        let columns: [(&str, Box<dyn Fn([f64; 3]) -> f64>); 4] = [
            ("xpsnr_y", Box::new(|x| x[0])),
            ("xpsnr_u", Box::new(|x| x[1])),
            ("xpsnr_v", Box::new(|x| x[2])),
            ("xpsnr_yuv", Box::new(weighted)),
        ];
        for (name, get) in &columns {
            let series: Vec<f64> = scores.xpsnr.iter().map(|f| get(f.xpsnr)).collect();
            if let Some(mut e) = PooledEntry::of(&series) {
                e.sequence = Some(get(summary.xpsnr));
                pooled.insert(name.to_string(), e);
            }
            per_frame.insert(name.to_string(), series);
        }
    }
    if let Some(v) = vmaf {
        let res = v.finish()?;
        if with_vmaf {
            if let Some(e) = PooledEntry::of(&res.per_frame) {
                pooled.insert("vmaf".to_string(), e);
            }
            vmaf_path = Some(res.path.to_string());
            per_frame.insert("vmaf".to_string(), res.per_frame.clone());
        }
        vmaf_frames = res.frame_indices.clone();
        for m in metrics.iter().filter(|m| m.libvmaf_feature().is_some()) {
            let f = m.libvmaf_feature().unwrap_or_default();
            if !res.features.keys().any(|k| k.contains(f)) {
                return Err(CompareError::NoValue {
                    metric: m.name(),
                    width: ref_info.width,
                    height: ref_info.height,
                    hint: if *m == Metric::Cambi {
                        " (CAMBI needs a width or height of at least 320)"
                    } else {
                        ""
                    },
                });
            }
        }
        for name in vmaf_features {
            for (key, series) in res
                .features
                .iter()
                .filter(|(k, _)| k.starts_with(name.as_str()) || k.contains(name.as_str()))
            {
                if let Some(e) = PooledEntry::of(series) {
                    pooled.insert(key.clone(), e);
                }
                per_frame.insert(key.clone(), series.clone());
            }
        }
    }
    Ok(Comparison {
        frames,
        pooled,
        per_frame,
        vmaf_frames,
        decode_wall_s: timing.decode_wall_s,
        decode_cpu_s: timing.decode_cpu_s,
        distorted_decode_cpu_s: timing.distorted_decode_cpu_s,
        score_wall_s: timing.score_wall_s,
        score_cpu_s: timing.score_cpu_s,
        alignment,
        vmaf_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chroma_goes_unread_only_when_nothing_asked_for_reads_it() {
        let plan = |metrics: &[Metric], features: &[&str]| {
            let (m, f) = metric_plan(&CompareOptions {
                metrics: metrics.to_vec(),
                vmaf_features: features.iter().map(|f| f.to_string()).collect(),
                ..Default::default()
            });
            luma_only(&m, &f)
        };
        assert!(plan(&[Metric::Vmaf], &[]));
        assert!(plan(&[Metric::Vmaf, Metric::Ssim, Metric::MsSsimDb], &[]));
        assert!(plan(&[Metric::Cambi], &[]));
        assert!(plan(&[Metric::Vmaf], &["motion", "adm"]));
        for chroma in [
            Metric::Psnr,
            Metric::Apsnr,
            Metric::Xpsnr,
            Metric::Ssimulacra2,
            Metric::Ciede2000,
            Metric::PsnrHvs,
        ] {
            assert!(!plan(&[Metric::Vmaf, chroma], &[]), "{}", chroma.name());
        }
        // An extra libvmaf feature not known to read the luma alone (libvmaf's PSNR reads all
        // three planes).
        assert!(!plan(&[Metric::Vmaf], &["psnr"]));
        assert!(!plan(&[Metric::Vmaf], &["cambi:full_ref=true"]));
    }
}
