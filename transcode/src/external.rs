//! External encoders as tasks of the core: an encoder program (an in-house build, a branch under
//! development, a reference encoder) run as a child process with an argument template.
//!
//! The task receives the flow's filtered frames like the libavcodec encode task, streams them to
//! the child as Y4M (through a FIFO, or a file written first for programs that seek), waits for
//! it, and demuxes the bitstream it wrote (IVF, OBU, Annex-B H.264/HEVC, Matroska, MP4, WebM)
//! into the same packets, packet records and mux items a libavcodec encoder produces, so the
//! output is muxed, analysed and scored like any other. Raw Annex-B streams carry no timestamps:
//! the task decodes them once to learn each packet's display position.
//!
//! The child's CPU time is its own (`wait4` resource usage, its threads and waited-for children
//! included). A child that exits non-zero or dies on a signal fails that output with the status
//! and the last lines of its log; one that outlives its timeout is killed. Its temporary folder
//! is removed whatever happens.
//!
//! Template expansion and checking are pure functions ([`check_template`], [`expand`]), tested
//! by exact output.

use std::ffi::CString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use ff::Rational;
use ffmpeg_next as ff;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::filter::Rate;
use crate::media::{self, MuxItem, MuxPacket, VideoFrame};
use crate::process::{self, Exit, LogTail, Watchdog};
use crate::settings::RateControl;
use crate::task::{PacketRecord, Sink, Task, TaskStats};

/// The bitstream an external encoder writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Bitstream {
    /// IVF (AV1, VP9, VP8 with frame headers and timestamps).
    Ivf,
    /// AV1 low-overhead OBU stream (Section 5).
    Obu,
    /// H.264 Annex B.
    H264,
    /// HEVC Annex B.
    Hevc,
    /// Matroska.
    Mkv,
    /// WebM.
    Webm,
    /// MP4.
    Mp4,
}

impl Bitstream {
    /// Every format, in the order messages list them.
    pub const ALL: [Bitstream; 7] = [
        Bitstream::Ivf,
        Bitstream::Obu,
        Bitstream::H264,
        Bitstream::Hevc,
        Bitstream::Mkv,
        Bitstream::Webm,
        Bitstream::Mp4,
    ];

    /// The format's name in job specs and suites.
    pub fn name(self) -> &'static str {
        match self {
            Bitstream::Ivf => "ivf",
            Bitstream::Obu => "obu",
            Bitstream::H264 => "h264",
            Bitstream::Hevc => "hevc",
            Bitstream::Mkv => "mkv",
            Bitstream::Webm => "webm",
            Bitstream::Mp4 => "mp4",
        }
    }

    /// Parses a format name (`265` and `h265` for HEVC, `264` for H.264, `annexb` is refused as
    /// ambiguous).
    pub fn from_name(name: &str) -> Option<Bitstream> {
        Some(match name.to_ascii_lowercase().as_str() {
            "ivf" => Bitstream::Ivf,
            "obu" | "av1" => Bitstream::Obu,
            "h264" | "264" | "avc" => Bitstream::H264,
            "hevc" | "h265" | "265" => Bitstream::Hevc,
            "mkv" | "matroska" => Bitstream::Mkv,
            "webm" => Bitstream::Webm,
            "mp4" => Bitstream::Mp4,
            _ => return None,
        })
    }

    /// The extension of the child's output file (encoders pick their writer by it).
    pub fn extension(self) -> &'static str {
        match self {
            Bitstream::Ivf => "ivf",
            Bitstream::Obu => "obu",
            Bitstream::H264 => "264",
            Bitstream::Hevc => "hevc",
            Bitstream::Mkv => "mkv",
            Bitstream::Webm => "webm",
            Bitstream::Mp4 => "mp4",
        }
    }

    /// libavformat's demuxer for it.
    fn demuxer(self) -> &'static str {
        match self {
            Bitstream::Ivf => "ivf",
            Bitstream::Obu => "obu",
            Bitstream::H264 => "h264",
            Bitstream::Hevc => "hevc",
            Bitstream::Mkv | Bitstream::Webm => "matroska",
            Bitstream::Mp4 => "mov",
        }
    }

    /// Whether the stream carries no timestamps of its own.
    fn raw(self) -> bool {
        matches!(self, Bitstream::Obu | Bitstream::H264 | Bitstream::Hevc)
    }
}

/// How the child reads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// A FIFO named `input.y4m`: frames stream to the child as they are filtered.
    #[default]
    Fifo,
    /// A Y4M file written completely before the child starts (for programs that seek or read
    /// their input twice).
    File,
}

/// An external encoder as a job spec or suite names it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExternalEncoder {
    /// The program and its argument template.
    pub command: Vec<String>,
    /// A command that prints the encoder's version (its first line is recorded).
    pub version: Option<Vec<String>>,
    /// The bitstream the program writes at `{output}`.
    pub output_format: Bitstream,
    /// How the program reads `{input}`.
    pub input: InputMode,
    /// Seconds after which the program is killed (None: no limit).
    pub timeout_s: Option<f64>,
}

/// The placeholders a command template may use, each written `{name}`.
pub const PLACEHOLDERS: [&str; 16] = [
    "input",
    "output",
    "width",
    "height",
    "fps_num",
    "fps_den",
    "frames",
    "bit_depth",
    "threads",
    "crf",
    "qp",
    "bitrate_kbps",
    "maxrate_kbps",
    "bufsize_kbits",
    "pass",
    "stats",
];

/// The values of the placeholders for one run of the program (None: not defined for this run).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placeholders {
    /// Values by placeholder name.
    pub values: Vec<(&'static str, String)>,
}

impl Placeholders {
    /// Sets `name` (one of [`PLACEHOLDERS`]) to `value`.
    pub fn set(&mut self, name: &'static str, value: impl ToString) {
        debug_assert!(PLACEHOLDERS.contains(&name), "{name}");
        self.values.retain(|(k, _)| *k != name);
        self.values.push((name, value.to_string()));
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The rate-control placeholders of `rc`: `{crf}`, `{qp}`, `{bitrate_kbps}`,
    /// `{maxrate_kbps}`, `{bufsize_kbits}` as the mode defines them. Numbers print without a
    /// trailing `.0`, so `crf = 23` expands to `23` and `23.5` to `23.5`.
    pub fn set_rate_control(&mut self, rc: &RateControl) {
        match *rc {
            RateControl::Crf(v) => self.set("crf", number(v)),
            RateControl::Qp(v) => self.set("qp", number(v)),
            RateControl::Abr { kbps, .. } => self.set("bitrate_kbps", number(kbps)),
            RateControl::Cbr {
                kbps,
                bufsize_kbits,
            } => {
                self.set("bitrate_kbps", number(kbps));
                self.set("maxrate_kbps", number(kbps));
                self.set("bufsize_kbits", number(bufsize_kbits));
            }
            RateControl::CappedCrf {
                crf,
                maxrate_kbps,
                bufsize_kbits,
            } => {
                self.set("crf", number(crf));
                self.set("maxrate_kbps", number(maxrate_kbps));
                self.set("bufsize_kbits", number(bufsize_kbits));
            }
        }
    }
}

/// A number as a command line wants it: whole numbers without decimals.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The `{name}`s of one template argument, in order. An unclosed `{` is an error.
fn names_in(arg: &str) -> std::result::Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = arg;
    while let Some(start) = rest.find('{') {
        let after = &rest[start + 1..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{arg}` has a `{{` without its `}}`"))?;
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    Ok(out)
}

/// The placeholders a rate-control mode needs in the template.
fn needed(rc: &RateControl) -> Vec<&'static str> {
    let mut v = match rc {
        RateControl::Crf(_) => vec!["crf"],
        RateControl::Qp(_) => vec!["qp"],
        RateControl::Abr { .. } => vec!["bitrate_kbps"],
        RateControl::Cbr { .. } => vec!["bitrate_kbps", "bufsize_kbits"],
        RateControl::CappedCrf { .. } => vec!["crf", "maxrate_kbps", "bufsize_kbits"],
    };
    if rc.passes() == 2 {
        v.push("pass");
    }
    v
}

/// Checks a template against the rate control it will run with: a program is named, every
/// placeholder is known, `{input}` and `{output}` appear, and the placeholders the mode needs
/// appear (a CRF point needs `{crf}`; two passes need `{pass}`). `field` names the template in
/// errors (`output[0].command`, `config[2].command`).
pub fn check_template(template: &[String], rc: Option<&RateControl>, field: &str) -> Result<()> {
    let spec = |message: String| Error::Spec {
        field: field.to_string(),
        message,
    };
    let program = template
        .first()
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| spec("names no program".into()))?;
    if !names_in(program).map_err(spec)?.is_empty() {
        return Err(spec(format!(
            "the program `{program}` cannot be a placeholder"
        )));
    }
    let mut used = Vec::new();
    for (i, arg) in template.iter().enumerate() {
        for name in names_in(arg).map_err(|m| spec(format!("[{i}]: {m}")))? {
            if !PLACEHOLDERS.contains(&name) {
                return Err(Error::Spec {
                    field: format!("{field}[{i}]"),
                    message: format!(
                        "unknown placeholder `{{{name}}}` (known: {})",
                        PLACEHOLDERS
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            used.push(name);
        }
    }
    for must in ["input", "output"] {
        if !used.contains(&must) {
            return Err(spec(format!("the command has no `{{{must}}}`")));
        }
    }
    if let Some(rc) = rc {
        for name in needed(rc) {
            if !used.contains(&name) {
                return Err(spec(format!(
                    "rate control {} needs a `{{{name}}}` placeholder in the command",
                    if rc.passes() == 2 && name == "pass" {
                        "with two passes"
                    } else {
                        rc.mode()
                    }
                )));
            }
        }
    }
    Ok(())
}

/// The command line of one run: every `{name}` of `template` replaced by its value. A
/// placeholder without a value for this run (`{crf}` of an ABR point) is an error naming it.
pub fn expand(template: &[String], values: &Placeholders, field: &str) -> Result<Vec<String>> {
    let mut out = Vec::with_capacity(template.len());
    for (i, arg) in template.iter().enumerate() {
        let mut s = String::new();
        let mut rest = arg.as_str();
        while let Some(start) = rest.find('{') {
            s.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let end = after.find('}').ok_or_else(|| Error::Spec {
                field: format!("{field}[{i}]"),
                message: format!("`{arg}` has a `{{` without its `}}`"),
            })?;
            let name = &after[..end];
            let value = values.get(name).ok_or_else(|| Error::Spec {
                field: format!("{field}[{i}]"),
                message: format!("`{{{name}}}` has no value for this encode"),
            })?;
            s.push_str(value);
            rest = &after[end + 1..];
        }
        s.push_str(rest);
        out.push(s);
    }
    Ok(out)
}

/// The Y4M stream header of frames of `width` x `height`, `rate`, in `format`; None for a pixel
/// format Y4M cannot carry.
pub fn y4m_header(
    width: u32,
    height: u32,
    rate: Rate,
    format: ff::format::Pixel,
) -> Option<String> {
    use ff::format::Pixel as P;
    let c = match format {
        P::YUV420P | P::YUVJ420P => "420jpeg",
        P::YUV422P | P::YUVJ422P => "422",
        P::YUV444P | P::YUVJ444P => "444",
        P::YUV420P10LE => "420p10",
        P::YUV422P10LE => "422p10",
        P::YUV444P10LE => "444p10",
        P::YUV420P12LE => "420p12",
        P::YUV422P12LE => "422p12",
        P::YUV444P12LE => "444p12",
        P::GRAY8 => "mono",
        _ => return None,
    };
    Some(format!(
        "YUV4MPEG2 W{width} H{height} F{}:{} Ip A1:1 C{c}\n",
        rate.num, rate.den
    ))
}

/// The pixel format frames are streamed to a program in: `wanted` when Y4M carries it, else the
/// 4:2:0 planar format of its bit depth.
pub fn y4m_format(wanted: ff::format::Pixel) -> ff::format::Pixel {
    if y4m_header(2, 2, Rate { num: 1, den: 1 }, wanted).is_some() {
        return wanted;
    }
    match media::bit_depth(wanted) {
        0..=8 => ff::format::Pixel::YUV420P,
        9..=10 => ff::format::Pixel::YUV420P10LE,
        _ => ff::format::Pixel::YUV420P12LE,
    }
}

/// Writes one frame as a Y4M `FRAME` through each plane's row stride.
fn write_y4m_frame(w: &mut dyn Write, frame: &ff::frame::Video) -> std::io::Result<()> {
    w.write_all(b"FRAME\n")?;
    let bytes = if media::bit_depth(frame.format()) > 8 {
        2
    } else {
        1
    };
    for plane in 0..frame.planes() {
        let (pw, ph) = (
            frame.plane_width(plane) as usize,
            frame.plane_height(plane) as usize,
        );
        let stride = frame.stride(plane);
        let data = frame.data(plane);
        for row in 0..ph {
            let start = row * stride;
            w.write_all(&data[start..start + pw * bytes])?;
        }
    }
    Ok(())
}

/// The version string of an external encoder: the first line its `version` command prints, and
/// the SHA-256 of the program file, so a rebuilt binary never matches an old cache entry.
pub fn version_of(enc: &ExternalEncoder) -> String {
    let program = enc.command.first().cloned().unwrap_or_default();
    let line = enc
        .version
        .as_ref()
        .and_then(|cmd| {
            let out = std::process::Command::new(cmd.first()?)
                .args(&cmd[1..])
                .stdin(std::process::Stdio::null())
                .output()
                .ok()?;
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| program.clone());
    match which(&program).and_then(|p| file_sha256(&p)) {
        Some(hash) => format!("{line} (sha256 {})", &hash[..16]),
        None => line,
    }
}

/// The file `program` names: a path, or the first match on `PATH`.
pub fn which(program: &str) -> Option<PathBuf> {
    let p = Path::new(program);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_path_buf());
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|c| c.is_file())
    })
}

fn file_sha256(path: &Path) -> Option<String> {
    use sha2::Digest;
    let bytes = std::fs::read(path).ok()?;
    Some(hex::encode(sha2::Sha256::digest(&bytes)))
}

/// A running child with its watchdog.
struct Running {
    child: std::process::Child,
    started: Instant,
    log: LogTail,
    readers: Vec<std::thread::JoinHandle<()>>,
    watchdog: Option<Watchdog>,
}

impl Running {
    fn start(args: &[String], timeout: Option<Duration>, field: &str) -> Result<Running> {
        let mut child = std::process::Command::new(&args[0])
            .args(&args[1..])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| Error::ExternalEncoder {
                field: field.to_string(),
                program: args[0].clone(),
                message: format!("cannot start it: {e}"),
            })?;
        let log = LogTail::default();
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(log.follow(out));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(log.follow(err));
        }
        let watchdog = timeout.map(|limit| Watchdog::start(child.id(), limit));
        Ok(Running {
            child,
            started: Instant::now(),
            log,
            readers,
            watchdog,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child still runs, without reaping it.
    fn alive(&self) -> bool {
        process::alive(self.pid())
    }

    /// Kills the child (when still running), reaps it and stops the watchdog.
    fn kill(mut self) {
        // Disarmed before the child is reaped, so neither signal can reach a reused id.
        if let Some(w) = self.watchdog.take() {
            w.disarm();
        }
        process::kill(self.pid());
        let _ = process::wait(self.pid());
        self.release_readers();
    }

    /// Lets the log readers finish what the child wrote, briefly: a grandchild the program left
    /// running may hold its pipes open, and must not hold up the encode.
    fn release_readers(&mut self) {
        let until = Instant::now() + Duration::from_millis(500);
        while self.readers.iter().any(|r| !r.is_finished()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(2));
        }
        for r in self.readers.drain(..) {
            if r.is_finished() {
                let _ = r.join();
            }
        }
    }

    /// Waits for the child; an error describes a failure with the last lines it printed.
    fn finish(mut self, field: &str, program: &str) -> Result<(Exit, f64)> {
        // The watchdog keeps watching while we wait; it may kill a hung child. It is disarmed
        // after the child ends and before it is reaped.
        let failed = |e: std::io::Error| Error::ExternalEncoder {
            field: field.to_string(),
            program: program.to_string(),
            message: format!("waiting for it failed: {e}"),
        };
        process::wait_ended(self.pid()).map_err(failed)?;
        let timed_out = self.watchdog.take().is_some_and(Watchdog::disarm);
        let exit = process::wait(self.pid()).map_err(failed)?;
        let wall = self.started.elapsed().as_secs_f64();
        self.release_readers();
        let with_log = |what: String| self.log.with_tail(what);
        if timed_out {
            return Err(Error::ExternalEncoder {
                field: field.to_string(),
                program: program.to_string(),
                message: with_log(format!("timed out after {wall:.0} s and was killed")),
            });
        }
        if exit.code != Some(0) {
            return Err(Error::ExternalEncoder {
                field: field.to_string(),
                program: program.to_string(),
                message: with_log(exit.describe()),
            });
        }
        Ok((exit, wall))
    }
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("rdbench-ext-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, "creating", e))?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mkfifo(path: &Path) -> std::io::Result<()> {
    let c = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::other("a NUL byte in the path"))?;
    // SAFETY: `c` is a valid NUL-terminated path.
    let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Opens the FIFO for writing once the child has opened it for reading, without blocking
/// forever on a child that died (or never opens it) before.
fn open_fifo(
    path: &Path,
    running: &Running,
    timeout: Option<Duration>,
) -> Result<std::fs::File, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let start = Instant::now();
    loop {
        match std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
        {
            Ok(f) => {
                use std::os::fd::AsRawFd;
                // Back to blocking writes: the child's reading paces us.
                // SAFETY: `f` is an open descriptor; F_GETFL/F_SETFL only change its flags.
                unsafe {
                    let fd = f.as_raw_fd();
                    let flags = libc::fcntl(fd, libc::F_GETFL);
                    libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
                }
                return Ok(f);
            }
            Err(e) if e.raw_os_error() == Some(libc::ENXIO) => {
                if !running.alive() {
                    return Err("it ended before it opened its input".into());
                }
                if timeout.is_some_and(|t| start.elapsed() >= t) {
                    return Err("it did not open its input before its timeout".into());
                }
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => return Err(format!("opening its input FIFO failed: {e}")),
        }
    }
}

/// Everything an external encode task needs before its first frame.
#[derive(Clone, Debug)]
pub struct ExternalEncodeSetup {
    /// The output's job-spec field prefix.
    pub field: String,
    /// The encoder.
    pub encoder: ExternalEncoder,
    /// The rate control.
    pub rc: Option<RateControl>,
    /// Encoder threads for `{threads}` (0: the program's default, expanded as 0).
    pub threads: u32,
    /// 1 or 2 for two-pass runs (`{pass}`), None for a single pass.
    pub pass: Option<u8>,
    /// The two-pass statistics file (`{stats}`).
    pub stats_file: Option<PathBuf>,
    /// The output's frame rate.
    pub frame_rate: Rate,
    /// Frames expected, for `{frames}` (0 when unknown).
    pub frames: u64,
    /// The muxer's stream index.
    pub stream: usize,
    /// Whether the bitstream is wanted (the first of two passes discards it).
    pub keep_output: bool,
    /// Where each frame's user data (SEI) goes for the packet stage, keyed by the frame's
    /// position (the timestamp its packet gets).
    pub user_data: Option<crate::sei::Capture>,
}

enum Feed {
    /// Streaming into the FIFO the child reads.
    Fifo {
        running: Running,
        pipe: std::io::BufWriter<std::fs::File>,
    },
    /// Writing the whole input file before the child starts.
    File(std::io::BufWriter<std::fs::File>),
}

/// The external encode task.
pub struct ExternalEncode {
    setup: ExternalEncodeSetup,
    dir: Option<TempDir>,
    feed: Option<Feed>,
    header: Option<(u32, u32, ff::format::Pixel)>,
    frames: u64,
    args: Vec<String>,
    child_cpu_s: f64,
    child_wall_s: f64,
    packets: Vec<PacketRecord>,
    bytes: u64,
}

impl ExternalEncode {
    /// A task that starts its program at the first frame.
    pub fn new(setup: ExternalEncodeSetup) -> Self {
        ExternalEncode {
            setup,
            dir: None,
            feed: None,
            header: None,
            frames: 0,
            args: Vec::new(),
            child_cpu_s: 0.0,
            child_wall_s: 0.0,
            packets: Vec::new(),
            bytes: 0,
        }
    }

    fn program(&self) -> String {
        self.setup
            .encoder
            .command
            .first()
            .cloned()
            .unwrap_or_default()
    }

    fn fail(&self, message: impl Into<String>) -> Error {
        Error::ExternalEncoder {
            field: self.setup.field.clone(),
            program: self.program(),
            message: message.into(),
        }
    }

    fn timeout(&self) -> Option<Duration> {
        self.setup
            .encoder
            .timeout_s
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(Duration::from_secs_f64)
    }

    fn paths(&self) -> (PathBuf, PathBuf) {
        let dir = &self.dir.as_ref().expect("started").0;
        (
            dir.join("input.y4m"),
            dir.join(format!(
                "output.{}",
                self.setup.encoder.output_format.extension()
            )),
        )
    }

    fn command(&self, width: u32, height: u32, format: ff::format::Pixel) -> Result<Vec<String>> {
        let s = &self.setup;
        let (input, output) = self.paths();
        let mut v = Placeholders::default();
        v.set("input", input.display());
        v.set("output", output.display());
        v.set("width", width);
        v.set("height", height);
        v.set("fps_num", s.frame_rate.num);
        v.set("fps_den", s.frame_rate.den);
        v.set("frames", s.frames);
        v.set("bit_depth", media::bit_depth(format));
        v.set("threads", s.threads);
        if let Some(rc) = &s.rc {
            v.set_rate_control(rc);
        }
        if let Some(p) = s.pass {
            v.set("pass", p);
        }
        if let Some(f) = &s.stats_file {
            v.set("stats", f.display());
        }
        expand(&s.encoder.command, &v, &format!("{}.command", s.field))
    }

    fn start(&mut self, first: &VideoFrame) -> Result<()> {
        let f = &first.frame;
        let (w, h, fmt) = (f.width(), f.height(), f.format());
        let header = y4m_header(w, h, self.setup.frame_rate, fmt).ok_or_else(|| {
            self.fail(format!(
                "cannot stream {} pictures as Y4M (set pix_fmt to a planar YUV format)",
                media::pix_fmt_name(fmt)
            ))
        })?;
        self.dir = Some(TempDir::new()?);
        self.args = self.command(w, h, fmt)?;
        self.header = Some((w, h, fmt));
        let (input, _) = self.paths();
        match self.setup.encoder.input {
            InputMode::Fifo => {
                mkfifo(&input).map_err(|e| self.fail(format!("creating its input FIFO: {e}")))?;
                let running = Running::start(&self.args, self.timeout(), &self.setup.field)?;
                let file = match open_fifo(&input, &running, self.timeout()) {
                    Ok(f) => f,
                    Err(why) => {
                        let err = running
                            .finish(&self.setup.field, &self.program())
                            .err()
                            .unwrap_or_else(|| self.fail(why));
                        return Err(err);
                    }
                };
                let mut pipe = std::io::BufWriter::with_capacity(1 << 20, file);
                if pipe.write_all(header.as_bytes()).is_err() {
                    return Err(self.child_error(running));
                }
                self.feed = Some(Feed::Fifo { running, pipe });
            }
            InputMode::File => {
                let file =
                    std::fs::File::create(&input).map_err(|e| Error::io(&input, "creating", e))?;
                let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
                w.write_all(header.as_bytes())
                    .map_err(|e| Error::io(&input, "writing", e))?;
                self.feed = Some(Feed::File(w));
            }
        }
        Ok(())
    }

    /// The error of a child whose input broke: how it ended, with its log.
    fn child_error(&self, running: Running) -> Error {
        match running.finish(&self.setup.field, &self.program()) {
            Err(e) => e,
            Ok(_) => self.fail("it stopped reading its input and exited with status 0"),
        }
    }

    /// Demuxes the child's bitstream into mux items and packet records.
    fn collect(&mut self, output: &Path, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let format = self.setup.encoder.output_format;
        let rate = self.setup.frame_rate;
        let meta = std::fs::metadata(output).map_err(|_| {
            self.fail(format!(
                "exited with status 0 but wrote no {} file at {{output}}",
                format.name()
            ))
        })?;
        if meta.len() == 0 {
            return Err(self.fail("exited with status 0 but its output is empty"));
        }
        let rate_text = format!("{}/{}", rate.num, rate.den);
        let options: Vec<(&str, &str)> = if format.raw() {
            vec![("framerate", rate_text.as_str())]
        } else {
            Vec::new()
        };
        let mut ictx = crate::input::open_file_as(output, Some(format.demuxer()), &options)
            .map_err(|e| self.fail(format!("its {} output cannot be read: {e}", format.name())))?;
        let stream = ictx
            .streams()
            .best(ff::media::Type::Video)
            .ok_or_else(|| self.fail("its output has no video stream"))?;
        let index = stream.index();
        let params = stream.parameters();
        let src_tb = stream.time_base();
        let mut packets: Vec<ff::Packet> = Vec::new();
        for (s, packet) in ictx.packets() {
            if s.index() == index && packet.size() > 0 {
                packets.push(packet);
            }
        }
        if packets.is_empty() {
            return Err(self.fail("its output holds no video packets"));
        }
        // Timestamps in 1/rate units: from the container, or (raw streams) from the display
        // order a decoder gives the packets.
        let tb = Rational::new(rate.den, rate.num);
        let n = packets.len();
        let (pts, dts): (Vec<i64>, Vec<i64>) = if format.raw() {
            let order = display_order(&params, &packets)
                .map_err(|e| self.fail(format!("decoding its output to order it: {e}")))?;
            let delay = (0..n)
                .map(|i| i as i64 - order[i])
                .max()
                .unwrap_or(0)
                .max(0);
            (order, (0..n as i64).map(|i| i - delay).collect())
        } else {
            let conv = |t: Option<i64>| t.map(|t| crate::encode::rescale(t, src_tb, tb));
            let mut p: Vec<i64> = Vec::with_capacity(n);
            let mut d: Vec<i64> = Vec::with_capacity(n);
            for (i, pk) in packets.iter().enumerate() {
                let pt = conv(pk.pts()).unwrap_or(i as i64);
                let dt = conv(pk.dts()).unwrap_or(pt);
                p.push(pt);
                d.push(dt.min(pt));
            }
            let first = d
                .first()
                .copied()
                .unwrap_or(0)
                .min(*p.iter().min().unwrap_or(&0));
            (
                p.iter().map(|x| x - first).collect(),
                d.iter().map(|x| x - first).collect(),
            )
        };
        out.push(MuxItem::Stream {
            stream: self.setup.stream,
            params,
            time_base: tb,
            side_data: Vec::new(),
        })?;
        for (i, mut packet) in packets.into_iter().enumerate() {
            packet.set_pts(Some(pts[i]));
            packet.set_dts(Some(dts[i]));
            packet.set_duration(1);
            packet.set_stream(self.setup.stream);
            packet.set_position(-1);
            self.bytes += packet.size() as u64;
            self.packets.push(PacketRecord {
                size: packet.size() as u32,
                pts_s: media::seconds(pts[i], tb),
                dts_s: media::seconds(dts[i], tb),
                duration_s: media::seconds(1, tb),
                key: packet.is_key(),
                pict_type: if packet.is_key() { 'I' } else { '?' },
            });
            out.push(MuxItem::Packet(MuxPacket {
                stream: self.setup.stream,
                packet,
                time_base: tb,
            }))?;
        }
        Ok(())
    }
}

/// The display position of every packet of a raw stream (in decode order): each packet is sent
/// to a decoder with its decode index as timestamp, and the pictures come out in display order
/// carrying the index of the packet that held them.
fn display_order(
    params: &ff::codec::Parameters,
    packets: &[ff::Packet],
) -> std::result::Result<Vec<i64>, String> {
    let ctx =
        ff::codec::context::Context::from_parameters(params.clone()).map_err(|e| e.to_string())?;
    let mut dec = ctx.decoder().video().map_err(|e| e.to_string())?;
    let mut order = vec![-1i64; packets.len()];
    let mut shown = 0i64;
    let mut frame = ff::frame::Video::empty();
    let mut drain = |dec: &mut ff::decoder::Video, order: &mut Vec<i64>| {
        while dec.receive_frame(&mut frame).is_ok() {
            let i = frame.pts().or(frame.timestamp()).unwrap_or(-1);
            if (0..order.len() as i64).contains(&i) && order[i as usize] < 0 {
                order[i as usize] = shown;
            }
            shown += 1;
        }
    };
    for (i, p) in packets.iter().enumerate() {
        let mut p = p.clone();
        p.set_pts(Some(i as i64));
        p.set_dts(Some(i as i64));
        dec.send_packet(&p).map_err(|e| e.to_string())?;
        drain(&mut dec, &mut order);
    }
    let _ = dec.send_eof();
    drain(&mut dec, &mut order);
    // Packets that produced no picture of their own (rare: parameter sets alone) keep their
    // decode position.
    let mut last = -1;
    for (i, o) in order.iter_mut().enumerate() {
        if *o < 0 {
            *o = (last + 1).max(i as i64);
        }
        last = *o;
    }
    Ok(order)
}

impl Task for ExternalEncode {
    type In = VideoFrame;
    type Out = MuxItem;

    fn process(&mut self, mut frame: VideoFrame, _out: &mut dyn Sink<MuxItem>) -> Result<()> {
        match &self.setup.user_data {
            Some(c) => c.record(self.frames as i64, &mut frame.frame),
            None => drop(media::take_user_data(&mut frame.frame)),
        }
        if self.feed.is_none() {
            self.start(&frame)?;
        }
        let (w, h, fmt) = self.header.expect("started");
        let f = &frame.frame;
        if (f.width(), f.height(), f.format()) != (w, h, fmt) {
            return Err(self.fail(format!(
                "the picture changed from {w}x{h} {} to {}x{} {} mid-stream",
                media::pix_fmt_name(fmt),
                f.width(),
                f.height(),
                media::pix_fmt_name(f.format())
            )));
        }
        self.frames += 1;
        match self.feed.take().expect("started") {
            Feed::Fifo { running, mut pipe } => {
                if write_y4m_frame(&mut pipe, f).is_err() {
                    return Err(self.child_error(running));
                }
                self.feed = Some(Feed::Fifo { running, pipe });
            }
            Feed::File(mut w) => {
                let (input, _) = self.paths();
                write_y4m_frame(&mut w, f).map_err(|e| Error::io(&input, "writing", e))?;
                self.feed = Some(Feed::File(w));
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut dyn Sink<MuxItem>) -> Result<()> {
        let Some(feed) = self.feed.take() else {
            return Err(Error::Spec {
                field: self.setup.field.clone(),
                message: "no frames reached this output's encoder".into(),
            });
        };
        let running = match feed {
            Feed::Fifo { running, pipe } => {
                match pipe.into_inner() {
                    // Dropping the file closes the FIFO: the child sees the end of its input.
                    Ok(file) => drop(file),
                    Err(_) => return Err(self.child_error(running)),
                }
                running
            }
            Feed::File(w) => {
                let (input, _) = self.paths();
                let file = w
                    .into_inner()
                    .map_err(|e| Error::io(&input, "writing", e.into_error()))?;
                drop(file);
                Running::start(&self.args, self.timeout(), &self.setup.field)?
            }
        };
        let (exit, wall) = running.finish(&self.setup.field, &self.program())?;
        self.child_cpu_s = exit.cpu_s;
        self.child_wall_s = wall;
        let (_, output) = self.paths();
        if self.setup.keep_output {
            self.collect(&output, out)?;
        }
        // The temporary folder (FIFO, input copy, bitstream) goes now, not at drop time.
        self.dir = None;
        Ok(())
    }

    fn report(&mut self, stats: &mut TaskStats) {
        // The encoder's figures are the child's own; the core's piping work is overhead.
        stats.overhead_cpu_s += stats.cpu_s;
        stats.cpu_s = self.child_cpu_s;
        stats.helper_cpu_s = self.child_cpu_s;
        stats.busy_s = self.child_wall_s;
        stats.bytes_out = self.bytes;
        stats.packets = std::mem::take(&mut self.packets);
    }
}

impl Drop for ExternalEncode {
    fn drop(&mut self) {
        // A pipeline that failed elsewhere drops the task mid-stream: stop the child.
        if let Some(Feed::Fifo { running, pipe }) = self.feed.take() {
            drop(pipe);
            running.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn templates_expand_every_placeholder_exactly() {
        let template = t(&[
            "SvtAv1EncApp",
            "-i",
            "{input}",
            "-b",
            "{output}",
            "--preset",
            "8",
            "--crf",
            "{crf}",
            "--lp",
            "{threads}",
            "--fps-num={fps_num}",
            "-w{width}x{height}",
        ]);
        let mut v = Placeholders::default();
        v.set("input", "/tmp/in.y4m");
        v.set("output", "/tmp/out.ivf");
        v.set("threads", 1);
        v.set("fps_num", 30000);
        v.set("width", 1280);
        v.set("height", 720);
        v.set_rate_control(&RateControl::Crf(35.0));
        assert_eq!(
            expand(&template, &v, "config[0].command").unwrap(),
            t(&[
                "SvtAv1EncApp",
                "-i",
                "/tmp/in.y4m",
                "-b",
                "/tmp/out.ivf",
                "--preset",
                "8",
                "--crf",
                "35",
                "--lp",
                "1",
                "--fps-num=30000",
                "-w1280x720",
            ])
        );
        v.set_rate_control(&RateControl::Crf(27.5));
        assert_eq!(
            expand(&t(&["x", "{crf}"]), &v, "f").unwrap(),
            t(&["x", "27.5"])
        );
        let mut cbr = Placeholders::default();
        cbr.set_rate_control(&RateControl::Cbr {
            kbps: 1500.0,
            bufsize_kbits: 3000.0,
        });
        assert_eq!(
            expand(
                &t(&[
                    "x",
                    "--bitrate",
                    "{bitrate_kbps}",
                    "--vbv-maxrate",
                    "{maxrate_kbps}",
                    "--vbv-bufsize",
                    "{bufsize_kbits}"
                ]),
                &cbr,
                "f"
            )
            .unwrap(),
            t(&[
                "x",
                "--bitrate",
                "1500",
                "--vbv-maxrate",
                "1500",
                "--vbv-bufsize",
                "3000"
            ])
        );
        let err = expand(&t(&["x", "{qp}"]), &v, "output[2].command").unwrap_err();
        assert_eq!(
            err.to_string(),
            "output[2].command[1]: `{qp}` has no value for this encode"
        );
    }

    #[test]
    fn templates_are_checked_against_their_rate_control() {
        let ok = t(&["x264", "--crf", "{crf}", "-o", "{output}", "{input}"]);
        check_template(&ok, Some(&RateControl::Crf(23.0)), "config[0].command").unwrap();
        let msg = |template: &[&str], rc: RateControl| {
            check_template(&t(template), Some(&rc), "config[0].command")
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            msg(
                &["x264", "-o", "{output}", "{input}"],
                RateControl::Crf(23.0)
            ),
            "config[0].command: rate control crf needs a `{crf}` placeholder in the command"
        );
        assert_eq!(
            msg(
                &["x264", "--bitrate", "{bitrate_kbps}", "-o", "{output}", "{input}"],
                RateControl::Abr { kbps: 800.0, passes: 2 }
            ),
            "config[0].command: rate control with two passes needs a `{pass}` placeholder in the command"
        );
        assert_eq!(
            msg(&["x264", "--crf", "{crf}", "-o", "{outptu}", "{input}"], RateControl::Crf(23.0)),
            "config[0].command[4]: unknown placeholder `{outptu}` (known: {input}, {output}, {width}, {height}, {fps_num}, {fps_den}, {frames}, {bit_depth}, {threads}, {crf}, {qp}, {bitrate_kbps}, {maxrate_kbps}, {bufsize_kbits}, {pass}, {stats})"
        );
        assert_eq!(
            msg(
                &["x264", "--crf", "{crf}", "{input}"],
                RateControl::Crf(23.0)
            ),
            "config[0].command: the command has no `{output}`"
        );
        assert_eq!(
            msg(
                &["x264", "--crf", "{crf", "{input}", "{output}"],
                RateControl::Crf(23.0)
            ),
            "config[0].command: [2]: `{crf` has a `{` without its `}`"
        );
        assert_eq!(
            check_template(&[], None, "output[0].command")
                .unwrap_err()
                .to_string(),
            "output[0].command: names no program"
        );
    }

    #[test]
    fn y4m_headers_name_the_chroma_and_depth() {
        let r = Rate {
            num: 30000,
            den: 1001,
        };
        assert_eq!(
            y4m_header(640, 360, r, ff::format::Pixel::YUV420P).unwrap(),
            "YUV4MPEG2 W640 H360 F30000:1001 Ip A1:1 C420jpeg\n"
        );
        assert_eq!(
            y4m_header(
                8,
                8,
                Rate { num: 25, den: 1 },
                ff::format::Pixel::YUV420P10LE
            )
            .unwrap(),
            "YUV4MPEG2 W8 H8 F25:1 Ip A1:1 C420p10\n"
        );
        assert!(y4m_header(8, 8, r, ff::format::Pixel::NV12).is_none());
    }

    #[test]
    fn bitstream_names_round_trip() {
        for b in Bitstream::ALL {
            assert_eq!(Bitstream::from_name(b.name()), Some(b));
        }
        assert_eq!(Bitstream::from_name("h265"), Some(Bitstream::Hevc));
        assert_eq!(Bitstream::from_name("yuv"), None);
    }
}
