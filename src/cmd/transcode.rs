//! `rdbench transcode JOB.toml`: runs a job spec through the transcode core and prints one line
//! per output (path, resolution, frames, bitrate, encode speed).

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use indicatif::{ProgressBar, ProgressStyle};
use rdbench_transcode::chunk::Slice;
use rdbench_transcode::job::{self, Job, JobReport, Part, Progress};
use rdbench_transcode::spec;

/// Run a transcode job (TOML or JSON spec).
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The job spec.
    pub job: PathBuf,
    /// Print the full report (every task's stats and packets) as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Write the full report as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// A chunked job: encode only the K-th of N slices of its chunks (into each output's
    /// `OUTPUT.chunks/` folder) and stop; `--join` makes the outputs once every slice has run.
    #[arg(long, value_name = "K/N", value_parser = parse_slice, conflicts_with = "join")]
    pub chunks: Option<Slice>,
    /// A chunked job: join every output from the chunks its slices made.
    #[arg(long)]
    pub join: bool,
    /// Take commands while running (add or remove an output, change a bitrate, queue the next
    /// input) as JSON lines: `stdin` (answers on stdout) or the path of a Unix socket to create.
    #[arg(long, value_name = "stdin|SOCKET", conflicts_with_all = ["chunks", "join"])]
    pub control: Option<String>,
}

fn parse_slice(text: &str) -> Result<Slice, String> {
    Slice::parse(text)
}

/// A progress bar on a terminal, nothing otherwise.
pub struct Bar {
    bar: Option<ProgressBar>,
}

impl Bar {
    /// A bar when stderr is a terminal.
    pub fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::new(0);
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:40}] {pos}/{len} frames  {per_sec}  eta {eta}",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            b
        });
        Bar { bar }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

impl Default for Bar {
    fn default() -> Self {
        Self::new()
    }
}

impl Progress for Bar {
    fn pass_started(&self, pass: u32, passes: u32, total: Option<u64>) {
        if let Some(b) = &self.bar {
            b.set_prefix(if passes > 1 {
                format!("pass {pass}/{passes}")
            } else {
                "transcode".into()
            });
            b.set_length(total.unwrap_or(0));
            b.set_position(0);
            b.reset_eta();
        }
    }
    fn decoded(&self, frames: u64) {
        if let Some(b) = &self.bar {
            if frames > b.length().unwrap_or(0) {
                b.set_length(frames);
            }
            b.set_position(frames);
        }
    }
}

/// One line about an output.
pub fn summary_line(o: &job::OutputReport) -> String {
    let path = o
        .path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| format!("output[{}]", o.index));
    match &o.error {
        // Errors about a file already name it.
        Some(e) if e.to_string().contains(&path) => format!("FAILED {e}"),
        Some(e) => format!("FAILED {path}: {e}"),
        None => format!(
            "{path}  {}x{}  {} frames  {:.1} kbit/s  encode {:.1} fps",
            o.width, o.height, o.frames, o.video_kbps, o.encode_fps
        ),
    }
}

/// Runs `rdbench transcode`.
pub fn run(args: Args) -> Result<()> {
    let (spec, templates) = spec::load_job(&args.job)?;
    let job = Job::from_spec(&spec, templates.as_ref(), Some(&args.job))?;
    let bar = Bar::new();
    let mut _socket = None;
    let report: Result<JobReport, _> = match (args.chunks, args.join, &args.control) {
        (_, _, Some(c)) => {
            let commands = if c == "stdin" {
                rdbench_transcode::control::from_stdin()
            } else {
                let path = PathBuf::from(c);
                let (rx, guard) =
                    rdbench_transcode::control::from_socket(&path).with_context(|| {
                        format!("--control: creating the socket {}", path.display())
                    })?;
                _socket = Some(guard);
                rx
            };
            job::run_controlled(&job, commands, &bar)
        }
        (Some(slice), _, None) => job::run_part(&job, Part::Slice(slice), &bar),
        (None, true, None) => job::run_part(&job, Part::Join, &bar),
        (None, false, None) => job::run(&job, &bar),
    };
    bar.finish();
    let report = report?;
    if let Some(path) = &args.report {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    let mut failed: Vec<String> = report
        .outputs
        .iter()
        .filter(|o| o.error.is_some())
        .map(summary_line)
        .collect();
    for o in &report.outputs {
        if o.error.is_none() && !args.json {
            println!("{}", summary_line(o));
        }
    }
    for s in &report.snapshots {
        match &s.error {
            Some(e) => failed.push(format!("FAILED {e}")),
            None if !args.json => println!(
                "{}  {} images  {}x{}",
                s.pattern.display(),
                s.files.len(),
                s.width,
                s.height
            ),
            None => {}
        }
    }
    if report.corrupt_packets > 0 {
        eprintln!(
            "warning: {}: {} corrupt packets or damaged frames (skipped or concealed, as FFmpeg does)",
            report.input.display(),
            report.corrupt_packets
        );
    }
    let total = report.outputs.len() + report.snapshots.len();
    match failed.as_slice() {
        [] => Ok(()),
        // One failure is the error itself: one line.
        [one] => bail!("{}", one.trim_start_matches("FAILED ")),
        many => {
            for line in many {
                eprintln!("{line}");
            }
            let what = if report.snapshots.is_empty() {
                "outputs"
            } else {
                "outputs and snapshot sets"
            };
            bail!("{} of {total} {what} failed", many.len())
        }
    }
}
