//! Run-time CPU dispatch for the hot loops.
//!
//! The kernels are written once, generically, and marked `#[inline(always)]`. [`simd`] runs a
//! closure over them either as plain code (the baseline target, and always under `no_std`) or
//! inlined into a copy compiled with AVX2 + FMA enabled, chosen once per process from the CPU's
//! features. LLVM then vectorises the same source with 256-bit registers. The unsafe surface is
//! one call, guarded by the detection.

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod x86 {
    use core::sync::atomic::{AtomicU8, Ordering};

    /// 0 = not yet detected, 1 = baseline only, 2 = AVX2 + FMA available.
    static LEVEL: AtomicU8 = AtomicU8::new(0);

    /// Whether the CPU has AVX2 and FMA, detected on first use and cached.
    #[inline]
    pub(crate) fn has_avx2_fma() -> bool {
        match LEVEL.load(Ordering::Relaxed) {
            0 => {
                let yes = std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma");
                LEVEL.store(if yes { 2 } else { 1 }, Ordering::Relaxed);
                yes
            }
            l => l == 2,
        }
    }

    /// `f()` compiled with AVX2 + FMA: everything `f` inlines (the `#[inline(always)]` kernels)
    /// is code-generated for those features.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(crate) fn run_avx2<R>(f: impl FnOnce() -> R) -> R {
        f()
    }
}

/// Runs `f` through the fastest code path the CPU supports (see the module docs).
///
/// `f` should be a closure marked `#[inline(always)]` that calls `#[inline(always)]` kernels,
/// so that the whole computation is inlined into the feature-enabled copy.
#[inline(always)]
pub(crate) fn simd<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::has_avx2_fma() {
        // SAFETY: `run_avx2` only requires the `avx2` and `fma` CPU features, and
        // `has_avx2_fma` has just confirmed (via cpuid) that this CPU has both.
        #[allow(unsafe_code)]
        return unsafe { x86::run_avx2(f) };
    }
    f()
}

/// Whether the AVX2 + FMA copies are in use on this machine (for benchmarks and reports).
///
/// ```
/// let level = svgp::linalg::simd_level();
/// assert!(level == "avx2+fma" || level == "baseline");
/// ```
pub fn simd_level() -> &'static str {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    if x86::has_avx2_fma() {
        return "avx2+fma";
    }
    "baseline"
}

/// √x for use inside [`simd`] closures.
///
/// `Scalar::sqrt` goes through `libm`, whose x86 square root is an inline-asm *legacy-SSE*
/// `sqrtsd`; executed between 256-bit AVX instructions it stalls badly (measured: Cholesky
/// became slower in the AVX2 copy than in the baseline one). With `std`, `f32`/`f64` use the
/// compiler's own square root instead, which is encoded to match the surrounding code.
#[inline(always)]
pub(crate) fn sqrt<S: crate::Scalar>(x: S) -> S {
    #[cfg(feature = "std")]
    {
        use core::any::Any;
        let any: &dyn Any = &x;
        if let Some(&v) = any.downcast_ref::<f64>() {
            let r = v.sqrt();
            if let Some(&r) = (&r as &dyn Any).downcast_ref::<S>() {
                return r;
            }
        }
        if let Some(&v) = any.downcast_ref::<f32>() {
            let r = v.sqrt();
            if let Some(&r) = (&r as &dyn Any).downcast_ref::<S>() {
                return r;
            }
        }
    }
    x.sqrt()
}
