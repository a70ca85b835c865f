//! Camera-like scenes: landscapes and close-ups painted once at set-up from 1/f noise, height
//! fields and soft shading, split into depth layers (parallax and occlusion), filmed by a camera
//! that pans, zooms and shakes with sub-pixel motion and a 180-degree shutter (motion blur),
//! with independently moving objects, parts that deform rather than move and are painted anew
//! in every frame (rippling water, swaying grass, fluttering leaves), lighting changes, scene
//! cuts, and sensor noise or film grain that is new in every frame.
//!
//! Coordinates: a layer's content is painted in *units* of one output height, with the origin at
//! the centre of the first frame; layers are rendered [`DENSITY`] times denser than the output
//! so that the widest view still minifies them.

use std::f32::consts::{PI, TAU};

use rayon::prelude::*;
use rdbench_metrics::frame::OwnedFrame;

use super::canvas::{mix, planes_to_frame, smoothstep, Canvas, Rgb};
use super::layer::{composite, Edge, Layer, Rgba, View};
use super::noise::{profile, Fbm};
use super::prng::{gauss, hash, Rng};

/// Layer pixels per output pixel at the widest view.
pub const DENSITY: f32 = 1.5;

/// Frames over which camera moves and lighting changes are laid out: motion per frame does not
/// depend on a sequence's length, and a shorter sequence shows the start of the same moves.
pub const NOMINAL: u32 = 150;

/// Fraction of a frame interval the shutter is open (a 180-degree shutter).
const SHUTTER: f32 = 0.5;

/// A camera move over one shot: eased pan and zoom plus handheld shake, in output pixels of
/// the widest view (zoom 1) at parallax 1.
#[derive(Clone, Debug)]
pub struct Camera {
    /// Frames in the shot.
    frames: f32,
    /// Pan over the whole shot, output pixels (x, y).
    pan: (f32, f32),
    /// Zoom at the start and at the end (1 = widest).
    zoom: (f32, f32),
    /// Shake components: cycles per frame, amplitude x, amplitude y, phase.
    shake: Vec<(f32, f32, f32, f32)>,
    /// How much of the pan is eased in and out (0 = constant speed, 1 = smoothstep).
    ease: f32,
}

/// Where the camera is at one instant: centre (output pixels at parallax 1) and zoom.
#[derive(Clone, Copy, Debug)]
struct Pose {
    x: f32,
    y: f32,
    zoom: f32,
}

impl Camera {
    fn still(frames: u32) -> Self {
        Camera {
            frames: frames.max(1) as f32,
            pan: (0.0, 0.0),
            zoom: (1.0, 1.0),
            shake: Vec::new(),
            ease: 0.0,
        }
    }

    /// Adds handheld shake of about `amp` output pixels: a few incommensurate wobbles between
    /// 0.3 and 3 Hz at 30 fps, weaker at higher frequencies.
    fn handheld(mut self, rng: &mut Rng, amp: f32) -> Self {
        for k in 0..5 {
            let f = 0.01 * 1.9f32.powi(k) * rng.range(0.8, 1.25);
            let a = amp / 1.7f32.powi(k);
            self.shake.push((
                f,
                a * rng.range(0.6, 1.0),
                a * rng.range(0.5, 0.9),
                rng.range(0.0, TAU),
            ));
        }
        self
    }

    fn pose(&self, t: f32) -> Pose {
        let s = (t / self.frames).clamp(-0.2, 1.2);
        let sm = s.clamp(0.0, 1.0);
        let e = s + self.ease * (sm * sm * (3.0 - 2.0 * sm) - sm);
        let (mut x, mut y) = (self.pan.0 * e, self.pan.1 * e);
        for &(f, ax, ay, ph) in &self.shake {
            x += ax * (TAU * f * t + ph).sin();
            y += ay * (TAU * f * 1.13 * t + ph * 1.7).cos();
        }
        let zoom = self.zoom.0 * (self.zoom.1 / self.zoom.0).powf(e.clamp(0.0, 1.0));
        Pose { x, y, zoom }
    }

    /// The smallest zoom and the pan extent (x, y ranges) over the shot, with shake.
    fn extent(&self) -> (f32, (f32, f32), (f32, f32)) {
        let (mut zmin, mut xr, mut yr) = (f32::MAX, (f32::MAX, f32::MIN), (f32::MAX, f32::MIN));
        let steps = (self.frames as usize + 1) * 2;
        for i in 0..=steps {
            let p = self.pose(i as f32 * 0.5 - 1.0);
            zmin = zmin.min(p.zoom);
            xr = (xr.0.min(p.x), xr.1.max(p.x));
            yr = (yr.0.min(p.y), yr.1.max(p.y));
        }
        (zmin, xr, yr)
    }
}

/// The range of unit x a camera sees over its shot on a plate at `parallax`.
fn span(w: usize, h: usize, camera: &Camera, parallax: f32) -> (f32, f32) {
    let (zmin, xr, _) = camera.extent();
    let half = w as f32 / h as f32 / 2.0 / zmin;
    (
        parallax * xr.0 / h as f32 - half,
        parallax * xr.1 / h as f32 + half,
    )
}

/// A painted depth layer: the picture and how strongly it follows the camera (1 = the nearest
/// reference depth, smaller = farther away).
#[derive(Debug)]
struct Plate {
    layer: Layer,
    parallax: f32,
    /// Layer pixel where unit (0, 0) lies.
    origin: (f32, f32),
}

/// What a painter returns for one point: straight colour and coverage.
type Paint = (Rgb, f32);

/// Size of a plate's layer, where unit (0, 0) lies in it, and layer pixels per unit.
struct Geometry {
    width: usize,
    height: usize,
    origin: (f32, f32),
    per_unit: f32,
}

impl Geometry {
    /// A layer large enough for every view of `camera` at `parallax`.
    fn new(w: usize, h: usize, camera: &Camera, parallax: f32) -> Self {
        let (zmin, xr, yr) = camera.extent();
        let margin = 8.0;
        let half_w = w as f32 / 2.0 / zmin + margin;
        let half_h = h as f32 / 2.0 / zmin + margin;
        let (x_lo, x_hi) = (xr.0 * parallax - half_w, xr.1 * parallax + half_w);
        let (y_lo, y_hi) = (yr.0 * parallax - half_h, yr.1 * parallax + half_h);
        Geometry {
            width: ((x_hi - x_lo) * DENSITY).ceil() as usize,
            height: ((y_hi - y_lo) * DENSITY).ceil() as usize,
            origin: (-x_lo * DENSITY, -y_lo * DENSITY),
            per_unit: DENSITY * h as f32,
        }
    }

    /// Unit coordinates of the centre of layer pixel `i`.
    fn unit(&self, i: usize) -> (f32, f32) {
        let (x, y) = ((i % self.width) as f32 + 0.5, (i / self.width) as f32 + 0.5);
        (
            (x - self.origin.0) / self.per_unit,
            (y - self.origin.1) / self.per_unit,
        )
    }

    /// The finest frequency a painter may draw, cycles per unit.
    fn nyquist(&self) -> f32 {
        0.5 * self.per_unit
    }
}

impl Plate {
    /// Paints a layer large enough for every view of `camera` at `parallax`; `paint(u, v,
    /// nyquist)` gets unit coordinates and the finest frequency (cycles per unit) it may draw.
    fn paint(
        w: usize,
        h: usize,
        camera: &Camera,
        parallax: f32,
        edge: Edge,
        paint: impl Fn(f32, f32, f32) -> Paint + Sync,
    ) -> Self {
        let g = Geometry::new(w, h, camera, parallax);
        let nyq = g.nyquist();
        let px: Vec<Rgba> = (0..g.width * g.height)
            .into_par_iter()
            .map(|i| {
                let (u, v) = g.unit(i);
                let (c, a) = paint(u, v, nyq);
                let a = a.clamp(0.0, 1.0);
                [c[0] * a, c[1] * a, c[2] * a, a]
            })
            .collect();
        Plate {
            layer: Layer::from_pixels(g.width, g.height, edge, px),
            parallax,
            origin: g.origin,
        }
    }

    fn view(&self, w: usize, h: usize, at: Pose, before: Pose, after: Pose) -> View {
        let scale = DENSITY / at.zoom;
        let x0 = |p: Pose| {
            self.origin.0 + DENSITY * self.parallax * p.x - w as f32 / 2.0 * DENSITY / p.zoom
        };
        let y0 = |p: Pose| {
            self.origin.1 + DENSITY * self.parallax * p.y - h as f32 / 2.0 * DENSITY / p.zoom
        };
        View {
            x0: x0(at),
            y0: y0(at),
            scale,
            blur: (x0(after) - x0(before), y0(after) - y0(before)),
        }
    }
}

/// The look of a moving object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BodyKind {
    /// A shaded, textured ball that rolls.
    Ball,
    /// A rounded box-like object that tilts as it moves.
    Block,
}

/// An independently moving object: its path in units on the plate it stands on, size, look.
#[derive(Debug)]
struct Body {
    kind: BodyKind,
    /// Index of the plate it moves on (drawn just after it).
    plate: usize,
    /// Start position (units), velocity (units per frame), vertical bounce (units, period).
    start: (f32, f32),
    vel: (f32, f32),
    bounce: (f32, f32),
    /// Radii in units.
    radius: (f32, f32),
    albedo: Rgb,
    /// Surface texture: [`TEX`] x [`TEX`] samples of 1/f noise over body-local -1.5..1.5.
    texture: Vec<f32>,
}

/// Side of a body's texture in samples.
const TEX: usize = 64;

/// A body texture from `seed`.
fn body_texture(seed: u64) -> Vec<f32> {
    let f = Fbm::new(seed, 1.5).octaves(5);
    (0..TEX * TEX)
        .map(|i| {
            let (x, y) = ((i % TEX) as f32, (i / TEX) as f32);
            let k = 3.0 / (TEX - 1) as f32;
            f.at(x * k - 1.5 + 3.0, y * k - 1.5 + 7.0, 40.0)
        })
        .collect()
}

/// Spatial and temporal sub-sample offsets (x, y within the pixel; t within the shutter) for
/// objects: a rank-1 lattice of 16 points.
fn subsamples() -> [(f32, f32, f32); 16] {
    let mut s = [(0.0, 0.0, 0.0); 16];
    for (i, p) in s.iter_mut().enumerate() {
        let i = i as f32;
        *p = (
            (i + 0.5) / 16.0,
            ((i * 5.0 + 0.5) / 16.0).fract(),
            ((i * 11.0 + 0.5) / 16.0).fract(),
        );
    }
    s
}

impl Body {
    /// Centre (units), rotation (radians) at shot time `t`.
    fn pose(&self, t: f32) -> (f32, f32, f32) {
        let x = self.start.0 + self.vel.0 * t;
        let (ba, bp) = self.bounce;
        let hop = if ba > 0.0 {
            -ba * ((PI * t / bp).sin()).abs()
        } else {
            0.0
        };
        let y = self.start.1 + self.vel.1 * t + hop;
        let angle = match self.kind {
            BodyKind::Ball => (self.vel.0 * t) / self.radius.0,
            BodyKind::Block => 0.15 * (TAU * t / 45.0).sin(),
        };
        (x, y, angle)
    }

    /// Straight colour and coverage at body-local coordinates (-1..1 across the radii).
    fn look(&self, lx: f32, ly: f32, angle: f32) -> (Rgb, f32) {
        let r2 = match self.kind {
            BodyKind::Ball => lx * lx + ly * ly,
            BodyKind::Block => (lx.powi(6) + ly.powi(6)).powf(1.0 / 3.0),
        };
        if r2 >= 1.0 {
            return ([0.0; 3], 0.0);
        }
        let nz = (1.0 - r2).max(0.0).sqrt();
        let (ca, sa) = (angle.cos(), angle.sin());
        let (tx, ty) = (lx * ca + ly * sa, -lx * sa + ly * ca);
        let tex = {
            // Bilinear lookup; rotation keeps (tx, ty) within the texture.
            let k = (TEX - 1) as f32 / 3.0;
            let (fx, fy) = (
                ((tx + 1.5) * k).clamp(0.0, (TEX - 2) as f32),
                ((ty + 1.5) * k).clamp(0.0, (TEX - 2) as f32),
            );
            let (ix, iy) = (fx as usize, fy as usize);
            let (ax, ay) = (fx - ix as f32, fy - iy as f32);
            let t = &self.texture;
            let top = t[iy * TEX + ix] * (1.0 - ax) + t[iy * TEX + ix + 1] * ax;
            let bottom = t[(iy + 1) * TEX + ix] * (1.0 - ax) + t[(iy + 1) * TEX + ix + 1] * ax;
            top * (1.0 - ay) + bottom * ay
        };
        let stripe = if self.kind == BodyKind::Ball {
            0.75 + 0.25 * smoothstep(-0.1, 0.1, (tx * 2.2).sin() * (ty * 2.2).cos())
        } else {
            1.0
        };
        let (nx, ny) = match self.kind {
            BodyKind::Ball => (lx, ly),
            BodyKind::Block => (lx.powi(5) * 0.8, ly.powi(5) * 0.8),
        };
        let nz = if self.kind == BodyKind::Ball {
            nz
        } else {
            (1.0 - nx * nx - ny * ny).max(0.05).sqrt()
        };
        let l = (-0.45f32, -0.6f32, 0.66f32);
        let diffuse = (nx * l.0 + ny * l.1 + nz * l.2).max(0.0);
        let spec = diffuse.powi(24) * 0.35;
        let shade = 0.3 + 0.75 * diffuse;
        let c = self.albedo;
        let k = stripe * (0.85 + 0.3 * tex);
        (
            [
                c[0] * k * shade + spec,
                c[1] * k * shade + spec,
                c[2] * k * shade + spec,
            ],
            1.0,
        )
    }
}

/// A lighting change over a shot: an exposure ramp and a soft cloud shadow sweeping across.
#[derive(Clone, Copy, Debug)]
struct Lighting {
    /// Exposure gain at the start and the end of the ramp, and the ramp's frames.
    gain: (f32, f32),
    ramp: (f32, f32),
    /// Shadow depth (0 = none), direction of travel, start and end positions (units along it).
    shadow: f32,
    dir: (f32, f32),
    sweep: (f32, f32),
    seed: u64,
}

impl Lighting {
    fn none() -> Self {
        Lighting {
            gain: (1.0, 1.0),
            ramp: (0.0, 1.0),
            shadow: 0.0,
            dir: (1.0, 0.0),
            sweep: (0.0, 0.0),
            seed: 0,
        }
    }
}

/// Noise added to every frame, new each frame.
#[derive(Clone, Copy, Debug)]
enum Noise {
    /// Sensor noise: standard deviation in 8-bit luma code values at mid-grey, rising with
    /// brightness as shot noise does.
    Sensor(f32),
    /// Film-like grain about two pixels across, strongest in the mid-tones.
    Grain(f32),
}

/// A part of a scene whose texture changes from frame to frame, not only moves: rippling
/// water, grass blades swaying in the wind.
#[derive(Clone, Debug)]
enum Dynamic {
    /// A lake from `top` (units) down, at `parallax`, reflecting `sky` over `deep` water.
    Water {
        parallax: f32,
        top: f32,
        sky: Rgb,
        deep: Rgb,
        seed: u64,
    },
    /// Out-of-focus blades rising from `base` (units) at `parallax`: position, length,
    /// width, bend, brightness, sway phase and period (frames).
    Blades {
        parallax: f32,
        base: f32,
        blades: Vec<[f32; 7]>,
    },
    /// Leaves hanging down to about `bottom` (units) at `parallax`, fluttering in the wind:
    /// every leaf moves on its own, by a displacement field of fast travelling waves (spatial
    /// frequency u, v in radians a unit, phase, speed in radians a frame; `amp` units), so the
    /// canopy is never a rigid picture. `light` scales its colours (dusk).
    Foliage {
        parallax: f32,
        bottom: f32,
        amp: f32,
        light: f32,
        waves: Vec<[f32; 4]>,
        seed: u64,
    },
}

impl Dynamic {
    /// Whether the part is nearer than the bodies on its plate (drawn after them).
    fn in_front(&self) -> bool {
        matches!(self, Dynamic::Foliage { .. })
    }

    fn draw(&self, c: &mut Canvas, camera: &Camera, t: f32) {
        let (w, hf) = (c.width, c.height as f32);
        let at = camera.pose(t);
        let per_unit = hf * at.zoom;
        let nyq = 0.5 * per_unit;
        let unit = |x: usize, y: usize, p: f32| {
            (
                (x as f32 + 0.5 - w as f32 / 2.0) / per_unit + p * at.x / hf,
                (y as f32 + 0.5 - hf / 2.0) / per_unit + p * at.y / hf,
            )
        };
        match self {
            Dynamic::Water {
                parallax,
                top,
                sky,
                deep,
                seed,
            } => {
                let (f1, f2) = (
                    Fbm::new(*seed, 5.0).octaves(6),
                    Fbm::new(seed ^ 1, 8.0).octaves(5),
                );
                c.px.par_chunks_mut(w).enumerate().for_each(|(y, line)| {
                    for (x, p) in line.iter_mut().enumerate() {
                        let (u, v) = unit(x, y, *parallax);
                        let cover = ((v - top) * per_unit + 0.5).clamp(0.0, 1.0);
                        if cover <= 0.0 {
                            continue;
                        }
                        // Ripples: two wave fields drifting apart, squeezed vertically by
                        // perspective, so the pattern changes shape as well as moving.
                        let d = (v - top).max(0.0) + 0.03;
                        let sq = 0.12 / d;
                        let r = f1.at(u + 0.0025 * t, v * 6.0 * sq, nyq / (6.0 * sq).max(1.0))
                            + 0.7
                                * f2.at(
                                    u * 1.3 - 0.002 * t,
                                    v * 7.0 * sq + 0.0015 * t,
                                    nyq / (7.0 * sq).max(1.3),
                                );
                        let mut col = mix(*deep, *sky, (0.55 + 0.7 * r).clamp(0.0, 1.0));
                        let glint = 0.2 * smoothstep(0.35, 0.6, r);
                        col = [col[0] + glint, col[1] + glint, col[2] + glint];
                        *p = mix(*p, col, cover);
                    }
                });
            }
            Dynamic::Blades {
                parallax,
                base,
                blades,
            } => {
                let longest = blades.iter().map(|b| b[1]).fold(0.0, f32::max);
                let soft = 0.012 + 2.0 / nyq;
                let sway: Vec<f32> = blades
                    .iter()
                    .map(|b| b[3] + 0.12 * (TAU * t / b[6] + b[5]).sin())
                    .collect();
                c.px.par_chunks_mut(w).enumerate().for_each(|(y, line)| {
                    let (_, v) = unit(0, y, *parallax);
                    if v < base - longest {
                        return;
                    }
                    for (x, p) in line.iter_mut().enumerate() {
                        let (u, _) = unit(x, y, *parallax);
                        for (b, bend) in blades.iter().zip(&sway) {
                            let tt = (base - v) / b[1];
                            if !(0.0..1.0).contains(&tt) || (u - b[0]).abs() > b[1] {
                                continue;
                            }
                            let cx = b[0] + bend * tt * tt * b[1];
                            let half = b[2] * (1.0 - tt);
                            let cover = ((half - (u - cx).abs()) / soft + 0.5).clamp(0.0, 1.0);
                            if cover > 0.0 {
                                let k = b[4];
                                *p = mix(*p, [0.16 * k, (0.30 + 0.2 * tt) * k, 0.08 * k], cover);
                            }
                        }
                    }
                });
            }
            Dynamic::Foliage {
                parallax,
                bottom,
                amp,
                light,
                waves,
                seed,
            } => {
                let (edge, detail) = (Fbm::new(*seed, 6.0).octaves(4), Fbm::new(seed ^ 7, 60.0));
                let soft = 1.5 / nyq;
                let (half_u, half_v) = waves.split_at(waves.len() / 2);
                let shift = |list: &[[f32; 4]], u: f32, v: f32| -> f32 {
                    list.iter()
                        .map(|k| (k[0] * u + k[1] * v + k[2] + k[3] * t).sin())
                        .sum::<f32>()
                        * amp
                        / list.len() as f32
                };
                // The canopy's lower edge, per column (`u` does not depend on the row): ragged,
                // and swaying with the leaves.
                let reach: Vec<f32> = (0..w)
                    .map(|x| {
                        let (u, _) = unit(x, 0, *parallax);
                        bottom + 0.08 * edge.at(u, 0.0, nyq) + shift(half_v, u, 0.0)
                    })
                    .collect();
                let lowest = reach.iter().copied().fold(f32::MIN, f32::max) + 0.5 * soft;
                c.px.par_chunks_mut(w).enumerate().for_each(|(y, line)| {
                    let (_, v0) = unit(0, y, *parallax);
                    if v0 >= lowest {
                        return;
                    }
                    for ((x, p), reach) in line.iter_mut().enumerate().zip(&reach) {
                        let (u, v) = unit(x, y, *parallax);
                        let canopy = ((reach - v) / soft + 0.5).clamp(0.0, 1.0);
                        if canopy <= 0.0 {
                            continue;
                        }
                        let (lu, lv) = (u + shift(half_u, u, v), v + shift(half_v, u, v));
                        let (d1, d2, id) = cells(*seed, 0.035, lu, lv);
                        // One leaf in six is a gap that shows what is behind the canopy.
                        if id % 6 == 0 {
                            continue;
                        }
                        let gap = (d2 - d1) / 2.0;
                        let cover = canopy * smoothstep(0.0, 0.004 + soft, gap);
                        let g = spread(id, 8, 0.55, 1.25) * (0.85 + 0.35 * detail.at(lu, lv, nyq));
                        let vein = 0.8 + 0.2 * smoothstep(0.0, 0.012, d1);
                        let k = light * g * vein;
                        let col = [0.13 * k, (0.27 + spread(id, 16, 0.0, 0.12)) * k, 0.07 * k];
                        *p = mix(*p, col, cover);
                    }
                });
            }
        }
    }
}

/// Leaves overhanging the top of the picture at `parallax`, covering about `cover` of its
/// height halfway through the shot; `amp` is their flutter (output lines at 360), `light`
/// scales their colours.
fn foliage(
    rng: &mut Rng,
    cam: &Camera,
    h: usize,
    parallax: f32,
    cover: f32,
    amp: f32,
    light: f32,
) -> Dynamic {
    let mid = cam.pose(cam.frames / 2.0);
    let bottom = (cover - 0.5) / mid.zoom + parallax * mid.y / h as f32;
    let amp = amp / 360.0;
    // Waves of 0.03 to 0.17 units (about 12 to 60 pixels at 360 lines), each moving a good
    // part of a cycle a frame: leaves flutter, they do not drift.
    let waves = (0..12)
        .map(|_| {
            let (len, dir) = (rng.range(0.03, 0.17), rng.range(0.0, TAU));
            let f = TAU / len;
            [
                f * dir.cos(),
                f * dir.sin(),
                rng.range(0.0, TAU),
                rng.range(0.3, 0.9),
            ]
        })
        .collect();
    Dynamic::Foliage {
        parallax,
        bottom,
        amp,
        light,
        waves,
        seed: rng.next_u64(),
    }
}

/// One shot: plates (back to front), objects, camera, lighting, noise.
#[derive(Debug)]
struct Shot {
    plates: Vec<Plate>,
    bodies: Vec<Body>,
    /// Parts painted anew in every frame, each drawn after the plate it names.
    dynamics: Vec<(usize, Dynamic)>,
    camera: Camera,
    light: Lighting,
    noise: Noise,
    /// Overall colour grade (multipliers) and lift.
    grade: (Rgb, f32),
}

impl Shot {
    fn render(&self, w: usize, h: usize, t: f32, seed: u64, n: u32) -> OwnedFrame<u8> {
        let at = self.camera.pose(t);
        let before = self.camera.pose(t - SHUTTER / 2.0);
        let after = self.camera.pose(t + SHUTTER / 2.0);
        let mut c = Canvas::new(w, h, [0.0; 3]);
        for (i, plate) in self.plates.iter().enumerate() {
            composite(&mut c, &plate.layer, &plate.view(w, h, at, before, after));
            let on = |d: &&(usize, Dynamic)| d.0 == i;
            for (_, d) in self
                .dynamics
                .iter()
                .filter(on)
                .filter(|(_, d)| !d.in_front())
            {
                d.draw(&mut c, &self.camera, t);
            }
            for b in self.bodies.iter().filter(|b| b.plate == i) {
                self.draw_body(&mut c, b, plate.parallax, t);
            }
            for (_, d) in self
                .dynamics
                .iter()
                .filter(on)
                .filter(|(_, d)| d.in_front())
            {
                d.draw(&mut c, &self.camera, t);
            }
        }
        self.apply_light(&mut c, t);
        // The sensor's shoulder: highlights roll off softly below full scale.
        for p in &mut c.px {
            for v in p.iter_mut() {
                *v = shoulder(*v);
            }
        }
        let mut planes = c.to_ycbcr();
        add_noise(&mut planes, w, h, self.noise, seed, n);
        planes_to_frame(w, h, &planes)
    }

    /// Draws a body (and its contact shadow) with 16 samples per pixel spread over the pixel
    /// and the shutter.
    fn draw_body(&self, c: &mut Canvas, b: &Body, parallax: f32, t: f32) {
        let (w, h) = (c.width, c.height);
        let hf = h as f32;
        let subs = subsamples();
        // Screen transform per sub-sample time: body centre (px), radii (px), angle.
        let poses: Vec<(f32, f32, f32, f32, f32, f32)> = subs
            .iter()
            .map(|&(_, _, st)| {
                let ts = t + (st - 0.5) * SHUTTER;
                let cam = self.camera.pose(ts);
                let (bx, by, a) = b.pose(ts);
                let sx = (bx * hf - parallax * cam.x) * cam.zoom + w as f32 / 2.0;
                let sy = (by * hf - parallax * cam.y) * cam.zoom + hf / 2.0;
                let ground =
                    ((b.start.1 + b.vel.1 * ts) * hf - parallax * cam.y) * cam.zoom + hf / 2.0;
                (
                    sx,
                    sy,
                    b.radius.0 * hf * cam.zoom,
                    b.radius.1 * hf * cam.zoom,
                    a,
                    ground,
                )
            })
            .collect();
        let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
        for p in &poses {
            x0 = x0.min(p.0 - p.2 * 1.4);
            x1 = x1.max(p.0 + p.2 * 1.4);
            y0 = y0.min(p.1 - p.3);
            y1 = y1.max(p.5 + p.3 * 1.3);
        }
        let xa = (x0.floor().max(0.0)) as usize;
        let xb = (x1.ceil().min(w as f32)) as usize;
        let ya = (y0.floor().max(0.0)) as usize;
        let yb = (y1.ceil().min(hf)) as usize;
        if xa >= xb || ya >= yb {
            return;
        }
        c.px.par_chunks_mut(w)
            .enumerate()
            .skip(ya)
            .take(yb - ya)
            .for_each(|(y, line)| {
                for x in xa..xb {
                    let (mut shadow, mut acc) = (0.0f32, [0.0f32; 4]);
                    for (k, &(dx, dy, _)) in subs.iter().enumerate() {
                        let (sx, sy, rx, ry, a, ground) = poses[k];
                        let (px, py) = (x as f32 + dx, y as f32 + dy);
                        // Contact shadow: a soft ellipse on the ground under the body.
                        let (gx, gy) = (
                            (px - sx) / (rx * 1.3),
                            (py - ground - ry * 0.85) / (ry * 0.35),
                        );
                        let g = gx * gx + gy * gy;
                        let lift = ((ground - sy) / (ry * 4.0)).clamp(0.0, 0.8);
                        shadow += 0.45 * (1.0 - lift) * (1.0 - smoothstep(0.3, 1.0, g));
                        let (col, cov) = b.look((px - sx) / rx, (py - sy) / ry, a);
                        for ch in 0..3 {
                            acc[ch] += col[ch] * cov;
                        }
                        acc[3] += cov;
                    }
                    let n = subs.len() as f32;
                    let d = &mut line[x];
                    let s = 1.0 - shadow / n;
                    let al = acc[3] / n;
                    for ch in 0..3 {
                        d[ch] = d[ch] * s * (1.0 - al) + acc[ch] / n;
                    }
                }
            });
    }

    fn apply_light(&self, c: &mut Canvas, t: f32) {
        let l = &self.light;
        let r = ((t - l.ramp.0) / (l.ramp.1 - l.ramp.0)).clamp(0.0, 1.0);
        let gain = l.gain.0 + (l.gain.1 - l.gain.0) * r * r * (3.0 - 2.0 * r);
        let (grade, lift) = self.grade;
        let (w, hf) = (c.width, c.height as f32);
        let at = self.camera.pose(t);
        let front = l.sweep.0 + (l.sweep.1 - l.sweep.0) * (t / self.camera.frames);
        let edge = Fbm::new(l.seed, 1.2).octaves(4);
        c.px.par_chunks_mut(w).enumerate().for_each(|(y, line)| {
            for (x, p) in line.iter_mut().enumerate() {
                let mut k = gain;
                if l.shadow > 0.0 {
                    // Shadow position in scene units (it moves with the ground).
                    let u = (x as f32 - w as f32 / 2.0) / at.zoom / hf + at.x / hf;
                    let v = (y as f32 - hf / 2.0) / at.zoom / hf + at.y / hf;
                    let d = u * l.dir.0 + v * l.dir.1 - front + 0.25 * edge.at(u, v, 8.0);
                    k *= 1.0 - l.shadow * smoothstep(-0.08, 0.08, d);
                }
                for ch in 0..3 {
                    p[ch] = lift + p[ch] * k * grade[ch];
                }
            }
        });
    }
}

/// A soft highlight roll-off: identity up to 0.8, approaching 1.0 above it; no negatives.
#[inline]
fn shoulder(v: f32) -> f32 {
    if v <= 0.8 {
        v.max(0.0)
    } else {
        0.8 + 0.2 * ((v - 0.8) / 0.2).tanh()
    }
}

/// Adds the shot's noise to full-resolution Y'CbCr planes (8-bit code values).
fn add_noise(planes: &mut [Vec<f32>; 3], w: usize, h: usize, noise: Noise, seed: u64, n: u32) {
    let [y, cb, cr] = planes;
    y.par_chunks_mut(w)
        .zip(cb.par_chunks_mut(w))
        .zip(cr.par_chunks_mut(w))
        .enumerate()
        .for_each(|(row, ((yl, cbl), crl))| {
            let r = row as u32;
            for x in 0..w {
                let xi = x as u32;
                let l = ((yl[x] - 16.0) / 219.0).clamp(0.0, 1.0);
                match noise {
                    Noise::Sensor(s) => {
                        let sigma = s * (0.35 + 0.65 * (l / 0.5).sqrt().min(1.3));
                        yl[x] += sigma * gauss(seed, xi, r, n);
                        cbl[x] += 0.5 * s * gauss(seed ^ 0xc1, xi, r, n);
                        crl[x] += 0.5 * s * gauss(seed ^ 0xc2, xi, r, n);
                    }
                    Noise::Grain(s) => {
                        // Grain clumps about two pixels across: each sample averages four
                        // neighbouring draws (standard deviation kept at 1).
                        let g = 0.5
                            * (gauss(seed, xi, r, n)
                                + gauss(seed, xi + 1, r, n)
                                + gauss(seed, xi, r + 1, n)
                                + gauss(seed, xi + 1, r + 1, n));
                        let sigma = s * (0.3 + 2.8 * l * (1.0 - l));
                        yl[x] += sigma * g;
                        cbl[x] += 0.3 * s * gauss(seed ^ 0xc1, xi / 2, r / 2, n);
                        crl[x] += 0.3 * s * gauss(seed ^ 0xc2, xi / 2, r / 2, n);
                    }
                }
            }
        });
    let _ = h;
}

/// A layer painted from a height field and an albedo: soft Lambert shading from the field's
/// slope under a light from the upper left. `field(u, v, nyquist)` gives height (units of
/// `relief`), straight colour and coverage.
fn shaded(
    w: usize,
    h: usize,
    camera: &Camera,
    parallax: f32,
    edge: Edge,
    relief: f32,
    field: impl Fn(f32, f32, f32) -> (f32, Rgb, f32) + Sync,
) -> Plate {
    // Paint height, colour and coverage first, then shade from height differences.
    let g = Geometry::new(w, h, camera, parallax);
    let nyq = g.nyquist();
    let painted: Vec<(f32, Rgba)> = (0..g.width * g.height)
        .into_par_iter()
        .map(|i| {
            let (u, v) = g.unit(i);
            let (z, c, a) = field(u, v, nyq);
            let a = a.clamp(0.0, 1.0);
            (z, [c[0] * a, c[1] * a, c[2] * a, a])
        })
        .collect();
    let (lw, lh, per_unit) = (g.width, g.height, g.per_unit);
    let heights: Vec<f32> = painted.iter().map(|p| p.0).collect();
    let light = (-0.55f32, -0.55f32, 0.63f32);
    let k = relief * per_unit;
    let px: Vec<Rgba> = (0..lw * lh)
        .into_par_iter()
        .map(|i| {
            let (x, y) = (i % lw, i / lw);
            let hx = heights[y * lw + (x + 1).min(lw - 1)] - heights[y * lw + x.saturating_sub(1)];
            let hy = heights[(y + 1).min(lh - 1) * lw + x] - heights[y.saturating_sub(1) * lw + x];
            let (nx, ny, nz) = (-hx * k * 0.5, -hy * k * 0.5, 1.0);
            let len = (nx * nx + ny * ny + nz * nz).sqrt();
            let lam = ((nx * light.0 + ny * light.1 + nz * light.2) / len).max(0.0);
            // Normalised so that a flat surface keeps its albedo.
            let s = (0.35 + 0.65 * lam / light.2).min(1.6);
            let p = painted[i].1;
            [p[0] * s, p[1] * s, p[2] * s, p[3]]
        })
        .collect();
    Plate {
        layer: Layer::from_pixels(lw, lh, edge, px),
        parallax,
        origin: g.origin,
    }
}

/// Colours of a landscape: sky at the zenith and the horizon, distant rock, vegetation, ground.
#[derive(Clone, Copy, Debug)]
struct Palette {
    zenith: Rgb,
    horizon: Rgb,
    rock: Rgb,
    forest: Rgb,
    meadow: Rgb,
    dry: Rgb,
    cloud: Rgb,
}

fn palette(rng: &mut Rng, dusk: bool) -> Palette {
    let j = |rng: &mut Rng, c: Rgb| -> Rgb {
        let k = rng.range(0.9, 1.1);
        [
            c[0] * k * rng.range(0.95, 1.05),
            c[1] * k,
            c[2] * k * rng.range(0.95, 1.05),
        ]
    };
    if dusk {
        Palette {
            zenith: j(rng, [0.22, 0.30, 0.52]),
            horizon: j(rng, [0.95, 0.66, 0.42]),
            rock: j(rng, [0.42, 0.36, 0.40]),
            forest: j(rng, [0.16, 0.22, 0.12]),
            meadow: j(rng, [0.48, 0.44, 0.20]),
            dry: j(rng, [0.62, 0.46, 0.28]),
            cloud: j(rng, [0.98, 0.78, 0.66]),
        }
    } else {
        Palette {
            zenith: j(rng, [0.26, 0.44, 0.76]),
            horizon: j(rng, [0.74, 0.82, 0.90]),
            rock: j(rng, [0.46, 0.45, 0.48]),
            forest: j(rng, [0.17, 0.30, 0.13]),
            meadow: j(rng, [0.40, 0.55, 0.20]),
            dry: j(rng, [0.64, 0.58, 0.34]),
            cloud: j(rng, [0.97, 0.97, 0.98]),
        }
    }
}

/// Coverage of the region below the curve `edge` at `v`, anti-aliased over one layer pixel.
#[inline]
fn below(v: f32, edge: f32, nyquist: f32) -> f32 {
    ((v - edge) * 2.0 * nyquist + 0.5).clamp(0.0, 1.0)
}

/// Plates of a landscape (sky, mountains, wooded hills, a meadow with tree trunks in front, with
/// room for a lake between hills and meadow if `lake`) and the height of its horizon (units
/// below the first frame's centre).
fn landscape_plates(
    w: usize,
    h: usize,
    cam: &Camera,
    rng: &mut Rng,
    pal: Palette,
    trunks: usize,
    lake: bool,
) -> (Vec<Plate>, f32) {
    let s: Vec<u64> = (0..12).map(|_| rng.next_u64()).collect();
    let horizon = rng.range(0.02, 0.12);
    let cloudiness = rng.range(-0.1, 0.15);
    let haze = pal.horizon;
    let sky = Plate::paint(w, h, cam, 0.08, Edge::Clamp, |u, v, nyq| {
        let t = ((v + 0.9) / (horizon + 0.9)).clamp(0.0, 1.0);
        let base = mix(pal.zenith, pal.horizon, t.powf(1.6));
        let f = Fbm::new(s[0], 1.6).gain(0.55);
        let c = f.at(u * 0.55, v * 1.7, nyq / 1.7);
        let c2 = f.at(u * 0.55, (v + 0.015) * 1.7, nyq / 1.7);
        let cover =
            smoothstep(0.05, 0.45, c + cloudiness) * (1.0 - smoothstep(horizon - 0.2, horizon, v));
        let lit = (0.78 + 2.5 * (c - c2)).clamp(0.55, 1.1);
        let cloud = [pal.cloud[0] * lit, pal.cloud[1] * lit, pal.cloud[2] * lit];
        (mix(base, mix(cloud, haze, 0.2), cover), 1.0)
    });
    let ridge_far = |u: f32, nyq: f32| {
        horizon
            - 0.06
            - 0.14 * (0.5 + profile(s[1], 0.7, u, nyq))
            - 0.1 * (1.0 - 2.0 * profile(s[2], 1.6, u, nyq).abs())
    };
    let mountains = shaded(w, h, cam, 0.22, Edge::Transparent, 0.25, |u, v, nyq| {
        let edge = ridge_far(u, nyq);
        let a = below(v, edge, nyq);
        let z = Fbm::new(s[3], 3.0).at(u, v, nyq) + 0.6 * (v - edge);
        let snow = smoothstep(
            0.04,
            0.0,
            v - edge - 0.05 * (1.0 + Fbm::new(s[4], 6.0).at(u, v, nyq)),
        );
        let rock = mix(pal.rock, [0.93, 0.94, 0.97], snow * 0.9);
        let depth = (v - edge).clamp(0.0, 0.3) / 0.3;
        (-z, mix(rock, haze, 0.45 + 0.25 * depth), a)
    });
    let ridge_mid = |u: f32, nyq: f32| horizon - 0.015 - 0.07 * (0.5 + profile(s[5], 1.3, u, nyq));
    let hills = shaded(w, h, cam, 0.45, Edge::Transparent, 0.12, |u, v, nyq| {
        // Tree crowns make the silhouette bumpy at small scales.
        let crowns = 0.012 * Fbm::new(s[6], 40.0).octaves(4).at(u, 0.0, nyq);
        let edge = ridge_mid(u, nyq) + crowns.abs();
        let a = below(v, edge, nyq);
        let canopy = Fbm::new(s[7], 30.0).at(u, v * 1.4, nyq / 1.4);
        let patches = Fbm::new(s[8], 2.5).at(u, v, nyq);
        let c = mix(pal.forest, pal.meadow, smoothstep(0.0, 0.5, patches));
        let k = 0.8 + 0.5 * canopy;
        let c = [c[0] * k, c[1] * k, c[2] * k];
        (canopy * 0.6 + patches, mix(c, haze, 0.18), a)
    });
    let shore = if lake { 0.24 } else { 0.15 };
    let ground_edge = |u: f32, nyq: f32| horizon + shore + 0.04 * profile(s[9], 1.8, u, nyq);
    // Trunks spread evenly over everything the camera sees, `trunks` per frame width.
    let (lo, hi) = span(w, h, cam, 1.0);
    let aspect = w as f32 / h as f32;
    let count = ((hi - lo + 0.4) / aspect * trunks as f32).round().max(1.0) as usize;
    let step = (hi - lo + 0.4) / count as f32;
    let trunk_at: Vec<(f32, f32, f32)> = (0..count)
        .map(|i| {
            (
                lo - 0.2 + step * (i as f32 + 0.5 + rng.range(-0.3, 0.3)),
                rng.range(0.035, 0.07),
                rng.range(-0.08, 0.08),
            )
        })
        .collect();
    let front = Plate::paint(w, h, cam, 1.0, Edge::Transparent, |u, v, nyq| {
        let edge = ground_edge(u, nyq);
        let mut a = below(v, edge, nyq);
        let streaks = Fbm::new(s[10], 18.0).at(u * 2.0, v * 0.5, nyq / 2.0);
        let fine = Fbm::new(s[11], 50.0).at(u, v, nyq);
        let patches = Fbm::new(s[10] ^ 5, 1.5).at(u, v, nyq);
        let c = mix(pal.meadow, pal.dry, smoothstep(-0.2, 0.4, patches));
        let k = 0.75 + 0.5 * streaks + 0.45 * fine + 0.6 * (v - edge).min(0.3);
        let mut col = [c[0] * k, c[1] * k, c[2] * k];
        for &(tu, tw, lean) in &trunk_at {
            let centre = tu + lean * v;
            let d = (u - centre).abs();
            let cover = ((tw / 2.0 - d) * 2.0 * nyq + 0.5).clamp(0.0, 1.0);
            if cover > 0.0 {
                let across = ((u - centre) / (tw / 2.0)).clamp(-1.0, 1.0);
                let round = (1.0 - across * across).max(0.0).sqrt();
                let bark = Fbm::new(s[11] ^ 9, 25.0).at((u - centre) * 4.0, v * 0.35, nyq / 4.0);
                let k = (0.25 + 0.7 * round * (0.8 - 0.3 * across)) * (0.8 + 0.6 * bark);
                let tc = [0.30 * k, 0.24 * k, 0.18 * k];
                col = mix(col, tc, cover);
                a = a + (1.0 - a) * cover;
            }
        }
        (col, a)
    });
    (vec![sky, mountains, hills, front], horizon)
}

/// The nearest and second-nearest jittered cell centres to (`u`, `v`) on a grid of `cell` units:
/// distances (units) and the nearest cell's hash.
fn cells(seed: u64, cell: f32, u: f32, v: f32) -> (f32, f32, u64) {
    let (cu, cv) = (u / cell, v / cell);
    let (iu, iv) = (cu.floor() as i32, cv.floor() as i32);
    let (mut d1, mut d2, mut id) = (f32::MAX, f32::MAX, 0u64);
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (gx, gy) = (iu + dx, iv + dy);
            let hsh = hash(seed, gx as u32, gy as u32, 0);
            let jx = (hsh & 0xffff) as f32 / 65535.0;
            let jy = (hsh >> 16 & 0xffff) as f32 / 65535.0;
            let (px, py) = (gx as f32 + 0.1 + 0.8 * jx, gy as f32 + 0.1 + 0.8 * jy);
            let d = (cu - px).powi(2) + (cv - py).powi(2);
            if d < d1 {
                (d2, d1, id) = (d1, d, hsh);
            } else if d < d2 {
                d2 = d;
            }
        }
    }
    (d1.sqrt() * cell, d2.sqrt() * cell, id)
}

/// Brightness factor from 8 bits of a hash: `lo` to `hi`.
fn spread(h: u64, shift: u32, lo: f32, hi: f32) -> f32 {
    lo + (hi - lo) * ((h >> shift & 0xff) as f32 / 255.0)
}

/// A close-up of stony ground: stones of two sizes (cell patterns) with speckle, lichen and dark
/// crevices, set in gravel, earth and moss, shaded from their height.
fn ground_plate(w: usize, h: usize, cam: &Camera, rng: &mut Rng, parallax: f32) -> Plate {
    let s: Vec<u64> = (0..8).map(|_| rng.next_u64()).collect();
    let tint = [rng.range(0.9, 1.1), 1.0, rng.range(0.85, 1.05)];
    shaded(w, h, cam, parallax, Edge::Clamp, 0.045, move |u, v, nyq| {
        // Earth and moss in large patches, gravel of many small pebbles, fine 1/f detail.
        let soil = Fbm::new(s[0], 40.0).at(u, v, nyq);
        let moss = smoothstep(0.0, 0.35, Fbm::new(s[1], 3.0).at(u, v, nyq));
        let (p1, p2, pid) = cells(s[5], 0.02, u, v);
        let pebble = smoothstep(0.0, 0.006, p2 - p1);
        let pk = 1.0 + pebble * (spread(pid, 8, 0.45, 1.9) - 1.0);
        let mut col = mix([0.34, 0.27, 0.20], [0.26, 0.33, 0.14], moss);
        let grit = Fbm::new(s[7], 90.0).at(u, v, nyq);
        let k = pk * (0.9 + 0.8 * soil) * (1.0 + 0.6 * grit);
        col = [col[0] * k, col[1] * k, col[2] * k];
        let mut height = 0.004 * pebble * spread(pid, 16, 0.3, 1.0);
        for (level, cell) in [(0u64, 0.16f32), (1, 0.07)] {
            let (d1, d2, id) = cells(s[2] + level, cell, u, v);
            // Keep some cells empty (gravel shows), round the rest into stones.
            if (id >> 40) % 5 < 3 {
                continue;
            }
            let gap = (d2 - d1) / 2.0;
            let r = smoothstep(
                0.0,
                0.3 * cell,
                gap + 0.008 * Fbm::new(s[3], 30.0).at(u, v, nyq),
            );
            let stone_h = r.sqrt() * cell * spread(id, 20, 0.4, 1.0);
            if stone_h > height {
                height = stone_h;
                let g = spread(id, 8, 0.25, 0.75);
                let speck = Fbm::new(s[4] + level, 25.0).at(u, v, nyq);
                let lichen = smoothstep(0.15, 0.3, Fbm::new(s[6] + level, 12.0).at(u, v, nyq));
                let sc = [g * 1.05 * tint[0], g * tint[1], g * 0.92 * tint[2]];
                let sk = (0.8 + 0.9 * speck) * (1.0 + 0.5 * grit);
                let stone = mix(
                    [sc[0] * sk, sc[1] * sk, sc[2] * sk],
                    [0.75, 0.74, 0.55],
                    lichen * 0.7,
                );
                // Crevices at the stone's foot are in shadow.
                let foot = 0.45 + 0.55 * smoothstep(0.0, 0.35, r);
                col = mix(
                    [col[0] * 0.5, col[1] * 0.5, col[2] * 0.5],
                    [stone[0] * foot, stone[1] * foot, stone[2] * foot],
                    smoothstep(0.0, 0.2, r),
                );
            }
        }
        (height * 20.0, col, 1.0)
    })
}

/// Out-of-focus grass blades in front of a close-up, rising from the bottom edge in tufts that
/// sway in the wind.
fn blades(rng: &mut Rng, aspect: f32, parallax: f32) -> Dynamic {
    let mut blades = Vec::new();
    for _ in 0..7 {
        let tu = rng.range(-aspect, aspect * 1.6);
        let (phase, period) = (rng.range(0.0, TAU), rng.range(35.0, 70.0));
        for _ in 0..6 {
            blades.push([
                tu + rng.range(-0.06, 0.06),
                rng.range(0.25, 0.55),
                rng.range(0.008, 0.016),
                rng.range(-0.25, 0.25),
                rng.range(0.6, 1.1),
                phase + rng.range(-0.5, 0.5),
                period * rng.range(0.9, 1.1),
            ]);
        }
    }
    Dynamic::Blades {
        parallax,
        base: 0.62,
        blades,
    }
}

/// The natural scenes.
#[derive(Debug)]
pub struct Natural {
    w: usize,
    h: usize,
    seed: u64,
    /// Shots and the frame each starts at.
    shots: Vec<(u32, Shot)>,
}

/// Which natural scene to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NaturalKind {
    /// A panning shot across a layered landscape (parallax, occluding trunks, moving objects).
    Landscape,
    /// A handheld close-up of stony ground with rolling balls and a cloud shadow.
    Handheld,
    /// A zoom into a landscape, then a cut to a slowly zooming-out close-up.
    Zoom,
    /// A slow pan over a landscape at dusk under film grain.
    Grain,
}

/// Objects moving along the ground band `ground` (units) of a plate, `per_width` per frame width
/// on average over the whole `span` the camera sees, half of them moving each way.
#[allow(clippy::too_many_arguments)]
fn balls(
    rng: &mut Rng,
    plate: usize,
    per_width: f32,
    aspect: f32,
    span: (f32, f32),
    ground: (f32, f32),
    size: f32,
    speed: f32,
    kind: BodyKind,
) -> Vec<Body> {
    let travel = speed * NOMINAL as f32 * 1.4;
    let count = ((span.1 - span.0 + travel) / aspect * per_width)
        .round()
        .max(1.0) as usize;
    (0..count)
        .map(|i| {
            let dir = if i % 2 == 0 { 1.0 } else { -1.0 };
            let r = size * rng.range(0.7, 1.3);
            let x = if dir > 0.0 {
                rng.range(span.0 - travel, span.1)
            } else {
                rng.range(span.0, span.1 + travel)
            };
            Body {
                kind,
                plate,
                start: (x, rng.range(ground.0, ground.1)),
                vel: (
                    dir * speed * rng.range(0.6, 1.4),
                    rng.range(-0.3, 0.3) * speed,
                ),
                bounce: if rng.below(2) == 0 {
                    (r * rng.range(0.5, 1.5), rng.range(12.0, 24.0))
                } else {
                    (0.0, 1.0)
                },
                radius: if kind == BodyKind::Ball {
                    (r, r)
                } else {
                    (r * 1.5, r)
                },
                albedo: super::canvas::hsv(rng.unit(), rng.range(0.35, 0.8), rng.range(0.5, 0.9)),
                texture: body_texture(rng.next_u64()),
            }
        })
        .collect()
}

impl Natural {
    /// Builds the scene's shots (all painting happens here).
    pub fn new(kind: NaturalKind, w: usize, h: usize, frames: u32, seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0x4e41_5455);
        let (fw, fh) = (w as f32, h as f32);
        let mut shots = Vec::new();
        match kind {
            NaturalKind::Landscape => {
                let cam = Camera {
                    pan: (fw * rng.range(0.9, 1.2), fh * rng.range(-0.04, 0.04)),
                    ease: 0.15,
                    ..Camera::still(NOMINAL)
                }
                .handheld(&mut rng, 0.6 * fh / 360.0);
                let pal = palette(&mut rng, false);
                let (plates, hz) = landscape_plates(w, h, &cam, &mut rng, pal, 4, true);
                let lake = Dynamic::Water {
                    parallax: 0.6,
                    top: hz + 0.06,
                    sky: mix(pal.horizon, pal.zenith, 0.3),
                    deep: [0.10, 0.16, 0.20],
                    seed: rng.next_u64(),
                };
                let mut bodies = balls(
                    &mut rng,
                    2,
                    2.0,
                    fw / fh,
                    span(w, h, &cam, 0.45),
                    (hz + 0.015, hz + 0.05),
                    0.035,
                    0.006,
                    BodyKind::Block,
                );
                bodies.extend(balls(
                    &mut rng,
                    3,
                    1.0,
                    fw / fh,
                    span(w, h, &cam, 1.0),
                    (hz + 0.33, hz + 0.4),
                    0.05,
                    0.01,
                    BodyKind::Ball,
                ));
                shots.push((
                    0,
                    Shot {
                        plates,
                        bodies,
                        dynamics: vec![(2, lake)],
                        camera: cam,
                        light: Lighting::none(),
                        noise: Noise::Sensor(1.3),
                        grade: ([1.0; 3], 0.0),
                    },
                ));
            }
            NaturalKind::Handheld => {
                let cam = Camera {
                    pan: (fw * rng.range(0.25, 0.4), fh * rng.range(0.1, 0.2)),
                    zoom: (1.0, rng.range(1.05, 1.15)),
                    ease: 0.1,
                    ..Camera::still(NOMINAL)
                }
                .handheld(&mut rng, 4.0 * fh / 360.0);
                let plates = vec![ground_plate(w, h, &cam, &mut rng, 1.0)];
                let bodies = balls(
                    &mut rng,
                    0,
                    2.5,
                    fw / fh,
                    span(w, h, &cam, 1.0),
                    (-0.3, 0.35),
                    0.07,
                    0.012,
                    BodyKind::Ball,
                );
                let grass = blades(&mut rng, fw / fh, 1.4);
                let leaves = foliage(&mut rng, &cam, h, 1.3, 0.28, 3.0, 1.0);
                shots.push((
                    0,
                    Shot {
                        plates,
                        bodies,
                        dynamics: vec![(0, grass), (0, leaves)],
                        camera: cam,
                        light: Lighting {
                            gain: (1.0, 0.82),
                            ramp: (NOMINAL as f32 * 0.55, NOMINAL as f32 * 0.85),
                            shadow: 0.4,
                            dir: (0.8, 0.6),
                            sweep: (-1.6, 1.6),
                            seed: rng.next_u64(),
                        },
                        noise: Noise::Sensor(1.4),
                        grade: ([1.05, 1.0, 0.95], 0.01),
                    },
                ));
            }
            NaturalKind::Zoom => {
                let cut = (frames * 3 / 5).max(1);
                let cam_a = Camera {
                    pan: (fw * rng.range(-0.15, 0.15), fh * rng.range(0.05, 0.12)),
                    zoom: (1.0, rng.range(1.5, 1.7)),
                    ease: 0.3,
                    ..Camera::still(NOMINAL * 3 / 5)
                }
                .handheld(&mut rng, 0.4 * fh / 360.0);
                let pal = palette(&mut rng, false);
                let (plates, hz) = landscape_plates(w, h, &cam_a, &mut rng, pal, 2, false);
                let bodies = balls(
                    &mut rng,
                    2,
                    1.5,
                    fw / fh,
                    span(w, h, &cam_a, 0.45),
                    (hz + 0.03, hz + 0.1),
                    0.03,
                    0.004,
                    BodyKind::Block,
                );
                let leaves = foliage(&mut rng, &cam_a, h, 1.2, 0.25, 3.0, 1.0);
                let front = plates.len() - 1;
                shots.push((
                    0,
                    Shot {
                        plates,
                        bodies,
                        dynamics: vec![(front, leaves)],
                        camera: cam_a,
                        light: Lighting::none(),
                        noise: Noise::Sensor(0.9),
                        grade: ([1.0; 3], 0.0),
                    },
                ));
                let cam_b = Camera {
                    pan: (fw * rng.range(-0.2, 0.2), fh * rng.range(-0.1, 0.1)),
                    zoom: (1.35, 1.0),
                    ease: 0.2,
                    ..Camera::still(NOMINAL * 2 / 5)
                }
                .handheld(&mut rng, 1.5 * fh / 360.0);
                let plates = vec![ground_plate(w, h, &cam_b, &mut rng, 1.0)];
                let bodies = balls(
                    &mut rng,
                    0,
                    0.7,
                    fw / fh,
                    span(w, h, &cam_b, 1.0),
                    (-0.1, 0.2),
                    0.09,
                    0.008,
                    BodyKind::Ball,
                );
                let leaves = foliage(&mut rng, &cam_b, h, 1.3, 0.25, 3.0, 1.0);
                shots.push((
                    cut,
                    Shot {
                        plates,
                        bodies,
                        dynamics: vec![(0, leaves)],
                        camera: cam_b,
                        light: Lighting::none(),
                        noise: Noise::Sensor(1.2),
                        grade: ([0.95, 1.0, 1.06], 0.0),
                    },
                ));
            }
            NaturalKind::Grain => {
                let cam = Camera {
                    pan: (-fw * rng.range(0.25, 0.4), 0.0),
                    zoom: (1.0, 1.04),
                    ease: 0.0,
                    ..Camera::still(NOMINAL)
                }
                .handheld(&mut rng, 0.8 * fh / 360.0);
                let pal = palette(&mut rng, true);
                let (plates, hz) = landscape_plates(w, h, &cam, &mut rng, pal, 3, true);
                let lake = Dynamic::Water {
                    parallax: 0.6,
                    top: hz + 0.05,
                    sky: mix(pal.horizon, pal.cloud, 0.3),
                    deep: [0.12, 0.10, 0.14],
                    seed: rng.next_u64(),
                };
                let bodies = balls(
                    &mut rng,
                    3,
                    0.7,
                    fw / fh,
                    span(w, h, &cam, 1.0),
                    (hz + 0.34, hz + 0.38),
                    0.06,
                    0.008,
                    BodyKind::Ball,
                );
                let leaves = foliage(&mut rng, &cam, h, 1.2, 0.25, 3.0, 0.55);
                let front = plates.len() - 1;
                shots.push((
                    0,
                    Shot {
                        plates,
                        bodies,
                        dynamics: vec![(2, lake), (front, leaves)],
                        camera: cam,
                        light: Lighting {
                            gain: (1.0, 0.9),
                            ramp: (0.0, NOMINAL as f32),
                            ..Lighting::none()
                        },
                        noise: Noise::Grain(2.0),
                        grade: ([1.02, 0.97, 0.9], 0.015),
                    },
                ));
            }
        }
        Natural { w, h, seed, shots }
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let (start, shot) = self
            .shots
            .iter()
            .rev()
            .find(|(s, _)| *s <= n)
            .unwrap_or(&self.shots[0]);
        shot.render(self.w, self.h, (n - start) as f32, self.seed, n)
    }
}
