//! The synthetic scenes of the `quick` corpus. Each is built once from its size, length and seed
//! (all set-up randomness comes from the seed), then renders any frame independently.

use std::f32::consts::TAU;

use rdbench_metrics::frame::OwnedFrame;

use super::canvas::{hsv, mix, planes_to_frame, smoothstep, Canvas, Rgb};
use super::font;
use super::prng::{gauss, hash, Rng};
use super::text::{self, TokenKind};

/// The size unit of a scene: 1.0 at 360 lines.
fn unit(h: usize) -> f32 {
    h as f32 / 360.0
}

/// Integer pixel scale of text for a given height, at least 1.
fn text_scale(h: usize, per_360: f32) -> usize {
    ((per_360 * unit(h)).round() as usize).max(1)
}

/// Static broadcast-style graphics with text: a title band, a paragraph, a logo, a bar chart,
/// colour bars, a fine line wedge; only a timecode and a blinking cursor change.
#[derive(Debug)]
pub struct Titles {
    base: Canvas,
    fps: u32,
    timecode_at: (i64, i64),
    cursor_at: (i64, i64),
    scale: usize,
}

impl Titles {
    /// Builds the static picture.
    pub fn new(w: usize, h: usize, fps: u32, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut c = Canvas::new(w, h, [0.0; 3]);
        c.fill_with(|_, y| mix([0.06, 0.09, 0.22], [0.02, 0.03, 0.08], y as f32 / h as f32));
        let (wi, hi) = (w as i64, h as i64);
        let band = hi * 14 / 100;
        c.rect(0, 0, wi, band, [0.80, 0.18, 0.14]);
        c.rect(0, band, wi, (hi / 120).max(1), [0.95, 0.85, 0.30]);
        let big = text_scale(h, 3.0);
        c.text(
            wi / 24,
            (band - 7 * big as i64) / 2,
            big,
            [1.0; 3],
            "RDBENCH TEST CARD",
        );
        let small = text_scale(h, 1.0);
        let line_h = (font::CELL_H * small + small * 3) as i64;
        let (px, mut py) = (wi / 24, band + hi / 20);
        let cols = ((wi / 2 - px) / (font::CELL_W * small) as i64).max(8) as usize;
        let mut last_end = px;
        for _ in 0..9 {
            let words = 4 + rng.below(5) as usize;
            let mut line = text::sentence(&mut rng, words);
            line.truncate(cols);
            last_end = c.text(px, py, small, [0.88, 0.90, 0.95], &line);
            py += line_h;
        }
        let cursor_at = (last_end + small as i64 * 2, py - line_h);
        // Logo: concentric rings.
        let (lx, ly, lr) = (wi as f32 * 0.74, hi as f32 * 0.36, h as f32 * 0.14);
        for k in 0..6 {
            let colour = if k % 2 == 0 {
                hsv(0.08 * k as f32 + rng.unit() * 0.1, 0.8, 0.95)
            } else {
                [0.05, 0.07, 0.15]
            };
            c.disc(lx, ly, lr * (1.0 - k as f32 / 6.0), colour);
        }
        c.text(
            (lx - lr) as i64,
            (ly + lr) as i64 + 6,
            small,
            [0.95, 0.85, 0.3],
            "CH 7  LIVE",
        );
        // Bar chart.
        let (bx, by, bw) = (wi * 58 / 100, hi * 72 / 100, wi * 2 / 100);
        for i in 0..8 {
            let bh = (hi as f32 * rng.range(0.05, 0.16)) as i64;
            c.rect(
                bx + i * bw * 3 / 2,
                by - bh,
                bw,
                bh,
                hsv(0.55 + 0.03 * i as f32, 0.6, 0.85),
            );
        }
        // Fine line wedge: one-pixel black and white lines, then two-pixel ones.
        let (wx, wy, ww, wh) = (wi * 86 / 100, hi * 58 / 100, wi / 10, hi / 8);
        for y in wy..wy + wh {
            for x in wx..wx + ww {
                let period = if x < wx + ww / 2 { 1 } else { 2 };
                let on = ((x - wx) / period) % 2 == 0;
                c.rect(x, y, 1, 1, if on { [0.9; 3] } else { [0.1; 3] });
            }
        }
        // Colour bars at 75 %.
        let bars: [Rgb; 7] = [
            [0.75, 0.75, 0.75],
            [0.75, 0.75, 0.0],
            [0.0, 0.75, 0.75],
            [0.0, 0.75, 0.0],
            [0.75, 0.0, 0.75],
            [0.75, 0.0, 0.0],
            [0.0, 0.0, 0.75],
        ];
        let top = hi * 86 / 100;
        for (i, colour) in bars.iter().enumerate() {
            let x0 = wi * i as i64 / 7;
            let x1 = wi * (i as i64 + 1) / 7;
            c.rect(x0, top, x1 - x0, hi - top, *colour);
        }
        let timecode_at = (wi * 70 / 100, (band - 7 * small as i64) / 2);
        Titles {
            base: c,
            fps: fps.max(1),
            timecode_at,
            cursor_at,
            scale: small,
        }
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let mut c = self.base.clone();
        let (s, f) = (n / self.fps, n % self.fps);
        let tc = format!("TC 00:{:02}:{:02}:{:02}", s / 60, s % 60, f);
        c.text(
            self.timecode_at.0,
            self.timecode_at.1,
            self.scale,
            [1.0; 3],
            &tc,
        );
        if (n / 15) % 2 == 0 {
            let s = self.scale as i64;
            c.rect(
                self.cursor_at.0,
                self.cursor_at.1,
                5 * s,
                7 * s,
                [0.95, 0.85, 0.3],
            );
        }
        c.to_frame()
    }
}

/// A zoom into the Mandelbrot set: detail finer than a pixel appears at every scale.
#[derive(Debug)]
pub struct Zoom {
    w: usize,
    h: usize,
    centre: (f64, f64),
    view_h: f64,
    rate: f64,
    max_iter: u32,
    palette: Vec<Rgb>,
}

impl Zoom {
    /// Picks a centre and palette from the seed.
    pub fn new(w: usize, h: usize, seed: u64) -> Self {
        const CENTRES: [(f64, f64); 3] = [
            (-0.743_643_887_037_151, 0.131_825_904_205_33),
            (-0.745_3, 0.112_7),
            (-0.160_701_35, 1.037_566_5),
        ];
        let mut rng = Rng::new(seed);
        let centre = CENTRES[rng.below(CENTRES.len() as u32) as usize];
        let hue0 = rng.unit();
        let palette = (0..64)
            .map(|i| {
                let t = i as f32 / 64.0;
                let v = 0.35 + 0.6 * (1.0 - (2.0 * t - 1.0).abs());
                hsv(hue0 + t * 0.6, 0.75, v)
            })
            .collect();
        Zoom {
            w,
            h,
            centre,
            view_h: 0.012,
            rate: 1.045,
            max_iter: 180,
            palette,
        }
    }

    /// Frame `n`: the view shrinks by the zoom rate each frame.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let px = self.view_h / self.h as f64 / self.rate.powi(n as i32);
        let mut c = Canvas::new(self.w, self.h, [0.0; 3]);
        let (w2, h2) = (self.w as f64 / 2.0, self.h as f64 / 2.0);
        let (cx, cy) = self.centre;
        let (max_iter, palette) = (self.max_iter, &self.palette);
        c.fill_with(|x, y| {
            let re = cx + (x as f64 + 0.5 - w2) * px;
            let im = cy - (y as f64 + 0.5 - h2) * px;
            let (mut zr, mut zi, mut i) = (0.0f64, 0.0f64, 0u32);
            while i < max_iter {
                let (r2, i2) = (zr * zr, zi * zi);
                if r2 + i2 > 4.0 {
                    break;
                }
                zi = 2.0 * zr * zi + im;
                zr = r2 - i2 + re;
                i += 1;
            }
            if i == max_iter {
                [0.02, 0.02, 0.04]
            } else {
                palette[(i as usize * 3) % palette.len()]
            }
        });
        c.to_frame()
    }
}

#[derive(Debug, Clone, Copy)]
struct Piece {
    x: f32,
    y: f32,
    vx: f32,
    vy: f32,
    size: f32,
    colour: Rgb,
    shape: u32,
}

/// High-entropy motion: a textured background panning fast under many independently moving
/// discs, boxes and letters.
#[derive(Debug)]
pub struct Confetti {
    w: usize,
    h: usize,
    seed: u64,
    pieces: Vec<Piece>,
    pan: (f32, f32),
    tile: usize,
}

impl Confetti {
    /// Scatters the pieces.
    pub fn new(w: usize, h: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let u = unit(h);
        let count = (w * h / 1500).max(8);
        let pieces = (0..count)
            .map(|_| Piece {
                x: rng.range(0.0, w as f32),
                y: rng.range(0.0, h as f32),
                vx: rng.range(-14.0, 14.0) * u,
                vy: rng.range(-9.0, 9.0) * u,
                size: rng.range(4.0, 26.0) * u,
                colour: hsv(rng.unit(), rng.range(0.5, 1.0), rng.range(0.4, 1.0)),
                shape: rng.below(3),
            })
            .collect();
        Confetti {
            w,
            h,
            seed,
            pieces,
            pan: (9.0 * u, 3.0 * u),
            tile: (16.0 * u) as usize + 1,
        }
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let (ox, oy) = (
            (self.pan.0 * n as f32) as usize,
            (self.pan.1 * n as f32) as usize,
        );
        let (tile, seed) = (self.tile, self.seed);
        let mut c = Canvas::new(self.w, self.h, [0.0; 3]);
        c.fill_with(|x, y| {
            let (gx, gy) = (x + ox, y + oy);
            let h = hash(seed, (gx / tile) as u32, (gy / tile) as u32, 0);
            let base = hsv(
                (h & 0xff) as f32 / 255.0,
                0.35,
                0.35 + (h >> 8 & 0xff) as f32 / 255.0 * 0.4,
            );
            let stripe = if (gx + gy) / 3 % 2 == 0 { 1.0 } else { 0.8 };
            [base[0] * stripe, base[1] * stripe, base[2] * stripe]
        });
        let (wf, hf) = (self.w as f32, self.h as f32);
        for p in &self.pieces {
            let span_x = wf + 2.0 * p.size;
            let span_y = hf + 2.0 * p.size;
            let x = (p.x + p.vx * n as f32 + p.size).rem_euclid(span_x) - p.size;
            let y = (p.y + p.vy * n as f32 + p.size).rem_euclid(span_y) - p.size;
            match p.shape {
                0 => c.disc(x, y, p.size / 2.0, p.colour),
                1 => c.rect(
                    x as i64,
                    y as i64,
                    p.size as i64,
                    (p.size * 0.6) as i64,
                    p.colour,
                ),
                _ => {
                    let ch = (b'A' + (p.x as u32 % 26) as u8) as char;
                    let s = (p.size / 7.0).max(1.0) as usize;
                    c.text(x as i64, y as i64, s, p.colour, &ch.to_string());
                }
            }
        }
        c.to_frame()
    }
}

/// A smooth, slowly drifting landscape under heavy, luminance-dependent film-like grain that
/// changes every frame.
#[derive(Debug)]
pub struct Grain {
    w: usize,
    h: usize,
    seed: u64,
    hills: [(f32, f32, f32); 4],
    sun: (f32, f32),
}

impl Grain {
    /// Chooses the hill shapes and sun position.
    pub fn new(w: usize, h: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut hills = [(0.0, 0.0, 0.0); 4];
        for hl in &mut hills {
            *hl = (
                rng.range(1.5, 5.0),
                rng.range(0.0, TAU),
                rng.range(0.02, 0.06),
            );
        }
        Grain {
            w,
            h,
            seed,
            hills,
            sun: (rng.range(0.2, 0.8), rng.range(0.18, 0.3)),
        }
    }

    fn ridge(&self, layer: usize, xn: f32) -> f32 {
        let (f0, p0, a0) = self.hills[layer * 2];
        let (f1, p1, a1) = self.hills[layer * 2 + 1];
        let base = if layer == 0 { 0.58 } else { 0.72 };
        base + a0 * (f0 * xn * TAU + p0).sin() + a1 * (f1 * 2.3 * xn * TAU + p1).sin()
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let (w, h) = (self.w, self.h);
        let drift = n as f32 * 0.0012;
        let far: Vec<f32> = (0..w)
            .map(|x| self.ridge(0, x as f32 / w as f32 + drift * 0.5) * h as f32)
            .collect();
        let near: Vec<f32> = (0..w)
            .map(|x| self.ridge(1, x as f32 / w as f32 + drift) * h as f32)
            .collect();
        let (sx, sy) = (
            self.sun.0 * w as f32,
            (self.sun.1 + n as f32 * 0.0004) * h as f32,
        );
        let sun_r = 0.07 * h as f32;
        let mut c = Canvas::new(w, h, [0.0; 3]);
        c.fill_with(|x, y| {
            let (xf, yf) = (x as f32, y as f32);
            let t = yf / h as f32;
            let mut col = mix(
                [0.30, 0.42, 0.66],
                [0.96, 0.72, 0.48],
                smoothstep(0.0, 0.62, t),
            );
            let d = ((xf - sx) * (xf - sx) + (yf - sy) * (yf - sy)).sqrt();
            col = mix(
                col,
                [1.0, 0.93, 0.78],
                1.0 - smoothstep(sun_r * 0.9, sun_r * 3.0, d),
            );
            if yf > far[x] {
                col = mix(
                    [0.45, 0.42, 0.48],
                    [0.30, 0.28, 0.34],
                    smoothstep(far[x], h as f32, yf),
                );
            }
            if yf > near[x] {
                col = mix(
                    [0.22, 0.30, 0.16],
                    [0.08, 0.12, 0.06],
                    smoothstep(near[x], h as f32, yf),
                );
            }
            col
        });
        let mut planes = c.to_ycbcr();
        let seed = self.seed;
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let t = ((planes[0][i] - 16.0) / 219.0).clamp(0.0, 1.0);
                let sigma = 2.0 + 5.0 * 4.0 * t * (1.0 - t);
                planes[0][i] += sigma * gauss(seed, x as u32, y as u32, n);
                planes[1][i] += 1.5 * gauss(seed ^ 1, x as u32, y as u32, n);
                planes[2][i] += 1.5 * gauss(seed ^ 2, x as u32, y as u32, n);
            }
        }
        planes_to_frame(w, h, &planes)
    }
}

/// Dark, low-contrast gradients that rotate and drift slowly: every step of one code value
/// shows, which makes banding easy to provoke.
#[derive(Debug)]
pub struct Gradient {
    w: usize,
    h: usize,
    angle0: f32,
    glow: (f32, f32),
}

impl Gradient {
    /// Chooses the start angle and glow position.
    pub fn new(w: usize, h: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        Gradient {
            w,
            h,
            angle0: rng.range(0.0, TAU),
            glow: (rng.range(0.3, 0.7), rng.range(0.3, 0.7)),
        }
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let (w, h) = (self.w as f32, self.h as f32);
        let a = self.angle0 + n as f32 * 0.01;
        let (ca, sa) = (a.cos(), a.sin());
        let diag = (w * w + h * h).sqrt();
        let (gx, gy) = (
            (self.glow.0 + n as f32 * 0.003) * w,
            (self.glow.1 - n as f32 * 0.001) * h,
        );
        let r = 0.7 * h;
        let mut c = Canvas::new(self.w, self.h, [0.0; 3]);
        c.fill_with(|x, y| {
            let (xf, yf) = (x as f32 - w / 2.0, y as f32 - h / 2.0);
            let t = ((xf * ca + yf * sa) / diag + 0.5).clamp(0.0, 1.0);
            let base = mix([0.05, 0.10, 0.13], [0.14, 0.08, 0.18], t);
            let d = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)).sqrt();
            let g = 1.0 - smoothstep(0.0, r, d);
            [base[0] + 0.10 * g, base[1] + 0.07 * g, base[2] + 0.05 * g]
        });
        c.to_frame()
    }
}

/// Screen content: an editor window with a title bar, a side bar and syntax-coloured code
/// scrolling at a varying speed, with a moving scroll bar.
#[derive(Debug)]
pub struct Scroll {
    w: usize,
    h: usize,
    lines: Vec<text::CodeLine>,
    menu: Vec<String>,
    scale: usize,
}

impl Scroll {
    /// Writes the document.
    pub fn new(w: usize, h: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let lines = text::code(&mut rng, 600);
        let menu = (0..30).map(|_| text::identifier(&mut rng)).collect();
        Scroll {
            w,
            h,
            lines,
            menu,
            scale: text_scale(h, 1.0),
        }
    }

    fn line_h(&self) -> usize {
        (font::CELL_H + 2) * self.scale
    }

    /// Scroll offset in pixels at frame `n`: one second fast, one second slow, alternating.
    fn offset(&self, n: u32) -> usize {
        let (fast, slow) = (self.line_h() * 2 / 5, self.line_h() / 8);
        (0..n)
            .map(|k| if (k / 30) % 2 == 0 { fast } else { slow.max(1) })
            .sum()
    }

    /// Frame `n`.
    pub fn frame(&self, n: u32) -> OwnedFrame<u8> {
        let (w, h, s) = (self.w as i64, self.h as i64, self.scale as i64);
        let lh = self.line_h() as i64;
        let mut c = Canvas::new(self.w, self.h, [0.11, 0.12, 0.14]);
        let title_h = lh + 4 * s;
        let side_w = w * 18 / 100;
        let status_h = lh;
        let off = self.offset(n) as i64;
        let first = off / lh;
        let gutter_w = 6 * font::CELL_W as i64 * s;
        let x0 = side_w + gutter_w + 4 * s;
        let mut row_y = title_h - off % lh;
        let mut i = first as usize;
        while row_y < h - status_h {
            let line = &self.lines[i % self.lines.len()];
            if i % 17 == 5 {
                c.rect(side_w, row_y, w - side_w, lh, [0.17, 0.19, 0.23]);
            }
            let num = format!("{:>5}", i + 1);
            c.text(
                side_w + 2 * s,
                row_y + s,
                self.scale,
                [0.42, 0.45, 0.50],
                &num,
            );
            let mut x = x0 + (line.indent as i64) * 4 * font::CELL_W as i64 * s;
            for (kind, t) in &line.tokens {
                let colour = match kind {
                    TokenKind::Plain => [0.85, 0.86, 0.88],
                    TokenKind::Keyword => [0.78, 0.47, 0.87],
                    TokenKind::Literal => [0.82, 0.60, 0.40],
                    TokenKind::Comment => [0.45, 0.55, 0.45],
                };
                x = c.text(x, row_y + s, self.scale, colour, t);
            }
            row_y += lh;
            i += 1;
        }
        // Chrome drawn over the text area's edges.
        c.rect(0, 0, w, title_h, [0.20, 0.22, 0.27]);
        c.text(
            3 * s,
            2 * s + s,
            self.scale,
            [0.92, 0.92, 0.94],
            "rdbench - encoder.rs - editor",
        );
        for (k, colour) in [[0.93, 0.36, 0.33], [0.96, 0.75, 0.25], [0.35, 0.78, 0.35]]
            .iter()
            .enumerate()
        {
            c.disc(
                (w - (k as i64 + 1) * lh) as f32,
                (title_h / 2) as f32,
                lh as f32 / 4.0,
                *colour,
            );
        }
        c.rect(0, title_h, side_w, h - title_h, [0.15, 0.16, 0.19]);
        for (k, item) in self.menu.iter().enumerate() {
            let y = title_h + 2 * s + k as i64 * lh;
            if y > h - status_h {
                break;
            }
            let colour = if k == 3 {
                [1.0, 1.0, 1.0]
            } else {
                [0.65, 0.68, 0.72]
            };
            if k == 3 {
                c.rect(0, y - s, side_w, lh, [0.22, 0.35, 0.55]);
            }
            c.text(4 * s, y, self.scale, colour, item);
        }
        let track = h - title_h - status_h;
        let doc_h = (self.lines.len() as i64 * lh).max(1);
        let thumb = (track * track / doc_h).max(4 * s);
        let thumb_y = title_h + (off % doc_h) * (track - thumb) / doc_h;
        c.rect(w - 3 * s, thumb_y, 3 * s, thumb, [0.45, 0.48, 0.55]);
        c.rect(0, h - status_h, w, status_h, [0.20, 0.40, 0.70]);
        let status = format!("Ln {}  Col 1   UTF-8   frame {n}", first + 1);
        c.text(3 * s, h - status_h + s, self.scale, [1.0; 3], &status);
        c.to_frame()
    }
}
