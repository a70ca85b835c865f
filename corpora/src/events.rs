//! Progress events reported while materialising, fetching and verifying, for a command line or
//! log to show. The library never prints.

use std::path::PathBuf;
use std::time::Duration;

use crate::cache::Provenance;

/// Something that happened to one sequence.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// A cached file was found valid and is used as is.
    Reused {
        /// Sequence id.
        id: String,
        /// The file.
        path: PathBuf,
    },
    /// Rendering of a generated sequence started.
    Generating {
        /// Sequence id.
        id: String,
        /// Frames to render.
        frames: u32,
    },
    /// A generated sequence was written.
    Generated {
        /// Sequence id.
        id: String,
        /// Its SHA-256.
        sha256: String,
        /// Time taken.
        elapsed: Duration,
    },
    /// A media file was decoded into the cache.
    Decoded {
        /// Sequence id.
        id: String,
        /// The Y4M written.
        path: PathBuf,
    },
    /// A stale cached file (older recipe or generator version) was removed.
    Removed {
        /// Sequence id.
        id: String,
        /// The removed file.
        path: PathBuf,
    },
    /// A download started or resumed.
    Downloading {
        /// Sequence id.
        id: String,
        /// The URL.
        url: String,
        /// Bytes already present from an earlier partial download.
        resume_from: u64,
        /// Total size, when the server says.
        total: Option<u64>,
    },
    /// Bytes arrived.
    Progress {
        /// Sequence id.
        id: String,
        /// Bytes present so far (including resumed ones).
        bytes: u64,
        /// Total size, when known.
        total: Option<u64>,
    },
    /// A transfer failed and will be resumed.
    Retrying {
        /// Sequence id.
        id: String,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Why it failed.
        error: String,
    },
    /// A download completed and passed its check.
    Downloaded {
        /// Sequence id.
        id: String,
        /// Its SHA-256.
        sha256: String,
        /// How it was checked.
        provenance: Provenance,
    },
    /// A file without a published digest was seen for the first time; its SHA-256 is now the
    /// reference for later checks.
    TrustedOnFirstUse {
        /// Sequence id.
        id: String,
        /// The recorded SHA-256.
        sha256: String,
    },
    /// The used frames were cut from a longer file.
    Cut {
        /// Sequence id.
        id: String,
        /// First frame.
        start: u32,
        /// Frames kept.
        frames: u32,
    },
}

impl Event {
    /// The sequence the event is about.
    pub fn id(&self) -> &str {
        match self {
            Event::Reused { id, .. }
            | Event::Generating { id, .. }
            | Event::Generated { id, .. }
            | Event::Removed { id, .. }
            | Event::Downloading { id, .. }
            | Event::Progress { id, .. }
            | Event::Retrying { id, .. }
            | Event::Downloaded { id, .. }
            | Event::TrustedOnFirstUse { id, .. }
            | Event::Cut { id, .. }
            | Event::Decoded { id, .. } => id,
        }
    }
}
