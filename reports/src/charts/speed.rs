//! Encode speed per rate point: encoder CPU seconds against bitrate for every configuration (top
//! row), and each test configuration's CPU-time ratio to the anchor at the same rate point (bottom
//! row, 1 = as fast as the anchor); one column per rate-control mode.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis_number, color, legend, log_axis, log_padded, text, Chart, DrawResult, LEGEND_HEIGHT,
};
use rdbench_results::analysis::Analysis;
use rdbench_results::dataset::Dataset;

/// One configuration's speed in one mode.
#[derive(Debug, Clone)]
pub struct SpeedSeries {
    /// Colour index.
    pub color: usize,
    /// (mean bitrate, CPU seconds summed over sequences) by increasing bitrate.
    pub cpu: Vec<(f64, f64)>,
    /// (mean bitrate, CPU ratio to the anchor), for test configurations.
    pub ratio: Vec<(f64, f64)>,
}

/// The speed chart.
#[derive(Debug, Clone)]
pub struct SpeedChart {
    /// Title.
    pub title: String,
    /// Per mode: its name and series.
    pub modes: Vec<(String, Vec<SpeedSeries>)>,
    /// Legend entries.
    pub legend: Vec<(String, RGBColor, bool)>,
}

/// The speed chart of `a`.
pub fn build(ds: &Dataset, a: &Analysis) -> SpeedChart {
    let modes = ds
        .rc_modes
        .iter()
        .map(|mode| {
            let series = ds
                .configs
                .iter()
                .enumerate()
                .filter_map(|(i, config)| {
                    let mut pts: Vec<_> = a
                        .speed
                        .iter()
                        .filter(|s| s.config == *config && s.point.mode == *mode)
                        .collect();
                    pts.sort_by(|x, y| x.bitrate_kbps.total_cmp(&y.bitrate_kbps));
                    if pts.is_empty() {
                        return None;
                    }
                    Some(SpeedSeries {
                        color: i,
                        cpu: pts
                            .iter()
                            .map(|s| (s.bitrate_kbps, s.encode_cpu_s))
                            .collect(),
                        ratio: if i == 0 {
                            Vec::new()
                        } else {
                            pts.iter()
                                .filter_map(|s| s.cpu_ratio.map(|r| (s.bitrate_kbps, r)))
                                .collect()
                        },
                    })
                })
                .collect();
            (mode.to_string(), series)
        })
        .collect();
    SpeedChart {
        title: format!(
            "Encode speed per rate point (CPU time; ratio to {})",
            ds.anchor
        ),
        modes,
        legend: ds
            .configs
            .iter()
            .enumerate()
            .map(|(i, c)| (c.clone(), color(i), false))
            .collect(),
    }
}

impl Chart for SpeedChart {
    fn size(&self) -> (u32, u32) {
        (1500, 90 + 2 * 400)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(26))?;
        let (top, body) = root.split_vertically(LEGEND_HEIGHT);
        legend(&top, &self.legend)?;
        let cols = self.modes.len().max(1);
        let areas = body.split_evenly((2, cols));
        for (m, (mode, series)) in self.modes.iter().enumerate() {
            let x = log_padded(series.iter().flat_map(|s| s.cpu.iter().map(|p| p.0)), 1.15);
            let top = series
                .iter()
                .flat_map(|s| s.cpu.iter().map(|p| p.1))
                .fold(0.0, f64::max);
            let y = 0.0..(top * 1.15).max(0.001);
            let mut chart = ChartBuilder::on(&areas[m])
                .caption(
                    format!("encoder CPU time per rate point ({mode})"),
                    text(20),
                )
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(log_axis(x.clone()), y)?;
            chart
                .configure_mesh()
                .x_desc("bitrate (kbit/s, log)")
                .y_desc("CPU seconds (sum over sequences)")
                .label_style(text(15))
                .axis_desc_style(text(16))
                .x_label_formatter(&|v| axis_number(*v))
                .y_label_formatter(&|v| axis_number(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for s in series {
                let c = color(s.color);
                chart.draw_series(LineSeries::new(s.cpu.iter().copied(), c.stroke_width(2)))?;
                chart.draw_series(s.cpu.iter().map(|p| Circle::new(*p, 5, c.filled())))?;
            }

            let ratios = series
                .iter()
                .flat_map(|s| s.ratio.iter().map(|p| p.1))
                .chain([1.0]);
            let y = log_padded(ratios, 1.2);
            let mut chart = ChartBuilder::on(&areas[cols + m])
                .caption(
                    format!("CPU time relative to the anchor ({mode})"),
                    text(20),
                )
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(log_axis(x), log_axis(y))?;
            chart
                .configure_mesh()
                .x_desc("bitrate (kbit/s, log)")
                .y_desc("CPU time ratio (log; 1 = anchor)")
                .label_style(text(15))
                .axis_desc_style(text(16))
                .x_label_formatter(&|v| axis_number(*v))
                .y_label_formatter(&|v| axis_number(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            let (x0, x1) = (chart.x_range().start, chart.x_range().end);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x0, 1.0), (x1, 1.0)],
                color(0).stroke_width(2),
            )))?;
            for s in series.iter().filter(|s| !s.ratio.is_empty()) {
                let c = color(s.color);
                chart.draw_series(LineSeries::new(s.ratio.iter().copied(), c.stroke_width(2)))?;
                chart.draw_series(s.ratio.iter().map(|p| Circle::new(*p, 5, c.filled())))?;
            }
        }
        Ok(())
    }
}
