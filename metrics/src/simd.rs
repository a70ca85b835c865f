//! Safe SIMD plumbing for the fast kernels: runtime CPU dispatch through `pulp` (AVX2+FMA when
//! the CPU has it, portable scalar code otherwise), small load/store helpers on `f32` slices, and
//! for the kernels written with x86 operations by name, the AVX2 and AVX-512 tokens and the
//! widening load of 8-bit samples they share.
//!
//! Kernels are written once, generic over [`pulp::Simd`]; [`dispatch`] picks the widest
//! instruction set the running CPU supports. All of it is safe code.

use pulp::{Arch, Simd, WithSimd};
use std::sync::OnceLock;

/// The detected instruction set, probed once per process.
fn arch() -> Arch {
    #[cfg(test)]
    if let Some(forced) = FORCED.with(|f| f.get()) {
        return forced;
    }
    static ARCH: OnceLock<Arch> = OnceLock::new();
    *ARCH.get_or_init(Arch::new)
}

#[cfg(test)]
thread_local! {
    static FORCED: std::cell::Cell<Option<Arch>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` once per instruction set this CPU supports (portable scalar code included), with the
/// kernels dispatched to that set, and returns the results with the set's name.
#[cfg(test)]
pub(crate) fn on_every_arch<R>(mut f: impl FnMut() -> R) -> Vec<(&'static str, R)> {
    let mut arches = vec![("scalar", Arch::Scalar)];
    if let Some(v3) = pulp::x86::V3::try_new() {
        arches.push(("avx2", Arch::V3(v3)));
    }
    if let Some(v4) = pulp::x86::V4::try_new() {
        arches.push(("avx512", Arch::V4(v4)));
    }
    arches
        .into_iter()
        .map(|(name, a)| {
            FORCED.with(|c| c.set(Some(a)));
            let r = f();
            FORCED.with(|c| c.set(None));
            (name, r)
        })
        .collect()
}

/// Runs a kernel with the best instruction set of this CPU.
#[inline]
pub(crate) fn dispatch<Op: WithSimd>(op: Op) -> Op::Output {
    arch().dispatch(op)
}

/// Number of `f32` lanes in one vector of `S`.
#[inline(always)]
pub(crate) fn lanes<S: Simd>() -> usize {
    core::mem::size_of::<S::f32s>() / core::mem::size_of::<f32>()
}

/// Loads one vector from `s[i..i + lanes]` (unaligned).
#[inline(always)]
pub(crate) fn load<S: Simd>(s: &[f32], i: usize) -> S::f32s {
    S::as_simd_f32s(&s[i..i + lanes::<S>()]).0[0]
}

/// Stores one vector to `s[i..i + lanes]` (unaligned).
#[inline(always)]
pub(crate) fn store<S: Simd>(s: &mut [f32], i: usize, v: S::f32s) {
    S::as_mut_simd_f32s(&mut s[i..i + lanes::<S>()]).0[0] = v;
}

/// Sums the first `n` lanes of `v`.
#[inline(always)]
pub(crate) fn sum_first<S: Simd>(v: S::f32s, n: usize) -> f32 {
    let mut tmp = [0f32; 16];
    let l = lanes::<S>();
    store::<S>(&mut tmp[..l], 0, v);
    tmp[..n].iter().sum()
}

/// Rounds `n` up to a multiple of `m`.
#[inline(always)]
pub(crate) fn round_up(n: usize, m: usize) -> usize {
    n.div_ceil(m) * m
}

/// A zeroed `f32` work buffer taken from a per-thread pool and given back when dropped, so that
/// scoring frame after frame reuses memory instead of faulting fresh pages in on every call.
pub(crate) struct Scratch(Vec<f32>);

/// Buffers kept per thread; more are simply freed.
const POOL_SIZE: usize = 24;

thread_local! {
    static POOL: std::cell::RefCell<Vec<Vec<f32>>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl Scratch {
    /// A buffer of `len` zeros.
    pub(crate) fn zeroed(len: usize) -> Self {
        let mut v = POOL.with(|p| p.borrow_mut().pop()).unwrap_or_default();
        v.clear();
        v.resize(len, 0.0);
        Scratch(v)
    }
}

impl Clone for Scratch {
    fn clone(&self) -> Self {
        let mut s = Scratch::zeroed(self.0.len());
        s.0.copy_from_slice(&self.0);
        s
    }
}

impl std::fmt::Debug for Scratch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scratch({} samples)", self.0.len())
    }
}

impl std::ops::Deref for Scratch {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.0
    }
}

impl std::ops::DerefMut for Scratch {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let v = std::mem::take(&mut self.0);
        // During thread teardown the pool may be gone; the buffer is then just freed.
        let _ = POOL.try_with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < POOL_SIZE {
                p.push(v);
            }
        });
    }
}

/// The AVX-512 token when the kernels are dispatched to AVX-512 on this thread, for the few
/// kernels that use AVX-512 operations by name (through `pulp`'s safe wrappers). Code using it
/// runs inside [`dispatch`], so the operations are inlined into AVX-512 code.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn v4() -> Option<pulp::x86::V4> {
    match arch() {
        Arch::V4(v4) => Some(v4),
        _ => None,
    }
}

/// The AVX2 token when the kernels are dispatched to AVX2 or AVX-512 on this thread (AVX-512
/// CPUs have AVX2), for kernels written with AVX2 operations by name. Like [`v4`], for use
/// inside [`dispatch`].
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn v3() -> Option<pulp::x86::V3> {
    match arch() {
        Arch::V3(v3) => Some(v3),
        Arch::V4(v4) => Some(*v4),
        _ => None,
    }
}

/// Samples `j..j + 32` of `row`, widened to 16 bits, for the AVX-512 kernels of 8-bit planes
/// (VIF's and motion's).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(crate) fn load32_u8(v4: pulp::x86::V4, row: &[u8], j: usize) -> core::arch::x86_64::__m512i {
    let b: [u8; 32] = row[j..j + 32].try_into().expect("32 samples");
    v4.avx512bw._mm512_cvtepu8_epi16(pulp::cast(b))
}
