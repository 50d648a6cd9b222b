//! The CPU's SIMD levels and the one run-time dispatcher for the hot loops.
//!
//! This is the only module with `unsafe` code and the only one that asks the CPU what it can
//! do. The hot kernels elsewhere (gemm, Cholesky, triangular solves, the RBF block, the
//! [`fastmath`](crate::fastmath) slice functions) are written once, as plain Rust marked
//! `#[inline(always)]`, and run through the dispatcher. It inlines them into one copy per
//! [`Level`], each compiled with that level's CPU features enabled (`#[target_feature]`), and
//! picks the copy at run time from the CPU's features (detected once per process). LLVM then
//! vectorises the same source for each copy's registers (256-bit ones for AVX2, 512-bit ones
//! for AVX-512: LLVM's generic x86-64 tuning does not cap the vector width at 256 bits, and
//! the disassembly of the AVX-512 copies shows `zmm` registers throughout).
//!
//! **Multiply–add.** Rust never fuses `a * b + c` by itself, so a kernel that writes its
//! arithmetic out gives the same bits on every level. A kernel that wants fused multiply-adds
//! is generic over `Isa` and calls `Isa::mul_add` (the f64 sine/cosine and tanh polynomials:
//! one rounding on a level with FMA, two on the portable one) or `Isa::madd` (the matrix
//! kernels' tiles: fused on AVX-512 only, so the AVX2 path keeps its numbers). Its results
//! may then differ in the last bits between levels; `fastmath` documents bounds that hold for
//! every level, and `tests/arch_paths.rs` checks each level against the portable one.
//!
//! **Where it applies.** With the `std` feature on x86-64 there are three levels,
//! [`Level::Portable`] (the baseline target, SSE2), [`Level::Avx2Fma`] and [`Level::Avx512`].
//! Under `no_std` (no CPU detection there) and on other targets every call runs the portable
//! code directly.
//!
//! **Writing kernels for every level.** Two things the AVX-512 copies taught (measured on
//! Zen 4): a short loop over a register tile's rows is what LLVM's loop vectoriser picks
//! there, with masks, gathers and scatters and the tile in memory (30× slower), so tile rows
//! are written out (`linalg`'s `unrolled!`); and strided stores are vectorised as scatters,
//! slower than scalar stores, so transposing copies are out of line, compiled for the
//! baseline (`linalg`'s `transpose_into`).
//!
//! **Choosing the path** (to compare paths in tests and benchmarks):
//! - [`level`] says which copy runs on this thread; [`best`] what the CPU supports.
//! - The environment variable `SVGP_ARCH`, read once per process at the first dispatch,
//!   caps the level for the whole process, worker threads included: `SVGP_ARCH=portable cargo
//!   bench …` runs the portable copies. Its values are the level names ([`Level::name`]); an
//!   unknown value is ignored.
//! - [`with_level`] runs a closure with the calling thread's dispatch at a chosen level (tests
//!   comparing paths side by side; threads the closure starts keep the process level).
//!
//! **Adding a level** is local to this module: a variant in [`Level`] (in order) with its
//! name, and in `x86.rs` its detection, its `Isa` and its feature-enabled copy, plus one arm
//! in its `dispatch`; kernels that pick tile shapes by level (the product engine, the
//! Cholesky) do so through `Isa::by_width`. `tests/arch_paths.rs` compares every level the CPU has with
//! the portable one. Each copy, the portable one included, is its own out-of-line function,
//! so a kernel's stack buffers live in the frame of the copy that runs only.

use crate::Scalar;
use core::fmt;

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86;

/// A code path of the dispatcher: a set of CPU features its copies are compiled for.
///
/// Ordered from the plainest to the widest, so `a < b` means "b needs more of the CPU".
///
/// ```
/// use svgp::arch::{self, Level};
/// assert!(Level::Portable < Level::Avx2Fma && Level::Avx2Fma < Level::Avx512);
/// assert!(arch::level() <= arch::best());
/// assert_eq!(Level::from_name(Level::Avx2Fma.name()), Some(Level::Avx2Fma));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum Level {
    /// The baseline target (SSE2 on x86-64); the only level under `no_std` and off x86-64.
    Portable,
    /// x86-64 with AVX2 and FMA: 256-bit vectors and fused multiply-adds.
    Avx2Fma,
    /// x86-64 with AVX-512 (F, DQ, BW, VL) on top of AVX2 and FMA: 512-bit vectors, 32 vector
    /// registers and mask registers.
    Avx512,
}

impl Level {
    /// Every level, from the plainest to the widest.
    pub const ALL: [Level; 3] = [Level::Portable, Level::Avx2Fma, Level::Avx512];

    /// The level's name, as [`level`] reports it and `SVGP_ARCH` accepts it.
    pub fn name(self) -> &'static str {
        match self {
            Level::Portable => "portable",
            Level::Avx2Fma => "avx2+fma",
            Level::Avx512 => "avx512",
        }
    }

    /// The level with this [`name`](Level::name), if any.
    pub fn from_name(name: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.name() == name)
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The level the dispatcher runs on this thread (for benchmarks and reports).
///
/// ```
/// let l = svgp::arch::level();
/// println!("hot loops compiled for {l}");
/// ```
#[inline]
pub fn level() -> Level {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return x86::level();
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    Level::Portable
}

/// The widest level this build can use on this CPU, whatever `SVGP_ARCH` or [`with_level`] say.
pub fn best() -> Level {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return x86::best();
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    Level::Portable
}

/// Runs `f` with this thread's dispatch at `level` (whatever `SVGP_ARCH` says), or at [`best`]
/// if the CPU lacks `level`, then restores the previous level (also when `f` panics).
/// Threads that `f` starts are not affected. For comparing code paths in tests and benchmarks.
///
/// ```
/// use svgp::arch::{self, Level};
/// let x = [0.5, 1.0, 2.0];
/// let (mut s0, mut c0, mut s1, mut c1) = ([0.0; 3], [0.0; 3], [0.0; 3], [0.0; 3]);
/// arch::with_level(Level::Portable, || svgp::fastmath::sin_cos_slice(&x, &mut s0, &mut c0));
/// arch::with_level(arch::best(), || svgp::fastmath::sin_cos_slice(&x, &mut s1, &mut c1));
/// for i in 0..3 {
///     assert!((s0[i] - s1[i]).abs() <= 2.0 * f64::EPSILON); // at most the last bit apart
/// }
/// ```
pub fn with_level<R>(level: Level, f: impl FnOnce() -> R) -> R {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return x86::with_level(level, f);
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    {
        let _ = level;
        f()
    }
}

/// What a kernel may ask of the level it is compiled for.
pub(crate) trait Isa {
    /// The level whose copy this is (read by the tests; kernels pick shapes with
    /// [`Isa::by_width`]).
    #[allow(dead_code)]
    const LEVEL: Level;
    /// `a·b + c` in f64: rounded once on a level with FMA, twice otherwise. (The f32 kernels
    /// never fuse, so their results match the FPU-only firmware's bit for bit.)
    fn mul_add(a: f64, b: f64, c: f64) -> f64;
    /// `c + a·b` as the matrix kernels (products, Cholesky panels) accumulate it: fused
    /// ([`Scalar::fused_mul_add`]) on [`Level::Avx512`], whose cores may issue multiplies and
    /// adds on the same ports (Intel), so a fused one doubles the peak; written out on the
    /// other levels, which keeps their results those of the plain loops (the AVX2 path's
    /// numbers predate this level).
    #[inline(always)]
    fn madd<S: Scalar>(a: S, b: S, c: S) -> S {
        c + a * b
    }
    /// `w32(args)` on levels whose vector registers hold at most 32 bytes, `w64(args)` on
    /// those with 64-byte ones (AVX-512): how kernels pick tile shapes per level. Only the
    /// chosen closure is compiled into a level's copy (an unoptimised build would otherwise
    /// keep the locals of every level's shapes in each copy's frame).
    #[inline(always)]
    fn by_width<A, R>(args: A, w32: impl FnOnce(A) -> R, w64: impl FnOnce(A) -> R) -> R {
        let _ = w64;
        w32(args)
    }
}

/// The portable level: `a·b + c` rounded twice, as written.
pub(crate) struct Portable;

impl Isa for Portable {
    const LEVEL: Level = Level::Portable;
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// A computation the dispatcher compiles once per level.
pub(crate) trait Kernel {
    /// What the computation returns.
    type Output;
    /// Runs it with `I` as the level's instruction set. Implementations are marked
    /// `#[inline(always)]`, so the whole computation lands in the feature-enabled copy.
    fn run<I: Isa>(self) -> Self::Output;
}

/// Runs `k` through the copy for the current [`level`] (see the module docs).
#[inline(always)]
pub(crate) fn dispatch<K: Kernel>(k: K) -> K::Output {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    return x86::dispatch(k);
    #[cfg(not(all(feature = "std", target_arch = "x86_64")))]
    k.run::<Portable>()
}

/// A closure as a [`Kernel`] that does not ask for its level.
struct Closure<F>(F);

impl<R, F: FnOnce() -> R> Kernel for Closure<F> {
    type Output = R;
    #[inline(always)]
    fn run<I: Isa>(self) -> R {
        (self.0)()
    }
}

/// Runs `f` through [`dispatch`]. `f` should be a closure marked `#[inline(always)]` that calls
/// `#[inline(always)]` kernels, so that the whole computation is inlined into each copy.
#[inline(always)]
pub(crate) fn simd<R>(f: impl FnOnce() -> R) -> R {
    dispatch(Closure(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_levels_are_ordered() {
        for (i, l) in Level::ALL.into_iter().enumerate() {
            assert_eq!(Level::from_name(l.name()), Some(l));
            assert_eq!(l as usize, i);
        }
        assert_eq!(Level::from_name("sse9"), None);
        assert!(level() <= best());
    }

    #[test]
    fn with_level_sets_this_thread_and_restores() {
        let before = level();
        let inside = with_level(Level::Portable, level);
        assert_eq!(inside, Level::Portable);
        assert_eq!(with_level(Level::Avx2Fma, level), best().min(Level::Avx2Fma));
        assert_eq!(level(), before);
        // Restored after a panic too.
        #[cfg(feature = "std")]
        #[allow(clippy::panic)]
        {
            let r =
                std::panic::catch_unwind(|| with_level(Level::Portable, || -> u8 { std::panic!("boom") }));
            assert!(r.is_err());
            assert_eq!(level(), before);
        }
    }

    #[test]
    fn dispatch_runs_the_current_level() {
        struct WhichLevel;
        impl Kernel for WhichLevel {
            type Output = (Level, f64);
            fn run<I: Isa>(self) -> (Level, f64) {
                (I::LEVEL, I::mul_add(0.1, 10.0, -1.0))
            }
        }
        let (l, v) = with_level(Level::Portable, || dispatch(WhichLevel));
        assert_eq!(l, Level::Portable);
        assert_eq!(v, 0.1 * 10.0 - 1.0); // two roundings: 0.1·10 rounds to 1 exactly
        let (l, v) = with_level(best(), || dispatch(WhichLevel));
        assert_eq!(l, best());
        if best() >= Level::Avx2Fma {
            assert_eq!(v, f64::EPSILON / 4.0); // one rounding: 0.1·10 − 1 is 2^-54
        }
        assert_eq!(simd(|| 2 + 2), 4);
    }
}
