//! The Markdown summary of a report, short enough for a pull-request comment or a chat message:
//! the run in one line, the findings, the class and overall BD-rates of the headline mode (and of
//! the comparison with another run), and the rate-control table.

use crate::tables::to_markdown;
use crate::Report;

/// The Markdown summary.
pub fn summary(r: &Report) -> String {
    let m = &r.ds.run.manifest;
    let mut s = format!("## rdbench report: {} (run {})\n\n", m.suite_name, m.run_id);
    s.push_str(&format!(
        "Anchor **{}**; {} configurations; {} sequences in {} classes; {} encodes finished, {} failed; \
         rdbench {} on {}.\n\n",
        r.ds.anchor,
        r.ds.configs.len(),
        r.ds.sequences.len(),
        r.ds.classes.len(),
        r.ds.run.jobs.len() - r.ds.failed.len(),
        r.ds.failed.len(),
        if m.git_revision.is_empty() { "(unknown revision)" } else { &m.git_revision },
        if m.host.is_empty() { "an unnamed host" } else { &m.host },
    ));
    s.push_str("### Findings\n\n");
    for f in &r.findings {
        s.push_str(&format!("- {f}\n"));
    }
    s.push('\n');
    if let Some(mode) = r.ds.headline_mode() {
        for name in [
            format!("bd_rate_summary_{mode}"),
            format!("compare_bd_rate_summary_{mode}"),
        ] {
            if let Some(t) = r.tables.iter().find(|t| t.name == name) {
                s.push_str(&format!("### {}\n\n", t.title));
                s.push_str(&to_markdown(t, |_| true));
                s.push_str(&format!("\n{}\n\n", t.note));
            }
        }
    }
    for name in ["bitrate_error", "quality_targets", "ladders"] {
        if let Some(t) = r.tables.iter().find(|t| t.name == name) {
            s.push_str(&format!("### {}\n\n", t.title));
            s.push_str(&to_markdown(t, |_| true));
            s.push('\n');
        }
    }
    s.push_str(
        "Full report: `report.html` (charts, per-sequence tables); tables as CSV in `tables/`.\n",
    );
    s
}
