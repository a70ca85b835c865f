//! An animation-style scene: flat colours, dark outlines and a smooth sky, the background
//! panning on every frame at sub-pixel speed (parallax between hill bands) and characters
//! animated "on twos" (a new pose every second frame), as in hand-drawn and digital cel
//! animation. Shapes are signed-distance primitives rasterised with analytic anti-aliasing.

use rdbench_metrics::frame::OwnedFrame;

use super::canvas::{hsv, mix, Canvas, Rgb};
use super::prng::Rng;

/// A shape in output pixels.
#[derive(Clone, Copy, Debug)]
enum Shape {
    /// Circle: centre, radius.
    Circle((f32, f32), f32),
    /// Axis-aligned ellipse: centre, radii.
    Ellipse((f32, f32), (f32, f32)),
    /// Rounded box: centre, half sizes, corner radius.
    Box((f32, f32), (f32, f32), f32),
    /// Triangle.
    Tri((f32, f32), (f32, f32), (f32, f32)),
}

fn length(x: f32, y: f32) -> f32 {
    (x * x + y * y).sqrt()
}

impl Shape {
    /// Signed distance in pixels (negative inside).
    fn sdf(&self, x: f32, y: f32) -> f32 {
        match *self {
            Shape::Circle((cx, cy), r) => length(x - cx, y - cy) - r,
            Shape::Ellipse((cx, cy), (rx, ry)) => {
                // First-order distance: the implicit function over its gradient.
                let (px, py) = ((x - cx) / rx, (y - cy) / ry);
                let f = length(px, py);
                let g = length(px / rx, py / ry).max(1e-6);
                (f - 1.0) * f / g
            }
            Shape::Box((cx, cy), (hx, hy), r) => {
                let (qx, qy) = ((x - cx).abs() - hx + r, (y - cy).abs() - hy + r);
                length(qx.max(0.0), qy.max(0.0)) + qx.max(qy).min(0.0) - r
            }
            Shape::Tri(a, b, c) => {
                let edge = |p0: (f32, f32), p1: (f32, f32)| {
                    let (ex, ey) = (p1.0 - p0.0, p1.1 - p0.1);
                    let (wx, wy) = (x - p0.0, y - p0.1);
                    let t = ((wx * ex + wy * ey) / (ex * ex + ey * ey)).clamp(0.0, 1.0);
                    let d = length(wx - ex * t, wy - ey * t);
                    (d, ex * wy - ey * wx)
                };
                let (d0, s0) = edge(a, b);
                let (d1, s1) = edge(b, c);
                let (d2, s2) = edge(c, a);
                let d = d0.min(d1).min(d2);
                let inside =
                    (s0 >= 0.0 && s1 >= 0.0 && s2 >= 0.0) || (s0 <= 0.0 && s1 <= 0.0 && s2 <= 0.0);
                if inside {
                    -d
                } else {
                    d
                }
            }
        }
    }

    /// Bounding box (x0, y0, x1, y1) in pixels.
    fn bounds(&self) -> (f32, f32, f32, f32) {
        match *self {
            Shape::Circle((cx, cy), r) => (cx - r, cy - r, cx + r, cy + r),
            Shape::Ellipse((cx, cy), (rx, ry)) => (cx - rx, cy - ry, cx + rx, cy + ry),
            Shape::Box((cx, cy), (hx, hy), _) => (cx - hx, cy - hy, cx + hx, cy + hy),
            Shape::Tri(a, b, c) => (
                a.0.min(b.0).min(c.0),
                a.1.min(b.1).min(c.1),
                a.0.max(b.0).max(c.0),
                a.1.max(b.1).max(c.1),
            ),
        }
    }
}

/// Fill and outline of a shape.
#[derive(Clone, Copy, Debug)]
struct Style {
    fill: Rgb,
    /// Outline colour and width in pixels (0 = none).
    line: (Rgb, f32),
}

fn draw(c: &mut Canvas, shape: &Shape, style: Style) {
    let lw = style.line.1;
    let (x0, y0, x1, y1) = shape.bounds();
    let pad = lw + 2.0;
    let xa = (x0 - pad).floor().max(0.0) as usize;
    let ya = (y0 - pad).floor().max(0.0) as usize;
    let xb = ((x1 + pad).ceil().max(0.0) as usize).min(c.width);
    let yb = ((y1 + pad).ceil().max(0.0) as usize).min(c.height);
    for y in ya..yb {
        for x in xa..xb {
            let d = shape.sdf(x as f32 + 0.5, y as f32 + 0.5);
            let fill = (0.5 - d).clamp(0.0, 1.0);
            let p = &mut c.px[y * c.width + x];
            if fill > 0.0 {
                *p = mix(*p, style.fill, fill);
            }
            if lw > 0.0 {
                let line = (0.5 - (d.abs() - lw / 2.0)).clamp(0.0, 1.0);
                if line > 0.0 {
                    *p = mix(*p, style.line.0, line);
                }
            }
        }
    }
}

/// A hill band: the region below a sum of sines, flat-filled with an outline along its top.
#[derive(Clone, Debug)]
struct Band {
    base: f32,
    waves: Vec<(f32, f32, f32)>,
    parallax: f32,
    colour: Rgb,
    line: (Rgb, f32),
}

impl Band {
    /// Height (units) of the band's top at world x (units), and its slope.
    fn top(&self, u: f32) -> (f32, f32) {
        let (mut y, mut dy) = (self.base, 0.0);
        for &(f, a, p) in &self.waves {
            y += a * (f * u + p).sin();
            dy += a * f * (f * u + p).cos();
        }
        (y, dy)
    }
}

/// A character: a round body with eyes that hops along, squashing on landing.
#[derive(Clone, Copy, Debug)]
struct Critter {
    x0: f32,
    speed: f32,
    ground: f32,
    size: f32,
    hop: f32,
    period: f32,
    colour: Rgb,
}

/// Things standing on the near band: trees and houses, at world x (units).
#[derive(Clone, Copy, Debug)]
enum Prop {
    Tree {
        x: f32,
        size: f32,
        colour: Rgb,
    },
    House {
        x: f32,
        size: f32,
        wall: Rgb,
        roof: Rgb,
    },
}

/// The animation scene.
#[derive(Debug)]
pub struct Cartoon {
    w: usize,
    h: usize,
    sky: (Rgb, Rgb),
    sun: (f32, f32),
    clouds: Vec<(f32, f32, f32)>,
    bands: Vec<Band>,
    props: Vec<Prop>,
    critters: Vec<Critter>,
    ground: f32,
    pan: f32,
}

const INK: Rgb = [0.10, 0.08, 0.12];

impl Cartoon {
    /// Lays out the scene from the seed.
    // The phase range 0..6.28 is part of the pinned recipe (`TAU` would change the rendered
    // sequence), so clippy's suggestion is declined.
    #[allow(clippy::approx_constant)]
    pub fn new(w: usize, h: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed ^ 0xca47);
        let hue = rng.range(0.52, 0.62);
        let sky = (hsv(hue, 0.55, 0.85), hsv(hue - 0.04, 0.22, 0.98));
        let wave = |rng: &mut Rng, amp: f32| -> Vec<(f32, f32, f32)> {
            (0..3)
                .map(|k| {
                    (
                        rng.range(1.5, 3.0) * (k + 1) as f32,
                        amp / (k + 1) as f32,
                        rng.range(0.0, 6.28),
                    )
                })
                .collect()
        };
        let ground = 0.3;
        let bands = vec![
            Band {
                base: -0.02,
                waves: wave(&mut rng, 0.06),
                parallax: 0.25,
                colour: hsv(hue + 0.05, 0.25, 0.72),
                line: ([0.0; 3], 0.0),
            },
            Band {
                base: 0.10,
                waves: wave(&mut rng, 0.05),
                parallax: 0.5,
                colour: hsv(rng.range(0.25, 0.32), 0.55, 0.62),
                line: (hsv(0.3, 0.6, 0.3), 1.5),
            },
            Band {
                base: ground,
                waves: wave(&mut rng, 0.01),
                parallax: 1.0,
                colour: hsv(rng.range(0.18, 0.26), 0.6, 0.78),
                line: (INK, 2.0),
            },
        ];
        // World extent covered by the pan (units).
        let pan = rng.range(0.5, 0.8) * w as f32 / h as f32;
        let mut props = Vec::new();
        let mut x = -1.2;
        while x < pan + 1.2 {
            if rng.below(3) == 0 {
                props.push(Prop::House {
                    x,
                    size: rng.range(0.16, 0.24),
                    wall: hsv(rng.range(0.0, 0.15), 0.35, 0.95),
                    roof: hsv(rng.range(0.95, 1.05), 0.7, 0.7),
                });
                x += rng.range(0.4, 0.6);
            } else {
                props.push(Prop::Tree {
                    x,
                    size: rng.range(0.08, 0.14),
                    colour: hsv(rng.range(0.25, 0.38), 0.65, rng.range(0.45, 0.65)),
                });
                x += rng.range(0.18, 0.35);
            }
        }
        let clouds = (0..6)
            .map(|_| {
                (
                    rng.range(-1.0, pan * 0.3 + 1.0),
                    rng.range(-0.45, -0.2),
                    rng.range(0.05, 0.09),
                )
            })
            .collect();
        let critters = (0..3)
            .map(|i| Critter {
                x0: rng.range(-0.9, 0.2) + i as f32 * 0.3,
                speed: rng.range(0.004, 0.009) * if i == 1 { -0.6 } else { 1.0 },
                ground: ground + 0.06 + 0.05 * i as f32,
                size: rng.range(0.05, 0.08),
                hop: rng.range(0.05, 0.1),
                period: rng.range(14.0, 22.0),
                colour: hsv(rng.unit(), 0.7, 0.9),
            })
            .collect();
        Cartoon {
            w,
            h,
            sky,
            sun: (rng.range(-0.5, 0.5), rng.range(-0.35, -0.25)),
            clouds,
            bands,
            props,
            critters,
            ground,
            pan: pan / super::natural::NOMINAL as f32,
        }
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let (w, h) = (self.w, self.h);
        let (wf, hf) = (w as f32, h as f32);
        let cam = self.pan * n as f32;
        // Characters are drawn on twos.
        let tc = (n - n % 2) as f32;
        let sx = |u: f32, par: f32| (u - cam * par) * hf + wf / 2.0;
        let sy = |v: f32| v * hf + hf / 2.0;
        let px = hf / 360.0;
        let mut c = Canvas::new(w, h, [0.0; 3]);
        let (top, bottom) = self.sky;
        c.fill_with(|_, y| mix(top, bottom, (y as f32 / hf / 0.6).min(1.0)));
        draw(
            &mut c,
            &Shape::Circle((sx(self.sun.0, 0.05), sy(self.sun.1)), 0.07 * hf),
            Style {
                fill: [1.0, 0.93, 0.55],
                line: ([1.0, 0.8, 0.4], 2.0 * px),
            },
        );
        for &(cx, cy, r) in &self.clouds {
            let drift = cx + 0.0006 * n as f32;
            for (dx, dy, k) in [
                (-1.0, 0.2, 0.8),
                (0.0, 0.0, 1.1),
                (1.0, 0.25, 0.75),
                (0.5, -0.3, 0.7),
            ] {
                let shape = Shape::Circle((sx(drift + dx * r, 0.15), sy(cy + dy * r)), k * r * hf);
                draw(
                    &mut c,
                    &shape,
                    Style {
                        fill: [0.98, 0.98, 1.0],
                        line: ([0.8, 0.84, 0.92], 1.5 * px),
                    },
                );
            }
        }
        for (i, band) in self.bands.iter().enumerate() {
            let lw = band.line.1 * px;
            for x in 0..w {
                let u = (x as f32 + 0.5 - wf / 2.0) / hf + cam * band.parallax;
                let (top, slope) = band.top(u);
                let ytop = sy(top);
                let cos = 1.0 / (1.0 + slope * slope).sqrt();
                for y in (ytop - lw - 2.0).floor().max(0.0) as usize..h {
                    let d = (ytop - (y as f32 + 0.5)) * cos;
                    let p = &mut c.px[y * w + x];
                    let fill = (0.5 - d).clamp(0.0, 1.0);
                    *p = mix(*p, band.colour, fill);
                    if lw > 0.0 {
                        let line = (0.5 - (d.abs() - lw / 2.0)).clamp(0.0, 1.0);
                        *p = mix(*p, band.line.0, line);
                    }
                }
            }
            if i == 1 {
                self.draw_props(&mut c, &sx, &sy, px);
            }
        }
        // A path across the ground.
        let path = Shape::Box((wf / 2.0, sy(self.ground + 0.12)), (wf, 0.025 * hf), 0.0);
        draw(
            &mut c,
            &path,
            Style {
                fill: [0.85, 0.74, 0.52],
                line: (INK, 1.5 * px),
            },
        );
        for k in &self.critters {
            let t = tc;
            let x = k.x0 + k.speed * t;
            let phase = (t / k.period).fract();
            let air = (std::f32::consts::PI * phase).sin();
            let squash = if phase < 0.15 {
                1.0 - 1.5 * (0.15 - phase)
            } else {
                1.0
            };
            let (rx, ry) = (k.size * (2.0 - squash), k.size * squash);
            let cy = k.ground - ry - k.hop * air;
            let (bx, by) = (sx(x, 1.0), sy(cy));
            let shadow = Shape::Ellipse(
                (bx, sy(k.ground)),
                (rx * hf * (1.0 - 0.4 * air), 0.015 * hf),
            );
            draw(
                &mut c,
                &shadow,
                Style {
                    fill: mix(self.bands[2].colour, [0.0; 3], 0.35),
                    line: ([0.0; 3], 0.0),
                },
            );
            let body = Shape::Ellipse((bx, by), (rx * hf, ry * hf));
            draw(
                &mut c,
                &body,
                Style {
                    fill: k.colour,
                    line: (INK, 2.5 * px),
                },
            );
            let belly = Shape::Ellipse((bx, by + 0.35 * ry * hf), (0.55 * rx * hf, 0.45 * ry * hf));
            draw(
                &mut c,
                &belly,
                Style {
                    fill: mix(k.colour, [1.0; 3], 0.55),
                    line: ([0.0; 3], 0.0),
                },
            );
            let dir = k.speed.signum();
            for e in [-1.0f32, 1.0] {
                let (ex, ey) = (bx + (dir * 0.35 + e * 0.3) * rx * hf, by - 0.3 * ry * hf);
                draw(
                    &mut c,
                    &Shape::Circle((ex, ey), 0.28 * k.size * hf),
                    Style {
                        fill: [1.0; 3],
                        line: (INK, 1.5 * px),
                    },
                );
                draw(
                    &mut c,
                    &Shape::Circle((ex + dir * 0.1 * k.size * hf, ey), 0.13 * k.size * hf),
                    Style {
                        fill: INK,
                        line: ([0.0; 3], 0.0),
                    },
                );
            }
        }
        c.to_frame()
    }

    fn draw_props(
        &self,
        c: &mut Canvas,
        sx: &dyn Fn(f32, f32) -> f32,
        sy: &dyn Fn(f32) -> f32,
        px: f32,
    ) {
        let hf = c.height as f32;
        let base = self.ground + 0.02;
        for prop in &self.props {
            match *prop {
                Prop::Tree { x, size, colour } => {
                    let (tx, ty) = (sx(x, 0.8), sy(base));
                    let trunk = Shape::Box(
                        (tx, ty - size * 0.6 * hf),
                        (0.12 * size * hf, 0.6 * size * hf),
                        2.0 * px,
                    );
                    draw(
                        c,
                        &trunk,
                        Style {
                            fill: [0.45, 0.30, 0.18],
                            line: (INK, 2.0 * px),
                        },
                    );
                    let crown = Shape::Circle((tx, ty - 1.5 * size * hf), size * hf);
                    draw(
                        c,
                        &crown,
                        Style {
                            fill: colour,
                            line: (INK, 2.0 * px),
                        },
                    );
                    let shine = Shape::Circle(
                        (tx - 0.35 * size * hf, ty - 1.8 * size * hf),
                        0.35 * size * hf,
                    );
                    draw(
                        c,
                        &shine,
                        Style {
                            fill: mix(colour, [1.0; 3], 0.25),
                            line: ([0.0; 3], 0.0),
                        },
                    );
                }
                Prop::House {
                    x,
                    size,
                    wall,
                    roof,
                } => {
                    let (hx, hy) = (sx(x, 0.8), sy(base));
                    let s = size * hf;
                    let body = Shape::Box((hx, hy - 0.4 * s), (0.5 * s, 0.4 * s), 0.0);
                    draw(
                        c,
                        &body,
                        Style {
                            fill: wall,
                            line: (INK, 2.0 * px),
                        },
                    );
                    let r = Shape::Tri(
                        (hx - 0.62 * s, hy - 0.78 * s),
                        (hx + 0.62 * s, hy - 0.78 * s),
                        (hx, hy - 1.25 * s),
                    );
                    draw(
                        c,
                        &r,
                        Style {
                            fill: roof,
                            line: (INK, 2.0 * px),
                        },
                    );
                    let win = Shape::Box((hx - 0.22 * s, hy - 0.5 * s), (0.1 * s, 0.1 * s), 0.0);
                    draw(
                        c,
                        &win,
                        Style {
                            fill: [0.55, 0.75, 0.95],
                            line: (INK, 1.5 * px),
                        },
                    );
                    let door = Shape::Box((hx + 0.2 * s, hy - 0.2 * s), (0.1 * s, 0.2 * s), 0.0);
                    draw(
                        c,
                        &door,
                        Style {
                            fill: mix(roof, INK, 0.3),
                            line: (INK, 1.5 * px),
                        },
                    );
                }
            }
        }
    }
}
