//! The cache folder: where generated and downloaded sequences live, the JSON records kept beside
//! them, and atomic writes (temporary name in the same folder, then rename).
//!
//! Layout: `<root>/corpora/<corpus>/<file>` with `<file>.json` the record of its SHA-256, size and
//! modification time. The root is, in order: an explicit folder, `$RDBENCH_CACHE`,
//! `$XDG_CACHE_HOME/rdbench`, `$HOME/.cache/rdbench`.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

use crate::error::{CorpusError, Result};

/// The environment variable naming the cache root.
pub const CACHE_ENV: &str = "RDBENCH_CACHE";

/// A cache root folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// A cache rooted at `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache { root: root.into() }
    }

    /// The cache root from the environment: `$RDBENCH_CACHE`, else `$XDG_CACHE_HOME/rdbench`,
    /// else `$HOME/.cache/rdbench`.
    pub fn from_env() -> Result<Self> {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(p) = var(CACHE_ENV) {
            return Ok(Cache::new(p));
        }
        if let Some(p) = var("XDG_CACHE_HOME") {
            return Ok(Cache::new(p.join("rdbench")));
        }
        var("HOME")
            .map(|h| Cache::new(h.join(".cache").join("rdbench")))
            .ok_or(CorpusError::NoCacheDir)
    }

    /// `explicit` if given, else [`Cache::from_env`].
    pub fn resolve(explicit: Option<&Path>) -> Result<Self> {
        match explicit {
            Some(p) => Ok(Cache::new(p)),
            None => Cache::from_env(),
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder of one corpus: `<root>/corpora/<name>`.
    pub fn corpus_dir(&self, corpus: &str) -> PathBuf {
        self.root.join("corpora").join(corpus)
    }
}

/// How a cached file's content was established.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// Rendered by a generator; `source` is the recipe key.
    Generated,
    /// Downloaded and matched the manifest's SHA-256.
    Sha256,
    /// Downloaded and matched the manifest's published MD5.
    Md5,
    /// Downloaded without a published digest; this record is the trusted reference.
    TrustOnFirstUse,
    /// A local file, hashed where it lies.
    Local,
    /// Frames cut from another cached file; `source` is that file's SHA-256 and the range.
    Cut,
    /// Decoded from a media file; `source` is that file's SHA-256 and the decode settings.
    Decoded,
}

/// The record kept beside a cached file (`<file>.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRecord {
    /// SHA-256 of the file, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time when hashed (seconds and nanoseconds since the Unix epoch).
    pub modified: Option<(u64, u32)>,
    /// How the content was established.
    pub provenance: Provenance,
    /// Recipe key, URL, path or cut description.
    pub source: String,
}

impl FileRecord {
    /// Whether `path` still has the size and modification time recorded, so its SHA-256 need not
    /// be recomputed.
    pub fn stat_matches(&self, path: &Path) -> bool {
        match fs::metadata(path) {
            Ok(m) => {
                m.len() == self.size && self.modified.is_some() && modified_of(&m) == self.modified
            }
            Err(_) => false,
        }
    }
}

/// The modification time of a file's metadata as (seconds, nanoseconds) since the epoch.
pub(crate) fn modified_of(m: &fs::Metadata) -> Option<(u64, u32)> {
    let d = m.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    Some((d.as_secs(), d.subsec_nanos()))
}

/// The record file of `path`: the same name with `.json` appended.
pub fn record_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".json");
    PathBuf::from(s)
}

/// Reads the record of `path`, if there is one.
pub fn read_record(path: &Path) -> Result<Option<FileRecord>> {
    let rp = record_path(path);
    match fs::read_to_string(&rp) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| CorpusError::BadRecord {
                path: rp,
                message: e.to_string(),
            }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(CorpusError::io(rp, e)),
    }
}

/// Writes the record of `path`, stamping it with the file's current size and modification time.
pub fn write_record(
    path: &Path,
    sha256: &str,
    provenance: Provenance,
    source: &str,
) -> Result<FileRecord> {
    let m = fs::metadata(path).map_err(|e| CorpusError::io(path, e))?;
    let rec = FileRecord {
        sha256: sha256.to_string(),
        size: m.len(),
        modified: modified_of(&m),
        provenance,
        source: source.to_string(),
    };
    let json = serde_json::to_string_pretty(&rec).expect("a record always serialises");
    write_atomic(&record_path(path), |w| w.write_all(json.as_bytes()))?;
    Ok(rec)
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary name beside `dest` (same folder, so the final rename is atomic).
pub(crate) fn temp_path(dest: &Path) -> PathBuf {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let mut s = dest.as_os_str().to_owned();
    s.push(format!(".rdbench-tmp-{}-{n}", std::process::id()));
    PathBuf::from(s)
}

/// Writes `dest` through `fill` into a temporary file in the same folder, then renames it into
/// place; on any error the temporary file is removed and `dest` is untouched.
pub fn write_atomic<F>(dest: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
{
    if let Some(dir) = dest.parent() {
        fs::create_dir_all(dir).map_err(|e| CorpusError::io(dir, e))?;
    }
    let tmp = temp_path(dest);
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, dest)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        CorpusError::io(dest, e)
    })
}
