//! Cosine alone, f64 and f32.
//!
//! f32: the reduction and the one polynomial the quadrant needs, per entry: half the
//! polynomial work of [`sin_cos_f32`](super::sin_cos_f32) where the code is scalar (a
//! Cortex-M4F), and bit-identical to its cosines.
//!
//! f64: the feature maps run on x86-64, where the SIMD kernel computes both polynomials per
//! lane anyway (selecting one per lane would cost as much), so cosines come from
//! [`sin_cos_slice`](super::sin_cos_slice) with the sines dropped into a stack buffer.

use super::rem_pio2::rem_pio2_f32;
use super::sin_cos::{cos_poly_f32, cos_sign_f32, sin_cos, sin_cos_slice, sin_poly_f32};
use super::F32_FAST_LIMIT;
use crate::arch;

/// Entries per call of the f64 sine–cosine kernel in [`cos_in_place`] (the size of its stack
/// buffers: 2 × 2 KiB).
const BLOCK: usize = 256;

/// cos x for one f64: [`sin_cos`]'s cosine (never fused, `libm` beyond the fast range).
///
/// ```
/// assert!((svgp::fastmath::cos(2.0) - 2.0_f64.cos()).abs() <= 2.0 * f64::EPSILON);
/// ```
#[inline]
pub fn cos(x: f64) -> f64 {
    sin_cos(x).1
}

/// `v[i] = cos v[i]` in place, f64: [`sin_cos_slice`] over blocks of 256 entries (its choice
/// of reduction is made per block), with the sines dropped.
///
/// ```
/// let mut v = [0.0, 1.0, 3.0];
/// svgp::fastmath::cos_in_place(&mut v);
/// assert!((v[2] - 3.0_f64.cos()).abs() <= 2.0 * f64::EPSILON);
/// ```
pub fn cos_in_place(v: &mut [f64]) {
    let (mut x, mut sin) = ([0.0; BLOCK], [0.0; BLOCK]);
    for chunk in v.chunks_mut(BLOCK) {
        let k = chunk.len();
        x[..k].copy_from_slice(chunk);
        sin_cos_slice(&x[..k], &mut sin[..k], chunk);
    }
}

/// cos x for |x| ≤ [`F32_FAST_LIMIT`]: one polynomial per entry instead of two;
/// bit-identical to the cosine of the sine–cosine kernel.
#[inline(always)]
fn cos_core_f32(x: f32) -> f32 {
    let (q, r, rr) = rem_pio2_f32(x);
    let v = if q & 1 != 0 { sin_poly_f32(r, rr) } else { cos_poly_f32(r, rr) };
    cos_sign_f32(q, v)
}

/// cos x for one f32 (see [`sin_cos_f32`](super::sin_cos_f32)), `libm` beyond
/// [`F32_FAST_LIMIT`].
///
/// ```
/// assert_eq!(svgp::fastmath::cos_f32(0.5), svgp::fastmath::sin_cos_f32(0.5).1);
/// ```
#[inline]
pub fn cos_f32(x: f32) -> f32 {
    if x.abs() <= F32_FAST_LIMIT {
        cos_core_f32(x)
    } else {
        libm::cosf(x)
    }
}

/// `v[i] = cos v[i]` in place, f32, through [`crate::arch`]; bit-identical to [`cos_f32`].
///
/// ```
/// let mut v = [0.5_f32, 7000.0];
/// svgp::fastmath::cos_in_place_f32(&mut v);
/// assert_eq!(v, [svgp::fastmath::cos_f32(0.5), svgp::fastmath::cos_f32(7000.0)]);
/// ```
pub fn cos_in_place_f32(v: &mut [f32]) {
    arch::simd(
        #[inline(always)]
        || {
            let fast = v.iter().fold(true, |ok, &x| ok & (x.abs() <= F32_FAST_LIMIT));
            if fast {
                v.iter_mut().for_each(|x| *x = cos_core_f32(*x));
            } else {
                v.iter_mut().for_each(|x| *x = cos_f32(*x));
            }
        },
    );
}
