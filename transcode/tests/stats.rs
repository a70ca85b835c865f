//! Task statistics: what every task reports, and the encoder's packet list.

use crate::support::*;

#[test]
fn tasks_report_frames_time_cpu_bytes_and_packets() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "320x240", 25, 2.0, false);
    let report = run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[[output]]
path = "a.mp4"
codec = "libx264"
preset = "medium"
threads = 1
rc = { mode = "crf", value = 23 }
"#,
    );
    let o = &report.outputs[0];
    let kinds: Vec<&str> = o.tasks.iter().map(|t| t.kind).collect();
    for k in ["filter", "encode", "mux"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let enc = o.encode_stats().unwrap();
    assert_eq!((enc.frames_in, enc.packets.len() as u64), (50, 50));
    assert_eq!(
        enc.packets.iter().map(|p| p.size as u64).sum::<u64>(),
        enc.bytes_out
    );
    assert!(enc.cpu_s > 0.0 && enc.busy_s > 0.0 && enc.wall_s >= enc.busy_s * 0.5);
    assert!(enc.packets[0].key && enc.packets[0].pict_type == 'I');
    assert!(
        enc.packets.iter().any(|p| p.pict_type == 'B'),
        "x264 medium makes B-frames and says so"
    );
    let mux = o.tasks.iter().find(|t| t.kind == "mux").unwrap();
    assert_eq!(
        mux.bytes_out,
        std::fs::metadata(dir.path().join("a.mp4")).unwrap().len()
    );
    let decode = report
        .input_tasks
        .iter()
        .find(|t| t.kind == "decode")
        .unwrap();
    assert_eq!(decode.frames_out, 50);
    assert!(decode.cpu_s > 0.0);
    assert!(report.cpu_s > 0.0 && report.wall_s > 0.0);
}

#[test]
fn serial_tasks_sharing_a_thread_are_each_charged_only_their_own_work() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "640x360", 25, 2.0, false);
    let report = run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[execution]
decode = "serial"
filter = "serial"
encode = "serial"
mux = "serial"
[[output]]
path = "a.mp4"
codec = "libx264"
preset = "medium"
threads = 1
height = 180
rc = { mode = "crf", value = 23 }
"#,
    );
    let o = &report.outputs[0];
    let tasks: f64 = report
        .input_tasks
        .iter()
        .chain(o.tasks.iter())
        .map(|t| t.cpu_s)
        .sum();
    // Everything ran on this process; the parts cannot add up to more than the whole.
    assert!(
        tasks <= report.cpu_s * 1.02 + 0.01,
        "tasks {tasks:.3} s > process {:.3} s: time counted twice",
        report.cpu_s
    );
    let demux = report
        .input_tasks
        .iter()
        .find(|t| t.kind == "demux")
        .unwrap();
    assert!(
        demux.cpu_s < 0.5 * o.encode_cpu_s,
        "demux {:.3} s charged with the encoder's work {:.3} s",
        demux.cpu_s,
        o.encode_cpu_s
    );
}

#[test]
fn live_mode_counts_every_frame_it_drops() {
    let dir = tempfile::tempdir().unwrap();
    source(dir.path(), "mezz.mp4", "640x360", 30, 2.0, false);
    let report = run_ok(
        dir.path(),
        r#"
input = "mezz.mp4"
[execution]
mode = "live"
queue = 2
live_drop_threshold = 1
[defaults]
rc = { mode = "crf", value = 30 }
threads = 1
[[output]]
path = "slow.mp4"
codec = "libx265"
preset = "slow"
[[output]]
path = "fast.mp4"
codec = "libx264"
preset = "ultrafast"
height = 90
"#,
    );
    let mut any_drop = false;
    for o in &report.outputs {
        let filter = o.tasks.iter().find(|t| t.kind == "filter").unwrap();
        assert_eq!(
            o.frames + filter.dropped,
            60,
            "{:?}: every frame is encoded or counted as dropped",
            o.path
        );
        any_drop |= filter.dropped > 0;
    }
    assert!(
        any_drop,
        "a slow x265 behind a one-frame queue must drop in live mode"
    );
}
