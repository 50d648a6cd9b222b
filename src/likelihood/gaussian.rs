//! The Gaussian likelihood y = f + ε, ε ~ N(0, σ²): one parameter, ln σ² (the noise
//! variance's log), and closed forms for everything.

use super::{clipped_adjoint, BatchAdjoint, ExpectedLogLik, Likelihood, LikelihoodId, Moments};
use crate::error::{check_len, Result};
use crate::kernel::log_of_positive;
use crate::layout::SliceRef;
use crate::Scalar;
use core::ops::{Deref, DerefMut};

/// ln 2π, computed as the reference arithmetic always has (the fixtures pin its bits).
#[inline]
fn ln_2pi<S: Scalar>() -> S {
    S::from_f64((2.0 * core::f64::consts::PI).ln())
}

/// The Gaussian likelihood y = f + ε, ε ~ N(0, σ²_noise): one parameter, ln σ²_noise.
///
/// E_q[log p(y | f)] = −½ ln(2πσ²) − ((y − μ)² + s²)/(2σ²); the predictive of y is
/// N(μ, s² + σ²). In the ELBO the whole batch is one closed form (see
/// [`Likelihood::batch_expected_log_lik`]): the arithmetic the JAX reference fixtures pin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gaussian;

impl Gaussian {
    /// Number of parameters: 1 (ln σ²_noise).
    pub const N_PARAMS: usize = 1;
}

/// The Gaussian likelihood's parameter by name, over `&[S]` or `&mut [S]`.
///
/// ```
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 1.0], 0.04, &mut p)?;
/// let noise = model.params(&p)?.likelihood;
/// assert!((noise.noise_variance() - 0.04).abs() < 1e-15 && (noise.noise_std() - 0.2).abs() < 1e-15);
/// model.params_mut(&mut p)?.likelihood.set_noise_variance(0.01)?;
/// assert!((model.params(&p)?.likelihood.noise_std() - 0.1).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GaussianParams<C> {
    raw: C,
}

impl<S: Scalar, C: Deref<Target = [S]>> GaussianParams<C> {
    /// ln σ²_noise, the stored (trainable) value.
    pub fn ln_noise_variance(&self) -> S {
        self.raw[0]
    }
    /// σ²_noise.
    pub fn noise_variance(&self) -> S {
        self.raw[0].exp()
    }
    /// σ_noise = exp(½ ln σ²_noise).
    pub fn noise_std(&self) -> S {
        (S::from_f64(0.5) * self.raw[0]).exp()
    }
    /// The raw parameters (one value).
    pub fn as_slice(&self) -> &[S] {
        &self.raw
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> GaussianParams<C> {
    /// Sets σ²_noise (finite, > 0).
    pub fn set_noise_variance(&mut self, noise_variance: f64) -> Result<()> {
        self.raw[0] = S::from_f64(log_of_positive("noise variance", noise_variance)?);
        Ok(())
    }
    /// ln σ²_noise, mutably.
    pub fn ln_noise_variance_mut(&mut self) -> &mut S {
        &mut self.raw[0]
    }
    /// The raw parameters (one value), mutably.
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        &mut self.raw
    }
}

impl Likelihood for Gaussian {
    type Params<C> = GaussianParams<C>;
    fn id(&self) -> LikelihoodId {
        LikelihoodId::Gaussian
    }
    fn n_params(&self) -> usize {
        Self::N_PARAMS
    }
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<GaussianParams<C>> {
        check_len("Gaussian likelihood parameters [ln σ²_noise]", Self::N_PARAMS, raw.len())?;
        Ok(GaussianParams { raw })
    }
    /// σ² = 1 (ln σ² = 0); [`Svgp::init_params`](crate::gp::Svgp::init_params) takes the noise
    /// variance to start from.
    fn init_params<S: Scalar>(&self, out: &mut [S]) -> Result<()> {
        self.view(out)?.set_noise_variance(1.0)
    }
    fn expected_log_lik<S: Scalar>(&self, params: &[S], y: S, mean: S, var: S) -> S {
        let eta = params[0];
        let r = y - mean;
        let half = S::from_f64(0.5);
        -(half * (ln_2pi::<S>() + eta)) - half * (r * r + var) / eta.exp()
    }
    fn expected_log_lik_grad<S: Scalar>(
        &self,
        params: &[S],
        y: S,
        mean: S,
        var: S,
        grad_params: &mut [S],
    ) -> ExpectedLogLik<S> {
        let s2 = params[0].exp();
        let r = y - mean;
        let half = S::from_f64(0.5);
        let value = self.expected_log_lik(params, y, mean, var);
        grad_params[0] += -half + half * (r * r + var) / s2;
        ExpectedLogLik { value, d_mean: r / s2, d_var: -half / s2 }
    }
    fn predictive<S: Scalar>(&self, params: &[S], mean: S, var: S) -> Result<Moments<S>> {
        Ok(Moments { mean, var: var + params[0].exp() })
    }
    fn log_predictive_density<S: Scalar>(&self, params: &[S], y: S, mean: S, var: S) -> S {
        let v = var + params[0].exp();
        let r = y - mean;
        let half = S::from_f64(0.5);
        -(half * (ln_2pi::<S>() + v.ln())) - half * r * r / v
    }

    /// Today's closed form over the whole batch, as the JAX reference computes it:
    /// ELL = −(N/2)·ln σ² − (N/2)·ln 2π − (‖y − μ‖² + Σ max(v_i, 0))/(2σ²), and, with τ = s/σ²:
    /// μ̄_i = τ(y_i − μ_i), v̄_i = −τ/2 (clipped as the trait says),
    /// ∂/∂ln σ² = s·(−N/2 + (‖y − μ‖² + Σ v)/(2σ²)).
    fn batch_expected_log_lik<S: Scalar>(
        &self,
        params: &[S],
        y: &[S],
        mean: &[S],
        var: &[S],
        adjoint: Option<BatchAdjoint<'_, S>>,
    ) -> S {
        let n = y.len();
        let eta = params[0];
        let mut sse = S::zero();
        let mut sum_var = S::zero();
        for i in 0..n {
            let r = y[i] - mean[i];
            sse += r * r;
            sum_var += var[i].max(S::zero());
        }
        let nn = S::from_usize(n);
        let half = S::from_f64(0.5);
        let s2 = eta.exp();
        let ell = -(half * nn * eta) - half * nn * ln_2pi::<S>() - half / s2 * (sse + sum_var);
        if let Some(BatchAdjoint { scale, mean: mean_bar, var: var_bar, params: params_bar }) = adjoint {
            let tau = scale / s2;
            for i in 0..n {
                var_bar[i] = clipped_adjoint(var[i], -(half * tau));
                mean_bar[i] = tau * (y[i] - mean[i]);
            }
            params_bar[0] = scale * (-(half * nn) + (sse + sum_var) / (S::from_f64(2.0) * s2));
        }
        ell
    }
}
