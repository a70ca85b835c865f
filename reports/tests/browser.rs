//! The HTML page in headless Chromium: it renders (a screenshot that is not blank), its script
//! runs to the end without a console message (`data-rendered="ok"` in the DOM after load), and a
//! page with a script error is caught by the same checks.
//!
//! Chromium is a test dependency: `cargo xtask deps` installs it (CI does). Without it these
//! tests fail, they are never skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rdbench_reports::{render, ReportOptions};

use crate::fixture::{write_run, Variant};
use crate::render::png_stats;

const CHROMIUM: &str = "/usr/bin/chromium";

fn chromium() -> &'static str {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing: run `cargo xtask deps` to install the test packages (CI installs them)"
    );
    CHROMIUM
}

/// What Chromium printed and whether it succeeded.
struct Output {
    success: bool,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

/// Runs headless Chromium on `page` with `extra` arguments and a fresh profile, its output going
/// to files (a pipe would fill up and stall it); stops it after 90 s.
fn run_chromium(page: &Path, extra: &[String]) -> Output {
    let profile = tempfile::tempdir().unwrap();
    let out_path = profile.path().join("stdout.txt");
    let err_path = profile.path().join("stderr.txt");
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-first-run",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CHROMIUM}: {e}"));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s on {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    Output {
        success: status.success(),
        stdout: std::fs::read(&out_path).unwrap(),
        stderr: std::fs::read(&err_path).unwrap(),
    }
}

/// The console messages and uncaught errors Chromium logged.
fn console_messages(stderr: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_owned)
        .collect()
}

fn dump_dom(page: &Path) -> (String, Vec<String>) {
    let out = run_chromium(page, &["--dump-dom".to_owned()]);
    assert!(
        out.success,
        "chromium --dump-dom failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        console_messages(&out.stderr),
    )
}

fn screenshot(page: &Path, png: &Path) {
    let out = run_chromium(
        page,
        &[
            format!("--screenshot={}", png.display()),
            "--window-size=1400,3000".to_owned(),
        ],
    );
    assert!(
        out.success && png.is_file(),
        "chromium --screenshot failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn rendered_report(tmp: &Path) -> PathBuf {
    let old = write_run(
        tmp,
        &Variant {
            run_id: "old".into(),
            ..Variant::default()
        },
    );
    let new = write_run(
        tmp,
        &Variant {
            run_id: "new".into(),
            x265_rate: 0.98,
            ..Variant::default()
        },
    );
    render(
        &new,
        &ReportOptions {
            compare: Some(&old),
            ..Default::default()
        },
    )
    .unwrap()
    .html
}

#[test]
fn the_page_renders_in_chromium_without_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let html = rendered_report(tmp.path());

    let (dom, console) = dump_dom(&html);
    assert!(console.is_empty(), "console messages: {console:#?}");
    assert!(
        dom.contains("data-rendered=\"ok\""),
        "the page's script did not finish its self-check"
    );
    assert!(
        dom.contains("With VMAF as the metric, x265 saves"),
        "the findings are missing from the DOM"
    );

    let shot = tmp.path().join("screenshot.png");
    screenshot(&html, &shot);
    let (w, h, ink) = png_stats(&shot);
    assert_eq!((w, h), (1400, 3000));
    assert!(
        ink > 0.05,
        "the screenshot is nearly blank: {:.3} of the pixels are not white",
        ink
    );
}

#[test]
fn a_script_error_is_caught_by_the_same_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body data-charts=\"1\"><p>broken</p>\
         <script>missingFunction(); document.body.setAttribute('data-rendered', 'ok');</script>\
         </body></html>",
    )
    .unwrap();
    let (dom, console) = dump_dom(&page);
    assert!(!dom.contains("data-rendered=\"ok\""));
    assert!(
        console
            .iter()
            .any(|l| l.contains("Uncaught ReferenceError: missingFunction is not defined")),
        "{console:#?}"
    );
}
