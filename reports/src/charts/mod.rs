//! The report's charts, one file per chart kind, each drawn once through plotters' generic
//! backend interface and written twice: SVG (inlined in the HTML page) and PNG.
//!
//! Text is drawn with Noto Sans Regular (from the `ttf-noto-sans` crate, Apache License 2.0),
//! registered with plotters' `ab_glyph` renderer under the family name "sans-serif", so PNG text
//! never depends on the fonts of the machine; SVG text names the same family and is drawn by the
//! viewer.

pub mod bd_rate;
pub mod frames;
pub mod ladder;
pub mod raster_text;
pub mod rate_control;
pub mod rd_curves;
pub mod si_ti;
pub mod speed;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::Shift;
use plotters::prelude::*;

use raster_text::RasterText;

use crate::error::ReportError;

/// The font family every chart uses.
pub const FONT: &str = "sans-serif";

/// What drawing a chart returns.
pub type DrawResult = Result<(), Box<dyn Error>>;

/// Registers the embedded font with plotters, once per process.
fn ensure_font() -> Result<(), String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            plotters::style::register_font(FONT, FontStyle::Normal, ttf_noto_sans::REGULAR)
                .map_err(|_| "the embedded Noto Sans font could not be parsed".to_owned())
        })
        .clone()
}

/// A chart kind: its size and how it draws itself on any plotters backend.
pub trait Chart {
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the whole chart on `root` (already filled white).
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// A chart written to disk.
#[derive(Debug, Clone)]
pub struct ChartFile {
    /// Title shown above it in the report.
    pub title: String,
    /// The PNG file.
    pub png: PathBuf,
    /// The SVG file.
    pub svg: PathBuf,
    /// The SVG document (for inlining).
    pub svg_text: String,
}

/// Line colours, one per configuration (the anchor gets the first).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x22, 0x22, 0x22),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x1f, 0x6f, 0xb4),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The colour of the `i`-th series.
pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// A text style of the chart font.
pub fn text(size: u32) -> TextStyle<'static> {
    (FONT, size).into_font().color(&BLACK)
}

/// A range that holds `values` with a margin of `pad` of its span on each side (a unit span
/// around a single value).
pub fn padded(values: impl IntoIterator<Item = f64>, pad: f64) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - pad * span)..(hi + pad * span)
}

/// A range for a log axis holding positive `values`, widened by `factor` on each side.
pub fn log_padded(values: impl IntoIterator<Item = f64>, factor: f64) -> std::ops::Range<f64> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return 1.0..10.0;
    }
    (lo / factor)..(hi * factor)
}

/// The values `m * 10^e` (for each multiplier `m`) inside `range`.
fn decade_ticks(range: &std::ops::Range<f64>, multipliers: &[f64]) -> Vec<f64> {
    let (lo, hi) = (range.start, range.end);
    let mut out = Vec::new();
    for e in (lo.log10().floor() as i32)..=(hi.log10().ceil() as i32) {
        for m in multipliers {
            let v = m * 10f64.powi(e);
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
    }
    out
}

/// A log axis over `range` (positive) with labels at 1-2-5 steps of each decade (fewer on wide
/// ranges, every integer multiple on narrow ones) and light grid lines at integer multiples.
pub fn log_axis(range: std::ops::Range<f64>) -> WithKeyPoints<LogCoord<f64>> {
    let all: Vec<f64> = (1..10).map(f64::from).collect();
    let mut bold = decade_ticks(&range, &[1.0, 2.0, 5.0]);
    if bold.len() > 8 {
        bold = decade_ticks(&range, &[1.0, 3.0]);
    }
    if bold.len() > 8 {
        bold = decade_ticks(&range, &[1.0]);
    }
    if bold.len() < 3 {
        bold = decade_ticks(&range, &all);
    }
    if bold.len() < 3 {
        // A range within one step of integer multiples: four points evenly spaced in log,
        // rounded to two significant digits.
        let (a, b) = (range.start.log10(), range.end.log10());
        bold = (1..=4)
            .map(|i| {
                let v = 10f64.powf(a + (b - a) * i as f64 / 5.0);
                let scale = 10f64.powi(v.log10().floor() as i32 - 1);
                (v / scale).round() * scale
            })
            .collect();
        bold.dedup();
    }
    let light = decade_ticks(&range, &all);
    range
        .log_scale()
        .with_key_points(bold)
        .with_light_points(light)
}

/// A number as an axis label: no decimals from 100 up, otherwise up to 3 significant digits.
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a >= 100.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}").trim_end_matches(".0").to_owned()
    } else if a >= 1.0 {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// A file-name-safe form of `name`.
pub fn file_stem(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn chart_error(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError::Chart {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Draws `chart` and writes `dir/<stem>.svg` and `dir/<stem>.png`.
pub fn write(
    chart: &impl Chart,
    title: &str,
    dir: &Path,
    stem: &str,
) -> Result<ChartFile, ReportError> {
    let svg_path = dir.join(format!("{stem}.svg"));
    let png_path = dir.join(format!("{stem}.png"));
    ensure_font().map_err(|e| chart_error(&svg_path, e))?;
    let (w, h) = chart.size();

    let mut svg_text = String::new();
    {
        let root = SVGBackend::with_string(&mut svg_text, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(&svg_path, e))?;
        chart.draw(&root).map_err(|e| chart_error(&svg_path, e))?;
        root.present().map_err(|e| chart_error(&svg_path, e))?;
    }
    std::fs::write(&svg_path, &svg_text).map_err(|e| ReportError::io(&svg_path, "writing", e))?;

    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = RasterText(BitMapBackend::with_buffer(&mut rgb, (w, h))).into_drawing_area();
        root.fill(&WHITE).map_err(|e| chart_error(&png_path, e))?;
        chart.draw(&root).map_err(|e| chart_error(&png_path, e))?;
        root.present().map_err(|e| chart_error(&png_path, e))?;
    }
    write_png(&png_path, w, h, &rgb)?;
    Ok(ChartFile {
        title: title.to_owned(),
        png: png_path,
        svg: svg_path,
        svg_text,
    })
}

/// Encodes 8-bit RGB pixels as a PNG file.
fn write_png(path: &Path, w: u32, h: u32, rgb: &[u8]) -> Result<(), ReportError> {
    let file = std::fs::File::create(path).map_err(|e| ReportError::io(path, "creating", e))?;
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| chart_error(path, e))?;
    writer
        .write_image_data(rgb)
        .map_err(|e| chart_error(path, e))?;
    writer.finish().map_err(|e| chart_error(path, e))
}

/// Height of the legend strip above a chart's panels: room for two rows of entries.
pub const LEGEND_HEIGHT: u32 = 52;

/// Draws a legend of `entries` (name, colour, dashed) in rows across the top of `area`, wrapping
/// to a new row when an entry would not fit.
pub fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, bool)],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (w, _) = area.dim_in_pixel();
    let (mut x, mut y) = (20i32, 12i32);
    for (name, c, dashed) in entries {
        let width = area
            .estimate_text_size(name, &text(16))
            .map(|(tw, _)| tw as i32)
            .unwrap_or(60);
        if x > 20 && x + 32 + width > w as i32 - 10 {
            x = 20;
            y += 24;
        }
        if *dashed {
            for k in 0..3 {
                let x0 = x + k * 10;
                area.draw(&PathElement::new(
                    vec![(x0, y), (x0 + 6, y)],
                    c.stroke_width(3),
                ))?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(x, y), (x + 26, y)],
                c.stroke_width(3),
            ))?;
        }
        area.draw(&Circle::new((x + 13, y), 4, c.filled()))?;
        area.draw(&Text::new(name.clone(), (x + 32, y - 8), text(16)))?;
        x += 32 + width + 28;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_axes_label_one_two_five_steps_and_fall_back_on_narrow_ranges() {
        assert_eq!(
            log_axis(180.0..6720.0).bold_points(),
            [200.0, 500.0, 1000.0, 2000.0, 5000.0]
        );
        assert_eq!(log_axis(0.85..3.6).bold_points(), [0.9, 1.0, 2.0, 3.0]);
        assert_eq!(
            log_axis(1.0..1e6).bold_points(),
            [1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1e6]
        );
        assert_eq!(
            log_axis(1050.0..1400.0).bold_points(),
            [1100.0, 1200.0, 1300.0]
        );
    }

    #[test]
    fn axis_numbers_drop_useless_decimals() {
        let shown: Vec<String> = [2500.0, 100.0, 12.5, 40.0, 1.0, 0.95, 0.5, 0.0, -5.0, -12.5]
            .into_iter()
            .map(axis_number)
            .collect();
        assert_eq!(
            shown,
            ["2500", "100", "12.5", "40", "1", "0.95", "0.5", "0", "-5", "-12.5"]
        );
    }
}
