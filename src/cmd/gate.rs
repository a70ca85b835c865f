//! `rdbench gate BASELINE CANDIDATE`: the regression gate between two runs of one suite. Prints
//! a Markdown table and exits with status 1 when a rule is broken.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use rdbench_bench_suite::gate::{gate, markdown, GateRules};

/// Compare a candidate run with a baseline run and enforce the rules.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The baseline run folder (main).
    pub baseline: PathBuf,
    /// The candidate run folder (the change).
    pub candidate: PathBuf,
    /// Rules (TOML: bd_rate_max_pct, cpu_max_pct, cpu_noise_pct, bitrate_error_max_points, metrics, method).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Also write the Markdown table to this file.
    #[arg(long, value_name = "FILE.md")]
    pub out: Option<PathBuf>,
}

/// Runs `rdbench gate`.
pub fn run(args: Args) -> Result<()> {
    let rules = match &args.rules {
        Some(p) => GateRules::load(p)?,
        None => GateRules::default(),
    };
    let baseline = rdbench_bench_suite::run::load(&args.baseline)?;
    let candidate = rdbench_bench_suite::run::load(&args.candidate)?;
    let report = gate(&baseline, &candidate, &rules)?;
    let md = markdown(
        &report,
        &baseline.manifest.run_id,
        &candidate.manifest.run_id,
    );
    print!("{md}");
    if let Some(p) = &args.out {
        std::fs::write(p, &md).with_context(|| format!("writing {}", p.display()))?;
    }
    if !report.passed {
        let broken = report.rows.iter().filter(|r| !r.ok).count();
        bail!(
            "gate failed: {broken} of {} checks broken",
            report.rows.len()
        );
    }
    Ok(())
}
