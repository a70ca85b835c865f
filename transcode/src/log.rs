//! FFmpeg's log messages: kept quiet by default, captured per thread so that an error can carry
//! the message the failing library printed (libx264's "Error parsing option", a demuxer's reason).
//!
//! FFmpeg logs through one process-wide callback. rdbench installs its own, which formats each
//! line and keeps the recent warnings and errors of the calling thread in a small ring; set
//! `RDBENCH_FFMPEG_LOG=info` (or `warning`, `debug`) to also print FFmpeg's lines on stderr.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::ffi::CStr;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Once;

use ffmpeg_sys_next as ffi;

const KEEP: usize = 8;

thread_local! {
    static RECENT: RefCell<VecDeque<String>> = const { RefCell::new(VecDeque::new()) };
}

/// The level at or below which lines are echoed on stderr (-1: never).
static ECHO_LEVEL: AtomicI32 = AtomicI32::new(-1);
static INSTALL: Once = Once::new();

/// Installs the capturing callback once per process.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        let echo = match std::env::var("RDBENCH_FFMPEG_LOG").ok().as_deref() {
            Some("quiet") | None => -1,
            Some("error") => ffi::AV_LOG_ERROR,
            Some("warning") => ffi::AV_LOG_WARNING,
            Some("info") => ffi::AV_LOG_INFO,
            Some("verbose") => ffi::AV_LOG_VERBOSE,
            Some(_) => ffi::AV_LOG_DEBUG,
        };
        ECHO_LEVEL.store(echo, Ordering::Relaxed);
        // SAFETY: `callback` has the signature FFmpeg expects and is safe to call from any
        // thread (it only touches a thread-local and stderr); setting the level is a plain store.
        unsafe {
            ffi::av_log_set_level(if echo >= 0 {
                echo.max(ffi::AV_LOG_WARNING)
            } else {
                ffi::AV_LOG_WARNING
            });
            ffi::av_log_set_callback(Some(callback));
        }
    });
}

unsafe extern "C" fn callback(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    vl: *mut ffi::__va_list_tag,
) {
    if level > ffi::AV_LOG_WARNING && level > ECHO_LEVEL.load(Ordering::Relaxed) {
        return;
    }
    let mut buf = [0 as c_char; 1024];
    let mut prefix: c_int = 1;
    // SAFETY: FFmpeg passes a valid format string and argument list; av_log_format_line2 writes
    // at most `buf.len()` bytes including the terminating NUL.
    unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            vl,
            buf.as_mut_ptr(),
            buf.len() as c_int,
            &mut prefix,
        );
    }
    // SAFETY: the buffer was NUL-terminated by av_log_format_line2.
    let line = unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_string_lossy()
        .trim_end()
        .to_string();
    if line.is_empty() {
        return;
    }
    if level <= ECHO_LEVEL.load(Ordering::Relaxed) {
        eprintln!("ffmpeg: {line}");
    }
    if level <= ffi::AV_LOG_WARNING {
        let _ = RECENT.try_with(|r| {
            if let Ok(mut r) = r.try_borrow_mut() {
                if r.len() == KEEP {
                    r.pop_front();
                }
                r.push_back(line);
            }
        });
    }
}

/// Forgets the messages captured so far on this thread (call before an operation whose
/// failure should be explained by its own messages only).
pub(crate) fn clear() {
    RECENT.with(|r| r.borrow_mut().clear());
}

/// The most recent warning or error FFmpeg logged on this thread, if any.
pub(crate) fn last_message() -> Option<String> {
    RECENT.with(|r| r.borrow().back().cloned())
}

/// The messages logged on this thread since the last [`clear`], oldest first, joined by "; ".
pub(crate) fn recent_messages() -> Option<String> {
    RECENT.with(|r| {
        let r = r.borrow();
        (!r.is_empty()).then(|| r.iter().cloned().collect::<Vec<_>>().join("; "))
    })
}

/// FFmpeg's description of `err`, followed by the last message FFmpeg logged on this thread.
pub(crate) fn describe(err: ffmpeg_next::Error) -> String {
    match last_message() {
        Some(msg) => format!("{err} ({msg})"),
        None => err.to_string(),
    }
}
