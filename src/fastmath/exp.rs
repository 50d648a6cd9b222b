//! A branch-free, vectorisable e^x over slices, generic over [`Scalar`].
//!
//! Cody–Waite reduction x = k·ln 2 + r (|r| ≤ ln 2 / 2) with k found by the 1.5·2⁵² rounding
//! trick, a degree-13 Taylor polynomial for e^r (truncation < 5e-18 relative), and 2^k built
//! from the same rounded value's bits. Every step is a lane-wise float or integer operation,
//! so for `f64` slices the loop compiles to SIMD; on [`Dual`](crate::Dual) numbers the
//! tangent flows through r (derivative p'(r)·2^k = e^x to ~1e-16 relative).
//!
//! Accuracy: within 2 ulp of the correctly rounded e^x for x ∈ [−708, 709.78]; results below
//! e^−708 ≈ 3.3e−308 are flushed to 0 (no subnormals), above 709.78 give +∞, NaN stays NaN.

use crate::Scalar;

const LOG2E: f64 = core::f64::consts::LOG2_E;
/// ln 2 split so that k·LN2_HI is exact for |k| < 2²⁰ (fdlibm's constants).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// Adding 1.5·2⁵² rounds to an integer, which then sits in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;
const LO: f64 = -708.0;
const HI: f64 = 709.782_712_893_384;

/// 1/n! for n = 13 down to 2 (Horner order).
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

/// e^x for one value (inlined into the slice loops).
#[inline(always)]
pub(crate) fn exp<S: Scalar>(x: S) -> S {
    let xr = x.re();
    let xc = x.max(S::from_f64(LO)).min(S::from_f64(HI));
    let t = xc.re() * LOG2E + SHIFT;
    let kf = t - SHIFT;
    // 2^(k−1) from (k − 1 + 1023) in the exponent field (the low 12 bits of t's bits hold k,
    // two's complement); the missing factor 2 goes on the polynomial, so k = 1024 still works.
    let scale = f64::from_bits(t.to_bits().wrapping_add(1022) << 52);
    let k = S::from_f64(kf);
    let r = (xc - k * S::from_f64(LN2_HI)) - k * S::from_f64(LN2_LO);
    let mut p = S::from_f64(C[0]);
    for &c in &C[1..] {
        p = p * r + S::from_f64(c);
    }
    p = S::from_f64(2.0) * ((p * r + S::one()) * r + S::one());
    let y = p * S::from_f64(scale);
    if xr < LO {
        S::zero()
    } else if xr > HI {
        S::from_f64(f64::INFINITY)
    } else if xr.is_nan() {
        S::from_f64(f64::NAN)
    } else {
        y
    }
}

/// `v ← c·exp(a·v / b)` element-wise: the RBF's s2·exp(−½·r²/ℓ²) over a row of squared distances.
#[inline(always)]
fn scaled_exp_generic<S: Scalar>(v: &mut [S], c: S, a: S, b: S) {
    for o in v.iter_mut() {
        *o = c * exp(a * *o / b);
    }
}

/// `v ← c·exp(a·v / b)` element-wise, through the crate's run-time SIMD dispatch
/// ([`crate::linalg::simd`]): the same operations in an AVX2 copy where the CPU has it, so the
/// results are the same bits on every path.
pub(crate) fn scaled_exp<S: Scalar>(v: &mut [S], c: S, a: S, b: S) {
    crate::linalg::simd(
        #[inline(always)]
        || scaled_exp_generic(v, c, a, b),
    );
}

#[cfg(test)]
mod tests {
    use super::exp;
    use crate::{Dual, Scalar};

    #[test]
    fn matches_libm_within_two_ulp() {
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
        assert!(worst <= 2.0 * f64::EPSILON, "max relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert!(exp(f64::NAN).is_nan());
    }

    #[test]
    fn scaled_exp_agrees_between_simd_and_generic_paths() {
        let mut v = [0.0_f64; 200];
        v.iter_mut().enumerate().for_each(|(i, x)| *x = 0.037 * i as f64);
        let mut a = v;
        super::scaled_exp(&mut a, 1.3, -0.5, 0.09);
        for (x, y) in v.iter().zip(&a) {
            let mut g = [*x];
            super::scaled_exp_generic(&mut g, 1.3, -0.5, 0.09);
            assert_eq!(g[0], *y); // same operations, bit for bit
            assert!((y - 1.3 * libm::exp(-0.5 * x / 0.09)).abs() <= 3.0 * f64::EPSILON * y);
        }
    }

    #[test]
    fn dual_tangent_is_exp() {
        for v in [-20.0, -3.3, -0.2, 0.0, 0.7, 5.0] {
            let d = exp(Dual::<f64, 1>::variable(v, 0));
            let e = libm::exp(v);
            assert!((d.re - e).abs() <= 2.0 * f64::EPSILON * e);
            assert!((d.eps[0] - e).abs() <= 4.0 * f64::EPSILON * e, "{v}: {} vs {e}", d.eps[0]);
        }
        let f = exp(1.5_f32);
        assert!((f - 1.5_f32.exp()).abs() <= 2.0 * f32::EPSILON * f);
        let _ = <f32 as Scalar>::from_f64(0.0);
    }
}
