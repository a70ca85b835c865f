//! Turning a corpus into files the benchmark can read: generating, finding local files,
//! downloading (only when asked), checking, cutting the used frames, and verifying what is cached.
//!
//! Files: a generated sequence is `<corpus dir>/<id>-<key16>.y4m` (`key16`: the first 16 hex
//! digits of its recipe key); a downloaded one is `<corpus dir>/<id>.y4m`; a local one stays where
//! it is, with its record at `<corpus dir>/<id>.local.json`. When the benchmark uses fewer frames
//! than the file holds (a `slice`, or `frames` shorter than the file), those frames are copied to
//! `<source stem>.f<start>+<count>.y4m`. Every file has a `<file>.json` record (SHA-256, size,
//! modification time): a file whose size and time still match its record is not hashed again;
//! [`Corpus::verify`] always hashes.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::cache::{
    read_record, record_path, write_atomic, write_record, Cache, FileRecord, Provenance,
};
use crate::error::{CorpusError, Result};
use crate::events::Event;
use crate::fetch::{download, part_path, FetchOptions};
use crate::generate::Generator;
use crate::hash::{digest_file, HashingWriter};
use crate::manifest::{Class, Corpus, Integrity, Sequence, Source};
use crate::media::{is_y4m, plan_decode, suggest_class, MediaDecoder};
use crate::siti::{cached_siti, siti_cached, SiTi};
use rdbench_metrics::y4m::{probe, Y4mError, Y4mReader, Y4mWriter};

/// The environment variable listing data folders (separated like `PATH`) searched for relative
/// local sources.
pub const DATA_ENV: &str = "RDBENCH_DATA";

/// The decoder media sources are read with (the transcode core's, given by the harness).
#[derive(Clone)]
pub struct Decoder(pub std::sync::Arc<dyn MediaDecoder>);

impl std::fmt::Debug for Decoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Decoder")
    }
}

/// How to materialise a corpus.
#[derive(Clone, Debug, Default)]
pub struct MaterializeOptions {
    /// Reads media files (anything but Y4M); without one, such sources are an error.
    pub decoder: Option<Decoder>,
    /// Resample variable-frame-rate sources to their nominal rate instead of refusing them.
    pub cfr: bool,
    /// Download URL sources that are not cached yet (otherwise they are an error).
    pub download: bool,
    /// Folders searched for relative local sources, after the manifest's own folder and before
    /// the folders in `$RDBENCH_DATA`.
    pub data_dirs: Vec<PathBuf>,
    /// Download settings.
    pub fetch: FetchOptions,
}

/// A sequence ready to read: a Y4M file holding exactly the frames the benchmark uses.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MaterializedSequence {
    /// The manifest entry.
    pub sequence: Sequence,
    /// The Y4M file with exactly the used frames.
    pub path: PathBuf,
    /// SHA-256 of `path`.
    pub sha256: String,
    /// The whole source file (the same as `path` when no frames were cut away).
    pub source_path: PathBuf,
    /// SHA-256 of `source_path`.
    pub source_sha256: String,
    /// Frames in `path`.
    pub frames: u32,
    /// SHA-256 of the file the source names (a media file decoded into `source_path`, or
    /// `source_path` itself).
    pub original_sha256: String,
}

impl MaterializedSequence {
    /// SI/TI of the used frames, from the cache beside the file or computed and cached.
    pub fn siti(&self) -> Result<SiTi> {
        siti_cached(&self.path, &self.sha256)
    }

    /// SI/TI of the used frames if already cached.
    pub fn cached_siti(&self) -> Option<SiTi> {
        cached_siti(&self.path, &self.sha256)
    }
}

/// The result of checking one sequence's cached file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerifyStatus {
    /// Present and matching (the manifest's digest, the published MD5, or the recorded hash).
    Ok {
        /// Its SHA-256.
        sha256: String,
    },
    /// Not generated, downloaded or found.
    Missing,
    /// Present but different from what is expected.
    Mismatch {
        /// `sha256` or `md5`.
        algorithm: &'static str,
        /// The expected digest.
        expected: String,
        /// The digest of the file.
        actual: String,
    },
    /// A trust-on-first-use file with no record to compare against (it was put in the cache by
    /// hand); materialising records it.
    Unrecorded {
        /// Its SHA-256.
        sha256: String,
    },
}

/// One line of a verification report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Sequence id.
    pub id: String,
    /// The file checked (where it is or would be).
    pub path: PathBuf,
    /// The outcome.
    pub status: VerifyStatus,
}

/// What is known about a sequence without hashing anything.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceStatus {
    /// The source file, where it is or would be.
    pub path: PathBuf,
    /// Whether that file is present with a cache record.
    pub present: bool,
    /// Bytes of a partial download, if one is waiting to be resumed.
    pub partial: Option<u64>,
    /// SI/TI of the used frames, if cached.
    pub siti: Option<SiTi>,
}

impl Corpus {
    /// The cache folder of this corpus.
    pub fn cache_dir(&self, cache: &Cache) -> PathBuf {
        cache.corpus_dir(&self.name)
    }

    /// Materialises every sequence without downloading and without reporting progress.
    pub fn materialize(&self, cache: &Cache) -> Result<Vec<MaterializedSequence>> {
        self.materialize_with(cache, &MaterializeOptions::default(), &mut |_| {})
    }

    /// Materialises every sequence, in manifest order.
    pub fn materialize_with(
        &self,
        cache: &Cache,
        opts: &MaterializeOptions,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Vec<MaterializedSequence>> {
        self.sequences()
            .iter()
            .map(|s| self.materialize_sequence(s, cache, opts, on_event))
            .collect()
    }

    /// Materialises one sequence.
    pub fn materialize_sequence(
        &self,
        seq: &Sequence,
        cache: &Cache,
        opts: &MaterializeOptions,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<MaterializedSequence> {
        let dir = self.cache_dir(cache);
        let (mut source_path, mut source_sha256) = match &seq.source {
            Source::Generated(_) => generated(seq, &dir, on_event)?,
            Source::Url(url) => downloaded(self, seq, url, &dir, opts, on_event)?,
            Source::Path(p) => local(self, seq, p, &dir, opts, on_event)?,
        };
        let mut seq = seq.clone();
        let original_sha256 = source_sha256.clone();
        if !is_y4m(&source_path) {
            let (decoded, sha, note) =
                decoded(&seq, &source_path, &source_sha256, &dir, opts, on_event)?;
            if let Some(n) = note {
                seq.notes = Some(match seq.notes.take() {
                    Some(old) => format!("{old}; {n}"),
                    None => n,
                });
            }
            source_path = decoded;
            source_sha256 = sha;
        }
        let (header, file_frames) = probe(&source_path)?;
        // Facts the manifest left out come from the file.
        let d = seq.declared;
        if !d.size {
            seq.width = header.width as u32;
            seq.height = header.height as u32;
        }
        if !d.fps {
            seq.fps = header.fps;
        }
        if !d.bit_depth {
            seq.bit_depth = header.bit_depth;
        }
        if !d.frames {
            seq.frames = u32::try_from(file_frames).unwrap_or(u32::MAX);
            if let Some(sl) = seq.slice {
                if u64::from(sl.start) + u64::from(sl.frames) > file_frames {
                    return Err(CorpusError::SourceMismatch {
                        sequence: seq.id.clone(),
                        path: source_path.clone(),
                        field: "frames",
                        expected: format!("at least {} (the slice's end)", sl.start + sl.frames),
                        actual: file_frames.to_string(),
                    });
                }
            }
        }
        if !d.class {
            seq.class = Class::from(suggest_class(seq.width, seq.height));
        }
        let seq = &seq;
        let mismatch =
            |field: &'static str, expected: String, actual: String| CorpusError::SourceMismatch {
                sequence: seq.id.clone(),
                path: source_path.clone(),
                field,
                expected,
                actual,
            };
        if header.width != seq.width as usize {
            return Err(mismatch(
                "width",
                seq.width.to_string(),
                header.width.to_string(),
            ));
        }
        if header.height != seq.height as usize {
            return Err(mismatch(
                "height",
                seq.height.to_string(),
                header.height.to_string(),
            ));
        }
        if header.bit_depth != seq.bit_depth {
            return Err(mismatch(
                "bit_depth",
                seq.bit_depth.to_string(),
                header.bit_depth.to_string(),
            ));
        }
        if header.fps != seq.fps {
            return Err(mismatch("fps", seq.fps.to_string(), header.fps.to_string()));
        }
        if file_frames < u64::from(seq.frames) {
            return Err(mismatch(
                "frames",
                format!("at least {}", seq.frames),
                file_frames.to_string(),
            ));
        }
        let used = seq.used_frames();
        if used.start == 0 && u64::from(used.end) == file_frames {
            return Ok(MaterializedSequence {
                sequence: seq.clone(),
                path: source_path.clone(),
                sha256: source_sha256.clone(),
                source_path,
                source_sha256,
                frames: used.end,
                original_sha256,
            });
        }
        let cut_path = cut_path(seq, &source_path, &dir);
        let cut_source = format!(
            "{source_sha256} frames {}+{}",
            used.start,
            used.end - used.start
        );
        let sha256 = match read_record(&cut_path)? {
            Some(r)
                if r.provenance == Provenance::Cut
                    && r.source == cut_source
                    && r.stat_matches(&cut_path) =>
            {
                on_event(&Event::Reused {
                    id: seq.id.clone(),
                    path: cut_path.clone(),
                });
                r.sha256
            }
            _ => {
                let sha = cut(&source_path, &cut_path, used.start, used.end - used.start)?;
                write_record(&cut_path, &sha, Provenance::Cut, &cut_source)?;
                on_event(&Event::Cut {
                    id: seq.id.clone(),
                    start: used.start,
                    frames: used.end - used.start,
                });
                sha
            }
        };
        Ok(MaterializedSequence {
            sequence: seq.clone(),
            path: cut_path,
            sha256,
            source_path,
            source_sha256,
            frames: used.end - used.start,
            original_sha256,
        })
    }

    /// Downloads (and generates) everything: [`Corpus::materialize_with`] with downloading on.
    pub fn fetch(
        &self,
        cache: &Cache,
        opts: &MaterializeOptions,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Vec<MaterializedSequence>> {
        let opts = MaterializeOptions {
            download: true,
            ..opts.clone()
        };
        self.materialize_with(cache, &opts, on_event)
    }

    /// Hashes every present source file and compares it with what is expected. Never downloads
    /// or generates.
    pub fn verify(&self, cache: &Cache, opts: &MaterializeOptions) -> Result<Vec<VerifyReport>> {
        let dir = self.cache_dir(cache);
        let mut out = Vec::new();
        for seq in self.sequences() {
            let (path, record_at) = match &seq.source {
                Source::Generated(_) => {
                    let p = generated_path(seq, &dir);
                    (p.clone(), record_path(&p))
                }
                Source::Url(_) => {
                    let p = dir.join(format!("{}.y4m", seq.id));
                    (p.clone(), record_path(&p))
                }
                Source::Path(p) => match resolve_local(self, seq, p, opts) {
                    Ok(found) => (found, local_record_path(seq, &dir)),
                    Err(_) => (p.clone(), local_record_path(seq, &dir)),
                },
            };
            if !path.is_file() {
                out.push(VerifyReport {
                    id: seq.id.clone(),
                    path,
                    status: VerifyStatus::Missing,
                });
                continue;
            }
            let d = digest_file(&path, matches!(seq.integrity, Integrity::Md5(_)))?;
            let recorded = read_record_at(&record_at)?.map(|r| r.sha256);
            let status = match (&seq.integrity, recorded) {
                (Integrity::Sha256(h), _) => compare("sha256", h, &d.sha256, &d.sha256),
                (Integrity::Md5(h), _) => {
                    compare("md5", h, d.md5.as_deref().unwrap_or_default(), &d.sha256)
                }
                (_, Some(r)) => compare("sha256", &r, &d.sha256, &d.sha256),
                (Integrity::TrustOnFirstUse, None) => VerifyStatus::Unrecorded { sha256: d.sha256 },
                (_, None) if matches!(seq.source, Source::Path(_)) => {
                    VerifyStatus::Ok { sha256: d.sha256 }
                }
                (_, None) => VerifyStatus::Unrecorded { sha256: d.sha256 },
            };
            out.push(VerifyReport {
                id: seq.id.clone(),
                path,
                status,
            });
        }
        Ok(out)
    }

    /// What is known about a sequence from the cache, without hashing: where its file is or
    /// would be, whether it is there, any partial download, and SI/TI if cached.
    pub fn status(
        &self,
        seq: &Sequence,
        cache: &Cache,
        opts: &MaterializeOptions,
    ) -> SequenceStatus {
        let dir = self.cache_dir(cache);
        let (path, record) = match &seq.source {
            Source::Generated(_) => {
                let p = generated_path(seq, &dir);
                let r = read_record(&p).ok().flatten();
                (p, r)
            }
            Source::Url(_) => {
                let p = dir.join(format!("{}.y4m", seq.id));
                let r = read_record(&p).ok().flatten();
                (p, r)
            }
            Source::Path(p) => {
                let found = resolve_local(self, seq, p, opts).unwrap_or_else(|_| p.clone());
                (
                    found,
                    read_record_at(&local_record_path(seq, &dir)).ok().flatten(),
                )
            }
        };
        let present = path.is_file() && record.is_some();
        let partial = fs::metadata(part_path(&path)).ok().map(|m| m.len());
        let siti = record.as_ref().and_then(|r| {
            let cut = cut_path(seq, &path, &dir);
            match read_record(&cut).ok().flatten() {
                Some(c) if c.source.starts_with(&r.sha256) => cached_siti(&cut, &c.sha256),
                _ => cached_siti(&path, &r.sha256),
            }
        });
        SequenceStatus {
            path,
            present,
            partial,
            siti,
        }
    }
}

fn compare(algorithm: &'static str, expected: &str, actual: &str, sha256: &str) -> VerifyStatus {
    if expected == actual {
        VerifyStatus::Ok {
            sha256: sha256.to_string(),
        }
    } else {
        VerifyStatus::Mismatch {
            algorithm,
            expected: expected.to_string(),
            actual: actual.to_string(),
        }
    }
}

/// Where the used frames of `seq` are cut to: `<dir>/<stem>.f<start>+<count>.y4m`, the stem
/// being the cached source's (so cuts of an old recipe are removed with it) or, for a local
/// source, the sequence id.
fn cut_path(seq: &Sequence, source_path: &Path, dir: &Path) -> PathBuf {
    let used = seq.used_frames();
    let stem = match seq.source {
        Source::Path(_) => seq.id.clone(),
        _ => {
            let name = source_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.strip_suffix(".y4m").unwrap_or(&name).to_string()
        }
    };
    dir.join(format!(
        "{stem}.f{}+{}.y4m",
        used.start,
        used.end - used.start
    ))
}

fn generated_path(seq: &Sequence, dir: &Path) -> PathBuf {
    let spec = seq
        .generate_spec()
        .expect("called for generated sources only");
    dir.join(format!("{}-{}.y4m", seq.id, &spec.key()[..16]))
}

fn local_record_path(seq: &Sequence, dir: &Path) -> PathBuf {
    dir.join(format!("{}.local.json", seq.id))
}

fn read_record_at(record: &Path) -> Result<Option<FileRecord>> {
    match fs::read_to_string(record) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CorpusError::BadRecord {
                path: record.to_path_buf(),
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CorpusError::io(record, e)),
    }
}

/// Generates (or reuses) a generated sequence; removes files of older recipes of the same id.
fn generated(
    seq: &Sequence,
    dir: &Path,
    on_event: &mut dyn FnMut(&Event),
) -> Result<(PathBuf, String)> {
    let spec = seq.generate_spec().expect("generated source");
    let key = spec.key();
    let path = generated_path(seq, dir);
    let reuse = match read_record(&path)? {
        Some(r) if r.provenance == Provenance::Generated && r.source == key && path.is_file() => {
            if r.stat_matches(&path) || digest_file(&path, false)?.sha256 == r.sha256 {
                Some(r.sha256)
            } else {
                None
            }
        }
        _ => None,
    };
    let sha = match reuse {
        Some(sha) => {
            on_event(&Event::Reused {
                id: seq.id.clone(),
                path: path.clone(),
            });
            sha
        }
        None => {
            on_event(&Event::Generating {
                id: seq.id.clone(),
                frames: spec.frames,
            });
            let started = Instant::now();
            let generator = Generator::new(spec);
            let mut sha = String::new();
            write_atomic(&path, |w| {
                let (_, s) = generator.write_y4m(HashingWriter::new(w))?.finish();
                sha = s;
                Ok(())
            })?;
            write_record(&path, &sha, Provenance::Generated, &key)?;
            on_event(&Event::Generated {
                id: seq.id.clone(),
                sha256: sha.clone(),
                elapsed: started.elapsed(),
            });
            sha
        }
    };
    remove_stale(seq, dir, &path, on_event);
    Ok((path, sha))
}

/// Removes `<id>-<16 hex>…` files in `dir` that belong to another recipe key than `current`.
fn remove_stale(seq: &Sequence, dir: &Path, current: &Path, on_event: &mut dyn FnMut(&Event)) {
    let Some(current_name) = current.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    let current_stem = current_name.trim_end_matches(".y4m");
    let prefix = format!("{}-", seq.id);
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        let is_keyed = rest.len() >= 16 && rest[..16].chars().all(|c| c.is_ascii_hexdigit());
        if is_keyed
            && !name.starts_with(current_stem)
            && fs::remove_file(e.path()).is_ok()
            && name.ends_with(".y4m")
        {
            on_event(&Event::Removed {
                id: seq.id.clone(),
                path: e.path(),
            });
        }
    }
}

/// Finds (or downloads, if allowed) a URL source and checks it.
fn downloaded(
    corpus: &Corpus,
    seq: &Sequence,
    url: &str,
    dir: &Path,
    opts: &MaterializeOptions,
    on_event: &mut dyn FnMut(&Event),
) -> Result<(PathBuf, String)> {
    let path = dir.join(format!("{}.y4m", seq.id));
    if !path.is_file() {
        if !opts.download {
            return Err(CorpusError::NotFetched {
                corpus: corpus.name.clone(),
                sequence: seq.id.clone(),
                url: url.to_string(),
            });
        }
        let (sha, _) = download(&seq.id, url, &path, &seq.integrity, &opts.fetch, on_event)?;
        return Ok((path, sha));
    }
    let record = read_record(&path)?;
    if let Some(r) = &record {
        let agrees = match &seq.integrity {
            Integrity::Sha256(h) => r.sha256 == *h,
            Integrity::Md5(_) => r.provenance == Provenance::Md5 && r.source == url,
            _ => true,
        };
        if agrees && r.stat_matches(&path) {
            on_event(&Event::Reused {
                id: seq.id.clone(),
                path: path.clone(),
            });
            return Ok((path, r.sha256.clone()));
        }
    }
    let d = digest_file(&path, matches!(seq.integrity, Integrity::Md5(_)))?;
    let mismatch = |algorithm, expected: &str, actual: &str| CorpusError::ChecksumMismatch {
        sequence: seq.id.clone(),
        what: path.display().to_string(),
        algorithm,
        expected: expected.to_string(),
        actual: actual.to_string(),
    };
    let provenance = match (&seq.integrity, &record) {
        (Integrity::Sha256(h), _) if *h != d.sha256 => {
            return Err(mismatch("sha256", h, &d.sha256))
        }
        (Integrity::Sha256(_), _) => Provenance::Sha256,
        (Integrity::Md5(h), _) if Some(h.as_str()) != d.md5.as_deref() => {
            return Err(mismatch("md5", h, d.md5.as_deref().unwrap_or_default()));
        }
        (Integrity::Md5(_), _) => Provenance::Md5,
        (_, Some(r)) if r.sha256 != d.sha256 => {
            return Err(mismatch("sha256", &r.sha256, &d.sha256))
        }
        (_, Some(r)) => r.provenance,
        (_, None) => {
            on_event(&Event::TrustedOnFirstUse {
                id: seq.id.clone(),
                sha256: d.sha256.clone(),
            });
            Provenance::TrustOnFirstUse
        }
    };
    write_record(&path, &d.sha256, provenance, url)?;
    Ok((path, d.sha256))
}

/// The file a local source names: absolute as is; relative against the manifest's folder, the
/// option's data folders, then `$RDBENCH_DATA`.
fn resolve_local(
    corpus: &Corpus,
    seq: &Sequence,
    p: &Path,
    opts: &MaterializeOptions,
) -> Result<PathBuf> {
    if p.is_absolute() {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(CorpusError::SourceNotFound {
                sequence: seq.id.clone(),
                path: p.to_path_buf(),
                searched: "/".into(),
            })
        };
    }
    let mut dirs: Vec<PathBuf> = corpus
        .origin
        .dir()
        .map(Path::to_path_buf)
        .into_iter()
        .collect();
    dirs.extend(opts.data_dirs.iter().cloned());
    if let Some(v) = std::env::var_os(DATA_ENV) {
        dirs.extend(std::env::split_paths(&v));
    }
    for d in &dirs {
        let c = d.join(p);
        if c.is_file() {
            return Ok(c);
        }
    }
    let searched = if dirs.is_empty() {
        format!("no folders; give data folders or set {DATA_ENV}")
    } else {
        let listed = dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if std::env::var_os(DATA_ENV).is_some() {
            listed
        } else {
            format!("{listed}; set {DATA_ENV} to search more folders")
        }
    };
    Err(CorpusError::SourceNotFound {
        sequence: seq.id.clone(),
        path: p.to_path_buf(),
        searched,
    })
}

/// Finds and checks a local source.
fn local(
    corpus: &Corpus,
    seq: &Sequence,
    p: &Path,
    dir: &Path,
    opts: &MaterializeOptions,
    on_event: &mut dyn FnMut(&Event),
) -> Result<(PathBuf, String)> {
    let path = resolve_local(corpus, seq, p, opts)?;
    let record_at = local_record_path(seq, dir);
    let source = path.display().to_string();
    if let Some(r) = read_record_at(&record_at)? {
        let pinned_ok = match &seq.integrity {
            Integrity::Sha256(h) => r.sha256 == *h,
            Integrity::Md5(_) => r.provenance == Provenance::Md5,
            _ => true,
        };
        if r.source == source && pinned_ok && r.stat_matches(&path) {
            on_event(&Event::Reused {
                id: seq.id.clone(),
                path: path.clone(),
            });
            return Ok((path, r.sha256));
        }
    }
    let d = digest_file(&path, matches!(seq.integrity, Integrity::Md5(_)))?;
    let mismatch = |algorithm, expected: &str, actual: &str| CorpusError::ChecksumMismatch {
        sequence: seq.id.clone(),
        what: source.clone(),
        algorithm,
        expected: expected.to_string(),
        actual: actual.to_string(),
    };
    let provenance = match &seq.integrity {
        Integrity::Sha256(h) if *h != d.sha256 => return Err(mismatch("sha256", h, &d.sha256)),
        Integrity::Md5(h) if Some(h.as_str()) != d.md5.as_deref() => {
            return Err(mismatch("md5", h, d.md5.as_deref().unwrap_or_default()));
        }
        Integrity::Md5(_) => Provenance::Md5,
        _ => Provenance::Local,
    };
    let m = fs::metadata(&path).map_err(|e| CorpusError::io(&path, e))?;
    let rec = FileRecord {
        sha256: d.sha256.clone(),
        size: m.len(),
        modified: crate::cache::modified_of(&m),
        provenance,
        source,
    };
    let json = serde_json::to_string_pretty(&rec).expect("a record always serialises");
    write_atomic(&record_at, |w| {
        std::io::Write::write_all(w, json.as_bytes())
    })?;
    Ok((path, d.sha256))
}

/// The Y4M decode of a media source, from the cache or decoded now through the options'
/// decoder (into a temporary name, renamed when complete); with its SHA-256 and a note about
/// any conversion.
fn decoded(
    seq: &Sequence,
    source: &Path,
    source_sha256: &str,
    dir: &Path,
    opts: &MaterializeOptions,
    on_event: &mut dyn FnMut(&Event),
) -> Result<(PathBuf, String, Option<String>)> {
    let media = |message: String| CorpusError::Media {
        path: source.to_path_buf(),
        message,
    };
    let decoder: &dyn MediaDecoder = match &opts.decoder {
        Some(d) => d.0.as_ref(),
        None => {
            return Err(media(
                "not a Y4M file, and no media decoder was given to read it".into(),
            ))
        }
    };
    let probe = decoder.probe(source).map_err(media)?;
    let (request, note) = plan_decode(&probe, opts.cfr).map_err(media)?;
    let key = format!("{source_sha256} {}", request.describe());
    let tag = &crate::hash::sha256_bytes(key.as_bytes())[..8];
    let path = dir.join(format!(
        "{}-{}-{tag}.y4m",
        seq.id,
        &source_sha256[..source_sha256.len().min(16)]
    ));
    if let Some(r) = read_record(&path)? {
        if r.provenance == Provenance::Decoded && r.source == key && r.stat_matches(&path) {
            on_event(&Event::Reused {
                id: seq.id.clone(),
                path: path.clone(),
            });
            return Ok((path, r.sha256, note));
        }
    }
    fs::create_dir_all(dir).map_err(|e| CorpusError::io(dir, e))?;
    let tmp = dir.join(format!(".{}.decoding-{}.y4m", seq.id, std::process::id()));
    let _ = fs::remove_file(&tmp);
    if let Err(e) = decoder.decode(source, &tmp, &request) {
        let _ = fs::remove_file(&tmp);
        return Err(media(e));
    }
    let sha = match digest_file(&tmp, false) {
        Ok(d) => d.sha256,
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
    };
    fs::rename(&tmp, &path).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        CorpusError::io(&path, e)
    })?;
    write_record(&path, &sha, Provenance::Decoded, &key)?;
    on_event(&Event::Decoded {
        id: seq.id.clone(),
        path: path.clone(),
    });
    Ok((path, sha, note))
}

/// Copies `count` frames from frame `start` of `src` to `dest` (atomically); returns the
/// SHA-256 of the result.
fn cut(src: &Path, dest: &Path, start: u32, count: u32) -> Result<String> {
    let mut r = Y4mReader::open(src)?;
    for _ in 0..start {
        if !r.skip_frame()? {
            return Err(Y4mError::format(src, format!("ends before frame {start}")).into());
        }
    }
    let header = r.header().clone();
    let mut sha = String::new();
    write_atomic(dest, |w| {
        let mut out = Y4mWriter::new(HashingWriter::new(w), header)?;
        for k in 0..count {
            let bytes = r
                .read_frame_bytes()
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let bytes = bytes.ok_or_else(|| {
                std::io::Error::other(format!("source ends at frame {}", start + k))
            })?;
            out.write_frame_bytes(bytes)?;
        }
        let (_, s) = out.finish()?.finish();
        sha = s;
        Ok(())
    })?;
    Ok(sha)
}
