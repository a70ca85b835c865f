//! The transcode core's error type: every variant names what a person needs to act on it
//! (the file, the job-spec field, the encoder and FFmpeg's own message).

use std::path::PathBuf;
use thiserror::Error;

/// Result alias of the transcode core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong in a transcode, a probe or a decode.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A file that does not exist.
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    /// A file or folder that cannot be read or written.
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        source: std::io::Error,
    },
    /// A file FFmpeg cannot open as media (not media, unknown container, truncated header).
    #[error("{path}: not a media file FFmpeg can read ({reason})")]
    NotMedia { path: PathBuf, reason: String },
    /// Media without the stream a task needs.
    #[error("{path}: has no {kind} stream")]
    NoStream { path: PathBuf, kind: &'static str },
    /// An input that ends before its declared duration.
    #[error(
        "{path}: truncated: the streams end at {reached_s:.2} s of a declared {declared_s:.2} s"
    )]
    Truncated {
        path: PathBuf,
        reached_s: f64,
        declared_s: f64,
    },
    /// A job spec that does not parse (TOML/JSON syntax, unknown field, wrong type).
    #[error("{path}: {message}")]
    SpecParse { path: PathBuf, message: String },
    /// A job-spec field with a value that cannot work.
    #[error("{field}: {message}")]
    Spec { field: String, message: String },
    /// A codec name that libavcodec does not know as an encoder or decoder.
    #[error("{field}: unknown {what} `{name}` (not in this FFmpeg build; `ffmpeg -encoders` lists them)")]
    UnknownCodec {
        field: String,
        what: &'static str,
        name: String,
    },
    /// An encoder option the encoder does not have.
    #[error("{field}: encoder {encoder} has no option `{option}`")]
    UnknownOption {
        field: String,
        encoder: String,
        option: String,
    },
    /// An encoder that refused to open with the given settings.
    #[error("{field}: encoder {encoder} rejected its settings: {message}")]
    EncoderOpen {
        field: String,
        encoder: String,
        message: String,
    },
    /// An external encoder program that could not run, failed, crashed or timed out.
    #[error("{field}: encoder program {program} {message}")]
    ExternalEncoder {
        field: String,
        program: String,
        message: String,
    },
    /// A filter graph that FFmpeg refused.
    #[error("{field}: filter graph `{graph}` rejected: {message}")]
    Filter {
        field: String,
        graph: String,
        message: String,
    },
    /// The muxer refused the output (unknown format, a codec it cannot carry).
    #[error("{path}: cannot write this output: {message}")]
    Mux { path: PathBuf, message: String },
    /// An FFmpeg call failed mid-stream.
    #[error("{context}: {message}")]
    Ffmpeg { context: String, message: String },
    /// A task's thread panicked (a bug in rdbench or a library it calls).
    #[error("task `{task}` panicked")]
    TaskPanicked { task: String },
    /// A downstream task stopped; its own error is reported where it happened.
    #[error("downstream task stopped")]
    Disconnected,
}

impl Error {
    /// An [`Error::Ffmpeg`] from an FFmpeg error code, with the last message FFmpeg logged on
    /// this thread when there is one.
    pub(crate) fn ffmpeg(context: impl Into<String>, err: ffmpeg_next::Error) -> Self {
        Error::Ffmpeg {
            context: context.into(),
            message: crate::log::describe(err),
        }
    }

    /// An [`Error::Io`].
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
