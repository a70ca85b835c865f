//! Reading an RD curve from a CSV file: a header row, one encode per row, a rate column
//! (`bitrate_kbps` by default) and a quality column (`vmaf` by default). Quoted fields, a UTF-8
//! byte-order mark, surrounding spaces and blank lines are accepted; every bad cell is reported
//! with the file, line, column and cell text.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::{RatePoint, RdCurve};

/// The default rate column.
pub const DEFAULT_RATE_COLUMN: &str = "bitrate_kbps";

/// The default quality column.
pub const DEFAULT_QUALITY_COLUMN: &str = "vmaf";

/// Which columns hold the rate and the quality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvColumns {
    /// The rate column's header name.
    pub rate: String,
    /// The quality column's header name.
    pub quality: String,
}

impl Default for CsvColumns {
    fn default() -> Self {
        CsvColumns {
            rate: DEFAULT_RATE_COLUMN.to_owned(),
            quality: DEFAULT_QUALITY_COLUMN.to_owned(),
        }
    }
}

/// Errors reading an RD curve from CSV. Each message is one line.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {error}", path = path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The operating system's error (part of the message, so not also a `source()`).
        error: std::io::Error,
    },
    /// The file has no header row.
    #[error("{path}: empty file, expected a header row", path = path.display())]
    NoHeader {
        /// The file.
        path: PathBuf,
    },
    /// A wanted column is not in the header.
    #[error("{path}: no column '{column}' in the header (columns: {header})",
        path = path.display(), header = header.iter().map(|h| h.escape_debug().to_string()).collect::<Vec<_>>().join(", "))]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The wanted column.
        column: String,
        /// The header's column names.
        header: Vec<String>,
    },
    /// A wanted column appears more than once in the header.
    #[error("{path}: column '{column}' appears more than once in the header", path = path.display())]
    AmbiguousColumn {
        /// The file.
        path: PathBuf,
        /// The repeated column.
        column: String,
    },
    /// A row ends before the wanted column.
    #[error("{path}:{line}: row has {fields} field(s), no cell for column '{column}'",
        path = path.display())]
    MissingCell {
        /// The file.
        path: PathBuf,
        /// The 1-based line the row starts on.
        line: u64,
        /// The wanted column.
        column: String,
        /// How many fields the row has.
        fields: usize,
    },
    /// A cell is not a number.
    #[error("{path}:{line}: column '{column}': '{cell}' is not a number", path = path.display(), cell = shown(cell))]
    NonNumeric {
        /// The file.
        path: PathBuf,
        /// The 1-based line the row starts on.
        line: u64,
        /// The column.
        column: String,
        /// The cell's text.
        cell: String,
    },
    /// A cell is NaN or infinite.
    #[error("{path}:{line}: column '{column}': '{cell}' is not a finite number", path = path.display())]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// The 1-based line the row starts on.
        line: u64,
        /// The column.
        column: String,
        /// The cell's text.
        cell: String,
    },
    /// The file is not valid CSV (for example not UTF-8, or an unterminated quote).
    #[error("{path}:{line}: malformed CSV: {message}", path = path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The 1-based line where the problem was found.
        line: u64,
        /// The parser's description.
        message: String,
    },
}

/// Reads the RD curve in `path` from the `columns` given.
pub fn read_rd_curve(path: &Path, columns: &CsvColumns) -> Result<RdCurve, CsvError> {
    let file = File::open(path).map_err(|error| CsvError::Unreadable {
        path: path.to_owned(),
        error,
    })?;
    parse_rd_curve(file, path, columns)
}

/// Parses an RD curve from CSV text read from `reader`; `path` names the source in errors.
pub fn parse_rd_curve(
    reader: impl Read,
    path: &Path,
    columns: &CsvColumns,
) -> Result<RdCurve, CsvError> {
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| csv_error(path, e))?
        .iter()
        .map(str::to_owned)
        .collect();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(CsvError::NoHeader {
            path: path.to_owned(),
        });
    }
    let rate_index = column_index(path, &header, &columns.rate)?;
    let quality_index = column_index(path, &header, &columns.quality)?;

    let mut points = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| csv_error(path, e))?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |index: usize, column: &str| -> Result<f64, CsvError> {
            let text = record.get(index).ok_or_else(|| CsvError::MissingCell {
                path: path.to_owned(),
                line,
                column: column.to_owned(),
                fields: record.len(),
            })?;
            let value: f64 = text.parse().map_err(|_| CsvError::NonNumeric {
                path: path.to_owned(),
                line,
                column: column.to_owned(),
                cell: text.to_owned(),
            })?;
            if value.is_finite() {
                Ok(value)
            } else {
                Err(CsvError::NonFinite {
                    path: path.to_owned(),
                    line,
                    column: column.to_owned(),
                    cell: text.to_owned(),
                })
            }
        };
        let rate = cell(rate_index, &columns.rate)?;
        let quality = cell(quality_index, &columns.quality)?;
        points.push(RatePoint { rate, quality });
    }
    Ok(RdCurve::new(points))
}

/// The index of `column` in `header`: an exact match, else the one case-insensitive match.
fn column_index(path: &Path, header: &[String], column: &str) -> Result<usize, CsvError> {
    let wanted = column.trim();
    let find = |matches: &dyn Fn(&str) -> bool| -> Result<Option<usize>, CsvError> {
        let mut found = header.iter().enumerate().filter(|(_, h)| matches(h));
        match (found.next(), found.next()) {
            (Some((i, _)), None) => Ok(Some(i)),
            (Some(_), Some(_)) => Err(CsvError::AmbiguousColumn {
                path: path.to_owned(),
                column: wanted.to_owned(),
            }),
            _ => Ok(None),
        }
    };
    if let Some(i) = find(&|h| h == wanted)? {
        return Ok(i);
    }
    find(&|h| h.eq_ignore_ascii_case(wanted))?.ok_or_else(|| CsvError::MissingColumn {
        path: path.to_owned(),
        column: wanted.to_owned(),
        header: header.to_vec(),
    })
}

fn csv_error(path: &Path, error: ::csv::Error) -> CsvError {
    if let ::csv::ErrorKind::Io(_) = error.kind() {
        let ::csv::ErrorKind::Io(error) = error.into_kind() else {
            unreachable!("checked just above")
        };
        return CsvError::Unreadable {
            path: path.to_owned(),
            error,
        };
    }
    let line = error.position().map_or(0, |p| p.line());
    let message = error.to_string().replace('\n', " ");
    CsvError::Malformed {
        path: path.to_owned(),
        line,
        message,
    }
}

/// A cell as an error message shows it: on one line (control characters escaped) and at most 40
/// characters long.
fn shown(cell: &str) -> String {
    let one_line: String = cell.escape_debug().collect();
    if one_line.chars().count() > 40 {
        format!("{}...", one_line.chars().take(40).collect::<String>())
    } else {
        one_line
    }
}
