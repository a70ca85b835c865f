//! `rdbench gate BASELINE CANDIDATE`: the regression gate between two runs of one suite. Prints
//! a Markdown table (also to `--out`), and exits with 0 when every check passes, 1 when a rule
//! is broken or a figure cannot be judged, and 2 when the runs cannot be compared at all.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use rdbench_results::gate::{gate, markdown, GateRules};

use crate::cmd::Exit;

/// Compare a candidate run with a baseline run and enforce the rules.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The baseline run folder (main).
    pub baseline: PathBuf,
    /// The candidate run folder (the change).
    pub candidate: PathBuf,
    /// Rules (TOML; see examples/gate.toml for every field and its default).
    #[arg(long)]
    pub rules: Option<PathBuf>,
    /// Also write the Markdown table to this file.
    #[arg(long, value_name = "FILE.md")]
    pub out: Option<PathBuf>,
    /// Also write the verdict as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub json: Option<PathBuf>,
}

fn cannot_compare(e: impl std::fmt::Display) -> anyhow::Error {
    Exit {
        code: 2,
        message: format!("cannot compare: {e}"),
    }
    .into()
}

/// Runs `rdbench gate`.
pub fn run(args: Args) -> Result<()> {
    let rules = match &args.rules {
        Some(p) => GateRules::load(p).map_err(cannot_compare)?,
        None => GateRules::default(),
    };
    let baseline = rdbench_results::run::load(&args.baseline).map_err(cannot_compare)?;
    let candidate = rdbench_results::run::load(&args.candidate).map_err(cannot_compare)?;
    let report = gate(&baseline, &candidate, &rules).map_err(cannot_compare)?;
    let md = markdown(&report);
    print!("{md}");
    let write = |path: &PathBuf, bytes: &[u8]| {
        rdbench_results::run::write_atomic(path, bytes).map_err(|e| Exit {
            code: 2,
            message: e.to_string(),
        })
    };
    if let Some(p) = &args.out {
        write(p, md.as_bytes())?;
    }
    if let Some(p) = &args.json {
        write(
            p,
            &serde_json::to_vec_pretty(&report).expect("gate reports serialise"),
        )?;
    }
    if !report.passed {
        let broken = report.rows.iter().filter(|r| r.verdict.fails()).count();
        return Err(Exit {
            code: 1,
            message: format!(
                "gate failed: {broken} of {} checks broken or not judged",
                report.rows.len()
            ),
        }
        .into());
    }
    Ok(())
}
