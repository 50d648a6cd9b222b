//! The squared-exponential (RBF) kernel with one lengthscale per input dimension (ARD).

use super::stationary::{
    ard_adjoint, ard_block, ard_block_workspace_len, variance_diagonal_adjoint, Profile,
};
use super::{ArdParams, BlockGrad, Kernel};
use crate::error::Result;
use crate::layout::SliceRef;
use crate::Scalar;

/// k(x, x') = σ²·exp(−½·Σ_d (x_d − x'_d)²/ℓ_d²), parameters `[ln σ², ln ℓ_1, …, ln ℓ_D]`
/// (named by [`ArdParams`]), for any input dimension D.
///
/// Automatic relevance determination: a long lengthscale switches a dimension off. With all
/// ℓ_d equal it is the isotropic [`Rbf`](super::Rbf). `eval` forms the differences directly
/// (not via |x|² + |x'|² − 2x·x'), so nearby points keep full relative precision; the blocks
/// the SVGP uses and their reverse rules are products (see the `stationary` module: W = K̄ ⊙ K,
/// and gemms for D ≥ 8), never per-entry duals.
///
/// ```
/// use svgp::kernel::{Kernel, RbfArd};
/// let k = RbfArd::new(2);
/// let mut params = [0.0_f64; 3];
/// k.view(&mut params[..])?.set(1.0, &[1.0, 10.0])?; // σ² = 1, ℓ = (1, 10)
/// let v = k.eval(&params, &[0.0, 0.0], &[1.0, 1.0]);
/// assert!((v - (-0.5_f64 * (1.0 + 0.01)).exp()).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RbfArd {
    dim: usize,
}

impl RbfArd {
    /// An ARD RBF kernel on `dim`-dimensional inputs (`dim + 1` parameters; a model built on it
    /// checks the sizes).
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for a variance and the lengthscales (one for every input, or one
    /// per input; all > 0), as [`Rbf::params`](super::Rbf::params) gives it for the isotropic
    /// kernel. Without `alloc`, [`ArdParams::set`] writes them into a caller's buffer.
    ///
    /// ```
    /// use svgp::kernel::{Kernel, RbfArd};
    /// let k = RbfArd::new(10);
    /// let p = k.params(2.0, &[0.5])?; // every lengthscale 0.5
    /// assert_eq!(p.len(), 11);
    /// assert!((k.view(&p[..])?.lengthscale(9) - 0.5).abs() < 1e-15);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn params(&self, variance: f64, lengthscales: &[f64]) -> Result<alloc::vec::Vec<f64>> {
        let mut raw = alloc::vec![0.0; self.n_params()];
        self.view(&mut raw[..])?.set(variance, lengthscales)?;
        Ok(raw)
    }
}

/// Σ_d ((x_d − y_d)/ℓ_d)² with ℓ_d = exp(log_l[d]). It overflows to ∞ only when the true
/// value does (far-apart points); the kernels then return their limit 0 (see [`far_apart`]).
#[inline]
pub(crate) fn scaled_sq_dist<S: Scalar>(log_l: &[S], x: &[S], y: &[S]) -> S {
    let mut r2 = S::zero();
    for ((&a, &b), &ll) in x.iter().zip(y).zip(log_l) {
        let t = (a - b) * (-ll).exp();
        r2 += t * t;
    }
    r2
}

/// Whether a squared distance is too large for any stationary kernel to be anything but 0: +∞
/// (where the value's tangents would be ∞·0 = NaN). The kernels return a constant 0 then; a
/// NaN is not "far" and stays NaN.
#[inline]
pub(crate) fn far_apart<S: Scalar>(r2: S) -> bool {
    r2.re() == f64::INFINITY
}

/// The RBF profile: f(s) = e^{−s/2}, so W = K̄ ⊙ K.
struct RbfProfile;

impl Profile for RbfProfile {
    const KEPT: usize = 0;
    fn apply<S: Scalar>(&self, variance: S, _extra: &[S], k: &mut [S], _kept: &mut [S]) {
        S::scaled_exp_in_place(k, variance, S::from_f64(-0.5), S::one());
    }
    fn weights<S: Scalar>(&self, _: S, _: &[S], k: &[S], k_bar: &[S], _: &[S], w: &mut [S], _: &mut [S]) {
        for ((o, &a), &b) in w.iter_mut().zip(k_bar).zip(k) {
            *o = a * b;
        }
    }
}

impl Kernel for RbfArd {
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
        params[0].exp() * (S::from_f64(-0.5) * r2).exp()
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        ard_block_workspace_len::<RbfProfile>(self.dim, n1, n2)
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        ard_block(&RbfProfile, self.dim, params, x1, x2, out, ws)
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
        ard_adjoint(&RbfProfile, self.dim, params, x1, x2, k, k_bar, grad, ws)
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
