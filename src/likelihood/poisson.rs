//! The Poisson likelihood for counts, with the log link: y ~ Poisson(e^f).

use super::{invalid_target, ExpectedLogLik, GaussHermite, Likelihood, LikelihoodId, Moments};
use crate::error::{check_len, Result};
use crate::layout::SliceRef;
use crate::Scalar;

/// The Poisson likelihood with the log link: y ∈ {0, 1, 2, …}, rate λ = e^f. No parameters.
///
/// log p(y | f) = y·f − e^f − ln y!, and since E[e^f] = e^{μ+s²/2} for f ~ N(μ, s²), the
/// expected log-likelihood is a closed form, yμ − e^{μ+s²/2} − ln y!, with ∂/∂μ = y − e^{μ+s²/2}
/// and ∂/∂s² = −½e^{μ+s²/2}. The predictive of y has mean e^{μ+s²/2} and variance
/// e^{μ+s²/2} + (e^{s²} − 1)·e^{2μ+s²} (closed forms); its density is a Gauss–Hermite sum
/// ([`Poisson::with_quadrature`], default 20 nodes).
///
/// ```
/// use svgp::likelihood::{Likelihood, Poisson};
/// let lik = Poisson::new();
/// // y = 3 under a latent N(1, 0.5): 3·1 − e^{1.25} − ln 6.
/// let e = lik.expected_log_lik::<f64>(&[], 3.0, 1.0, 0.5);
/// assert!((e - (3.0 - 1.25_f64.exp() - 6.0_f64.ln())).abs() < 1e-14);
/// assert!(lik.check_target(0, 2.5).is_err() && lik.check_target(0, -1.0).is_err());
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Poisson {
    quad: GaussHermite,
}

impl Poisson {
    /// The log-link Poisson likelihood, densities with the default 20-node rule.
    pub fn new() -> Self {
        Self::default()
    }
    /// The same likelihood with another quadrature rule (for the predictive density).
    pub fn with_quadrature(self, quad: GaussHermite) -> Self {
        Self { quad }
    }
    /// The quadrature rule.
    pub fn quadrature(&self) -> &GaussHermite {
        &self.quad
    }
}

/// ln y! = ln Γ(y + 1) of a (checked) count, in f64.
#[inline]
fn ln_factorial<S: Scalar>(y: S) -> S {
    S::from_f64(libm::lgamma(y.re() + 1.0))
}

impl Likelihood for Poisson {
    type Params<C> = ();
    fn id(&self) -> LikelihoodId {
        LikelihoodId::Poisson
    }
    fn n_params(&self) -> usize {
        0
    }
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<()> {
        check_len("Poisson likelihood parameters (none)", 0, raw.len())
    }
    fn init_params<S: Scalar>(&self, out: &mut [S]) -> Result<()> {
        check_len("Poisson likelihood parameters (none)", 0, out.len())
    }
    fn check_target(&self, index: usize, y: f64) -> Result<()> {
        if y >= 0.0 && libm::floor(y) == y {
            Ok(())
        } else {
            Err(invalid_target("Poisson target (must be a non-negative integer count)", index, y))
        }
    }
    fn expected_log_lik<S: Scalar>(&self, _params: &[S], y: S, mean: S, var: S) -> S {
        let rate = (mean + S::from_f64(0.5) * var).exp();
        y * mean - rate - ln_factorial(y)
    }
    fn expected_log_lik_grad<S: Scalar>(
        &self,
        params: &[S],
        y: S,
        mean: S,
        var: S,
        _grad_params: &mut [S],
    ) -> ExpectedLogLik<S> {
        let rate = (mean + S::from_f64(0.5) * var).exp();
        let value = self.expected_log_lik(params, y, mean, var);
        ExpectedLogLik { value, d_mean: y - rate, d_var: -(S::from_f64(0.5) * rate) }
    }
    fn predictive<S: Scalar>(&self, _params: &[S], mean: S, var: S) -> Result<Moments<S>> {
        let rate = (mean + S::from_f64(0.5) * var).exp();
        Ok(Moments { mean: rate, var: rate + rate * rate * var.exp_m1() })
    }
    fn log_predictive_density<S: Scalar>(&self, _params: &[S], y: S, mean: S, var: S) -> S {
        let c = ln_factorial(y);
        self.quad.log_expect_exp_adaptive(mean, var, |f| {
            let rate = f.exp();
            [y * f - rate - c, y - rate, -rate]
        })
    }
}
