//! Any clip as a sequence: `rdbench bench --clips` over media files of every common container
//! and codec (decoded once into the corpus cache through the transcode core, 10-bit kept,
//! 4:2:2 converted with a note), `rdbench corpus add` writing a manifest that later runs check
//! files against, and bad input (not media, audio only, truncated, missing, a variable frame
//! rate) refused in one line with nothing half-written.

use std::path::Path;

use crate::support::*;

const SRC: &str = "testsrc2=size=320x180:rate=30,trim=end_frame=20";

fn make(dir: &Path, name: &str, codec_args: &[&str]) {
    let mut args = vec!["-f", "lavfi", "-i", SRC];
    args.extend_from_slice(codec_args);
    args.push(name);
    ffmpeg(dir, &args);
}

fn suite(dir: &Path) {
    std::fs::write(
        dir.join("suite.toml"),
        "name = \"clips\"\ncorpora = [\"quick\"]\nmetrics = [\"psnr\"]\nanchor = \"x264\"\n\
         [[config]]\nname = \"x264\"\ncodec = \"libx264\"\npreset = \"ultrafast\"\nthreads = 1\ncrf = [24, 34]\n",
    )
    .unwrap();
}

fn cache_files(dir: &Path) -> Vec<String> {
    let d = dir.join("cache/corpora/clips");
    std::fs::read_dir(&d)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn media_files_of_every_kind_are_benchmarked_directly() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    let media = dir.join("media");
    std::fs::create_dir(&media).unwrap();
    make(
        &media,
        "h264.mp4",
        &["-c:v", "libx264", "-pix_fmt", "yuv420p"],
    );
    make(
        &media,
        "hevc10.mkv",
        &[
            "-c:v",
            "libx265",
            "-pix_fmt",
            "yuv420p10le",
            "-x265-params",
            "log-level=0",
        ],
    );
    make(
        &media,
        "prores422.mov",
        &["-c:v", "prores_ks", "-pix_fmt", "yuv422p10le"],
    );
    make(&media, "ffv1.mkv", &["-c:v", "ffv1"]);
    make(
        &media,
        "vp9.webm",
        &["-c:v", "libvpx-vp9", "-deadline", "realtime"],
    );
    make(&media, "av1.ivf", &["-c:v", "libsvtav1", "-preset", "12"]);
    make(&media, "raw.y4m", &["-pix_fmt", "yuv420p"]);
    suite(dir);
    let out = rdbench(
        dir,
        &[
            "bench",
            "--suite",
            "suite.toml",
            "--clips",
            "media",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--run-id",
            "r",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = rdbench_results::run::load(&dir.join("runs/r")).unwrap();
    assert_eq!(run.jobs.len(), 7 * 2);
    for j in &run.jobs {
        let r = &j.record;
        assert!(r.is_ok(), "{}: {:?}", r.job_id, r.error);
        assert_eq!(
            (r.width, r.height, r.frames),
            (320, 180, 20),
            "{}",
            r.job_id
        );
        assert_eq!(r.corpus, "clips");
    }
    // Each file was decoded once into the cache, keyed by its SHA-256; 10-bit stays 10-bit and
    // 4:2:2 becomes 4:2:0 of the same depth. The Y4M is read in place.
    let files = cache_files(dir);
    let y4m = |id: &str| {
        let f = files
            .iter()
            .find(|f| f.starts_with(&format!("{id}-")) && f.ends_with(".y4m"))
            .unwrap_or_else(|| panic!("no decode of {id} in {files:?}"));
        let text = std::fs::read(dir.join("cache/corpora/clips").join(f)).unwrap();
        String::from_utf8_lossy(&text[..60]).into_owned()
    };
    assert!(y4m("hevc10").contains(" C420p10"), "{}", y4m("hevc10"));
    assert!(
        y4m("prores422").contains(" C420p10"),
        "{}",
        y4m("prores422")
    );
    assert!(y4m("h264").contains(" C420"), "{}", y4m("h264"));
    assert!(!files.iter().any(|f| f.starts_with("raw-")), "{files:?}");
    assert!(!files.iter().any(|f| f.contains(".decoding")), "{files:?}");
    // The run's design names the clips by content.
    let design = run.manifest.design.unwrap();
    assert_eq!(design["clips"].as_array().unwrap().len(), 7);

    // A second run decodes nothing again.
    let again = rdbench(
        dir,
        &[
            "bench",
            "--suite",
            "suite.toml",
            "--clips",
            "media/*.mkv",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--run-id",
            "r2",
        ],
    );
    assert!(again.status.success());
    assert!(!String::from_utf8_lossy(&again.stdout).contains("decoded"));
    assert_eq!(
        rdbench_results::run::load(&dir.join("runs/r2"))
            .unwrap()
            .jobs
            .len(),
        4
    );
}

#[test]
fn corpus_add_writes_a_manifest_that_runs_check_files_against() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    make(
        dir,
        "talk.mov",
        &["-c:v", "prores_ks", "-pix_fmt", "yuv422p10le"],
    );
    make(dir, "cam.mp4", &["-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    let out = rdbench(
        dir,
        &[
            "corpus",
            "add",
            "mine",
            "talk.mov",
            "cam.mp4",
            "--cache-dir",
            "cache",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.join("mine.toml")).unwrap();
    for needle in [
        "source = { path = \"talk.mov\" }",
        "width = 320\nheight = 180\nfps = \"30/1\"\nframes = 20\nbit_depth = 10\n",
        "notes = \"converted from yuv422p10le to yuv420p10le\"",
        "class = \"D\"  # suggested from the picture size",
        "# SI ",
    ] {
        assert!(text.contains(needle), "`{needle}` missing from:\n{text}");
    }
    let sha = |f: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(dir.join(f)).unwrap()))
    };
    assert!(text.contains(&format!("sha256 = \"{}\"", sha("cam.mp4"))));
    // The manifest runs as a corpus.
    suite(dir);
    let s = std::fs::read_to_string(dir.join("suite.toml"))
        .unwrap()
        .replace("[\"quick\"]", "[\"mine.toml\"]");
    std::fs::write(dir.join("suite.toml"), s).unwrap();
    let run = rdbench(
        dir,
        &[
            "bench",
            "--suite",
            "suite.toml",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // A fact that does not match the file names the field and both values.
    let wrong = text.replacen("width = 320\nheight = 180", "width = 640\nheight = 360", 1);
    std::fs::write(dir.join("mine.toml"), wrong).unwrap();
    assert_one_line_error(
        &rdbench(
            dir,
            &[
                "bench",
                "--suite",
                "suite.toml",
                "--runs-dir",
                "runs",
                "--cache-dir",
                "cache",
            ],
        ),
        &["talk", "width is 320 in the file but 640 in the manifest"],
    );
    // A manifest entry may give the path alone.
    std::fs::write(
        dir.join("mine.toml"),
        "name = \"mine\"\n[[sequence]]\nid = \"cam\"\nsource = { path = \"cam.mp4\" }\n",
    )
    .unwrap();
    let run = rdbench(
        dir,
        &[
            "bench",
            "--suite",
            "suite.toml",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--run-id",
            "bare",
        ],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // And a manifest that would be overwritten is refused.
    assert_one_line_error(
        &rdbench(
            dir,
            &["corpus", "add", "mine", "cam.mp4", "--cache-dir", "cache"],
        ),
        &["mine.toml", "already exists"],
    );
}

#[test]
fn bad_media_is_refused_in_one_line_and_leaves_nothing_half_written() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path();
    suite(dir);
    std::fs::write(dir.join("notes.mp4"), "not a video").unwrap();
    ffmpeg(dir, &["-f", "lavfi", "-i", "sine=duration=1", "song.m4a"]);
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30,trim=end_frame=90",
            "-c:v",
            "libx264",
            "whole.mkv",
        ],
    );
    let whole = std::fs::read(dir.join("whole.mkv")).unwrap();
    std::fs::write(dir.join("cut.mkv"), &whole[..whole.len() / 2]).unwrap();
    ffmpeg(
        dir,
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x180:rate=30,trim=end_frame=40",
            "-vf",
            "select='not(eq(n\\,10)+eq(n\\,20)+eq(n\\,21)+eq(n\\,22))'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "vfr.mkv",
        ],
    );
    let bench = |clip: &str, extra: &[&str]| {
        let mut args = vec![
            "bench",
            "--suite",
            "suite.toml",
            "--runs-dir",
            "runs",
            "--cache-dir",
            "cache",
            "--clips",
            clip,
        ];
        args.extend_from_slice(extra);
        rdbench(dir, &args)
    };
    assert_one_line_error(&bench("notes.mp4", &[]), &["notes.mp4", "not a media file"]);
    assert_one_line_error(&bench("song.m4a", &[]), &["song.m4a", "no video stream"]);
    assert_one_line_error(&bench("cut.mkv", &[]), &["cut.mkv", "truncated"]);
    assert_one_line_error(
        &bench("gone.mp4", &[]),
        &["gone.mp4", "no such file or folder"],
    );
    assert_one_line_error(&bench("*.avi", &[]), &["*.avi", "names no media file"]);
    assert_one_line_error(
        &bench("vfr.mkv", &[]),
        &["vfr.mkv", "variable frame rate", "--cfr"],
    );
    // Nothing of the failed decodes is in the cache, and no run folder was started.
    let files = cache_files(dir);
    assert!(
        !files
            .iter()
            .any(|f| f.ends_with(".y4m") || f.contains(".decoding")),
        "{files:?}"
    );
    assert!(
        !dir.join("runs").exists() || std::fs::read_dir(dir.join("runs")).unwrap().count() == 0
    );
    // On request a variable rate is resampled to the nominal one: 40 frames' worth of time.
    let ok = bench("vfr.mkv", &["--cfr", "--run-id", "cfr"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let run = rdbench_results::run::load(&dir.join("runs/cfr")).unwrap();
    let frames: Vec<u64> = run.records().map(|r| r.frames).collect();
    assert!(frames.iter().all(|f| (39..=40).contains(f)), "{frames:?}");
}
