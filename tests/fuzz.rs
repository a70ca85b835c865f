//! Fuzzed parsers: every reader of user input (suite, job, templates, manifest and gate-rule
//! TOML; RD-curve CSV; run-folder JSON; Y4M streams) takes seeded random mutations of valid
//! inputs for a bounded number of cases, never panics, and always names the file in its error.

use std::path::Path;

use rdbench_corpora::{Corpus, ManifestOrigin};

/// Seeded, so every machine runs the same cases.
type Rng = rdbench_results::stats::SplitMix64;

/// Tokens that tend to reach parsers' corner cases.
const TOKENS: [&str; 22] = [
    "[",
    "]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    "\n",
    ",",
    "-1",
    "0",
    "1e308",
    "nan",
    "inf",
    "-0.0",
    "99999999999999999999",
    "[[sequence]]",
    "[[config]]",
    "[[output]]",
    "\u{feff}",
    "\\u0000",
    "\u{1F600}",
];

/// One mutation of `input`.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            2 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                v.splice(at..at, t.bytes());
            }
            3 if !v.is_empty() => {
                let start = rng.below(v.len());
                let end = (start + 1 + rng.below(64)).min(v.len());
                let chunk: Vec<u8> = v[start..end].to_vec();
                v.splice(at..at, chunk);
            }
            4 => {
                let n = rng.below(8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                v.splice(at..at, bytes);
            }
            _ => v.truncate(at),
        }
    }
    v
}

/// Runs `parse` on `cases` mutations of each of `seeds`; a panic fails the test with the input
/// that caused it, and an error must name `name`.
fn fuzz(
    label: &str,
    seeds: &[Vec<u8>],
    cases: usize,
    name: &str,
    parse: impl Fn(&[u8]) -> Result<(), String>,
) {
    let mut rng = Rng::new(0x5eed ^ label.len() as u64 * 7919);
    let mut errors = 0;
    for i in 0..cases {
        let seed = &seeds[i % seeds.len()];
        let input = if i < seeds.len() {
            seed.clone()
        } else {
            mutate(&mut rng, seed)
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&input)));
        match outcome {
            Err(_) => panic!(
                "{label}: the parser panicked on case {i}:\n{}",
                String::from_utf8_lossy(&input)
            ),
            Ok(Err(e)) => {
                errors += 1;
                assert!(
                    e.contains(name),
                    "{label}: case {i}: the error does not name `{name}`: {e}"
                );
                assert!(
                    !e.contains('\n'),
                    "{label}: case {i}: a multi-line error: {e}"
                );
            }
            Ok(Ok(())) => {}
        }
    }
    assert!(
        errors > cases / 10,
        "{label}: mutations almost never broke the input ({errors} errors)"
    );
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CASES: usize = 5000;

#[test]
fn toml_readers_never_panic_and_name_the_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let suite = std::fs::read(root.join("bench-suite/suites/default.toml")).unwrap();
    fuzz("suite", &[suite], CASES, "s.toml", |b| {
        rdbench_bench_suite::suite::Suite::parse(&text(b), Some(Path::new("s.toml")))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let job = std::fs::read(root.join("examples/jobs/ladder.toml")).unwrap();
    fuzz("job", &[job], CASES, "job.toml", |b| {
        rdbench_transcode::spec::parse_job(&text(b), Path::new("job.toml"))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let templates = std::fs::read(root.join("examples/jobs/templates.toml")).unwrap();
    fuzz("templates", &[templates], CASES, "t.toml", |b| {
        rdbench_transcode::spec::parse_templates(&text(b), Path::new("t.toml"))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let manifests: Vec<Vec<u8>> = ["quick.toml", "derf.toml", "aomctc.toml"]
        .iter()
        .map(|m| std::fs::read(root.join("corpora/manifests").join(m)).unwrap())
        .collect();
    fuzz("manifest", &manifests, CASES, "m.toml", |b| {
        Corpus::parse(&text(b), ManifestOrigin::File("m.toml".into()))
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let rules = std::fs::read(root.join("examples/gate.toml")).unwrap();
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("rules.toml");
    fuzz("gate rules", &[rules], CASES, "rules.toml", |b| {
        std::fs::write(&path, b).unwrap();
        rdbench_results::gate::GateRules::load(&path)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
}

#[test]
fn csv_json_and_y4m_readers_never_panic_and_name_the_file() {
    let d = tempfile::tempdir().unwrap();
    let csv =
        b"bitrate_kbps,vmaf,psnr_y\n1000,80.5,35.1\n2000,88,37.2\n4000,93.25,39\n8000,96,41\n"
            .to_vec();
    let path = d.path().join("curve.csv");
    fuzz("csv", &[csv], CASES, "curve.csv", |b| {
        std::fs::write(&path, b).unwrap();
        rdbench_bdrate::csv::read_rd_curve(&path, &Default::default())
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // Run-folder JSON: a manifest and a job record, mutated in turn.
    let run = d.path().join("run");
    std::fs::create_dir_all(run.join("jobs")).unwrap();
    let manifest = serde_json::to_vec(&rdbench_results::run::Manifest {
        run_id: "r".into(),
        suite_name: "s".into(),
        anchor: "x264".into(),
        ..Default::default()
    })
    .unwrap();
    let job = serde_json::to_vec(&rdbench_results::run::JobResult {
        record: rdbench_results::EncodeRecord {
            job_id: "c/s/x264/crf/0/r0".into(),
            config: "x264".into(),
            bitrate_kbps: 812.5,
            vmaf: Some(91.0),
            ..Default::default()
        },
        frames: vec![Default::default()],
    })
    .unwrap();
    let mpath = run.join("manifest.json");
    let jpath = run.join("jobs/c~s~x264~crf~0~r0.json");
    std::fs::write(&jpath, &job).unwrap();
    fuzz(
        "manifest.json",
        &[manifest.clone()],
        CASES,
        "manifest.json",
        |b| {
            std::fs::write(&mpath, b).unwrap();
            rdbench_results::run::load(&run)
                .map(|_| ())
                .map_err(|e| e.to_string())
        },
    );
    std::fs::write(&mpath, &manifest).unwrap();
    fuzz("job record", &[job], CASES, "c~s~x264~crf~0~r0.json", |b| {
        std::fs::write(&jpath, b).unwrap();
        rdbench_results::run::load(&run)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    // Y4M: a two-frame 8-bit stream and a 10-bit one, through the one reader.
    let y4m = |header: &str, frame_bytes: usize| {
        let mut v = header.as_bytes().to_vec();
        for f in 0..2u8 {
            v.extend_from_slice(b"FRAME\n");
            v.extend((0..frame_bytes).map(|i| (i as u8).wrapping_add(f)));
        }
        v
    };
    let seeds = vec![
        y4m("YUV4MPEG2 W8 H4 F30:1 Ip A1:1 C420jpeg\n", 8 * 4 * 3 / 2),
        y4m(
            "YUV4MPEG2 W4 H4 F25:1 Ip C420p10 XYSCSS=420P10\n",
            4 * 4 * 3,
        ),
    ];
    fuzz("y4m", &seeds, CASES, "clip.y4m", |b| {
        let mut r = rdbench_corpora::y4m::Y4mReader::with_name(
            std::io::Cursor::new(b.to_vec()),
            "clip.y4m",
        )
        .map_err(|e| e.to_string())?;
        while r.read_frame().map_err(|e| e.to_string())?.is_some() {}
        Ok(())
    });
}
