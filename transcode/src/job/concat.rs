//! Concatenation: inputs of any size, frame rate and audio layout played one after the other.
//! Each output is resolved against the first input (its size, frame rate and pixel format, and
//! the first input's audio channels and rate unless the output sets them); every input is then
//! encoded by a job of its own to exactly that (pictures of another shape fitted in, keeping
//! their aspect ratio; frames made constant-rate), several at once, and the pieces are joined
//! without re-encoding, each piece's audio with it.

use std::collections::BTreeMap;
use std::time::Instant;

use ffmpeg_next as ff;

use super::chunked::{
    chunk_dir, encode_all, encode_piece, join_output, load_record, merged_report, piece_plan,
    JoinAudio, Piece,
};
use super::clone_error;
use super::plan::{resolve_output, AudioPlan, Job, OutputPlan};
use super::report::{JobReport, OutputReport, Progress, SourceSummary};
use crate::chunk::{fingerprint, Chunk, ChunkRecord};
use crate::error::{Error, Result};
use crate::input::{self, AudioInfo, InputSource, VideoInfo};
use crate::media;
use crate::spec::FpsMode;

/// One input of the concatenation, probed.
struct Part {
    source: InputSource,
    video: VideoInfo,
    audio: Option<AudioInfo>,
}

/// Runs a concatenation job.
pub(super) fn run(job: &Job, progress: &dyn Progress) -> Result<JobReport> {
    let start = Instant::now();
    let cpu0 = crate::cpu::process_cpu_s();
    let mut parts = Vec::new();
    for source in &job.concat {
        let path = source.display_path();
        let ictx = input::open(source)?;
        parts.push(Part {
            source: source.clone(),
            video: input::video_info(&ictx, &path)?,
            audio: input::audio_info(&ictx),
        });
    }
    let first = &parts[0].video;
    let mut reports: BTreeMap<usize, OutputReport> = BTreeMap::new();
    for (i, p, e) in &job.rejected {
        reports.insert(
            *i,
            OutputReport::failed(*i, p.clone(), String::new(), clone_error(e)),
        );
    }
    // Where each input starts on the output's clock, by its declared duration: what subtitles
    // and timed watermarks are placed by (the join places the pieces by their frames).
    let mut pieces = Vec::new();
    let mut at = 0.0;
    for (k, part) in parts.iter().enumerate() {
        pieces.push(Chunk {
            index: k,
            from: 0,
            to: None,
            start_s: at,
            frames: part.video.frames.unwrap_or(0),
        });
        at += part.video.duration_s.unwrap_or(0.0);
    }

    // Every output's pieces, as each input encodes them.
    let mut failed: BTreeMap<usize, Error> = BTreeMap::new();
    let mut plans: Vec<Vec<Option<(OutputPlan, String)>>> = Vec::new();
    for p in &job.outputs {
        match piece_plans(p, &parts, &pieces) {
            Ok(v) => plans.push(v.into_iter().map(Some).collect()),
            Err(e) => {
                failed.insert(p.index, e);
                plans.push(vec![None; parts.len()]);
            }
        }
    }
    let mut todo: Vec<Vec<usize>> = vec![Vec::new(); parts.len()];
    for (o, p) in job.outputs.iter().enumerate() {
        if failed.contains_key(&p.index) {
            continue;
        }
        let dir = chunk_dir(&p.path);
        if let Err(e) = std::fs::create_dir_all(&dir) {
            failed.insert(p.index, Error::io(&dir, "creating the piece folder", e));
            continue;
        }
        for (k, plan) in plans[o].iter().enumerate() {
            let key = plan.as_ref().map(|(_, key)| key.as_str());
            let done = load_record(&dir, k).is_some_and(|r| Some(r.key.as_str()) == key)
                && dir.join(format!("{k:05}.mp4")).is_file();
            if !done {
                todo[k].push(o);
            }
        }
    }
    let frames_todo = (0..parts.len())
        .filter(|&k| !todo[k].is_empty())
        .map(|k| pieces[k].frames)
        .sum();
    progress.pass_started(1, 1, Some(frames_todo));
    let work: Vec<usize> = (0..parts.len()).filter(|&k| !todo[k].is_empty()).collect();
    let errors = encode_all(job, &work, parts.len(), 0, progress, |k, slot| {
        let outputs = &todo[k];
        let (piece_plans, keys): (Vec<OutputPlan>, Vec<String>) = outputs
            .iter()
            .map(|&o| plans[o][k].clone().expect("planned"))
            .unzip();
        let piece = Piece {
            input: parts[k].source.clone(),
            span: None,
            chunk: pieces[k].clone(),
            outputs,
            plans: piece_plans,
            keys,
            what: format!("concat[{k}] ({})", parts[k].source.display_path().display()),
        };
        encode_piece(job, piece, slot)
    });
    for (i, e) in errors {
        failed.entry(i).or_insert(e);
    }

    // Join each output from its pieces, placed by their frames.
    for p in &job.outputs {
        if let Some(e) = failed.remove(&p.index) {
            reports.insert(
                p.index,
                OutputReport::failed(p.index, Some(p.path.clone()), p.codec.clone(), e),
            );
            continue;
        }
        let dir = chunk_dir(&p.path);
        let mut records: Vec<ChunkRecord> = Vec::new();
        for k in 0..parts.len() {
            match load_record(&dir, k) {
                Some(r) => records.push(r),
                None => break,
            }
        }
        if records.len() != parts.len() {
            let e = Error::Spec {
                field: format!("{}.concat", p.field),
                message: format!(
                    "the piece of concat[{}] is missing in {}",
                    records.len(),
                    dir.display()
                ),
            };
            reports.insert(
                p.index,
                OutputReport::failed(p.index, Some(p.path.clone()), p.codec.clone(), e),
            );
            continue;
        }
        let rate = p.fps.unwrap_or(first.rate);
        let frame_tb = ff::Rational::new(rate.den, rate.num);
        let mut starts = Vec::new();
        let mut before = 0i64;
        for r in &mut records {
            starts.push((before, frame_tb));
            r.chunk.start_s = media::seconds(before, frame_tb);
            before += r.frames as i64;
        }
        let report = match join_output(job, p, &pieces, &dir, &starts, JoinAudio::Pieces) {
            Ok(tasks) => {
                let _ = std::fs::remove_dir_all(&dir);
                merged_report(p, &records, tasks)
            }
            Err(e) => OutputReport::failed(p.index, Some(p.path.clone()), p.codec.clone(), e),
        };
        reports.insert(p.index, report);
    }
    Ok(JobReport {
        input: parts[0].source.display_path(),
        source: SourceSummary {
            width: first.width,
            height: first.height,
            fps: first.rate.fps(),
            pix_fmt: media::pix_fmt_name(first.pix_fmt),
            duration_s: Some(at),
            frames: Some(pieces.iter().map(|c| c.frames).sum()),
        },
        outputs: reports.into_values().collect(),
        input_tasks: Vec::new(),
        wall_s: start.elapsed().as_secs_f64(),
        cpu_s: crate::cpu::process_cpu_s() - cpu0,
        corrupt_packets: 0,
        snapshots: Vec::new(),
        chunks: pieces,
        commands: Vec::new(),
    })
}

/// Output `p` as each input encodes it, with the fingerprint of its settings: the first input's
/// geometry, frame rate, pixel format and audio layout made explicit so every piece matches.
fn piece_plans(
    p: &OutputPlan,
    parts: &[Part],
    pieces: &[Chunk],
) -> Result<Vec<(OutputPlan, String)>> {
    let first = &parts[0];
    let r = resolve_output(p, &first.video, None)?;
    let dir = chunk_dir(&p.path);
    let audio = match &p.audio {
        AudioPlan::Encode {
            codec,
            bitrate_kbps,
            channels,
            sample_rate,
        } => {
            if let Some((k, part)) = parts.iter().enumerate().find(|(_, x)| x.audio.is_none()) {
                return Err(Error::Spec {
                    field: format!("{}.audio", p.field),
                    message: format!(
                        "concat[{k}] ({}) has no audio; drop the audio (audio = \"drop\") or join inputs that all have some",
                        part.source.display_path().display()
                    ),
                });
            }
            let a0 = first.audio.as_ref().expect("checked");
            AudioPlan::Encode {
                codec: codec.clone(),
                bitrate_kbps: *bitrate_kbps,
                channels: channels.or(Some(a0.channels)),
                sample_rate: sample_rate.or(Some(a0.sample_rate)),
            }
        }
        other => other.clone(),
    };
    let fmt = media::pix_fmt_name(r.pix_fmt);
    let (fw, fh) = (first.video.width as u64, first.video.height as u64);
    let mut out = Vec::new();
    for (k, part) in parts.iter().enumerate() {
        let mut q = piece_plan(p, &pieces[k], &dir);
        q.audio = audio.clone();
        q.fps = Some(r.rate);
        q.fps_mode = Some(FpsMode::Cfr);
        q.pix_fmt = Some(fmt.clone());
        let (w, h) = (part.video.width as u64, part.video.height as u64);
        if k > 0 {
            // A crop is in the first input's pixels.
            q.crop = None;
        }
        if k == 0 || w * fh == h * fw {
            q.width = Some(r.width);
            q.height = Some(r.height);
        } else {
            if !p.watermarks.is_empty() {
                return Err(Error::Spec {
                    field: format!("{}.watermarks", p.field),
                    message: format!(
                        "concat[{k}] ({}) is {w}x{h}, another shape than the first input's {fw}x{fh}: watermarks are placed on one shape only",
                        part.source.display_path().display()
                    ),
                });
            }
            // Another shape: fitted into the output's size, keeping its aspect ratio.
            q.width = None;
            q.height = None;
            let fit = crate::video_filter::fit_graph(r.width, r.height, &fmt);
            q.filter = Some(match p.filter.as_deref().filter(|f| !f.trim().is_empty()) {
                Some(f) => format!("{fit},{}", f.trim()),
                None => fit,
            });
        }
        let path = part.source.display_path();
        let stamp = std::fs::metadata(&path)
            .ok()
            .map(|m| (m.len(), m.modified().ok()));
        let key = fingerprint(&format!("{}|{stamp:?}|{q:?}", path.display()));
        out.push((q, key));
    }
    Ok(out)
}
