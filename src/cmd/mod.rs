//! The subcommands. Each module has an `Args` (clap) and a `run(Args) -> anyhow::Result<()>`.

pub mod analyze;
pub mod bdrate;
pub mod bench;
pub mod corpus;
pub mod crf_search;
pub mod gate;
pub mod ladder;
pub mod merge;
pub mod metrics;
pub mod probe;
pub mod report;
pub mod transcode;

use clap::Subcommand;
use rdbench_metrics::vmaf::VmafModelVersion;
use rdbench_transcode::spec::Scalar;

/// A `--preset` as the job spec takes it: a number for the AV1 and VP9 encoders, a name otherwise.
pub fn preset_arg(text: &str) -> Scalar {
    match text.parse::<i64>() {
        Ok(n) => Scalar::Int(n),
        Err(_) => Scalar::Str(text.to_string()),
    }
}

/// A `--vmaf-model` by name.
pub fn vmaf_model_arg(name: &str) -> anyhow::Result<VmafModelVersion> {
    name.parse().map_err(|_| {
        anyhow::anyhow!(
            "--vmaf-model: unknown model `{name}` (vmaf_v0.6.1, vmaf_v0.6.1neg, vmaf_4k_v0.6.1)"
        )
    })
}

/// An error that ends `rdbench` with its own exit status (the gate's 1 for a broken rule and 2
/// for runs that cannot be compared); every other error exits with 1.
#[derive(Debug)]
pub struct Exit {
    /// The exit status.
    pub code: i32,
    /// The one-line message.
    pub message: String,
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Exit {}

/// Every subcommand of `rdbench`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a transcode job (one input, an ABR ladder of outputs).
    Transcode(transcode::Args),
    /// Describe a media file: container, duration, bitrate, streams.
    Probe(probe::Args),
    /// Run a benchmark suite: corpora x encoders x rate points, scored, summarised.
    Bench(bench::Args),
    /// Join shard run folders into one run.
    Merge(merge::Args),
    /// The regression gate: a candidate run against a baseline run of the same suite.
    Gate(gate::Args),
    /// Render a run's report: HTML, Markdown, charts and tables.
    Report(report::Args),
    /// Test-sequence corpora: list, fetch, verify, info.
    Corpus(corpus::Args),
    /// Score distorted videos against their reference: VMAF, PSNR, SSIM, MS-SSIM and more.
    Metrics(metrics::Args),
    /// The CRF that reaches a quality target on an input, from sample encodes.
    CrfSearch(crf_search::Args),
    /// A per-title ladder: resolutions x CRFs encoded, the convex hull, the rungs and their job.
    Ladder(ladder::Args),
    /// Which output templates fit an input, and why the others do not.
    Analyze(analyze::Args),
    /// BD-rate and BD-quality of a test RD curve against an anchor (two CSV files).
    Bdrate(bdrate::Args),
    /// A benchmark worker process (started by `rdbench bench`; reads jobs on stdin).
    #[command(name = "__worker", hide = true)]
    Worker,
}

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Transcode(a) => transcode::run(a),
        Command::Probe(a) => probe::run(a),
        Command::Bdrate(a) => bdrate::run(a),
        Command::Bench(a) => bench::run(a),
        Command::Merge(a) => merge::run(a),
        Command::Gate(a) => gate::run(a),
        Command::Report(a) => report::run(a),
        Command::Corpus(a) => corpus::run(a),
        Command::Metrics(a) => metrics::run(a),
        Command::CrfSearch(a) => crf_search::run(a),
        Command::Analyze(a) => analyze::run(a),
        Command::Ladder(a) => ladder::run(a),
        Command::Worker => {
            let stdin = std::io::stdin().lock();
            let stdout = std::io::stdout().lock();
            rdbench_bench_suite::worker::serve(stdin, stdout).map_err(anyhow::Error::msg)
        }
    }
}
