//! `rdbench transcode` with bad input: each gets one line naming the file or the spec field,
//! a non-zero exit, and nothing half-written at an output path.

use std::path::Path;

use crate::support::*;

fn job(dir: &Path, input: &str, output: &str, extra: &str) {
    std::fs::write(dir.join("job.toml"), format!("input = \"{input}\"\n[[output]]\npath = \"{output}\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\n{extra}\n")).unwrap();
}

fn media(dir: &Path) {
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "good.mkv",
        ],
    );
}

#[test]
fn a_missing_input_file() {
    let d = tempfile::tempdir().unwrap();
    job(d.path(), "nothere.mp4", "o.mp4", "");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["nothere.mp4", "no such file"],
    );
    assert_eq!(extra_files(d.path(), &["job.toml"]), Vec::<String>::new());
}

#[test]
fn a_missing_job_file() {
    let d = tempfile::tempdir().unwrap();
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "nojob.toml"]),
        &["nojob.toml", "no such file"],
    );
}

#[test]
fn a_file_that_is_not_media() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("notes.mp4"), "these are notes, not video\n").unwrap();
    job(d.path(), "notes.mp4", "o.mp4", "");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["notes.mp4", "not a media file"],
    );
    assert_eq!(
        extra_files(d.path(), &["job.toml", "notes.mp4"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_truncated_file() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    let bytes = std::fs::read(d.path().join("good.mkv")).unwrap();
    std::fs::write(d.path().join("cut.mkv"), &bytes[..bytes.len() / 2]).unwrap();
    job(d.path(), "cut.mkv", "o.mp4", "");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["cut.mkv", "truncated"],
    );
    assert_eq!(
        extra_files(d.path(), &["job.toml", "good.mkv", "cut.mkv"]),
        Vec::<String>::new(),
        "no output, no temporaries"
    );
}

#[test]
fn corrupt_packets_mid_stream_are_counted_and_skipped() {
    let d = tempfile::tempdir().unwrap();
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "good.ts",
        ],
    );
    let mut bytes = std::fs::read(d.path().join("good.ts")).unwrap();
    // Scribble over three stretches of payload, keeping the transport-stream sync bytes.
    let n = bytes.len();
    let mut x: u32 = 12345;
    for start in [n / 3, n / 2, 2 * n / 3] {
        for (i, b) in bytes.iter_mut().enumerate().skip(start).take(3000) {
            if i % 188 != 0 {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = (x >> 16) as u8;
            }
        }
    }
    std::fs::write(d.path().join("bad.ts"), &bytes).unwrap();
    job(d.path(), "bad.ts", "o.mp4", "");
    let out = rdbench(d.path(), &["transcode", "job.toml", "--report", "r.json"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "corruption mid-stream is not fatal: {stderr}"
    );
    assert!(
        stderr.contains("bad.ts") && stderr.contains("corrupt"),
        "the user is told: {stderr}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("r.json")).unwrap()).unwrap();
    assert!(report["corrupt_packets"].as_u64().unwrap() > 0);
    let frames = report["outputs"][0]["frames"].as_u64().unwrap();
    assert!(
        (80..=100).contains(&frames),
        "{frames} frames survive of 100"
    );
}

#[test]
fn an_unknown_codec() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    std::fs::write(
        d.path().join("job.toml"),
        "input = \"good.mkv\"\n[[output]]\npath = \"o.mp4\"\ncodec = \"libx999\"\n",
    )
    .unwrap();
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["output[0].codec", "libx999"],
    );
    assert!(!d.path().join("o.mp4").exists());
}

#[test]
fn an_unknown_encoder_option() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    job(d.path(), "good.mkv", "o.mp4", "options = { nosuchopt = 1 }");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["output[0].options", "nosuchopt", "libx264"],
    );
    assert_eq!(
        extra_files(d.path(), &["job.toml", "good.mkv"]),
        Vec::<String>::new()
    );
}

#[test]
fn an_unknown_encoder_parameter() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    job(d.path(), "good.mkv", "o.mp4", "params = \"nosuchparam=3\"");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["output[0].params", "nosuchparam"],
    );
    assert_eq!(
        extra_files(d.path(), &["job.toml", "good.mkv"]),
        Vec::<String>::new()
    );
}

#[test]
fn an_out_of_range_value() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    job(
        d.path(),
        "good.mkv",
        "o.mp4",
        "rc = { mode = \"crf\", value = 99 }",
    );
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["output[0].rc.value", "99", "libx264"],
    );
}

#[test]
fn a_misspelt_field_names_its_line() {
    let d = tempfile::tempdir().unwrap();
    job(d.path(), "good.mkv", "o.mp4", "heigth = 720");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["job.toml", "line 6", "heigth"],
    );
}

#[test]
fn an_output_folder_that_cannot_be_written() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    std::fs::write(d.path().join("blocker"), "a file where a folder should be").unwrap();
    job(d.path(), "good.mkv", "blocker/out/o.mp4", "");
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml"]),
        &["output[0].path", "blocker"],
    );
}

#[test]
fn one_failing_output_does_not_take_the_others_down() {
    let d = tempfile::tempdir().unwrap();
    media(d.path());
    std::fs::write(
        d.path().join("job.toml"),
        "input = \"good.mkv\"\n[defaults]\ncodec = \"libx264\"\npreset = \"ultrafast\"\n\
         [[output]]\npath = \"ok.mp4\"\n\
         [[output]]\npath = \"bad.mp4\"\nparams = \"nosuchparam=1\"\n\
         [[output]]\npath = \"ok2.mkv\"\nheight = 60\n",
    )
    .unwrap();
    let out = rdbench(d.path(), &["transcode", "job.toml"]);
    let line = assert_one_line_error(&out, &["bad.mp4", "output[1].params"]);
    assert!(!line.contains("ok.mp4"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ok.mp4") && stdout.contains("ok2.mkv"),
        "{stdout}"
    );
    assert!(d.path().join("ok.mp4").is_file() && d.path().join("ok2.mkv").is_file());
    let mut extra = extra_files(d.path(), &["job.toml", "good.mkv", "ok.mp4", "ok2.mkv"]);
    extra.sort();
    assert_eq!(
        extra,
        Vec::<String>::new(),
        "the failed output left nothing behind"
    );
}

#[test]
fn bad_chunk_slices_are_named() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("job.toml"),
        "input = \"in.mp4\"\n[[output]]\npath = \"o.mp4\"\ncodec = \"libx264\"\n",
    )
    .unwrap();
    let out = rdbench(d.path(), &["transcode", "job.toml", "--chunks", "3/2"]);
    let e = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(e.contains("--chunks") && e.contains("`3/2`"), "{e}");
    assert!(!e.contains("panicked"), "{e}");
    // A job that is not chunked has no slices.
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=1",
            "in.mp4",
        ],
    );
    assert_one_line_error(
        &rdbench(d.path(), &["transcode", "job.toml", "--chunks", "1/2"]),
        &["execution.chunked", "not chunked"],
    );
}
