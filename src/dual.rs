//! Forward-mode dual numbers with `N` tangent lanes.
//!
//! `Dual<T, N>` carries a value and `N` directional derivatives. Because `T` is itself any
//! [`Scalar`], duals nest: `Dual<Dual<f64, 1>, 1>` carries second derivatives. Elementary
//! functions are written once as "value and first derivative" and pushed through
//! [`Dual::chain`], so every function gets the chain rule the same way.
//!
//! Conventions where a derivative does not exist, chosen so tests and optimisers see numbers
//! rather than NaN:
//! - a lane whose tangent is exactly zero stays zero through every function, even where the
//!   derivative is infinite (`sqrt`/`ln` at 0, `exp` past overflow);
//! - a symmetric kink gets derivative 0, the central difference: `abs` at 0, `hypot` and
//!   `atan2` at the origin;
//! - the value part of every operation is computed exactly as on the plain float, so branches
//!   on values take the same path on duals as on floats.

use crate::Scalar;
use core::cmp::Ordering;
use core::fmt;
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};
use num_traits::One;

/// A value `re` with `N` tangents `eps`: `re + Σ eps[k]·ε_k`, ε_k² = ε_j·ε_k = 0.
///
/// ```
/// use svgp::{Dual, Scalar};
/// // d/dx (x² sin x) at x = 1, one lane seeded with 1.
/// let x = Dual::<f64, 1>::variable(1.0, 0);
/// let y = x * x * x.sin();
/// let exact = 2.0 * 1.0_f64.sin() + 1.0_f64.cos();
/// assert!((y.eps[0] - exact).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Dual<T, const N: usize> {
    /// The value.
    pub re: T,
    /// The tangents, one per lane.
    pub eps: [T; N],
}

impl<T: Scalar, const N: usize> Dual<T, N> {
    /// A value with the given tangents.
    #[inline]
    pub fn new(re: T, eps: [T; N]) -> Self {
        Self { re, eps }
    }
    /// A constant: every tangent zero.
    #[inline]
    pub fn constant(re: T) -> Self {
        Self { re, eps: [T::zero(); N] }
    }
    /// An independent variable: tangent 1 in `lane`, 0 elsewhere (no lane seeded if `lane >= N`).
    #[inline]
    pub fn variable(re: T, lane: usize) -> Self {
        let mut d = Self::constant(re);
        if lane < N {
            d.eps[lane] = T::one();
        }
        d
    }
    /// Apply a function given its value `f` and derivative `df` at `self.re` (the chain rule).
    ///
    /// A lane whose tangent is exactly zero stays zero whatever `df` is: the result does not
    /// depend on that direction, so an infinite derivative at a boundary (`√x` or `ln x` at 0,
    /// `exp` past overflow) must not turn untouched lanes into `0·∞ = NaN`.
    #[inline]
    pub fn chain(self, f: T, df: T) -> Self {
        let mut eps = self.eps;
        for e in eps.iter_mut() {
            *e = mul_tangent(*e, df);
        }
        Self { re: f, eps }
    }
}

/// `e · d`, except that an exactly-zero tangent `e` gives zero even when `d` is infinite or NaN.
///
/// `is_zero` (not `==`, which looks at the real part only) so that a nested tangent with a zero
/// value but non-zero second-order parts still propagates.
#[inline]
fn mul_tangent<T: Scalar>(e: T, d: T) -> T {
    if e.is_zero() {
        e
    } else {
        e * d
    }
}

impl<T: Scalar, const N: usize> Default for Dual<T, N> {
    #[inline]
    fn default() -> Self {
        Self::constant(T::zero())
    }
}

impl<T: Scalar, const N: usize> From<T> for Dual<T, N> {
    #[inline]
    fn from(re: T) -> Self {
        Self::constant(re)
    }
}

impl<T: Scalar, const N: usize> fmt::Display for Dual<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.re)?;
        for (k, e) in self.eps.iter().enumerate() {
            write!(f, " + {e}ε{k}")?;
        }
        Ok(())
    }
}

/// Equality looks at the value only, like the ordering (see [`Scalar`]); use the `approx`
/// traits to compare tangents too.
impl<T: Scalar, const N: usize> PartialEq for Dual<T, N> {
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.re == other.re
    }
}

impl<T: Scalar, const N: usize> PartialOrd for Dual<T, N> {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.re.partial_cmp(&other.re)
    }
}

// ---- arithmetic between duals ----

impl<T: Scalar, const N: usize> Add for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn add(mut self, rhs: Self) -> Self {
        self += rhs;
        self
    }
}
impl<T: Scalar, const N: usize> AddAssign for Dual<T, N> {
    #[inline]
    fn add_assign(&mut self, rhs: Self) {
        self.re += rhs.re;
        for (a, b) in self.eps.iter_mut().zip(rhs.eps) {
            *a += b;
        }
    }
}
impl<T: Scalar, const N: usize> Sub for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, rhs: Self) -> Self {
        self -= rhs;
        self
    }
}
impl<T: Scalar, const N: usize> SubAssign for Dual<T, N> {
    #[inline]
    fn sub_assign(&mut self, rhs: Self) {
        self.re -= rhs.re;
        for (a, b) in self.eps.iter_mut().zip(rhs.eps) {
            *a -= b;
        }
    }
}
impl<T: Scalar, const N: usize> Mul for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: Self) -> Self {
        let mut eps = self.eps;
        for (a, b) in eps.iter_mut().zip(rhs.eps) {
            *a = *a * rhs.re + self.re * b;
        }
        Self { re: self.re * rhs.re, eps }
    }
}
impl<T: Scalar, const N: usize> MulAssign for Dual<T, N> {
    #[inline]
    fn mul_assign(&mut self, rhs: Self) {
        *self = *self * rhs;
    }
}
impl<T: Scalar, const N: usize> Div for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn div(self, rhs: Self) -> Self {
        // The value by a true division, so it matches the plain-float computation bit for bit.
        let q = self.re / rhs.re;
        let inv = rhs.re.recip();
        let mut eps = self.eps;
        for (a, b) in eps.iter_mut().zip(rhs.eps) {
            *a = (*a - q * b) * inv;
        }
        Self { re: q, eps }
    }
}
impl<T: Scalar, const N: usize> DivAssign for Dual<T, N> {
    #[inline]
    fn div_assign(&mut self, rhs: Self) {
        *self = *self / rhs;
    }
}
impl<T: Scalar, const N: usize> Neg for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        let mut eps = self.eps;
        for e in eps.iter_mut() {
            *e = -*e;
        }
        Self { re: -self.re, eps }
    }
}

// ---- mixing with plain constants of the lane type: dual ∘ T ----

impl<T: Scalar, const N: usize> Add<T> for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn add(mut self, rhs: T) -> Self {
        self.re += rhs;
        self
    }
}
impl<T: Scalar, const N: usize> Sub<T> for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, rhs: T) -> Self {
        self.re -= rhs;
        self
    }
}
impl<T: Scalar, const N: usize> Mul<T> for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn mul(self, rhs: T) -> Self {
        let mut eps = self.eps;
        for e in eps.iter_mut() {
            *e *= rhs;
        }
        Self { re: self.re * rhs, eps }
    }
}
impl<T: Scalar, const N: usize> Div<T> for Dual<T, N> {
    type Output = Self;
    #[inline]
    fn div(self, rhs: T) -> Self {
        let inv = rhs.recip();
        let mut eps = self.eps;
        for e in eps.iter_mut() {
            *e *= inv;
        }
        Self { re: self.re / rhs, eps }
    }
}

impl<T: Scalar, const N: usize> AddAssign<T> for Dual<T, N> {
    #[inline]
    fn add_assign(&mut self, rhs: T) {
        self.re += rhs;
    }
}
impl<T: Scalar, const N: usize> SubAssign<T> for Dual<T, N> {
    #[inline]
    fn sub_assign(&mut self, rhs: T) {
        self.re -= rhs;
    }
}
impl<T: Scalar, const N: usize> MulAssign<T> for Dual<T, N> {
    #[inline]
    fn mul_assign(&mut self, rhs: T) {
        *self = *self * rhs;
    }
}
impl<T: Scalar, const N: usize> DivAssign<T> for Dual<T, N> {
    #[inline]
    fn div_assign(&mut self, rhs: T) {
        *self = *self / rhs;
    }
}

// ---- f64 constants on the right of a nested dual: `Dual<Dual<T, M>, N> ∘ f64` ----
//
// The lane type of a nested dual is itself a dual, so `d + 1.0` would otherwise need
// `Dual::constant(..)` ceremony. These impls cannot overlap the lane-type ones above (a `Dual`
// is never `f64`); an unsuffixed literal resolves to them because they are the only
// float-typed candidates. Depth two covers second derivatives; deeper nesting uses `from_f64`.

macro_rules! nested_f64_rhs_ops {
    ($($tr:ident $method:ident $op:tt),*) => {$(
        impl<T: Scalar, const M: usize, const N: usize> $tr<f64> for Dual<Dual<T, M>, N> {
            type Output = Self;
            #[inline]
            fn $method(self, rhs: f64) -> Self {
                self $op Dual::<T, M>::constant(T::from_f64(rhs))
            }
        }
    )*};
}
nested_f64_rhs_ops!(Add add +, Sub sub -, Mul mul *, Div div /);

// ---- plain f32/f64 constants on the left: c ∘ dual (for any nesting depth) ----

macro_rules! float_lhs_ops {
    ($($f:ty),*) => {$(
        impl<T: Scalar, const N: usize> Add<Dual<T, N>> for $f {
            type Output = Dual<T, N>;
            #[inline]
            fn add(self, rhs: Dual<T, N>) -> Dual<T, N> {
                Dual::constant(T::from_f64(self as f64)) + rhs
            }
        }
        impl<T: Scalar, const N: usize> Sub<Dual<T, N>> for $f {
            type Output = Dual<T, N>;
            #[inline]
            fn sub(self, rhs: Dual<T, N>) -> Dual<T, N> {
                Dual::constant(T::from_f64(self as f64)) - rhs
            }
        }
        impl<T: Scalar, const N: usize> Mul<Dual<T, N>> for $f {
            type Output = Dual<T, N>;
            #[inline]
            fn mul(self, rhs: Dual<T, N>) -> Dual<T, N> {
                rhs * T::from_f64(self as f64)
            }
        }
        impl<T: Scalar, const N: usize> Div<Dual<T, N>> for $f {
            type Output = Dual<T, N>;
            #[inline]
            fn div(self, rhs: Dual<T, N>) -> Dual<T, N> {
                Dual::constant(T::from_f64(self as f64)) / rhs
            }
        }
    )*};
}
// Only f64 on the left: with f32 impls too, an unsuffixed literal (`(2.0 * x).eps`, or
// `let y = 2.0 * x * x`) is ambiguous wherever the type is needed before float-literal
// fallback (tried: E0282). An f64 constant is rounded to the lane type, so `2.0 * x` works for
// `Dual<f32, N>` as well; an `f32` variable goes on the right (`x * s`).
float_lhs_ops!(f64);

impl<T: Scalar, const N: usize> Sum for Dual<T, N> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::default(), |a, b| a + b)
    }
}

impl<T: Scalar, const N: usize> num_traits::Zero for Dual<T, N> {
    #[inline]
    fn zero() -> Self {
        Self::default()
    }
    #[inline]
    fn is_zero(&self) -> bool {
        self.re.is_zero() && self.eps.iter().all(|e| e.is_zero())
    }
}

impl<T: Scalar, const N: usize> num_traits::One for Dual<T, N> {
    #[inline]
    fn one() -> Self {
        Self::constant(T::one())
    }
}

// ---- approx: compare the value and every tangent ----

impl<T: Scalar, const N: usize> approx::AbsDiffEq for Dual<T, N> {
    type Epsilon = T::Epsilon;
    fn default_epsilon() -> Self::Epsilon {
        T::default_epsilon()
    }
    fn abs_diff_eq(&self, other: &Self, epsilon: Self::Epsilon) -> bool {
        self.re.abs_diff_eq(&other.re, epsilon)
            && self.eps.iter().zip(&other.eps).all(|(a, b)| a.abs_diff_eq(b, epsilon))
    }
}

impl<T: Scalar, const N: usize> approx::RelativeEq for Dual<T, N> {
    fn default_max_relative() -> Self::Epsilon {
        T::default_max_relative()
    }
    fn relative_eq(&self, other: &Self, epsilon: Self::Epsilon, max_relative: Self::Epsilon) -> bool {
        self.re.relative_eq(&other.re, epsilon, max_relative)
            && self.eps.iter().zip(&other.eps).all(|(a, b)| a.relative_eq(b, epsilon, max_relative))
    }
}

impl<T: Scalar, const N: usize> approx::UlpsEq for Dual<T, N> {
    fn default_max_ulps() -> u32 {
        T::default_max_ulps()
    }
    fn ulps_eq(&self, other: &Self, epsilon: Self::Epsilon, max_ulps: u32) -> bool {
        self.re.ulps_eq(&other.re, epsilon, max_ulps)
            && self.eps.iter().zip(&other.eps).all(|(a, b)| a.ulps_eq(b, epsilon, max_ulps))
    }
}

// ---- the Scalar implementation: value and derivative, then `chain` ----

impl<T: Scalar, const N: usize> Scalar for Dual<T, N> {
    type Real = T::Real;
    const LANE_BYTES: usize = T::LANE_BYTES * (N + 1);

    #[inline]
    fn from_f64(c: f64) -> Self {
        Self::constant(T::from_f64(c))
    }
    #[inline]
    fn from_real(r: T::Real) -> Self {
        Self::constant(T::from_real(r))
    }
    #[inline]
    fn real(self) -> T::Real {
        self.re.real()
    }
    #[inline]
    fn epsilon() -> Self {
        Self::constant(T::epsilon())
    }
    #[inline]
    fn is_finite(self) -> bool {
        self.re.is_finite() && self.eps.iter().all(|e| e.is_finite())
    }
    #[inline]
    fn exp(self) -> Self {
        let e = self.re.exp();
        self.chain(e, e)
    }
    #[inline]
    fn ln(self) -> Self {
        self.chain(self.re.ln(), self.re.recip())
    }
    #[inline]
    fn ln_1p(self) -> Self {
        self.chain(self.re.ln_1p(), (T::one() + self.re).recip())
    }
    #[inline]
    fn exp_m1(self) -> Self {
        self.chain(self.re.exp_m1(), self.re.exp())
    }
    #[inline]
    fn sqrt(self) -> Self {
        // At 0 the derivative is +∞: seeded lanes become ±∞, untouched lanes stay 0 (see `chain`).
        let s = self.re.sqrt();
        self.chain(s, (s + s).recip())
    }
    #[inline]
    fn powi(self, n: i32) -> Self {
        if n == 0 {
            return Self::one();
        }
        // The value straight from `powi` (not x^{n-1}·x, which is ∞·0 = NaN at x = 0 for n < 0);
        // `n - 1` would overflow for i32::MIN, where n·x^n/x is just as good.
        let v = self.re.powi(n);
        let p = if n > i32::MIN { self.re.powi(n - 1) } else { v / self.re };
        self.chain(v, T::from_f64(f64::from(n)) * p)
    }
    #[inline]
    fn powf(self, y: Self) -> Self {
        let v = self.re.powf(y.re);
        // ∂/∂x = y x^{y-1}; ∂/∂y = x^y ln x. Each term only where its tangent is non-zero, so a
        // constant exponent at x = 0 (ln 0 = −∞) or a constant base with ∞ slope stays finite.
        let dx = y.re * self.re.powf(y.re - T::one());
        let dy = v * self.re.ln();
        let mut eps = self.eps;
        for (a, b) in eps.iter_mut().zip(y.eps) {
            *a = mul_tangent(*a, dx) + mul_tangent(b, dy);
        }
        Self { re: v, eps }
    }
    #[inline]
    fn sin(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(s, c)
    }
    #[inline]
    fn cos(self) -> Self {
        let (s, c) = self.re.sin_cos();
        self.chain(c, -s)
    }
    #[inline]
    fn sin_cos(self) -> (Self, Self) {
        let (s, c) = self.re.sin_cos();
        (self.chain(s, c), self.chain(c, -s))
    }
    #[inline]
    fn tanh(self) -> Self {
        // sech²x = 4e/(1+e)² with e = e^{-2|x|}: no cancellation for large |x| (1 − tanh² is 0
        // there in floating point) and no overflow.
        let e = (self.re.abs() * T::from_f64(-2.0)).exp();
        let one_e = T::one() + e;
        self.chain(self.re.tanh(), T::from_f64(4.0) * e / (one_e * one_e))
    }
    #[inline]
    fn atan2(self, x: Self) -> Self {
        // d atan2(y, x) = (x dy − y dx) / r², written as ((x/r) dy − (y/r) dx) / r with
        // r = hypot(y, x) so that neither tiny nor huge arguments underflow or overflow r².
        // At the origin the derivative is undefined; it is taken as 0 (as for `hypot`).
        let v = self.re.atan2(x.re);
        let r = self.re.hypot(x.re);
        if r == T::zero() {
            return Self::constant(v);
        }
        let (c, s) = (x.re / r, self.re / r);
        let mut eps = self.eps;
        for (a, b) in eps.iter_mut().zip(x.eps) {
            *a = (c * *a - s * b) / r;
        }
        Self { re: v, eps }
    }
    #[inline]
    fn abs(self) -> Self {
        let z = T::zero();
        let d = if self.re > z {
            T::one()
        } else if self.re < z {
            -T::one()
        } else {
            z
        };
        self.chain(self.re.abs(), d)
    }
    #[inline]
    fn hypot(self, y: Self) -> Self {
        let h = self.re.hypot(y.re);
        if h == T::zero() {
            return Self::constant(h);
        }
        let (dx, dy) = (self.re / h, y.re / h);
        let mut eps = self.eps;
        for (a, b) in eps.iter_mut().zip(y.eps) {
            *a = *a * dx + b * dy;
        }
        Self { re: h, eps }
    }
    #[inline]
    fn erfc(self) -> Self {
        // d/dx erfc x = −(2/√π)·e^{−x²} (0, not NaN, far in either tail).
        let d = T::from_f64(-core::f64::consts::FRAC_2_SQRT_PI) * (-(self.re * self.re)).exp();
        self.chain(self.re.erfc(), d)
    }
    #[inline]
    fn softplus(self) -> Self {
        self.chain(self.re.softplus(), self.re.sigmoid())
    }
    #[inline]
    fn sigmoid(self) -> Self {
        // σ'(x) = σ(x)σ(−x): unlike σ(1 − σ) it keeps its relative accuracy for large x.
        let s = self.re.sigmoid();
        self.chain(s, s * (-self.re).sigmoid())
    }
}
