//! Corpora for rdbench: manifests of test sequences ([`Corpus`], [`Sequence`]), the generated
//! default corpus `quick` ([`generate`]), fetching and verifying public sets ([`fetch`],
//! [`Corpus::verify`]), Y4M reading and writing ([`y4m`], re-exported from the metrics crate, which
//! owns the one implementation), and content characterisation
//! ([`siti`]).
//!
//! The benchmark's path through the crate:
//!
//! ```no_run
//! use rdbench_corpora::{Cache, Corpus};
//!
//! let corpus = Corpus::load("quick")?;
//! let cache = Cache::from_env()?;
//! for m in corpus.materialize(&cache)? {
//!     let siti = m.siti()?;
//!     println!("{} {} SI {:.1} TI {:.1}", m.sequence.id, m.path.display(), siti.si, siti.ti);
//! }
//! # Ok::<_, rdbench_corpora::CorpusError>(())
//! ```

#![forbid(unsafe_code)]

pub mod cache;
pub mod catalogue;
pub mod clips;
pub mod error;
pub mod events;
pub mod fetch;
pub mod generate;
pub mod hash;
pub mod manifest;
pub mod materialize;
pub mod media;
pub mod scenes;
pub mod siti;

pub use cache::Cache;
pub use catalogue::Catalogue;
pub use error::CorpusError;
pub use events::Event;
pub use fetch::FetchOptions;
pub use manifest::{
    Class, Corpus, Declared, Fps, Integrity, ManifestOrigin, Recipe, Sequence, Slice, Source,
};
pub use materialize::{
    MaterializeOptions, MaterializedSequence, SequenceStatus, VerifyReport, VerifyStatus,
};
pub use media::{DecodeRequest, MediaDecoder, MediaProbe};
/// Y4M streams, read and written by the metrics crate's one implementation.
pub use rdbench_metrics::y4m;
pub use siti::SiTi;
pub use y4m::{Y4mError, Y4mFrame, Y4mHeader, Y4mReader, Y4mWriter};
