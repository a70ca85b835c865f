//! The errors of report rendering: each names the run folder, file or value a person has to fix.

use std::path::PathBuf;

use rdbench_results::run::RunError;
use thiserror::Error;

/// Why a report could not be rendered.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The run folder does not exist.
    #[error("{path}: no such run folder")]
    NoSuchRun {
        /// The folder given.
        path: PathBuf,
    },
    /// The run folder could not be loaded (not a run, unreadable or malformed file).
    #[error(transparent)]
    Run(#[from] RunError),
    /// The run has no job that finished successfully, so there is nothing to report.
    #[error("{path}: the run has no finished jobs ({failed} failed)")]
    NoFinishedJobs {
        /// The run folder.
        path: PathBuf,
        /// Jobs recorded as failed.
        failed: usize,
    },
    /// The anchor asked for is not a configuration with finished encodes in the run.
    #[error("{path}: unknown anchor '{anchor}' (the run's configurations are: {known})")]
    UnknownAnchor {
        /// The run folder.
        path: PathBuf,
        /// The anchor asked for.
        anchor: String,
        /// The configurations that have finished encodes, comma-separated.
        known: String,
    },
    /// The encode asked for the per-frame chart is not a finished job of the run.
    #[error("{path}: unknown encode '{job_id}' (no finished job has that id; e.g. '{example}')")]
    UnknownEncode {
        /// The run folder.
        path: PathBuf,
        /// The job id asked for.
        job_id: String,
        /// A job id that exists, to show the form.
        example: String,
    },
    /// A file or folder of the report could not be written.
    #[error("{path}: {action}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// A chart could not be drawn.
    #[error("{path}: drawing the chart failed: {message}")]
    Chart {
        /// The chart file.
        path: PathBuf,
        /// The drawing library's message.
        message: String,
    },
    /// A table could not be built or written.
    #[error("{path}: building the table failed: {message}")]
    Table {
        /// The table file.
        path: PathBuf,
        /// The table library's message.
        message: String,
    },
}

impl ReportError {
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        action: &'static str,
        source: std::io::Error,
    ) -> Self {
        ReportError::Io {
            path: path.into(),
            action,
            source,
        }
    }
}
