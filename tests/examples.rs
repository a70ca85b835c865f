//! Every file under `examples/` is read the way a user's copy would be: TOML through rdbench's
//! own loaders, YAML through a YAML parser with the fields a scheduler or CI service needs,
//! shell scripts through `bash -n`. A file of another kind fails the test until it gets a check,
//! so no example can rot unnoticed.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn yaml(path: &Path) -> Yaml {
    let text = std::fs::read_to_string(path).unwrap();
    let mut docs =
        YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{}", path.display());
    docs.remove(0)
}

fn check_gate_rules(path: &Path) {
    let rules = rdbench_results::gate::GateRules::load(path).unwrap_or_else(|e| panic!("{e}"));
    // The file says it shows the defaults: it must keep saying the truth.
    assert_eq!(
        rules,
        rdbench_results::gate::GateRules::default(),
        "{} no longer shows the defaults",
        path.display()
    );
}

fn check_job(path: &Path) {
    let (spec, templates) =
        rdbench_transcode::spec::load_job(path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!spec.outputs.is_empty(), "{}", path.display());
    if spec.templates.is_some() {
        assert!(
            templates.is_some(),
            "{}: templates not loaded",
            path.display()
        );
    }
}

fn check_commands(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut n = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        rdbench_transcode::control::parse(line)
            .unwrap_or_else(|a| panic!("{}: {line}: {:?}", path.display(), a.reason));
        n += 1;
    }
    assert!(n > 0, "{}", path.display());
}

fn check_templates(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    rdbench_transcode::spec::parse_templates(&text, path).unwrap_or_else(|e| panic!("{e}"));
}

fn check_k8s(path: &Path) {
    let doc = yaml(path);
    assert_eq!(doc["kind"].as_str(), Some("Job"), "{}", path.display());
    let spec = &doc["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_i64().unwrap();
    let container = &spec["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(&command[..2], ["rdbench", "bench"]);
    // rdbench reads JOB_COMPLETION_INDEX and needs the count to match the Job's completions.
    let count = command
        .iter()
        .position(|c| *c == "--shard-count")
        .map(|i| command[i + 1])
        .unwrap();
    assert_eq!(count.parse::<i64>().unwrap(), completions);
}

fn check_github_gate(path: &Path) {
    let doc = yaml(path);
    let job = &doc["jobs"]["gate"];
    assert_eq!(job["container"]["image"].as_str(), Some("debian:12"));
    let runs: Vec<String> = job["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str().map(str::to_owned))
        .collect();
    let all = runs.join("\n");
    assert!(
        all.contains("cargo xtask deps"),
        "the set-up installs the system packages"
    );
    assert!(all.contains("rustup.rs"), "the set-up installs Rust");
    let benches: Vec<&str> = all
        .lines()
        .filter(|l| l.contains("cargo xtask bench"))
        .collect();
    assert_eq!(benches.len(), 2, "a baseline and a candidate run");
    let arg = |line: &str, flag: &str| {
        let words: Vec<&str> = line.split_whitespace().collect();
        words
            .iter()
            .position(|w| *w == flag)
            .map(|i| words[i + 1].to_owned())
            .unwrap_or_else(|| panic!("`{flag}` missing from `{line}`"))
    };
    assert_ne!(
        arg(benches[0], "--cache-dir"),
        arg(benches[1], "--cache-dir"),
        "each side needs its own cache, or the candidate's timings are the baseline's"
    );
    assert_ne!(arg(benches[0], "--runs-dir"), arg(benches[1], "--runs-dir"));
    assert!(
        all.contains("base.sha"),
        "the baseline is the pull request's base commit"
    );
    let gate = all
        .lines()
        .find(|l| l.contains("cargo xtask gate"))
        .expect("a gate step");
    let rules = arg(gate, "--rules");
    assert!(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(&rules).is_file(),
        "{rules}"
    );
    assert!(gate.contains("--out"));
}

fn check_shell(path: &Path) {
    let out = std::process::Command::new("bash")
        .arg("-n")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_example_parses_through_the_real_loaders() {
    let mut all = Vec::new();
    files(&examples(), &mut all);
    all.sort();
    assert!(all.len() >= 6, "{all:?}");
    for path in &all {
        let rel = path
            .strip_prefix(examples())
            .unwrap()
            .to_string_lossy()
            .into_owned();
        match rel.as_str() {
            "gate.toml" => check_gate_rules(path),
            "jobs/templates.toml" => check_templates(path),
            r if r.starts_with("jobs/") && r.ends_with(".toml") => check_job(path),
            "cluster/k8s-indexed-job.yaml" => check_k8s(path),
            "github-actions/gate.yml" => check_github_gate(path),
            r if r.ends_with(".sh") => check_shell(path),
            r if r.ends_with(".jsonl") => check_commands(path),
            other => panic!("examples/{other}: no check reads this kind of file; add one"),
        }
    }
}
