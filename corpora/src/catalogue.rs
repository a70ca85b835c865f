//! Finding corpora: the manifests compiled into the binary (everything in `corpora/manifests/`),
//! manifest folders on disk (`./corpora/manifests` when run from a checkout, and the folders in
//! `$RDBENCH_MANIFESTS`), and manifest files named by path. A manifest on disk overrides an
//! embedded one of the same corpus name.

use std::path::{Path, PathBuf};

use crate::error::{CorpusError, Result};
use crate::manifest::{Corpus, ManifestOrigin};

/// The environment variable listing extra manifest folders (separated like `PATH`).
pub const MANIFESTS_ENV: &str = "RDBENCH_MANIFESTS";

/// The manifests compiled into the binary: (file name, text).
pub const EMBEDDED: &[(&str, &str)] = &[
    ("quick.toml", include_str!("../manifests/quick.toml")),
    ("derf.toml", include_str!("../manifests/derf.toml")),
    ("aomctc.toml", include_str!("../manifests/aomctc.toml")),
    ("debian.toml", include_str!("../manifests/debian.toml")),
    ("pypi.toml", include_str!("../manifests/pypi.toml")),
];

/// The default manifest folders: `./corpora/manifests` if it exists, then `$RDBENCH_MANIFESTS`.
pub fn manifest_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    let local = PathBuf::from("corpora").join("manifests");
    if local.is_dir() {
        dirs.push(local);
    }
    if let Some(v) = std::env::var_os(MANIFESTS_ENV) {
        dirs.extend(std::env::split_paths(&v).filter(|p| !p.as_os_str().is_empty()));
    }
    dirs
}

/// A corpus known by name, and the manifests that could not be read.
#[derive(Debug)]
pub struct Catalogue {
    /// Known corpora, sorted by name; each name once (a file on disk overrides an embedded one).
    pub corpora: Vec<Corpus>,
    /// Manifest files that failed to parse, with why.
    pub errors: Vec<CorpusError>,
}

impl Catalogue {
    /// Reads the embedded manifests and every `*.toml` in `dirs`.
    pub fn discover(dirs: &[PathBuf]) -> Catalogue {
        let mut corpora: Vec<Corpus> = Vec::new();
        let mut errors = Vec::new();
        for (file, text) in EMBEDDED {
            match Corpus::parse(text, ManifestOrigin::Embedded(file)) {
                Ok(c) => corpora.push(c),
                Err(e) => errors.push(e),
            }
        }
        for dir in dirs {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
                Ok(rd) => rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect(),
                Err(e) => {
                    errors.push(CorpusError::io(dir, e));
                    continue;
                }
            };
            files.sort();
            for f in files {
                match Corpus::from_file(&f) {
                    Ok(c) => {
                        corpora.retain(|k| k.name != c.name);
                        corpora.push(c);
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
        corpora.sort_by(|a, b| a.name.cmp(&b.name));
        Catalogue { corpora, errors }
    }

    /// The corpus called `name`.
    pub fn get(&self, name: &str) -> Option<&Corpus> {
        self.corpora.iter().find(|c| c.name == name)
    }
}

impl Corpus {
    /// Loads a corpus by name (embedded or in the default manifest folders) or from a manifest
    /// path (anything containing a path separator or ending in `.toml`).
    pub fn load(name_or_path: &str) -> Result<Corpus> {
        Corpus::load_from(name_or_path, &manifest_dirs())
    }

    /// [`Corpus::load`] with explicit manifest folders.
    pub fn load_from(name_or_path: &str, dirs: &[PathBuf]) -> Result<Corpus> {
        let looks_like_path = name_or_path.ends_with(".toml")
            || name_or_path.contains(std::path::MAIN_SEPARATOR)
            || name_or_path.contains('/');
        if looks_like_path {
            return Corpus::from_file(Path::new(name_or_path));
        }
        let cat = Catalogue::discover(dirs);
        if let Some(c) = cat.get(name_or_path) {
            return Ok(c.clone());
        }
        // A broken manifest of that name is more useful to report than "unknown corpus".
        let stem_matches = |e: &CorpusError| match e {
            CorpusError::ManifestSyntax { file, .. } | CorpusError::ManifestValue { file, .. } => {
                Path::new(file)
                    .file_stem()
                    .is_some_and(|s| s == name_or_path)
            }
            _ => false,
        };
        if let Some(pos) = cat.errors.iter().position(stem_matches) {
            return Err(cat
                .errors
                .into_iter()
                .nth(pos)
                .expect("position is in range"));
        }
        Err(CorpusError::UnknownCorpus {
            name: name_or_path.to_string(),
            known: cat
                .corpora
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}
