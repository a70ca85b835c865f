//! The report's tables as polars DataFrames: the CTC-style BD-rate table (sequences grouped by
//! class, class averages, the overall average, an encode-time ratio column), the rate-control
//! error table, speed per rate point, and the tables of a two-run comparison. Each is written as
//! CSV and rendered as HTML (sortable) or Markdown from the same frame.

use std::path::Path;

use polars::prelude::{AnyValue, Column, CsvWriter, DataFrame, SerWriter};

use rdbench_results::analysis::{Analysis, ClassBd, TimeRatio, ALL};
use rdbench_results::dataset::Dataset;
use rdbench_results::ladder::{savings, SequenceLadder};
use rdbench_results::stats::Interval;
use rdbench_results::RcMode;

use crate::error::ReportError;
use crate::Comparison;

/// A column under construction, with how many decimals its numbers show.
enum Col {
    Text(String, Vec<String>),
    Num(String, Vec<Option<f64>>, usize),
    Int(String, Vec<Option<u64>>),
    /// A percentage with its interval: three CSV columns (`name`, `name ci_low`, `name
    /// ci_high`), one displayed cell (`-7.90% [-10.20, -5.60]`).
    Pct(String, Vec<Option<f64>>, Vec<Option<Interval>>),
}

/// How a displayed column is made of the frame's columns.
#[derive(Debug, Clone)]
enum Shown {
    /// One frame column.
    Plain(usize),
    /// A value column and its interval's bounds.
    WithInterval {
        value: usize,
        low: usize,
        high: usize,
    },
}

impl Col {
    /// The frame columns (with their decimals) and how they are shown; `at` is the index of the
    /// first frame column.
    fn into_columns(self, at: usize) -> (Vec<(Column, usize)>, Shown) {
        match self {
            Col::Text(n, v) => (vec![(Column::new(n.into(), v), 0)], Shown::Plain(at)),
            Col::Num(n, v, d) => (vec![(Column::new(n.into(), v), d)], Shown::Plain(at)),
            Col::Int(n, v) => (vec![(Column::new(n.into(), v), 0)], Shown::Plain(at)),
            Col::Pct(n, v, i) => {
                let low: Vec<Option<f64>> = i.iter().map(|i| i.map(|i| i.low)).collect();
                let high: Vec<Option<f64>> = i.iter().map(|i| i.map(|i| i.high)).collect();
                (
                    vec![
                        (Column::new(format!("{n} ci_low").into(), low), 2),
                        (Column::new(format!("{n} ci_high").into(), high), 2),
                        (Column::new(n.into(), v), 2),
                    ],
                    Shown::WithInterval {
                        value: at + 2,
                        low: at,
                        high: at + 1,
                    },
                )
            }
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
    /// Decimals shown for each frame column.
    decimals: Vec<usize>,
    /// The displayed columns.
    shown: Vec<Shown>,
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
        let (mut columns, mut decimals, mut shown) = (Vec::new(), Vec::new(), Vec::new());
        for c in cols {
            let (cs, how) = c.into_columns(columns.len());
            for (column, d) in cs {
                columns.push(column);
                decimals.push(d);
            }
            shown.push(how);
        }
        // The CSV keeps a value next to its bounds in the order value, low, high.
        let order: Vec<usize> = shown
            .iter()
            .flat_map(|s| match s {
                Shown::Plain(i) => vec![*i],
                Shown::WithInterval { value, low, high } => vec![*value, *low, *high],
            })
            .collect();
        let columns: Vec<Column> = order.iter().map(|&i| columns[i].clone()).collect();
        let decimals: Vec<usize> = order.iter().map(|&i| decimals[i]).collect();
        let position = |i: usize| order.iter().position(|&o| o == i).unwrap_or(i);
        let shown = shown
            .into_iter()
            .map(|s| match s {
                Shown::Plain(i) => Shown::Plain(position(i)),
                Shown::WithInterval { value, low, high } => Shown::WithInterval {
                    value: position(value),
                    low: position(low),
                    high: position(high),
                },
            })
            .collect();
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
            shown,
            rows,
        })
    }

    /// The displayed column names (a value with an interval is one column).
    pub fn headers(&self) -> Vec<String> {
        let name = |i: usize| self.frame.columns()[i].name().to_string();
        self.shown
            .iter()
            .map(|s| match s {
                Shown::Plain(i) => name(*i),
                Shown::WithInterval { value, .. } => name(*value),
            })
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

    /// The displayed cell: numbers with the column's decimals, missing values as "–", a value
    /// with an interval as `-7.90% [-10.20, -5.60]`.
    pub fn cell(&self, row: usize, col: usize) -> String {
        match self.shown[col] {
            Shown::Plain(i) => self.frame_cell(row, i),
            Shown::WithInterval { value, low, high } => {
                let v = self.frame_cell(row, value);
                if v == "–" {
                    return v;
                }
                let (lo, hi) = (self.frame_cell(row, low), self.frame_cell(row, high));
                if lo == "–" || hi == "–" {
                    format!("{v}%")
                } else {
                    format!("{v}% [{lo}, {hi}]")
                }
            }
        }
    }

    fn frame_cell(&self, row: usize, col: usize) -> String {
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
pub fn bd_rate_table(ds: &Dataset, a: &Analysis, mode: RcMode) -> Result<Table, ReportError> {
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
    class_col.push(ALL.into());
    seq_col.push("overall".into());
    kinds.push(RowKind::Average);
    scopes.push((ALL.into(), true));

    let mut cols = vec![
        Col::Text("class".into(), class_col),
        Col::Text("sequence".into(), seq_col),
    ];
    for test in ds.tests() {
        for metric in ds.bd_metrics() {
            let values = scopes
                .iter()
                .map(|(scope, average)| {
                    if *average {
                        a.class(test, metric, mode, scope)
                            .and_then(|c| c.bd_rate_percent)
                    } else {
                        a.bd_sequences
                            .iter()
                            .find(|c| {
                                c.config == test
                                    && c.metric == metric
                                    && c.rc_mode == mode
                                    && c.sequence == *scope
                            })
                            .and_then(|c| c.bd_rate_percent)
                    }
                })
                .collect();
            // Averages carry their interval; sequence rows have none.
            let intervals = scopes
                .iter()
                .map(|(scope, average)| {
                    average
                        .then(|| a.class(test, metric, mode, scope))
                        .flatten()
                        .and_then(|c| c.bd_rate_interval)
                })
                .collect();
            cols.push(Col::Pct(
                format!("{test} {}", metric.label()),
                values,
                intervals,
            ));
        }
        let ratios = scopes
            .iter()
            .map(|(scope, _)| {
                a.time_ratios
                    .iter()
                    .find(|r| r.config == test && r.rc_mode == mode && r.scope == *scope)
                    .map(|r| r.ratio)
            })
            .collect();
        cols.push(Col::Num(format!("{test} EncT"), ratios, 2));
        let decode = scopes
            .iter()
            .map(|(scope, _)| {
                a.time_ratios
                    .iter()
                    .find(|r| r.config == test && r.rc_mode == mode && r.scope == *scope)
                    .and_then(|r| r.decode_ratio)
            })
            .collect();
        cols.push(Col::Num(format!("{test} DecT"), decode, 2));
    }
    Table::new(
        format!("bd_rate_{mode}"),
        format!("BD-rate against {} ({mode} curves)", ds.anchor),
        format!(
            "BD-rate in percent (negative: the configuration saves bitrate at equal quality); \
             averages with their 95% bootstrap interval over the sequences. EncT and DecT: \
             encoder and decoder CPU time over {}'s (class and overall rows: geometric mean).",
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
    mode: RcMode,
) -> Result<Table, ReportError> {
    let scopes: Vec<&str> = ds.classes.iter().map(String::as_str).chain([ALL]).collect();
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
    for metric in ds.bd_metrics() {
        let find = |c: &String, s: &str| {
            classes
                .iter()
                .find(|b| b.config == *c && b.metric == metric && b.rc_mode == mode && b.class == s)
        };
        let values = rows
            .iter()
            .map(|(c, s)| find(c, s).and_then(|b| b.bd_rate_percent))
            .collect();
        let intervals = rows
            .iter()
            .map(|(c, s)| find(c, s).and_then(|b| b.bd_rate_interval))
            .collect();
        cols.push(Col::Pct(metric.label().into(), values, intervals));
    }
    let counted = rows
        .iter()
        .map(|(c, s)| {
            let b = classes
                .iter()
                .find(|b| b.config == **c && b.rc_mode == mode && b.class == *s);
            b.map(|b| b.sequences as u64)
        })
        .collect();
    cols.push(Col::Int("sequences".into(), counted));
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
        let decode = rows
            .iter()
            .map(|(c, s)| {
                ratios
                    .iter()
                    .find(|r| r.config == **c && r.rc_mode == mode && r.scope == *s)
                    .and_then(|r| r.decode_ratio)
            })
            .collect();
        cols.push(Col::Num("DecT".into(), decode, 2));
    }
    let kinds = rows
        .iter()
        .map(|(_, s)| {
            if *s == ALL {
                RowKind::Average
            } else {
                RowKind::Plain
            }
        })
        .collect();
    Table::new(name, title, note, cols, kinds)
}

/// The class and overall BD-rates of each test configuration against the anchor in `mode`.
pub fn bd_rate_summary_table(
    ds: &Dataset,
    a: &Analysis,
    mode: RcMode,
) -> Result<Table, ReportError> {
    bd_summary_table(
        format!("bd_rate_summary_{mode}"),
        format!(
            "BD-rate against {} ({mode} curves), class averages",
            ds.anchor
        ),
        format!(
            "BD-rate in percent (negative: saves bitrate at equal quality) with its 95% bootstrap \
             interval; EncT and DecT: encoder and decoder CPU time over {}'s (geometric mean over \
             the sequences).",
            ds.anchor
        ),
        ds,
        &ds.tests().iter().map(|t| t.to_string()).collect::<Vec<_>>(),
        &a.bd_classes,
        Some(&a.time_ratios),
        mode,
    )
}

/// The class and overall BD-rates of each configuration against itself in the other run.
pub fn compare_bd_summary_table(
    ds: &Dataset,
    c: &Comparison,
    mode: RcMode,
) -> Result<Table, ReportError> {
    let configs: Vec<String> = ds
        .configs
        .iter()
        .filter(|cfg| c.analysis.bd_classes.iter().any(|b| &b.config == *cfg))
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
        &c.analysis.bd_classes,
        None,
        mode,
    )
}

/// How each configuration's `target_vmaf` points met their targets.
pub fn quality_target_table(a: &Analysis) -> Result<Table, ReportError> {
    let q = &a.quality_targets;
    let cols = vec![
        Col::Text(
            "config".into(),
            q.iter().map(|r| r.config.clone()).collect(),
        ),
        Col::Num(
            "target_vmaf".into(),
            q.iter().map(|r| Some(r.target)).collect(),
            1,
        ),
        Col::Int(
            "encodes".into(),
            q.iter().map(|r| Some(r.encodes as u64)).collect(),
        ),
        Col::Num(
            "mean_vmaf".into(),
            q.iter().map(|r| Some(r.mean_vmaf)).collect(),
            2,
        ),
        Col::Num(
            "max_abs_miss".into(),
            q.iter().map(|r| Some(r.max_abs_miss)).collect(),
            2,
        ),
        Col::Num(
            "mean_kbps".into(),
            q.iter().map(|r| Some(r.mean_kbps)).collect(),
            1,
        ),
        Col::Num(
            "mean_crf".into(),
            q.iter().map(|r| Some(r.mean_crf)).collect(),
            2,
        ),
        Col::Num(
            "probes_per_search".into(),
            q.iter().map(|r| Some(r.mean_probes)).collect(),
            1,
        ),
        Col::Num(
            "search_cpu_ratio".into(),
            q.iter().map(|r| r.search_cpu_ratio).collect(),
            1,
        ),
        Col::Int(
            "not_reached".into(),
            q.iter().map(|r| Some(r.failed as u64)).collect(),
        ),
    ];
    Table::new(
        "quality_targets".into(),
        "Quality targets".into(),
        "Per target VMAF: the VMAF the searched CRF reached (mean over sequences, largest miss), \
         the bitrate and CRF there, encodes scored per search, the search's CPU over one encode's, \
         and sequences where no CRF in range reached the target."
            .into(),
        cols,
        vec![RowKind::Plain; q.len()],
    )
}

/// The per-title ladders: one row per sequence (its rungs, the hull's and the rungs' BD-rate
/// against the reference ladder), then the class and overall averages.
pub fn ladder_table(ladders: &[SequenceLadder]) -> Result<Table, ReportError> {
    let (mut scope, mut class, mut rungs, mut hull_bd, mut rungs_bd, mut note, mut kinds) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for l in ladders {
        scope.push(l.sequence.clone());
        class.push(l.class.clone());
        let r = l.ladder.as_ref().and_then(|x| x.reference.as_ref());
        rungs.push(l.ladder.as_ref().map(|x| x.rungs.len() as f64));
        hull_bd.push(r.and_then(|r| r.bd_hull.bd_rate_percent));
        rungs_bd.push(r.and_then(|r| r.bd_rungs.bd_rate_percent));
        note.push(match (&l.error, r) {
            (Some(e), _) => e.clone(),
            (None, None) => "no reference ladder".into(),
            (None, Some(r)) => r
                .bd_hull
                .reason
                .clone()
                .unwrap_or_else(|| format!("against {}", r.source)),
        });
        kinds.push(RowKind::Plain);
    }
    for s in savings(ladders) {
        class.push(if s.scope == ALL {
            String::new()
        } else {
            s.scope.clone()
        });
        scope.push(if s.scope == ALL {
            "all sequences".into()
        } else {
            format!("class {}", s.scope)
        });
        rungs.push(Some(s.mean_rungs));
        hull_bd.push(s.mean_bd_hull_pct);
        rungs_bd.push(s.mean_bd_rungs_pct);
        note.push(format!(
            "{} of {} sequences measured",
            s.measured, s.sequences
        ));
        kinds.push(RowKind::Average);
    }
    let none = vec![None; scope.len()];
    let cols = vec![
        Col::Text("sequence".into(), scope),
        Col::Text("class".into(), class),
        Col::Num("rungs".into(), rungs, 1),
        Col::Pct("bd_rate_hull".into(), hull_bd, none.clone()),
        Col::Pct("bd_rate_rungs".into(), rungs_bd, none),
        Col::Text("note".into(), note),
    ];
    Table::new(
        "ladders".into(),
        "Per-title ladders".into(),
        "BD-rate (VMAF, PCHIP) of each sequence's per-title convex hull and of its chosen rungs \
         against the reference ladder encoded the same way: negative is the bitrate the per-title \
         ladder saves at equal quality. Class and overall rows are means over the sequences \
         measured."
            .into(),
        cols,
        kinds,
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
            e.iter().map(|r| r.rc_mode.to_string()).collect(),
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

/// The speed columns shared by the speed tables: configuration, point, bitrate, encoder CPU
/// and wall time, decoder CPU (DecT), and the ratios to the reference.
fn speed_columns(s: &[rdbench_results::analysis::SpeedPoint], reference: &str) -> Vec<Col> {
    vec![
        Col::Text(
            "config".into(),
            s.iter().map(|r| r.config.clone()).collect(),
        ),
        Col::Text(
            "rc_mode".into(),
            s.iter().map(|r| r.point.mode.to_string()).collect(),
        ),
        Col::Int(
            "rc_point".into(),
            s.iter().map(|r| Some(r.point.index as u64)).collect(),
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
            "decode_cpu_s".into(),
            s.iter().map(|r| Some(r.decode_cpu_s)).collect(),
            3,
        ),
        Col::Num(
            format!("{reference}_cpu_s"),
            s.iter().map(|r| r.reference_cpu_s).collect(),
            2,
        ),
        Col::Num(
            "cpu_ratio".into(),
            s.iter().map(|r| r.cpu_ratio).collect(),
            3,
        ),
        Col::Num(
            "cpu_ratio ci_low".into(),
            s.iter()
                .map(|r| r.cpu_ratio_interval.map(|i| i.low))
                .collect(),
            3,
        ),
        Col::Num(
            "cpu_ratio ci_high".into(),
            s.iter()
                .map(|r| r.cpu_ratio_interval.map(|i| i.high))
                .collect(),
            3,
        ),
        Col::Num(
            "decode_ratio".into(),
            s.iter().map(|r| r.decode_ratio).collect(),
            3,
        ),
        Col::Num(
            "instructions_ratio".into(),
            s.iter().map(|r| r.instructions_ratio).collect(),
            3,
        ),
    ]
}

/// Encode speed per configuration and rate point, with the CPU-time ratio to the anchor.
pub fn speed_table(ds: &Dataset, a: &Analysis) -> Result<Table, ReportError> {
    Table::new(
        "speed".into(),
        "Encode speed per rate point".into(),
        format!(
            "Encoder CPU and wall seconds and decoder CPU seconds (DecT) summed over the \
             sequences (median of repetitions); cpu_ratio: CPU time over {}'s at the same rate \
             point on the same sequences (above 1: slower), with its interval when every encode \
             was timed at least 3 times.",
            ds.anchor
        ),
        speed_columns(&a.speed, "anchor"),
        vec![RowKind::Plain; a.speed.len()],
    )
}

/// BD-rate of each configuration against itself in the other run, one rate-control mode.
pub fn compare_bd_table(ds: &Dataset, c: &Comparison, mode: RcMode) -> Result<Table, ReportError> {
    let configs: Vec<&String> = ds
        .configs
        .iter()
        .filter(|cfg| c.analysis.bd_classes.iter().any(|b| &b.config == *cfg))
        .collect();
    let mut scopes: Vec<(String, String, bool)> = Vec::new();
    for class in &ds.classes {
        for s in ds.sequences.iter().filter(|s| &s.class == class) {
            scopes.push((class.clone(), s.id.clone(), false));
        }
        scopes.push((class.clone(), "average".into(), true));
    }
    scopes.push((ALL.into(), "overall".into(), true));
    let mut cols = vec![
        Col::Text("class".into(), scopes.iter().map(|s| s.0.clone()).collect()),
        Col::Text(
            "sequence".into(),
            scopes.iter().map(|s| s.1.clone()).collect(),
        ),
    ];
    for cfg in configs {
        for metric in ds.bd_metrics() {
            let values = scopes
                .iter()
                .map(|(class, seq, average)| {
                    if *average {
                        c.analysis
                            .class(cfg, metric, mode, class)
                            .and_then(|b| b.bd_rate_percent)
                    } else {
                        c.analysis
                            .bd_sequences
                            .iter()
                            .find(|b| {
                                &b.config == cfg
                                    && b.metric == metric
                                    && b.rc_mode == mode
                                    && &b.sequence == seq
                            })
                            .and_then(|b| b.bd_rate_percent)
                    }
                })
                .collect();
            let intervals = scopes
                .iter()
                .map(|(class, _, average)| {
                    average
                        .then(|| c.analysis.class(cfg, metric, mode, class))
                        .flatten()
                        .and_then(|b| b.bd_rate_interval)
                })
                .collect();
            cols.push(Col::Pct(
                format!("{cfg} {}", metric.label()),
                values,
                intervals,
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
    let s = &c.analysis.speed;
    Table::new(
        "compare_speed".into(),
        format!("Speed change against run {}", c.other_run),
        "Encoder CPU seconds summed over the sequences both runs have; cpu_ratio: this run over \
         the other (above 1: slower now)."
            .into(),
        speed_columns(s, "other"),
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
