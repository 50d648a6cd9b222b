//! The rational-quadratic kernel with one lengthscale per input dimension (ARD).

use super::rbf_ard::{far_apart, scaled_sq_dist};
use super::stationary::{
    ard_adjoint, ard_block, ard_block_workspace_len, variance_diagonal_adjoint, Profile,
};
use super::{BlockGrad, Kernel, RqParams};
use crate::error::Result;
use crate::layout::SliceRef;
use crate::Scalar;

/// k(x, x') = σ²·(1 + s/(2α))^{−α}, s = Σ_d (x_d − x'_d)²/ℓ_d², parameters
/// `[ln σ², ln ℓ_1, …, ln ℓ_D, ln α]` (named by [`RqParams`]), for any input dimension D.
///
/// A scale mixture of RBF kernels (α → ∞ gives the RBF). Reverse rule (see the `stationary`
/// module), with u = s/(2α): the weight W = K̄ ⊙ K/(1 + u) and
/// ∂k/∂ln α = k·α·(u/(1 + u) − ln(1 + u)).
///
/// ```
/// use svgp::kernel::{Kernel, RationalQuadratic};
/// let k = RationalQuadratic::new(1);
/// let p = [0.0, 0.0, 2.0_f64.ln()]; // σ² = 1, ℓ = 1, α = 2
/// // s = 4: (1 + 4/4)^{−2} = 1/4.
/// assert!((k.eval(&p, &[0.0], &[2.0]) - 0.25).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RationalQuadratic {
    dim: usize,
}

impl RationalQuadratic {
    /// A rational-quadratic kernel with ARD lengthscales on `dim`-dimensional inputs
    /// (`dim + 2` parameters).
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for a variance, the lengthscales (one for every input, or one per
    /// input) and α (all > 0). Without `alloc`, the setters of [`RqParams`] write them into a
    /// caller's buffer.
    ///
    /// ```
    /// use svgp::kernel::{Kernel, RationalQuadratic};
    /// let k = RationalQuadratic::new(2);
    /// let p = k.params(1.0, &[0.5], 3.0)?;
    /// assert!((k.view(&p[..])?.alpha() - 3.0).abs() < 1e-14);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn params(&self, variance: f64, lengthscales: &[f64], alpha: f64) -> Result<alloc::vec::Vec<f64>> {
        let mut raw = alloc::vec![0.0; self.n_params()];
        let mut p = self.view(&mut raw[..])?;
        p.ard.set(variance, lengthscales)?;
        p.set_alpha(alpha)?;
        Ok(raw)
    }
}

/// The rational-quadratic profile; the block keeps u = s/(2α) and ln(1 + u).
struct RqProfile;

impl Profile for RqProfile {
    const KEPT: usize = 2;
    fn apply<S: Scalar>(&self, variance: S, extra: &[S], k: &mut [S], kept: &mut [S]) {
        let (u, l) = kept.split_at_mut(k.len());
        let alpha = extra[0].exp();
        let two_alpha = alpha + alpha;
        for ((o, u), l) in k.iter_mut().zip(u.iter_mut()).zip(l.iter_mut()) {
            *u = *o / two_alpha;
            *l = u.ln_1p();
            *o = -(alpha * *l);
        }
        S::scaled_exp_in_place(k, variance, S::one(), S::one());
    }
    fn weights<S: Scalar>(
        &self,
        _variance: S,
        extra: &[S],
        k: &[S],
        k_bar: &[S],
        kept: &[S],
        w: &mut [S],
        grad_extra: &mut [S],
    ) {
        let (u, l) = kept.split_at(w.len());
        let alpha = extra[0].exp();
        let mut g_alpha = S::zero();
        for ((((o, &kb), &kv), &u), &l) in w.iter_mut().zip(k_bar).zip(k).zip(u).zip(l) {
            if kv == S::zero() {
                *o = S::zero(); // far apart (u = ∞): no share, and ∞·0 would be NaN
                continue;
            }
            let one_u = S::one() + u;
            let c = kb * kv;
            *o = c / one_u;
            g_alpha += c * (u / one_u - l);
        }
        grad_extra[0] += alpha * g_alpha;
    }
}

impl Kernel for RationalQuadratic {
    type Params<C> = RqParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<RqParams<C>> {
        RqParams::new(raw, self.dim)
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
        self.dim.saturating_add(2)
    }
    /// `[ln σ², ln ℓ_1..D, ln α]`: α has no prior by default.
    fn param_role(&self, i: usize) -> super::ParamRole {
        if i <= self.dim {
            super::variance_then_lengthscales(i)
        } else {
            super::ParamRole::Other
        }
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let d = self.dim;
        let r2 = scaled_sq_dist(&params[1..1 + d], x, y);
        if far_apart(r2) {
            return S::zero();
        }
        let alpha = params[1 + d].exp();
        params[0].exp() * (-(alpha * (r2 / (alpha + alpha)).ln_1p())).exp()
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        ard_block_workspace_len::<RqProfile>(self.dim, n1, n2)
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        ard_block(&RqProfile, self.dim, params, x1, x2, out, ws)
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
        ard_adjoint(&RqProfile, self.dim, params, x1, x2, k, k_bar, grad, ws)
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
