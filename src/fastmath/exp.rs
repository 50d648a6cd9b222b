//! e^x, f64 and f32: the general kernel (with the RBF kernel's scaled form) and the
//! range-limited one inside [`tanh`](super::tanh).
//!
//! Both reduce x = k·ln 2 + r (|r| ≤ ln 2 / 2, Cody–Waite, with ln 2 split as fdlibm does so
//! that k·LN2_HI is exact), find k by the 1.5·2⁵² rounding trick, evaluate e^r by its Taylor
//! series to degree 13 (truncation below 5e-18 relative) and build 2^k by writing k into an
//! exponent field, taken from the same rounded value's bits. Every step is a lane-wise float or
//! integer operation, so slice loops compile to SIMD.
//!
//! - **General** ([`exp`], [`exp_in_place`], [`scaled_exp_in_place`]): clamps x to
//!   [−708, 709.78] first and patches the ends by selects: results below e^−708 ≈ 3.3e−308
//!   are flushed to 0 (no subnormals), above 709.78 give +∞, NaN stays NaN. Within
//!   [`EXP_MAX_ULP`] ulp of the correctly rounded value. Never fused, so the same bits on
//!   every path. The f32 form rounds the same steps to f32 (k and 2^k are found in f64).
//!   Its reduction is coarser: ln 2's parts rounded to f32 no longer make k·LN2_HI exact, so
//!   its relative error grows with |x|, bounded by (6 + 0.45·|x|)·`f32::EPSILON` (asserted;
//!   5 ε for |x| < 10, 35 ε at worst). The RBF kernel's f32 numbers were recorded with it;
//!   an exact f32 split (Cephes' `expf`) would tighten it to ~1 ulp and change them.
//! - **Range-limited** (tanh's e^{2|x|}, 0 ≤ v ≤ 40 in f64 and ≤ 18 in f32): no clamps or
//!   special cases, Horner with the level's multiply–add (fused with AVX2 + FMA); the f32 form
//!   is in f32 only, degree 7, with Cephes' ln 2 split.

use super::{SHIFT32, SHIFT64};
use crate::arch::{self, Isa};

/// Largest distance of [`exp`] from the correctly rounded e^x, in ulp, on [−708, 709.78]
/// (asserted against `libm`; [`exp_f32`]'s bound grows with |x|, see the module docs).
pub const EXP_MAX_ULP: f64 = 2.0;

const LOG2E: f64 = core::f64::consts::LOG2_E;
/// ln 2 = LN2_HI + LN2_LO, LN2_HI with 32 significant bits so k·LN2_HI is exact for
/// |k| < 2²⁰ (fdlibm's split).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// The general kernel's clamps.
const LO: f64 = -708.0;
const HI: f64 = 709.782_712_893_384;

/// 1/n! for n = 13 down to 2 (Horner order), for the general kernel.
const C: [f64; 12] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
];

/// 1/k! for k = 0..=13, for the range-limited kernel.
const INV_FACT: [f64; 14] = {
    let mut a = [1.0; 14];
    let mut k = 1;
    while k < 14 {
        a[k] = a[k - 1] / k as f64;
        k += 1;
    }
    a
};

/// ln 2 = LN2F_HI + LN2F_LO, LN2F_HI with 9 significant bits (Cephes' split).
const LN2F_HI: f32 = 0.693_359_375;
const LN2F_LO: f32 = -2.121_944_4e-4;

// ---- general ----

/// e^x, branch-free (the end cases are selects).
#[inline(always)]
fn exp_core(x: f64) -> f64 {
    let xc = if LO > x { LO } else { x };
    let xc = if HI < xc { HI } else { xc };
    let t = xc * LOG2E + SHIFT64;
    let k = t - SHIFT64;
    // 2^(k−1) from (k − 1 + 1023) in the exponent field (the low 12 bits of t's bits hold k,
    // two's complement); the missing factor 2 goes on the polynomial, so k = 1024 still works.
    let scale = f64::from_bits(t.to_bits().wrapping_add(1022) << 52);
    let r = (xc - k * LN2_HI) - k * LN2_LO;
    let mut p = C[0];
    for &c in &C[1..] {
        p = p * r + c;
    }
    p = 2.0 * ((p * r + 1.0) * r + 1.0);
    let y = p * scale;
    if x < LO {
        0.0
    } else if x > HI {
        f64::INFINITY
    } else if x.is_nan() {
        f64::NAN
    } else {
        y
    }
}

/// The general kernel's steps rounded to f32 (k and 2^k found in f64; the clamps and end
/// cases as in f64, so below e^−708 the result is 0 and the f32 overflow gives +∞).
#[inline(always)]
fn exp_core_f32(x: f32) -> f32 {
    let (lo, hi) = (LO as f32, HI as f32);
    let xc = if lo > x { lo } else { x };
    let xc = if hi < xc { hi } else { xc };
    let t = f64::from(xc) * LOG2E + SHIFT64;
    let k = (t - SHIFT64) as f32;
    let scale = f64::from_bits(t.to_bits().wrapping_add(1022) << 52) as f32;
    let r = (xc - k * LN2_HI as f32) - k * LN2_LO as f32;
    let mut p = C[0] as f32;
    for &c in &C[1..] {
        p = p * r + c as f32;
    }
    p = 2.0 * ((p * r + 1.0) * r + 1.0);
    let y = p * scale;
    let xr = f64::from(x);
    if xr < LO {
        0.0
    } else if xr > HI {
        f32::INFINITY
    } else if xr.is_nan() {
        f32::NAN
    } else {
        y
    }
}

/// e^x for one f64 (the slice kernels' arithmetic).
///
/// ```
/// let e = svgp::fastmath::exp(1.0);
/// assert!((e - core::f64::consts::E).abs() <= 2.0 * f64::EPSILON * e);
/// assert_eq!(svgp::fastmath::exp(-800.0), 0.0);
/// ```
#[inline]
pub fn exp(x: f64) -> f64 {
    exp_core(x)
}

/// e^x for one f32: relative error at most (6 + 0.45·|x|)·`f32::EPSILON` (see the module
/// docs).
///
/// ```
/// let e = svgp::fastmath::exp_f32(1.5);
/// assert!((e - 1.5_f32.exp()).abs() <= 7.0 * f32::EPSILON * e);
/// ```
#[inline]
pub fn exp_f32(x: f32) -> f32 {
    exp_core_f32(x)
}

/// `v[i] = e^v[i]` in place, f64, through [`crate::arch`].
///
/// ```
/// let mut v = [0.0, 1.0];
/// svgp::fastmath::exp_in_place(&mut v);
/// assert_eq!(v, [1.0, svgp::fastmath::exp(1.0)]);
/// ```
pub fn exp_in_place(v: &mut [f64]) {
    arch::simd(
        #[inline(always)]
        || v.iter_mut().for_each(|o| *o = exp_core(*o)),
    );
}

/// `v[i] = e^v[i]` in place, f32, through [`crate::arch`].
pub fn exp_in_place_f32(v: &mut [f32]) {
    arch::simd(
        #[inline(always)]
        || v.iter_mut().for_each(|o| *o = exp_core_f32(*o)),
    );
}

/// `v[i] = c·exp(a·v[i] / b)` in place, f64, through [`crate::arch`]: the RBF kernel's
/// σ²·exp(−½·r²/ℓ²) over a row of squared distances, in one pass, rounded as that formula is.
///
/// ```
/// let mut v = [0.0, 2.0];
/// svgp::fastmath::scaled_exp_in_place(&mut v, 3.0, -0.5, 4.0);
/// assert_eq!(v, [3.0, 3.0 * svgp::fastmath::exp(-0.5 * 2.0 / 4.0)]);
/// ```
pub fn scaled_exp_in_place(v: &mut [f64], c: f64, a: f64, b: f64) {
    arch::simd(
        #[inline(always)]
        || v.iter_mut().for_each(|o| *o = c * exp_core(a * *o / b)),
    );
}

/// [`scaled_exp_in_place`] in f32.
pub fn scaled_exp_in_place_f32(v: &mut [f32], c: f32, a: f32, b: f32) {
    arch::simd(
        #[inline(always)]
        || v.iter_mut().for_each(|o| *o = c * exp_core_f32(a * *o / b)),
    );
}

// ---- range-limited, for tanh ----

/// e^v for 0 ≤ v ≤ 40, branch-free: Taylor to degree 13 with `I`'s multiply–add, 2^n by
/// writing n + 1023 into the exponent bits.
#[inline(always)]
pub(super) fn exp_nonneg<I: Isa>(v: f64) -> f64 {
    let k = I::mul_add(v, LOG2E, SHIFT64);
    let n = k - SHIFT64;
    let r = I::mul_add(-n, LN2_LO, I::mul_add(-n, LN2_HI, v));
    let mut p = INV_FACT[13];
    for &c in INV_FACT[1..13].iter().rev() {
        p = I::mul_add(p, r, c);
    }
    let er = I::mul_add(p, r, 1.0);
    // The low 12 bits of k's mantissa are n (0 ≤ n < 2^11); place n + 1023 in the exponent.
    er * f64::from_bits(k.to_bits().wrapping_add(1023) << 52)
}

/// e^v for 0 ≤ v ≤ 18 in f32 only: Taylor to degree 7 (truncation below 2^-27).
#[inline(always)]
pub(super) fn exp_nonneg_f32(v: f32) -> f32 {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_within_two_ulp_of_libm() {
        let mut worst: f64 = 0.0;
        let mut x = -707.9;
        while x < 709.0 {
            for dx in [0.0, 1e-9, 0.3466, 0.5, 0.693, 0.78] {
                let v = x + dx;
                let (a, b) = (exp(v), libm::exp(v));
                worst = worst.max((a - b).abs() / b);
            }
            x += 0.731;
        }
        for v in [-1e-300, 0.0, 1e-17, -0.3465735902799726, 0.3465735902799726, -1.0, 1.0, -30.5, 2.5] {
            let (a, b) = (exp(v), libm::exp(v));
            worst = worst.max((a - b).abs() / b);
        }
        assert!(worst <= EXP_MAX_ULP * f64::EPSILON, "max relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn f32_within_its_documented_bound() {
        // Measured over this grid, in f32::EPSILON: 4.8 for |x| < 10, 9.3 below 30, 18.2
        // below 60, 34.6 at worst (|x| ≈ 75).
        let mut x = -87.0_f32;
        while x < 88.5 {
            let (a, b) = (f64::from(exp_f32(x)), libm::exp(f64::from(x)));
            let bound = (6.0 + 0.45 * f64::from(x.abs())) * f64::from(f32::EPSILON);
            assert!((a - b).abs() <= bound * b, "exp_f32({x}) = {a:e}, exact {b:e}");
            x += 0.000137;
        }
        assert_eq!(exp_f32(-800.0), 0.0);
        assert_eq!(exp_f32(100.0), f32::INFINITY);
        assert!(exp_f32(f32::NAN).is_nan());
    }

    #[test]
    fn slices_match_the_one_value_functions() {
        let mut v: [f64; 200] = core::array::from_fn(|i| 0.037 * i as f64);
        let x = v;
        scaled_exp_in_place(&mut v, 1.3, -0.5, 0.09);
        for (x, y) in x.iter().zip(&v) {
            assert_eq!(*y, 1.3 * exp(-0.5 * x / 0.09)); // never fused: the same bits
            assert!((y - 1.3 * libm::exp(-0.5 * x / 0.09)).abs() <= 3.0 * f64::EPSILON * y);
        }
        let mut w = x;
        exp_in_place(&mut w);
        assert!(x.iter().zip(&w).all(|(x, y)| *y == exp(*x)));
        let mut w32 = x.map(|v| v as f32);
        exp_in_place_f32(&mut w32);
        assert!(x.iter().zip(&w32).all(|(x, y)| *y == exp_f32(*x as f32)));
    }
}
