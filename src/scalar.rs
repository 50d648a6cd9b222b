//! The [`Scalar`] trait: the one bound every numerical routine in the crate is generic over.
//!
//! Implemented for `f32`, `f64` and [`Dual<T, N>`](crate::Dual) (so gradients come from
//! running the same code on dual numbers). Every elementary function goes through `libm`,
//! so the trait works identically under `no_std`.

use core::fmt::{Debug, Display};
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// A real number type: `f32`, `f64`, or a forward-mode dual number over one of them.
///
/// Comparisons (`PartialOrd`, `PartialEq`, [`Scalar::max`], [`Scalar::min`]) look at the
/// real part only, so branchy numerical code (pivot checks, clipping) behaves the same
/// on duals as on plain floats.
///
/// ```
/// use svgp::Scalar;
/// fn softplus_sum<S: Scalar>(xs: &[S]) -> S {
///     xs.iter().map(|&x| x.softplus()).sum()
/// }
/// assert!((softplus_sum(&[0.0_f64, 0.0]) - 2.0 * core::f64::consts::LN_2).abs() < 1e-15);
/// ```
pub trait Scalar:
    Copy
    + Debug
    + Display
    + Default
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + num_traits::Zero
    + num_traits::One
    + approx::RelativeEq
    + approx::UlpsEq<Epsilon = <Self as Scalar>::Real>
{
    /// The plain float at the bottom of any dual nesting (`f32` or `f64`).
    type Real: Scalar<Real = Self::Real> + Into<f64>;

    /// A constant (all tangents zero), rounded to the underlying float.
    fn from_f64(c: f64) -> Self;
    /// A constant from an integer count (dimensions, sample sizes).
    #[inline]
    fn from_usize(n: usize) -> Self {
        Self::from_f64(n as f64)
    }
    /// Lift a plain float of the underlying type (no rounding).
    fn from_real(r: Self::Real) -> Self;
    /// The real part, as the underlying float.
    fn real(self) -> Self::Real;
    /// The real part, widened to `f64` (for reporting and error messages).
    #[inline]
    fn re(self) -> f64 {
        self.real().into()
    }
    /// Machine epsilon of the underlying float.
    fn epsilon() -> Self;
    /// `true` when the value (and, for duals, every tangent) is finite.
    fn is_finite(self) -> bool;

    /// e^x.
    fn exp(self) -> Self;
    /// Natural logarithm.
    fn ln(self) -> Self;
    /// ln(1 + x), accurate near 0.
    fn ln_1p(self) -> Self;
    /// e^x − 1, accurate near 0.
    fn exp_m1(self) -> Self;
    /// Square root. On duals the derivative at 0 is +∞ in lanes with a non-zero tangent, 0 elsewhere.
    fn sqrt(self) -> Self;
    /// x^n for an integer n.
    fn powi(self, n: i32) -> Self;
    /// x^y.
    fn powf(self, y: Self) -> Self;
    /// Sine.
    fn sin(self) -> Self;
    /// Cosine.
    fn cos(self) -> Self;
    /// (sin x, cos x) in one call.
    fn sin_cos(self) -> (Self, Self);
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
    /// Four-quadrant arctangent of `self / x`.
    fn atan2(self, x: Self) -> Self;
    /// |x|. On duals the derivative at 0 is taken as 0 (the central difference).
    fn abs(self) -> Self;
    /// sqrt(x² + y²) without undue overflow. On duals the derivative at (0, 0) is taken as 0.
    fn hypot(self, y: Self) -> Self;

    /// 1/x.
    #[inline]
    fn recip(self) -> Self {
        Self::one() / self
    }
    /// x·a + b.
    #[inline]
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    /// The larger of two values, by real part (`self` on ties or NaN in `other`).
    #[inline]
    fn max(self, other: Self) -> Self {
        if other > self {
            other
        } else {
            self
        }
    }
    /// The smaller of two values, by real part (`self` on ties or NaN in `other`).
    #[inline]
    fn min(self, other: Self) -> Self {
        if other < self {
            other
        } else {
            self
        }
    }
    /// ln(1 + e^x), stable for large |x|.
    #[inline]
    fn softplus(self) -> Self {
        // max(x, 0) + ln(1 + e^{-|x|}) is exact in both tails; written so duals get the
        // right derivative (the logistic function) everywhere.
        if self > Self::zero() {
            self + (-self).exp().ln_1p()
        } else {
            self.exp().ln_1p()
        }
    }
    /// The logistic function 1 / (1 + e^{-x}), the derivative of softplus.
    #[inline]
    fn sigmoid(self) -> Self {
        if self >= Self::zero() {
            (Self::one() + (-self).exp()).recip()
        } else {
            let e = self.exp();
            e / (Self::one() + e)
        }
    }
    /// ln(e^a + e^b), stable for large arguments.
    ///
    /// Infinite arguments give the limit (`−∞` and `−∞` give `−∞`, not `∞ − ∞ = NaN`); NaN
    /// propagates. On duals the derivative is the softmax weighting of the two tangents.
    #[inline]
    fn log_add_exp(self, b: Self) -> Self {
        let (hi, lo) = if self >= b { (self, b) } else { (b, self) };
        if hi.re().is_infinite() {
            return hi;
        }
        hi + (lo - hi).exp().ln_1p()
    }
    /// ln Σ e^{x_i} over a slice, stable for large arguments; −∞ for an empty slice, NaN if
    /// any entry is NaN. On duals the derivative is the softmax weighting of the tangents.
    fn log_sum_exp(xs: &[Self]) -> Self {
        let mut hi = Self::from_f64(f64::NEG_INFINITY);
        for &x in xs {
            if x.re().is_nan() {
                return x;
            }
            hi = hi.max(x);
        }
        if hi.re().is_infinite() {
            return hi;
        }
        let mut acc = Self::zero();
        for &x in xs {
            acc += (x - hi).exp();
        }
        hi + acc.ln()
    }
    /// `sin[i], cos[i] = sin_cos(x[i])` over slices of one length (extra entries of the longer
    /// ones are left alone). `f32` and `f64` override this with the vectorisable kernels of
    /// [`crate::fastmath`]; other types loop over [`Scalar::sin_cos`].
    #[inline]
    fn sin_cos_slice(x: &[Self], sin: &mut [Self], cos: &mut [Self]) {
        for ((&v, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
            (*s, *c) = v.sin_cos();
        }
    }
}

macro_rules! impl_scalar_float {
    ($t:ident, $exp:ident, $ln:ident, $ln_1p:ident, $exp_m1:ident, $sqrt:ident, $pow:ident,
     $sin:ident, $cos:ident, $sincos:ident, $tanh:ident, $atan2:ident, $fabs:ident, $hypot:ident, $fma:ident) => {
        impl Scalar for $t {
            type Real = $t;
            #[inline]
            fn from_f64(c: f64) -> Self {
                c as $t
            }
            #[inline]
            fn from_real(r: $t) -> Self {
                r
            }
            #[inline]
            fn real(self) -> $t {
                self
            }
            #[inline]
            fn epsilon() -> Self {
                $t::EPSILON
            }
            #[inline]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline]
            fn exp(self) -> Self {
                libm::$exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                libm::$ln(self)
            }
            #[inline]
            fn ln_1p(self) -> Self {
                libm::$ln_1p(self)
            }
            #[inline]
            fn exp_m1(self) -> Self {
                libm::$exp_m1(self)
            }
            #[inline]
            fn sqrt(self) -> Self {
                libm::$sqrt(self)
            }
            #[inline]
            fn powi(self, n: i32) -> Self {
                // Binary exponentiation: exact for small n, no libm call.
                let mut base = if n < 0 { 1.0 / self } else { self };
                let mut k = n.unsigned_abs();
                let mut acc: $t = 1.0;
                while k > 0 {
                    if k & 1 == 1 {
                        acc *= base;
                    }
                    base *= base;
                    k >>= 1;
                }
                acc
            }
            #[inline]
            fn powf(self, y: Self) -> Self {
                libm::$pow(self, y)
            }
            #[inline]
            fn sin(self) -> Self {
                libm::$sin(self)
            }
            #[inline]
            fn cos(self) -> Self {
                libm::$cos(self)
            }
            #[inline]
            fn sin_cos(self) -> (Self, Self) {
                libm::$sincos(self)
            }
            #[inline]
            fn tanh(self) -> Self {
                libm::$tanh(self)
            }
            #[inline]
            fn atan2(self, x: Self) -> Self {
                libm::$atan2(self, x)
            }
            #[inline]
            fn abs(self) -> Self {
                libm::$fabs(self)
            }
            #[inline]
            fn hypot(self, y: Self) -> Self {
                libm::$hypot(self, y)
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self * a + b
            }
            #[inline]
            fn sin_cos_slice(x: &[Self], sin: &mut [Self], cos: &mut [Self]) {
                <$t as crate::fastmath::SinCosSlice>::sin_cos_slice(x, sin, cos)
            }
        }
    };
}

impl_scalar_float!(f64, exp, log, log1p, expm1, sqrt, pow, sin, cos, sincos, tanh, atan2, fabs, hypot, fma);
impl_scalar_float!(
    f32, expf, logf, log1pf, expm1f, sqrtf, powf, sinf, cosf, sincosf, tanhf, atan2f, fabsf, hypotf, fmaf
);
