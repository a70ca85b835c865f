//! The control channel of a running job: commands as JSON lines (on stdin or a Unix socket),
//! each answered by one JSON line that says what it did or why it was refused.
//!
//! ```text
//! {"op":"add_output","output":{"path":"low.mp4","codec":"libx264","height":240}}
//! {"op":"remove_output","output":"output[1]"}            (or the output's path)
//! {"op":"set_bitrate","output":"low.mp4","bitrate_kbps":400}
//! {"op":"replace_input","input":"next.mp4"}              (played when the current one ends)
//! ```
//!
//! Parsing and the answers are here (pure); the job applies commands between packets
//! (`job::run_controlled`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use crossbeam_channel::{bounded, Receiver, Sender};
use serde::{Deserialize, Serialize};

use crate::spec::OutputSettings;

/// One command.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Start a new output from the next frame, planned like an `[[output]]` of the job.
    AddOutput {
        /// Its settings.
        output: Box<OutputSettings>,
    },
    /// Stop an output and finish its file.
    RemoveOutput {
        /// `output[i]` or its path.
        output: String,
    },
    /// Change a running output's target bitrate from its next frame.
    SetBitrate {
        /// `output[i]` or its path.
        output: String,
        /// The new target.
        bitrate_kbps: f64,
    },
    /// The input to continue with when the current one ends.
    ReplaceInput {
        /// A file (relative paths from the job file's folder).
        input: String,
    },
}

impl Command {
    /// The command's name as written (`op`).
    pub fn op(&self) -> &'static str {
        match self {
            Command::AddOutput { .. } => "add_output",
            Command::RemoveOutput { .. } => "remove_output",
            Command::SetBitrate { .. } => "set_bitrate",
            Command::ReplaceInput { .. } => "replace_input",
        }
    }
}

/// The answer to one command line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Ack {
    /// Whether it was applied.
    pub ok: bool,
    /// The command's `op` (empty when the line was not a command).
    pub op: String,
    /// What it did, when applied.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub effect: Option<String>,
    /// Why not, when refused (nothing changed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
    /// Seconds into the output timeline (the input's time, continued across replacements) at
    /// which it took effect or was refused.
    pub at_s: f64,
}

impl Ack {
    /// Applied, with its effect.
    pub fn done(op: &str, at_s: f64, effect: String) -> Ack {
        Ack {
            ok: true,
            op: op.into(),
            effect: Some(effect),
            reason: None,
            at_s,
        }
    }

    /// Refused, with the reason.
    pub fn refused(op: &str, at_s: f64, reason: String) -> Ack {
        Ack {
            ok: false,
            op: op.into(),
            effect: None,
            reason: Some(reason),
            at_s,
        }
    }
}

/// Parses one line: the command, or the refusal to send back.
pub fn parse(line: &str) -> Result<Command, Ack> {
    let v: serde_json::Value = serde_json::from_str(line)
        .map_err(|e| Ack::refused("", 0.0, format!("not a JSON object: {e}")))?;
    let op = v
        .get("op")
        .and_then(|o| o.as_str())
        .unwrap_or_default()
        .to_string();
    serde_json::from_value::<Command>(v).map_err(|e| {
        let reason = if op.is_empty() {
            "no `op` (add_output, remove_output, set_bitrate, replace_input)".to_string()
        } else {
            e.to_string()
        };
        Ack::refused(&op, 0.0, reason)
    })
}

/// A command on its way to the job, and where its answer goes.
pub struct Request {
    /// The command.
    pub command: Command,
    /// Receives the answer.
    pub reply: Sender<Ack>,
}

/// Serves one stream of command lines: each parsed line goes to the job, and every answer is
/// written back as a JSON line. Returns when the stream ends or the job is gone.
pub fn serve(input: impl BufRead, mut output: impl Write, jobs: &Sender<Request>) {
    for line in input.lines() {
        let Ok(line) = line else { return };
        if line.trim().is_empty() {
            continue;
        }
        let ack = match parse(&line) {
            Err(refusal) => refusal,
            Ok(command) => {
                let (tx, rx) = bounded(1);
                let op = command.op();
                if jobs.send(Request { command, reply: tx }).is_err() {
                    Ack::refused(op, 0.0, "the job has ended".into())
                } else {
                    rx.recv()
                        .unwrap_or_else(|_| Ack::refused(op, 0.0, "the job has ended".into()))
                }
            }
        };
        let text = serde_json::to_string(&ack).expect("plain struct");
        if writeln!(output, "{text}")
            .and_then(|_| output.flush())
            .is_err()
        {
            return;
        }
    }
}

/// Commands read from this process's stdin, answered on stdout.
pub fn from_stdin() -> Receiver<Request> {
    let (tx, rx) = bounded(16);
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        serve(stdin.lock(), std::io::stdout(), &tx);
    });
    rx
}

/// A Unix socket at `path` taking connections, each a stream of command lines answered on the
/// same connection. The socket file is removed when the returned guard drops.
pub fn from_socket(path: &Path) -> std::io::Result<(Receiver<Request>, SocketGuard)> {
    use std::os::unix::net::UnixListener;
    if path.exists() {
        // A socket left by a run that died; anything else is not ours to remove.
        let meta = std::fs::symlink_metadata(path)?;
        use std::os::unix::fs::FileTypeExt;
        if !meta.file_type().is_socket() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists and is not a socket",
            ));
        }
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    let (tx, rx) = bounded(16);
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || {
                let Ok(reader) = conn.try_clone() else { return };
                serve(BufReader::new(reader), conn, &tx);
            });
        }
    });
    Ok((
        rx,
        SocketGuard {
            path: path.to_path_buf(),
        },
    ))
}

/// Removes a control socket's file when dropped.
pub struct SocketGuard {
    path: PathBuf,
}

impl Drop for SocketGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_and_bad_lines_are_refused_with_a_reason() {
        assert_eq!(
            parse(r#"{"op":"set_bitrate","output":"output[0]","bitrate_kbps":400}"#).unwrap(),
            Command::SetBitrate {
                output: "output[0]".into(),
                bitrate_kbps: 400.0
            }
        );
        match parse(r#"{"op":"add_output","output":{"path":"a.mp4","height":240}}"#).unwrap() {
            Command::AddOutput { output } => {
                assert_eq!(output.path.as_deref(), Some("a.mp4"));
                assert_eq!(output.height, Some(240));
            }
            other => panic!("{other:?}"),
        }
        let refused = parse("hello").unwrap_err();
        assert!(!refused.ok);
        assert!(refused.reason.unwrap().starts_with("not a JSON object"));
        assert_eq!(
            parse(r#"{"output":"x"}"#).unwrap_err().reason.unwrap(),
            "no `op` (add_output, remove_output, set_bitrate, replace_input)"
        );
        let e = parse(r#"{"op":"launch"}"#).unwrap_err();
        assert_eq!(e.op, "launch");
        assert!(e.reason.unwrap().contains("unknown variant `launch`"));
        let e = parse(r#"{"op":"remove_output"}"#).unwrap_err();
        assert!(e.reason.unwrap().contains("missing field `output`"));
        let e =
            parse(r#"{"op":"add_output","output":{"path":"a.mp4","colour":"red"}}"#).unwrap_err();
        assert!(e.reason.unwrap().contains("unknown field `colour`"));
    }

    #[test]
    fn a_served_stream_gets_one_answer_per_line() {
        let (tx, rx) = bounded::<Request>(4);
        // A job that applies every command.
        let job = std::thread::spawn(move || {
            for r in rx {
                let op = r.command.op();
                let _ = r.reply.send(Ack::done(op, 1.5, format!("{op} applied")));
            }
        });
        let input = "{\"op\":\"remove_output\",\"output\":\"a.mp4\"}\n\nnonsense\n";
        let mut out = Vec::new();
        serve(input.as_bytes(), &mut out, &tx);
        drop(tx);
        job.join().unwrap();
        let lines: Vec<Ack> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            lines,
            vec![
                Ack::done("remove_output", 1.5, "remove_output applied".into()),
                Ack {
                    ok: false,
                    op: String::new(),
                    effect: None,
                    reason: lines[1].reason.clone(),
                    at_s: 0.0
                }
            ]
        );
    }
}
