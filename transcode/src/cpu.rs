//! CPU time per task: each thread's own CPU clock, and the threads an FFmpeg library spawns for a
//! task (encoder worker pools, frame-threaded decoders) attributed to that task.
//!
//! A task reads its thread's clock (`CLOCK_THREAD_CPUTIME_ID`) around its own work, so several
//! serial tasks sharing one thread are each charged only their part. Library threads are found by
//! listing `/proc/self/task` before and after the calls that create them (opening a codec, its
//! first frames), under a process-wide lock so that two tasks never claim each other's threads.
//! Their clocks are read before the codec is closed, while the threads still exist. A library
//! that starts threads later than its first frames is under-counted; none of the first-class
//! encoders does.
//!
//! [`InstructionCounter`] counts the user-space instructions a thread and every thread it starts
//! retire (a hardware counter through `perf_event_open`, inherited by new threads): a speed
//! figure free of timing noise, where the kernel and the machine provide the counter.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard};

/// CPU seconds used so far by the calling thread.
pub fn thread_cpu_s() -> f64 {
    clock_s(libc::CLOCK_THREAD_CPUTIME_ID).unwrap_or(0.0)
}

/// CPU seconds used so far by the whole process (all threads).
pub fn process_cpu_s() -> f64 {
    clock_s(libc::CLOCK_PROCESS_CPUTIME_ID).unwrap_or(0.0)
}

fn clock_s(clock: libc::clockid_t) -> Option<f64> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes to it.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    (rc == 0).then(|| ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
}

/// CPU seconds used so far by thread `tid` of this process, or None once it has exited.
fn tid_cpu_s(tid: i32) -> Option<f64> {
    // Linux encodes a per-thread CPU clock as ((~tid) << 3) | CPUCLOCK_PERTHREAD_MASK | CPUCLOCK_SCHED.
    let clock = ((!tid) << 3) | 4 | 2;
    clock_s(clock as libc::clockid_t)
}

/// The ids of this process's threads.
fn threads() -> BTreeSet<i32> {
    std::fs::read_dir("/proc/self/task")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

static SPAWN_LOCK: Mutex<()> = Mutex::new(());

/// Threads a library created on behalf of one task.
#[derive(Debug, Default)]
pub struct HelperThreads {
    tids: BTreeSet<i32>,
}

/// A window during which any new thread of the process belongs to the task that opened it.
pub struct SpawnWindow<'a> {
    before: BTreeSet<i32>,
    into: &'a mut HelperThreads,
    _lock: MutexGuard<'static, ()>,
}

impl HelperThreads {
    /// Opens a window: threads created until the window is dropped are attributed to `self`.
    pub fn watch(&mut self) -> SpawnWindow<'_> {
        let lock = SPAWN_LOCK
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        SpawnWindow {
            before: threads(),
            into: self,
            _lock: lock,
        }
    }

    /// CPU seconds used so far by the attributed threads (call before the library stops them).
    pub fn cpu_s(&self) -> f64 {
        self.tids.iter().filter_map(|&t| tid_cpu_s(t)).sum::<f64>()
    }

    /// How many threads are attributed.
    pub fn count(&self) -> usize {
        self.tids.len()
    }
}

impl Drop for SpawnWindow<'_> {
    fn drop(&mut self) {
        let me = {
            // SAFETY: gettid has no preconditions.
            unsafe { libc::syscall(libc::SYS_gettid) as i32 }
        };
        for tid in threads() {
            if tid != me && !self.before.contains(&tid) {
                self.into.tids.insert(tid);
            }
        }
    }
}

/// `struct perf_event_attr` up to `config1` (PERF_ATTR_SIZE_VER0, 64 bytes), which every kernel
/// since 2.6.31 accepts.
#[repr(C)]
#[derive(Default)]
struct PerfEventAttr {
    kind: u32,
    size: u32,
    config: u64,
    sample_period: u64,
    sample_type: u64,
    read_format: u64,
    flags: u64,
    wakeup_events: u32,
    bp_type: u32,
    config1: u64,
}

const PERF_TYPE_HARDWARE: u32 = 0;
const PERF_COUNT_HW_INSTRUCTIONS: u64 = 1;
const FLAG_DISABLED: u64 = 1 << 0;
const FLAG_INHERIT: u64 = 1 << 1;
const FLAG_EXCLUDE_KERNEL: u64 = 1 << 5;
const FLAG_EXCLUDE_HV: u64 = 1 << 6;
const PERF_EVENT_IOC_ENABLE: libc::c_ulong = 0x2400;

/// A running count of the user-space instructions retired by the thread that started it and by
/// every thread started after it from that thread (or from those threads). Threads that are
/// still running when it is read are not yet included: read it after they have been joined.
#[derive(Debug)]
pub struct InstructionCounter {
    fd: libc::c_int,
}

impl InstructionCounter {
    /// Starts counting on the calling thread, or says why the machine cannot count (no hardware
    /// counter in this virtual machine, `perf_event_paranoid` too strict, ...).
    pub fn start() -> Result<InstructionCounter, String> {
        let attr = PerfEventAttr {
            kind: PERF_TYPE_HARDWARE,
            size: std::mem::size_of::<PerfEventAttr>() as u32,
            config: PERF_COUNT_HW_INSTRUCTIONS,
            flags: FLAG_DISABLED | FLAG_INHERIT | FLAG_EXCLUDE_KERNEL | FLAG_EXCLUDE_HV,
            ..Default::default()
        };
        // SAFETY: perf_event_open reads `attr.size` bytes from a valid, initialised
        // PerfEventAttr; pid 0 and cpu -1 mean "this thread, any processor"; no group fd.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_perf_event_open,
                &attr as *const PerfEventAttr,
                0 as libc::pid_t,
                -1 as libc::c_int,
                -1 as libc::c_int,
                0 as libc::c_ulong,
            )
        } as libc::c_int;
        if fd < 0 {
            let err = std::io::Error::last_os_error();
            let why = match err.raw_os_error() {
                Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) | Some(libc::ENODEV) => {
                    "this machine has no hardware instruction counter (a virtual machine without PMU passthrough?)".to_string()
                }
                Some(libc::EACCES) | Some(libc::EPERM) => {
                    "the kernel refuses hardware counters to this user (kernel.perf_event_paranoid)".to_string()
                }
                _ => format!("perf_event_open failed: {err}"),
            };
            return Err(format!("instructions not counted: {why}"));
        }
        // SAFETY: `fd` is the perf event just opened; ENABLE takes no argument.
        let rc = unsafe { libc::ioctl(fd, PERF_EVENT_IOC_ENABLE as _, 0) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            // SAFETY: `fd` is ours and closed once.
            unsafe { libc::close(fd) };
            return Err(format!(
                "instructions not counted: enabling the counter failed: {err}"
            ));
        }
        Ok(InstructionCounter { fd })
    }

    /// Reads the count and stops counting.
    pub fn finish(self) -> Result<u64, String> {
        let mut value: u64 = 0;
        // SAFETY: reading 8 bytes (the count; read_format 0) into a valid u64 from our fd.
        let n = unsafe {
            libc::read(
                self.fd,
                &mut value as *mut u64 as *mut libc::c_void,
                std::mem::size_of::<u64>(),
            )
        };
        if n != std::mem::size_of::<u64>() as isize {
            return Err(format!(
                "instructions not counted: reading the counter failed: {}",
                std::io::Error::last_os_error()
            ));
        }
        Ok(value)
    }
}

impl Drop for InstructionCounter {
    fn drop(&mut self) {
        // SAFETY: `fd` was opened by `start` and is closed only here.
        unsafe { libc::close(self.fd) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spin(seconds: f64) {
        let start = thread_cpu_s();
        let mut x = 0u64;
        while thread_cpu_s() - start < seconds {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            std::hint::black_box(x);
        }
    }

    #[test]
    fn instruction_counts_grow_with_work_or_say_why_not() {
        match InstructionCounter::start() {
            Ok(c) => {
                spin(0.02);
                let worker = std::thread::spawn(|| spin(0.02));
                worker.join().unwrap();
                let n = c.finish().unwrap();
                assert!(n > 1_000_000, "{n} instructions for 40 ms of work");
            }
            Err(why) => {
                // Where the machine has no counter, the reason is a sentence for the record.
                assert!(why.starts_with("instructions not counted: "), "{why}");
                assert!(!why.contains('\n'));
            }
        }
    }

    #[test]
    fn thread_clock_counts_only_this_thread() {
        let t0 = thread_cpu_s();
        // Another thread burning CPU must not show up in this thread's clock.
        let other = std::thread::spawn(|| spin(0.2));
        other.join().unwrap();
        assert!(
            thread_cpu_s() - t0 < 0.1,
            "thread clock charged another thread's work"
        );
        spin(0.05);
        assert!(thread_cpu_s() - t0 >= 0.05);
    }

    #[test]
    fn threads_spawned_in_a_window_are_attributed() {
        let mut helpers = HelperThreads::default();
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let worker = {
            let _w = helpers.watch();
            std::thread::spawn(move || {
                spin(0.1);
                rx.recv().ok();
            })
        };
        // Other tests may start threads at the same time; at least ours must be seen.
        assert!(helpers.count() >= 1);
        std::thread::sleep(std::time::Duration::from_millis(300));
        let cpu = helpers.cpu_s();
        tx.send(()).unwrap();
        worker.join().unwrap();
        assert!(
            cpu >= 0.1,
            "helper thread CPU {cpu} below the 0.1 s it burned"
        );
    }
}
