//! The report's tables as polars DataFrames: the CTC-style BD-rate table (sequences grouped by
//! class, class averages, the overall average, an encode-time ratio column), the rate-control
//! error table, speed per rate point, and the tables of a two-run comparison. Each is written as
//! CSV and rendered as HTML (sortable) or Markdown from the same frame.

use std::path::Path;

use polars::prelude::{AnyValue, Column, CsvWriter, DataFrame, SerWriter};

use rdbench_bench_suite::record::ClassBd;

use crate::analysis::{Analysis, Comparison, TimeRatio};
use crate::data::{metric_label, Dataset};
use crate::error::ReportError;

/// A column under construction, with how many decimals its numbers show.
enum Col {
    Text(String, Vec<String>),
    Num(String, Vec<Option<f64>>, usize),
    Int(String, Vec<Option<u64>>),
}

impl Col {
    fn into_column(self) -> (Column, usize) {
        match self {
            Col::Text(n, v) => (Column::new(n.into(), v), 0),
            Col::Num(n, v, d) => (Column::new(n.into(), v), d),
            Col::Int(n, v) => (Column::new(n.into(), v), 0),
        }
    }
}

/// What a row of a table is, for its display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// An ordinary row.
    Plain,
    /// An average (a class or overall): shown in bold.
    Average,
}

/// One table of the report.
#[derive(Debug, Clone)]
pub struct Table {
    /// File stem of its CSV (`bd_rate_crf` writes `bd_rate_crf.csv`).
    pub name: String,
    /// Its title.
    pub title: String,
    /// A sentence saying how to read it.
    pub note: String,
    /// The data.
    pub frame: DataFrame,
    /// Decimals shown for each column.
    decimals: Vec<usize>,
    /// Kind of each row.
    rows: Vec<RowKind>,
}

impl Table {
    fn new(
        name: String,
        title: String,
        note: String,
        cols: Vec<Col>,
        rows: Vec<RowKind>,
    ) -> Result<Self, ReportError> {
        let (columns, decimals): (Vec<Column>, Vec<usize>) =
            cols.into_iter().map(Col::into_column).unzip();
        let frame = DataFrame::new(rows.len(), columns).map_err(|e| ReportError::Table {
            path: format!("{name}.csv").into(),
            message: e.to_string(),
        })?;
        Ok(Table {
            name,
            title,
            note,
            frame,
            decimals,
            rows,
        })
    }

    /// The column names.
    pub fn headers(&self) -> Vec<String> {
        self.frame
            .columns()
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    /// The number of rows.
    pub fn height(&self) -> usize {
        self.frame.height()
    }

    /// The kind of row `row`.
    pub fn row_kind(&self, row: usize) -> RowKind {
        self.rows.get(row).copied().unwrap_or(RowKind::Plain)
    }

    /// The cell as shown: numbers with the column's decimals, missing values as "–".
    pub fn cell(&self, row: usize, col: usize) -> String {
        let column = &self.frame.columns()[col];
        let decimals = self.decimals[col];
        match column.get(row) {
            Ok(AnyValue::Null) | Err(_) => "–".into(),
            Ok(AnyValue::Float64(v)) => {
                let s = format!("{v:.decimals$}");
                // A value that rounds to zero is shown without a sign.
                match s.strip_prefix('-') {
                    Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_owned(),
                    _ => s,
                }
            }
            Ok(AnyValue::String(s)) => s.to_owned(),
            Ok(AnyValue::StringOwned(s)) => s.to_string(),
            Ok(other) => other.to_string(),
        }
    }

    /// Writes the table as CSV to `dir/<name>.csv` and returns the path.
    pub fn write_csv(&self, dir: &Path) -> Result<std::path::PathBuf, ReportError> {
        let path = dir.join(format!("{}.csv", self.name));
        let mut file =
            std::fs::File::create(&path).map_err(|e| ReportError::io(&path, "creating", e))?;
        let mut frame = self.frame.clone();
        CsvWriter::new(&mut file)
            .with_float_precision(Some(4))
            .finish(&mut frame)
            .map_err(|e| ReportError::Table {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok(path)
    }
}

/// The CTC-style BD-rate table of one rate-control mode: one row per sequence grouped by class,
/// each class's average after its sequences, the overall average last; per test configuration
/// one column per metric (BD-rate %, negative: saves bitrate) and its encode-time ratio.
pub fn bd_rate_table(ds: &Dataset, a: &Analysis, mode: &str) -> Result<Table, ReportError> {
    let mut class_col = Vec::new();
    let mut seq_col = Vec::new();
    let mut kinds = Vec::new();
    let mut scopes: Vec<(String, bool)> = Vec::new();
    for class in &ds.classes {
        for s in ds.sequences.iter().filter(|s| &s.class == class) {
            class_col.push(class.clone());
            seq_col.push(s.id.clone());
            kinds.push(RowKind::Plain);
            scopes.push((s.id.clone(), false));
        }
        class_col.push(class.clone());
        seq_col.push("average".into());
        kinds.push(RowKind::Average);
        scopes.push((class.clone(), true));
    }
    class_col.push("all".into());
    seq_col.push("overall".into());
    kinds.push(RowKind::Average);
    scopes.push(("all".into(), true));

    let mut cols = vec![
        Col::Text("class".into(), class_col),
        Col::Text("sequence".into(), seq_col),
    ];
    for test in ds.tests() {
        for metric in &ds.metrics {
            let values = scopes
                .iter()
                .map(|(scope, average)| {
                    if *average {
                        a.bd_classes
                            .iter()
                            .find(|c| {
                                c.config == *test
                                    && c.metric == *metric
                                    && c.rc_mode == mode
                                    && c.class == *scope
                            })
                            .and_then(|c| c.bd_rate_percent)
                    } else {
                        a.bd_sequences
                            .iter()
                            .find(|c| {
                                c.config == *test
                                    && c.metric == *metric
                                    && c.rc_mode == mode
                                    && c.sequence == *scope
                            })
                            .and_then(|c| c.bd_rate_percent)
                    }
                })
                .collect();
            cols.push(Col::Num(
                format!("{test} {}", metric_label(metric)),
                values,
                2,
            ));
        }
        let ratios = scopes
            .iter()
            .map(|(scope, _)| {
                a.time_ratios
                    .iter()
                    .find(|r| r.config == *test && r.rc_mode == mode && r.scope == *scope)
                    .map(|r| r.ratio)
            })
            .collect();
        cols.push(Col::Num(format!("{test} EncT"), ratios, 2));
    }
    Table::new(
        format!("bd_rate_{mode}"),
        format!("BD-rate against {} ({mode} curves)", ds.anchor),
        format!(
            "BD-rate in percent (negative: the configuration saves bitrate at equal quality). \
             EncT: encoder CPU time over {}'s (class and overall rows: geometric mean).",
            ds.anchor
        ),
        cols,
        kinds,
    )
}

/// The class and overall averages of BD-rate in long form, compact enough for a chat message:
/// one row per configuration and class (then "all"), one column per metric, and the encode-time
/// ratio when `time_ratios` are given.
#[allow(clippy::too_many_arguments)]
fn bd_summary_table(
    name: String,
    title: String,
    note: String,
    ds: &Dataset,
    configs: &[String],
    classes: &[ClassBd],
    time_ratios: Option<&[TimeRatio]>,
    mode: &str,
) -> Result<Table, ReportError> {
    let scopes: Vec<&str> = ds
        .classes
        .iter()
        .map(String::as_str)
        .chain(["all"])
        .collect();
    let rows: Vec<(&String, &str)> = configs
        .iter()
        .flat_map(|c| scopes.iter().map(move |s| (c, *s)))
        .collect();
    let mut cols = vec![
        Col::Text(
            "config".into(),
            rows.iter().map(|(c, _)| (*c).clone()).collect(),
        ),
        Col::Text(
            "class".into(),
            rows.iter().map(|(_, s)| s.to_string()).collect(),
        ),
    ];
    for metric in &ds.metrics {
        let values = rows
            .iter()
            .map(|(c, s)| {
                classes
                    .iter()
                    .find(|b| {
                        b.config == **c && b.metric == *metric && b.rc_mode == mode && b.class == *s
                    })
                    .and_then(|b| b.bd_rate_percent)
            })
            .collect();
        cols.push(Col::Num(metric_label(metric), values, 2));
    }
    if let Some(ratios) = time_ratios {
        let values = rows
            .iter()
            .map(|(c, s)| {
                ratios
                    .iter()
                    .find(|r| r.config == **c && r.rc_mode == mode && r.scope == *s)
                    .map(|r| r.ratio)
            })
            .collect();
        cols.push(Col::Num("EncT".into(), values, 2));
    }
    let kinds = rows
        .iter()
        .map(|(_, s)| {
            if *s == "all" {
                RowKind::Average
            } else {
                RowKind::Plain
            }
        })
        .collect();
    Table::new(name, title, note, cols, kinds)
}

/// The class and overall BD-rates of each test configuration against the anchor in `mode`.
pub fn bd_rate_summary_table(ds: &Dataset, a: &Analysis, mode: &str) -> Result<Table, ReportError> {
    bd_summary_table(
        format!("bd_rate_summary_{mode}"),
        format!(
            "BD-rate against {} ({mode} curves), class averages",
            ds.anchor
        ),
        format!(
            "BD-rate in percent (negative: saves bitrate at equal quality); EncT: encoder CPU time \
             over {}'s (geometric mean over the sequences).",
            ds.anchor
        ),
        ds,
        ds.tests(),
        &a.bd_classes,
        Some(&a.time_ratios),
        mode,
    )
}

/// The class and overall BD-rates of each configuration against itself in the other run.
pub fn compare_bd_summary_table(
    ds: &Dataset,
    c: &Comparison,
    mode: &str,
) -> Result<Table, ReportError> {
    let configs: Vec<String> = ds
        .configs
        .iter()
        .filter(|cfg| c.bd_classes.iter().any(|b| &b.config == *cfg))
        .cloned()
        .collect();
    bd_summary_table(
        format!("compare_bd_rate_summary_{mode}"),
        format!(
            "BD-rate of this run against run {} ({mode} curves), class averages",
            c.other_run
        ),
        "Each configuration against itself in the other run (negative: this run saves bitrate)."
            .into(),
        ds,
        &configs,
        &c.bd_classes,
        None,
        mode,
    )
}

/// Rate-control accuracy per configuration and bitrate mode.
pub fn bitrate_error_table(a: &Analysis) -> Result<Table, ReportError> {
    let e = &a.bitrate_error;
    let cols = vec![
        Col::Text(
            "config".into(),
            e.iter().map(|r| r.config.clone()).collect(),
        ),
        Col::Text(
            "rc_mode".into(),
            e.iter().map(|r| r.rc_mode.clone()).collect(),
        ),
        Col::Int(
            "encodes".into(),
            e.iter().map(|r| Some(r.encodes as u64)).collect(),
        ),
        Col::Num(
            "mean_abs_error_pct".into(),
            e.iter().map(|r| Some(r.mean_abs_error_pct)).collect(),
            2,
        ),
        Col::Num(
            "max_abs_error_pct".into(),
            e.iter().map(|r| Some(r.max_abs_error_pct)).collect(),
            2,
        ),
        Col::Num(
            "mean_error_pct".into(),
            e.iter().map(|r| Some(r.mean_error_pct)).collect(),
            2,
        ),
        Col::Int(
            "vbv_violations".into(),
            e.iter().map(|r| Some(r.vbv_violations)).collect(),
        ),
    ];
    Table::new(
        "bitrate_error".into(),
        "Rate-control error".into(),
        "Bitrate error = (actual − target) / target, in percent, over the encodes of each bitrate \
         mode; VBV violations summed."
            .into(),
        cols,
        vec![RowKind::Plain; e.len()],
    )
}

/// Encode speed per configuration and rate point, with the CPU-time ratio to the anchor.
pub fn speed_table(a: &Analysis) -> Result<Table, ReportError> {
    let s = &a.speed;
    let cols = vec![
        Col::Text(
            "config".into(),
            s.iter().map(|r| r.config.clone()).collect(),
        ),
        Col::Text(
            "rc_mode".into(),
            s.iter().map(|r| r.rc_mode.clone()).collect(),
        ),
        Col::Int(
            "rc_point".into(),
            s.iter().map(|r| Some(r.rc_point as u64)).collect(),
        ),
        Col::Num(
            "rc_value".into(),
            s.iter().map(|r| Some(r.rc_value)).collect(),
            1,
        ),
        Col::Num(
            "bitrate_kbps".into(),
            s.iter().map(|r| Some(r.bitrate_kbps)).collect(),
            1,
        ),
        Col::Num(
            "encode_cpu_s".into(),
            s.iter().map(|r| Some(r.encode_cpu_s)).collect(),
            2,
        ),
        Col::Num(
            "encode_wall_s".into(),
            s.iter().map(|r| Some(r.encode_wall_s)).collect(),
            2,
        ),
        Col::Num(
            "anchor_cpu_s".into(),
            s.iter().map(|r| r.anchor_cpu_s).collect(),
            2,
        ),
        Col::Num(
            "cpu_ratio".into(),
            s.iter().map(|r| r.cpu_ratio).collect(),
            3,
        ),
    ];
    Table::new(
        "speed".into(),
        "Encode speed per rate point".into(),
        format!(
            "Encoder CPU and wall seconds summed over the sequences (median of repetitions); \
             cpu_ratio: CPU time over {}'s at the same rate point (above 1: slower).",
            a.anchor
        ),
        cols,
        vec![RowKind::Plain; s.len()],
    )
}

/// BD-rate of each configuration against itself in the other run, one rate-control mode.
pub fn compare_bd_table(ds: &Dataset, c: &Comparison, mode: &str) -> Result<Table, ReportError> {
    let configs: Vec<&String> = ds
        .configs
        .iter()
        .filter(|cfg| c.bd_classes.iter().any(|b| &b.config == *cfg))
        .collect();
    let mut scopes: Vec<(String, String, bool)> = Vec::new();
    for class in &ds.classes {
        for s in ds.sequences.iter().filter(|s| &s.class == class) {
            scopes.push((class.clone(), s.id.clone(), false));
        }
        scopes.push((class.clone(), "average".into(), true));
    }
    scopes.push(("all".into(), "overall".into(), true));
    let mut cols = vec![
        Col::Text("class".into(), scopes.iter().map(|s| s.0.clone()).collect()),
        Col::Text(
            "sequence".into(),
            scopes.iter().map(|s| s.1.clone()).collect(),
        ),
    ];
    for cfg in configs {
        for metric in &ds.metrics {
            let values = scopes
                .iter()
                .map(|(class, seq, average)| {
                    if *average {
                        c.bd_classes
                            .iter()
                            .find(|b| {
                                &b.config == cfg
                                    && &b.metric == metric
                                    && b.rc_mode == mode
                                    && &b.class == class
                            })
                            .and_then(|b| b.bd_rate_percent)
                    } else {
                        c.bd_sequences
                            .iter()
                            .find(|b| {
                                &b.config == cfg
                                    && &b.metric == metric
                                    && b.rc_mode == mode
                                    && &b.sequence == seq
                            })
                            .and_then(|b| b.bd_rate_percent)
                    }
                })
                .collect();
            cols.push(Col::Num(
                format!("{cfg} {}", metric_label(metric)),
                values,
                2,
            ));
        }
    }
    let kinds = scopes
        .iter()
        .map(|s| {
            if s.2 {
                RowKind::Average
            } else {
                RowKind::Plain
            }
        })
        .collect();
    Table::new(
        format!("compare_bd_rate_{mode}"),
        format!(
            "BD-rate of this run against run {} ({mode} curves)",
            c.other_run
        ),
        "Each configuration of this run against the same configuration in the other run \
         (negative: this run saves bitrate)."
            .into(),
        cols,
        kinds,
    )
}

/// Speed change of each configuration between the two runs, per rate point.
pub fn compare_speed_table(c: &Comparison) -> Result<Table, ReportError> {
    let s = &c.speed;
    let cols = vec![
        Col::Text(
            "config".into(),
            s.iter().map(|r| r.config.clone()).collect(),
        ),
        Col::Text(
            "rc_mode".into(),
            s.iter().map(|r| r.rc_mode.clone()).collect(),
        ),
        Col::Int(
            "rc_point".into(),
            s.iter().map(|r| Some(r.rc_point as u64)).collect(),
        ),
        Col::Num(
            "bitrate_kbps".into(),
            s.iter().map(|r| Some(r.bitrate_kbps)).collect(),
            1,
        ),
        Col::Num(
            "encode_cpu_s".into(),
            s.iter().map(|r| Some(r.cpu_s)).collect(),
            2,
        ),
        Col::Num(
            "other_encode_cpu_s".into(),
            s.iter().map(|r| Some(r.other_cpu_s)).collect(),
            2,
        ),
        Col::Num(
            "cpu_ratio".into(),
            s.iter().map(|r| Some(r.ratio)).collect(),
            3,
        ),
    ];
    Table::new(
        "compare_speed".into(),
        format!("Speed change against run {}", c.other_run),
        "Encoder CPU seconds summed over the sequences both runs have; cpu_ratio: this run over \
         the other (above 1: slower now)."
            .into(),
        cols,
        vec![RowKind::Plain; s.len()],
    )
}

/// Escapes text for HTML.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The table as a sortable HTML table (the page's script sorts on a header click).
pub fn to_html(t: &Table) -> String {
    let mut s = format!(
        "<div class=\"scroll\"><table class=\"sortable\" id=\"table-{}\">\n<thead><tr>",
        html_escape(&t.name)
    );
    for h in t.headers() {
        s.push_str(&format!("<th>{}</th>", html_escape(&h)));
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in 0..t.height() {
        let class = match t.row_kind(row) {
            RowKind::Plain => "",
            RowKind::Average => " class=\"average\"",
        };
        s.push_str(&format!("<tr{class}>"));
        for col in 0..t.headers().len() {
            s.push_str(&format!("<td>{}</td>", html_escape(&t.cell(row, col))));
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody>\n</table></div>\n");
    s
}

/// The rows of `t` selected by `keep` as a Markdown table (GitHub-flavoured); averages in bold.
pub fn to_markdown(t: &Table, keep: impl Fn(usize) -> bool) -> String {
    let esc = |s: &str| s.replace('|', "\\|");
    let headers = t.headers();
    let mut s = format!(
        "| {} |\n",
        headers
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    s.push_str(&format!(
        "|{}\n",
        (0..headers.len())
            .map(|i| if i < 2 { "---|" } else { "---:|" })
            .collect::<String>()
    ));
    for row in (0..t.height()).filter(|r| keep(*r)) {
        let cells: Vec<String> = (0..headers.len())
            .map(|col| {
                let c = esc(&t.cell(row, col));
                match t.row_kind(row) {
                    RowKind::Average if c != "–" => format!("**{c}**"),
                    _ => c,
                }
            })
            .collect();
        s.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    s
}
