//! Branch-free sine and cosine for whole slices, written so the compiler vectorises them.
//!
//! The random-feature maps evaluate cos on every entry of an n × J matrix (160 k entries
//! for the flagship's 630 points × 256 features, every training step); a libm call per
//! entry costs more than the rest of the feature map. These kernels do the same work in
//! straight-line arithmetic that the compiler turns into SIMD:
//!
//! 1. **Range reduction** (Cody–Waite): j = nearest integer to x·2/π (by the
//!    add-and-subtract-1.5·2^p trick, which also leaves j mod 4 in the low mantissa bits),
//!    then r + rr = x − j·π/2 as an unevaluated sum, with π/2 split into parts whose
//!    products with j are exact (three 33-bit parts plus a tail for f64, fdlibm's split;
//!    three 12-bit parts plus a tail for f32) and the subtractions done by TwoSum. An error
//!    term is non-zero only when its subtraction did not cancel (when its result is about r),
//!    so r + rr is accurate far below an ulp of r, even next to a multiple of π/2. Slices
//!    whose every |x| ≤ [`F64_SMALL_LIMIT`] (typical random-feature arguments) use a split
//!    into two 47-bit parts instead, which needs one TwoSum rather than three.
//! 2. **Polynomials** on |r| ≤ π/4 with the tail rr folded in: fdlibm's minimax
//!    `__kernel_sin`/`__kernel_cos` for f64 (the ones musl's and Rust's `libm` use), Cephes'
//!    `sinf`/`cosf` coefficients for f32, evaluated in f32 only (no f64 on a Cortex-M4F).
//! 3. **Quadrant**: j mod 4 swaps sin and cos and flips signs, by bit operations.
//!
//! Outside the reduction's valid range (|x| > [`F64_FAST_LIMIT`] or
//! [`F32_FAST_LIMIT`], and for NaN/±∞) the slice functions fall back to `libm`, element by
//! element. The arithmetic is written once over a `MulAdd` policy: with the `std` feature on
//! an x86-64 CPU with AVX2 and FMA, the f64 slice functions run a copy compiled for those
//! features with fused multiply-adds; everywhere else (and in the one-value functions) `a·b + c`
//! is rounded twice, so results are bit-identical across targets without FMA and may differ
//! in the last bit with it. Both variants are held to the same documented bound.
//!
//! Accuracy, asserted by `tests/fastmath_accuracy.rs` over ~800 k f64 and ~500 k f32 inputs
//! (uniform on several ranges, log-uniform magnitudes, every neighbour of k·π/2, the range
//! edges): f64 sin and cos within [`F64_MAX_ULP`] ulp of `libm` (measured: unfused, cos
//! identical to `libm` at every test point and sin at most 1 ulp away; fused, both at most
//! 1 ulp away; `libm` itself is within 1 ulp of the exact value); f32 within [`F32_MAX_ULP`]
//! ulp of the exact value (measured: 0.85 ulp); f64 tanh within [`TANH_F64_MAX_ULP`] ulp of
//! `libm`. Cost: about 50–70 operations per sin/cos pair, vectorised (2–8 lanes); on the
//! development machine (AVX2 + FMA) about 3.5 ns per f64 entry against ~20 ns for
//! `libm::sincos`.

// Coefficients are quoted verbatim from fdlibm and Cephes (more digits than a double holds;
// the literals round to the intended values).
#![allow(clippy::excessive_precision)]

pub(crate) mod exp;

use core::any::{Any, TypeId};
use core::f64::consts::FRAC_2_PI;

/// f64 inputs with |x| ≤ this take the polynomial path (j < 2^19 keeps j·(π/2 part) exact).
pub const F64_FAST_LIMIT: f64 = 8.0e5;
/// f32 inputs with |x| ≤ this take the polynomial path (j < 2^12 keeps j·(π/2 part) exact).
pub const F32_FAST_LIMIT: f32 = 6.0e3;
/// Largest distance of the f64 kernels from `libm`'s sin and cos, in ulp, over |x| ≤
/// [`F64_FAST_LIMIT`] (asserted over the test set).
pub const F64_MAX_ULP: f64 = 1.0;
/// Largest error of the f32 kernels against the exact value, in ulp, over |x| ≤
/// [`F32_FAST_LIMIT`] (asserted over the test set).
pub const F32_MAX_ULP: f64 = 1.0;

// ---- f64 ----

/// The sign bit of an f64.
const SIGN64: u64 = 1 << 63;
/// 1.5·2^52: adding it rounds to an integer and leaves that integer in the low mantissa bits.
const SHIFT64: f64 = 6_755_399_441_055_744.0;
// π/2 = P1 + P2 + P3 + P3T (fdlibm's split; P1..P3 have 33 significant bits).
const PIO2_1: f64 = 1.570_796_326_734_125_614_17e0;
const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11;
const PIO2_3: f64 = 2.022_266_248_711_166_455_80e-21;
const PIO2_3T: f64 = 8.478_427_660_368_899_569_97e-32;
/// f64 slices whose every |x| is at most this (so |j| ≤ 63) take a cheaper reduction
/// (π/2 in two 47-bit parts plus a tail: one TwoSum instead of three), same accuracy.
pub const F64_SMALL_LIMIT: f64 = 99.0;
// π/2 = S1 + S2 + S3 with S1, S2 of at most 47 significant bits (exact products with |j| < 64).
const PIO2_S1: f64 = 1.5707963267948912;
const PIO2_S2: f64 = 5.390302858158081e-15;
const PIO2_S3: f64 = 3.7950107727212256e-29;
// fdlibm __kernel_sin.
const S1: f64 = -1.666_666_666_666_663_243_48e-1;
const S2: f64 = 8.333_333_333_322_489_461_24e-3;
const S3: f64 = -1.984_126_982_985_794_931_34e-4;
const S4: f64 = 2.755_731_370_707_006_767_89e-6;
const S5: f64 = -2.505_076_025_340_686_341_95e-8;
const S6: f64 = 1.589_690_995_211_550_102_21e-10;
// fdlibm __kernel_cos.
const C1: f64 = 4.166_666_666_666_660_190_37e-2;
const C2: f64 = -1.388_888_888_887_410_957_49e-3;
const C3: f64 = 2.480_158_728_947_672_941_78e-5;
const C4: f64 = -2.755_731_435_139_066_330_35e-7;
const C5: f64 = 2.087_572_321_298_174_827_90e-9;
const C6: f64 = -1.135_964_755_778_819_482_65e-11;

/// `a + b = s + e` exactly (Knuth's TwoSum; no ordering assumption, no branches).
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// How the kernels evaluate `a·b + c`: rounded twice (any target) or fused (x86-64 with FMA).
pub(crate) trait MulAdd {
    /// a·b + c.
    fn mul_add(a: f64, b: f64, c: f64) -> f64;
}

/// Two roundings: `a * b + c` as written (Rust never fuses it by itself).
pub(crate) struct Unfused;

impl MulAdd for Unfused {
    #[inline(always)]
    fn mul_add(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// `a + b = s + e` exactly when |a| ≥ |b| (Dekker's Fast2Sum).
#[inline(always)]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// (sin x, cos x) for |x| ≤ [`F64_FAST_LIMIT`] (or ≤ `F64_SMALL_LIMIT` when `SMALL`), no
/// branches (garbage but no UB beyond the limit).
#[inline(always)]
fn sin_cos_core_f64<M: MulAdd, const SMALL: bool>(x: f64) -> (f64, f64) {
    let shifted = M::mul_add(x, FRAC_2_PI, SHIFT64);
    let q = shifted.to_bits();
    let j = shifted - SHIFT64;
    // r + rr = x − j·π/2: every product is exact, each TwoSum too, and an error term is
    // non-zero only when its sum is about the size of r (see the module docs).
    let (r, rr) = if SMALL {
        // |j| < 2^6: two 47-bit parts of π/2 keep every product exact; one TwoSum, then a
        // Fast2Sum: |t| ≤ ulp(s)/2 + 2^-87 ≤ |s|, as no double within the fast range comes
        // closer than 2^-60.5 to a multiple of π/2 (the closest is the one next to 29·π/2).
        let (s, e) = two_sum(M::mul_add(-j, PIO2_S1, x), -(j * PIO2_S2));
        fast_two_sum(s, M::mul_add(-j, PIO2_S3, e))
    } else {
        let (s1, e1) = two_sum(M::mul_add(-j, PIO2_1, x), -(j * PIO2_2));
        let (s2, e2) = two_sum(s1, -(j * PIO2_3));
        two_sum(s2, M::mul_add(-j, PIO2_3T, e1 + e2))
    };
    let z = r * r;
    let w = z * z;
    let ps = M::mul_add(z * w, M::mul_add(z, S6, S5), M::mul_add(z, M::mul_add(z, S4, S3), S2));
    let v = z * r;
    // fdlibm's __kernel_sin(r, rr): sin(r + rr) ≈ sin r + rr·(1 − z/2).
    let s = r - M::mul_add(-v, S1, M::mul_add(z, M::mul_add(-v, ps, 0.5 * rr), -rr));
    let pc_hi = M::mul_add(z, M::mul_add(z, C3, C2), C1);
    let pc_lo = M::mul_add(z, M::mul_add(z, C6, C5), C4);
    let pc = M::mul_add(z, pc_hi, (w * w) * pc_lo);
    let hz = 0.5 * z;
    let one_m = 1.0 - hz;
    // fdlibm's __kernel_cos(r, rr): cos(r + rr) ≈ cos r − r·rr.
    let c = one_m + (((1.0 - one_m) - hz) + M::mul_add(z, pc, -(r * rr)));
    // Quadrant q mod 4: sin = [s, c, −s, −c], cos = [c, −s, −c, s].
    let odd = q & 1 != 0;
    let (sv, cv) = if odd { (c, s) } else { (s, c) }; // a blend, not a branch
    let sin = f64::from_bits(sv.to_bits() ^ ((q << 62) & SIGN64));
    let cos = f64::from_bits(cv.to_bits() ^ ((q.wrapping_add(1) << 62) & SIGN64));
    (sin, cos)
}

/// (sin x, cos x) for one f64: the slice kernel's arithmetic, with the `libm` fallback.
///
/// ```
/// let (s, c) = svgp::fastmath::sin_cos(1.0);
/// assert!((s - 1.0_f64.sin()).abs() <= 2.0 * f64::EPSILON);
/// assert!((c - 1.0_f64.cos()).abs() <= 2.0 * f64::EPSILON);
/// ```
#[inline]
pub fn sin_cos(x: f64) -> (f64, f64) {
    let a = x.abs();
    if a <= F64_SMALL_LIMIT {
        sin_cos_core_f64::<Unfused, true>(x)
    } else if a <= F64_FAST_LIMIT {
        sin_cos_core_f64::<Unfused, false>(x)
    } else {
        libm::sincos(x)
    }
}

#[inline(always)]
fn sin_cos_slice_f64_body<M: MulAdd>(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
    let n = x.len().min(sin.len()).min(cos.len());
    let (x, sin, cos) = (&x[..n], &mut sin[..n], &mut cos[..n]);
    // One vectorised sweep picks the reduction: the cheaper one when every |x| ≤ 99.
    let (small, fast) = x.iter().fold((true, true), |(small, fast), &v| {
        let a = v.abs();
        (small & (a <= F64_SMALL_LIMIT), fast & (a <= F64_FAST_LIMIT))
    });
    // Pass 1: every entry through the branch-free kernel (vectorised).
    let entries = x.iter().zip(sin.iter_mut()).zip(cos.iter_mut());
    if small {
        entries.for_each(|((&v, s), c)| (*s, *c) = sin_cos_core_f64::<M, true>(v));
    } else {
        entries.for_each(|((&v, s), c)| (*s, *c) = sin_cos_core_f64::<M, false>(v));
    }
    // Pass 2: redo the rare out-of-range or non-finite entries with libm.
    if !fast {
        for ((&v, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
            if v.is_nan() || v.abs() > F64_FAST_LIMIT {
                (*s, *c) = libm::sincos(v);
            }
        }
    }
}

/// `sin[i], cos[i] = sin x[i], cos x[i]` for the first min(len) entries of the slices, in f64.
///
/// With the `std` feature on x86-64, a copy compiled for AVX2 and FMA is chosen at run time
/// when the CPU has them (see the module docs on the last bit).
///
/// ```
/// let x = [0.0, 1.0, -2.5, 1e4];
/// let (mut s, mut c) = ([0.0; 4], [0.0; 4]);
/// svgp::fastmath::sin_cos_slice(&x, &mut s, &mut c);
/// for i in 0..4 {
///     assert!((s[i] - x[i].sin()).abs() <= 2.0 * f64::EPSILON);
///     assert!((c[i] - x[i].cos()).abs() <= 2.0 * f64::EPSILON);
/// }
/// ```
pub fn sin_cos_slice(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            avx2::sin_cos_slice_f64(x, sin, cos);
            return;
        }
    }
    sin_cos_slice_f64_body::<Unfused>(x, sin, cos);
}

// ---- f32 ----

/// The sign bit of an f32.
const SIGN32: u32 = 1 << 31;
/// 1.5·2^23, the f32 rounding shifter.
const SHIFT32: f32 = 12_582_912.0;
const FRAC_2_PI_F32: f32 = core::f32::consts::FRAC_2_PI;
// π/2 = P1 + P2 + P3 + P4 with P1..P3 of at most 12 significant bits.
const PIO2F_1: f32 = 1.570_312_5;
const PIO2F_2: f32 = 4.837_512_969_970_703e-4;
const PIO2F_3: f32 = 7.549_533_620_476_723e-8;
const PIO2F_4: f32 = 2.563_344_068_257_09e-12;
// Cephes sinf/cosf minimax coefficients on [−π/4, π/4].
const SF1: f32 = -1.666_665_461_1e-1;
const SF2: f32 = 8.332_160_873_6e-3;
const SF3: f32 = -1.951_529_589_1e-4;
const CF1: f32 = 4.166_664_568_298_827e-2;
const CF2: f32 = -1.388_731_625_493_765e-3;
const CF3: f32 = 2.443_315_711_809_948e-5;

/// `a + b = s + e` exactly (Knuth's TwoSum; no ordering assumption, no branches).
#[inline(always)]
fn two_sum_f32(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

#[inline(always)]
fn sin_cos_core_f32(x: f32) -> (f32, f32) {
    let (q, r, rr) = reduce_f32(x);
    let (s, c) = (sin_poly_f32(r, rr), cos_poly_f32(r, rr));
    let odd = q & 1 != 0;
    let (sv, cv) = if odd { (c, s) } else { (s, c) };
    let sin = f32::from_bits(sv.to_bits() ^ ((q << 30) & SIGN32));
    let cos = f32::from_bits(cv.to_bits() ^ ((q.wrapping_add(1) << 30) & SIGN32));
    (sin, cos)
}

/// cos x alone for |x| ≤ [`F32_FAST_LIMIT`]: one polynomial per entry instead of two where the
/// code is scalar (a Cortex-M4F); bit-identical to `sin_cos_core_f32(x).1`.
#[inline(always)]
fn cos_core_f32(x: f32) -> f32 {
    let (q, r, rr) = reduce_f32(x);
    let v = if q & 1 != 0 { sin_poly_f32(r, rr) } else { cos_poly_f32(r, rr) };
    f32::from_bits(v.to_bits() ^ ((q.wrapping_add(1) << 30) & SIGN32))
}

/// (j mod 4 in the low bits, r, rr) with r + rr = x − j·π/2 to far below an ulp of r: f32 has
/// too few bits to round r twice. Each TwoSum is exact, and its error term is non-zero only
/// when its sum is about r.
#[inline(always)]
fn reduce_f32(x: f32) -> (u32, f32, f32) {
    let shifted = x * FRAC_2_PI_F32 + SHIFT32;
    let q = shifted.to_bits();
    let j = shifted - SHIFT32;
    let (s1, e1) = two_sum_f32(x - j * PIO2F_1, -(j * PIO2F_2));
    let (s2, e2) = two_sum_f32(s1, -(j * PIO2F_3));
    let (r, rr) = two_sum_f32(s2, (e1 + e2) - j * PIO2F_4);
    (q, r, rr)
}

/// sin(r + rr) ≈ sin r + rr on |r| ≤ π/4 (the dropped terms are below 2^-40).
#[inline(always)]
fn sin_poly_f32(r: f32, rr: f32) -> f32 {
    let z = r * r;
    r + ((z * r) * (SF1 + z * (SF2 + z * SF3)) + rr)
}

/// cos(r + rr) ≈ cos r − r·rr on |r| ≤ π/4.
#[inline(always)]
fn cos_poly_f32(r: f32, rr: f32) -> f32 {
    let z = r * r;
    let hz = 0.5 * z;
    let one_m = 1.0 - hz;
    one_m + (((1.0 - one_m) - hz) + ((z * z) * (CF1 + z * (CF2 + z * CF3)) - r * rr))
}

/// (sin x, cos x) for one f32, in f32 arithmetic only (cheap on an FPU without f64, such as
/// a Cortex-M4F), with the `libm` fallback beyond [`F32_FAST_LIMIT`].
///
/// ```
/// let (s, c) = svgp::fastmath::sin_cos_f32(0.5);
/// assert!((s - 0.5_f32.sin()).abs() <= 2.0 * f32::EPSILON);
/// assert!((c - 0.5_f32.cos()).abs() <= 2.0 * f32::EPSILON);
/// ```
#[inline]
pub fn sin_cos_f32(x: f32) -> (f32, f32) {
    if x.abs() <= F32_FAST_LIMIT {
        sin_cos_core_f32(x)
    } else {
        libm::sincosf(x)
    }
}

/// cos x for one f32 (see [`sin_cos_f32`]).
#[inline]
pub fn cos_f32(x: f32) -> f32 {
    if x.abs() <= F32_FAST_LIMIT {
        cos_core_f32(x)
    } else {
        libm::cosf(x)
    }
}

/// `v[i] = cos v[i]` in place, f32 (cheaper than [`sin_cos_slice_f32`] on scalar FPUs, where
/// it evaluates one polynomial per entry; bit-identical to its cosines).
pub fn cos_in_place_f32(v: &mut [f32]) {
    let fast = v.iter().fold(true, |ok, &x| ok & (x.abs() <= F32_FAST_LIMIT));
    if fast {
        v.iter_mut().for_each(|x| *x = cos_core_f32(*x));
    } else {
        v.iter_mut().for_each(|x| *x = cos_f32(*x));
    }
}

/// `v[i] = cos v[i]` in place, f64: [`sin_cos_slice`] over 256-entry chunks with the sines
/// dropped (the SIMD kernel computes both polynomials per lane anyway).
pub fn cos_in_place(v: &mut [f64]) {
    const CH: usize = 256;
    let (mut x, mut sin) = ([0.0; CH], [0.0; CH]);
    for chunk in v.chunks_mut(CH) {
        let k = chunk.len();
        x[..k].copy_from_slice(chunk);
        sin_cos_slice(&x[..k], &mut sin[..k], chunk);
    }
}

/// sin x for one f32 (see [`sin_cos_f32`]).
#[inline]
pub fn sin_f32(x: f32) -> f32 {
    sin_cos_f32(x).0
}

/// `sin[i], cos[i] = sin x[i], cos x[i]` for the first min(len) entries of the slices, in f32.
///
/// With the `std` feature on x86-64 with AVX2, a copy compiled for AVX2 (8 lanes) runs; it
/// does the same operations (the f32 kernel never fuses), so its results match
/// [`sin_cos_f32`]'s bit for bit (asserted by the accuracy tests).
pub fn sin_cos_slice_f32(x: &[f32], sin: &mut [f32], cos: &mut [f32]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if std::is_x86_feature_detected!("avx2") {
            avx2::sin_cos_slice_f32(x, sin, cos);
            return;
        }
    }
    sin_cos_slice_f32_body(x, sin, cos);
}

#[inline(always)]
fn sin_cos_slice_f32_body(x: &[f32], sin: &mut [f32], cos: &mut [f32]) {
    let n = x.len().min(sin.len()).min(cos.len());
    let (x, sin, cos) = (&x[..n], &mut sin[..n], &mut cos[..n]);
    for ((&v, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
        (*s, *c) = sin_cos_core_f32(v);
    }
    if !x.iter().fold(true, |ok, &v| ok & (v.abs() <= F32_FAST_LIMIT)) {
        for ((&v, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
            if v.is_nan() || v.abs() > F32_FAST_LIMIT {
                (*s, *c) = libm::sincosf(v);
            }
        }
    }
}

#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod avx2 {
    /// The f32 slice kernel compiled with AVX2 (8 lanes); no FMA, so bit-identical to SSE2.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2")]
    unsafe fn sin_cos_slice_f32_avx2(x: &[f32], sin: &mut [f32], cos: &mut [f32]) {
        super::sin_cos_slice_f32_body(x, sin, cos);
    }

    #[allow(unsafe_code)]
    pub(super) fn sin_cos_slice_f32(x: &[f32], sin: &mut [f32], cos: &mut [f32]) {
        // SAFETY: only called after `is_x86_feature_detected!("avx2")` returned true.
        unsafe { sin_cos_slice_f32_avx2(x, sin, cos) }
    }

    /// The f64 slice kernel compiled with AVX2 and FMA (4 lanes instead of SSE2's 2, fused
    /// multiply-adds in the polynomials: about 12% fewer cycles).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sin_cos_slice_f64_avx2(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
        super::sin_cos_slice_f64_body::<Fused>(x, sin, cos);
    }

    /// One rounding: compiles to `vfmadd` inside the `fma`-enabled functions.
    pub(super) struct Fused;

    impl super::MulAdd for Fused {
        #[inline(always)]
        fn mul_add(a: f64, b: f64, c: f64) -> f64 {
            a.mul_add(b, c)
        }
    }

    #[allow(unsafe_code)]
    pub(super) fn sin_cos_slice_f64(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
        // SAFETY: only called after `is_x86_feature_detected!` found both AVX2 and FMA.
        unsafe { sin_cos_slice_f64_avx2(x, sin, cos) }
    }

    /// The f64 tanh kernel compiled with AVX2 and FMA.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[allow(unsafe_code)]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn tanh_slice_f64_avx2(x: &[f64], out: &mut [f64]) {
        super::tanh_slice_body::<Fused>(x, out);
    }

    #[allow(unsafe_code)]
    pub(super) fn tanh_slice_f64(x: &[f64], out: &mut [f64]) {
        // SAFETY: only called after `is_x86_feature_detected!` found both AVX2 and FMA.
        unsafe { tanh_slice_f64_avx2(x, out) }
    }
}

/// Slice sin/cos per float type, so `Scalar` impls can name it generically.
pub(crate) trait SinCosSlice: Sized {
    fn sin_cos_slice(x: &[Self], sin: &mut [Self], cos: &mut [Self]);
}

impl SinCosSlice for f64 {
    #[inline]
    fn sin_cos_slice(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
        sin_cos_slice(x, sin, cos);
    }
}

impl SinCosSlice for f32 {
    #[inline]
    fn sin_cos_slice(x: &[f32], sin: &mut [f32], cos: &mut [f32]) {
        sin_cos_slice_f32(x, sin, cos);
    }
}

// ---- tanh, f64 ----

/// f64 tanh within this many ulp of `libm`'s (asserted by the tests over |x| ≤ 40).
pub const TANH_F64_MAX_ULP: f64 = 2.0;
/// ln 2 = LN2_HI + LN2_LO, LN2_HI with 32 significant bits (fdlibm's split).
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
// Cephes tanh: x + x³·P(x²)/Q(x²) on |x| < 0.625.
const TP0: f64 = -9.643_991_794_250_522_386_28e-1;
const TP1: f64 = -9.928_772_310_019_185_865_64e1;
const TP2: f64 = -1.614_687_684_417_084_479_52e3;
const TQ0: f64 = 1.128_116_784_916_329_314_02e2;
const TQ1: f64 = 2.235_488_390_601_004_485_83e3;
const TQ2: f64 = 4.844_063_053_251_254_860_48e3;

/// 1/k! for k = 0..=13.
const INV_FACT: [f64; 14] = {
    let mut a = [1.0; 14];
    let mut k = 1;
    while k < 14 {
        a[k] = a[k - 1] / k as f64;
        k += 1;
    }
    a
};

/// e^v for 0 ≤ v ≤ 40, branch-free: v = n·ln 2 + r, |r| ≤ ln2/2, e^r by its Taylor series to
/// degree 13 (truncation below 2^-57), 2^n by writing the exponent bits.
#[inline(always)]
fn exp_small_range<M: MulAdd>(v: f64) -> f64 {
    let k = M::mul_add(v, core::f64::consts::LOG2_E, SHIFT64);
    let n = k - SHIFT64;
    let r = M::mul_add(-n, LN2_LO, M::mul_add(-n, LN2_HI, v));
    let mut p = INV_FACT[13];
    for &c in INV_FACT[1..13].iter().rev() {
        p = M::mul_add(p, r, c);
    }
    let er = M::mul_add(p, r, 1.0);
    // The low 12 bits of k's mantissa are n (0 ≤ n < 2^11); place n + 1023 in the exponent.
    er * f64::from_bits(k.to_bits().wrapping_add(1023) << 52)
}

#[inline(always)]
fn tanh_core<M: MulAdd>(x: f64) -> f64 {
    // tanh(20) rounds to 1. A select, not `min`: NaN is patched by the callers, and `min`
    // is a libm call on targets without a min instruction.
    let a = x.abs();
    let t = if a < 20.0 { a } else { 20.0 };
    let z = t * t;
    // Both branches have the form a + b/c: select a, b, c first so one division serves both.
    // Small: t + t·z·P(z)/Q(z). Large: 1 − 2/(e^{2t} + 1).
    let small = t < 0.625;
    let e = exp_small_range::<M>(2.0 * t);
    let a = if small { t } else { 1.0 };
    let b = if small { (t * z) * M::mul_add(M::mul_add(TP0, z, TP1), z, TP2) } else { -2.0 };
    let c = if small { M::mul_add(M::mul_add(z + TQ0, z, TQ1), z, TQ2) } else { e + 1.0 };
    (a + b / c).copysign(x)
}

/// tanh for one f64: the slice kernel's arithmetic, `libm` for NaN.
///
/// ```
/// assert!((svgp::fastmath::tanh(0.3) - 0.3_f64.tanh()).abs() <= 2.0 * f64::EPSILON);
/// ```
#[inline]
pub fn tanh(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        tanh_core::<Unfused>(x)
    }
}

/// `out[i] = tanh x[i]` over the first min(len) entries, f64, vectorisable.
///
/// Cephes' rational function for |x| < 0.625, 1 − 2/(e^{2|x|} + 1) above, both computed and
/// one selected (no branches); within [`TANH_F64_MAX_ULP`] ulp of `libm`.
pub fn tanh_slice(x: &[f64], out: &mut [f64]) {
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    {
        if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            avx2::tanh_slice_f64(x, out);
            return;
        }
    }
    tanh_slice_body::<Unfused>(x, out);
}

#[inline(always)]
fn tanh_slice_body<M: MulAdd>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_core::<M>(v);
    }
    if x.iter().fold(false, |nan, &v| nan | v.is_nan()) {
        for (o, &v) in out.iter_mut().zip(x) {
            if v.is_nan() {
                *o = v;
            }
        }
    }
}

// ---- tanh, f32 ----

/// f32 tanh within this many ulp of the exact value (asserted by the tests over |x| ≤ 12).
pub const TANH_F32_MAX_ULP: f64 = 2.0;
/// ln 2 = LN2F_HI + LN2F_LO, LN2F_HI with 9 significant bits (Cephes' split).
const LN2F_HI: f32 = 0.693_359_375;
const LN2F_LO: f32 = -2.121_944_4e-4;
// Cephes tanhf: x + x³·P(x²) on |x| < 0.625.
const TFP: [f32; 5] = [
    -5.704_988_727_45e-3,
    2.063_908_879_54e-2,
    -5.373_971_555_31e-2,
    1.333_144_220_36e-1,
    -3.333_328_194_22e-1,
];

/// e^v for 0 ≤ v ≤ 18 in f32 only: v = n·ln 2 + r, e^r by Taylor to degree 7 (truncation
/// below 2^-27), 2^n by writing the exponent bits.
#[inline(always)]
fn exp_small_range_f32(v: f32) -> f32 {
    let k = v * core::f32::consts::LOG2_E + SHIFT32;
    let n = k - SHIFT32;
    let r = (v - n * LN2F_HI) - n * LN2F_LO;
    let mut p = 1.0 / 5040.0;
    for c in [1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0] {
        p = p * r + c;
    }
    let er = p * r + 1.0;
    // The low 9 bits of k's mantissa are n (0 ≤ n ≤ 26); place n + 127 in the exponent.
    er * f32::from_bits(k.to_bits().wrapping_add(127) << 23)
}

#[inline(always)]
fn tanh_core_f32(x: f32) -> f32 {
    // tanh(9) rounds to 1 in f32. A select, not `min` (a libm call on a Cortex-M4F); NaN is
    // patched by the callers.
    let a = x.abs();
    let t = if a < 9.0 { a } else { 9.0 };
    let z = t * t;
    // As in f64: a + b/c, so one division serves both branches (c = 1 for the polynomial).
    let small = t < 0.625;
    let e = exp_small_range_f32(2.0 * t);
    let mut p = TFP[0];
    for &c in &TFP[1..] {
        p = p * z + c;
    }
    let a = if small { t } else { 1.0 };
    let b = if small { (p * z) * t } else { -2.0 };
    let c = if small { 1.0 } else { e + 1.0 };
    (a + b / c).copysign(x)
}

/// tanh for one f32, in f32 arithmetic only (Cephes' `tanhf` polynomial below 0.625,
/// 1 − 2/(e^{2|x|} + 1) above), NaN passed through. Within [`TANH_F32_MAX_ULP`] ulp.
///
/// ```
/// assert!((svgp::fastmath::tanh_f32(0.3) - 0.3_f32.tanh()).abs() <= 2.0 * f32::EPSILON);
/// ```
#[inline]
pub fn tanh_f32(x: f32) -> f32 {
    if x.is_nan() {
        x
    } else {
        tanh_core_f32(x)
    }
}

/// `out[i] = tanh x[i]` over the first min(len) entries, f32, vectorisable (see [`tanh_f32`]).
pub fn tanh_slice_f32(x: &[f32], out: &mut [f32]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_core_f32(v);
    }
    if x.iter().fold(false, |nan, &v| nan | v.is_nan()) {
        for (o, &v) in out.iter_mut().zip(x) {
            if v.is_nan() {
                *o = v;
            }
        }
    }
}

// ---- reaching the float kernels from generic code ----

/// Entries per kernel call in [`map_as`] and [`map_in_place_as`].
pub(crate) const CHUNK: usize = 256;

/// When `S` is the float type `T`, apply the slice `kernel` to `a` chunk by chunk (and `one`
/// to the tail) into `h`, returning `true`; otherwise touch nothing and return `false`.
///
/// A safe stand-in for specialisation: the `TypeId` test and the `Any` downcasts of
/// fixed-size chunks are resolved at compile time once `S` is known.
pub(crate) fn map_as<S: 'static, T: 'static + Copy>(
    a: &[S],
    h: &mut [S],
    kernel: fn(&[T], &mut [T]),
    one: fn(T) -> T,
) -> bool {
    if TypeId::of::<S>() != TypeId::of::<T>() {
        return false;
    }
    let mut a_chunks = a.chunks_exact(CHUNK);
    let mut h_chunks = h.chunks_exact_mut(CHUNK);
    for (ac, hc) in (&mut a_chunks).zip(&mut h_chunks) {
        if let (Some(x), Some(y)) = (as_array::<S, T>(ac), as_array_mut::<S, T>(hc)) {
            kernel(x, y);
        }
    }
    for (hv, av) in h_chunks.into_remainder().iter_mut().zip(a_chunks.remainder()) {
        if let (Some(y), Some(&x)) =
            ((hv as &mut dyn Any).downcast_mut::<T>(), (av as &dyn Any).downcast_ref::<T>())
        {
            *y = one(x);
        }
    }
    true
}

/// [`map_as`] for an in-place kernel.
pub(crate) fn map_in_place_as<S: 'static, T: 'static + Copy>(
    v: &mut [S],
    kernel: fn(&mut [T]),
    one: fn(T) -> T,
) -> bool {
    if TypeId::of::<S>() != TypeId::of::<T>() {
        return false;
    }
    let mut chunks = v.chunks_exact_mut(CHUNK);
    for c in &mut chunks {
        if let Some(y) = as_array_mut::<S, T>(c) {
            kernel(y);
        }
    }
    for x in chunks.into_remainder() {
        if let Some(y) = (x as &mut dyn Any).downcast_mut::<T>() {
            *y = one(*y);
        }
    }
    true
}

fn as_array<S: 'static, T: 'static>(c: &[S]) -> Option<&[T; CHUNK]> {
    let arr: &[S; CHUNK] = c.try_into().ok()?;
    (arr as &dyn Any).downcast_ref()
}

fn as_array_mut<S: 'static, T: 'static>(c: &mut [S]) -> Option<&mut [T; CHUNK]> {
    let arr: &mut [S; CHUNK] = c.try_into().ok()?;
    (arr as &mut dyn Any).downcast_mut()
}
