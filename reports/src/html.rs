//! The self-contained HTML page of a report: run facts, the study summary, sortable tables,
//! every chart as inline SVG, BD-rate warnings and failed jobs. No external script, style sheet
//! or font: the page works offline and from any folder.
//!
//! Its inline script makes the tables sortable (click a header; numbers sort as numbers, missing
//! values last), then checks itself: it sorts a copy of the first table and verifies the order,
//! counts the inline charts against `data-charts`, and sets `data-rendered="ok"` on `<body>`
//! (`"failed"` otherwise), which the tests read back from a headless browser.

use crate::tables::{html_escape as esc, to_html};
use crate::Report;

const STYLE: &str = r#"
body { font-family: "Noto Sans", "DejaVu Sans", Arial, sans-serif; margin: 24px auto; max-width: 1540px; color: #222; padding: 0 16px; }
h1 { font-size: 26px; } h2 { font-size: 21px; margin-top: 36px; border-bottom: 1px solid #ccc; } h3 { font-size: 17px; }
table { border-collapse: collapse; margin: 8px 0 20px; font-size: 13px; }
th, td { border: 1px solid #d0d0d0; padding: 3px 8px; text-align: right; white-space: nowrap; }
th { background: #f0f0f0; cursor: pointer; user-select: none; }
th[aria-sort=ascending]::after { content: " \25B2"; } th[aria-sort=descending]::after { content: " \25BC"; }
td:first-child, td:nth-child(2) { text-align: left; }
tr.average td { font-weight: bold; background: #f7f7f7; }
table.facts td { text-align: left; } table.facts td:first-child { color: #555; }
figure { margin: 12px 0 28px; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: #555; }
.note { color: #555; font-size: 13px; }
div.scroll { overflow-x: auto; max-width: 100%; }
ul.findings li { margin: 4px 0; }
"#;

const SCRIPT: &str = r#"
(function () {
  "use strict";
  function key(cell) {
    var t = cell.textContent.trim().replace("\u2212", "-");
    if (!/^[-+]?[0-9]/.test(t)) { return null; }
    var n = parseFloat(t);
    return isNaN(n) ? null : n;
  }
  function sortTable(table, col, ascending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a.cells[col]), y = key(b.cells[col]);
      if (x === null && y === null) {
        var r = a.cells[col].textContent.localeCompare(b.cells[col].textContent);
        return ascending ? r : -r;
      }
      if (x === null) { return 1; }
      if (y === null) { return -1; }
      return ascending ? x - y : y - x;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  var tables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(tables, function (table) {
    var heads = table.tHead.rows[0].cells;
    Array.prototype.forEach.call(heads, function (th, i) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(heads, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        sortTable(table, i, ascending);
      });
    });
  });
  var ok = tables.length > 0;
  if (ok) {
    var copy = tables[0].cloneNode(true);
    var last = copy.tHead.rows[0].cells.length - 1;
    sortTable(copy, last, true);
    var seen = Array.prototype.map.call(copy.tBodies[0].rows, function (r) { return key(r.cells[last]); })
      .filter(function (v) { return v !== null; });
    for (var i = 1; i < seen.length; i++) { if (seen[i - 1] > seen[i]) { ok = false; } }
  }
  var expected = parseInt(document.body.getAttribute("data-charts"), 10);
  var drawn = document.querySelectorAll("figure svg").length;
  ok = ok && drawn === expected && drawn > 0;
  document.body.setAttribute("data-rendered", ok ? "ok" : "failed");
})();
"#;

fn fact(label: &str, value: &str) -> String {
    format!("<tr><td>{}</td><td>{}</td></tr>\n", esc(label), esc(value))
}

/// The whole page.
pub fn page(r: &Report) -> String {
    let m = &r.ds.run.manifest;
    let mut s = String::new();
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    s.push_str(&format!(
        "<title>rdbench report: {} ({})</title>\n<style>{STYLE}</style>\n</head>\n",
        esc(&m.suite_name),
        esc(&m.run_id)
    ));
    s.push_str(&format!("<body data-charts=\"{}\">\n", r.charts.len()));
    s.push_str(&format!(
        "<h1>rdbench report: {} <small>run {}</small></h1>\n",
        esc(&m.suite_name),
        esc(&m.run_id)
    ));

    s.push_str("<table class=\"facts\">\n");
    s.push_str(&fact("anchor", &r.ds.anchor));
    s.push_str(&fact("configurations", &r.ds.configs.join(", ")));
    s.push_str(&fact(
        "sequences",
        &format!(
            "{} in {} classes ({})",
            r.ds.sequences.len(),
            r.ds.classes.len(),
            r.ds.classes.join(", ")
        ),
    ));
    s.push_str(&fact(
        "encodes",
        &format!(
            "{} finished, {} failed",
            r.ds.run.jobs.len() - r.ds.failed.len(),
            r.ds.failed.len()
        ),
    ));
    s.push_str(&fact("git revision", &m.git_revision));
    s.push_str(&fact("host", &format!("{} ({} cores)", m.host, m.cores)));
    if !m.cpu.model.is_empty() {
        s.push_str(&fact("processor", &m.cpu.describe()));
    }
    s.push_str(&fact(
        "started / finished",
        &format!(
            "{} / {}",
            m.started,
            m.finished.as_deref().unwrap_or("not finished")
        ),
    ));
    let encoders: Vec<String> = m
        .versions
        .encoders
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    s.push_str(&fact("encoders", &encoders.join("; ")));
    s.push_str(&fact("libvmaf", &m.versions.libvmaf));
    s.push_str(&fact(
        "BD-rates",
        &format!(
            "against {} ({} interpolation; averages with 95% paired-bootstrap intervals over sequences)",
            r.ds.anchor, r.analysis.method
        ),
    ));
    if m.partial {
        s.push_str(&fact(
            "partial run",
            &format!("shards {:?} are missing", m.missing_shards),
        ));
    }
    if let Some(c) = &r.comparison {
        s.push_str(&fact("compared with", &format!("run {}", c.other_run)));
    }
    s.push_str("</table>\n");

    s.push_str("<h2>Findings</h2>\n<ul class=\"findings\">\n");
    for f in &r.findings {
        s.push_str(&format!("<li>{}</li>\n", esc(f)));
    }
    s.push_str("</ul>\n");

    s.push_str("<h2>Tables</h2>\n<p class=\"note\">Click a column header to sort. CSV files are in tables/.</p>\n");
    for t in &r.tables {
        s.push_str(&format!(
            "<h3>{}</h3>\n<p class=\"note\">{} <a href=\"tables/{}.csv\">CSV</a></p>\n",
            esc(&t.title),
            esc(&t.note),
            esc(&t.name)
        ));
        s.push_str(&to_html(t));
    }

    s.push_str("<h2>Charts</h2>\n");
    for c in &r.charts {
        let name = |p: &std::path::Path| {
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        s.push_str("<figure>\n");
        s.push_str(svg_body(&c.svg_text));
        s.push_str(&format!(
            "\n<figcaption>{} — <a href=\"charts/{}\">PNG</a> · <a href=\"charts/{}\">SVG</a></figcaption>\n</figure>\n",
            esc(&c.title),
            esc(&name(&c.png)),
            esc(&name(&c.svg))
        ));
    }

    let flagged: Vec<_> = r
        .analysis
        .bd_sequences
        .iter()
        .filter(|b| b.reason.is_some() || !b.warnings.is_empty())
        .collect();
    if !flagged.is_empty() {
        s.push_str("<h2>BD-rate warnings</h2>\n<ul>\n");
        for b in flagged {
            s.push_str(&format!(
                "<li>{} {} on {} ({}): {}</li>\n",
                esc(&b.config),
                esc(b.metric.label()),
                esc(&b.sequence),
                esc(b.rc_mode.as_str()),
                esc(&[
                    b.warnings
                        .iter()
                        .map(|w| w.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                    b.reason.clone().unwrap_or_default(),
                ]
                .iter()
                .filter(|x| !x.is_empty())
                .cloned()
                .collect::<Vec<_>>()
                .join("; "))
            ));
        }
        s.push_str("</ul>\n");
    }
    if !r.ds.failed.is_empty() {
        s.push_str("<h2>Failed jobs</h2>\n<ul>\n");
        for f in &r.ds.failed {
            s.push_str(&format!(
                "<li>{}: {}</li>\n",
                esc(&f.job_id),
                esc(f.error.as_deref().unwrap_or("no error recorded"))
            ));
        }
        s.push_str("</ul>\n");
    }
    if let Some(job) = &r.frames_job {
        s.push_str(&format!(
            "<p class=\"note\">The frame-by-frame chart shows {}; <code>rdbench report --encode JOB_ID</code> picks another.</p>\n",
            esc(job)
        ));
    }
    s.push_str(&format!("<script>{SCRIPT}</script>\n</body>\n</html>\n"));
    s
}

/// The `<svg>` element of an SVG document (without an XML declaration, if any).
fn svg_body(doc: &str) -> &str {
    match doc.find("<svg") {
        Some(i) => &doc[i..],
        None => doc,
    }
}
