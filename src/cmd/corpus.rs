//! `rdbench corpus`: list the known corpora, show one's sequences, generate or download it, and
//! verify what is cached.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use rdbench_bench_suite::media::CoreDecoder;
use rdbench_corpora::cache::Provenance;
use rdbench_corpora::catalogue::{manifest_dirs, Catalogue};
use rdbench_corpora::materialize::Decoder;
use rdbench_corpora::{
    Cache, Corpus, Event, FetchOptions, Integrity, MaterializeOptions, Sequence, Source,
    VerifyStatus,
};

/// Manage test-sequence corpora.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: CorpusCommand,
    /// Cache folder [default: $RDBENCH_CACHE, else $XDG_CACHE_HOME/rdbench, else ~/.cache/rdbench].
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Another folder of manifests (*.toml); may be repeated.
    #[arg(long = "manifests", global = true, value_name = "DIR")]
    manifest_dirs: Vec<PathBuf>,
    /// A folder searched for local sources given by relative path; may be repeated.
    #[arg(long = "data", global = true, value_name = "DIR")]
    data_dirs: Vec<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum CorpusCommand {
    /// List the known corpora (built in and from manifest folders).
    List,
    /// Show a corpus's sequences and what is cached of them.
    Info {
        /// Corpus name or manifest path.
        name: String,
    },
    /// Generate or download a corpus, check it, and measure SI/TI.
    Fetch {
        /// Corpus name or manifest path.
        name: String,
        /// Transfers tried per file before giving up (each resumes the last).
        #[arg(long, default_value_t = 3)]
        attempts: u32,
        /// Do not compute SI/TI after fetching.
        #[arg(long)]
        no_siti: bool,
    },
    /// Hash the cached files of a corpus and compare them with what is expected.
    Verify {
        /// Corpus name or manifest path.
        name: String,
    },
    /// Write a manifest for media files: each probed and decoded once into the cache, with its
    /// SHA-256, SI/TI and a suggested class.
    Add {
        /// The corpus name.
        name: String,
        /// Media files, folders or `*` patterns.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Where to write the manifest (default: NAME.toml here).
        #[arg(long, value_name = "FILE.toml")]
        out: Option<PathBuf>,
        /// Resample variable-frame-rate files to their nominal rate instead of refusing them.
        #[arg(long)]
        cfr: bool,
    },
}

/// Runs `rdbench corpus`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let mut dirs = manifest_dirs();
    dirs.extend(args.manifest_dirs.iter().cloned());
    let load = |name: &str| {
        Corpus::load_from(name, &dirs).with_context(|| format!("loading corpus `{name}`"))
    };
    let cache = || Cache::resolve(args.cache_dir.as_deref()).context("choosing the cache folder");
    let opts = MaterializeOptions {
        data_dirs: args.data_dirs.clone(),
        decoder: Some(Decoder(std::sync::Arc::new(CoreDecoder))),
        ..MaterializeOptions::default()
    };
    match &args.command {
        CorpusCommand::List => list(&dirs),
        CorpusCommand::Info { name } => info(&load(name)?, &cache()?, &opts),
        CorpusCommand::Fetch {
            name,
            attempts,
            no_siti,
        } => {
            let opts = MaterializeOptions {
                fetch: FetchOptions {
                    attempts: *attempts,
                    ..FetchOptions::default()
                },
                ..opts
            };
            fetch(&load(name)?, &cache()?, &opts, !no_siti)
        }
        CorpusCommand::Verify { name } => verify(&load(name)?, &cache()?, &opts),
        CorpusCommand::Add {
            name,
            files,
            out,
            cfr,
        } => add(
            name,
            files,
            out.as_deref(),
            &cache()?,
            &MaterializeOptions { cfr: *cfr, ..opts },
        ),
    }
}

fn add(
    name: &str,
    files: &[PathBuf],
    out: Option<&std::path::Path>,
    cache: &Cache,
    opts: &MaterializeOptions,
) -> anyhow::Result<()> {
    if !rdbench_corpora::manifest::is_corpus_name(name) {
        bail!("corpus name `{name}`: use letters, digits, `.`, `_` or `-`");
    }
    let out = out
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(format!("{name}.toml")));
    if out.exists() {
        bail!("{}: already exists; choose another --out", out.display());
    }
    let corpus = Corpus::of_clips(name, files)?;
    let base = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(|p| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf()))
        .unwrap_or_else(|| std::env::current_dir().unwrap_or_default());
    let mut entries = Vec::new();
    for s in corpus.sequences() {
        let m = corpus.materialize_sequence(s, cache, opts, &mut |e| {
            if let Event::Decoded { id, .. } = e {
                eprintln!("{id}: decoded into the cache");
            }
        })?;
        let Source::Path(p) = &s.source else {
            unreachable!("clips are files")
        };
        let shown = p
            .strip_prefix(&base)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string());
        let siti = m.siti().ok();
        println!(
            "{}: {}x{} {} fps, {} frames, {}-bit, class {}{}",
            m.sequence.id,
            m.sequence.width,
            m.sequence.height,
            m.sequence.fps,
            m.sequence.frames,
            m.sequence.bit_depth,
            m.sequence.class,
            m.sequence
                .notes
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
        entries.push(rdbench_corpora::clips::ManifestEntry {
            sequence: m.sequence.clone(),
            path: shown,
            sha256: m.original_sha256.clone(),
            siti,
        });
    }
    let text = rdbench_corpora::clips::manifest_text(name, &entries);
    rdbench_results::run::write_atomic(&out, text.as_bytes())?;
    println!("wrote {}", out.display());
    Ok(())
}

fn list(dirs: &[PathBuf]) -> anyhow::Result<()> {
    let cat = Catalogue::discover(dirs);
    println!(
        "{:<10} {:>9}  {:<40} description",
        "corpus", "sequences", "manifest"
    );
    for c in &cat.corpora {
        println!(
            "{:<10} {:>9}  {:<40} {}",
            c.name,
            c.sequences().len(),
            c.origin.display_name(),
            c.description
        );
    }
    for e in &cat.errors {
        eprintln!("rdbench: warning: {e}");
    }
    Ok(())
}

fn source_kind(s: &Sequence) -> String {
    match (&s.source, &s.integrity) {
        (Source::Generated(r), _) => format!("generated:{}", r.generator.name()),
        (Source::Url(_), Integrity::Sha256(_)) => "url (sha256)".into(),
        (Source::Url(_), Integrity::Md5(_)) => "url (md5)".into(),
        (Source::Url(_), _) => "url (tofu)".into(),
        (Source::Path(_), _) => "path".into(),
    }
}

fn info(corpus: &Corpus, cache: &Cache, opts: &MaterializeOptions) -> anyhow::Result<()> {
    println!("{} — {}", corpus.name, corpus.description);
    println!("manifest: {}", corpus.origin.display_name());
    println!("cache:    {}", corpus.cache_dir(cache).display());
    println!();
    let idw = corpus
        .sequences()
        .iter()
        .map(|s| s.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    println!(
        "{:<idw$} {:<6} {:>9} {:>10} {:>7} {:>3} {:<19} {:<13} {:>6} {:>6}",
        "id", "class", "size", "fps", "frames", "bit", "source", "state", "SI", "TI"
    );
    for s in corpus.sequences() {
        let st = corpus.status(s, cache, opts);
        let state = match (&s.source, st.present, st.partial) {
            (_, true, _) => if matches!(s.source, Source::Generated(_)) {
                "generated"
            } else {
                "present"
            }
            .to_string(),
            (Source::Url(_), false, Some(b)) => format!("partial {}M", b >> 20),
            (Source::Url(_), false, None) => "not fetched".into(),
            (Source::Generated(_), false, _) => "not generated".into(),
            (Source::Path(_), false, _) => if st.path.is_file() {
                "not hashed"
            } else {
                "missing"
            }
            .into(),
        };
        let frames = match s.slice {
            Some(sl) => format!("{}+{}", sl.start, sl.frames),
            None => s.frames.to_string(),
        };
        let (si, ti) = match st.siti {
            Some(v) => (format!("{:.1}", v.si), format!("{:.1}", v.ti)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<idw$} {:<6} {:>9} {:>10} {:>7} {:>3} {:<19} {:<13} {:>6} {:>6}",
            s.id,
            s.class.as_str(),
            format!("{}x{}", s.width, s.height),
            s.fps.to_string(),
            frames,
            s.bit_depth,
            source_kind(s),
            state,
            si,
            ti
        );
    }
    Ok(())
}

fn fetch(
    corpus: &Corpus,
    cache: &Cache,
    opts: &MaterializeOptions,
    siti: bool,
) -> anyhow::Result<()> {
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    let style = ProgressStyle::with_template(
        "{msg:<24} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .expect("the template is valid");
    let mut on_event = |e: &Event| match e {
        Event::Generating { id, frames } => eprintln!("{id}: generating {frames} frames"),
        Event::Generated {
            id,
            sha256,
            elapsed,
        } => {
            eprintln!(
                "{id}: generated in {:.2} s, sha256 {sha256}",
                elapsed.as_secs_f64()
            );
        }
        Event::Reused { id, path } => eprintln!("{id}: cached at {}", path.display()),
        Event::Removed { id, path } => eprintln!("{id}: removed stale {}", path.display()),
        Event::Downloading {
            id,
            url,
            resume_from,
            total,
        } => {
            if *resume_from > 0 {
                eprintln!("{id}: resuming {url} at byte {resume_from}");
            } else {
                eprintln!("{id}: downloading {url}");
            }
            let bar = ProgressBar::new(total.unwrap_or(0))
                .with_style(style.clone())
                .with_message(id.clone());
            bar.set_position(*resume_from);
            bars.insert(id.clone(), bar);
        }
        Event::Progress { id, bytes, .. } => {
            if let Some(b) = bars.get(id) {
                b.set_position(*bytes);
            }
        }
        Event::Retrying { id, attempt, error } => {
            if let Some(b) = bars.remove(id) {
                b.abandon();
            }
            eprintln!("{id}: attempt {attempt} failed ({error}); resuming");
        }
        Event::Downloaded {
            id,
            sha256,
            provenance,
        } => {
            if let Some(b) = bars.remove(id) {
                b.finish_and_clear();
            }
            let how = match provenance {
                Provenance::Sha256 => "sha256 matches the manifest",
                Provenance::Md5 => "md5 matches the published digest",
                _ => "no published digest",
            };
            eprintln!("{id}: downloaded, {how}; sha256 {sha256}");
        }
        Event::TrustedOnFirstUse { id, sha256 } => {
            eprintln!("{id}: trust on first use: recorded sha256 {sha256} as the reference for later checks");
        }
        Event::Cut { id, start, frames } => {
            eprintln!("{id}: cut frames {start}..{}", start + frames)
        }
        Event::Decoded { id, path } => eprintln!("{id}: decoded into {}", path.display()),
        other => eprintln!("{}: {other:?}", other.id()),
    };
    let mut failures = Vec::new();
    let mut done = Vec::new();
    for s in corpus.sequences() {
        match corpus.materialize_sequence(
            s,
            cache,
            &MaterializeOptions {
                download: true,
                ..opts.clone()
            },
            &mut on_event,
        ) {
            Ok(m) => done.push(m),
            Err(e) => {
                eprintln!("rdbench: error: {e}");
                failures.push(s.id.clone());
            }
        }
    }
    if siti && !done.is_empty() {
        let idw = done
            .iter()
            .map(|m| m.sequence.id.len())
            .max()
            .unwrap_or(2)
            .max(2);
        println!(
            "{:<idw$} {:>7} {:>7} {:>7}  file",
            "id", "frames", "SI", "TI"
        );
        for m in &done {
            let v = m
                .siti()
                .with_context(|| format!("measuring SI/TI of {}", m.path.display()))?;
            println!(
                "{:<idw$} {:>7} {:>7.1} {:>7.1}  {}",
                m.sequence.id,
                m.frames,
                v.si,
                v.ti,
                m.path.display()
            );
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} sequences failed: {}",
            failures.len(),
            corpus.sequences().len(),
            failures.join(", ")
        );
    }
    Ok(())
}

fn verify(corpus: &Corpus, cache: &Cache, opts: &MaterializeOptions) -> anyhow::Result<()> {
    let reports = corpus.verify(cache, opts)?;
    let idw = reports.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let mut bad = 0;
    for r in &reports {
        let line = match &r.status {
            VerifyStatus::Ok { .. } => "ok".to_string(),
            VerifyStatus::Missing => {
                bad += 1;
                "missing".to_string()
            }
            VerifyStatus::Mismatch {
                algorithm,
                expected,
                actual,
            } => {
                bad += 1;
                format!("MISMATCH {algorithm}: expected {expected}, got {actual}")
            }
            VerifyStatus::Unrecorded { sha256 } => {
                format!("unrecorded (sha256 {sha256}; fetch records it)")
            }
        };
        println!("{:<idw$}  {line}  {}", r.id, r.path.display());
    }
    if bad > 0 {
        bail!(
            "{bad} of {} sequences are missing or do not match",
            reports.len()
        );
    }
    Ok(())
}
