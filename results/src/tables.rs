//! The results tables: `encodes` (one row per encode) and `frames` (one row per encoded frame),
//! as CSV and as Parquet (through polars), written atomically.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::Serialize;

use crate::run::{write_atomic, RunError};

fn csv_bytes<T: Serialize>(rows: &[T], path: &Path) -> Result<Vec<u8>, RunError> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(true)
        .from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(|e| RunError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
    }
    w.into_inner().map_err(|e| RunError::Format {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}

/// Writes `rows` as `<dir>/<name>.csv` and `<dir>/<name>.parquet`; returns both paths.
pub fn write_table<T: Serialize>(
    dir: &Path,
    name: &str,
    rows: &[T],
) -> Result<(PathBuf, PathBuf), RunError> {
    let csv_path = dir.join(format!("{name}.csv"));
    let parquet_path = dir.join(format!("{name}.parquet"));
    let bytes = csv_bytes(rows, &csv_path)?;
    write_atomic(&csv_path, &bytes)?;
    let format = |e: PolarsError| RunError::Format {
        path: parquet_path.clone(),
        message: e.to_string(),
    };
    let mut df = if rows.is_empty() {
        DataFrame::empty()
    } else {
        CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(None)
            .into_reader_with_file_handle(std::io::Cursor::new(bytes))
            .finish()
            .map_err(format)?
    };
    let mut buf: Vec<u8> = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(format)?;
    write_atomic(&parquet_path, &buf)?;
    Ok((csv_path, parquet_path))
}

/// Reads a table written by [`write_table`] back from its Parquet file.
pub fn read_parquet(path: &Path) -> Result<DataFrame, RunError> {
    let f = std::fs::File::open(path).map_err(|e| RunError::Io {
        path: path.to_path_buf(),
        action: "opening",
        source: e,
    })?;
    ParquetReader::new(f)
        .finish()
        .map_err(|e| RunError::Format {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::EncodeRecord;
    use crate::types::JobStatus;

    #[test]
    fn csv_and_parquet_hold_the_same_rows() {
        let d = tempfile::tempdir().unwrap();
        let rows = vec![
            EncodeRecord {
                job_id: "a".into(),
                bitrate_kbps: 812.5,
                vmaf: Some(91.25),
                status: JobStatus::Ok,
                ..Default::default()
            },
            EncodeRecord {
                job_id: "b".into(),
                bitrate_kbps: 1600.0,
                vmaf: None,
                status: JobStatus::Failed,
                error: Some("boom, with a comma".into()),
                ..Default::default()
            },
        ];
        let (csv_path, pq) = write_table(d.path(), "encodes", &rows).unwrap();
        let text = std::fs::read_to_string(csv_path).unwrap();
        assert!(text
            .lines()
            .next()
            .unwrap()
            .starts_with("run_id,git_revision,host,job_id,"));
        assert!(text.contains("\"boom, with a comma\""));
        let df = read_parquet(&pq).unwrap();
        assert_eq!(df.height(), 2);
        let kbps = df.column("bitrate_kbps").unwrap().f64().unwrap();
        assert_eq!(kbps.get(0), Some(812.5));
        let vmaf = df.column("vmaf").unwrap().f64().unwrap();
        assert_eq!((vmaf.get(0), vmaf.get(1)), (Some(91.25), None));
    }
}
