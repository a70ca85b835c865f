//! `rdbench bdrate`: BD-rate and BD-quality of a test RD curve against an anchor RD curve, both
//! read from CSV files, printed as a short summary or as one JSON object.

use std::path::PathBuf;

use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use rdbench_bdrate::csv::{read_rd_curve, CsvColumns, DEFAULT_QUALITY_COLUMN, DEFAULT_RATE_COLUMN};
use rdbench_bdrate::{bd_compare, BdMethod, BdOptions, BdResult, DEFAULT_MIN_OVERLAP};

/// Compare two RD curves: BD-rate (rate difference at equal quality) and BD-quality.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// CSV file of the anchor's RD points (a header row, one encode per row).
    #[arg(value_name = "ANCHOR.csv")]
    pub anchor: PathBuf,

    /// CSV file of the test's RD points.
    #[arg(value_name = "TEST.csv")]
    pub test: PathBuf,

    /// The quality column (vmaf, psnr_y, ssim, ...).
    #[arg(long, value_name = "COLUMN", default_value = DEFAULT_QUALITY_COLUMN)]
    pub metric: String,

    /// The rate column.
    #[arg(long, value_name = "COLUMN", default_value = DEFAULT_RATE_COLUMN)]
    pub rate_column: String,

    /// How each curve is interpolated: pchip (JVET spreadsheets), cubic (VCEG-M33) or akima.
    #[arg(
        long,
        default_value = "pchip",
        value_parser = PossibleValuesParser::new(["pchip", "cubic", "akima"])
            .map(|name| name.parse::<BdMethod>().expect("a possible value")),
    )]
    pub method: BdMethod,

    /// Print one JSON object: method, bd_rate_percent, bd_quality, warnings, reason.
    #[arg(long)]
    pub json: bool,

    /// Cut each curve where VMAF saturates at or above 99.5 (AOM CTC rule).
    #[arg(long)]
    pub vmaf_saturation: bool,
}

/// Reads both curves, compares them and prints the result. Null results are printed like any
/// other (exit status 0); unreadable or malformed input is an error.
pub fn run(args: Args) -> anyhow::Result<()> {
    let columns = CsvColumns {
        rate: args.rate_column.clone(),
        quality: args.metric.clone(),
    };
    let anchor = read_rd_curve(&args.anchor, &columns).context("reading the anchor curve")?;
    let test = read_rd_curve(&args.test, &columns).context("reading the test curve")?;
    if args.vmaf_saturation && !args.metric.to_ascii_lowercase().contains("vmaf") {
        eprintln!(
            "rdbench: note: --vmaf-saturation assumes VMAF on its 0-100 scale; the quality column \
             is '{}'",
            args.metric
        );
    }
    let options = BdOptions {
        method: args.method,
        vmaf_saturation: args.vmaf_saturation,
        min_overlap: DEFAULT_MIN_OVERLAP,
    };
    let result = bd_compare(&anchor, &test, &options);
    if args.json {
        println!("{}", serde_json::to_string(&result)?);
    } else {
        print!("{}", summary(&result, &args.metric));
    }
    Ok(())
}

/// The human-readable summary: BD-rate, BD-quality, then warnings and the reason if any.
fn summary(result: &BdResult, metric: &str) -> String {
    let mut out = String::new();
    let rate = match result.bd_rate_percent {
        Some(v) => format!(
            "{v:+.2} % ({})",
            if v < 0.0 {
                "the test needs less rate"
            } else {
                "the test needs more rate"
            }
        ),
        None => "undefined".to_owned(),
    };
    out.push_str(&format!("BD-rate ({}, {metric}): {rate}\n", result.method));
    let quality = match result.bd_quality {
        Some(v) => format!("{v:+.4}"),
        None => "undefined".to_owned(),
    };
    out.push_str(&format!("BD-{metric}: {quality}\n"));
    for warning in &result.warnings {
        out.push_str(&format!("warning: {warning}: {}\n", warning.description()));
    }
    if let Some(reason) = &result.reason {
        out.push_str(&format!("reason: {reason}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdbench_bdrate::BdWarning;

    #[test]
    fn summary_text() {
        let result = BdResult {
            method: BdMethod::Pchip,
            bd_rate_percent: Some(-21.7342),
            bd_quality: Some(2.83619),
            warnings: vec![BdWarning::PartialOverlap],
            reason: None,
        };
        assert_eq!(
            summary(&result, "vmaf"),
            "BD-rate (pchip, vmaf): -21.73 % (the test needs less rate)\n\
             BD-vmaf: +2.8362\n\
             warning: partial_overlap: the curves overlap on less than the minimum fraction\n"
        );
        let null = BdResult {
            method: BdMethod::Cubic,
            bd_rate_percent: None,
            bd_quality: None,
            warnings: vec![],
            reason: Some("the test curve has 1 distinct point".into()),
        };
        assert_eq!(
            summary(&null, "psnr_y"),
            "BD-rate (cubic, psnr_y): undefined\nBD-psnr_y: undefined\n\
             reason: the test curve has 1 distinct point\n"
        );
    }
}
