//! The linear kernel with one variance per input dimension, and the constant (bias) kernel.

use super::stationary::variance_diagonal_adjoint;
use super::{BlockGrad, Kernel, LinearParams, VarianceParams};
use crate::error::Result;
use crate::layout::{Size, SliceRef};
use crate::linalg::{gemm, MatMut, MatRef, Trans};
use crate::Scalar;

/// k(x, x') = Σ_d σ²_d·x_d·x'_d, parameters `[ln σ²_1, …, ln σ²_D]` (named by
/// [`LinearParams`]), for any input dimension D: Bayesian linear regression through the
/// origin with independent weights w_d ~ N(0, σ²_d). Add a [`Constant`] for an intercept.
///
/// Not stationary and unbounded: inputs whose products overflow give an infinite covariance,
/// which the model reports as a typed error. The block is one gemm (X₁·diag(σ²)·X₂ᵀ), and its
/// reverse rule two: with P = K̄·X₂, ∂/∂ln σ²_d = σ²_d·Σ_i x_id P_id, ∂/∂X₁ = P·diag(σ²),
/// ∂/∂X₂ = K̄ᵀ·X₁·diag(σ²).
///
/// ```
/// use svgp::kernel::{Kernel, Linear};
/// let k = Linear::new(2);
/// let p = [0.0, 0.5_f64.ln()]; // σ²_1 = 1, σ²_2 = 0.5
/// assert!((k.eval(&p, &[1.0, 2.0], &[3.0, 4.0]) - (3.0 + 0.5 * 8.0)).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linear {
    dim: usize,
}

impl Linear {
    /// A linear kernel with a variance per input on `dim`-dimensional inputs (`dim` parameters).
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for the variances (one for every input, or one per input; > 0).
    /// Without `alloc`, [`LinearParams::set_variances`] writes them into a caller's buffer.
    ///
    /// ```
    /// use svgp::kernel::{Kernel, Linear};
    /// let k = Linear::new(3);
    /// assert_eq!(k.params(&[1.0])?, [0.0; 3]);
    /// assert!(k.params(&[1.0, 2.0]).is_err());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn params(&self, variances: &[f64]) -> Result<alloc::vec::Vec<f64>> {
        let mut raw = alloc::vec![0.0; self.n_params()];
        super::params::fill_log("kernel variance", &mut raw, variances)?;
        Ok(raw)
    }
    fn ws(&self, n1: usize, n2: usize) -> Result<LinearWs<usize>> {
        let (a, b) = (Size::of(n1) * self.dim, Size::of(n2) * self.dim);
        LinearWs { x2s: b, p: a, q: b }.resolve()
    }
}

crate::parts! {
    /// A linear block's workspace: X₂·diag(σ²) (n2 × D), then K̄·X₂ (n1 × D) and K̄ᵀ·X₁ (n2 × D).
    "linear kernel block workspace": struct LinearWs { x2s, p, q }
}

impl Kernel for Linear {
    type Params<C> = LinearParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<LinearParams<C>> {
        LinearParams::new(raw, self.dim)
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
        self.dim
    }
    /// `[ln σ²_1..D]`: every parameter is a variance.
    fn param_role(&self, _: usize) -> super::ParamRole {
        super::ParamRole::LnVariance
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let mut k = S::zero();
        for ((&a, &b), &v) in x.iter().zip(y).zip(params) {
            k += v.exp() * a * b;
        }
        k
    }
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        Ok(self.ws(n1, n2)?.total())
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        let LinearWs { x2s, .. } = self.ws(n1, n2)?.carve(ws)?;
        for (o, row) in x2s.chunks_exact_mut(d).zip(x2.chunks_exact(d)) {
            for q in 0..d {
                o[q] = params[q].exp() * row[q];
            }
        }
        let (a, b) = (MatRef::new(n1, d, x1)?, MatRef::new(n2, d, x2s)?);
        gemm(S::one(), a, Trans::No, b, Trans::Yes, S::zero(), MatMut::new(n1, n2, out)?)
    }
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        _k: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        ws: &mut [S],
    ) -> Result<()> {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        let LinearWs { p, q, .. } = self.ws(n1, n2)?.carve(ws)?;
        let kb = MatRef::new(n1, n2, k_bar)?;
        gemm(S::one(), kb, Trans::No, MatRef::new(n2, d, x2)?, Trans::No, S::zero(), MatMut::new(n1, d, p)?)?;
        for (qd, gp) in grad.params.iter_mut().enumerate() {
            let v = params[qd].exp();
            let mut s = S::zero();
            for (xi, pi) in x1.chunks_exact(d).zip(p.chunks_exact(d)) {
                s += xi[qd] * pi[qd];
            }
            *gp += v * s;
        }
        for (g, pi) in grad.x1.chunks_exact_mut(d).zip(p.chunks_exact(d)) {
            for qd in 0..d {
                g[qd] += params[qd].exp() * pi[qd];
            }
        }
        if let Some(g2) = grad.x2 {
            gemm(
                S::one(),
                kb,
                Trans::Yes,
                MatRef::new(n1, d, x1)?,
                Trans::No,
                S::zero(),
                MatMut::new(n2, d, q)?,
            )?;
            for (g, qj) in g2.chunks_exact_mut(d).zip(q.chunks_exact(d)) {
                for qd in 0..d {
                    g[qd] += params[qd].exp() * qj[qd];
                }
            }
        }
        Ok(())
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        _ws: &mut [S],
    ) -> Result<()> {
        let d = self.dim;
        for (qd, gp) in grad_params.iter_mut().enumerate() {
            let mut s = S::zero();
            for (xi, &kb) in x.chunks_exact(d).zip(k_bar) {
                s += kb * xi[qd] * xi[qd];
            }
            *gp += params[qd].exp() * s;
        }
        Ok(())
    }
}

/// k(x, x') = σ², parameters `[ln σ²]` (named by [`VarianceParams`]): a constant offset shared
/// by all outputs (the bias of a [`Sum`](super::Sum) with [`Linear`], say). On its own its Gram
/// matrix has rank one.
///
/// ```
/// use svgp::kernel::{Constant, Kernel};
/// let k = Constant::new(2);
/// assert!((k.eval(&Constant::params(3.0), &[1.0, 2.0], &[-5.0, 0.0]) - 3.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constant {
    dim: usize,
}

impl Constant {
    /// A constant kernel on `dim`-dimensional inputs (which it ignores; the dimension makes it
    /// composable with kernels that do not).
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for a variance (> 0).
    pub fn params(variance: f64) -> [f64; 1] {
        [variance.ln()]
    }
}

impl Kernel for Constant {
    type Params<C> = VarianceParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<VarianceParams<C>> {
        VarianceParams::new(raw)
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
        1
    }
    fn param_role(&self, _: usize) -> super::ParamRole {
        super::ParamRole::LnVariance
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], _x: &[S], _y: &[S]) -> S {
        params[0].exp()
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        _x1: &[S],
        _x2: &[S],
        out: &mut [S],
        _ws: &mut [S],
    ) -> Result<()> {
        let v = params[0].exp();
        out.iter_mut().for_each(|o| *o = v);
        Ok(())
    }
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        _x1: &[S],
        _x2: &[S],
        _k: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        _ws: &mut [S],
    ) -> Result<()> {
        variance_diagonal_adjoint(params, k_bar, grad.params);
        Ok(())
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
