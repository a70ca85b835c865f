//! Pre-rendered picture layers and the camera that films them. A [`Layer`] is a premultiplied
//! R'G'B'A picture rendered once at set-up, larger and denser than the output; each frame sees
//! it through a [`View`] (offset, scale and motion during the shutter) and [`composite`]
//! resamples it with a separable Catmull-Rom kernel widened to the footprint of an output pixel
//! (so minified detail is filtered, not aliased) and convolved with the motion of the shutter
//! (motion blur), then blends it over the frame.

use rayon::prelude::*;

use super::canvas::Canvas;

/// A premultiplied R'G'B'A colour.
pub type Rgba = [f32; 4];

/// What a layer shows beyond its edges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// The edge pixels repeat (backgrounds).
    Clamp,
    /// Nothing: fully transparent (objects, partial layers).
    Transparent,
}

/// A premultiplied R'G'B'A picture.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Pixels, row-major.
    pub px: Vec<Rgba>,
    /// What lies beyond the edges.
    pub edge: Edge,
    /// First and one-past-last row with any coverage.
    rows: (usize, usize),
}

impl Layer {
    /// A layer of premultiplied pixels.
    pub fn from_pixels(width: usize, height: usize, edge: Edge, px: Vec<Rgba>) -> Self {
        assert_eq!(px.len(), width * height);
        let covered = |y: &usize| px[y * width..(y + 1) * width].iter().any(|p| p[3] > 0.0);
        let first = (0..height).find(covered).unwrap_or(height);
        let last = (0..height).rev().find(covered).map_or(first, |y| y + 1);
        Layer {
            width,
            height,
            px,
            edge,
            rows: (first, last),
        }
    }
}

/// How a layer is seen in one frame: the centre of output pixel (`x`, `y`) falls on layer
/// coordinates (`x0 + (x + 0.5) * scale`, `y0 + (y + 0.5) * scale`) at mid-shutter, and during
/// the shutter the picture moves by `blur` layer pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    /// Layer x of the output's left edge.
    pub x0: f32,
    /// Layer y of the output's top edge.
    pub y0: f32,
    /// Layer pixels per output pixel.
    pub scale: f32,
    /// Motion during the shutter, layer pixels (x, y).
    pub blur: (f32, f32),
}

/// The Catmull-Rom cubic.
#[inline]
fn catmull_rom(x: f32) -> f32 {
    let x = x.abs();
    if x < 1.0 {
        (1.5 * x - 2.5) * x * x + 1.0
    } else if x < 2.0 {
        ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    } else {
        0.0
    }
}

/// The taps of one output sample along one axis: first layer index and weights summing to 1.
/// The kernel is Catmull-Rom stretched to `max(scale, 1)` layer pixels, averaged over the
/// `blur` extent centred on `centre`.
fn taps(centre: f32, scale: f32, blur: f32) -> (i64, Vec<f32>) {
    let f = scale.max(1.0);
    let half = 2.0 * f + 0.5 * blur.abs();
    let start = (centre - half - 0.5).floor() as i64;
    let end = (centre + half - 0.5).ceil() as i64;
    let subs = ((blur.abs() / (0.5 * f)).ceil() as usize).clamp(1, 24);
    let mut w = vec![0.0f32; (end - start + 1) as usize];
    for m in 0..subs {
        let c = centre + blur.abs() * ((m as f32 + 0.5) / subs as f32 - 0.5);
        for (k, wk) in w.iter_mut().enumerate() {
            let j = start + k as i64;
            *wk += catmull_rom((j as f32 + 0.5 - c) / f);
        }
    }
    let sum: f32 = w.iter().sum();
    if sum != 0.0 {
        w.iter_mut().for_each(|x| *x /= sum);
    }
    (start, w)
}

/// Resamples `layer` as `view` sees it and blends it over `dst` (premultiplied "over").
pub fn composite(dst: &mut Canvas, layer: &Layer, view: &View) {
    let (w, h) = (dst.width, dst.height);
    let (lw, lh) = (layer.width as i64, layer.height as i64);
    if lw == 0 || lh == 0 || layer.rows.0 >= layer.rows.1 {
        return;
    }
    let cols: Vec<(i64, Vec<f32>)> = (0..w)
        .map(|x| {
            taps(
                view.x0 + (x as f32 + 0.5) * view.scale,
                view.scale,
                view.blur.0,
            )
        })
        .collect();
    let rows: Vec<(i64, Vec<f32>)> = (0..h)
        .map(|y| {
            taps(
                view.y0 + (y as f32 + 0.5) * view.scale,
                view.scale,
                view.blur.1,
            )
        })
        .collect();
    let clamp = layer.edge == Edge::Clamp;
    // Output rows and columns whose taps reach covered layer pixels.
    let (cov0, cov1) = (layer.rows.0 as i64, layer.rows.1 as i64);
    let reaches =
        |(s, t): &(i64, Vec<f32>), lo: i64, hi: i64| clamp || (*s < hi && *s + t.len() as i64 > lo);
    let ys: Vec<usize> = (0..h).filter(|&y| reaches(&rows[y], cov0, cov1)).collect();
    let xs: Vec<usize> = (0..w).filter(|&x| reaches(&cols[x], 0, lw)).collect();
    let (Some(&ya), Some(&yb)) = (ys.first(), ys.last()) else {
        return;
    };
    let (Some(&xa), Some(&xb)) = (xs.first(), xs.last()) else {
        return;
    };
    // Layer rows the vertical taps read, after clamping.
    let r0 = rows[ya].0.clamp(0, lh - 1);
    let r1 = (rows[yb].0 + rows[yb].1.len() as i64 - 1).clamp(0, lh - 1);
    let nx = xb - xa + 1;
    let mut tmp = vec![[0.0f32; 4]; (r1 - r0 + 1) as usize * nx];
    tmp.par_chunks_mut(nx).enumerate().for_each(|(i, out)| {
        let r = r0 + i as i64;
        if !clamp && (r < cov0 || r >= cov1) {
            return;
        }
        let src = &layer.px[r as usize * layer.width..(r as usize + 1) * layer.width];
        for (o, (s, t)) in out.iter_mut().zip(&cols[xa..=xb]) {
            let mut acc = [0.0f32; 4];
            for (k, wk) in t.iter().enumerate() {
                let j = s + k as i64;
                let j = if clamp {
                    j.clamp(0, lw - 1)
                } else if j < 0 || j >= lw {
                    continue;
                } else {
                    j
                };
                let p = src[j as usize];
                for c in 0..4 {
                    acc[c] += wk * p[c];
                }
            }
            *o = acc;
        }
    });
    let rows_out = &rows;
    dst.px
        .par_chunks_mut(w)
        .enumerate()
        .skip(ya)
        .take(yb - ya + 1)
        .for_each(|(y, line)| {
            let (s, t) = &rows_out[y];
            for (xi, d) in line[xa..=xb].iter_mut().enumerate() {
                let mut acc = [0.0f32; 4];
                for (k, wk) in t.iter().enumerate() {
                    let r = s + k as i64;
                    let r = if clamp {
                        r.clamp(0, lh - 1)
                    } else if r < r0 || r > r1 {
                        continue;
                    } else {
                        r
                    };
                    let p = tmp[(r - r0) as usize * nx + xi];
                    for c in 0..4 {
                        acc[c] += wk * p[c];
                    }
                }
                let a = acc[3].clamp(0.0, 1.0);
                for c in 0..3 {
                    d[c] = d[c] * (1.0 - a) + acc[c];
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer of straight colours and coverages `f(x, y)` at pixel centres.
    fn paint(w: usize, h: usize, edge: Edge, f: impl Fn(f32, f32) -> ([f32; 3], f32)) -> Layer {
        let px = (0..w * h)
            .map(|i| {
                let (c, a) = f((i % w) as f32 + 0.5, (i / w) as f32 + 0.5);
                [c[0] * a, c[1] * a, c[2] * a, a]
            })
            .collect();
        Layer::from_pixels(w, h, edge, px)
    }

    #[test]
    fn taps_sum_to_one_and_widen_with_scale_and_blur() {
        for (scale, blur) in [(1.0, 0.0), (0.5, 0.0), (1.7, 0.0), (1.0, 6.5)] {
            let (_, t) = taps(10.3, scale, blur);
            assert!((t.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        assert!(taps(10.3, 2.0, 0.0).1.len() > taps(10.3, 1.0, 0.0).1.len());
        assert!(taps(10.3, 1.0, 8.0).1.len() > taps(10.3, 1.0, 0.0).1.len() + 6);
        // At the exact centre of a layer pixel with scale 1 the kernel interpolates it.
        let (s, t) = taps(5.5, 1.0, 0.0);
        let at = (5 - s) as usize;
        assert!((t[at] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn identity_view_reproduces_the_layer_and_shifts_move_it() {
        let layer = paint(16, 8, Edge::Clamp, |x, y| {
            ([(x * 0.05) % 1.0, (y * 0.1) % 1.0, 0.5], 1.0)
        });
        let mut c = Canvas::new(16, 8, [0.0; 3]);
        let view = View {
            x0: 0.0,
            y0: 0.0,
            scale: 1.0,
            blur: (0.0, 0.0),
        };
        composite(&mut c, &layer, &view);
        for (d, s) in c.px.iter().zip(&layer.px) {
            assert!((d[0] - s[0]).abs() < 1e-5 && (d[1] - s[1]).abs() < 1e-5);
        }
        let mut shifted = Canvas::new(16, 8, [0.0; 3]);
        composite(&mut shifted, &layer, &View { x0: 2.0, ..view });
        assert!((shifted.px[3][0] - layer.px[5][0]).abs() < 1e-5);
    }

    #[test]
    fn transparent_layers_leave_the_background_outside_their_coverage() {
        let layer = paint(8, 8, Edge::Transparent, |_, y| {
            ([1.0; 3], if y > 4.0 { 1.0 } else { 0.0 })
        });
        let mut c = Canvas::new(8, 16, [0.25; 3]);
        let view = View {
            x0: 0.0,
            y0: 0.0,
            scale: 1.0,
            blur: (0.0, 0.0),
        };
        composite(&mut c, &layer, &view);
        assert_eq!(c.px[0], [0.25; 3]);
        assert!((c.px[6 * 8][0] - 1.0).abs() < 1e-5);
        // Below the layer (rows 8..16) nothing is drawn.
        assert!((c.px[12 * 8][0] - 0.25).abs() < 1e-5);
    }
}
