//! The [`Scalar`] trait: the one bound every numerical routine in the crate is generic over.
//!
//! Implemented for `f32`, `f64` and [`Dual<T, N>`](crate::Dual) (so gradients come from
//! running the same code on dual numbers). Every elementary function goes through `libm`,
//! so the trait works identically under `no_std` (square roots excepted: under `std` the
//! compiler's own, see [`Scalar::sqrt`]).
//!
//! **Fast paths without looking at the type.** Generic code never asks which type `S` is.
//! What the hot loops need to know is declared on the type instead:
//! - *slice hooks* for the vectorisable elementary functions ([`Scalar::sin_cos_slice`],
//!   [`Scalar::cos_in_place`], [`Scalar::tanh_slice`], [`Scalar::exp_in_place`],
//!   [`Scalar::scaled_exp_in_place`]): `f32` and `f64` implement them with the branch-free
//!   kernels of [`crate::fastmath`] (run through [`crate::arch`]'s CPU dispatch); the trait
//!   defaults, which `Dual` keeps, loop over the element functions, so tangents follow the
//!   same chain rule as everywhere else;
//! - [`Scalar::LANE_BYTES`], the bytes one value fills in a SIMD register, from which the
//!   product engine and the Cholesky pick their tile shapes (or the plain loops).

use crate::fastmath;
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

    /// Bytes one value fills in a SIMD register: 4 for `f32`, 8 for `f64`, (N + 1) times its
    /// part's for a `Dual<T, N>` (a value and N tangents side by side).
    ///
    /// The register-blocked kernels read their shapes off it: the product engine's tiles
    /// (a 32-byte register holds 8 values of 4 bytes or 4 of 8) and the Cholesky's block
    /// width; types wider than an `f64` take the plain loops, whose order suits any width.
    const LANE_BYTES: usize;

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
    ///
    /// Safe to call inside [`crate::arch`]'s dispatched copies: under `std`, `f32`/`f64` use the
    /// compiler's square root, encoded to match the surrounding code, rather than `libm`'s x86
    /// inline assembly, a legacy-SSE `sqrtsd` that stalls badly between 256-bit AVX
    /// instructions (measured: the Cholesky ran slower in its AVX2 copy than in the portable
    /// one). Both are correctly rounded, so the results are the same bits.
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
    /// The complementary error function erfc x = 1 − erf x = (2/√π)∫ₓ^∞ e^{−t²} dt, accurate in
    /// the upper tail (where 1 − erf x would cancel): the normal CDF is Φ(z) = ½erfc(−z/√2).
    fn erfc(self) -> Self;

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

    // ---- slice hooks: `f32`/`f64` override them with `fastmath`'s kernels ----

    /// `sin[i], cos[i] = sin_cos(x[i])` over slices of one length (extra entries of the longer
    /// ones are left alone). `f32` and `f64`: [`fastmath::sin_cos_slice`] and its f32 twin;
    /// the default (duals) loops over [`Scalar::sin_cos`].
    #[inline]
    fn sin_cos_slice(x: &[Self], sin: &mut [Self], cos: &mut [Self]) {
        for ((&v, s), c) in x.iter().zip(sin.iter_mut()).zip(cos.iter_mut()) {
            (*s, *c) = v.sin_cos();
        }
    }
    /// `v[i] = cos v[i]` in place. `f32`: [`fastmath::cos_in_place_f32`]; `f64`:
    /// [`fastmath::cos_in_place`] on whole blocks of 256 entries and [`fastmath::cos`] on the
    /// rest (the order its results were recorded in: the block kernel may fuse multiply-adds,
    /// the one-value function never does); the default loops over [`Scalar::cos`].
    #[inline]
    fn cos_in_place(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = x.cos());
    }
    /// `out[i] = tanh x[i]` over slices of one length (extra entries of the longer one are
    /// left alone). `f32`: [`fastmath::tanh_slice_f32`]; `f64`: [`fastmath::tanh_slice`] on
    /// whole blocks of 256 entries and [`fastmath::tanh`] on the rest (as for `cos_in_place`);
    /// the default loops over [`Scalar::tanh`].
    #[inline]
    fn tanh_slice(x: &[Self], out: &mut [Self]) {
        out.iter_mut().zip(x).for_each(|(o, &v)| *o = v.tanh());
    }
    /// `v[i] = e^v[i]` in place. `f32`/`f64`: [`fastmath::exp_in_place`] and its f32 twin;
    /// the default loops over [`Scalar::exp`].
    #[inline]
    fn exp_in_place(v: &mut [Self]) {
        v.iter_mut().for_each(|x| *x = x.exp());
    }
    /// `v[i] = c·exp(a·v[i] / b)` in place, rounded as written (the RBF kernel's
    /// σ²·exp(−½·r²/ℓ²) over a row of squared distances). `f32`/`f64`:
    /// [`fastmath::scaled_exp_in_place`] and its f32 twin; the default loops over
    /// [`Scalar::exp`].
    #[inline]
    fn scaled_exp_in_place(v: &mut [Self], c: Self, a: Self, b: Self) {
        v.iter_mut().for_each(|x| *x = c * (a * *x / b).exp());
    }
}

macro_rules! impl_scalar_float {
    ($t:ident, $exp:ident, $ln:ident, $ln_1p:ident, $exp_m1:ident, $sqrt:ident, $pow:ident,
     $sin:ident, $cos:ident, $sincos:ident, $tanh:ident, $atan2:ident, $fabs:ident, $hypot:ident, $fma:ident;
     lane_bytes: $lane_bytes:expr;
     slices: $sin_cos_slice:path, $cos_in_place:path, $tanh_slice:path, $exp_in_place:path, $scaled_exp:path) => {
        impl Scalar for $t {
            type Real = $t;
            const LANE_BYTES: usize = $lane_bytes;
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
                // See the trait's docs for why not libm under std (same bits either way).
                #[cfg(feature = "std")]
                return <$t>::sqrt(self);
                #[cfg(not(feature = "std"))]
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
            fn erfc(self) -> Self {
                <$t as Erfc>::erfc(self)
            }
            #[inline]
            fn mul_add(self, a: Self, b: Self) -> Self {
                self * a + b
            }
            #[inline]
            fn sin_cos_slice(x: &[Self], sin: &mut [Self], cos: &mut [Self]) {
                $sin_cos_slice(x, sin, cos)
            }
            #[inline]
            fn cos_in_place(v: &mut [Self]) {
                $cos_in_place(v)
            }
            #[inline]
            fn tanh_slice(x: &[Self], out: &mut [Self]) {
                $tanh_slice(x, out)
            }
            #[inline]
            fn exp_in_place(v: &mut [Self]) {
                $exp_in_place(v)
            }
            #[inline]
            fn scaled_exp_in_place(v: &mut [Self], c: Self, a: Self, b: Self) {
                $scaled_exp(v, c, a, b)
            }
        }
    };
}

impl_scalar_float!(
    f64, exp, log, log1p, expm1, sqrt, pow, sin, cos, sincos, tanh, atan2, fabs, hypot, fma;
    lane_bytes: 8;
    slices: fastmath::sin_cos_slice, f64_blocks::cos_in_place, f64_blocks::tanh_slice,
        fastmath::exp_in_place, fastmath::scaled_exp_in_place
);
impl_scalar_float!(
    f32, expf, logf, log1pf, expm1f, sqrtf, powf, sinf, cosf, sincosf, tanhf, atan2f, fabsf, hypotf, fmaf;
    lane_bytes: 4;
    slices: fastmath::sin_cos_slice_f32, fastmath::cos_in_place_f32, fastmath::tanh_slice_f32,
        fastmath::exp_in_place_f32, fastmath::scaled_exp_in_place_f32
);

/// libm's erfc per float type (kept out of the macro's argument list).
trait Erfc {
    fn erfc(self) -> Self;
}
impl Erfc for f64 {
    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
}
impl Erfc for f32 {
    #[inline]
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }
}

/// The f64 cosine and tanh hooks in the order of evaluation their results were recorded in
/// (the fixture and quality tests pin them bit for bit): whole blocks of [`BLOCK`] entries
/// through the slice kernel, which fuses multiply-adds on AVX2 + FMA, and the last
/// len mod [`BLOCK`] entries through the one-value function, which never fuses. (Sending the
/// tail through the slice kernel too would move some results by an ulp on AVX2 machines: a
/// change of numbers, for a commit of its own.) f32 needs no such care: its kernels never fuse.
mod f64_blocks {
    use crate::fastmath;

    /// Entries per call of the slice kernel.
    const BLOCK: usize = 256;

    pub(super) fn cos_in_place(v: &mut [f64]) {
        let mut blocks = v.chunks_exact_mut(BLOCK);
        for b in &mut blocks {
            fastmath::cos_in_place(b);
        }
        blocks.into_remainder().iter_mut().for_each(|x| *x = fastmath::cos(*x));
    }

    pub(super) fn tanh_slice(x: &[f64], out: &mut [f64]) {
        let n = x.len().min(out.len());
        let (mut xb, mut ob) = (x[..n].chunks_exact(BLOCK), out[..n].chunks_exact_mut(BLOCK));
        for (xc, oc) in (&mut xb).zip(&mut ob) {
            fastmath::tanh_slice(xc, oc);
        }
        for (o, &v) in ob.into_remainder().iter_mut().zip(xb.remainder()) {
            *o = fastmath::tanh(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Scalar;
    use crate::{fastmath, Dual};

    /// Two whole blocks and a tail of 2.
    const LEN: usize = 2 * 256 + 2;
    const WHOLE: usize = 2 * 256;

    fn inputs() -> [f64; LEN] {
        core::array::from_fn(|i| (i as f64 - 257.0) * 0.0123)
    }

    #[test]
    fn f64_hooks_take_whole_blocks_through_the_slice_kernel_and_the_tail_one_by_one() {
        let a = inputs();
        let mut h = [0.0; LEN];
        f64::tanh_slice(&a, &mut h);
        let mut want = [0.0; LEN];
        fastmath::tanh_slice(&a[..WHOLE], &mut want[..WHOLE]);
        want[WHOLE..].iter_mut().zip(&a[WHOLE..]).for_each(|(w, &x)| *w = fastmath::tanh(x));
        assert!(h.iter().zip(&want).all(|(y, w)| y.to_bits() == w.to_bits()));

        let z = a.map(|v| 40.0 * v); // both reductions: |z| up to ~130
        let mut c = z;
        f64::cos_in_place(&mut c);
        let mut want = z;
        fastmath::cos_in_place(&mut want[..256]);
        fastmath::cos_in_place(&mut want[256..WHOLE]);
        want[WHOLE..].iter_mut().for_each(|x| *x = fastmath::cos(*x));
        assert!(c.iter().zip(&want).all(|(y, w)| y.to_bits() == w.to_bits()));
    }

    #[test]
    fn f32_hooks_match_the_one_value_functions() {
        let a = inputs().map(|v| v as f32);
        let mut h = [0.0_f32; LEN];
        f32::tanh_slice(&a, &mut h);
        assert!(a.iter().zip(&h).all(|(&x, y)| y.to_bits() == fastmath::tanh_f32(x).to_bits()));
        let mut c = a.map(|v| 40.0 * v);
        f32::cos_in_place(&mut c);
        assert!(a.iter().zip(&c).all(|(&x, y)| y.to_bits() == fastmath::cos_f32(40.0 * x).to_bits()));
        let mut e = a;
        f32::scaled_exp_in_place(&mut e, 1.5, -0.5, 0.3);
        assert!(a.iter().zip(&e).all(|(&x, y)| *y == 1.5 * fastmath::exp_f32(-0.5 * x / 0.3)));
    }

    #[test]
    fn dual_hooks_are_the_element_functions() {
        type D = Dual<f64, 1>;
        let a = inputs().map(|v| D::variable(v, 0));
        let mut out = [D::default(); LEN];
        D::tanh_slice(&a, &mut out);
        assert!(a.iter().zip(&out).all(|(x, y)| *y == x.tanh() && y.eps == x.tanh().eps));
        let mut c = a;
        D::cos_in_place(&mut c);
        assert!(a.iter().zip(&c).all(|(x, y)| y.re == x.cos().re && y.eps == x.cos().eps));
        let (c2, a2, b2) = (D::from_f64(1.5), D::from_f64(-0.5), D::from_f64(0.3));
        let mut e = a;
        D::scaled_exp_in_place(&mut e, c2, a2, b2);
        for (x, y) in a.iter().zip(&e) {
            let want = c2 * (a2 * *x / b2).exp();
            assert!(y.re == want.re && y.eps == want.eps);
            // d/dx of 1.5·exp(−x/0.6) is −(1/0.6) of the value.
            assert!((y.eps[0] + y.re / 0.6).abs() <= 1e-15 * y.re.abs().max(1.0));
        }
        let mut e = a;
        D::exp_in_place(&mut e);
        assert!(a.iter().zip(&e).all(|(x, y)| y.re == libm::exp(x.re) && y.eps[0] == y.re));
    }

    #[test]
    fn lane_bytes_are_the_register_footprint() {
        assert_eq!(f32::LANE_BYTES, 4);
        assert_eq!(f64::LANE_BYTES, 8);
        assert_eq!(Dual::<f32, 1>::LANE_BYTES, core::mem::size_of::<Dual<f32, 1>>());
        assert_eq!(Dual::<f64, 3>::LANE_BYTES, 32);
        assert_eq!(Dual::<Dual<f64, 1>, 2>::LANE_BYTES, core::mem::size_of::<Dual<Dual<f64, 1>, 2>>());
    }
}
