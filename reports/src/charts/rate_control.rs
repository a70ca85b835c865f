//! Rate-control error: for the encodes of each bitrate mode (ABR, two-pass ABR, CBR), the bitrate
//! error in percent against the target bitrate (log axis), one colour per configuration, with the
//! configuration's mean |error| in the legend.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{
    axis_number, color, legend, log_axis, log_padded, padded, text, Chart, DrawResult,
    LEGEND_HEIGHT,
};
use rdbench_results::analysis::Analysis;
use rdbench_results::dataset::Dataset;

/// One configuration's encodes in one mode: its colour index and (target kbit/s, error %).
pub type ConfigErrors = (usize, Vec<(f64, f64)>);

/// The rate-control chart.
#[derive(Debug, Clone)]
pub struct RateControlChart {
    /// Title.
    pub title: String,
    /// Per bitrate mode: its name and, per configuration, (colour, (target kbit/s, error %)).
    pub modes: Vec<(String, Vec<ConfigErrors>)>,
    /// Legend entries.
    pub legend: Vec<(String, RGBColor, bool)>,
}

/// The rate-control chart, or `None` when the run has no encode with a target bitrate.
pub fn build(ds: &Dataset, a: &Analysis) -> Option<RateControlChart> {
    let n = ds.configs.len() as f64;
    let modes: Vec<_> = ds
        .bitrate_modes()
        .into_iter()
        .map(|mode| {
            let per_config = ds
                .configs
                .iter()
                .enumerate()
                .map(|(i, config)| {
                    // Spread the configurations a little around each target so points do not hide
                    // each other.
                    let shift = 1.0 + 0.025 * (i as f64 - (n - 1.0) / 2.0);
                    let pts = ds
                        .points_of(config, mode)
                        .filter_map(|p| {
                            Some((p.record.target_kbps? * shift, p.record.bitrate_error_pct?))
                        })
                        .collect();
                    (i, pts)
                })
                .collect();
            (mode.to_string(), per_config)
        })
        .collect();
    if modes.is_empty() {
        return None;
    }
    let legend = ds
        .configs
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let errs: Vec<f64> = a
                .bitrate_error
                .iter()
                .filter(|e| e.config == *c)
                .map(|e| e.mean_abs_error_pct)
                .collect();
            let label = match errs.as_slice() {
                [e] => format!("{c} (mean |error| {e:.1}%)"),
                _ => c.clone(),
            };
            (label, color(i), false)
        })
        .collect();
    Some(RateControlChart {
        title: "Rate-control error: actual against target bitrate".into(),
        modes,
        legend,
    })
}

impl Chart for RateControlChart {
    fn size(&self) -> (u32, u32) {
        (1500, 90 + 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(26))?;
        let (top, body) = root.split_vertically(LEGEND_HEIGHT);
        legend(&top, &self.legend)?;
        let areas = body.split_evenly((1, self.modes.len().max(1)));
        for ((mode, configs), area) in self.modes.iter().zip(areas.iter()) {
            let all = configs.iter().flat_map(|(_, p)| p.iter());
            let x = log_padded(all.clone().map(|p| p.0), 1.25);
            let y = padded(all.map(|p| p.1).chain([0.0]), 0.15);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{mode} encodes"), text(20))
                .margin(12)
                .x_label_area_size(48)
                .y_label_area_size(64)
                .build_cartesian_2d(log_axis(x), y)?;
            chart
                .configure_mesh()
                .x_desc("target bitrate (kbit/s, log)")
                .y_desc("bitrate error (%)")
                .label_style(text(15))
                .axis_desc_style(text(16))
                .x_label_formatter(&|v| axis_number(*v))
                .y_label_formatter(&|v| axis_number(*v))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            let (x0, x1) = (chart.x_range().start, chart.x_range().end);
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(x0, 0.0), (x1, 0.0)],
                BLACK.stroke_width(1),
            )))?;
            for (i, pts) in configs {
                let c = color(*i);
                chart.draw_series(pts.iter().map(|p| Circle::new(*p, 5, c.filled())))?;
            }
        }
        Ok(())
    }
}
