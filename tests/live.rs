//! `rdbench transcode --control`: commands over a Unix socket and on stdin, answered line by
//! line while the job runs; a control socket that cannot be made is a one-line error.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn source(dir: &std::path::Path) {
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=160x120:rate=25:duration=3",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "a.mp4",
        ],
    );
    std::fs::write(
        dir.join("job.toml"),
        "input = \"a.mp4\"\n[execution]\nrealtime = true\n[[output]]\npath = \"out.mp4\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\nrc = { mode = \"cbr\", bitrate_kbps = 800 }\n",
    )
    .unwrap();
}

#[test]
fn commands_over_a_unix_socket_are_answered_while_the_job_runs() {
    let d = tempfile::tempdir().unwrap();
    source(d.path());
    let sock = d.path().join("control.sock");
    let child = Command::new(env!("CARGO_BIN_EXE_rdbench"))
        .args(["transcode", "job.toml", "--control", "control.sock"])
        .current_dir(d.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    let conn = loop {
        match UnixStream::connect(&sock) {
            Ok(c) => break c,
            Err(_) if t0.elapsed() < Duration::from_secs(20) => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(e) => panic!("no control socket: {e}"),
        }
    };
    let mut writer = conn.try_clone().unwrap();
    let mut reader = BufReader::new(conn);
    let mut ask = |line: &str| -> serde_json::Value {
        writeln!(writer, "{line}").unwrap();
        let mut answer = String::new();
        reader.read_line(&mut answer).unwrap();
        serde_json::from_str(&answer).unwrap()
    };
    let a = ask(r#"{"op":"set_bitrate","output":"out.mp4","bitrate_kbps":200}"#);
    assert_eq!(a["ok"], true, "{a}");
    assert_eq!(
        a["effect"],
        "output[0] targets 200 kbit/s from its next frame"
    );
    let a = ask(r#"{"op":"remove_output","output":"output[7]"}"#);
    assert_eq!(a["ok"], false);
    assert_eq!(a["reason"], "no running output is called output[7]");
    let a = ask("{not json");
    assert_eq!(a["ok"], false);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!sock.exists(), "the socket file is removed at the end");
    assert!(d.path().join("out.mp4").is_file());
}

#[test]
fn commands_on_stdin_are_answered_on_stdout() {
    let d = tempfile::tempdir().unwrap();
    source(d.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdbench"))
        .args(["transcode", "job.toml", "--control", "stdin"])
        .current_dir(d.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        r#"{{"op":"add_output","output":{{"path":"small.mp4","codec":"libx264","height":60}}}}"#
    )
    .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let first: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["ok"], true, "{stdout}");
    assert_eq!(first["op"], "add_output");
    assert!(stdout.contains("small.mp4  80x60  75 frames"), "{stdout}");
}

#[test]
fn a_control_socket_that_cannot_be_made_is_one_line() {
    let d = tempfile::tempdir().unwrap();
    source(d.path());
    std::fs::write(d.path().join("taken"), "a file, not a socket").unwrap();
    let out = rdbench(d.path(), &["transcode", "job.toml", "--control", "taken"]);
    assert_one_line_error(&out, &["--control", "taken", "not a socket"]);
    assert_eq!(
        std::fs::read_to_string(d.path().join("taken")).unwrap(),
        "a file, not a socket"
    );
}
