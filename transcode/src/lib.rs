//! The rdbench transcode core.
