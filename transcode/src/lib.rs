//! The rdbench transcode core: the production pipeline every benchmark encode goes through.
//!
//! FFmpeg's libraries (through ffmpeg-next) are the atoms; above them:
//! - a **Pipeline** is one output artifact ([`job`]),
//! - a **Flow** is one stream (video or audio) inside a pipeline,
//! - a **Task** is one step: decode, filter, encode, mux ([`task`]).
//!
//! One input is demuxed and decoded once and feeds N pipelines (an ABR ladder). Every task runs
//! serial (inline) or parallel (own thread, bounded queue). This crate is the only one in the
//! workspace that talks to FFmpeg; the `unsafe` it needs stays here, each block justified.

pub mod allocator;
pub mod chunk;
pub mod control;
pub mod cpu;
pub mod encode;
pub mod error;
pub mod external;
pub mod filter;
pub mod fit;
pub mod hls_crypt;
pub mod input;
pub mod job;
mod log;
pub mod media;
pub mod mux;
pub mod orient;
pub mod probe;
pub mod process;
pub mod reader;
pub mod sei;
pub mod settings;
pub mod snapshot;
pub mod spec;
pub mod subtitle;
pub mod task;
pub mod versions;
pub mod video_filter;
pub mod watermark;

pub use error::{Error, Result};

/// Initialises FFmpeg (quiet logging captured per thread; the devices `lavfi:` inputs need are
/// loaded when the first such input is opened).
/// Every entry point calls it; calling it again is cheap.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SVT-AV1 logs straight to stderr; errors only unless the user asked for its log.
        if std::env::var_os("SVT_LOG").is_none() && std::env::var_os("RDBENCH_FFMPEG_LOG").is_none()
        {
            std::env::set_var("SVT_LOG", "1");
        }
        let _ = ffmpeg_next::init();
        log::install();
    });
}
