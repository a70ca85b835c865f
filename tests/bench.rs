//! `rdbench bench` and `merge` as a user runs them: a killed run resumes without losing finished
//! jobs, two shards merge into the unsharded run, and bad suites get one-line errors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::*;

pub(crate) fn tiny_corpus(dir: &Path, frames: u32) -> PathBuf {
    let p = dir.join("tiny.toml");
    let seq = |id: &str, gen: &str, class: &str| {
        format!("[[sequence]]\nid = \"{id}\"\nsource = {{ generator = \"{gen}\", seed = 3 }}\nclass = \"{class}\"\nwidth = 128\nheight = 72\nfps = 30\nframes = {frames}\nbit_depth = 8\nlicence = \"CC0-1.0\"\n")
    };
    std::fs::write(
        &p,
        format!(
            "name = \"tiny\"\n{}{}",
            seq("zoom", "zoom", "C"),
            seq("grain", "grain", "B")
        ),
    )
    .unwrap();
    p
}

/// A two-encoder suite on `corpus`; `x264_params` are extra x264 parameters.
pub(crate) fn suite(dir: &Path, corpus: &Path, x264_preset: &str, x264_params: &str) -> PathBuf {
    let p = dir.join(format!("suite-{x264_preset}{x264_params}.toml"));
    let params = if x264_params.is_empty() {
        String::new()
    } else {
        format!("params = \"{x264_params}\"\n")
    };
    std::fs::write(
        &p,
        format!(
            "name = \"tiny\"\ncorpora = [\"{}\"]\nmetrics = [\"vmaf\", \"psnr\"]\nanchor = \"x264\"\njobs = 2\n\
             [[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"{x264_preset}\"\n{params}crf = [20, 26, 32, 38]\nabr_bpp = [0.1, 0.2]\n\
             [[config]]\nname = \"x265\"\ncodec = \"libx265\"\npreset = \"ultrafast\"\ncrf = [22, 28, 34, 40]\nabr_bpp = [0.1, 0.2]\n",
            corpus.display()
        ),
    )
    .unwrap();
    p
}

pub(crate) fn bench(dir: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["bench", "--runs-dir", "runs", "--cache-dir", "cache"];
    all.extend_from_slice(args);
    let out = rdbench(dir, &all);
    assert!(
        out.status.success(),
        "rdbench {all:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Rows of encodes.csv by job id, without the columns that legitimately differ between runs
/// (run id, host, timings, cache state).
pub(crate) fn comparable_rows(run: &Path) -> std::collections::BTreeMap<String, Vec<String>> {
    let text = std::fs::read_to_string(run.join("encodes.csv")).unwrap();
    let mut lines = csv_lines(&text);
    let header = lines.remove(0);
    let skip = [
        "run_id",
        "host",
        "encode_wall_s",
        "encode_cpu_s",
        "encode_fps",
        "decode_wall_s",
        "decode_cpu_s",
        "encode_instructions",
        "score_wall_s",
        "job_cpu_s",
        "cached",
    ];
    let keep: Vec<usize> = (0..header.len())
        .filter(|&i| !skip.contains(&header[i].as_str()))
        .collect();
    let id = header.iter().position(|h| h == "job_id").unwrap();
    lines
        .into_iter()
        .map(|row| {
            (
                row[id].clone(),
                keep.iter().map(|&i| row[i].clone()).collect(),
            )
        })
        .collect()
}

/// A small CSV splitter (quoted cells with commas, doubled quotes).
fn csv_lines(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|line| {
            let mut cells = Vec::new();
            let (mut cur, mut quoted, mut chars) = (String::new(), false, line.chars().peekable());
            while let Some(c) = chars.next() {
                match (c, quoted) {
                    ('"', true) if chars.peek() == Some(&'"') => {
                        cur.push('"');
                        chars.next();
                    }
                    ('"', _) => quoted = !quoted,
                    (',', false) => cells.push(std::mem::take(&mut cur)),
                    (c, _) => cur.push(c),
                }
            }
            cells.push(cur);
            cells
        })
        .collect()
}

#[test]
fn a_killed_run_resumes_and_loses_no_finished_job() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path(), 30);
    let s = suite(d.path(), &corpus, "veryfast", "");
    let mut child = Command::new(env!("CARGO_BIN_EXE_rdbench"))
        .args([
            "bench",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--run-id",
            "k",
            "--jobs",
            "1",
            "--suite",
        ])
        .arg(&s)
        .current_dir(d.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let jobs = d.path().join("runs/k/jobs");
    let count = || {
        std::fs::read_dir(&jobs)
            .map(|r| {
                r.flatten()
                    .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                    .count()
            })
            .unwrap_or(0)
    };
    let start = Instant::now();
    while count() < 3 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no job finished in time"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before: Vec<(String, Vec<u8>)> = std::fs::read_dir(&jobs)
        .unwrap()
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    assert!(
        before.len() >= 3 && before.len() < 24,
        "{} records before the kill",
        before.len()
    );
    assert!(!d.path().join("runs/k/summary.json").exists());
    bench(
        d.path(),
        &["--resume", "runs/k", "--suite", s.to_str().unwrap()],
    );
    assert_eq!(count(), 24, "every job finished after the resume");
    for (name, bytes) in &before {
        assert_eq!(
            &std::fs::read(jobs.join(name)).unwrap(),
            bytes,
            "{name} was redone or changed"
        );
    }
    let leftovers: Vec<String> = std::fs::read_dir(&jobs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "markers or temporaries left: {leftovers:?}"
    );
    assert_eq!(comparable_rows(&d.path().join("runs/k")).len(), 24);
}

#[test]
fn two_shards_merge_into_the_unsharded_run() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path(), 8);
    // Every job is encoded twice (unsharded, then in a shard), and the rows must be equal: the
    // encodes are byte-identical, x264's default settings included (README, "Reproducibility").
    let s = suite(d.path(), &corpus, "veryfast", "");
    let s = s.to_str().unwrap();
    bench(d.path(), &["--suite", s, "--no-cache", "--run-id", "full"]);
    bench(
        d.path(),
        &[
            "--suite",
            s,
            "--no-cache",
            "--run-id",
            "a",
            "--shard",
            "1/2",
        ],
    );
    // The second shard finds its slice from a scheduler's environment, as a Slurm array task would.
    let out = Command::new(env!("CARGO_BIN_EXE_rdbench"))
        .args([
            "bench",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--no-cache",
            "--run-id",
            "b",
            "--suite",
            s,
        ])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "2")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .current_dir(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, b) = (
        d.path().join("runs/a-shard1of2"),
        d.path().join("runs/b-shard2of2"),
    );
    let (na, nb) = (comparable_rows(&a).len(), comparable_rows(&b).len());
    assert_eq!((na, nb), (12, 12), "the shards split the 24 jobs evenly");
    let m = rdbench(
        d.path(),
        &[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            "runs/merged",
        ],
    );
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    let merged = comparable_rows(&d.path().join("runs/merged"));
    let full = comparable_rows(&d.path().join("runs/full"));
    assert_eq!(merged.len(), 24);
    assert!(
        merged == full,
        "the merged run differs from the unsharded one apart from timings"
    );
    let sm: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("runs/merged/summary.json")).unwrap())
            .unwrap();
    let sf: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("runs/full/summary.json")).unwrap())
            .unwrap();
    assert_eq!(sm["bd_sequences"], sf["bd_sequences"]);
}

#[test]
fn bad_suites_get_one_line_errors() {
    let d = tempfile::tempdir().unwrap();
    let corpus = tiny_corpus(d.path(), 8);
    let write = |name: &str, text: &str| {
        std::fs::write(d.path().join(name), text).unwrap();
        name.to_string()
    };
    let head = format!(
        "name = \"t\"\ncorpora = [\"{}\"]\nanchor = \"a\"\njobs = 1\n",
        corpus.display()
    );
    let malformed = write(
        "malformed.toml",
        &format!("{head}[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23\n"),
    );
    assert_one_line_error(
        &rdbench(d.path(), &["bench", "--suite", &malformed]),
        &["malformed.toml", "line 9", "expected `]`"],
    );
    let unknown = write(
        "unknown.toml",
        &format!("{head}[[config]]\nname = \"a\"\ncodec = \"libx999\"\ncrf = [23]\n"),
    );
    assert_one_line_error(
        &rdbench(d.path(), &["bench", "--suite", &unknown]),
        &["unknown.toml", "config[0].codec", "libx999"],
    );
    let range = write(
        "range.toml",
        &format!("{head}[[config]]\nname = \"a\"\ncodec = \"libx265\"\ncrf = [23, 77]\n"),
    );
    assert_one_line_error(
        &rdbench(d.path(), &["bench", "--suite", &range]),
        &["config[0].crf[1]", "77"],
    );
    let missing = write("missing.toml", "name = \"t\"\ncorpora = [\"/no/such/corpus.toml\"]\nanchor = \"a\"\njobs = 1\n[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23]\n");
    assert_one_line_error(
        &rdbench(
            d.path(),
            &["bench", "--suite", &missing, "--runs-dir", "runs"],
        ),
        &["/no/such/corpus.toml"],
    );
    // A local sequence whose checksum does not match its manifest.
    ffmpeg(
        d.path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=64x64:rate=10:duration=0.5",
            "-pix_fmt",
            "yuv420p",
            "clip.y4m",
        ],
    );
    std::fs::write(
        d.path().join("local.toml"),
        "name = \"local\"\n[[sequence]]\nid = \"clip\"\nsource = { path = \"clip.y4m\" }\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\nclass = \"D\"\nwidth = 64\nheight = 64\nfps = 10\nframes = 5\nbit_depth = 8\nlicence = \"test\"\n",
    )
    .unwrap();
    let checksum = write("checksum.toml", "name = \"t\"\ncorpora = [\"local.toml\"]\nanchor = \"a\"\njobs = 1\n[[config]]\nname = \"a\"\ncodec = \"libx264\"\ncrf = [23]\n");
    assert_one_line_error(
        &rdbench(
            d.path(),
            &[
                "bench",
                "--suite",
                &checksum,
                "--runs-dir",
                "runs",
                "--cache-dir",
                "cache",
            ],
        ),
        &["clip", "mismatch"],
    );
}

#[test]
fn a_suite_runs_on_the_corpus_given_on_the_command_line() {
    let _heavy = heavy();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let own = tiny_corpus(dir, 4);
    // Another corpus: one sequence, another name.
    let other = dir.join("other.toml");
    std::fs::write(
        &other,
        "name = \"other\"\n[[sequence]]\nid = \"still\"\nsource = { generator = \"cartoon\", seed = 5 }\nclass = \"B1\"\nwidth = 64\nheight = 48\nfps = 30\nframes = 4\nbit_depth = 8\nlicence = \"CC0-1.0\"\n",
    )
    .unwrap();
    let suite = dir.join("s.toml");
    std::fs::write(
        &suite,
        format!(
            "name = \"s\"\ncorpora = [\"{}\"]\nmetrics = [\"psnr\"]\nanchor = \"x264\"\njobs = 1\n\
             [[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\nthreads = 1\ncrf = [26, 36]\n",
            own.display()
        ),
    )
    .unwrap();
    let s = suite.to_string_lossy().into_owned();
    let o = other.to_string_lossy().into_owned();
    bench(dir, &["--suite", &s, "--corpus", &o, "--run-id", "r"]);
    let rows = comparable_rows(&dir.join("runs/r"));
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows.keys().all(|id| id.starts_with("other/still/")),
        "{rows:?}"
    );
    // --corpus and --clips exclude each other; an unknown corpus is named.
    let out = rdbench(
        dir,
        &["bench", "--suite", &s, "--corpus", &o, "--clips", "a.mp4"],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--clips"));
    assert_one_line_error(
        &rdbench(
            dir,
            &[
                "bench",
                "--suite",
                &s,
                "--corpus",
                "nope",
                "--runs-dir",
                "runs",
            ],
        ),
        &["no corpus named `nope`"],
    );
}
