//! Matérn kernels of smoothness ν ∈ {1/2, 3/2, 5/2} with per-dimension lengthscales.

use super::rbf_ard::{far_apart, scaled_sq_dist};
use super::{ArdParams, Kernel};
use crate::layout::SliceRef;
use crate::Scalar;

/// The smoothness ν of a Matérn kernel (the half-integer cases, which have closed forms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nu {
    /// ν = 1/2: the exponential kernel, continuous but not differentiable at r = 0.
    Half,
    /// ν = 3/2: once mean-square differentiable sample paths.
    ThreeHalves,
    /// ν = 5/2: twice mean-square differentiable sample paths.
    FiveHalves,
}

impl Nu {
    /// ν as a number.
    pub fn value(self) -> f64 {
        match self {
            Nu::Half => 0.5,
            Nu::ThreeHalves => 1.5,
            Nu::FiveHalves => 2.5,
        }
    }
    /// The unit-variance Matérn correlation at scaled distance r = |x − x'|/ℓ (r ≥ 0).
    ///
    /// ν=1/2: e^{−r}; ν=3/2: (1 + √3 r)e^{−√3 r}; ν=5/2: (1 + √5 r + 5r²/3)e^{−√5 r}.
    /// Beyond r = 10⁴ (where e^{−r} is 0 in `f32` and `f64` alike) it is exactly 0, so a huge
    /// or infinite r cannot make the polynomial's ∞ meet e^{−r}'s 0.
    #[inline]
    pub fn correlation<S: Scalar>(self, r: S) -> S {
        if r > S::from_f64(FAR) {
            return S::zero();
        }
        match self {
            Nu::Half => (-r).exp(),
            Nu::ThreeHalves => {
                let a = S::from_f64(3f64.sqrt()) * r;
                (S::one() + a) * (-a).exp()
            }
            Nu::FiveHalves => {
                let a = S::from_f64(5f64.sqrt()) * r;
                (S::one() + a + a * a * S::from_f64(1.0 / 3.0)) * (-a).exp()
            }
        }
    }
}

/// Scaled distance beyond which every Matérn correlation is 0 (e^{−10⁴} underflows in every
/// float type).
const FAR: f64 = 1e4;

/// Matérn-ν: k(x, x') = σ²·m_ν(r), r = √(Σ_d (x_d − x'_d)²/ℓ_d²), parameters
/// `[ln σ², ln ℓ_1, …, ln ℓ_D]` (named by [`ArdParams`]), with m_ν from [`Nu::correlation`].
///
/// **At r = 0.** The distance is taken as exactly 0 (a constant, no tangent) when the squared
/// distance is 0, instead of √0 whose derivative is infinite. Value and first derivatives are
/// then finite on [`Dual`](crate::Dual): for ν = 3/2 and 5/2 this is the true gradient (the
/// kernel is differentiable there and its gradient in x is 0); for ν = 1/2 the kernel has a
/// cusp at r = 0 and the returned input derivative is 0, the symmetric subgradient (the same
/// convention as [`Scalar::hypot`]). Nested second derivatives at exactly r = 0 are not exact.
///
/// ```
/// use svgp::kernel::{Kernel, Matern, Nu};
/// let k = Matern::new(1, Nu::ThreeHalves);
/// let params = [0.0_f64, 0.0]; // σ² = 1, ℓ = 1
/// let v = k.eval(&params, &[0.0], &[1.0]);
/// let s3 = 3f64.sqrt();
/// assert!((v - (1.0 + s3) * (-s3).exp()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Matern {
    dim: usize,
    nu: Nu,
}

impl Matern {
    /// A Matérn-ν kernel with ARD lengthscales on `dim`-dimensional inputs (`dim + 1` parameters).
    pub fn new(dim: usize, nu: Nu) -> Self {
        Self { dim, nu }
    }
    /// The smoothness.
    pub fn nu(&self) -> Nu {
        self.nu
    }
}

impl Kernel for Matern {
    type Params<C> = ArdParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> crate::Result<ArdParams<C>> {
        ArdParams::new(raw, self.dim)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> crate::Result<()> {
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_params(&self) -> usize {
        self.dim.saturating_add(1)
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let r2 = scaled_sq_dist(&params[1..], x, y);
        if far_apart(r2) {
            return S::zero();
        }
        let r = if r2 > S::zero() { r2.sqrt() } else { S::zero() };
        params[0].exp() * self.nu.correlation(r)
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
}
