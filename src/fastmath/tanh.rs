//! Hyperbolic tangent, f64 and f32.
//!
//! With t = min(|x|, T) (T = 20 in f64, 9 in f32, where tanh rounds to 1) and z = t²:
//! - |x| < 0.625: Cephes' odd rational function, t + t·z·P(z)/Q(z) (f64) or the polynomial
//!   t + t·z·P(z) (f32);
//! - above: 1 − 2/(e^{2t} + 1), with e^{2t} from [`exp`](super::exp)'s range-limited kernel.
//!
//! Both branches are computed and one is selected (no branches); both have the form a + b/c,
//! so a, b and c are selected first and one division serves both. The sign is copied from x
//! at the end; NaN is patched by the callers (a second sweep only when there is one).

use super::exp::{exp_nonneg, exp_nonneg_f32};
use crate::arch::{self, Isa, Kernel, Portable};

/// f64 tanh within this many ulp of `libm`'s (asserted by the tests over |x| ≤ 40).
pub const TANH_F64_MAX_ULP: f64 = 2.0;
/// f32 tanh within this many ulp of the exact value (asserted by the tests over |x| ≤ 12).
pub const TANH_F32_MAX_ULP: f64 = 2.0;

// Cephes tanh: x + x³·P(x²)/Q(x²) on |x| < 0.625.
const TP0: f64 = -9.643_991_794_250_522_386_28e-1;
const TP1: f64 = -9.928_772_310_019_185_865_64e1;
const TP2: f64 = -1.614_687_684_417_084_479_52e3;
const TQ0: f64 = 1.128_116_784_916_329_314_02e2;
const TQ1: f64 = 2.235_488_390_601_004_485_83e3;
const TQ2: f64 = 4.844_063_053_251_254_860_48e3;

// Cephes tanhf: x + x³·P(x²) on |x| < 0.625.
const TFP: [f32; 5] = [
    -5.704_988_727_45e-3,
    2.063_908_879_54e-2,
    -5.373_971_555_31e-2,
    1.333_144_220_36e-1,
    -3.333_328_194_22e-1,
];

// ---- f64 ----

#[inline(always)]
fn tanh_core<I: Isa>(x: f64) -> f64 {
    // tanh(20) rounds to 1. A select, not `min`: NaN is patched by the callers, and `min`
    // is a libm call on targets without a min instruction.
    let a = x.abs();
    let t = if a < 20.0 { a } else { 20.0 };
    let z = t * t;
    // Small: t + t·z·P(z)/Q(z). Large: 1 − 2/(e^{2t} + 1).
    let small = t < 0.625;
    let e = exp_nonneg::<I>(2.0 * t);
    let a = if small { t } else { 1.0 };
    let b = if small { (t * z) * I::mul_add(I::mul_add(TP0, z, TP1), z, TP2) } else { -2.0 };
    let c = if small { I::mul_add(I::mul_add(z + TQ0, z, TQ1), z, TQ2) } else { e + 1.0 };
    (a + b / c).copysign(x)
}

/// tanh for one f64: the slice kernel's arithmetic (never fused), NaN passed through.
///
/// ```
/// assert!((svgp::fastmath::tanh(0.3) - 0.3_f64.tanh()).abs() <= 2.0 * f64::EPSILON);
/// ```
#[inline]
pub fn tanh(x: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        tanh_core::<Portable>(x)
    }
}

#[inline(always)]
fn tanh_slice_body<I: Isa>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_core::<I>(v);
    }
    if x.iter().fold(false, |nan, &v| nan | v.is_nan()) {
        for (o, &v) in out.iter_mut().zip(x) {
            if v.is_nan() {
                *o = v;
            }
        }
    }
}

/// `out[i] = tanh x[i]` over the first min(len) entries, f64, within [`TANH_F64_MAX_ULP`] ulp
/// of `libm`. Runs through [`crate::arch`] (fused multiply-adds with AVX2 + FMA).
///
/// ```
/// let mut out = [0.0; 3];
/// svgp::fastmath::tanh_slice(&[-1.0, 0.1, 30.0], &mut out);
/// assert!((out[0] + 1.0_f64.tanh()).abs() <= 2.0 * f64::EPSILON && out[2] == 1.0);
/// ```
pub fn tanh_slice(x: &[f64], out: &mut [f64]) {
    struct Tanh<'a>(&'a [f64], &'a mut [f64]);
    impl Kernel for Tanh<'_> {
        type Output = ();
        #[inline(always)]
        fn run<I: Isa>(self) {
            tanh_slice_body::<I>(self.0, self.1);
        }
    }
    arch::dispatch(Tanh(x, out));
}

// ---- f32 ----

#[inline(always)]
fn tanh_core_f32(x: f32) -> f32 {
    // tanh(9) rounds to 1 in f32. A select, not `min` (a libm call on a Cortex-M4F); NaN is
    // patched by the callers.
    let a = x.abs();
    let t = if a < 9.0 { a } else { 9.0 };
    let z = t * t;
    // As in f64: a + b/c, so one division serves both branches (c = 1 for the polynomial).
    let small = t < 0.625;
    let e = exp_nonneg_f32(2.0 * t);
    let mut p = TFP[0];
    for &c in &TFP[1..] {
        p = p * z + c;
    }
    let a = if small { t } else { 1.0 };
    let b = if small { (p * z) * t } else { -2.0 };
    let c = if small { 1.0 } else { e + 1.0 };
    (a + b / c).copysign(x)
}

/// tanh for one f32, in f32 arithmetic only, NaN passed through. Within
/// [`TANH_F32_MAX_ULP`] ulp.
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

/// `out[i] = tanh x[i]` over the first min(len) entries, f32, through [`crate::arch`];
/// bit-identical to [`tanh_f32`].
///
/// ```
/// let mut out = [0.0_f32; 2];
/// svgp::fastmath::tanh_slice_f32(&[0.3, -2.0], &mut out);
/// assert_eq!(out, [svgp::fastmath::tanh_f32(0.3), svgp::fastmath::tanh_f32(-2.0)]);
/// ```
pub fn tanh_slice_f32(x: &[f32], out: &mut [f32]) {
    arch::simd(
        #[inline(always)]
        || {
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
        },
    );
}
