//! Synthetic sequences rendered in pure Rust: the content of the `quick` corpus. Natural-looking
//! scenes (1/f textures, parallax, camera motion, moving objects, noise; see `natural`), an
//! animation-style scene (`cartoon`) and screen content (`screen`).
//!
//! A [`GenerateSpec`] (recipe + size + rate + length) fully determines the output: every random
//! choice comes from the recipe's seed, per-pixel noise is a hash of coordinates, and frames are
//! rendered independently (in parallel) and written in order. The cache keys a generated file by
//! [`GenerateSpec::key`], a hash of the spec and the generator version, so changing either
//! renders the file again.

mod canvas;
mod cartoon;
mod font;
mod layer;
mod natural;
mod noise;
mod prng;
mod screen;
mod text;

use std::io::Write;

use rayon::prelude::*;
use rdbench_metrics::frame::{ChromaSampling, OwnedFrame};

use crate::hash::sha256_bytes;
use rdbench_metrics::fps::Fps;
use rdbench_metrics::y4m::{Y4mHeader, Y4mWriter};

pub use font::{glyph, CELL_H, CELL_W};

/// Version of the generators' output. Bump it whenever any scene renders differently, so that
/// caches regenerate.
pub const GENERATOR_VERSION: u32 = 3;

/// The synthetic scenes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GeneratorKind {
    /// A pan across a layered landscape: parallax between sky, mountains, wooded hills and a
    /// meadow with tree trunks in front; objects moving on their own.
    Landscape,
    /// A handheld close-up of stony ground: shake, slow push-in, rolling balls occluding each
    /// other, leaves fluttering overhead, a cloud shadow sweeping across and the exposure
    /// dropping.
    Handheld,
    /// A zoom into a landscape under fluttering leaves, then a scene cut to a close-up that
    /// zooms out.
    Zoom,
    /// A slow pan over a landscape at dusk under leaves in the wind and film grain.
    Grain,
    /// Animation: flat colours and outlines, a panning background, characters on twos.
    Cartoon,
    /// Scrolling screen content (an editor with code).
    Scroll,
}

impl GeneratorKind {
    /// Every scene.
    pub const ALL: [GeneratorKind; 6] = [
        GeneratorKind::Landscape,
        GeneratorKind::Handheld,
        GeneratorKind::Zoom,
        GeneratorKind::Grain,
        GeneratorKind::Cartoon,
        GeneratorKind::Scroll,
    ];

    /// The name used in manifests.
    pub fn name(self) -> &'static str {
        match self {
            GeneratorKind::Landscape => "landscape",
            GeneratorKind::Handheld => "handheld",
            GeneratorKind::Zoom => "zoom",
            GeneratorKind::Grain => "grain",
            GeneratorKind::Cartoon => "cartoon",
            GeneratorKind::Scroll => "scroll",
        }
    }

    /// The scene named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        GeneratorKind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// All names, for messages.
    pub fn names() -> Vec<&'static str> {
        GeneratorKind::ALL.iter().map(|k| k.name()).collect()
    }
}

impl From<Recipe> for (String, u64) {
    fn from(r: Recipe) -> (String, u64) {
        (r.generator.name().to_string(), r.seed)
    }
}

impl TryFrom<(String, u64)> for Recipe {
    type Error = String;
    fn try_from((name, seed): (String, u64)) -> std::result::Result<Recipe, String> {
        let generator =
            GeneratorKind::from_name(&name).ok_or_else(|| format!("unknown generator `{name}`"))?;
        Ok(Recipe { generator, seed })
    }
}

/// A generator recipe: which synthetic scene, with which seed. Size, rate and length come from
/// the sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(into = "(String, u64)", try_from = "(String, u64)")]
pub struct Recipe {
    /// The scene.
    pub generator: GeneratorKind,
    /// The seed of every pseudo-random choice in the scene.
    pub seed: u64,
}

/// Everything that determines a generated sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GenerateSpec {
    /// Scene and seed.
    pub recipe: Recipe,
    /// Luma width (even).
    pub width: u32,
    /// Luma height (even).
    pub height: u32,
    /// Frame rate (written to the header).
    pub fps: Fps,
    /// Frames to render.
    pub frames: u32,
}

impl GenerateSpec {
    /// The canonical text the cache key is the hash of.
    pub fn describe(&self) -> String {
        format!(
            "rdbench-generator/{GENERATOR_VERSION} scene={} seed={} size={}x{} fps={}/{} frames={} format=y4m-420-8bit",
            self.recipe.generator.name(),
            self.recipe.seed,
            self.width,
            self.height,
            self.fps.num(),
            self.fps.den(),
            self.frames
        )
    }

    /// The cache key: SHA-256 of [`GenerateSpec::describe`], lower-case hex.
    pub fn key(&self) -> String {
        sha256_bytes(self.describe().as_bytes())
    }

    /// The Y4M header of the output.
    pub fn header(&self) -> Y4mHeader {
        let mut h = Y4mHeader::new(
            self.width as usize,
            self.height as usize,
            self.fps,
            ChromaSampling::Cs420,
            8,
        );
        h.extensions.push("COLORRANGE=LIMITED".into());
        h
    }
}

#[derive(Debug)]
enum Scene {
    Natural(natural::Natural),
    Cartoon(cartoon::Cartoon),
    Scroll(screen::Scroll),
}

/// A scene built for one spec, able to render any of its frames.
#[derive(Debug)]
pub struct Generator {
    spec: GenerateSpec,
    scene: Scene,
}

impl Generator {
    /// Builds the scene (all set-up randomness and painting happen here).
    pub fn new(spec: GenerateSpec) -> Self {
        let (w, h, seed) = (spec.width as usize, spec.height as usize, spec.recipe.seed);
        let frames = spec.frames;
        let natural = |kind| Scene::Natural(natural::Natural::new(kind, w, h, frames, seed));
        let scene = match spec.recipe.generator {
            GeneratorKind::Landscape => natural(natural::NaturalKind::Landscape),
            GeneratorKind::Handheld => natural(natural::NaturalKind::Handheld),
            GeneratorKind::Zoom => natural(natural::NaturalKind::Zoom),
            GeneratorKind::Grain => natural(natural::NaturalKind::Grain),
            GeneratorKind::Cartoon => Scene::Cartoon(cartoon::Cartoon::new(w, h, seed)),
            GeneratorKind::Scroll => Scene::Scroll(screen::Scroll::new(w, h, seed)),
        };
        Generator { spec, scene }
    }

    /// The spec.
    pub fn spec(&self) -> &GenerateSpec {
        &self.spec
    }

    /// Renders frame `n` (any `n`, in any order, on any thread).
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        match &self.scene {
            Scene::Natural(s) => s.frame(n),
            Scene::Cartoon(s) => s.frame(n),
            Scene::Scroll(s) => s.frame(n),
        }
    }

    /// Writes the whole sequence as Y4M, rendering frames in parallel batches on the current
    /// rayon pool and writing them in order.
    pub fn write_y4m<W: Write>(&self, out: W) -> std::io::Result<W> {
        let mut w = Y4mWriter::new(out, self.spec.header())?;
        let batch = (rayon::current_num_threads() * 2).max(1) as u32;
        let mut start = 0;
        while start < self.spec.frames {
            let end = (start + batch).min(self.spec.frames);
            let frames: Vec<OwnedFrame<u8>> = (start..end)
                .into_par_iter()
                .map(|n| self.frame(n))
                .collect();
            for f in &frames {
                let view = f
                    .view()
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                w.write_frame(&view)?;
            }
            start = end;
        }
        w.finish()
    }
}
