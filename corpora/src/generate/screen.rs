//! Screen content: an editor window with code scrolling at a varying speed, as in the
//! text-and-graphics classes of codec test conditions.

use rdbench_metrics::frame::OwnedFrame;

use super::canvas::Canvas;
use super::font;
use super::prng::Rng;
use super::text::{self, TokenKind};

/// The size unit of a scene: 1.0 at 360 lines.
fn unit(h: usize) -> f32 {
    h as f32 / 360.0
}

/// Integer pixel scale of text for a given height, at least 1.
fn text_scale(h: usize, per_360: f32) -> usize {
    ((per_360 * unit(h)).round() as usize).max(1)
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
