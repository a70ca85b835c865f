//! One encode frame by frame: VMAF per frame (line, left axis) and the size of each frame's
//! packet (bars coloured by picture type, right axis) on one timeline.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis_number, padded, text, Chart, DrawResult};
use rdbench_results::FrameRecord;

/// Bar colours by picture type.
const I_COLOR: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const P_COLOR: RGBColor = RGBColor(0x1f, 0x6f, 0xb4);
const B_COLOR: RGBColor = RGBColor(0x2c, 0xa0, 0x2c);
const OTHER_COLOR: RGBColor = RGBColor(0x99, 0x99, 0x99);
const VMAF_COLOR: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// The per-frame chart of one encode.
#[derive(Debug, Clone)]
pub struct FramesChart {
    /// Title.
    pub title: String,
    /// (frame index, VMAF) for frames that have one.
    pub vmaf: Vec<(f64, f64)>,
    /// (frame index, size in kB, picture type).
    pub sizes: Vec<(f64, f64, String)>,
}

/// The per-frame chart of a job's frames.
pub fn build(title: String, frames: &[FrameRecord]) -> FramesChart {
    let mut frames: Vec<&FrameRecord> = frames.iter().collect();
    frames.sort_by_key(|f| f.frame);
    FramesChart {
        title,
        vmaf: frames
            .iter()
            .filter_map(|f| f.vmaf.map(|v| (f.frame as f64, v)))
            .collect(),
        sizes: frames
            .iter()
            .map(|f| {
                (
                    f.frame as f64,
                    f.size_bytes as f64 / 1000.0,
                    f.pict_type.clone(),
                )
            })
            .collect(),
    }
}

fn type_color(t: &str) -> RGBColor {
    match t {
        "I" => I_COLOR,
        "P" => P_COLOR,
        "B" => B_COLOR,
        _ => OTHER_COLOR,
    }
}

impl Chart for FramesChart {
    fn size(&self) -> (u32, u32) {
        (1500, 560)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(24))?;
        let last = self.sizes.iter().map(|s| s.0).fold(0.0, f64::max);
        let x = -0.5..(last + 0.5);
        let y = padded(self.vmaf.iter().map(|p| p.1), 0.1);
        let y2 = 0.0..(self.sizes.iter().map(|s| s.1).fold(0.0, f64::max) * 1.1).max(1.0);
        let mut chart = ChartBuilder::on(&root)
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .right_y_label_area_size(70)
            .build_cartesian_2d(x.clone(), y)?
            .set_secondary_coord(x, y2);
        chart
            .configure_mesh()
            .x_desc("frame")
            .y_desc("VMAF")
            .label_style(text(15))
            .axis_desc_style(text(16))
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| axis_number(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        chart
            .configure_secondary_axes()
            .y_desc("frame size (kB)")
            .label_style(text(15))
            .axis_desc_style(text(16))
            .y_label_formatter(&|v| axis_number(*v))
            .draw()?;
        for t in ["I", "P", "B", "?"] {
            let c = type_color(t);
            let bars: Vec<_> = self
                .sizes
                .iter()
                .filter(|s| {
                    if t == "?" {
                        !["I", "P", "B"].contains(&s.2.as_str())
                    } else {
                        s.2 == t
                    }
                })
                .collect();
            if bars.is_empty() {
                continue;
            }
            chart
                .draw_secondary_series(bars.iter().map(|s| {
                    Rectangle::new([(s.0 - 0.35, 0.0), (s.0 + 0.35, s.1)], c.mix(0.75).filled())
                }))?
                .label(if t == "?" {
                    "frame size (other)".to_owned()
                } else {
                    format!("{t} frame size")
                })
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 14, y + 6)], c.filled()));
        }
        chart
            .draw_series(LineSeries::new(
                self.vmaf.iter().copied(),
                VMAF_COLOR.stroke_width(2),
            ))?
            .label("VMAF")
            .legend(|(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], VMAF_COLOR.stroke_width(2))
            });
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .label_font(text(15))
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(180, 180, 180))
            .draw()?;
        Ok(())
    }
}
