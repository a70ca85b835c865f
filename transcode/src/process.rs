//! Child processes the core and the harness run: how one ended ([`Exit`], with its resource
//! usage from `wait4`), waiting for, probing and killing one without losing that usage, and the
//! tail of what it printed ([`LogTail`]), and a [`Watchdog`] killing one that outlives its time
//! limit. External encoder programs and the harness's worker processes both go through here, so
//! the `unsafe` calls stay in this crate.

use std::collections::VecDeque;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crossbeam_channel::RecvTimeoutError;

/// How a finished child ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Exit {
    /// Exit code, when it exited.
    pub code: Option<i32>,
    /// Signal, when it was killed.
    pub signal: Option<i32>,
    /// User + system CPU seconds of the child and its waited-for children.
    pub cpu_s: f64,
}

impl Exit {
    /// "exit status 3", "killed by signal 11 (SIGSEGV)".
    pub fn describe(&self) -> String {
        match (self.code, self.signal) {
            (_, Some(sig)) => {
                let name = match sig {
                    libc::SIGSEGV => " (SIGSEGV)",
                    libc::SIGABRT => " (SIGABRT)",
                    libc::SIGKILL => " (SIGKILL: the out-of-memory killer or a kill -9)",
                    libc::SIGBUS => " (SIGBUS)",
                    libc::SIGFPE => " (SIGFPE)",
                    libc::SIGILL => " (SIGILL)",
                    libc::SIGTERM => " (SIGTERM)",
                    _ => "",
                };
                format!("killed by signal {sig}{name}")
            }
            (Some(c), None) => format!("exit status {c}"),
            (None, None) => "ended for an unknown reason".into(),
        }
    }
}

/// Waits for `pid` (a child of this process) and returns how it ended with its resource usage.
pub fn wait(pid: u32) -> std::io::Result<Exit> {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped; status and usage are valid for
        // writes.
        let rc = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
        if rc == pid as libc::pid_t {
            break;
        }
        let err = std::io::Error::last_os_error();
        if err.kind() != std::io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Ok(Exit {
        code,
        signal,
        cpu_s: secs(usage.ru_utime) + secs(usage.ru_stime),
    })
}

/// The last lines a child printed (stdout and stderr), kept while it runs so a full pipe never
/// blocks it.
#[derive(Clone, Default)]
pub struct LogTail(Arc<Mutex<VecDeque<String>>>);

impl LogTail {
    const KEEP: usize = 12;

    /// Starts a thread keeping the last lines of `stream`.
    pub fn follow(
        &self,
        stream: impl std::io::Read + Send + 'static,
    ) -> std::thread::JoinHandle<()> {
        let tail = self.clone();
        std::thread::spawn(move || {
            let mut r = std::io::BufReader::new(stream);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                // Progress lines end in '\r'; split on both.
                match r.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&buf);
                        for line in text.split(['\r', '\n']).map(str::trim) {
                            if line.is_empty() {
                                continue;
                            }
                            let mut t = tail.0.lock().unwrap_or_else(|p| p.into_inner());
                            t.push_back(line.to_owned());
                            while t.len() > Self::KEEP {
                                t.pop_front();
                            }
                        }
                    }
                }
            }
        })
    }

    /// The last four lines, joined by ` | `.
    pub fn text(&self) -> String {
        let t = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let lines: Vec<&str> = t.iter().rev().take(4).rev().map(String::as_str).collect();
        lines.join(" | ")
    }
}

impl LogTail {
    /// `what` followed by the child's last output, when it printed any: the one-line message of
    /// a child that failed.
    pub fn with_tail(&self, what: String) -> String {
        let tail = self.text();
        if tail.is_empty() {
            what
        } else {
            format!("{what}; its last output: {tail}")
        }
    }

    /// Forgets the lines kept so far.
    pub fn clear(&self) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Blocks until child `pid` has ended, without reaping it: the id stays ours (and its resource
/// usage unread) until [`wait`] reaps it, so a [`Watchdog`] can be disarmed in between.
pub fn wait_ended(pid: u32) -> std::io::Result<()> {
    loop {
        match peek(pid, 0) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Whether child `pid` still runs, without reaping it (its resource usage is read when it is
/// reaped by [`wait`]).
pub fn alive(pid: u32) -> bool {
    // The pid field is 0 when the child has not ended.
    matches!(peek(pid, libc::WNOHANG), Ok(0))
}

/// `waitid` on child `pid` for its end, leaving it unreaped (`WNOWAIT`), with extra `flags`;
/// the pid it reports (0 when `WNOHANG` found it running).
fn peek(pid: u32, flags: libc::c_int) -> std::io::Result<libc::pid_t> {
    // SAFETY: an all-zero siginfo_t is valid for waitid to overwrite.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waitid with WNOWAIT only looks at our own child's state; `info` is writable.
    let rc = unsafe {
        libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOWAIT | flags,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: reading the pid field waitid filled in.
    Ok(unsafe { info.si_pid() })
}

/// Sends SIGKILL to child `pid` (callers make sure it is not yet reaped, so the id is theirs).
pub fn kill(pid: u32) {
    // SAFETY: kill has no memory preconditions; the pid is the caller's unreaped child.
    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
}

/// Kills a child that outlives its time limit, unless disarmed first. The owner disarms it
/// before reaping the child, so the watchdog never signals a process id that was reused.
pub struct Watchdog {
    disarm: Option<crossbeam_channel::Sender<()>>,
    fired: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching child `pid` (not yet reaped): SIGKILL after `limit`.
    pub fn start(pid: u32, limit: Duration) -> Watchdog {
        let (tx, rx) = crossbeam_channel::bounded::<()>(1);
        let fired = Arc::new(AtomicBool::new(false));
        let flag = fired.clone();
        let thread = std::thread::spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(limit) {
                flag.store(true, Ordering::SeqCst);
                kill(pid);
            }
        });
        Watchdog {
            disarm: Some(tx),
            fired,
            thread: Some(thread),
        }
    }

    /// Whether it has killed the child.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Stops watching (waiting for the thread); whether it had killed the child.
    pub fn disarm(mut self) -> bool {
        self.stop();
        self.fired()
    }

    fn stop(&mut self) {
        // Dropping the sender wakes the thread at once with "disconnected".
        self.disarm = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Kills this process with SIGSEGV, as a crashing encoder would: fault injection for the
/// harness's tests.
pub fn raise_segfault() {
    // Rust's runtime handles SIGSEGV to report stack overflows and returns from a signal that
    // is not one; the default action must be back for the signal to kill.
    // SAFETY: resetting a signal's disposition to the default and raising it have no memory
    // preconditions.
    unsafe {
        libc::signal(libc::SIGSEGV, libc::SIG_DFL);
        libc::raise(libc::SIGSEGV);
    }
}

/// Asks the kernel to kill this process when the thread that started it ends (a worker must
/// not outlive a harness killed with SIGKILL).
pub fn die_with_parent() {
    // SAFETY: prctl(PR_SET_PDEATHSIG) takes a signal number and has no memory preconditions.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) };
}
