//! The crate's error type: every variant names the file, sequence, field or URL involved so a
//! person can act on the one-line message.

use std::path::PathBuf;

use thiserror::Error;

/// Everything that can go wrong loading, generating, fetching, verifying or reading a corpus.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CorpusError {
    /// A manifest is not valid TOML or does not match the manifest schema.
    #[error("{file}:{line}:{column}: {message}")]
    ManifestSyntax {
        /// The manifest (a path, or `<embedded>/NAME.toml`).
        file: String,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column of the offending text.
        column: usize,
        /// The field the error is about, when it can be told.
        field: Option<String>,
        /// What is wrong, from the TOML parser.
        message: String,
    },
    /// A manifest parses but a value is not acceptable.
    #[error("{file}:{line}: sequence `{sequence}`: field `{field}`: {message}")]
    ManifestValue {
        /// The manifest.
        file: String,
        /// 1-based line of the value (or of the sequence table when the field is missing).
        line: usize,
        /// The sequence id (`<corpus>` for corpus-level fields).
        sequence: String,
        /// The field.
        field: String,
        /// What is wrong and what is expected.
        message: String,
    },
    /// No embedded corpus and no manifest file of that name.
    #[error("no corpus named `{name}` (known: {known}); pass a manifest path to use another")]
    UnknownCorpus {
        /// The name asked for.
        name: String,
        /// The names that exist, comma-separated.
        known: String,
    },
    /// A file could not be read, written, renamed or listed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// No cache folder could be determined.
    #[error("no cache folder: set RDBENCH_CACHE, XDG_CACHE_HOME or HOME, or pass one")]
    NoCacheDir,
    /// A Y4M stream cannot be read, is malformed or uses a format the reader does not handle.
    #[error(transparent)]
    Y4m(#[from] rdbench_metrics::y4m::Y4mError),
    /// A media file that cannot become a sequence: not media, no video, truncated, a variable
    /// frame rate, or no decoder to read it with.
    #[error("{path}: {message}")]
    Media {
        /// The file.
        path: PathBuf,
        /// What is wrong, in one line.
        message: String,
    },
    /// A source file's Y4M header or length does not match what the manifest says.
    #[error("sequence `{sequence}`: {path}: {field} is {actual} in the file but {expected} in the manifest")]
    SourceMismatch {
        /// The sequence id.
        sequence: String,
        /// The file.
        path: PathBuf,
        /// The property (`width`, `fps`, `frames`...).
        field: &'static str,
        /// The manifest's value.
        expected: String,
        /// The file's value.
        actual: String,
    },
    /// A downloaded or local file does not have the expected digest.
    #[error(
        "sequence `{sequence}`: {algorithm} mismatch for {what}: expected {expected}, got {actual}"
    )]
    ChecksumMismatch {
        /// The sequence id.
        sequence: String,
        /// The URL or path.
        what: String,
        /// `sha256` or `md5`.
        algorithm: &'static str,
        /// The manifest's (or recorded) digest.
        expected: String,
        /// The digest of the bytes received.
        actual: String,
    },
    /// A URL source has not been downloaded and downloading was not asked for.
    #[error(
        "sequence `{sequence}`: {url} has not been fetched (run `rdbench corpus fetch {corpus}`)"
    )]
    NotFetched {
        /// The corpus name.
        corpus: String,
        /// The sequence id.
        sequence: String,
        /// The URL.
        url: String,
    },
    /// A local source file does not exist in any of the searched folders.
    #[error("sequence `{sequence}`: source file `{path}` not found (looked in: {searched})")]
    SourceNotFound {
        /// The sequence id.
        sequence: String,
        /// The path as written in the manifest.
        path: PathBuf,
        /// The folders searched, comma-separated.
        searched: String,
    },
    /// An HTTP transfer failed.
    #[error("sequence `{sequence}`: fetching {url}: {message}")]
    Http {
        /// The sequence id.
        sequence: String,
        /// The URL.
        url: String,
        /// What went wrong (status, connection error, short body...).
        message: String,
    },
    /// A cache record (JSON beside a cached file) could not be parsed.
    #[error("{path}: bad cache record: {message} (delete it to rebuild)")]
    BadRecord {
        /// The record file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}

impl CorpusError {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CorpusError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = CorpusError> = std::result::Result<T, E>;
