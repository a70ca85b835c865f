//! Tasks and how they run: every step of a flow (decode, filter, encode, mux) is a [`Task`], and
//! a task runs either **serial** (inline, on the thread of whoever hands it an item) or
//! **parallel** (on its own thread, fed through a bounded queue). Stages connect through the
//! [`Sink`] trait, so a chain reads the same whichever way each task runs.
//!
//! In VOD mode a full queue blocks its producer (back-pressure). In live mode a parallel task
//! drops an incoming item when its queue already holds `live_drop_threshold` items, and counts
//! the drop in its stats.
//!
//! Each stage measures its task's own work: wall and CPU time (the thread's CPU clock) spent in
//! the task, excluding time spent handing items downstream, so serial tasks that share a thread
//! are each charged their part. A task's errors are recorded in its pipeline's [`PipelineState`]
//! and reported upstream as [`Error::Disconnected`]: the branch stops, siblings go on.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{bounded, Sender};
use serde::Serialize;

use crate::cpu;
use crate::error::{Error, Result};
use crate::spec::RunMode;

/// Something that takes items: the next stage of a flow.
pub trait Sink<T>: Send {
    /// Hands one item downstream.
    fn push(&mut self, item: T) -> Result<()>;
    /// Signals the end of the stream and waits until everything downstream has finished.
    fn close(&mut self) -> Result<()>;
}

/// One step of a flow.
pub trait Task: Send + 'static {
    /// What the task consumes.
    type In: Send + 'static;
    /// What the task produces.
    type Out: Send + 'static;
    /// Consumes one item, handing any output to `out`.
    fn process(&mut self, item: Self::In, out: &mut dyn Sink<Self::Out>) -> Result<()>;
    /// Drains what the task still holds at the end of the stream.
    fn finish(&mut self, out: &mut dyn Sink<Self::Out>) -> Result<()>;
    /// Adds task-specific figures (packets, bytes, helper-thread CPU) to its stats. Called once,
    /// after `finish`, before the task is dropped.
    fn report(&mut self, _stats: &mut TaskStats) {}
}

/// What a task did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TaskStats {
    /// The task's name, e.g. `encode[1] libx264`.
    pub name: String,
    /// The kind: demux, decode, filter, encode, mux.
    pub kind: &'static str,
    /// Serial or parallel.
    pub parallel: bool,
    /// Items received.
    pub frames_in: u64,
    /// Items handed downstream.
    pub frames_out: u64,
    /// Items dropped (live mode, frame-rate sampling).
    pub dropped: u64,
    /// Wall seconds from the first item to the end of `finish`.
    pub wall_s: f64,
    /// Wall seconds spent inside the task (excluding downstream work).
    pub busy_s: f64,
    /// CPU seconds of the task's own work on its thread(s), plus threads its library spawned.
    pub cpu_s: f64,
    /// The part of `cpu_s` spent on threads the task's library spawned (encoder or decoder
    /// worker threads), as opposed to the thread that ran the task.
    pub helper_cpu_s: f64,
    /// CPU seconds the core spent around an external encoder program (streaming its input,
    /// reading back its bitstream), kept apart from the program's own `cpu_s`.
    pub overhead_cpu_s: f64,
    /// Bytes the task wrote or produced (encoded bytes for an encoder, file size for a muxer).
    pub bytes_out: u64,
    /// Corrupt packets skipped (decoders).
    pub corrupt: u64,
    /// Every packet an encoder produced, in output order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packets: Vec<PacketRecord>,
}

/// One encoded packet.
#[derive(Clone, Copy, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct PacketRecord {
    /// Bytes.
    pub size: u32,
    /// Presentation time in seconds.
    pub pts_s: f64,
    /// Decode time in seconds.
    pub dts_s: f64,
    /// Duration in seconds (0 when unknown).
    pub duration_s: f64,
    /// A keyframe.
    pub key: bool,
    /// Picture type as the encoder reported it: 'I', 'P', 'B', or '?' when it did not say.
    pub pict_type: char,
}

/// Serial or parallel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Inline in the caller.
    Serial,
    /// Own thread, bounded queue.
    Parallel,
}

/// The queueing rules of a job.
#[derive(Clone, Copy, Debug)]
pub struct QueuePolicy {
    /// Items a parallel task's queue holds.
    pub capacity: usize,
    /// VOD or live.
    pub mode: RunMode,
    /// In live mode, the queue length at which items are dropped.
    pub live_drop_threshold: usize,
}

impl Default for QueuePolicy {
    fn default() -> Self {
        QueuePolicy {
            capacity: 8,
            mode: RunMode::Vod,
            live_drop_threshold: 6,
        }
    }
}

/// The shared fate of one pipeline (one output): the first error any of its tasks hit.
#[derive(Debug, Default)]
pub struct PipelineState {
    failed: AtomicBool,
    errors: Mutex<Vec<Error>>,
    stats: Mutex<Vec<TaskStats>>,
}

impl PipelineState {
    /// A fresh state.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Records an error (the first one is the pipeline's result); `Disconnected` is ignored.
    pub fn fail(&self, err: Error) {
        self.failed.store(true, Ordering::SeqCst);
        if !matches!(err, Error::Disconnected) {
            self.errors
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(err);
        }
    }

    /// Whether any task of the pipeline failed.
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Takes the recorded errors, first first.
    pub fn take_errors(&self) -> Vec<Error> {
        std::mem::take(&mut *self.errors.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Records a finished task's stats.
    pub fn add_stats(&self, stats: TaskStats) {
        self.stats
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(stats);
    }

    /// Takes the stats of the finished tasks.
    pub fn take_stats(&self) -> Vec<TaskStats> {
        std::mem::take(&mut *self.stats.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A sink that throws everything away (the packets of a first pass).
pub struct NullSink;

impl<T: Send> Sink<T> for NullSink {
    fn push(&mut self, _item: T) -> Result<()> {
        Ok(())
    }
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// Wraps the downstream sink to count items and time spent downstream.
struct Downstream<'a, T> {
    inner: &'a mut dyn Sink<T>,
    count: u64,
    wall_s: f64,
    cpu_s: f64,
}

impl<T: Send> Sink<T> for Downstream<'_, T> {
    fn push(&mut self, item: T) -> Result<()> {
        let (w, c) = (Instant::now(), cpu::thread_cpu_s());
        let r = self.inner.push(item);
        self.wall_s += w.elapsed().as_secs_f64();
        self.cpu_s += cpu::thread_cpu_s() - c;
        self.count += 1;
        r
    }
    fn close(&mut self) -> Result<()> {
        self.inner.close()
    }
}

/// A task with its downstream, run inline by whoever pushes to it.
pub struct Stage<T: Task> {
    task: T,
    next: Box<dyn Sink<T::Out>>,
    stats: TaskStats,
    state: Arc<PipelineState>,
    first: Option<Instant>,
    dead: bool,
    drops: Option<Arc<AtomicU64>>,
}

impl<T: Task> Stage<T> {
    /// A serial stage of `task` feeding `next`, reporting into `state`.
    pub fn new(
        task: T,
        name: String,
        kind: &'static str,
        next: Box<dyn Sink<T::Out>>,
        state: Arc<PipelineState>,
    ) -> Self {
        Stage {
            task,
            next,
            stats: TaskStats {
                name,
                kind,
                ..Default::default()
            },
            state,
            first: None,
            dead: false,
            drops: None,
        }
    }

    fn run<R>(&mut self, f: impl FnOnce(&mut T, &mut dyn Sink<T::Out>) -> Result<R>) -> Result<R> {
        let (w, c) = (Instant::now(), cpu::thread_cpu_s());
        let mut down = Downstream {
            inner: self.next.as_mut(),
            count: 0,
            wall_s: 0.0,
            cpu_s: 0.0,
        };
        let r = f(&mut self.task, &mut down);
        let (dw, dc, n) = (down.wall_s, down.cpu_s, down.count);
        self.stats.busy_s += w.elapsed().as_secs_f64() - dw;
        self.stats.cpu_s += cpu::thread_cpu_s() - c - dc;
        self.stats.frames_out += n;
        r
    }
}

impl<T: Task> Sink<T::In> for Stage<T> {
    fn push(&mut self, item: T::In) -> Result<()> {
        if self.dead {
            return Err(Error::Disconnected);
        }
        if self.state.failed() {
            // A sibling flow of this pipeline failed: stop doing work for it.
            self.dead = true;
            return Err(Error::Disconnected);
        }
        self.first.get_or_insert_with(Instant::now);
        self.stats.frames_in += 1;
        match self.run(|task, out| task.process(item, out)) {
            Ok(()) => Ok(()),
            Err(e) => {
                self.dead = true;
                self.state.fail(e);
                Err(Error::Disconnected)
            }
        }
    }

    fn close(&mut self) -> Result<()> {
        let start = *self.first.get_or_insert_with(Instant::now);
        if !self.dead && !self.state.failed() {
            if let Err(e) = self.run(|task, out| task.finish(out)) {
                self.state.fail(e);
            }
        }
        self.stats.wall_s = start.elapsed().as_secs_f64();
        if let Some(d) = &self.drops {
            self.stats.dropped += d.load(Ordering::Relaxed);
        }
        self.task.report(&mut self.stats);
        let closed = self.next.close();
        self.state.add_stats(std::mem::take(&mut self.stats));
        if let Err(e) = closed {
            self.state.fail(e);
        }
        if self.state.failed() {
            Err(Error::Disconnected)
        } else {
            Ok(())
        }
    }
}

/// The producer's end of a parallel stage: a bounded queue to the stage's thread.
pub struct Queue<I: Send + 'static> {
    tx: Option<Sender<I>>,
    handle: Option<JoinHandle<()>>,
    drops: Arc<AtomicU64>,
    live_threshold: Option<usize>,
    name: String,
    state: Arc<PipelineState>,
}

/// Starts `stage` on its own thread behind a queue, and returns the queue's sink.
pub fn spawn<T: Task>(mut stage: Stage<T>, policy: QueuePolicy) -> Queue<T::In> {
    let (tx, rx) = bounded::<T::In>(policy.capacity.max(1));
    let drops = Arc::new(AtomicU64::new(0));
    stage.drops = Some(drops.clone());
    stage.stats.parallel = true;
    let name = stage.stats.name.clone();
    let state = stage.state.clone();
    let handle = std::thread::Builder::new()
        .name(thread_name(&name))
        .spawn(move || {
            for item in rx.iter() {
                if stage.push(item).is_err() {
                    break;
                }
            }
            drop(rx);
            let _ = stage.close();
        })
        .expect("spawning a task thread");
    Queue {
        tx: Some(tx),
        handle: Some(handle),
        drops,
        live_threshold: (policy.mode == RunMode::Live).then_some(policy.live_drop_threshold.max(1)),
        name,
        state,
    }
}

fn thread_name(task: &str) -> String {
    let mut n: String = task
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(15)
        .collect();
    if n.is_empty() {
        n.push_str("rdbench-task");
    }
    n
}

impl<I: Send + 'static> Sink<I> for Queue<I> {
    fn push(&mut self, item: I) -> Result<()> {
        let tx = self.tx.as_ref().ok_or(Error::Disconnected)?;
        if let Some(limit) = self.live_threshold {
            if tx.len() >= limit {
                self.drops.fetch_add(1, Ordering::Relaxed);
                return Ok(());
            }
        }
        tx.send(item).map_err(|_| Error::Disconnected)
    }

    fn close(&mut self) -> Result<()> {
        self.tx = None;
        if let Some(h) = self.handle.take() {
            if h.join().is_err() {
                self.state.fail(Error::TaskPanicked {
                    task: self.name.clone(),
                });
            }
        }
        if self.state.failed() {
            Err(Error::Disconnected)
        } else {
            Ok(())
        }
    }
}

impl<I: Send + 'static> Drop for Queue<I> {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Builds a stage in the given mode.
pub fn stage<T: Task>(
    mode: Mode,
    policy: QueuePolicy,
    task: T,
    name: String,
    kind: &'static str,
    next: Box<dyn Sink<T::Out>>,
    state: Arc<PipelineState>,
) -> Box<dyn Sink<T::In>> {
    let s = Stage::new(task, name, kind, next, state);
    match mode {
        Mode::Serial => Box::new(s),
        Mode::Parallel => Box::new(spawn(s, policy)),
    }
}

/// Fans items out to several branches (one per pipeline). A branch that fails is dropped; the
/// others go on. Items are shared through `Clone`, which for frames is a new reference to the
/// same buffers.
pub struct Tee<T: Clone + Send> {
    branches: Vec<Option<Box<dyn Sink<T>>>>,
}

impl<T: Clone + Send> Tee<T> {
    /// A tee over `branches`.
    pub fn new(branches: Vec<Box<dyn Sink<T>>>) -> Self {
        Tee {
            branches: branches.into_iter().map(Some).collect(),
        }
    }

    /// Whether any branch is still alive.
    pub fn alive(&self) -> bool {
        self.branches.iter().any(Option::is_some)
    }
}

impl<T: Clone + Send> Sink<T> for Tee<T> {
    fn push(&mut self, item: T) -> Result<()> {
        let live: Vec<usize> = (0..self.branches.len())
            .filter(|&i| self.branches[i].is_some())
            .collect();
        let Some((&last, rest)) = live.split_last() else {
            return Err(Error::Disconnected);
        };
        let mut item = Some(item);
        for &i in rest.iter().chain(std::iter::once(&last)) {
            let this = if i == last {
                item.take().expect("item moved once")
            } else {
                item.as_ref().expect("item kept").clone()
            };
            if let Some(b) = self.branches[i].as_mut() {
                if b.push(this).is_err() {
                    // The branch recorded its own error; close it so its tasks release resources.
                    let mut b = self.branches[i].take().expect("branch present");
                    let _ = b.close();
                }
            }
        }
        if self.alive() {
            Ok(())
        } else {
            Err(Error::Disconnected)
        }
    }

    fn close(&mut self) -> Result<()> {
        for b in self.branches.iter_mut() {
            if let Some(mut b) = b.take() {
                let _ = b.close();
            }
        }
        Ok(())
    }
}

/// A sink shared by several producers (the video and audio flows feeding one muxer). The inner
/// sink is closed when the last producer closes.
pub struct Shared<T: Send> {
    inner: Arc<Mutex<SharedInner<T>>>,
    closed: bool,
}

struct SharedInner<T> {
    sink: Box<dyn Sink<T>>,
    open: usize,
}

impl<T: Send + 'static> Shared<T> {
    /// `producers` handles onto `sink`.
    pub fn split(sink: Box<dyn Sink<T>>, producers: usize) -> Vec<Shared<T>> {
        let inner = Arc::new(Mutex::new(SharedInner {
            sink,
            open: producers,
        }));
        (0..producers)
            .map(|_| Shared {
                inner: inner.clone(),
                closed: false,
            })
            .collect()
    }
}

impl<T: Send> Sink<T> for Shared<T> {
    fn push(&mut self, item: T) -> Result<()> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sink
            .push(item)
    }

    fn close(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.open -= 1;
        if g.open == 0 {
            g.sink.close()
        } else {
            Ok(())
        }
    }
}

impl<T: Send> Drop for Shared<T> {
    fn drop(&mut self) {
        let _ = Sink::close(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Doubles numbers; fails on 13.
    struct Double;
    impl Task for Double {
        type In = u32;
        type Out = u32;
        fn process(&mut self, item: u32, out: &mut dyn Sink<u32>) -> Result<()> {
            if item == 13 {
                return Err(Error::Spec {
                    field: "x".into(),
                    message: "thirteen".into(),
                });
            }
            out.push(item * 2)
        }
        fn finish(&mut self, out: &mut dyn Sink<u32>) -> Result<()> {
            out.push(0)
        }
    }

    /// Collects into a shared vector; sleeps a little per item when slow.
    struct Collect(Arc<Mutex<Vec<u32>>>, u64);
    impl Sink<u32> for Collect {
        fn push(&mut self, item: u32) -> Result<()> {
            if self.1 > 0 {
                std::thread::sleep(std::time::Duration::from_millis(self.1));
            }
            self.0.lock().unwrap().push(item);
            Ok(())
        }
        fn close(&mut self) -> Result<()> {
            Ok(())
        }
    }

    fn chain(
        mode: Mode,
        policy: QueuePolicy,
        delay_ms: u64,
    ) -> (Box<dyn Sink<u32>>, Arc<Mutex<Vec<u32>>>, Arc<PipelineState>) {
        let out = Arc::new(Mutex::new(Vec::new()));
        let state = PipelineState::new();
        let s = stage(
            mode,
            policy,
            Double,
            "double".into(),
            "filter",
            Box::new(Collect(out.clone(), delay_ms)),
            state.clone(),
        );
        (s, out, state)
    }

    #[test]
    fn serial_and_parallel_give_the_same_output_in_order() {
        for mode in [Mode::Serial, Mode::Parallel] {
            let (mut s, out, state) = chain(mode, QueuePolicy::default(), 0);
            for i in 1..=100 {
                s.push(i + 100).unwrap();
            }
            s.close().unwrap();
            let got = out.lock().unwrap().clone();
            assert_eq!(got.len(), 101, "{mode:?}");
            assert_eq!(got[..3], [202, 204, 206]);
            assert_eq!(*got.last().unwrap(), 0, "finish output comes last");
            let stats = state.take_stats();
            assert_eq!(
                (stats[0].frames_in, stats[0].frames_out, stats[0].parallel),
                (100, 101, mode == Mode::Parallel)
            );
        }
    }

    #[test]
    fn an_error_is_recorded_and_stops_the_branch() {
        for mode in [Mode::Serial, Mode::Parallel] {
            let (mut s, _out, state) = chain(mode, QueuePolicy::default(), 0);
            let mut stopped = false;
            for i in 1..=1000 {
                if s.push(i).is_err() {
                    stopped = true;
                    break;
                }
            }
            assert!(s.close().is_err());
            assert!(stopped, "{mode:?}: producer never saw the failure");
            let errs = state.take_errors();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].to_string(), "x: thirteen");
        }
    }

    #[test]
    fn live_mode_drops_and_counts_when_the_queue_is_full() {
        let policy = QueuePolicy {
            capacity: 8,
            mode: RunMode::Live,
            live_drop_threshold: 4,
        };
        let (mut s, out, state) = chain(Mode::Parallel, policy, 5);
        for i in 1..=200 {
            s.push(i + 100).unwrap();
        }
        s.close().unwrap();
        let got = out.lock().unwrap().len() as u64 - 1;
        let stats = state.take_stats();
        assert!(stats[0].dropped > 0, "nothing dropped");
        assert_eq!(
            got + stats[0].dropped,
            200,
            "every item is either delivered or counted as dropped"
        );
    }

    #[test]
    fn vod_mode_applies_back_pressure_and_drops_nothing() {
        let policy = QueuePolicy {
            capacity: 2,
            mode: RunMode::Vod,
            live_drop_threshold: 1,
        };
        let (mut s, out, state) = chain(Mode::Parallel, policy, 1);
        for i in 1..=50 {
            s.push(i + 100).unwrap();
        }
        s.close().unwrap();
        assert_eq!(out.lock().unwrap().len(), 51);
        assert_eq!(state.take_stats()[0].dropped, 0);
    }

    #[test]
    fn a_tee_keeps_healthy_branches_when_one_fails() {
        let (a, out_a, state_a) = chain(Mode::Parallel, QueuePolicy::default(), 0);
        let (b, out_b, state_b) = chain(Mode::Serial, QueuePolicy::default(), 0);
        // Branch b fails at 13 (Double refuses it); a is fed the same numbers plus 100.
        struct Offset(Box<dyn Sink<u32>>, u32);
        impl Sink<u32> for Offset {
            fn push(&mut self, item: u32) -> Result<()> {
                self.0.push(item + self.1)
            }
            fn close(&mut self) -> Result<()> {
                self.0.close()
            }
        }
        let mut tee = Tee::new(vec![Box::new(Offset(a, 100)), b]);
        for i in 1..=20 {
            tee.push(i).unwrap();
        }
        tee.close().unwrap();
        assert_eq!(out_a.lock().unwrap().len(), 21);
        assert_eq!(out_b.lock().unwrap().len(), 12);
        assert!(!state_a.failed());
        assert!(state_b.failed());
    }
}

/// A tee whose branches change while it runs (a live job's outputs join and leave). Cloned
/// handles share the branches; closing a handle closes nothing (an input that ends may be
/// followed by another): the owner closes the branches with [`Branches::close_all`].
pub struct Branches<T> {
    inner: Arc<Mutex<Vec<(usize, Box<dyn Sink<T>>)>>>,
}

impl<T> Clone for Branches<T> {
    fn clone(&self) -> Self {
        Branches {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone + Send> Default for Branches<T> {
    fn default() -> Self {
        Branches {
            inner: Arc::new(Mutex::new(Vec::new())),
        }
    }
}

impl<T: Clone + Send> Branches<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(usize, Box<dyn Sink<T>>)>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds the branch of output `id`; it receives the next item.
    pub fn add(&self, id: usize, sink: Box<dyn Sink<T>>) {
        self.lock().push((id, sink));
    }

    /// Takes the branch of output `id` out (the caller closes it).
    pub fn remove(&self, id: usize) -> Option<Box<dyn Sink<T>>> {
        let mut b = self.lock();
        let at = b.iter().position(|(i, _)| *i == id)?;
        Some(b.remove(at).1)
    }

    /// Closes every branch, waiting for each to finish.
    pub fn close_all(&self) {
        let all = std::mem::take(&mut *self.lock());
        for (_, mut b) in all {
            let _ = b.close();
        }
    }
}

impl<T: Clone + Send> Sink<T> for Branches<T> {
    fn push(&mut self, item: T) -> Result<()> {
        let mut b = self.lock();
        let n = b.len();
        let mut item = Some(item);
        let mut failed = Vec::new();
        for (k, (id, sink)) in b.iter_mut().enumerate() {
            let this = if k + 1 == n {
                item.take().expect("item moved once")
            } else {
                item.as_ref().expect("item kept").clone()
            };
            if sink.push(this).is_err() {
                failed.push(*id);
            }
        }
        // A branch that failed recorded its own error; it is closed so its tasks end.
        for id in failed {
            if let Some(at) = b.iter().position(|(i, _)| *i == id) {
                let (_, mut sink) = b.remove(at);
                let _ = sink.close();
            }
        }
        // No branch is not an error: outputs may still be added.
        Ok(())
    }

    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}
