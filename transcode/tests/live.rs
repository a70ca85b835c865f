//! Live control: a job read in real time takes commands while it runs. Outputs are added and
//! removed without disturbing the others, a libx264 CBR output changes its bitrate, another
//! input follows the first with its frames continuing the timeline, and refused commands change
//! nothing. Checked by decoding the outputs with ffprobe.

use std::path::Path;
use std::process::Command as Process;
use std::time::Duration;

use crossbeam_channel::{bounded, Sender};
use rdbench_transcode::control::{self, Ack, Request};
use rdbench_transcode::job::{self, Job, JobReport, NoProgress};
use rdbench_transcode::spec;

use crate::support::*;

/// Sends one command line as a client would, and waits for the answer.
fn send(tx: &Sender<Request>, line: &str) -> Ack {
    let command = match control::parse(line) {
        Ok(c) => c,
        Err(refused) => return refused,
    };
    let (reply, answer) = bounded(1);
    tx.send(Request { command, reply }).unwrap();
    answer.recv_timeout(Duration::from_secs(30)).unwrap()
}

fn start(dir: &Path, toml: &str) -> (Sender<Request>, std::thread::JoinHandle<JobReport>) {
    let path = dir.join("job.toml");
    std::fs::write(&path, toml).unwrap();
    let (s, t) = spec::load_job(&path).unwrap();
    let job = Job::from_spec(&s, t.as_ref(), Some(&path)).unwrap();
    let (tx, rx) = bounded(4);
    let run = std::thread::spawn(move || job::run_controlled(&job, rx, &NoProgress).unwrap());
    (tx, run)
}

/// (frames, first pts, last pts) of the video stream, decoded.
fn video_frames(path: &Path) -> (usize, f64, f64) {
    let out = Process::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries"])
        .args(["frame=pts_time", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let t: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    (t.len(), t[0], *t.last().unwrap())
}

/// Video kbit/s of the packets presented in [from, to).
fn kbps_between(path: &Path, from: f64, to: f64) -> f64 {
    let out = Process::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries"])
        .args(["packet=pts_time,size", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .unwrap();
    let bytes: u64 = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (t, s) = l.split_once(',')?;
            let t: f64 = t.parse().ok()?;
            (t >= from && t < to).then(|| s.trim_end_matches(',').parse::<u64>().ok())?
        })
        .sum();
    bytes as f64 * 8.0 / 1000.0 / (to - from)
}

#[test]
fn commands_change_a_running_job_and_refusals_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    source(d, "a.mp4", "320x240", 25, 4.0, true);
    source(d, "b.mp4", "320x240", 25, 2.0, true);
    let (first, _, _) = video_frames(&d.join("a.mp4"));
    let (second, _, _) = video_frames(&d.join("b.mp4"));
    let (tx, run) = start(
        d,
        "input = \"a.mp4\"\n[execution]\nrealtime = true\n\
         [defaults]\ncodec = \"libx264\"\npreset = \"ultrafast\"\naudio = { codec = \"aac\", bitrate_kbps = 96 }\n\
         [[output]]\npath = \"main.mp4\"\nrc = { mode = \"cbr\", bitrate_kbps = 1500 }\n\
         [[output]]\npath = \"second.mp4\"\nrc = { mode = \"crf\", value = 28 }\n",
    );
    let mut acks = Vec::new();
    acks.push(send(&tx, r#"{"op":"replace_input","input":"b.mp4"}"#));
    acks.push(send(
        &tx,
        r#"{"op":"set_bitrate","output":"second.mp4","bitrate_kbps":500}"#,
    ));
    acks.push(send(&tx, r#"{"op":"replace_input","input":"missing.mp4"}"#));
    std::thread::sleep(Duration::from_millis(1000));
    acks.push(send(&tx, r#"{"op":"add_output","output":{"path":"added.mp4","height":120,"rc":{"mode":"crf","value":30}}}"#));
    acks.push(send(
        &tx,
        r#"{"op":"add_output","output":{"path":"main.mp4"}}"#,
    ));
    acks.push(send(
        &tx,
        r#"{"op":"add_output","output":{"path":"bad.mp4","codec":"libnothing"}}"#,
    ));
    std::thread::sleep(Duration::from_millis(1000));
    acks.push(send(
        &tx,
        r#"{"op":"set_bitrate","output":"output[0]","bitrate_kbps":300}"#,
    ));
    std::thread::sleep(Duration::from_millis(500));
    acks.push(send(&tx, r#"{"op":"remove_output","output":"second.mp4"}"#));
    acks.push(send(&tx, r#"{"op":"remove_output","output":"second.mp4"}"#));
    acks.push(send(&tx, r#"{"op":"remove_output","output":"nope.mp4"}"#));
    drop(tx);
    let report = run.join().unwrap();

    let oks: Vec<bool> = acks.iter().map(|a| a.ok).collect();
    assert_eq!(
        oks,
        [true, false, false, true, false, false, true, true, false, false],
        "{acks:#?}"
    );
    let reason = |i: usize| acks[i].reason.clone().unwrap();
    assert!(reason(1).starts_with("output[1] (libx264 under crf) cannot change its bitrate"));
    assert!(reason(2).contains("missing.mp4"), "{}", reason(2));
    assert!(reason(4).contains("main.mp4 is already written by output[0]"));
    assert!(reason(5).starts_with("output[3].codec: unknown encoder `libnothing`"));
    assert_eq!(reason(8), "second.mp4 was removed already");
    assert_eq!(reason(9), "no running output is called nope.mp4");
    // The answers are in the report too, in order.
    assert_eq!(report.commands, acks[..report.commands.len()].to_vec());
    assert_eq!(report.commands.len(), 10);

    // main.mp4: both inputs, one timeline, audio throughout.
    let main = d.join("main.mp4");
    let (n, t0, t1) = video_frames(&main);
    assert_eq!(n, first + second, "every frame of both inputs");
    assert!(t0.abs() < 1e-6);
    assert!(
        (t1 - (n - 1) as f64 / 25.0).abs() < 0.02,
        "continuous: last at {t1}"
    );
    let p = probe(&main);
    assert_eq!(p.audio_codec.as_deref(), Some("aac"));
    // The bitrate change: about 1500 kbit/s before, about 300 after.
    let at = acks[6].at_s;
    let before = kbps_between(&main, 0.5, at);
    let after = kbps_between(&main, at + 0.5, t1);
    assert!(
        before > 1000.0 && after < 450.0,
        "{before:.0} then {after:.0} kbit/s"
    );

    // second.mp4 stopped where its answer says, and is a whole file.
    let removed_at = acks[7].at_s;
    let (n2, _, last2) = video_frames(&d.join("second.mp4"));
    assert!(
        (last2 - removed_at).abs() < 0.5,
        "stopped at {last2}, removed at {removed_at}"
    );
    assert!(n2 > 25 && n2 < first, "{n2} frames");
    // added.mp4 started where its answer says and ran to the end at its own size.
    let added_at = acks[3].at_s;
    let added = d.join("added.mp4");
    let (n3, _, _) = video_frames(&added);
    let expect = (first + second) as f64 - added_at * 25.0;
    assert!(
        (n3 as f64 - expect).abs() <= 8.0,
        "{n3} frames, ~{expect:.0} expected"
    );
    let p3 = probe(&added);
    assert_eq!((p3.width, p3.height), (160, 120));
    let indexes: Vec<usize> = report.outputs.iter().map(|o| o.index).collect();
    assert_eq!(indexes, [0, 1, 2]);
    assert!(report.outputs.iter().all(|o| o.error.is_none()));
}

#[test]
fn a_live_source_on_a_fifo_is_read_as_it_comes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("live.ts");
    assert!(Process::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    // A real-time writer: FFmpeg paces its test pattern into the FIFO.
    let mut writer = Process::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-re",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=3",
        ])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-g",
            "25",
            "-f",
            "mpegts",
        ])
        .arg(&fifo)
        .spawn()
        .unwrap();
    let (tx, run) = start(
        d,
        "input = \"live.ts\"\n[execution]\nmode = \"live\"\n\
         [[output]]\npath = \"out.mp4\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\n",
    );
    std::thread::sleep(Duration::from_millis(1500));
    let ack = send(
        &tx,
        r#"{"op":"add_output","output":{"path":"late.mp4","codec":"libx264","preset":"ultrafast"}}"#,
    );
    drop(tx);
    let report = run.join().unwrap();
    assert!(writer.wait().unwrap().success());
    assert!(ack.ok, "{ack:?}");
    // The source did not wait: in live mode a stage that falls behind drops frames, and every
    // frame is either in the output or counted as dropped. The output added 1.5 s in has only
    // what came after.
    let dropped = |i: usize| -> u64 { report.outputs[i].tasks.iter().map(|t| t.dropped).sum() };
    let (all, _, _) = video_frames(&d.join("out.mp4"));
    let (late, _, _) = video_frames(&d.join("late.mp4"));
    assert_eq!(all as u64 + dropped(0), 75);
    let seen = late as f64 + dropped(1) as f64;
    assert!(
        (seen - (75.0 - ack.at_s * 25.0)).abs() <= 8.0 && seen < 60.0,
        "{late} frames and {} dropped after {} s",
        dropped(1),
        ack.at_s
    );
    assert!(report.outputs.iter().all(|o| o.error.is_none()));
}

#[test]
fn a_file_still_being_written_is_followed_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let growing = d.join("growing.ts");
    // FFmpeg writes a 3 s stream into a plain file in real time, packet by packet.
    let mut writer = Process::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-nostdin",
            "-y",
            "-re",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=3",
        ])
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"])
        .args(["-flush_packets", "1", "-f", "mpegts"])
        .arg(&growing)
        .spawn()
        .unwrap();
    // Start reading once the file has some packets (the writer may be slow to start).
    let t = std::time::Instant::now();
    while std::fs::metadata(&growing).map_or(0, |m| m.len()) < 16_000 {
        assert!(t.elapsed().as_secs() < 20, "the writer wrote nothing");
        std::thread::sleep(Duration::from_millis(20));
    }
    let job = |follow: &str, out: &str| {
        format!(
            "input = \"growing.ts\"\n[execution]\n{follow}\n[[output]]\npath = \"{out}\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\n"
        )
    };
    // Without following, the job reads what is there now; with it, everything to the end.
    let now = std::thread::spawn({
        let d = d.to_path_buf();
        let toml = job("", "now.mp4");
        move || {
            let dir = d.join("now");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(d.join("growing.ts"), dir.join("growing.ts")).unwrap();
            run_ok(&dir, &toml)
        }
    });
    let t0 = std::time::Instant::now();
    let followed = run_ok(d, &job("follow_s = 1.5", "all.mp4"));
    let took = t0.elapsed().as_secs_f64();
    assert!(writer.wait().unwrap().success());
    now.join().unwrap();
    let (all, _, _) = video_frames(&d.join("all.mp4"));
    let (part, _, _) = video_frames(&d.join("now/now.mp4"));
    assert_eq!(all, 75, "every frame the writer wrote");
    assert!(part < 60, "{part} frames were there at the start");
    // It waited for the writer's last frame, then for 1.5 s of silence.
    assert!(took > 1.5, "{took:.2} s");
    assert!(followed.outputs[0].error.is_none());
}
