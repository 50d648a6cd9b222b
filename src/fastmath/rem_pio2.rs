//! Range reduction for sine and cosine: x = j·π/2 + (r + rr), |r| ≤ π/4 (Cody–Waite).
//!
//! j is the nearest integer to x·2/π, found by the add-and-subtract-1.5·2^p trick, which also
//! leaves j mod 4 (the quadrant) in the low mantissa bits of the sum. Then r + rr = x − j·π/2
//! as an unevaluated sum, with π/2 split into parts whose products with j are exact (three
//! 33-bit parts plus a tail for f64, fdlibm's split; three 12-bit parts plus a tail for f32)
//! and the subtractions done by TwoSum. An error term is non-zero only when its subtraction
//! did not cancel (when its result is about r), so r + rr is accurate far below an ulp of r,
//! even next to a multiple of π/2. Slices whose every |x| ≤ [`F64_SMALL_LIMIT`](super::F64_SMALL_LIMIT) (typical
//! random-feature arguments) use a split into two 47-bit parts instead, which needs one
//! TwoSum rather than three.
//!
//! Valid for |x| ≤ [`F64_FAST_LIMIT`](super::F64_FAST_LIMIT) (or [`F64_SMALL_LIMIT`](super::F64_SMALL_LIMIT)) and |x| ≤ [`F32_FAST_LIMIT`](super::F32_FAST_LIMIT);
//! beyond, the result is garbage (but no undefined behaviour) and callers use `libm`.

use super::{SHIFT32, SHIFT64};
use crate::arch::Isa;
use core::f64::consts::FRAC_2_PI;

// π/2 = P1 + P2 + P3 + P3T (fdlibm's split; P1..P3 have 33 significant bits).
const PIO2_1: f64 = 1.570_796_326_734_125_614_17e0;
const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11;
const PIO2_3: f64 = 2.022_266_248_711_166_455_80e-21;
const PIO2_3T: f64 = 8.478_427_660_368_899_569_97e-32;
// π/2 = S1 + S2 + S3 with S1, S2 of at most 47 significant bits (exact products with |j| < 64).
const PIO2_S1: f64 = 1.5707963267948912;
const PIO2_S2: f64 = 5.390302858158081e-15;
const PIO2_S3: f64 = 3.7950107727212256e-29;

const FRAC_2_PI_F32: f32 = core::f32::consts::FRAC_2_PI;
// π/2 = P1 + P2 + P3 + P4 with P1..P3 of at most 12 significant bits.
const PIO2F_1: f32 = 1.570_312_5;
const PIO2F_2: f32 = 4.837_512_969_970_703e-4;
const PIO2F_3: f32 = 7.549_533_620_476_723e-8;
const PIO2F_4: f32 = 2.563_344_068_257_09e-12;

/// `a + b = s + e` exactly (Knuth's TwoSum; no ordering assumption, no branches).
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// `a + b = s + e` exactly when |a| ≥ |b| (Dekker's Fast2Sum).
#[inline(always)]
fn fast_two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    (s, b - (s - a))
}

/// `a + b = s + e` exactly (TwoSum in f32).
#[inline(always)]
fn two_sum_f32(a: f32, b: f32) -> (f32, f32) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

/// (q, r, rr) with j mod 4 in q's low bits and r + rr = x − j·π/2, for |x| ≤ [`F64_FAST_LIMIT`](super::F64_FAST_LIMIT)
/// (≤ [`F64_SMALL_LIMIT`](super::F64_SMALL_LIMIT) when `SMALL`). Every product is exact, each TwoSum too.
#[inline(always)]
pub(super) fn rem_pio2<I: Isa, const SMALL: bool>(x: f64) -> (u64, f64, f64) {
    let shifted = I::mul_add(x, FRAC_2_PI, SHIFT64);
    let q = shifted.to_bits();
    let j = shifted - SHIFT64;
    let (r, rr) = if SMALL {
        // |j| < 2^6: two 47-bit parts of π/2 keep every product exact; one TwoSum, then a
        // Fast2Sum: |t| ≤ ulp(s)/2 + 2^-87 ≤ |s|, as no double within the fast range comes
        // closer than 2^-60.5 to a multiple of π/2 (the closest is the one next to 29·π/2).
        let (s, e) = two_sum(I::mul_add(-j, PIO2_S1, x), -(j * PIO2_S2));
        fast_two_sum(s, I::mul_add(-j, PIO2_S3, e))
    } else {
        let (s1, e1) = two_sum(I::mul_add(-j, PIO2_1, x), -(j * PIO2_2));
        let (s2, e2) = two_sum(s1, -(j * PIO2_3));
        two_sum(s2, I::mul_add(-j, PIO2_3T, e1 + e2))
    };
    (q, r, rr)
}

/// (j mod 4 in the low bits, r, rr) with r + rr = x − j·π/2 to far below an ulp of r, for
/// |x| ≤ [`F32_FAST_LIMIT`](super::F32_FAST_LIMIT), in f32 only: f32 has too few bits to round r twice.
#[inline(always)]
pub(super) fn rem_pio2_f32(x: f32) -> (u32, f32, f32) {
    let shifted = x * FRAC_2_PI_F32 + SHIFT32;
    let q = shifted.to_bits();
    let j = shifted - SHIFT32;
    let (s1, e1) = two_sum_f32(x - j * PIO2F_1, -(j * PIO2F_2));
    let (s2, e2) = two_sum_f32(s1, -(j * PIO2F_3));
    let (r, rr) = two_sum_f32(s2, (e1 + e2) - j * PIO2F_4);
    (q, r, rr)
}
