//! Branch-free elementary functions on plain `f32`/`f64` slices, written so the compiler
//! vectorises them: sine and cosine, cosine alone, tanh and e^x.
//!
//! The random-feature maps evaluate cos on every entry of an n × J matrix (160 k entries for
//! the flagship's 630 points × 256 features, every training step), the MLP evaluates tanh on
//! every hidden unit and the RBF kernel e^x on every covariance entry; a `libm` call per entry
//! costs more than the rest of those stages. These kernels do the same work in straight-line
//! arithmetic (no branches per entry, no table look-ups) that the compiler turns into SIMD.
//! Rare inputs the straight-line code cannot handle (beyond the reduction's range, NaN, ±∞)
//! are detected by one vectorised sweep and redone with `libm` afterwards.
//!
//! One file per function, as `libm` lays itself out; each file's docs explain its algorithm:
//! - `rem_pio2`: the Cody–Waite reduction x = j·π/2 + r shared by the trigonometric kernels;
//! - `sin_cos`: sine and cosine together ([`sin_cos`], [`sin_cos_slice`], and f32);
//! - `cos`: cosine alone ([`cos`], [`cos_in_place`], and f32);
//! - `tanh`: [`tanh`], [`tanh_slice`], and f32;
//! - `exp`: [`exp`], [`exp_in_place`], the RBF's [`scaled_exp_in_place`], and f32.
//!
//! Generic code does not call these directly: it calls the slice hooks of
//! [`Scalar`](crate::Scalar) (`sin_cos_slice`, `cos_in_place`, `tanh_slice`, `exp_in_place`,
//! `scaled_exp_in_place`), whose `f32`/`f64` implementations are these functions and whose
//! `Dual` implementations loop over the dual's own elementary functions.
//!
//! **Dispatch.** The slice functions run through [`crate::arch`]: with the `std` feature on an
//! x86-64 CPU with AVX2 and FMA they run a copy compiled for those features. The f64 sine,
//! cosine and tanh polynomials then use fused multiply-adds (`a·b + c` rounded once), so their
//! results may differ in the last bit from the portable copy (and from the one-value
//! functions, which never fuse); both are held to the same documented bound. The f32 kernels
//! and e^x never fuse: their results are the same bits on every path and target (so the
//! firmware's f32 sine and cosine match the desktop's).
//!
//! Accuracy, asserted by `tests/fastmath_accuracy.rs` over ~800 k f64 and ~500 k f32 inputs
//! (uniform on several ranges, log-uniform magnitudes, every neighbour of k·π/2, the range
//! edges): f64 sin and cos within [`F64_MAX_ULP`] ulp of `libm` (measured: unfused, cos
//! identical to `libm` at every test point and sin at most 1 ulp away; fused, both at most
//! 1 ulp away; `libm` itself is within 1 ulp of the exact value); f32 within [`F32_MAX_ULP`]
//! ulp of the exact value (measured: 0.85 ulp); f64 tanh within [`TANH_F64_MAX_ULP`] ulp of
//! `libm`, f32 tanh within [`TANH_F32_MAX_ULP`] of the exact value; f64 e^x within
//! [`EXP_MAX_ULP`] ulp of `libm` (f32 e^x: see `exp`'s docs). Cost: about 50–70 operations per sin/cos pair, vectorised (2–8 lanes); on
//! the development machine (AVX2 + FMA) about 3.5 ns per f64 entry against ~20 ns for
//! `libm::sincos`.

// Coefficients are quoted verbatim from fdlibm and Cephes (more digits than a double holds;
// the literals round to the intended values).
#![allow(clippy::excessive_precision)]

mod cos;
mod exp;
mod rem_pio2;
mod sin_cos;
mod tanh;

pub use cos::{cos, cos_f32, cos_in_place, cos_in_place_f32};
pub use exp::{
    exp, exp_f32, exp_in_place, exp_in_place_f32, scaled_exp_in_place, scaled_exp_in_place_f32, EXP_MAX_ULP,
};
pub use sin_cos::{sin_cos, sin_cos_f32, sin_cos_slice, sin_cos_slice_f32, sin_f32};
pub use tanh::{tanh, tanh_f32, tanh_slice, tanh_slice_f32, TANH_F32_MAX_ULP, TANH_F64_MAX_ULP};

/// f64 inputs with |x| ≤ this take the polynomial path (j < 2^19 keeps j·(π/2 part) exact).
pub const F64_FAST_LIMIT: f64 = 8.0e5;
/// f64 slices whose every |x| is at most this (so |j| ≤ 63) take a cheaper reduction
/// (π/2 in two 47-bit parts plus a tail: one TwoSum instead of three), same accuracy.
pub const F64_SMALL_LIMIT: f64 = 99.0;
/// f32 inputs with |x| ≤ this take the polynomial path (j < 2^12 keeps j·(π/2 part) exact).
pub const F32_FAST_LIMIT: f32 = 6.0e3;
/// Largest distance of the f64 kernels from `libm`'s sin and cos, in ulp, over |x| ≤
/// [`F64_FAST_LIMIT`] (asserted over the test set).
pub const F64_MAX_ULP: f64 = 1.0;
/// Largest error of the f32 kernels against the exact value, in ulp, over |x| ≤
/// [`F32_FAST_LIMIT`] (asserted over the test set).
pub const F32_MAX_ULP: f64 = 1.0;

/// 1.5·2^52: adding it to |v| < 2^51 rounds v to an integer and leaves that integer (two's
/// complement, in the low mantissa bits) in the sum's bit pattern.
const SHIFT64: f64 = 6_755_399_441_055_744.0;
/// 1.5·2^23, the same rounding shifter for f32.
const SHIFT32: f32 = 12_582_912.0;
