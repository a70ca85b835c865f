//! Running the binary and generating media for CLI tests.

use std::path::Path;
use std::process::{Command, Output};

/// Runs `rdbench` with `args` in `dir`.
pub fn rdbench(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdbench"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("rdbench runs")
}

/// Runs the ffmpeg CLI quietly; panics on failure.
pub fn ffmpeg(dir: &Path, args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Asserts a failed run printed exactly one line on stderr, starting with "rdbench: error: ",
/// containing every one of `needles`, and no panic or backtrace; exit status 1.
pub fn assert_one_line_error(out: &Output, needles: &[&str]) -> String {
    assert_one_line_error_with(out, 1, needles)
}

/// [`assert_one_line_error`] with another exit status.
pub fn assert_one_line_error_with(out: &Output, code: i32, needles: &[&str]) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        !out.status.success(),
        "expected a failure, got success; stderr: {stderr}"
    );
    assert_eq!(
        out.status.code(),
        Some(code),
        "exit status; stderr: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].starts_with("rdbench: error: "), "{stderr}");
    for n in needles {
        assert!(lines[0].contains(n), "`{n}` missing from: {}", lines[0]);
    }
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "{stderr}"
    );
    lines[0].to_string()
}

/// Serialises the tests that run whole benchmark suites, so that one suite's timings are not
/// taken while another suite competes for the same cores (the gate compares CPU times).
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// Files directly in `dir` other than `keep`.
pub fn extra_files(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}
