//! The corpus on the SI/TI plane (ITU-T P.910 spatial and temporal information): one point per
//! sequence, coloured by class and labelled with its id.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{axis_number, color, legend, text, Chart, DrawResult, LEGEND_HEIGHT};
use rdbench_results::dataset::Dataset;

/// The SI/TI scatter.
#[derive(Debug, Clone)]
pub struct SiTiChart {
    /// Title.
    pub title: String,
    /// (sequence, class index, SI, TI).
    pub points: Vec<(String, usize, f64, f64)>,
    /// Legend entries (classes).
    pub legend: Vec<(String, RGBColor, bool)>,
}

/// The SI/TI scatter, or `None` when no sequence has both values.
pub fn build(ds: &Dataset) -> Option<SiTiChart> {
    let points: Vec<_> = ds
        .sequences
        .iter()
        .filter_map(|s| {
            let class = ds.classes.iter().position(|c| *c == s.class)?;
            Some((s.id.clone(), class, s.si?, s.ti?))
        })
        .collect();
    if points.is_empty() {
        return None;
    }
    Some(SiTiChart {
        title: "Corpus: spatial against temporal information (ITU-T P.910)".into(),
        points,
        legend: ds
            .classes
            .iter()
            .enumerate()
            .map(|(i, c)| (format!("class {c}"), color(i + 1), false))
            .collect(),
    })
}

impl Chart for SiTiChart {
    fn size(&self) -> (u32, u32) {
        (1000, 720)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let root = root.titled(&self.title, text(24))?;
        let (top, body) = root.split_vertically(LEGEND_HEIGHT);
        legend(&top, &self.legend)?;
        let x = 0.0..(self.points.iter().map(|p| p.2).fold(1.0, f64::max) * 1.15);
        let y = 0.0..(self.points.iter().map(|p| p.3).fold(1.0, f64::max) * 1.15);
        let mut chart = ChartBuilder::on(&body)
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)?;
        chart
            .configure_mesh()
            .x_desc("SI (spatial information)")
            .y_desc("TI (temporal information)")
            .label_style(text(15))
            .axis_desc_style(text(16))
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| axis_number(*v))
            .light_line_style(RGBColor(235, 235, 235))
            .draw()?;
        for (name, class, si, ti) in &self.points {
            let c = color(class + 1);
            chart.draw_series(std::iter::once(Circle::new((*si, *ti), 7, c.filled())))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((*si, *ti)) + Text::new(name.clone(), (10, -8), text(15)),
            ))?;
        }
        Ok(())
    }
}
