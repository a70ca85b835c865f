//! A job under live control: the input is read as the job runs, and commands on the control
//! channel (see [`crate::control`]) change it between packets: outputs are added (from the next
//! frame) and removed (their files finished while the others go on), a libx264 output's bitrate
//! changes from its next frame, and another input follows the current one when it ends, its
//! frames continuing the timeline. Every command is answered with its effect, or refused with a
//! reason and no change.
//!
//! The outputs hang off [`Branches`] (a tee whose branches change while it runs), and each
//! input's decoders feed them; an input that ends closes its decoders, not the outputs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::Receiver;
use ffmpeg_next as ff;
use ffmpeg_sys_next as ffi;

use super::plan::{resolve_output, Resolved};
use super::report::summarize;
use super::{build_flow, AudioBranch, Flow, JobReport, PassKind, Progress, SourceSummary};
use crate::control::{Ack, Command, Request};
use crate::encode::LiveRate;
use crate::error::{Error, Result};
use crate::input::{self, AudioDecode, AudioInfo, InputSource, VideoDecode, VideoInfo};
use crate::media::{self, AudioFrame, VideoFrame};
use crate::spec::OutputSettings;
use crate::task::{self, Branches, Mode, PipelineState, Sink, TaskStats};

use super::{AudioPlan, Job, OutputReport};

/// One output of the live job, running or finished.
struct LiveOutput {
    resolved: Resolved,
    state: Arc<PipelineState>,
    rate: Option<LiveRate>,
    /// The thread finishing its file after a `remove_output`.
    closing: Option<JoinHandle<()>>,
    removed: bool,
}

/// What the command handler needs to see and change.
struct Live<'a> {
    job: &'a Job,
    path: PathBuf,
    vinfo: VideoInfo,
    ainfo: Option<AudioInfo>,
    outputs: Vec<LiveOutput>,
    /// Refused at planning, by index.
    failed: BTreeMap<usize, OutputReport>,
    video: Branches<VideoFrame>,
    audio_frames: Branches<AudioFrame>,
    audio_packets: Branches<ff::Packet>,
    next_input: Option<InputSource>,
    next_index: usize,
    log: Vec<Ack>,
}

/// Runs `job` taking commands from `commands` until its inputs end.
pub(super) fn run(
    job: &Job,
    commands: Receiver<Request>,
    progress: &dyn Progress,
) -> Result<JobReport> {
    let refuse = |message: String| Error::Spec {
        field: "control".into(),
        message,
    };
    if job.chunked.is_some() || !job.concat.is_empty() || job.clip.is_some() {
        return Err(refuse(
            "live control runs a job over one whole input: no `chunked`, `concat` or `clip`".into(),
        ));
    }
    if !job.snapshots.is_empty() {
        return Err(refuse("live control takes no [[snapshot]] sets".into()));
    }
    let start = Instant::now();
    let cpu0 = crate::cpu::process_cpu_s();
    let path = job.input.display_path();
    let ictx = input::open_following(&job.input, job.follow_s)?;
    let vinfo = input::video_info(&ictx, &path)?;
    let ainfo = input::audio_info(&ictx);
    let first_video = vinfo.clone();
    let mut live = Live {
        job,
        path: path.clone(),
        vinfo,
        ainfo,
        outputs: Vec::new(),
        failed: BTreeMap::new(),
        video: Branches::default(),
        audio_frames: Branches::default(),
        audio_packets: Branches::default(),
        next_input: None,
        next_index: job.outputs.len() + job.rejected.len(),
        log: Vec::new(),
    };
    for (i, p, e) in &job.rejected {
        let e = super::clone_error(e);
        live.failed
            .insert(*i, OutputReport::failed(*i, p.clone(), String::new(), e));
    }
    for plan in &job.outputs {
        if let Err(e) = live.start_output(plan.clone(), &ictx) {
            live.failed.insert(
                plan.index,
                OutputReport::failed(plan.index, Some(plan.path.clone()), plan.codec.clone(), e),
            );
        }
    }
    progress.pass_started(1, 1, None);

    let input_state = PipelineState::new();
    let mut input_tasks: Vec<TaskStats> = Vec::new();
    let mut demux_stats = TaskStats {
        name: "demux".into(),
        kind: "demux",
        ..Default::default()
    };
    let demux_start = Instant::now();
    // Seconds of output timeline before the current input's first frame.
    let mut offset_s = 0.0f64;
    let mut ictx = ictx;
    let mut packets: u64 = 0;
    let mut pacer = job.realtime.then(input::Pacer::new);
    loop {
        let path = live.path.clone();
        let vinfo = live.vinfo.clone();
        let ainfo = live.ainfo.clone();
        let origin_s = ictx
            .stream(vinfo.index)
            .map(|s| s.start_time())
            .filter(|&t| t != ffi::AV_NOPTS_VALUE)
            .map(|t| media::seconds(t, vinfo.time_base))
            .unwrap_or(0.0);
        let ticks = |tb: ff::Rational| {
            ((offset_s - origin_s) * tb.denominator() as f64 / tb.numerator().max(1) as f64).round()
                as i64
        };
        // Outputs may join at any time: user data and stage times are kept on every frame, and
        // each output takes what it writes.
        let (passthrough, stamps) = (true, true);
        let vdec = VideoDecode::new(&ictx, &vinfo, job.decoder_threads, passthrough, &path)?
            .with_offset(ticks(vinfo.time_base))
            .with_stamps(stamps);
        let mut video_in = task::stage(
            job.decode_mode,
            job.policy,
            vdec,
            "decode-video".into(),
            "decode",
            Box::new(live.video.clone()),
            input_state.clone(),
        );
        let mut audio_in: Option<Box<dyn Sink<ff::Packet>>> = None;
        let a_offset = ainfo.as_ref().map(|a| ticks(a.time_base)).unwrap_or(0);
        if let Some(a) = &ainfo {
            let adec = AudioDecode::new(&ictx, a, &path)?.with_offset(a_offset);
            audio_in = Some(task::stage(
                Mode::Serial,
                job.policy,
                adec,
                "decode-audio".into(),
                "decode",
                Box::new(live.audio_frames.clone()),
                input_state.clone(),
            ));
        }
        let v_index = vinfo.index;
        let a_index = ainfo.as_ref().map(|a| a.index);
        let v_start = ictx
            .stream(v_index)
            .map(|s| s.start_time())
            .filter(|&t| t != ffi::AV_NOPTS_VALUE)
            .unwrap_or(0);
        let mut reached_s = 0.0f64;
        let mut read_error = None;
        loop {
            // Commands apply between packets.
            while let Ok(req) = commands.try_recv() {
                let at = offset_s + reached_s;
                let ack = live.apply(req.command, &ictx, at);
                live.log.push(ack.clone());
                let _ = req.reply.send(ack);
            }
            let packet = match input::next_packet(&mut ictx, &path, job.follow_s.is_some()) {
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
                if let Some(dts) = packet.dts().or(packet.pts()) {
                    if let Some(p) = pacer.as_mut() {
                        p.wait(offset_s + media::seconds(dts - v_start, vinfo.time_base));
                    }
                }
                if let Some(pts) = packet.pts().or(packet.dts()) {
                    let end =
                        media::seconds(pts - v_start + packet.duration().max(0), vinfo.time_base);
                    reached_s = reached_s.max(end);
                }
                packets += 1;
                let _ = video_in.push(packet);
                if packets % 8 == 0 {
                    progress.decoded(packets);
                }
            } else if Some(idx) == a_index {
                let mut copy = packet.clone();
                let shift = |t: Option<i64>| t.map(|t| t + a_offset);
                copy.set_pts(shift(copy.pts()));
                copy.set_dts(shift(copy.dts()));
                let _ = live.audio_packets.push(copy);
                if let Some(a) = audio_in.as_mut() {
                    let _ = a.push(packet);
                }
            }
        }
        // This input is done: its decoders flush into the outputs, which stay open.
        let _ = video_in.close();
        if let Some(mut a) = audio_in {
            let _ = a.close();
        }
        drop(video_in);
        if let Some(e) = read_error {
            live.close_all();
            return Err(e);
        }
        offset_s += reached_s;
        // Commands that came while the decoders flushed still count for this input.
        while let Ok(req) = commands.try_recv() {
            let ack = live.apply(req.command, &ictx, offset_s);
            live.log.push(ack.clone());
            let _ = req.reply.send(ack);
        }
        let Some(next) = live.next_input.take() else {
            break;
        };
        let next_path = next.display_path();
        ictx = input::open_following(&next, job.follow_s)?;
        live.vinfo = input::video_info(&ictx, &next_path)?;
        live.ainfo = input::audio_info(&ictx);
        live.path = next_path;
    }
    progress.decoded(packets);
    demux_stats.wall_s = demux_start.elapsed().as_secs_f64();
    demux_stats.frames_out = demux_stats.frames_in;
    live.close_all();
    input_tasks.push(demux_stats);
    input_tasks.extend(input_state.take_stats());
    let corrupt = input_tasks.iter().map(|t| t.corrupt).sum();

    let mut reports = std::mem::take(&mut live.failed);
    for o in live.outputs.drain(..) {
        let errors = o.state.take_errors();
        let stats = o.state.take_stats();
        reports.insert(
            o.resolved.plan.index,
            summarize(&o.resolved, errors.into_iter().next(), stats),
        );
    }
    let v0 = first_video;
    Ok(JobReport {
        input: job.input.display_path(),
        source: SourceSummary {
            width: v0.width,
            height: v0.height,
            fps: v0.rate.fps(),
            pix_fmt: media::pix_fmt_name(v0.pix_fmt),
            duration_s: Some(offset_s),
            frames: None,
        },
        outputs: reports.into_values().collect(),
        input_tasks,
        wall_s: start.elapsed().as_secs_f64(),
        cpu_s: crate::cpu::process_cpu_s() - cpu0,
        corrupt_packets: corrupt,
        snapshots: Vec::new(),
        chunks: Vec::new(),
        commands: std::mem::take(&mut live.log),
    })
}

impl Live<'_> {
    /// Resolves and wires `plan`, its branches joining the running ones.
    fn start_output(
        &mut self,
        plan: super::OutputPlan,
        ictx: &ff::format::context::Input,
    ) -> Result<usize> {
        if plan.crop_black {
            return Err(Error::Spec {
                field: format!("{}.crop_black", plan.field),
                message: "black borders are not looked for in a live job".into(),
            });
        }
        let r = resolve_output(&plan, &self.vinfo, None)?;
        if r.passes == 2 {
            return Err(Error::Spec {
                field: format!("{}.rc.passes", plan.field),
                message: "a live job encodes in one pass".into(),
            });
        }
        let state = PipelineState::new();
        let Flow { video, audio, rate } = build_flow(
            self.job.policy,
            &self.path,
            &self.vinfo,
            self.ainfo.as_ref(),
            ictx,
            &r,
            PassKind::Final,
            &state,
        )?;
        let id = plan.index;
        if let Some(v) = video {
            self.video.add(id, v);
        }
        match audio {
            Some(AudioBranch::Copy(b)) => self.audio_packets.add(id, b),
            Some(AudioBranch::Encode(b)) => self.audio_frames.add(id, b),
            None => {}
        }
        self.outputs.push(LiveOutput {
            resolved: r,
            state,
            rate,
            closing: None,
            removed: false,
        });
        Ok(self.outputs.len() - 1)
    }

    /// The running output called `name` (`output[i]` or its path).
    fn find(&self, name: &str) -> std::result::Result<usize, String> {
        let hit = self.outputs.iter().position(|o| {
            let p = &o.resolved.plan;
            p.field == name
                || p.path == Path::new(name)
                || p.path.file_name().is_some_and(|f| f == name)
                || self
                    .job
                    .spec
                    .as_ref()
                    .and_then(|c| c.spec_path.as_deref())
                    .is_some_and(|sp| crate::spec::resolve(sp, name) == p.path)
        });
        match hit {
            Some(i) if self.outputs[i].removed => Err(format!("{name} was removed already")),
            Some(i) if self.outputs[i].state.failed() => {
                Err(format!("{name} has failed and is not running"))
            }
            Some(i) => Ok(i),
            None => Err(format!("no running output is called {name}")),
        }
    }

    /// Applies one command at `at_s` of the output timeline.
    fn apply(&mut self, command: Command, ictx: &ff::format::context::Input, at_s: f64) -> Ack {
        let op = command.op();
        let result = match command {
            Command::AddOutput { output } => self.add(*output, ictx, at_s),
            Command::RemoveOutput { output } => self.remove(&output, at_s),
            Command::SetBitrate {
                output,
                bitrate_kbps,
            } => self.set_bitrate(&output, bitrate_kbps),
            Command::ReplaceInput { input } => self.replace_input(&input),
        };
        match result {
            Ok(effect) => Ack::done(op, at_s, effect),
            Err(reason) => Ack::refused(op, at_s, reason),
        }
    }

    fn add(
        &mut self,
        settings: OutputSettings,
        ictx: &ff::format::context::Input,
        at_s: f64,
    ) -> std::result::Result<String, String> {
        let index = self.next_index;
        let plan = self
            .job
            .plan_added(settings, index)
            .map_err(|e| e.to_string())?;
        if let Some(o) = self
            .outputs
            .iter()
            .find(|o| o.resolved.plan.path == plan.path)
        {
            return Err(format!(
                "{} is already written by {}",
                plan.path.display(),
                o.resolved.plan.field
            ));
        }
        let (field, path) = (plan.field.clone(), plan.path.clone());
        self.start_output(plan, ictx).map_err(|e| e.to_string())?;
        self.next_index += 1;
        Ok(format!(
            "{field} ({}) started; its first frame is the next one decoded, at {at_s:.3} s",
            path.display()
        ))
    }

    fn remove(&mut self, name: &str, at_s: f64) -> std::result::Result<String, String> {
        let i = self.find(name)?;
        let id = self.outputs[i].resolved.plan.index;
        let video = self.video.remove(id);
        let packets = self.audio_packets.remove(id);
        let frames = self.audio_frames.remove(id);
        let o = &mut self.outputs[i];
        o.removed = true;
        // Its file is finished on a thread of its own: the other outputs go on meanwhile.
        o.closing = Some(std::thread::spawn(move || {
            if let Some(mut v) = video {
                let _ = v.close();
            }
            if let Some(mut a) = packets {
                let _ = a.close();
            }
            if let Some(mut a) = frames {
                let _ = a.close();
            }
        }));
        let p = &o.resolved.plan;
        Ok(format!(
            "{} ({}) stopped at {at_s:.3} s; its file is being finished",
            p.field,
            p.path.display()
        ))
    }

    fn set_bitrate(&mut self, name: &str, kbps: f64) -> std::result::Result<String, String> {
        let i = self.find(name)?;
        let o = &self.outputs[i];
        let p = &o.resolved.plan;
        if !(kbps.is_finite() && (1.0..=1_000_000.0).contains(&kbps)) {
            return Err(format!(
                "bitrate_kbps must be between 1 and 1000000, not {kbps}"
            ));
        }
        let Some(rate) = &o.rate else {
            let rc = o
                .resolved
                .plan
                .rc
                .as_ref()
                .map_or("its encoder's default".to_string(), |r| {
                    r.mode().to_string()
                });
            return Err(format!(
                "{} ({} under {rc}) cannot change its bitrate while running; libx264 with a VBV (cbr, capped_crf) can",
                p.field, p.codec
            ));
        };
        rate.store((kbps * 1000.0).round() as u64, Ordering::Relaxed);
        Ok(format!(
            "{} targets {kbps} kbit/s from its next frame",
            p.field
        ))
    }

    fn replace_input(&mut self, text: &str) -> std::result::Result<String, String> {
        let base = self.job.spec.as_ref().and_then(|c| c.spec_path.clone());
        let next = InputSource::parse(text, base.as_deref());
        let shown = next.display_path();
        let ictx = input::open(&next).map_err(|e| e.to_string())?;
        input::video_info(&ictx, &shown).map_err(|e| e.to_string())?;
        let a = input::audio_info(&ictx);
        let same_audio = |x: &Option<AudioInfo>, y: &Option<AudioInfo>| match (x, y) {
            (Some(x), Some(y)) => {
                (x.codec.as_str(), x.sample_rate, x.channels, x.time_base)
                    == (y.codec.as_str(), y.sample_rate, y.channels, y.time_base)
            }
            (None, None) => true,
            _ => false,
        };
        let with_audio = self
            .outputs
            .iter()
            .any(|o| !o.removed && o.resolved.plan.audio != AudioPlan::Drop);
        if with_audio && !same_audio(&self.ainfo, &a) {
            let describe = |x: &Option<AudioInfo>| {
                x.as_ref().map_or("no audio".to_string(), |a| {
                    format!("{} {} Hz {} ch", a.codec, a.sample_rate, a.channels)
                })
            };
            return Err(format!(
                "{} has {} where the outputs take {}; only inputs with the same audio follow one another",
                shown.display(),
                describe(&a),
                describe(&self.ainfo)
            ));
        }
        let replaced = self.next_input.replace(next);
        Ok(format!(
            "{} follows {} when it ends{}",
            shown.display(),
            self.path.display(),
            replaced.map_or(String::new(), |r| format!(
                " (instead of {})",
                r.display_path().display()
            ))
        ))
    }

    /// Closes every branch and waits for every output's file.
    fn close_all(&mut self) {
        self.video.close_all();
        self.audio_packets.close_all();
        self.audio_frames.close_all();
        for o in &mut self.outputs {
            if let Some(h) = o.closing.take() {
                let _ = h.join();
            }
        }
    }
}
