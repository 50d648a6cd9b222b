//! Sine and cosine together, f64 and f32.
//!
//! 1. **Range reduction** (`rem_pio2`): x = j·π/2 + (r + rr), |r| ≤ π/4.
//! 2. **Polynomials** on |r| ≤ π/4 with the tail rr folded in: fdlibm's minimax
//!    `__kernel_sin`/`__kernel_cos` for f64 (the ones musl's and Rust's `libm` use), Cephes'
//!    `sinf`/`cosf` coefficients for f32, evaluated in f32 only (no f64 on a Cortex-M4F).
//! 3. **Quadrant**: j mod 4 swaps sin and cos and flips signs, by bit operations (a blend,
//!    not a branch).
//!
//! Outside the reduction's range (|x| > [`F64_FAST_LIMIT`] or [`F32_FAST_LIMIT`], and for
//! NaN/±∞) the slice functions redo the entry with `libm`. The f64 arithmetic is written once
//! over [`Isa`]: fused multiply-adds in the AVX2 + FMA copy of the slice function, two
//! roundings in the portable copy and in the one-value function (see the module docs of
//! [`fastmath`](super) on the last bit).

use super::rem_pio2::{rem_pio2, rem_pio2_f32};
use super::{F32_FAST_LIMIT, F64_FAST_LIMIT, F64_SMALL_LIMIT};
use crate::arch::{self, Isa, Kernel, Portable};

/// The sign bit of an f64.
const SIGN64: u64 = 1 << 63;
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

/// The sign bit of an f32.
const SIGN32: u32 = 1 << 31;
// Cephes sinf/cosf minimax coefficients on [−π/4, π/4].
const SF1: f32 = -1.666_665_461_1e-1;
const SF2: f32 = 8.332_160_873_6e-3;
const SF3: f32 = -1.951_529_589_1e-4;
const CF1: f32 = 4.166_664_568_298_827e-2;
const CF2: f32 = -1.388_731_625_493_765e-3;
const CF3: f32 = 2.443_315_711_809_948e-5;

// ---- f64 ----

/// (sin x, cos x) for |x| ≤ [`F64_FAST_LIMIT`] (or ≤ [`F64_SMALL_LIMIT`] when `SMALL`), no
/// branches (garbage but no UB beyond the limit).
#[inline(always)]
pub(super) fn sin_cos_core<I: Isa, const SMALL: bool>(x: f64) -> (f64, f64) {
    let (q, r, rr) = rem_pio2::<I, SMALL>(x);
    let z = r * r;
    let w = z * z;
    let ps = I::mul_add(z * w, I::mul_add(z, S6, S5), I::mul_add(z, I::mul_add(z, S4, S3), S2));
    let v = z * r;
    // fdlibm's __kernel_sin(r, rr): sin(r + rr) ≈ sin r + rr·(1 − z/2).
    let s = r - I::mul_add(-v, S1, I::mul_add(z, I::mul_add(-v, ps, 0.5 * rr), -rr));
    let pc_hi = I::mul_add(z, I::mul_add(z, C3, C2), C1);
    let pc_lo = I::mul_add(z, I::mul_add(z, C6, C5), C4);
    let pc = I::mul_add(z, pc_hi, (w * w) * pc_lo);
    let hz = 0.5 * z;
    let one_m = 1.0 - hz;
    // fdlibm's __kernel_cos(r, rr): cos(r + rr) ≈ cos r − r·rr.
    let c = one_m + (((1.0 - one_m) - hz) + I::mul_add(z, pc, -(r * rr)));
    // Quadrant q mod 4: sin = [s, c, −s, −c], cos = [c, −s, −c, s].
    let odd = q & 1 != 0;
    let (sv, cv) = if odd { (c, s) } else { (s, c) }; // a blend, not a branch
    let sin = f64::from_bits(sv.to_bits() ^ ((q << 62) & SIGN64));
    let cos = f64::from_bits(cv.to_bits() ^ ((q.wrapping_add(1) << 62) & SIGN64));
    (sin, cos)
}

/// (sin x, cos x) for one f64: the slice kernel's arithmetic (never fused), with the `libm`
/// fallback.
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
        sin_cos_core::<Portable, true>(x)
    } else if a <= F64_FAST_LIMIT {
        sin_cos_core::<Portable, false>(x)
    } else {
        libm::sincos(x)
    }
}

/// The slice loop: every entry through the branch-free kernel (vectorised), then the rare
/// out-of-range or non-finite entries again with `libm`.
#[inline(always)]
fn sin_cos_slice_body<I: Isa>(x: &[f64], sin: &mut [f64], cos: &mut [f64]) {
    let n = x.len().min(sin.len()).min(cos.len());
    let (x, sin, cos) = (&x[..n], &mut sin[..n], &mut cos[..n]);
    // One vectorised sweep picks the reduction: the cheaper one when every |x| ≤ 99.
    let (small, fast) = x.iter().fold((true, true), |(small, fast), &v| {
        let a = v.abs();
        (small & (a <= F64_SMALL_LIMIT), fast & (a <= F64_FAST_LIMIT))
    });
    let entries = x.iter().zip(sin.iter_mut()).zip(cos.iter_mut());
    if small {
        entries.for_each(|((&v, s), c)| (*s, *c) = sin_cos_core::<I, true>(v));
    } else {
        entries.for_each(|((&v, s), c)| (*s, *c) = sin_cos_core::<I, false>(v));
    }
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
/// Runs through [`crate::arch`]: on a CPU with AVX2 and FMA (under `std`) a copy compiled for
/// them, with fused multiply-adds (see the module docs on the last bit).
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
    struct SinCos<'a>(&'a [f64], &'a mut [f64], &'a mut [f64]);
    impl Kernel for SinCos<'_> {
        type Output = ();
        #[inline(always)]
        fn run<I: Isa>(self) {
            sin_cos_slice_body::<I>(self.0, self.1, self.2);
        }
    }
    arch::dispatch(SinCos(x, sin, cos));
}

// ---- f32 ----

/// sin(r + rr) ≈ sin r + rr on |r| ≤ π/4 (the dropped terms are below 2^-40).
#[inline(always)]
pub(super) fn sin_poly_f32(r: f32, rr: f32) -> f32 {
    let z = r * r;
    r + ((z * r) * (SF1 + z * (SF2 + z * SF3)) + rr)
}

/// cos(r + rr) ≈ cos r − r·rr on |r| ≤ π/4.
#[inline(always)]
pub(super) fn cos_poly_f32(r: f32, rr: f32) -> f32 {
    let z = r * r;
    let hz = 0.5 * z;
    let one_m = 1.0 - hz;
    one_m + (((1.0 - one_m) - hz) + ((z * z) * (CF1 + z * (CF2 + z * CF3)) - r * rr))
}

/// Flips the sign of a cosine in quadrants 1 and 2 (`q` holds j mod 4 in its low bits).
#[inline(always)]
pub(super) fn cos_sign_f32(q: u32, v: f32) -> f32 {
    f32::from_bits(v.to_bits() ^ ((q.wrapping_add(1) << 30) & SIGN32))
}

/// (sin x, cos x) for |x| ≤ [`F32_FAST_LIMIT`], no branches.
#[inline(always)]
fn sin_cos_core_f32(x: f32) -> (f32, f32) {
    let (q, r, rr) = rem_pio2_f32(x);
    let (s, c) = (sin_poly_f32(r, rr), cos_poly_f32(r, rr));
    let odd = q & 1 != 0;
    let (sv, cv) = if odd { (c, s) } else { (s, c) };
    let sin = f32::from_bits(sv.to_bits() ^ ((q << 30) & SIGN32));
    (sin, cos_sign_f32(q, cv))
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

/// sin x for one f32 (see [`sin_cos_f32`]).
#[inline]
pub fn sin_f32(x: f32) -> f32 {
    sin_cos_f32(x).0
}

/// `sin[i], cos[i] = sin x[i], cos x[i]` for the first min(len) entries of the slices, in f32.
///
/// Runs through [`crate::arch`] (8 lanes with AVX2); the f32 kernel never fuses, so the
/// results match [`sin_cos_f32`]'s bit for bit on every path.
///
/// ```
/// let x = [0.5_f32, -3.0];
/// let (mut s, mut c) = ([0.0; 2], [0.0; 2]);
/// svgp::fastmath::sin_cos_slice_f32(&x, &mut s, &mut c);
/// assert_eq!((s[1], c[1]), svgp::fastmath::sin_cos_f32(-3.0));
/// ```
pub fn sin_cos_slice_f32(x: &[f32], sin: &mut [f32], cos: &mut [f32]) {
    arch::simd(
        #[inline(always)]
        || {
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
        },
    );
}
