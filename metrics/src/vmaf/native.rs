//! The native VMAF scorer: the models' features computed by rdbench's kernels ([`super::vif`],
//! [`super::adm`], [`super::motion`]) and the scores predicted by [`super::model`], with values
//! equal to libvmaf 2.3.1's.
//!
//! Work per frame splits in two. The expensive part is a pure function of one frame pair: VIF and
//! ADM of the pair (once per distinct set of extractor options the models ask for: the neg model
//! limits enhancement gain to 1) and the blurred reference picture motion needs. It runs on the
//! calling thread (0 or 1 thread), or with `n >= 2` threads on the calling thread and `n - 1`
//! workers, each with kernels of its own: a frame goes to the workers while fewer than
//! `3 * (n - 1)` are with them (its two luma planes copied for them), and is scored in place,
//! uncopied, otherwise. So the calling thread works instead of waiting, no copy is made for the
//! frames it scores, memory is bounded whatever the length, and buffers come back for reuse. At
//! the end of a run it takes back the frames still queued for the workers and scores them
//! beside them, so a run ends about one frame after its last push, not two per worker.
//! The cheap part is temporal: motion compares each blurred reference with the previous one, so
//! finished frames are taken in display order. Nothing is shared between scorers: two in one
//! process do not interact.
//!
//! With subsampling (every Nth frame), VIF and ADM run on the scored frames only, the blur on
//! every frame, as libvmaf does.

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex};

use super::adm::{Adm, AdmScores};
use super::model::VmafModel;
use super::motion::{self, Blurred, Luma, Motion, MotionStep};
use super::vif::{LumaPair, Vif, VifScale};
use super::{Format, VmafError, VmafModelVersion, VmafPath, VmafResult};
use crate::frame::{FrameView, Plane, Sample};

#[cfg(test)]
thread_local! {
    /// Frames this thread took back from the workers' queue ([`NativeScorer::finish`]).
    pub(crate) static TAKEN_BACK: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// Frames a worker may hold (the one it scores and those queued for it) before the calling
/// thread scores the next frame itself. Three cover a calling thread that also decodes the
/// pictures (`rdbench metrics` does, for VMAF on workers): while it scores one 1080p frame and
/// decodes the next pair of an H.264 rung, a worker finishes about two, and with two it would
/// run dry.
const FRAMES_PER_WORKER: u32 = 3;

/// A worker thread stopped without returning every frame it took.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a VMAF worker thread stopped early: {returned} of {submitted} frames scored")]
pub struct WorkerLost {
    /// Frames handed to the workers.
    pub submitted: u32,
    /// Frames they returned.
    pub returned: u32,
}

/// Enhancement gain limits of ADM and VIF: the extractor options the models differ in.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Gains {
    adm: f64,
    vif: f64,
}

impl Gains {
    const DEFAULT: Gains = Gains {
        adm: super::model::DEFAULT_ENHN_GAIN_LIMIT,
        vif: super::model::DEFAULT_ENHN_GAIN_LIMIT,
    };

    /// The suffix libvmaf gives outputs of extractors with this option (`_egl_1`), or none for
    /// the default.
    fn suffix(value: f64) -> String {
        if value == super::model::DEFAULT_ENHN_GAIN_LIMIT {
            String::new()
        } else {
            format!("_egl_{value}")
        }
    }
}

/// One frame's VIF and ADM under one set of gain limits.
#[derive(Clone, Copy, Debug, Default)]
struct SetScores {
    vif: [VifScale; 4],
    adm: AdmScores,
}

/// The kernels of one thread: a VIF and an ADM per gain set.
struct Kernels {
    sets: Vec<(Vif, Adm)>,
}

impl Kernels {
    fn new(gains: &[Gains]) -> Self {
        Self {
            sets: gains
                .iter()
                .map(|g| (Vif::new(g.vif), Adm::new(g.adm)))
                .collect(),
        }
    }

    /// The pure per-frame work: VIF and ADM of every set when the frame is `scored`, and the
    /// reference blurred into `blurred`.
    fn work(
        &mut self,
        pair: &LumaPair<'_>,
        scored: bool,
        mut blurred: Blurred,
    ) -> (Option<Vec<SetScores>>, Blurred) {
        let scores = self.scores(pair, scored);
        motion::blur_into(&Luma::reference(pair), &mut blurred);
        (scores, blurred)
    }

    /// VIF and ADM of every set when the frame is `scored`.
    fn scores(&mut self, pair: &LumaPair<'_>, scored: bool) -> Option<Vec<SetScores>> {
        scored.then(|| {
            self.sets
                .iter_mut()
                .map(|(vif, adm)| SetScores {
                    vif: vif.score(pair),
                    adm: adm.score(pair),
                })
                .collect()
        })
    }

    /// [`Kernels::work`] of several pairs that share one reference picture, with the
    /// reference's share done once: its blur, and its side of VIF ([`Vif::scales_group`]).
    /// ADM runs per pair. The scores come in the order of `pairs`.
    fn work_group(
        &mut self,
        pairs: &[LumaPair<'_>],
        scored: bool,
        mut blurred: Blurred,
    ) -> (Option<Vec<Vec<SetScores>>>, Blurred) {
        let scores = scored.then(|| {
            let mut out = vec![Vec::with_capacity(self.sets.len()); pairs.len()];
            for (vif, adm) in &mut self.sets {
                let vifs = group_vif(vif, pairs);
                for ((o, pair), v) in out.iter_mut().zip(pairs).zip(vifs) {
                    o.push(SetScores {
                        vif: v,
                        adm: adm.score(pair),
                    });
                }
            }
            out
        });
        if let Some(first) = pairs.first() {
            motion::blur_into(&Luma::reference(first), &mut blurred);
        }
        (scores, blurred)
    }
}

/// VIF of pairs that share a reference, through [`Vif::scales_group`] (pair by pair if their
/// kinds differ, which a group from one reference never has).
fn group_vif(vif: &mut Vif, pairs: &[LumaPair<'_>]) -> Vec<[VifScale; 4]> {
    match pairs.first() {
        Some(LumaPair::Bits8(r, _)) => {
            let d: Option<Vec<Plane<'_, u8>>> = pairs
                .iter()
                .map(|p| match p {
                    LumaPair::Bits8(_, d) => Some(*d),
                    LumaPair::High(..) => None,
                })
                .collect();
            if let Some(d) = d {
                return vif.scales_group(r, &d);
            }
        }
        Some(LumaPair::High(r, _, bpc)) => {
            let d: Option<Vec<Plane<'_, u16>>> = pairs
                .iter()
                .map(|p| match p {
                    LumaPair::High(_, d, b) if b == bpc => Some(*d),
                    _ => None,
                })
                .collect();
            if let Some(d) = d {
                return vif.scales_group_hbd(r, &d, *bpc);
            }
        }
        None => return Vec::new(),
    }
    pairs.iter().map(|p| vif.score(p)).collect()
}

/// The luma planes of a pair, as the kernels take them (8-, 10- or 12-bit; the caller checked).
fn luma_pair<'a, T: Sample>(
    reference: &FrameView<'a, T>,
    distorted: &FrameView<'a, T>,
    bit_depth: u8,
) -> Option<LumaPair<'a>> {
    let (r, d) = (reference.luma(), distorted.luma());
    match bit_depth {
        8 => Some(LumaPair::Bits8(T::as_u8_plane(r)?, T::as_u8_plane(d)?)),
        _ => Some(LumaPair::High(
            T::as_u16_plane(r)?,
            T::as_u16_plane(d)?,
            bit_depth,
        )),
    }
}

/// One frame's luma planes, packed, on their way to a worker.
enum Packed {
    Bits8(Vec<u8>, Vec<u8>),
    High(Vec<u16>, Vec<u16>, u8),
}

impl Packed {
    /// The planes as a pair of `w`×`h` views (`None` if a buffer is too short).
    fn view(&self, w: usize, h: usize) -> Option<LumaPair<'_>> {
        fn packed<T: Sample>(p: &[T], w: usize, h: usize) -> Option<Plane<'_, T>> {
            Plane::new(p, w, h, w).ok()
        }
        Some(match self {
            Packed::Bits8(r, d) => LumaPair::Bits8(packed(r, w, h)?, packed(d, w, h)?),
            Packed::High(r, d, bpc) => LumaPair::High(packed(r, w, h)?, packed(d, w, h)?, *bpc),
        })
    }

    /// Copies `pair` into `spare`'s buffers (or new ones).
    fn of(pair: &LumaPair<'_>, spare: Option<Packed>) -> Packed {
        fn pack<T: Sample>(buf: &mut Vec<T>, plane: &Plane<'_, T>) {
            buf.clear();
            buf.reserve(plane.width() * plane.height());
            for row in plane.rows() {
                buf.extend_from_slice(row);
            }
        }
        match pair {
            LumaPair::Bits8(r, d) => {
                let (mut rb, mut db) = match spare {
                    Some(Packed::Bits8(rb, db)) => (rb, db),
                    _ => Default::default(),
                };
                pack(&mut rb, r);
                pack(&mut db, d);
                Packed::Bits8(rb, db)
            }
            LumaPair::High(r, d, bpc) => {
                let (mut rb, mut db) = match spare {
                    Some(Packed::High(rb, db, _)) => (rb, db),
                    _ => Default::default(),
                };
                pack(&mut rb, r);
                pack(&mut db, d);
                Packed::High(rb, db, *bpc)
            }
        }
    }
}

/// A frame for a worker.
struct Job {
    index: u32,
    scored: bool,
    planes: Packed,
    blurred: Blurred,
}

impl Job {
    /// Scores the frame with `kernels` (pictures `w`×`h`), giving its buffers back with the
    /// results; `None` if the buffers are too short for that size.
    fn run(self, kernels: &mut Kernels, w: usize, h: usize) -> Option<Done> {
        let Job {
            index,
            scored,
            planes,
            blurred,
        } = self;
        let pair = planes.view(w, h)?;
        let (scores, blurred) = kernels.work(&pair, scored, blurred);
        Some(Done {
            index,
            scores,
            blurred,
            planes: Some(planes),
        })
    }
}

/// A frame's results.
struct Done {
    index: u32,
    scores: Option<Vec<SetScores>>,
    blurred: Blurred,
    /// The buffers, back for reuse (none when computed in place).
    planes: Option<Packed>,
}

/// The worker threads and their queues.
struct Workers {
    jobs: Option<SyncSender<Job>>,
    /// The workers' end of `jobs`, shared so that the calling thread can take back jobs no
    /// worker has started ([`NativeScorer::finish`]).
    queue: Arc<Mutex<Receiver<Job>>>,
    done: Receiver<Done>,
    handles: Vec<std::thread::JoinHandle<()>>,
}

impl Workers {
    /// `threads` workers with kernels for `gains`; `None` if no thread could be started.
    fn start(threads: usize, gains: &[Gains], w: usize, h: usize) -> Option<Self> {
        let queued = threads * (FRAMES_PER_WORKER as usize - 1);
        let (jobs, queue) = sync_channel::<Job>(queued);
        let queue = Arc::new(Mutex::new(queue));
        let (done_tx, done): (Sender<Done>, Receiver<Done>) = channel();
        let handles: Vec<_> = (0..threads)
            .filter_map(|_| {
                let queue = queue.clone();
                let done = done_tx.clone();
                let gains = gains.to_vec();
                std::thread::Builder::new()
                    .name("rdbench-vmaf".into())
                    .spawn(move || {
                        let mut kernels = Kernels::new(&gains);
                        loop {
                            // One worker at a time waits for the next job; the lock is
                            // released as soon as it has one.
                            let job = match queue.lock() {
                                Ok(q) => q.recv(),
                                Err(_) => return,
                            };
                            let Ok(job) = job else { return };
                            let Some(out) = job.run(&mut kernels, w, h) else {
                                return;
                            };
                            if done.send(out).is_err() {
                                return;
                            }
                        }
                    })
                    .ok()
            })
            .collect();
        (!handles.is_empty()).then_some(Self {
            jobs: Some(jobs),
            queue,
            done,
            handles,
        })
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the queue lets every worker finish its job and stop.
        self.jobs = None;
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Where a frame's work runs.
enum Runner {
    /// On the calling thread, inside `push`.
    Inline(Kernels),
    /// On worker threads, and on the calling thread (with its kernels) when they have enough.
    Pool(Workers, Kernels),
}

/// A model and the gain set its features come from.
struct LoadedModel {
    name: String,
    model: VmafModel,
    set: usize,
}

/// The native scorer (see the module documentation). [`super::VmafScorer`] creates it where its
/// values equal libvmaf's.
pub struct NativeScorer {
    format: Format,
    gains: Vec<Gains>,
    models: Vec<LoadedModel>,
    /// Gain sets whose outputs are reported (every set: each is a model's or an explicit
    /// feature's).
    n_subsample: u32,
    runner: Runner,
    path: VmafPath,
    /// Frames pushed, handed to the runner, and returned by it.
    frames: u32,
    returned: u32,
    /// Finished frames waiting for the earlier ones (workers finish out of order).
    waiting: BTreeMap<u32, Done>,
    motion: Motion,
    /// Per frame: motion, and motion2 once known.
    motion_scores: Vec<f64>,
    motion2: Vec<Option<f64>>,
    /// Per scored frame (index / n_subsample): the sets' scores.
    scored: Vec<Vec<SetScores>>,
    spare_blurred: Vec<Blurred>,
    spare_planes: Vec<Packed>,
    /// Scratch rows for motion's blur in place ([`Motion::push_in_place`]).
    band: Vec<u16>,
}

impl std::fmt::Debug for NativeScorer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeScorer")
            .field("format", &self.format.to_string())
            .field(
                "models",
                &self.models.iter().map(|m| &m.name).collect::<Vec<_>>(),
            )
            .field("frames", &self.frames)
            .finish()
    }
}

impl NativeScorer {
    /// A scorer of `models` (and of the explicit native features `explicit`: `adm`, `motion`,
    /// `vif`, with default options) on pictures of `format`, on `threads` worker threads (0 and
    /// 1: in `push`), scoring every `n_subsample`th frame; `path` is what its result reports.
    pub(crate) fn new(
        models: &[VmafModelVersion],
        explicit: &[&str],
        format: Format,
        threads: u32,
        n_subsample: u32,
        path: VmafPath,
    ) -> Self {
        let mut gains: Vec<Gains> = Vec::new();
        let mut set_of = |g: Gains| match gains.iter().position(|x| *x == g) {
            Some(i) => i,
            None => {
                gains.push(g);
                gains.len() - 1
            }
        };
        let models: Vec<LoadedModel> = models
            .iter()
            .map(|&v| {
                let model = VmafModel::builtin(v);
                let o = model.options();
                let set = set_of(Gains {
                    adm: o.adm_enhn_gain_limit,
                    vif: o.vif_enhn_gain_limit,
                });
                LoadedModel {
                    name: v.name().to_string(),
                    model,
                    set,
                }
            })
            .collect();
        if explicit.iter().any(|f| *f == "adm" || *f == "vif") {
            set_of(Gains::DEFAULT);
        }
        let runner = if threads >= 2 {
            Workers::start(threads as usize - 1, &gains, format.w, format.h)
                .map(|w| Runner::Pool(w, Kernels::new(&gains)))
        } else {
            None
        }
        .unwrap_or_else(|| Runner::Inline(Kernels::new(&gains)));
        Self {
            format,
            gains,
            models,
            n_subsample: n_subsample.max(1),
            runner,
            path,
            frames: 0,
            returned: 0,
            waiting: BTreeMap::new(),
            motion: Motion::new(false),
            motion_scores: Vec::new(),
            motion2: Vec::new(),
            scored: Vec::new(),
            spare_blurred: Vec::new(),
            spare_planes: Vec::new(),
            band: Vec::new(),
        }
    }

    /// Which code scores the run.
    pub fn path(&self) -> &VmafPath {
        &self.path
    }

    /// Frames handed to worker threads and not returned yet.
    pub fn in_flight(&self) -> u32 {
        self.frames - self.returned
    }

    /// Scores the next frame pair (reference, distorted).
    pub fn push<T: Sample>(
        &mut self,
        reference: &FrameView<'_, T>,
        distorted: &FrameView<'_, T>,
    ) -> Result<(), VmafError> {
        Format::check_pair(Some(self.format), self.frames, reference, distorted)?;
        let pair = luma_pair(reference, distorted, self.format.bit_depth)
            .expect("the native path takes 8-, 10- and 12-bit pictures in matching words");
        let index = self.frames;
        let scored = index % self.n_subsample == 0;
        // Frames the workers finished, so that the count of those still with them is current.
        self.collect(false);
        if let Runner::Inline(kernels) = &mut self.runner {
            // In order, on this thread: motion blurs over the previous frame's picture.
            let scores = kernels.scores(&pair, scored);
            let step = self
                .motion
                .push_in_place(&Luma::reference(&pair), &mut self.band)
                .expect("the format is checked above");
            self.frames += 1;
            self.returned += 1;
            self.record(step, scores);
            return Ok(());
        }
        let blurred = self.spare_blurred.pop().unwrap_or_default();
        let in_place = match &self.runner {
            Runner::Inline(_) => unreachable!("an inline runner scored the frame above"),
            Runner::Pool(workers, _) => {
                self.frames - self.returned >= FRAMES_PER_WORKER * workers.handles.len() as u32
            }
        };
        match &mut self.runner {
            Runner::Pool(_, kernels) if in_place => {
                let (scores, blurred) = kernels.work(&pair, scored, blurred);
                self.frames += 1;
                self.returned += 1;
                self.take(Done {
                    index,
                    scores,
                    blurred,
                    planes: None,
                });
            }
            Runner::Inline(_) => unreachable!("an inline runner scored the frame above"),
            Runner::Pool(workers, _) => {
                let planes = Packed::of(&pair, self.spare_planes.pop());
                let job = Job {
                    index,
                    scored,
                    planes,
                    blurred,
                };
                let sent = workers.jobs.as_ref().is_some_and(|j| j.send(job).is_ok());
                if !sent {
                    return Err(self.lost());
                }
                self.frames += 1;
                self.collect(false);
            }
        }
        Ok(())
    }

    /// Scores the next frame of several scorers whose distorted pictures share one reference:
    /// `distorted[i]` goes to `members[i]`. When every member scores on its calling thread with
    /// the same options and is at a frame it scores, the first member's kernels compute the
    /// frame for all with the reference's work done once ([`Kernels::work_group`]); otherwise
    /// each member scores its pair alone. The values are those of scoring each pair alone.
    pub(crate) fn push_group<T: Sample>(
        members: &mut [&mut NativeScorer],
        reference: &FrameView<'_, T>,
        distorted: &[&FrameView<'_, T>],
    ) -> Result<(), VmafError> {
        assert_eq!(
            members.len(),
            distorted.len(),
            "one distorted picture per member"
        );
        let Some(first) = members.first() else {
            return Ok(());
        };
        let scored = |m: &NativeScorer| m.frames % m.n_subsample == 0;
        let together = members.len() > 1
            && members.iter().all(|m| {
                matches!(m.runner, Runner::Inline(_))
                    && m.gains == first.gains
                    && m.format == first.format
                    && scored(m) == scored(first)
            });
        if !together {
            for (m, d) in members.iter_mut().zip(distorted) {
                m.push(reference, d)?;
            }
            return Ok(());
        }
        let mut pairs = Vec::with_capacity(members.len());
        for (m, d) in members.iter().zip(distorted) {
            Format::check_pair(Some(m.format), m.frames, reference, d)?;
            pairs.push(
                luma_pair(reference, d, m.format.bit_depth)
                    .expect("the native path takes 8-, 10- and 12-bit pictures in matching words"),
            );
        }
        let is_scored = scored(first);
        let head = &mut members[0];
        let blurred = head.spare_blurred.pop().unwrap_or_default();
        let Runner::Inline(kernels) = &mut head.runner else {
            unreachable!("checked above")
        };
        let (scores, blurred) = kernels.work_group(&pairs, is_scored, blurred);
        let mut scores = scores.map(Vec::into_iter);
        for m in members.iter_mut() {
            let index = m.frames;
            m.frames += 1;
            m.returned += 1;
            let mut mine = m.spare_blurred.pop().unwrap_or_default();
            mine.clone_from(&blurred);
            m.take(Done {
                index,
                scores: scores.as_mut().and_then(Iterator::next),
                blurred: mine,
                planes: None,
            });
        }
        // The shared blur goes back to the first member's spares.
        if let Some(m) = members.first_mut() {
            m.spare_blurred.push(blurred);
        }
        Ok(())
    }

    fn lost(&self) -> VmafError {
        VmafError::Worker(WorkerLost {
            submitted: self.frames,
            returned: self.returned,
        })
    }

    /// Scores on this thread the frames still queued for the workers, so that at the end of a
    /// run this thread works beside them instead of waiting for them. A queue that is locked is
    /// one a worker waits on, empty, or is taking a job from.
    fn take_back(&mut self) {
        let (w, h) = (self.format.w, self.format.h);
        loop {
            let Runner::Pool(workers, kernels) = &mut self.runner else {
                return;
            };
            let job = match workers.queue.try_lock() {
                Ok(queue) => queue.try_recv().ok(),
                Err(_) => None,
            };
            let Some(job) = job else { return };
            #[cfg(test)]
            TAKEN_BACK.with(|n| n.set(n.get() + 1));
            let Some(done) = job.run(kernels, w, h) else {
                return;
            };
            self.returned += 1;
            self.take(done);
        }
    }

    /// Takes finished frames from the workers: those ready now, or (`wait`) all outstanding.
    fn collect(&mut self, wait: bool) {
        while self.returned < self.frames {
            let Runner::Pool(workers, _) = &self.runner else {
                return;
            };
            let next = if wait {
                workers.done.recv().ok()
            } else {
                workers.done.try_recv().ok()
            };
            let Some(done) = next else { return };
            self.returned += 1;
            self.take(done);
        }
    }

    /// Files a finished frame and runs motion over every frame now complete in order.
    fn take(&mut self, mut done: Done) {
        if let Some(p) = done.planes.take() {
            self.spare_planes.push(p);
        }
        self.waiting.insert(done.index, done);
        while let Some(done) = self.waiting.remove(&self.motion.frames()) {
            let step = self
                .motion
                .push(Some(done.blurred))
                .expect("every frame is blurred, at the format checked at push");
            self.record(step, done.scores);
        }
    }

    /// Keeps the scores of the frame motion has just taken.
    fn record(&mut self, step: MotionStep, scores: Option<Vec<SetScores>>) {
        self.motion_scores.push(step.motion);
        self.motion2.push(None);
        if let Some((i, m2)) = step.motion2 {
            self.motion2[i as usize] = Some(m2);
        }
        if let Some(b) = step.spare {
            self.spare_blurred.push(b);
        }
        if let Some(s) = scores {
            self.scored.push(s);
        }
    }

    /// Waits for every frame and returns the per-frame scores and features, named as libvmaf's
    /// `vmaf` tool names them.
    pub fn finish(mut self) -> Result<VmafResult, VmafError> {
        if self.frames == 0 {
            return Err(VmafError::NoFrames);
        }
        if let Runner::Pool(workers, _) = &mut self.runner {
            workers.jobs = None;
        }
        self.take_back();
        self.collect(true);
        if self.returned != self.frames || !self.waiting.is_empty() {
            return Err(self.lost());
        }
        let motion = std::mem::take(&mut self.motion);
        if let Some((i, m2)) = motion.finish() {
            self.motion2[i as usize] = Some(m2);
        }
        let frame_indices: Vec<u32> = (0..self.frames)
            .filter(|i| i % self.n_subsample == 0)
            .collect();
        let motion2: Vec<f64> = frame_indices
            .iter()
            .map(|&i| self.motion2[i as usize].unwrap_or(0.0))
            .collect();

        let mut features: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let column = |f: &dyn Fn(&SetScores) -> f64, set: usize| -> Vec<f64> {
            self.scored.iter().map(|s| f(&s[set])).collect()
        };
        for (set, g) in self.gains.iter().enumerate() {
            let adm = Gains::suffix(g.adm);
            let vif = Gains::suffix(g.vif);
            features.insert(format!("integer_adm2{adm}"), column(&|s| s.adm.adm2, set));
            for k in 0..4 {
                features.insert(
                    format!("integer_adm_scale{k}{adm}"),
                    column(&|s| s.adm.scales[k], set),
                );
                features.insert(
                    format!("integer_vif_scale{k}{vif}"),
                    column(&|s| s.vif[k].score(), set),
                );
            }
        }
        features.insert(
            "integer_motion".into(),
            frame_indices
                .iter()
                .map(|&i| self.motion_scores[i as usize])
                .collect(),
        );
        features.insert("integer_motion2".into(), motion2.clone());

        let mut models = BTreeMap::new();
        for m in &self.models {
            let scores: Vec<f64> = self
                .scored
                .iter()
                .zip(&motion2)
                .map(|(s, &motion2)| {
                    let s = &s[m.set];
                    m.model.predict(&super::model::VmafFeatures {
                        adm2: s.adm.adm2,
                        motion2,
                        vif: s.vif.map(|v| v.score()),
                    })
                })
                .collect();
            models.insert(m.name.clone(), scores);
        }
        let per_frame = self
            .models
            .first()
            .map(|m| models[&m.name].clone())
            .unwrap_or_default();
        Ok(VmafResult {
            frame_indices,
            per_frame,
            models,
            features,
            frames_pushed: self.frames,
            path: self.path.clone(),
        })
    }
}
