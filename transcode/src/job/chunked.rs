//! Chunked parallel transcoding: the input split into chunks (at source keyframes or scene
//! cuts), each chunk of each output encoded by a job of its own (its video only, cut on the
//! decoded frames, its encoder starting with a keyframe), several at once, then every output
//! joined from its chunks without re-encoding, with its audio encoded once over the whole input.
//!
//! A chunk's file and its record (`NNNNN.mp4`, `NNNNN.json`) are written atomically in a folder
//! beside the output (`OUTPUT.chunks/`), so a killed job resumes where it stopped, a slice
//! `K/N` of the chunks can run on another machine, and a join can run anywhere the folders are.
//! The folder is removed once the output is committed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use ff::Rescale;
use ffmpeg_next as ff;

use super::plan::{AudioPlan, Job, OutputPlan};
use super::report::{JobReport, OutputReport, Progress, SourceSummary};
use super::{audio_branch, clone_error, mux_setup, AudioBranch, NoProgress};
use crate::chunk::{
    fingerprint, in_band_parameter_sets, scene_score, split, thumbnail, Chunk, ChunkRecord,
    Chunking, Slice,
};
use crate::error::{Error, Result};
use crate::input::{self, AudioDecode, AudioInfo, InputSource, VideoDecode, VideoInfo};
use crate::media::{self, MuxItem, MuxPacket, VideoFrame};
use crate::mux::{Container, Muxer};
use crate::task::{self, Mode, NullSink, PipelineState, Shared, Sink, TaskStats};

/// What part of a chunked job a process does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Everything: encode the chunks not already made, join every output.
    Whole,
    /// Encode the chunks of one slice and stop (the outputs are joined by a later `Join`).
    Slice(Slice),
    /// Join every output from chunks made before (by slices, possibly on other machines).
    Join,
}

/// Runs a whole chunked job.
pub(super) fn run(job: &Job, c: &Chunking, progress: &dyn Progress) -> Result<JobReport> {
    run_part(job, c, Part::Whole, progress)
}

/// Runs `part` of a chunked job.
pub(super) fn run_part(
    job: &Job,
    c: &Chunking,
    part: Part,
    progress: &dyn Progress,
) -> Result<JobReport> {
    let start = Instant::now();
    let cpu0 = crate::cpu::process_cpu_s();
    let path = job.input.display_path();
    let file = match &job.input {
        InputSource::File(f) => f.clone(),
        _ => {
            return Err(Error::Spec {
                field: "execution.chunked".into(),
                message: format!(
                    "{} is not a file: chunks need an input they can seek in",
                    path.display()
                ),
            })
        }
    };
    let (vinfo, ainfo, chunks, scan) = split_input(job, c, &file)?;
    let src_tb = vinfo.time_base;

    let mut reports: BTreeMap<usize, OutputReport> = BTreeMap::new();
    for (i, p, e) in &job.rejected {
        reports.insert(
            *i,
            OutputReport::failed(*i, p.clone(), String::new(), clone_error(e)),
        );
    }
    // Every output's chunk folder, and what each chunk of it needs.
    let mut failed: BTreeMap<usize, Error> = BTreeMap::new();
    let mut todo: Vec<Vec<usize>> = vec![Vec::new(); chunks.len()];
    let range = match part {
        Part::Whole => 0..chunks.len(),
        Part::Slice(s) => s.range(chunks.len()),
        Part::Join => 0..0,
    };
    for (o, p) in job.outputs.iter().enumerate() {
        let dir = chunk_dir(&p.path);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            failed.insert(p.index, Error::io(&dir, "creating the chunk folder", e));
            continue;
        }
        for k in range.clone() {
            let key = chunk_key(&file, p, &chunks[k], &dir);
            if load_record(&dir, k)
                .map_or(true, |r| r.key != key || !dir.join(chunk_file(k)).is_file())
            {
                todo[k].push(o);
            }
        }
    }
    let frames_todo: u64 = todo
        .iter()
        .zip(&chunks)
        .filter(|(t, _)| !t.is_empty())
        .map(|(_, c)| c.frames)
        .sum();
    progress.pass_started(1, 1, Some(frames_todo));

    // Encode the chunks that need it, `workers` at a time.
    let work: Vec<usize> = (0..chunks.len()).filter(|&k| !todo[k].is_empty()).collect();
    let errors = encode_all(job, &work, chunks.len(), c.workers, progress, |k, slot| {
        encode_chunk(job, &file, &chunks[k], &todo[k], slot)
    });
    for (i, e) in errors {
        failed.entry(i).or_insert(e);
    }

    // Join (or, for a slice, report what it made).
    for p in &job.outputs {
        let dir = chunk_dir(&p.path);
        if let Some(e) = failed.remove(&p.index) {
            reports.insert(
                p.index,
                OutputReport::failed(p.index, Some(p.path.clone()), p.codec.clone(), e),
            );
            continue;
        }
        let report = match part {
            Part::Slice(_) => {
                let records: Vec<ChunkRecord> =
                    range.clone().filter_map(|k| load_record(&dir, k)).collect();
                let mut r = merged_report(p, &records, Vec::new());
                r.path = Some(dir.clone());
                r
            }
            Part::Whole | Part::Join => match gather(&file, p, &chunks, &dir) {
                Err(e) => OutputReport::failed(p.index, Some(p.path.clone()), p.codec.clone(), e),
                Ok(records) => {
                    let starts: Vec<(i64, ff::Rational)> =
                        chunks.iter().map(|c| (c.from, src_tb)).collect();
                    let audio = JoinAudio::Input(ainfo.as_ref(), &file);
                    match join_output(job, p, &chunks, &dir, &starts, audio) {
                        Ok(tasks) => {
                            let _ = std::fs::remove_dir_all(&dir);
                            merged_report(p, &records, tasks)
                        }
                        Err(e) => {
                            OutputReport::failed(p.index, Some(p.path.clone()), p.codec.clone(), e)
                        }
                    }
                }
            },
        };
        reports.insert(p.index, report);
    }

    // Snapshot sets come from one pass of their own over the input.
    let mut snapshots = Vec::new();
    if !matches!(part, Part::Slice(_))
        && (!job.snapshots.is_empty() || !job.rejected_snapshots.is_empty())
    {
        let only = Job {
            input: job.input.clone(),
            outputs: Vec::new(),
            rejected: Vec::new(),
            clip: None,
            snapshots: job.snapshots.clone(),
            rejected_snapshots: job
                .rejected_snapshots
                .iter()
                .map(|(i, e)| (*i, clone_error(e)))
                .collect(),
            policy: job.policy,
            decode_mode: job.decode_mode,
            decoder_threads: job.decoder_threads,
            chunked: None,
            span: None,
            concat: Vec::new(),
            spec: None,
            realtime: false,
            follow_s: None,
        };
        snapshots = super::run(&only, &NoProgress)?.snapshots;
    }
    Ok(JobReport {
        input: path,
        source: SourceSummary {
            width: vinfo.width,
            height: vinfo.height,
            fps: vinfo.rate.fps(),
            pix_fmt: media::pix_fmt_name(vinfo.pix_fmt),
            duration_s: vinfo.duration_s,
            frames: Some(chunks.iter().map(|c| c.frames).sum()),
        },
        outputs: reports.into_values().collect(),
        input_tasks: vec![scan],
        wall_s: start.elapsed().as_secs_f64(),
        cpu_s: crate::cpu::process_cpu_s() - cpu0,
        corrupt_packets: 0,
        snapshots,
        chunks,
        commands: Vec::new(),
    })
}

/// The folder of an output's chunks: `OUTPUT.chunks` beside it.
pub fn chunk_dir(output: &Path) -> PathBuf {
    let mut name = output
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".chunks");
    output.with_file_name(name)
}

fn chunk_file(k: usize) -> String {
    format!("{k:05}.mp4")
}

fn record_file(k: usize) -> String {
    format!("{k:05}.json")
}

pub(super) fn load_record(dir: &Path, k: usize) -> Option<ChunkRecord> {
    let text = std::fs::read_to_string(dir.join(record_file(k))).ok()?;
    serde_json::from_str(&text).ok()
}

/// What a chunk of output `p` is made from: the input (path, size, modification time), the
/// chunk's frames and the output's settings as the chunk encodes them.
fn chunk_key(input: &Path, p: &OutputPlan, chunk: &Chunk, dir: &Path) -> String {
    let meta = std::fs::metadata(input).ok();
    let stamp = meta
        .as_ref()
        .map(|m| (m.len(), m.modified().ok()))
        .unwrap_or_default();
    let plan = chunk_plan(p, chunk, dir);
    fingerprint(&format!(
        "{}|{stamp:?}|{}|{:?}|{}|{plan:?}",
        input.display(),
        chunk.from,
        chunk.to,
        chunk.frames
    ))
}

/// Output `p` as one chunk encodes it: its video alone, into an MP4 in the chunk folder (exact
/// timestamps, the encoder's parameter sets in the header), timed watermarks moved to the
/// chunk's clock.
fn chunk_plan(p: &OutputPlan, chunk: &Chunk, dir: &Path) -> OutputPlan {
    let mut c = piece_plan(p, chunk, dir);
    c.audio = AudioPlan::Drop;
    c
}

/// Output `p` as a piece starting `piece.start_s` into the output encodes it: into an MP4 in the
/// piece folder (exact timestamps, the encoder's parameter sets in the header), without HLS
/// encryption (applied at the join), subtitles and timed watermarks moved to the piece's clock.
pub(super) fn piece_plan(p: &OutputPlan, piece: &Chunk, dir: &Path) -> OutputPlan {
    let mut c = p.clone();
    c.path = dir.join(chunk_file(piece.index));
    c.container = Container::Mp4;
    c.hls_encryption = None;
    if let Some(s) = &mut c.subtitles {
        s.offset_s += piece.start_s;
    }
    c.watermarks = p
        .watermarks
        .iter()
        .filter(|w| w.end.map_or(true, |e| e > piece.start_s))
        .cloned()
        .map(|mut w| {
            w.start = w.start.map(|s| (s - piece.start_s).max(0.0));
            w.end = w.end.map(|e| e - piece.start_s);
            w
        })
        .collect();
    c
}

/// One piece of a job encoded by a job of its own: a chunk of the input, or one input of a
/// concatenation.
pub(super) struct Piece<'a> {
    /// What it reads.
    pub input: InputSource,
    /// The part of `input` it keeps (a chunk), or None for all of it.
    pub span: Option<Chunk>,
    /// Its place among the pieces (and the name of its files).
    pub chunk: Chunk,
    /// The outputs it encodes, as positions in the job's outputs.
    pub outputs: &'a [usize],
    /// Those outputs as the piece encodes them.
    pub plans: Vec<OutputPlan>,
    /// Each output's fingerprint of the piece's settings.
    pub keys: Vec<String>,
    /// How errors name it.
    pub what: String,
}

/// Encodes chunk `chunk` of outputs `outputs` (positions in `job.outputs`); writes each
/// output's record. Returns the outputs that failed.
fn encode_chunk(
    job: &Job,
    file: &Path,
    chunk: &Chunk,
    outputs: &[usize],
    progress: &dyn Progress,
) -> Vec<(usize, Error)> {
    let piece = Piece {
        input: job.input.clone(),
        span: Some(chunk.clone()),
        chunk: chunk.clone(),
        outputs,
        plans: outputs
            .iter()
            .map(|&o| chunk_plan(&job.outputs[o], chunk, &chunk_dir(&job.outputs[o].path)))
            .collect(),
        keys: outputs
            .iter()
            .map(|&o| {
                let p = &job.outputs[o];
                chunk_key(file, p, chunk, &chunk_dir(&p.path))
            })
            .collect(),
        what: format!(
            "chunk {} (from {:.3} s, {} frames)",
            chunk.index, chunk.start_s, chunk.frames
        ),
    };
    encode_piece(job, piece, progress)
}

/// Encodes `piece` with a job of its own; writes each output's record beside its file.
/// Returns the outputs that failed.
pub(super) fn encode_piece(
    job: &Job,
    piece: Piece,
    progress: &dyn Progress,
) -> Vec<(usize, Error)> {
    let Piece {
        input,
        span,
        chunk,
        outputs,
        plans,
        keys,
        what,
    } = piece;
    let chunk = &chunk;
    // Pieces already run in parallel, one per core: each decodes on fewer threads.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let decoder_threads = match job.decoder_threads {
        0 => (cores / 2).max(1),
        n => n,
    };
    let sub = Job {
        input,
        outputs: plans,
        rejected: Vec::new(),
        clip: None,
        snapshots: Vec::new(),
        rejected_snapshots: Vec::new(),
        policy: job.policy,
        decode_mode: job.decode_mode,
        decoder_threads,
        chunked: None,
        span,
        concat: Vec::new(),
        spec: None,
        realtime: false,
        follow_s: None,
    };
    let report = match super::run(&sub, progress) {
        Ok(r) => r,
        Err(e) => {
            let text = e.to_string();
            return outputs
                .iter()
                .map(|&o| {
                    let field = format!("{}.chunks", job.outputs[o].field);
                    (
                        o,
                        Error::Spec {
                            field,
                            message: format!("{what}: {text}"),
                        },
                    )
                })
                .collect();
        }
    };
    let mut failed = Vec::new();
    for ((&o, r), key) in outputs.iter().zip(&report.outputs).zip(keys) {
        let p = &job.outputs[o];
        let dir = chunk_dir(&p.path);
        if let Some(e) = &r.error {
            failed.push((
                o,
                Error::Spec {
                    field: format!("{}.chunks", p.field),
                    message: format!("{what}: {e}"),
                },
            ));
            continue;
        }
        let enc = r.encode_stats();
        let record = ChunkRecord {
            chunk: chunk.clone(),
            key,
            width: r.width,
            height: r.height,
            pix_fmt: r.pix_fmt.clone(),
            fps: r.fps,
            frames: r.frames,
            video_bytes: r.video_bytes,
            encode_busy_s: r.encode_wall_s,
            encode_cpu_s: r.encode_cpu_s,
            wall_s: report.wall_s,
            packets: enc.map(|e| e.packets.clone()).unwrap_or_default(),
        };
        let path = dir.join(record_file(chunk.index));
        let tmp = crate::mux::temp_path(&path);
        let text = serde_json::to_string(&record).expect("a record serializes");
        if let Err(e) = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &path)) {
            let _ = std::fs::remove_file(&tmp);
            failed.push((o, Error::io(&path, "writing the chunk record", e)));
        }
    }
    failed
}

/// Runs `encode(k, progress)` for every piece `k` of `work`, `workers` at a time (0: one per
/// core); returns the first error of each output that failed, by output index.
pub(super) fn encode_all(
    job: &Job,
    work: &[usize],
    pieces: usize,
    workers: usize,
    progress: &dyn Progress,
    encode: impl Fn(usize, &dyn Progress) -> Vec<(usize, Error)> + Sync,
) -> BTreeMap<usize, Error> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = if workers == 0 { cores } else { workers }.min(work.len().max(1));
    let next = AtomicUsize::new(0);
    let decoded: Vec<AtomicU64> = (0..pieces).map(|_| AtomicU64::new(0)).collect();
    let errors: Mutex<BTreeMap<usize, Error>> = Mutex::new(BTreeMap::new());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                let w = next.fetch_add(1, Ordering::Relaxed);
                let Some(&k) = work.get(w) else { break };
                let slot = ChunkProgress {
                    slot: k,
                    counts: &decoded,
                    parent: progress,
                };
                for (o, e) in encode(k, &slot) {
                    let p = &job.outputs[o];
                    let mut errs = errors.lock().unwrap_or_else(|e| e.into_inner());
                    errs.entry(p.index).or_insert(e);
                }
            });
        }
    });
    errors.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Progress of one chunk, summed over every chunk for the caller.
struct ChunkProgress<'a> {
    slot: usize,
    counts: &'a [AtomicU64],
    parent: &'a dyn Progress,
}

impl Progress for ChunkProgress<'_> {
    fn decoded(&self, frames: u64) {
        self.counts[self.slot].store(frames, Ordering::Relaxed);
        self.parent
            .decoded(self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum());
    }
}

/// Every chunk record of output `p`, checked against the chunks and the settings; an error lists
/// what is missing.
fn gather(file: &Path, p: &OutputPlan, chunks: &[Chunk], dir: &Path) -> Result<Vec<ChunkRecord>> {
    let mut records = Vec::new();
    let mut missing = Vec::new();
    let mut stale = Vec::new();
    for c in chunks {
        match load_record(dir, c.index) {
            Some(r) if !dir.join(chunk_file(c.index)).is_file() => missing.push(r.chunk.index),
            Some(r) if r.key != chunk_key(file, p, c, dir) => stale.push(c.index),
            Some(r) => records.push(r),
            None => missing.push(c.index),
        }
    }
    let list = |v: &[usize]| {
        v.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !missing.is_empty() {
        return Err(Error::Spec {
            field: format!("{}.chunks", p.field),
            message: format!(
                "chunk{} {} of {} missing in {} (run every slice --chunks K/N before --join)",
                if missing.len() > 1 { "s" } else { "" },
                list(&missing),
                chunks.len(),
                dir.display()
            ),
        });
    }
    if !stale.is_empty() {
        return Err(Error::Spec {
            field: format!("{}.chunks", p.field),
            message: format!(
                "chunk{} {} in {} {} made from another input or other settings; run the slices again",
                if stale.len() > 1 { "s" } else { "" },
                list(&stale),
                dir.display(),
                if stale.len() > 1 { "were" } else { "was" }
            ),
        });
    }
    Ok(records)
}

/// The input split into chunks: the video stream's packets (or, for scene cuts, its decoded
/// frames) read once.
fn split_input(
    job: &Job,
    c: &Chunking,
    file: &Path,
) -> Result<(VideoInfo, Option<AudioInfo>, Vec<Chunk>, TaskStats)> {
    let start = Instant::now();
    let cpu0 = crate::cpu::thread_cpu_s();
    let mut ictx = input::open(&job.input)?;
    let vinfo = input::video_info(&ictx, file)?;
    let ainfo = input::audio_info(&ictx);
    let mut pts: Vec<i64> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut stats = TaskStats {
        name: if c.scene_cuts {
            "scene-cuts"
        } else {
            "keyframes"
        }
        .into(),
        kind: "split",
        ..Default::default()
    };
    if c.scene_cuts {
        let found = std::sync::Arc::new(Mutex::new(Scenes::new(c.threshold)));
        let state = PipelineState::new();
        let mut decode = task::stage(
            Mode::Serial,
            job.policy,
            VideoDecode::new(&ictx, &vinfo, job.decoder_threads, false, file)?,
            "decode-video".into(),
            "decode",
            Box::new(SceneSink(found.clone())),
            state.clone(),
        );
        for (s, packet) in ictx.packets() {
            if s.index() == vinfo.index {
                stats.frames_in += 1;
                if decode.push(packet).is_err() {
                    break;
                }
            }
        }
        let _ = decode.close();
        drop(decode);
        if let Some(e) = state.take_errors().into_iter().next() {
            return Err(e);
        }
        let s = std::mem::replace(
            &mut *found.lock().unwrap_or_else(|e| e.into_inner()),
            Scenes::new(0.0),
        );
        pts = s.pts;
        starts = s.cuts;
    } else {
        let mut frames: Vec<(i64, bool)> = Vec::new();
        for (s, packet) in ictx.packets() {
            if s.index() == vinfo.index {
                stats.frames_in += 1;
                if let Some(t) = packet.pts().or(packet.dts()) {
                    frames.push((t, packet.is_key()));
                }
            }
        }
        frames.sort_by_key(|f| f.0);
        frames.dedup_by_key(|f| f.0);
        for (i, (t, key)) in frames.iter().enumerate() {
            pts.push(*t);
            if *key {
                starts.push(i);
            }
        }
    }
    if pts.is_empty() {
        return Err(Error::NoStream {
            path: file.to_path_buf(),
            kind: "video (with timestamped frames)",
        });
    }
    let tick_s = media::seconds(1, vinfo.time_base);
    // When every output keeps the source's frames and has the same keyframe interval, chunks
    // start at multiples of it: each chunk is whole GOPs, so the joined file has its keyframes
    // where one encoder would have put them (a chunk may then start between source keyframes:
    // its job decodes from the keyframe before).
    if let Some(gop) = common_gop(job) {
        if !c.scene_cuts {
            starts = (0..pts.len()).step_by(gop as usize).collect();
        }
    }
    // The first chunk starts at the first frame, whatever the first packet was.
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    let chunks = split(&pts, &starts, tick_s, c, c.scene_cuts);
    stats.frames_out = chunks.len() as u64;
    stats.wall_s = start.elapsed().as_secs_f64();
    stats.busy_s = stats.wall_s;
    stats.cpu_s = crate::cpu::thread_cpu_s() - cpu0;
    Ok((vinfo, ainfo, chunks, stats))
}

/// The keyframe interval every output shares, in source frames (None when one has none, they
/// differ, or an output changes the frame rate).
fn common_gop(job: &Job) -> Option<u32> {
    let mut gops = job
        .outputs
        .iter()
        .map(|p| p.gop.filter(|_| p.fps.is_none()));
    let first = gops.next()??;
    gops.all(|g| g == Some(first))
        .then_some(first)
        .filter(|&g| g > 0)
}

/// Scene cuts found so far: every frame's time, the frames that start a scene.
struct Scenes {
    threshold: f64,
    pts: Vec<i64>,
    cuts: Vec<usize>,
    prev: Option<Vec<u8>>,
    prev_mafd: f64,
}

impl Scenes {
    fn new(threshold: f64) -> Self {
        Scenes {
            threshold,
            pts: Vec::new(),
            cuts: vec![0],
            prev: None,
            prev_mafd: 0.0,
        }
    }
}

/// Scores each decoded frame against the one before.
struct SceneSink(std::sync::Arc<Mutex<Scenes>>);

impl Sink<VideoFrame> for SceneSink {
    fn push(&mut self, f: VideoFrame) -> Result<()> {
        let frame = &f.frame;
        let Some(t) = frame.timestamp().or(frame.pts()) else {
            return Ok(());
        };
        let depth = u32::from(media::bit_depth(frame.format()));
        let thumb = thumbnail(
            frame.data(0),
            frame.stride(0),
            frame.width() as usize,
            frame.height() as usize,
            depth > 8,
            depth,
        );
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let i = s.pts.len();
        s.pts.push(t);
        if let Some(prev) = &s.prev {
            let (score, mafd) = scene_score(prev, &thumb, s.prev_mafd);
            s.prev_mafd = mafd;
            if score >= s.threshold && i > 0 {
                s.cuts.push(i);
            }
        }
        s.prev = Some(thumb);
        Ok(())
    }
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// The bytes of a stream's codec extradata (parameter sets, sequence header).
fn extradata(params: &ff::codec::Parameters) -> Vec<u8> {
    // SAFETY: `params` wraps a valid AVCodecParameters; extradata is null or points to
    // extradata_size readable bytes owned by it, copied out before it can change.
    unsafe {
        let p = params.as_ptr();
        if (*p).extradata.is_null() || (*p).extradata_size <= 0 {
            Vec::new()
        } else {
            std::slice::from_raw_parts((*p).extradata, (*p).extradata_size as usize).to_vec()
        }
    }
}

/// The input's audio packets, read ahead of the joined video and fed to one output's audio flow.
struct AudioFeed {
    ictx: ff::format::context::Input,
    index: usize,
    time_base: ff::Rational,
    sink: Box<dyn Sink<ff::Packet>>,
    reached_s: f64,
    done: bool,
}

impl AudioFeed {
    /// Feeds packets until the audio has passed `t_s` (seconds of the input's clock) by half a
    /// second, or ended.
    fn until(&mut self, t_s: f64) -> Result<()> {
        while !self.done && self.reached_s < t_s + 0.5 {
            let mut packet = ff::Packet::empty();
            match packet.read(&mut self.ictx) {
                Ok(()) => {}
                Err(ff::Error::Eof) => {
                    self.done = true;
                    break;
                }
                Err(ff::Error::Other {
                    errno: libc::EAGAIN,
                }) => continue,
                Err(e) => return Err(Error::ffmpeg("reading the input's audio", e)),
            }
            if packet.stream() != self.index {
                continue;
            }
            if let Some(t) = packet.pts().or(packet.dts()) {
                self.reached_s = media::seconds(t, self.time_base);
            }
            self.sink.push(packet)?;
        }
        Ok(())
    }
}

/// Where a joined output's audio comes from.
pub(super) enum JoinAudio<'a> {
    /// The input's audio, encoded (or copied) once over the whole input (a chunked job).
    Input(Option<&'a AudioInfo>, &'a Path),
    /// Each piece's own audio, encoded with it (a concatenation).
    Pieces,
}

/// Joins output `p` from its pieces (a chunked job's chunks, a concatenation's inputs): the
/// video packets of each piece, and its audio packets when the pieces carry the audio, moved to
/// the piece's place on the output's clock (`starts[k]`, a time and its time base), interleaved
/// with the input's audio when that is encoded once, through the output's muxer. Returns the
/// join's tasks.
pub(super) fn join_output(
    job: &Job,
    p: &OutputPlan,
    pieces: &[Chunk],
    dir: &Path,
    starts: &[(i64, ff::Rational)],
    audio_from: JoinAudio,
) -> Result<Vec<TaskStats>> {
    debug_assert_eq!(pieces.len(), starts.len());
    let state = PipelineState::new();
    let wants_audio = p.audio != AudioPlan::Drop;
    let with_audio = wants_audio
        && match &audio_from {
            JoinAudio::Input(ainfo, _) => ainfo.is_some(),
            JoinAudio::Pieces => pieces.first().is_some_and(|c| {
                ff::format::input(&dir.join(chunk_file(c.index)))
                    .map(|i| i.streams().best(ff::media::Type::Audio).is_some())
                    .unwrap_or(false)
            }),
        };
    let muxer = task::stage(
        Mode::Serial,
        job.policy,
        Muxer::new(mux_setup(p, with_audio)),
        format!("mux[{}]", p.index),
        "mux",
        Box::new(NullSink),
        state.clone(),
    );
    let mut handles = Shared::split(muxer, if with_audio { 2 } else { 1 });
    let mut video: Shared<MuxItem> = handles.remove(0);
    let mut piece_audio: Option<Shared<MuxItem>> = None;
    let mut audio = match (&audio_from, with_audio) {
        (JoinAudio::Input(Some(a), file), true) => {
            let ictx = input::open(&job.input)?;
            let mux: Box<dyn Sink<MuxItem>> = Box::new(handles.remove(0));
            let sink: Box<dyn Sink<ff::Packet>> =
                match audio_branch(p, &ictx, a, 1, mux, &state, job.policy) {
                    AudioBranch::Copy(b) => b,
                    AudioBranch::Encode(enc) => task::stage(
                        Mode::Serial,
                        job.policy,
                        AudioDecode::new(&ictx, a, file)?,
                        "decode-audio".into(),
                        "decode",
                        enc,
                        state.clone(),
                    ),
                };
            Some(AudioFeed {
                ictx,
                index: a.index,
                time_base: a.time_base,
                sink,
                reached_s: f64::NEG_INFINITY,
                done: false,
            })
        }
        (JoinAudio::Pieces, true) => {
            piece_audio = Some(handles.remove(0));
            None
        }
        _ => None,
    };
    let started = Instant::now();
    let mut join = TaskStats {
        name: format!("join[{}] {} pieces", p.index, pieces.len()),
        kind: "join",
        ..Default::default()
    };
    let result = (|| -> Result<()> {
        let mut first: Option<(ff::Rational, Vec<u8>)> = None;
        let mut first_audio_tb: Option<ff::Rational> = None;
        let (mut last_dts, mut last_audio_dts): (Option<i64>, Option<i64>) = (None, None);
        for (c, &(start, start_tb)) in pieces.iter().zip(starts) {
            let path = dir.join(chunk_file(c.index));
            let mut cin = ff::format::input(&path)
                .map_err(|e| Error::ffmpeg(format!("{}: opening", path.display()), e))?;
            let (index, tb, params) = {
                let s =
                    cin.streams()
                        .best(ff::media::Type::Video)
                        .ok_or_else(|| Error::NoStream {
                            path: path.clone(),
                            kind: "video",
                        })?;
                (s.index(), s.time_base(), s.parameters())
            };
            let audio_stream = cin
                .streams()
                .best(ff::media::Type::Audio)
                .map(|s| (s.index(), s.time_base(), s.parameters()));
            let extra = extradata(&params);
            let codec = params.id();
            let mut in_band: Option<Vec<u8>> = None;
            let tb0 = match &first {
                None => {
                    video.push(MuxItem::Stream {
                        stream: 0,
                        params,
                        time_base: tb,
                        side_data: Vec::new(),
                    })?;
                    first = Some((tb, extra));
                    tb
                }
                Some((tb0, extra0)) => {
                    if *extra0 != extra {
                        in_band = match codec {
                            ff::codec::Id::H264 | ff::codec::Id::HEVC => {
                                Some(in_band_parameter_sets(codec == ff::codec::Id::HEVC, &extra).ok_or_else(|| Error::Spec {
                                    field: format!("{}.chunks", p.field),
                                    message: format!(
                                        "{} has other parameter sets than the first piece, in a record that cannot be read",
                                        path.display()
                                    ),
                                })?)
                            }
                            // AV1 and VP9 keyframes carry their sequence headers in-band.
                            _ => None,
                        };
                    }
                    *tb0
                }
            };
            // The piece's audio, when it carries the output's.
            let audio_tb = match (&mut piece_audio, &audio_stream) {
                (Some(sink), Some((_, atb, aparams))) => {
                    if first_audio_tb.is_none() {
                        sink.push(MuxItem::Stream {
                            stream: 1,
                            params: aparams.clone(),
                            time_base: *atb,
                            side_data: Vec::new(),
                        })?;
                        first_audio_tb = Some(*atb);
                    }
                    first_audio_tb
                }
                (Some(_), None) => {
                    return Err(Error::NoStream {
                        path: path.clone(),
                        kind: "audio",
                    })
                }
                _ => None,
            };
            let mut packets = Vec::new();
            let mut audio_packets = Vec::new();
            for (s, mut packet) in cin.packets() {
                if s.index() == index {
                    packet.rescale_ts(tb, tb0);
                    packets.push(packet);
                } else if let (Some((ai, atb, _)), Some(atb0)) = (&audio_stream, audio_tb) {
                    if s.index() == *ai {
                        packet.rescale_ts(*atb, atb0);
                        audio_packets.push(packet);
                    }
                }
            }
            let min_pts = packets.iter().filter_map(|p| p.pts()).min().unwrap_or(0);
            let shift = start.rescale(start_tb, tb0) - min_pts;
            // The audio keeps its place against the piece's first picture.
            let audio_shift =
                audio_tb.map(|atb0| start.rescale(start_tb, atb0) - min_pts.rescale(tb0, atb0));
            let mut items: Vec<(f64, bool, ff::Packet)> = Vec::new();
            for mut packet in packets {
                join.frames_in += 1;
                if let Some(sets) = in_band.take() {
                    // This piece's own parameter sets ahead of its first picture.
                    let mut data = sets;
                    data.extend_from_slice(packet.data().unwrap_or(&[]));
                    let mut with = ff::Packet::copy(&data);
                    with.set_pts(packet.pts());
                    with.set_dts(packet.dts());
                    with.set_duration(packet.duration());
                    with.set_flags(packet.flags());
                    packet = with;
                }
                let pts = packet.pts().map(|t| t + shift);
                let mut dts = packet.dts().map(|t| t + shift);
                // Decode times keep rising across a joint even if the encoder's delay changed.
                if let (Some(d), Some(l)) = (dts, last_dts) {
                    if d <= l {
                        dts = Some(l + 1);
                    }
                }
                last_dts = dts.or(last_dts);
                packet.set_pts(pts);
                packet.set_dts(dts);
                packet.set_stream(0);
                let t = dts.or(pts).map_or(0.0, |t| media::seconds(t, tb0));
                items.push((t, false, packet));
            }
            if let (Some(shift), Some(atb0)) = (audio_shift, audio_tb) {
                for mut packet in audio_packets {
                    let pts = packet.pts().map(|t| t + shift);
                    let mut dts = packet.dts().map(|t| t + shift);
                    if let (Some(d), Some(l)) = (dts, last_audio_dts) {
                        if d <= l {
                            dts = Some(l + 1);
                        }
                    }
                    last_audio_dts = dts.or(last_audio_dts);
                    packet.set_pts(pts.map(|p| p.max(dts.unwrap_or(p))));
                    packet.set_dts(dts);
                    packet.set_stream(1);
                    let t = dts.or(pts).map_or(0.0, |t| media::seconds(t, atb0));
                    items.push((t, true, packet));
                }
            }
            // Both streams in time order (stable: a picture before a sound of the same time).
            items.sort_by(|a, b| a.0.total_cmp(&b.0));
            for (t, is_audio, packet) in items {
                if is_audio {
                    if let (Some(sink), Some(atb0)) = (piece_audio.as_mut(), audio_tb) {
                        sink.push(MuxItem::Packet(MuxPacket {
                            stream: 1,
                            packet,
                            time_base: atb0,
                        }))?;
                    }
                    continue;
                }
                if let Some(a) = audio.as_mut() {
                    a.until(t)?;
                }
                join.bytes_out += packet.size() as u64;
                video.push(MuxItem::Packet(MuxPacket {
                    stream: 0,
                    packet,
                    time_base: tb0,
                }))?;
                join.frames_out += 1;
            }
        }
        if let Some(a) = audio.as_mut() {
            a.until(f64::INFINITY)?;
        }
        Ok(())
    })();
    if let Err(e) = &result {
        state.fail(Error::Spec {
            field: format!("{}.chunks", p.field),
            message: e.to_string(),
        });
    }
    if let Some(mut a) = audio.take() {
        let _ = a.sink.close();
    }
    if let Some(mut a) = piece_audio.take() {
        let _ = a.close();
    }
    let _ = video.close();
    drop(video);
    join.wall_s = started.elapsed().as_secs_f64();
    join.busy_s = join.wall_s;
    result?;
    if let Some(e) = state.take_errors().into_iter().next() {
        return Err(e);
    }
    let mut tasks = vec![join];
    tasks.extend(state.take_stats());
    Ok(tasks)
}

/// Output `p`'s report from its chunks' records and the join's tasks: sizes and bytes summed,
/// one encoder task over every chunk (its packets on the output's clock).
pub(super) fn merged_report(
    p: &OutputPlan,
    records: &[ChunkRecord],
    tasks: Vec<TaskStats>,
) -> OutputReport {
    let mut rep = OutputReport::failed(
        p.index,
        Some(p.path.clone()),
        p.codec.clone(),
        Error::Disconnected,
    );
    rep.error = None;
    rep.rc_mode = p.rc.as_ref().map(|rc| rc.mode().to_string());
    rep.rc_value = p.rc.as_ref().map(crate::settings::RateControl::value);
    rep.target_kbps =
        p.rc.as_ref()
            .and_then(crate::settings::RateControl::target_kbps);
    if let Some(r) = records.first() {
        rep.width = r.width;
        rep.height = r.height;
        rep.pix_fmt = r.pix_fmt.clone();
        rep.fps = r.fps;
    }
    let mut enc = TaskStats {
        name: format!("encode[{}] {} ({} chunks)", p.index, p.codec, records.len()),
        kind: "encode",
        ..Default::default()
    };
    for r in records {
        enc.frames_in += r.frames;
        enc.frames_out += r.packets.len() as u64;
        enc.busy_s += r.encode_busy_s;
        enc.cpu_s += r.encode_cpu_s;
        enc.bytes_out += r.video_bytes;
        enc.wall_s += r.wall_s;
        enc.packets
            .extend(r.packets.iter().map(|k| crate::task::PacketRecord {
                pts_s: k.pts_s + r.chunk.start_s,
                dts_s: k.dts_s + r.chunk.start_s,
                ..*k
            }));
    }
    rep.frames = enc.frames_in;
    rep.video_bytes = enc.bytes_out;
    rep.encode_wall_s = enc.busy_s;
    rep.encode_cpu_s = enc.cpu_s;
    rep.encode_fps = if enc.busy_s > 0.0 {
        enc.frames_in as f64 / enc.busy_s
    } else {
        0.0
    };
    rep.duration_s = if rep.fps > 0.0 {
        rep.frames as f64 / rep.fps
    } else {
        0.0
    };
    if rep.duration_s > 0.0 {
        rep.video_kbps = rep.video_bytes as f64 * 8.0 / rep.duration_s / 1000.0;
    }
    if let Some(m) = tasks.iter().find(|t| t.kind == "mux") {
        rep.file_bytes = m.bytes_out;
    }
    rep.tasks = std::iter::once(enc).chain(tasks).collect();
    rep
}
