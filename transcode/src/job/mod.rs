//! Jobs: a validated plan of outputs (pipelines) over one input, and the runner that demuxes and
//! decodes the input once and feeds every pipeline.
//!
//! A pipeline is one output; its video flow is filter -> encode -> mux and its audio flow is
//! encode -> mux (or packet copy -> mux). Planning happens in two steps: [`Job::from_spec`] checks
//! what can be checked without the input (rate-control numbers, containers, writable folders),
//! and [`run`] resolves sizes, pixel formats and encoder settings against the source. An output
//! whose settings are wrong fails alone; the others run.
//!
//! The job is three parts: `plan` (the spec checked and resolved, pure), `report` (what the
//! job did) and the runtime here (the decode, filter, encode and mux tasks wired and run).

mod chunked;
mod concat;
mod live;
mod plan;
mod report;

pub use chunked::{chunk_dir, Part};
pub use plan::{AudioPlan, BurnedSubtitles, FlowModes, Job, OutputPlan};
pub(crate) use report::error_text;
pub use report::{JobReport, NoProgress, OutputReport, Progress, SourceSummary};

use plan::{resolve_output, Resolved};
use report::summarize;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use crate::encode::{
    AudioEncode, AudioEncodeSetup, LiveRate, LiveRateControl, VideoEncode, VideoEncodeSetup,
};
use crate::error::{Error, Result};
use crate::external::{ExternalEncode, ExternalEncodeSetup};
use crate::filter::{output_size, Sampler, Sampling};
use crate::input::{self, AudioDecode, AudioInfo, Cut, InputSource, VideoDecode, VideoInfo};
use crate::media::{self, AudioFrame, MuxItem, MuxPacket, VideoFrame};
use crate::mux::{MuxSetup, Muxer};
use crate::settings::{encoder_config, EncoderRequest, Pass, StatsChannel};
use crate::snapshot::{ImageWrite, Select, Selection, SnapshotPlan, SnapshotReport};
use crate::task::{self, Mode, NullSink, PipelineState, Shared, Sink, TaskStats, Tee};

/// Runs a job: every output that passed validation is produced (or fails alone). The error
/// case is for the job as a whole: the input cannot be read.
pub fn run(job: &Job, progress: &dyn Progress) -> Result<JobReport> {
    crate::init();
    if let Some(c) = &job.chunked {
        return chunked::run(job, c, progress);
    }
    if !job.concat.is_empty() {
        return concat::run(job, progress);
    }
    let start = Instant::now();
    let cpu0 = crate::cpu::process_cpu_s();
    let path = job.input.display_path();
    let probe = input::open_following(&job.input, job.follow_s)?;
    let audio_alone = !job.outputs.is_empty()
        && job.outputs.iter().all(|p| p.container.audio_only())
        && job.snapshots.is_empty();
    let mut vinfo = match input::video_info(&probe, &path) {
        // An input without video (a music file) serves outputs of audio alone.
        Err(Error::NoStream { kind: "video", .. }) if audio_alone => VideoInfo::absent(&probe),
        other => other?,
    };
    if let Some(span) = &job.span {
        vinfo.frames = Some(span.frames);
        let fps = vinfo.rate.fps();
        vinfo.duration_s = (fps > 0.0).then(|| span.frames as f64 / fps);
    }
    if let Some(clip) = job.clip {
        // The clip must start inside the input; it then lasts what is left, at most.
        if let Some(d) = vinfo.duration_s {
            if clip.start >= d {
                return Err(Error::Spec {
                    field: "clip.start".into(),
                    message: format!(
                        "{} s is not before the end of {} ({d:.3} s)",
                        clip.start,
                        path.display()
                    ),
                });
            }
            let kept = clip
                .duration
                .map_or(d - clip.start, |c| c.min(d - clip.start));
            vinfo.duration_s = Some(kept);
            vinfo.frames = Some((kept * vinfo.rate.fps()).round() as u64);
        } else {
            vinfo.duration_s = clip.duration;
            vinfo.frames = clip.duration.map(|c| (c * vinfo.rate.fps()).round() as u64);
        }
    }
    let ainfo = input::audio_info(&probe);
    drop(probe);

    let mut reports: BTreeMap<usize, OutputReport> = BTreeMap::new();
    for (i, p, e) in &job.rejected {
        let e = clone_error(e);
        reports.insert(*i, OutputReport::failed(*i, p.clone(), String::new(), e));
    }
    // Black borders are looked for once, for every output that crops them.
    let mut black = None;
    if let Some(first) = job.outputs.iter().find(|p| p.crop_black) {
        match &job.input {
            InputSource::File(f) => {
                black = crate::orient::detect_borders(f, &format!("{}.crop_black", first.field))?
            }
            _ => {
                return Err(Error::Spec {
                    field: format!("{}.crop_black", first.field),
                    message: "black borders are detected in a file input only".into(),
                })
            }
        }
    }
    let mut resolved = Vec::new();
    for plan in &job.outputs {
        match resolve_output(plan, &vinfo, black) {
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
        let outcome = execute(
            job,
            &path,
            &vinfo,
            None,
            &flows,
            &[],
            PassKind::First,
            progress,
        )?;
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
    // Snapshot sets: their times (a count needs the duration) and graph from the source.
    let mut snapshot_reports: BTreeMap<usize, SnapshotReport> = BTreeMap::new();
    let failed_set = |index: usize, pattern: PathBuf, e: Error| SnapshotReport {
        index,
        pattern,
        files: Vec::new(),
        width: 0,
        height: 0,
        vtt: None,
        error: Some(e),
    };
    for (i, e) in &job.rejected_snapshots {
        snapshot_reports.insert(*i, failed_set(*i, PathBuf::new(), clone_error(e)));
    }
    let duration = vinfo.duration_s.or_else(|| {
        let fps = vinfo.rate.fps();
        vinfo.frames.filter(|_| fps > 0.0).map(|n| n as f64 / fps)
    });
    let mut snapshot_runs = Vec::new();
    for p in &job.snapshots {
        match p.times(duration) {
            Ok(times) => snapshot_runs.push(SnapshotRun {
                plan: p.clone(),
                times,
                graph: p.graph(&vinfo),
                written: Arc::new(Mutex::new(Vec::new())),
                taken: Arc::new(Mutex::new(Vec::new())),
            }),
            Err(e) => {
                snapshot_reports.insert(p.index, failed_set(p.index, p.pattern.clone(), e));
            }
        }
    }
    progress.pass_started(passes, passes, vinfo.frames);
    let mut outcome = execute(
        job,
        &path,
        &vinfo,
        ainfo.as_ref(),
        &ok,
        &snapshot_runs,
        PassKind::Final,
        progress,
    )?;
    let snapshot_flows = outcome.flows.split_off(ok.len());
    for (sr, (errors, _)) in snapshot_runs.iter().zip(snapshot_flows) {
        let files = std::mem::take(&mut *sr.written.lock().expect("not poisoned"));
        let p = &sr.plan;
        let (width, height) = output_size(vinfo.width, vinfo.height, p.width, p.height);
        let mut error = errors.into_iter().next();
        let mut vtt = None;
        if let (None, Some(sprite)) = (&error, &p.sprite) {
            let taken = sr.taken.lock().expect("not poisoned").clone();
            let images = taken.len();
            let starts: Vec<f64> = match &p.selection {
                Selection::Count(n) => {
                    let d = duration.unwrap_or(0.0);
                    (0..images).map(|i| d * i as f64 / *n as f64).collect()
                }
                Selection::Times(t) => t[..images.min(t.len())].to_vec(),
                Selection::Keyframes(_) => taken.clone(),
            };
            let end = duration.unwrap_or_else(|| taken.last().copied().unwrap_or(0.0));
            let base = sprite
                .vtt
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let text = crate::snapshot::sprite_vtt(&starts, end, sprite, (width, height), |k| {
                files
                    .get(k)
                    .map(|f| {
                        f.strip_prefix(&base)
                            .unwrap_or(f)
                            .to_string_lossy()
                            .into_owned()
                    })
                    .unwrap_or_default()
            });
            let tmp = crate::mux::temp_path(&sprite.vtt);
            let written =
                std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, &sprite.vtt));
            match written {
                Ok(()) => vtt = Some(sprite.vtt.clone()),
                Err(e) => {
                    let _ = std::fs::remove_file(&tmp);
                    error = Some(Error::io(&sprite.vtt, "writing the thumbnails track", e));
                }
            }
        }
        let report = match error {
            // A set that failed leaves no images: a partial set would pass for a whole one.
            Some(e) => {
                for f in &files {
                    let _ = std::fs::remove_file(f);
                }
                failed_set(p.index, p.pattern.clone(), e)
            }
            None => SnapshotReport {
                index: p.index,
                pattern: p.pattern.clone(),
                files,
                width,
                height,
                vtt,
                error: None,
            },
        };
        snapshot_reports.insert(p.index, report);
    }
    for (r, (errors, tasks)) in ok.iter().zip(outcome.flows) {
        let report = summarize(r, errors.into_iter().next(), tasks);
        reports.insert(r.plan.index, report);
    }
    for r in &resolved {
        if let Some(f) = &r.stats_file {
            for leftover in crate::settings::two_pass_files(f) {
                let _ = std::fs::remove_file(leftover);
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
        snapshots: snapshot_reports.into_values().collect(),
        chunks: Vec::new(),
        commands: Vec::new(),
    })
}

/// Runs a job under live control: commands from `commands` add and remove outputs, change a
/// bitrate or queue the next input while it runs (see [`crate::control`]).
pub fn run_controlled(
    job: &Job,
    commands: crossbeam_channel::Receiver<crate::control::Request>,
    progress: &dyn Progress,
) -> Result<JobReport> {
    crate::init();
    live::run(job, commands, progress)
}

/// Runs part of a chunked job: all of it, one slice of its chunks (`--chunks K/N`), or the join
/// of chunks made before (`--join`).
pub fn run_part(job: &Job, part: Part, progress: &dyn Progress) -> Result<JobReport> {
    crate::init();
    match &job.chunked {
        Some(c) => chunked::run_part(job, c, part, progress),
        None => Err(Error::Spec {
            field: "execution.chunked".into(),
            message: "the job is not chunked: slices and joins need `[execution] chunked = { seconds = ... }`".into(),
        }),
    }
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

/// A snapshot set resolved against the source: its times, its filter graph, and the files its
/// image task has written.
struct SnapshotRun {
    plan: SnapshotPlan,
    times: Option<Vec<f64>>,
    graph: String,
    written: Arc<Mutex<Vec<PathBuf>>>,
    taken: Arc<Mutex<Vec<f64>>>,
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

/// The mux task's setup for output `p`, with or without its audio stream.
fn mux_setup(p: &OutputPlan, with_audio: bool) -> MuxSetup {
    let codec_id = ff::encoder::find_by_name(&p.codec)
        .map(|c| c.id())
        .unwrap_or(ff::codec::Id::None);
    MuxSetup {
        field: p.field.clone(),
        path: p.path.clone(),
        container: p.container,
        streams: if with_audio && !p.container.audio_only() {
            2
        } else {
            1
        },
        hls_time: p.hls_time,
        hls_encryption: p.hls_encryption.clone(),
        hls_fmp4: matches!(
            codec_id,
            ff::codec::Id::HEVC | ff::codec::Id::AV1 | ff::codec::Id::VP9
        ),
        subtitles: None,
    }
}

/// Where an output's audio enters: packets to copy, or decoded frames to encode.
enum AudioBranch {
    Copy(Box<dyn Sink<ff::Packet>>),
    Encode(Box<dyn Sink<AudioFrame>>),
}

/// The audio flow of output `p` (stream `stream` of its muxer) from the input's audio `a`.
fn audio_branch(
    p: &OutputPlan,
    ictx: &ff::format::context::Input,
    a: &AudioInfo,
    stream: usize,
    audio_mux: Box<dyn Sink<MuxItem>>,
    state: &Arc<PipelineState>,
    policy: task::QueuePolicy,
) -> AudioBranch {
    match &p.audio {
        AudioPlan::Copy => {
            let input_stream = ictx.stream(a.index).expect("audio stream");
            let id = input_stream.parameters().id();
            if p.container.can_carry(id) == Some(false) {
                state.fail(Error::Spec {
                    field: format!("{}.audio", p.field),
                    message: format!("the {} container cannot carry the input's {} audio; encode it (audio = {{ codec = \"aac\" }})", p.container.muxer(), id.name()),
                });
            }
            AudioBranch::Copy(Box::new(PacketBranch(Box::new(AudioCopy {
                stream,
                params: Some(input_stream.parameters()),
                time_base: a.time_base,
                next: audio_mux,
            }))))
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
                stream,
                global_header: p.container.global_header(),
                options: BTreeMap::new(),
            };
            // Audio is cheap: its encoder runs inline on the audio decoder's thread.
            AudioBranch::Encode(task::stage(
                Mode::Serial,
                policy,
                AudioEncode::new(setup),
                format!("audio[{}] {codec}", p.index),
                "encode-audio",
                audio_mux,
                state.clone(),
            ))
        }
        AudioPlan::Drop => unreachable!("an output without audio has no audio flow"),
    }
}

/// The tasks of one output, wired: where its video frames and its audio enter.
#[derive(Default)]
struct Flow {
    video: Option<Box<dyn Sink<VideoFrame>>>,
    audio: Option<AudioBranch>,
    /// The bitrate a running libx264 encoder switches to (bit/s; 0: as planned).
    rate: Option<LiveRate>,
}

/// Builds the tasks of output `r` (decode excluded) for pass `kind`, recording their fate in
/// `state`.
#[allow(clippy::too_many_arguments)]
fn build_flow(
    policy: task::QueuePolicy,
    path: &Path,
    vinfo: &VideoInfo,
    ainfo: Option<&AudioInfo>,
    ictx: &ff::format::context::Input,
    r: &Resolved,
    kind: PassKind,
    state: &Arc<PipelineState>,
) -> Result<Flow> {
    let p = &r.plan;
    if p.container.audio_only() {
        // Audio alone: the input's audio into a muxer of one stream; no video flow.
        if kind == PassKind::First {
            return Ok(Flow::default());
        }
        let Some(a) = ainfo else {
            state.fail(Error::NoStream {
                path: path.to_path_buf(),
                kind: "audio",
            });
            return Ok(Flow::default());
        };
        let muxer = task::stage(
            p.modes.mux,
            policy,
            Muxer::new(mux_setup(p, true)),
            format!("mux[{}]", p.index),
            "mux",
            Box::new(NullSink),
            state.clone(),
        );
        return Ok(Flow {
            video: None,
            audio: Some(audio_branch(p, ictx, a, 0, muxer, state, policy)),
            rate: None,
        });
    }
    let with_audio = kind == PassKind::Final && ainfo.is_some() && p.audio != AudioPlan::Drop;
    let global_header = p.container.global_header();
    let mut setup = mux_setup(p, with_audio);
    if let (Some(st), PassKind::Final) = (&p.soft_subtitles, kind) {
        match crate::subtitle::SubtitleTrack::load(
            &st.file,
            p.container,
            st.offset_s,
            st.length_s,
            &format!("{}.subtitles.file", p.field),
        ) {
            Ok(t) => setup.subtitles = Some(t),
            Err(e) => {
                state.fail(e);
                return Ok(Flow::default());
            }
        }
    }
    // Mux (or nothing, in a first pass).
    let mut mux_handles: Vec<Shared<MuxItem>> = if kind == PassKind::Final {
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
    // User data (SEI) is written after the encoder, by a stage of its own, wherever the
    // output's bitstream can carry it (an encoder program's is known when read back).
    let carries_user_data = p.external.is_some()
        || ff::encoder::find_by_name(&p.codec)
            .and_then(|c| crate::sei::SeiCodec::from_codec_id(c.id()))
            .is_some();
    let capture =
        (kind == PassKind::Final && carries_user_data && (p.passthrough || p.sei.requested()))
            .then(|| crate::sei::Capture::new(p.sei.latency));
    let video_mux: Box<dyn Sink<MuxItem>> = match &capture {
        Some(c) => task::stage(
            Mode::Serial,
            policy,
            crate::sei::SeiInsert::new(
                p.field.clone(),
                p.sei.clone(),
                p.passthrough,
                c.ledger.clone(),
            ),
            format!("sei[{}]", p.index),
            "sei",
            video_mux,
            state.clone(),
        ),
        None => video_mux,
    };
    let rate: Option<LiveRate> = (kind == PassKind::Final
        && p.external.is_none()
        && LiveRateControl::supported(&p.codec, p.rc.as_ref()))
    .then(|| Arc::new(std::sync::atomic::AtomicU64::new(0)));
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
                user_data: capture.clone(),
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
                live_rate: rate.clone().map(|target| LiveRateControl {
                    target,
                    planned: p.rc.clone().expect("checked by supported"),
                }),
                user_data: capture.clone(),
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
    )
    .with_user_data(p.sei.merge_dropped, p.sei.latency && capture.is_some());
    let filter = task::stage(
        p.modes.filter,
        policy,
        vf,
        format!("filter[{}]", p.index),
        "filter",
        encode,
        state.clone(),
    );
    let audio = if with_audio {
        let a = ainfo.expect("checked");
        let audio_mux: Box<dyn Sink<MuxItem>> = Box::new(mux_handles.remove(0));
        Some(audio_branch(p, ictx, a, 1, audio_mux, state, policy))
    } else {
        None
    };
    Ok(Flow {
        video: Some(filter),
        audio,
        rate,
    })
}

#[allow(clippy::too_many_arguments)]
fn execute(
    job: &Job,
    path: &Path,
    vinfo: &VideoInfo,
    ainfo: Option<&AudioInfo>,
    flows: &[&Resolved],
    snapshots: &[SnapshotRun],
    kind: PassKind,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let mut ictx = input::open_following(&job.input, job.follow_s)?;
    let policy = job.policy;
    let input_state = PipelineState::new();
    let mut states = Vec::new();
    let mut video_branches: Vec<Box<dyn Sink<VideoFrame>>> = Vec::new();
    let mut audio_enc_branches: Vec<Box<dyn Sink<AudioFrame>>> = Vec::new();
    let mut audio_copy_branches: Vec<Box<dyn Sink<ff::Packet>>> = Vec::new();

    for r in flows {
        let state = PipelineState::new();
        states.push(state.clone());
        let flow = build_flow(policy, path, vinfo, ainfo, &ictx, r, kind, &state)?;
        if let Some(v) = flow.video {
            video_branches.push(v);
        }
        match flow.audio {
            Some(AudioBranch::Copy(b)) => audio_copy_branches.push(b),
            Some(AudioBranch::Encode(b)) => audio_enc_branches.push(b),
            None => {}
        }
    }

    // Snapshot sets: select -> filter -> image encoder, on a thread of their own.
    for sr in snapshots {
        let p = &sr.plan;
        let state = PipelineState::new();
        states.push(state.clone());
        let writer = task::stage(
            Mode::Serial,
            policy,
            ImageWrite::new(p.clone(), sr.written.clone()),
            format!("{} {:?}", p.field, p.format),
            "snapshot",
            Box::new(NullSink),
            state.clone(),
        );
        let vf = crate::video_filter::VideoFilter::new(
            p.field.clone(),
            Sampler::new(Sampling::All),
            Some(sr.graph.clone()),
            1,
        );
        let filter = task::stage(
            Mode::Serial,
            policy,
            vf,
            format!("filter {}", p.field),
            "filter",
            writer,
            state.clone(),
        );
        let max = match p.selection {
            Selection::Keyframes(m) => m,
            _ => None,
        };
        video_branches.push(task::stage(
            Mode::Parallel,
            policy,
            Select::new(p.field.clone(), sr.times.clone(), max, sr.taken.clone()),
            format!("select {}", p.field),
            "select",
            filter,
            state.clone(),
        ));
    }

    // Input side: video decode feeding every pipeline, audio decode feeding audio encoders.
    let passthrough = flows.iter().any(|r| r.plan.passthrough);
    let stamps = kind == PassKind::Final && flows.iter().any(|r| r.plan.sei.latency);
    // A clip is timed from the video stream's start, for audio as for video.
    let origin_s = ictx
        .stream(vinfo.index)
        .map(|s| s.start_time())
        .filter(|&t| t != ffi::AV_NOPTS_VALUE)
        .map(|t| media::seconds(t, vinfo.time_base))
        .unwrap_or(0.0);
    let video_cut = match (job.clip, &job.span) {
        (Some(c), _) => Some(Cut::new(c, origin_s, vinfo.time_base)),
        (None, Some(span)) => Some(Cut::ticks(span.from, span.to)),
        (None, None) => None,
    };
    let mut video_in: Box<dyn Sink<ff::Packet>> = if video_branches.is_empty() {
        // Every output is audio alone: the video is not decoded.
        Box::new(NullSink)
    } else {
        let vdec = VideoDecode::new(&ictx, vinfo, job.decoder_threads, passthrough, path)?
            .with_cut(video_cut)
            .with_stamps(stamps);
        task::stage(
            job.decode_mode,
            policy,
            vdec,
            "decode-video".into(),
            "decode",
            Box::new(Tee::new(video_branches)),
            input_state.clone(),
        )
    };
    let mut audio_in: Option<Box<dyn Sink<ff::Packet>>> = None;
    let mut audio_copy: Option<Tee<ff::Packet>> = None;
    if let Some(a) = ainfo {
        if !audio_enc_branches.is_empty() {
            let adec = AudioDecode::new(&ictx, a, path)?
                .with_cut(job.clip.map(|c| Cut::new(c, origin_s, a.time_base)));
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
    // A clip starts reading at the keyframe before its start, and stops a few seconds past its
    // end (past any frame reordering).
    let clip_end_s = match (job.clip, &job.span) {
        (Some(c), _) => c.duration.map(|d| origin_s + c.start + d + 3.0),
        (None, Some(span)) => span.to.map(|t| media::seconds(t, vinfo.time_base) + 3.0),
        (None, None) => None,
    };
    let seek_to = match (job.clip, &job.span) {
        (Some(c), _) => {
            (c.start > 0.0).then(|| ((origin_s + c.start) * ffi::AV_TIME_BASE as f64) as i64)
        }
        // A microsecond late, so the keyframe the chunk starts at is at or before it.
        (None, Some(span)) => (span.index > 0)
            .then(|| (media::seconds(span.from, vinfo.time_base) * 1e6).ceil() as i64 + 1),
        (None, None) => None,
    };
    if let Some(ts) = seek_to {
        // A failed seek only costs decoding from the start: the decoder drops those frames.
        let _ = ictx.seek(ts, ..ts);
    }
    let mut reached_s: f64 = 0.0;
    let mut video_packets: u64 = 0;
    let mut pacer = job.realtime.then(input::Pacer::new);
    let mut read_error: Option<Error> = None;
    let mut video_alive = true;
    // The demux task's own time is the reading; the stages it feeds (inline when serial) are
    // measured by their own stats.
    let (mut demux_busy, mut demux_cpu) = (0.0f64, 0.0f64);
    loop {
        let (w, c) = (Instant::now(), crate::cpu::thread_cpu_s());
        let read = input::next_packet(&mut ictx, path, job.follow_s.is_some());
        demux_busy += w.elapsed().as_secs_f64();
        demux_cpu += crate::cpu::thread_cpu_s() - c;
        let packet = match read {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        };
        demux_stats.frames_in += 1;
        demux_stats.bytes_out += packet.size() as u64;
        let idx = packet.stream();
        if idx == v_index {
            if let (Some(p), Some(dts)) = (pacer.as_mut(), packet.dts().or(packet.pts())) {
                p.wait(media::seconds(dts - v_start, vinfo.time_base));
            }
            if let Some(pts) = packet.pts().or(packet.dts()) {
                let end = media::seconds(pts - v_start + packet.duration().max(0), vinfo.time_base);
                reached_s = reached_s.max(end);
            }
            video_packets += 1;
            if let (Some(end), Some(dts)) = (clip_end_s, packet.dts().or(packet.pts())) {
                if media::seconds(dts, vinfo.time_base) > end {
                    break;
                }
            }
            // A chunk needs no packet decoded at or after its end: a packet's presentation
            // time is never before its decode time.
            if let (Some(span), Some(dts)) = (&job.span, packet.dts()) {
                if span.to.is_some_and(|to| dts >= to) {
                    break;
                }
            }
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
        && job.clip.is_none()
        && job.span.is_none()
        && vinfo.index != usize::MAX
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
