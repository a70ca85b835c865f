//! RD curves of one sequence: bitrate (log axis) against VMAF, SSIM and PSNR-Y, one line per
//! configuration with its points marked, one row of panels per rate-control mode (CRF points and
//! ABR points are different curves). With a second run, its lines are dashed.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis_number, color, legend, log_axis, log_padded, padded, text, Chart, DrawResult,
    LEGEND_HEIGHT,
};
use rdbench_results::dataset::Dataset;
use rdbench_results::Metric;

/// One configuration's curve in one panel.
#[derive(Debug, Clone)]
pub struct RdSeries {
    /// Index of the configuration (its colour).
    pub color: usize,
    /// Whether it belongs to the run compared against (dashed).
    pub other_run: bool,
    /// (bitrate kbit/s, quality) by increasing bitrate.
    pub points: Vec<(f64, f64)>,
}

/// One panel: one metric in one mode.
#[derive(Debug, Clone)]
pub struct RdPanel {
    /// The metric's label.
    pub metric: String,
    /// The rate-control mode.
    pub rc_mode: String,
    /// The curves.
    pub series: Vec<RdSeries>,
}

/// The RD curves of one sequence.
#[derive(Debug, Clone)]
pub struct RdCurves {
    /// Title.
    pub title: String,
    /// Panels, row by row.
    pub panels: Vec<RdPanel>,
    /// Panels per row.
    pub columns: usize,
    /// Legend entries.
    pub legend: Vec<(String, RGBColor, bool)>,
}

/// The metrics an RD figure plots: VMAF, SSIM and PSNR-Y, those the run has (PSNR-YUV stands in
/// for a missing PSNR-Y).
pub fn plotted_metrics(ds: &Dataset) -> Vec<Metric> {
    let has = |m: Metric| ds.metrics.contains(&m);
    let mut out: Vec<Metric> = [Metric::Vmaf, Metric::Ssim]
        .into_iter()
        .filter(|m| has(*m))
        .collect();
    if has(Metric::PsnrY) {
        out.push(Metric::PsnrY);
    } else if has(Metric::PsnrYuv) {
        out.push(Metric::PsnrYuv);
    }
    if out.is_empty() {
        out = ds.bd_metrics();
    }
    out
}

/// The RD curves of `sequence` in `ds`, with `other`'s curves dashed when given.
pub fn build(ds: &Dataset, other: Option<&Dataset>, sequence: &str, class: &str) -> RdCurves {
    let metrics = plotted_metrics(ds);
    let mut panels = Vec::new();
    for &mode in &ds.rc_modes {
        for &metric in &metrics {
            let mut series = Vec::new();
            for (i, config) in ds.configs.iter().enumerate() {
                for (run, other_run) in [(Some(ds), false), (other, true)] {
                    let Some(run) = run else { continue };
                    let points: Vec<(f64, f64)> = run
                        .curve(sequence, config, mode)
                        .iter()
                        .filter_map(|p| p.metric(metric).map(|q| (p.bitrate_kbps, q)))
                        .collect();
                    if !points.is_empty() {
                        series.push(RdSeries {
                            color: i,
                            other_run,
                            points,
                        });
                    }
                }
            }
            panels.push(RdPanel {
                metric: metric.label().to_owned(),
                rc_mode: mode.to_string(),
                series,
            });
        }
    }
    let mut legend = Vec::new();
    for (i, config) in ds.configs.iter().enumerate() {
        match other {
            Some(o) => {
                legend.push((format!("{config} (this run)"), color(i), false));
                legend.push((
                    format!("{config} ({})", o.run.manifest.run_id),
                    color(i),
                    true,
                ));
            }
            None => legend.push((config.clone(), color(i), false)),
        }
    }
    RdCurves {
        title: format!("RD curves: {sequence} (class {class})"),
        panels,
        columns: metrics.len().max(1),
        legend,
    }
}

impl Chart for RdCurves {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(self.columns).max(1) as u32;
        (1500, 90 + 430 * rows)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(26))?;
        let (top, body) = root.split_vertically(LEGEND_HEIGHT);
        legend(&top, &self.legend)?;
        let rows = self.panels.len().div_ceil(self.columns).max(1);
        let areas = body.split_evenly((rows, self.columns));
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            let all = panel.series.iter().flat_map(|s| s.points.iter());
            let x = log_padded(all.clone().map(|p| p.0), 1.15);
            let y = padded(all.map(|p| p.1), 0.08);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{} ({})", panel.metric, panel.rc_mode), text(20))
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(log_axis(x), y)?;
            chart
                .configure_mesh()
                .x_desc("bitrate (kbit/s, log)")
                .y_desc(panel.metric.as_str())
                .label_style(text(15))
                .axis_desc_style(text(16))
                .x_label_formatter(&|v| axis_number(*v))
                .y_label_formatter(&|v| axis_number(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            for s in &panel.series {
                let c = color(s.color);
                if s.other_run {
                    chart.draw_series(DashedLineSeries::new(
                        s.points.iter().copied(),
                        8,
                        5,
                        c.stroke_width(2),
                    ))?;
                    chart.draw_series(
                        s.points
                            .iter()
                            .map(|p| TriangleMarker::new(*p, 6, c.filled())),
                    )?;
                } else {
                    chart.draw_series(LineSeries::new(
                        s.points.iter().copied(),
                        c.stroke_width(2),
                    ))?;
                    chart.draw_series(s.points.iter().map(|p| Circle::new(*p, 5, c.filled())))?;
                }
            }
        }
        Ok(())
    }
}
