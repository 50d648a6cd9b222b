//! x86-64 under `std`: CPU detection, the level caches and the feature-enabled copies.
//!
//! The only `unsafe` in the crate is here: calling a `#[target_feature]` copy is unsafe
//! because running it on a CPU without those features is undefined behaviour. [`level`] only
//! ever returns a level that [`best`] found on this CPU, and [`dispatch`] calls a copy only
//! for the level [`level`] returned.
#![allow(unsafe_code)]

use super::{Isa, Kernel, Level, Portable};
use crate::Scalar;
use core::cell::Cell;
use core::sync::atomic::{AtomicU8, Ordering};

/// AVX2 + FMA: `mul_add` compiles to `vfmadd` inside the copy below.
struct Avx2Fma;

impl Isa for Avx2Fma {
    const LEVEL: Level = Level::Avx2Fma;
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

/// `k` compiled with AVX2 and FMA enabled: everything it inlines is code-generated for them.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn avx2_fma<K: Kernel>(k: K) -> K::Output {
    k.run::<Avx2Fma>()
}

/// AVX-512 (F, DQ, BW, VL) with AVX2 and FMA.
struct Avx512;

impl Isa for Avx512 {
    const LEVEL: Level = Level::Avx512;
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
    #[inline(always)]
    fn madd<S: Scalar>(a: S, b: S, c: S) -> S {
        a.fused_mul_add(b, c)
    }
    #[inline(always)]
    fn by_width<A, R>(args: A, w32: impl FnOnce(A) -> R, w64: impl FnOnce(A) -> R) -> R {
        let _ = w32;
        w64(args)
    }
}

/// `k` compiled with AVX-512 enabled.
#[inline]
#[target_feature(enable = "avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")]
fn avx512<K: Kernel>(k: K) -> K::Output {
    k.run::<Avx512>()
}

/// `k` for the baseline target, out of line like the feature-enabled copies: a kernel's stack
/// buffers then live in the frame of the copy that runs, never in the dispatching frame
/// (which would hold the portable copy's buffers while the wider copy holds its own).
#[inline(never)]
fn portable<K: Kernel>(k: K) -> K::Output {
    k.run::<Portable>()
}

/// Runs `k` through the copy for this thread's [`level`].
#[inline(always)]
pub(super) fn dispatch<K: Kernel>(k: K) -> K::Output {
    match level() {
        Level::Portable => portable(k),
        // SAFETY: `level` returns `Avx2Fma` only if `best` found AVX2 and FMA on this CPU.
        Level::Avx2Fma => unsafe { avx2_fma(k) },
        // SAFETY: `level` returns `Avx512` only if `best` found these features on this CPU.
        Level::Avx512 => unsafe { avx512(k) },
    }
}

/// The widest level the CPU supports, by `cpuid`.
fn detect() -> Level {
    let avx512 = std::is_x86_feature_detected!("avx512f")
        && std::is_x86_feature_detected!("avx512dq")
        && std::is_x86_feature_detected!("avx512bw")
        && std::is_x86_feature_detected!("avx512vl");
    if avx512 && std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        Level::Avx512
    } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        Level::Avx2Fma
    } else {
        Level::Portable
    }
}

/// Not yet detected (in the caches below).
const UNKNOWN: u8 = u8::MAX;
/// [`detect`]'s answer, cached.
static BEST: AtomicU8 = AtomicU8::new(UNKNOWN);
/// [`BEST`] capped by `SVGP_ARCH`, cached: where every thread starts.
static PROCESS: AtomicU8 = AtomicU8::new(UNKNOWN);

std::thread_local! {
    /// This thread's level: read by every dispatch (one load), set by [`with_level`].
    static CURRENT: Cell<u8> = const { Cell::new(UNKNOWN) };
}

/// The level stored as `v` (only ever a `Level as u8`).
fn from_u8(v: u8) -> Level {
    Level::ALL.into_iter().find(|l| *l as u8 == v).unwrap_or(Level::Portable)
}

pub(super) fn best() -> Level {
    match BEST.load(Ordering::Relaxed) {
        UNKNOWN => {
            let l = detect();
            BEST.store(l as u8, Ordering::Relaxed);
            l
        }
        v => from_u8(v),
    }
}

/// [`best`], capped by the level `SVGP_ARCH` names (if it names one).
fn process_level() -> Level {
    match PROCESS.load(Ordering::Relaxed) {
        UNKNOWN => {
            let cap = std::env::var("SVGP_ARCH").ok().and_then(|v| Level::from_name(v.trim()));
            let l = cap.map_or(best(), |c| c.min(best()));
            PROCESS.store(l as u8, Ordering::Relaxed);
            l
        }
        v => from_u8(v),
    }
}

#[inline(always)]
pub(super) fn level() -> Level {
    match CURRENT.get() {
        UNKNOWN => start_thread(),
        v => from_u8(v),
    }
}

/// A thread's first dispatch: start at the process level.
#[cold]
fn start_thread() -> Level {
    let l = process_level();
    CURRENT.set(l as u8);
    l
}

pub(super) fn with_level<R>(want: Level, f: impl FnOnce() -> R) -> R {
    /// Puts the previous level back when dropped (on return or unwinding).
    struct Restore(u8);
    impl Drop for Restore {
        fn drop(&mut self) {
            CURRENT.set(self.0);
        }
    }
    let _restore = Restore(CURRENT.get());
    CURRENT.set(want.min(best()) as u8);
    f()
}
