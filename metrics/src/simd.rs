//! Safe SIMD plumbing for the fast kernels: runtime CPU dispatch through `pulp` (AVX2+FMA when
//! the CPU has it, portable scalar code otherwise) and small load/store helpers on `f32` slices.
//!
//! Kernels are written once, generic over [`pulp::Simd`]; [`dispatch`] picks the widest
//! instruction set the running CPU supports. All of it is safe code.

use pulp::{Arch, Simd, WithSimd};
use std::sync::OnceLock;

/// The detected instruction set, probed once per process.
fn arch() -> Arch {
    static ARCH: OnceLock<Arch> = OnceLock::new();
    *ARCH.get_or_init(Arch::new)
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
