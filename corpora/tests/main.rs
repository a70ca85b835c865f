//! Integration tests of rdbench-corpora: one binary, one module per area.

mod fetch;
mod generate;
mod manifest;
mod materialize;
mod server;
mod siti;
mod y4m;

use std::path::Path;

use rdbench_corpora::manifest::Fps;
use rdbench_corpora::y4m::{Y4mHeader, Y4mWriter};
use rdbench_metrics::frame::{ChromaSampling, OwnedFrame};

/// An 8-bit 4:2:0 frame whose samples are a function of plane, position and `n`.
pub fn pattern_frame(w: usize, h: usize, n: u32) -> OwnedFrame<u8> {
    let mut f = OwnedFrame::<u8>::new(w, h, 8, ChromaSampling::Cs420);
    for (i, p) in f.planes.iter_mut().enumerate() {
        for (k, s) in p.iter_mut().enumerate() {
            *s = ((k * 7 + i * 50 + n as usize * 13) % 256) as u8;
        }
    }
    f
}

/// Writes `frames` pattern frames as an 8-bit 4:2:0 Y4M file.
pub fn write_pattern_y4m(path: &Path, w: usize, h: usize, fps: Fps, frames: u32) {
    let file = std::fs::File::create(path).unwrap();
    let mut out =
        Y4mWriter::new(file, Y4mHeader::new(w, h, fps, ChromaSampling::Cs420, 8)).unwrap();
    for n in 0..frames {
        out.write_frame(&pattern_frame(w, h, n).view().unwrap())
            .unwrap();
    }
    out.finish().unwrap();
}

/// A manifest with one sequence whose fields are given as TOML lines.
pub fn one_sequence(fields: &str) -> String {
    format!("name = \"t\"\ndescription = \"test\"\n\n[[sequence]]\n{fields}")
}
