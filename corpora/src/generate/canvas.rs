//! The generators' drawing surface: an R'G'B' picture in floats (0 to 1, gamma-encoded), simple
//! shapes, bitmap text, and the conversion to 8-bit Y'CbCr 4:2:0 (BT.709 matrix, limited range,
//! chroma averaged over 2x2 blocks, i.e. sited between luma samples as Y4M `C420jpeg` says).

use rdbench_metrics::frame::{ChromaSampling, OwnedFrame};

use super::font;

/// An R'G'B' colour, each component 0 to 1.
pub type Rgb = [f32; 3];

/// A picture of `width` x `height` R'G'B' pixels.
#[derive(Clone, Debug)]
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Pixels, row-major.
    pub px: Vec<Rgb>,
}

impl Canvas {
    /// A canvas filled with `colour`.
    pub fn new(width: usize, height: usize, colour: Rgb) -> Self {
        Canvas {
            width,
            height,
            px: vec![colour; width * height],
        }
    }

    /// Sets every pixel to `f(x, y)`.
    pub fn fill_with(&mut self, mut f: impl FnMut(usize, usize) -> Rgb) {
        for y in 0..self.height {
            for x in 0..self.width {
                self.px[y * self.width + x] = f(x, y);
            }
        }
    }

    /// Fills the rectangle from (`x0`, `y0`) of size `w` x `h`, clipped to the canvas.
    pub fn rect(&mut self, x0: i64, y0: i64, w: i64, h: i64, colour: Rgb) {
        let (xa, xb) = (x0.max(0), (x0 + w).min(self.width as i64));
        let (ya, yb) = (y0.max(0), (y0 + h).min(self.height as i64));
        for y in ya..yb {
            for x in xa..xb {
                self.px[y as usize * self.width + x as usize] = colour;
            }
        }
    }

    /// Fills a disc centred on (`cx`, `cy`), with a one-pixel soft edge.
    pub fn disc(&mut self, cx: f32, cy: f32, r: f32, colour: Rgb) {
        let (ya, yb) = (
            ((cy - r - 1.0).floor() as i64).max(0),
            ((cy + r + 2.0) as i64).min(self.height as i64),
        );
        let (xa, xb) = (
            ((cx - r - 1.0).floor() as i64).max(0),
            ((cx + r + 2.0) as i64).min(self.width as i64),
        );
        for y in ya..yb {
            for x in xa..xb {
                let (dx, dy) = (x as f32 + 0.5 - cx, y as f32 + 0.5 - cy);
                let cover = (r + 0.5 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 1.0);
                if cover > 0.0 {
                    let p = &mut self.px[y as usize * self.width + x as usize];
                    *p = mix(*p, colour, cover);
                }
            }
        }
    }

    /// Draws `text` with its top-left corner at (`x`, `y`), each font pixel `scale` x `scale`
    /// pixels; only set glyph pixels are painted. Returns the x just after the last character.
    pub fn text(&mut self, x: i64, y: i64, scale: usize, colour: Rgb, text: &str) -> i64 {
        let s = scale as i64;
        let mut cx = x;
        for c in text.chars() {
            if cx >= self.width as i64 {
                break;
            }
            if cx + (font::CELL_W as i64) * s > 0 && c != ' ' {
                for gy in 0..7 {
                    for gx in 0..5 {
                        if font::pixel(c, gx, gy) {
                            self.rect(cx + gx as i64 * s, y + gy as i64 * s, s, s, colour);
                        }
                    }
                }
            }
            cx += font::CELL_W as i64 * s;
        }
        cx
    }

    /// Converts to full-resolution Y', Cb, Cr planes in 8-bit code values (not yet rounded).
    pub fn to_ycbcr(&self) -> [Vec<f32>; 3] {
        let n = self.px.len();
        let (mut y, mut cb, mut cr) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for &[r, g, b] in &self.px {
            let l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
            y.push(16.0 + 219.0 * l);
            cb.push(128.0 + 224.0 * (b - l) / 1.8556);
            cr.push(128.0 + 224.0 * (r - l) / 1.5748);
        }
        [y, cb, cr]
    }

    /// Converts to an 8-bit 4:2:0 frame.
    pub fn to_frame(&self) -> OwnedFrame<u8> {
        planes_to_frame(self.width, self.height, &self.to_ycbcr())
    }
}

/// Rounds full-resolution Y'CbCr planes (8-bit code values as floats) into an 8-bit 4:2:0 frame,
/// averaging chroma over 2x2 blocks (edge blocks of odd sizes average what exists).
pub fn planes_to_frame(width: usize, height: usize, planes: &[Vec<f32>; 3]) -> OwnedFrame<u8> {
    let mut f = OwnedFrame::<u8>::new(width, height, 8, ChromaSampling::Cs420);
    for (d, s) in f.planes[0].iter_mut().zip(&planes[0]) {
        *d = quantise(*s);
    }
    let (cw, ch) = ChromaSampling::Cs420.chroma_size(width, height);
    for (c, src) in planes.iter().enumerate().skip(1) {
        for y in 0..ch {
            for x in 0..cw {
                let (mut sum, mut k) = (0.0f32, 0.0f32);
                for yy in 2 * y..(2 * y + 2).min(height) {
                    for xx in 2 * x..(2 * x + 2).min(width) {
                        sum += src[yy * width + xx];
                        k += 1.0;
                    }
                }
                f.planes[c][y * cw + x] = quantise(sum / k);
            }
        }
    }
    f
}

/// Rounds and clamps to 8 bits.
#[inline]
pub fn quantise(v: f32) -> u8 {
    (v + 0.5).clamp(0.0, 255.0) as u8
}

/// `a` blended toward `b` by `t` (0 gives `a`).
#[inline]
pub fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// A colour from hue (0 to 1, wrapping), saturation and value.
pub fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h = (h - h.floor()) * 6.0;
    let i = h as u32 % 6;
    let f = h - h.floor();
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    match i {
        0 => [v, t, p],
        1 => [q, v, p],
        2 => [p, v, t],
        3 => [p, q, v],
        4 => [t, p, v],
        _ => [v, p, q],
    }
}

/// Hermite smoothstep of `x` between `e0` and `e1`.
#[inline]
pub fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_black_and_primaries_map_to_limited_range() {
        let mut c = Canvas::new(2, 2, [1.0, 1.0, 1.0]);
        assert_eq!(c.to_frame().planes, [vec![235; 4], vec![128], vec![128]]);
        c.fill_with(|_, _| [0.0, 0.0, 0.0]);
        assert_eq!(c.to_frame().planes, [vec![16; 4], vec![128], vec![128]]);
        // Pure red in BT.709: Y' = 16 + 219 * 0.2126 = 62.56, Cr = 128 + 224 * 0.7874 / 1.5748 = 240.
        c.fill_with(|_, _| [1.0, 0.0, 0.0]);
        let f = c.to_frame();
        assert_eq!((f.planes[0][0], f.planes[2][0]), (63, 240));
    }

    #[test]
    fn chroma_is_the_2x2_average() {
        // Left column white, right column black: Y' differs, chroma stays neutral.
        let mut c = Canvas::new(2, 2, [0.0; 3]);
        c.fill_with(|x, _| if x == 0 { [1.0; 3] } else { [0.0; 3] });
        let f = c.to_frame();
        assert_eq!(f.planes[0], vec![235, 16, 235, 16]);
        assert_eq!(f.planes[1], vec![128]);
    }

    #[test]
    fn text_paints_glyph_pixels_only() {
        let mut c = Canvas::new(12, 8, [0.0; 3]);
        let end = c.text(0, 0, 1, [1.0; 3], "I-");
        assert_eq!(end, 12);
        let lit: usize = c.px.iter().filter(|p| p[0] > 0.5).count();
        // 'I' has 3 + 5 + 3 = 11 set pixels, '-' has 5.
        assert_eq!(lit, 16);
    }
}
