//! Integration tests of the transcode core: media is generated at test time with the `ffmpeg`
//! CLI (an independent tool), and outputs are checked with `ffprobe`.

mod support;

mod audio;
mod chunked;
mod clip;
mod concat;
mod gif;
mod hls_crypt;
mod ladder;
mod lavfi;
mod live;
mod metadata;
mod orient;
mod ratecontrol;
mod reader;
mod sampling;
mod segments;
mod sei;
mod size_change;
mod snapshots;
mod stats;
mod subtitles;
mod watermarks;
