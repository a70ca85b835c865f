//! `rdbench report`: renders the report of a benchmark run folder (HTML page, Markdown summary,
//! CSV tables, charts as PNG and SVG), optionally against another anchor or side by side with
//! another run of the same suite.

use std::path::PathBuf;

use anyhow::Context;
use rdbench_reports::{load_run, render, ReportOptions};

/// Render the report of a benchmark run.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run folder (runs/<run_id>).
    #[arg(value_name = "RUN")]
    pub run: PathBuf,

    /// The configuration BD-rates and speed ratios are measured against (default: the run's
    /// anchor).
    #[arg(long, value_name = "CONFIG")]
    pub anchor: Option<String>,

    /// Where to write the report (default: RUN/report).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Another run of the same suite (an earlier revision): BD-rate and speed of each
    /// configuration against itself there, and both runs' RD curves.
    #[arg(long, value_name = "OTHER_RUN")]
    pub compare: Option<PathBuf>,

    /// The job whose frames the per-frame chart shows (default: the anchor's middle ABR point on
    /// the first sequence).
    #[arg(long, value_name = "JOB_ID")]
    pub encode: Option<String>,
}

/// Loads the run (and the other run), renders the report and prints where it is and its findings.
pub fn run(args: Args) -> anyhow::Result<()> {
    let run = load_run(&args.run)?;
    let other = match &args.compare {
        Some(dir) => Some(load_run(dir).context("loading the run to compare with")?),
        None => None,
    };
    let options = ReportOptions {
        anchor: args.anchor,
        out_dir: args.out,
        compare: other.as_ref(),
        encode: args.encode,
    };
    let paths = render(&run, &options)?;
    for finding in &paths.findings {
        println!("- {finding}");
    }
    println!();
    println!("report:  {}", paths.html.display());
    println!("summary: {}", paths.markdown.display());
    println!(
        "tables:  {} CSV files in {}",
        paths.csv.len(),
        paths.dir.join("tables").display()
    );
    println!(
        "charts:  {} charts (PNG and SVG) in {}",
        paths.charts.len(),
        paths.dir.join("charts").display()
    );
    Ok(())
}
