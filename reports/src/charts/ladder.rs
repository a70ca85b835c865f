//! A per-title ladder on one chart: bitrate (log axis) against VMAF. Each resolution's encodes
//! are one thin line (its CRFs), the convex hull across resolutions is the thick black line, the
//! chosen rungs are ringed and labelled, and a reference ladder, when there is one, is the dashed
//! grey line with triangles.

use plotters::coord::Shift;
use plotters::prelude::*;

use rdbench_results::ladder::LadderReport;

use super::{
    axis_number, color, legend, log_axis, log_padded, padded, text, Chart, DrawResult,
    LEGEND_HEIGHT,
};

/// The encodes of one resolution.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderResolution {
    /// Encoded height.
    pub height: u32,
    /// (kbit/s, VMAF) by increasing bitrate.
    pub points: Vec<(f64, f64)>,
}

/// What a ladder chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LadderChart {
    /// Title.
    pub title: String,
    /// The grid, one entry per resolution.
    pub resolutions: Vec<LadderResolution>,
    /// The convex hull, by increasing bitrate.
    pub hull: Vec<(f64, f64)>,
    /// The chosen rungs: (kbit/s, VMAF, label).
    pub rungs: Vec<(f64, f64, String)>,
    /// The reference ladder's rungs by increasing bitrate, and its name.
    pub reference: Option<(String, Vec<(f64, f64)>)>,
}

const GREY: RGBColor = RGBColor(0x80, 0x80, 0x80);

impl LadderChart {
    /// The chart of `report`, titled with the input's `name`: each resolution's encodes (highest
    /// first), the hull, the rungs and the reference.
    pub fn of(report: &LadderReport, name: &str) -> LadderChart {
        let mut heights: Vec<u32> = report.grid.iter().map(|g| g.height).collect();
        heights.sort_unstable_by(|a, b| b.cmp(a));
        heights.dedup();
        let (w, h) = report.source;
        LadderChart {
            title: format!("Per-title ladder: {name} ({w}x{h})"),
            resolutions: heights
                .iter()
                .map(|&height| {
                    let mut points: Vec<(f64, f64)> = report
                        .grid
                        .iter()
                        .filter(|g| g.height == height)
                        .map(|g| (g.kbps, g.vmaf))
                        .collect();
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                    LadderResolution { height, points }
                })
                .collect(),
            hull: report.hull.iter().map(|g| (g.kbps, g.vmaf)).collect(),
            rungs: report
                .rungs
                .iter()
                .map(|r| {
                    (
                        r.encode.kbps,
                        r.encode.vmaf,
                        format!("{}p {:.0}k", r.encode.height, r.encode.kbps),
                    )
                })
                .collect(),
            reference: report.reference.as_ref().map(|r| {
                (
                    r.source.clone(),
                    r.rungs.iter().map(|e| (e.kbps, e.vmaf)).collect(),
                )
            }),
        }
    }

    fn legend_entries(&self) -> Vec<(String, RGBColor, bool)> {
        let mut out: Vec<(String, RGBColor, bool)> = self
            .resolutions
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("{}p", r.height), color(i + 1), false))
            .collect();
        out.push(("convex hull".into(), BLACK, false));
        if let Some((name, _)) = &self.reference {
            out.push((format!("reference: {name}"), GREY, true));
        }
        out
    }
}

impl Chart for LadderChart {
    fn size(&self) -> (u32, u32) {
        (1200, 800)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(26))?;
        let (top, body) = root.split_vertically(LEGEND_HEIGHT);
        legend(&top, &self.legend_entries())?;
        let all: Vec<(f64, f64)> = self
            .resolutions
            .iter()
            .flat_map(|r| r.points.iter().copied())
            .chain(self.reference.iter().flat_map(|(_, p)| p.iter().copied()))
            .collect();
        let x = log_padded(all.iter().map(|p| p.0), 1.15);
        let y = padded(all.iter().map(|p| p.1), 0.08);
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(log_axis(x), y)?;
        chart
            .configure_mesh()
            .x_desc("bitrate (kbit/s, log)")
            .y_desc("VMAF (at the input's size)")
            .label_style(text(15))
            .axis_desc_style(text(16))
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| axis_number(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (i, r) in self.resolutions.iter().enumerate() {
            let c = color(i + 1);
            chart.draw_series(LineSeries::new(r.points.iter().copied(), c.stroke_width(1)))?;
            chart.draw_series(r.points.iter().map(|p| Circle::new(*p, 4, c.filled())))?;
        }
        if let Some((_, points)) = &self.reference {
            chart.draw_series(DashedLineSeries::new(
                points.iter().copied(),
                8,
                5,
                GREY.stroke_width(2),
            ))?;
            chart.draw_series(
                points
                    .iter()
                    .map(|p| TriangleMarker::new(*p, 7, GREY.filled())),
            )?;
        }
        chart.draw_series(LineSeries::new(
            self.hull.iter().copied(),
            BLACK.stroke_width(3),
        ))?;
        // The label of a rung at the right edge goes to its left, inside the plot.
        let right = all.iter().map(|p| p.0).fold(0.0, f64::max);
        for (kbps, vmaf, label) in &self.rungs {
            let dx = if *kbps >= right {
                -12 - 8 * label.chars().count() as i32
            } else {
                10
            };
            chart.draw_series(std::iter::once(Circle::new(
                (*kbps, *vmaf),
                9,
                BLACK.stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((*kbps, *vmaf))
                    + Text::new(label.clone(), (dx, if dx < 0 { 12 } else { 6 }), text(14)),
            ))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_names_each_resolution_the_hull_and_the_reference() {
        let chart = LadderChart {
            title: "t".into(),
            resolutions: vec![
                LadderResolution {
                    height: 720,
                    points: vec![(1000.0, 90.0)],
                },
                LadderResolution {
                    height: 360,
                    points: vec![(300.0, 70.0)],
                },
            ],
            hull: vec![(300.0, 70.0), (1000.0, 90.0)],
            rungs: vec![],
            reference: Some(("built-in HLS".into(), vec![(365.0, 68.0)])),
        };
        let names: Vec<(String, bool)> = chart
            .legend_entries()
            .into_iter()
            .map(|(n, _, dashed)| (n, dashed))
            .collect();
        assert_eq!(
            names,
            [
                ("720p".to_string(), false),
                ("360p".to_string(), false),
                ("convex hull".to_string(), false),
                ("reference: built-in HLS".to_string(), true)
            ]
        );
    }
}
