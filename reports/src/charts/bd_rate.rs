//! BD-rate bars: one panel per metric, one group of bars per class and one for the overall
//! average, one bar per test configuration (negative: it saves bitrate against the anchor).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis_number, color, legend, padded, text, Chart, DrawResult, LEGEND_HEIGHT};
use rdbench_results::analysis::{Analysis, ALL};
use rdbench_results::dataset::Dataset;
use rdbench_results::RcMode;

/// One metric's bars.
#[derive(Debug, Clone)]
pub struct BdPanel {
    /// The metric's label.
    pub metric: String,
    /// Per group (class or "all"), per test configuration: the BD-rate, when defined.
    pub values: Vec<Vec<Option<f64>>>,
}

/// BD-rate bars of one rate-control mode.
#[derive(Debug, Clone)]
pub struct BdRateBars {
    /// Title.
    pub title: String,
    /// Group names (classes, then "all").
    pub groups: Vec<String>,
    /// Colour index of each test configuration.
    pub colors: Vec<usize>,
    /// One panel per metric.
    pub panels: Vec<BdPanel>,
    /// Legend entries.
    pub legend: Vec<(String, RGBColor, bool)>,
}

/// The BD-rate bars of `mode`.
pub fn build(ds: &Dataset, a: &Analysis, mode: RcMode) -> BdRateBars {
    let mut groups: Vec<String> = ds.classes.iter().map(|c| format!("class {c}")).collect();
    groups.push("all".into());
    let scopes: Vec<&str> = ds.classes.iter().map(String::as_str).chain([ALL]).collect();
    let panels = ds
        .bd_metrics()
        .into_iter()
        .map(|metric| BdPanel {
            metric: metric.label().to_owned(),
            values: scopes
                .iter()
                .map(|scope| {
                    ds.tests()
                        .iter()
                        .map(|t| {
                            a.bd_classes
                                .iter()
                                .find(|c| {
                                    c.config == *t
                                        && c.metric == metric
                                        && c.rc_mode == mode
                                        && c.class == *scope
                                })
                                .and_then(|c| c.bd_rate_percent)
                        })
                        .collect()
                })
                .collect(),
        })
        .collect();
    BdRateBars {
        title: format!(
            "BD-rate against {} ({mode} curves; negative saves bitrate)",
            ds.anchor
        ),
        groups,
        colors: (1..ds.configs.len()).collect(),
        panels,
        legend: ds
            .tests()
            .iter()
            .enumerate()
            .map(|(i, t)| (t.to_string(), color(i + 1), false))
            .collect(),
    }
}

impl Chart for BdRateBars {
    fn size(&self) -> (u32, u32) {
        let rows = self.panels.len().div_ceil(3).max(1) as u32;
        (1500, 90 + 400 * rows)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(26))?;
        let (top, body) = root.split_vertically(LEGEND_HEIGHT);
        legend(&top, &self.legend)?;
        let rows = self.panels.len().div_ceil(3).max(1);
        let areas = body.split_evenly((rows, 3));
        let n = self.groups.len();
        let bars = self.colors.len().max(1);
        let width = 0.8 / bars as f64;
        for (panel, area) in self.panels.iter().zip(areas.iter()) {
            let all = panel
                .values
                .iter()
                .flatten()
                .flatten()
                .copied()
                .chain([0.0]);
            let y = padded(all, 0.15);
            let groups = self.groups.clone();
            let mut chart = ChartBuilder::on(area)
                .caption(panel.metric.as_str(), text(20))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(64)
                .build_cartesian_2d(-0.6..(n as f64 - 0.4), y)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .x_labels(n + 1)
                .x_label_formatter(&move |v| {
                    let i = v.round();
                    if (v - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < groups.len() {
                        groups[i as usize].clone()
                    } else {
                        String::new()
                    }
                })
                .y_desc("BD-rate (%)")
                .y_label_formatter(&|v| axis_number(*v))
                .label_style(text(15))
                .axis_desc_style(text(16))
                .light_line_style(RGBColor(235, 235, 235))
                .draw()?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(-0.6, 0.0), (n as f64 - 0.4, 0.0)],
                BLACK.stroke_width(1),
            )))?;
            for (g, values) in panel.values.iter().enumerate() {
                for (b, v) in values.iter().enumerate() {
                    let Some(v) = *v else { continue };
                    let x0 = g as f64 - 0.4 + b as f64 * width;
                    let c = color(self.colors.get(b).copied().unwrap_or(b + 1));
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x0 + 0.05 * width, 0.0), (x0 + 0.95 * width, v)],
                        c.filled(),
                    )))?;
                    let label = format!("{v:.1}");
                    let (px, py) = chart.backend_coord(&(x0 + 0.5 * width, v));
                    let (tw, _) = area.estimate_text_size(&label, &text(14))?;
                    let dy = if v < 0.0 { 4 } else { -18 };
                    let (ox, oy) = area.get_base_pixel();
                    area.draw(&Text::new(
                        label,
                        (px - ox - tw as i32 / 2, py - oy + dy),
                        text(14),
                    ))?;
                }
            }
        }
        Ok(())
    }
}
