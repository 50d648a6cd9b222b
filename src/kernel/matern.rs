//! Matérn kernels of smoothness ν ∈ {1/2, 3/2, 5/2} with per-dimension lengthscales.

use super::rbf_ard::{far_apart, scaled_sq_dist};
use super::stationary::{
    ard_adjoint, ard_block, ard_block_workspace_len, variance_diagonal_adjoint, Profile,
};
use super::{ArdParams, BlockGrad, Kernel};
use crate::error::Result;
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
    /// √(2ν): the factor from r to the exponent a = √(2ν)·r.
    fn sqrt_2nu(self) -> f64 {
        match self {
            Nu::Half => 1.0,
            Nu::ThreeHalves => 3f64.sqrt(),
            Nu::FiveHalves => 5f64.sqrt(),
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
/// `[ln σ², ln ℓ_1, …, ln ℓ_D]` (named by [`ArdParams`]), with m_ν from [`Nu::correlation`],
/// for any input dimension D.
///
/// **Blocks.** The blocks the SVGP uses and their reverse rules are products, never per-entry
/// duals (see the `stationary` module): with a = √(2ν)·r, the weight of an entry is
/// W = K̄·σ²·(−m′(r)/r), that is e^{−r}/r (ν = 1/2; 0 at r = 0), 3e^{−a} (ν = 3/2) and
/// (5/3)(1 + a)e^{−a} (ν = 5/2).
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
    /// The parameter vector for a variance and the lengthscales (one for every input, or one
    /// per input; all > 0).
    ///
    /// ```
    /// use svgp::kernel::{Kernel, Matern, Nu};
    /// let k = Matern::new(3, Nu::FiveHalves);
    /// let p = k.params(2.0, &[0.5])?;
    /// assert_eq!(p.len(), 4);
    /// assert!((k.view(&p[..])?.lengthscale(2) - 0.5).abs() < 1e-15);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn params(&self, variance: f64, lengthscales: &[f64]) -> Result<alloc::vec::Vec<f64>> {
        let mut raw = alloc::vec![0.0; self.n_params()];
        self.view(&mut raw[..])?.set(variance, lengthscales)?;
        Ok(raw)
    }
}

/// The Matérn profile in a = √(2ν)·r; the block keeps a and e^{−a}.
impl Profile for Nu {
    const KEPT: usize = 2;
    fn apply<S: Scalar>(&self, variance: S, _extra: &[S], k: &mut [S], kept: &mut [S]) {
        let (a, e) = kept.split_at_mut(k.len());
        let c = S::from_f64(self.sqrt_2nu());
        for ((&s, a), e) in k.iter().zip(a.iter_mut()).zip(e.iter_mut()) {
            // r = 0 exactly (no tangent) at s = 0, as in `eval`.
            let r = if s > S::zero() { s.sqrt() } else { S::zero() };
            *a = c * r;
            *e = -*a;
        }
        S::exp_in_place(e);
        let third = S::from_f64(1.0 / 3.0);
        for ((o, &a), e) in k.iter_mut().zip(a.iter()).zip(e.iter_mut()) {
            // e^{−a} = 0 (r beyond ~745/√(2ν)): the value is 0, and no polynomial ∞ meets it.
            *o = if *e == S::zero() {
                S::zero()
            } else {
                let poly = match self {
                    Nu::Half => S::one(),
                    Nu::ThreeHalves => S::one() + a,
                    Nu::FiveHalves => S::one() + a + a * a * third,
                };
                variance * (poly * *e)
            };
        }
    }
    fn weights<S: Scalar>(
        &self,
        variance: S,
        _extra: &[S],
        _k: &[S],
        k_bar: &[S],
        kept: &[S],
        w: &mut [S],
        _grad_extra: &mut [S],
    ) {
        let (a, e) = kept.split_at(w.len());
        let (three, five_thirds) = (S::from_f64(3.0), S::from_f64(5.0 / 3.0));
        for (((o, &kb), &a), &e) in w.iter_mut().zip(k_bar).zip(a).zip(e) {
            let g = match self {
                Nu::Half => {
                    if a > S::zero() {
                        e / a
                    } else {
                        S::zero() // the cusp at r = 0: the symmetric subgradient, as on duals
                    }
                }
                Nu::ThreeHalves => three * e,
                Nu::FiveHalves => five_thirds * (S::one() + a) * e,
            };
            *o = kb * (variance * g);
        }
    }
}

impl Kernel for Matern {
    type Params<C> = ArdParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<ArdParams<C>> {
        ArdParams::new(raw, self.dim)
    }
    fn param_role(&self, i: usize) -> super::ParamRole {
        super::variance_then_lengthscales(i)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        self.view(params)?.check()
    }
    fn check_shape(&self) -> Result<()> {
        Ok(())
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
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        ard_block_workspace_len::<Nu>(self.dim, n1, n2)
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        ard_block(&self.nu, self.dim, params, x1, x2, out, ws)
    }
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        k: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        ws: &mut [S],
    ) -> Result<()> {
        ard_adjoint(&self.nu, self.dim, params, x1, x2, k, k_bar, grad, ws)
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        _x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        _ws: &mut [S],
    ) -> Result<()> {
        variance_diagonal_adjoint(params, k_bar, grad_params);
        Ok(())
    }
}
