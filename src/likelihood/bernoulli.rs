//! The Bernoulli likelihood for two classes, y ∈ {0, 1}, with a probit or a logit link.

use super::normal::{cdf, inverse_mills, log_cdf};
use super::{invalid_target, ExpectedLogLik, GaussHermite, Likelihood, LikelihoodId, Moments};
use crate::error::{check_len, Result};
use crate::layout::SliceRef;
use crate::Scalar;

/// How the latent f becomes a probability P(y = 1 | f).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// Φ(f), the standard normal CDF: the predictive P(y = 1) = Φ(μ/√(1 + s²)) is a closed form.
    Probit,
    /// 1/(1 + e^{−f}), the logistic function.
    Logit,
}

/// The Bernoulli likelihood: y ∈ {0, 1} (the convention of GPflow, GPyTorch and scikit-learn;
/// internally y′ = 2y − 1 = ±1), P(y = 1 | f) = Φ(f) (probit) or σ(f) (logit). No parameters.
///
/// With z = y′f, log p(y | f) = ln Φ(z) or −ln(1 + e^{−z}); E_q of it by Gauss–Hermite
/// ([`Bernoulli::with_quadrature`], default 20 nodes), its derivatives by Bonnet/Price from
/// g′ = y′λ(z), g″ = −λ(z)(z + λ(z)) with λ = φ/Φ (probit), g′ = y′σ(−z), g″ = −σ(z)σ(−z)
/// (logit). Both are log-concave, so the ELBO's variance adjoints are never positive.
///
/// ```
/// use svgp::likelihood::{Bernoulli, Likelihood};
/// let probit = Bernoulli::probit();
/// // Latent N(1, 3): P(y = 1) = Φ(1/√4) = Φ(0.5).
/// let m = probit.predictive::<f64>(&[], 1.0, 3.0)?;
/// assert!((m.mean - 0.6914624612740131).abs() < 1e-15);
/// assert!((m.var - m.mean * (1.0 - m.mean)).abs() < 1e-15);
/// // A target of 2 is refused, naming its index and value.
/// assert_eq!(
///     probit.check_target(7, 2.0),
///     Err(svgp::Error::InvalidTarget { what: "Bernoulli target (must be 0 or 1)", index: 7, value: 2.0 })
/// );
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bernoulli {
    link: Link,
    quad: GaussHermite,
}

impl Bernoulli {
    /// P(y = 1 | f) = Φ(f), expectations with the default 20-node rule.
    pub fn probit() -> Self {
        Self { link: Link::Probit, quad: GaussHermite::default() }
    }
    /// P(y = 1 | f) = 1/(1 + e^{−f}), expectations with the default 20-node rule.
    pub fn logit() -> Self {
        Self { link: Link::Logit, quad: GaussHermite::default() }
    }
    /// The same likelihood with another quadrature rule.
    pub fn with_quadrature(self, quad: GaussHermite) -> Self {
        Self { quad, ..self }
    }
    /// The link.
    pub fn link(&self) -> Link {
        self.link
    }
    /// The quadrature rule.
    pub fn quadrature(&self) -> &GaussHermite {
        &self.quad
    }

    /// y′ = 2y − 1.
    #[inline]
    fn sign<S: Scalar>(y: S) -> S {
        S::from_f64(2.0) * y - S::one()
    }

    /// log p(y | f) with z = y′f.
    #[inline]
    fn log_lik<S: Scalar>(&self, z: S) -> S {
        match self.link {
            Link::Probit => log_cdf(z),
            Link::Logit => -(-z).softplus(),
        }
    }

    /// (log p, ∂/∂f, ∂²/∂f²) at f, for the sign y′.
    #[inline]
    fn derivatives<S: Scalar>(&self, sign: S, f: S) -> [S; 3] {
        let z = sign * f;
        match self.link {
            Link::Probit => {
                let (lambda, z_plus_lambda) = inverse_mills(z);
                [log_cdf(z), sign * lambda, -(lambda * z_plus_lambda)]
            }
            Link::Logit => {
                let (s_neg, s_pos) = ((-z).sigmoid(), z.sigmoid());
                [-(-z).softplus(), sign * s_neg, -(s_pos * s_neg)]
            }
        }
    }

    /// P(y = 1) and P(y = 0) (each computed directly, so a probability near 1 keeps its
    /// complement's precision).
    fn probabilities<S: Scalar>(&self, mean: S, var: S) -> (S, S) {
        match self.link {
            Link::Probit => {
                let a = mean / (S::one() + var).sqrt();
                (cdf(a), cdf(-a))
            }
            Link::Logit => {
                let [p, q] = self.quad.expect(mean, var, |f| [f.sigmoid(), (-f).sigmoid()]);
                (p, q)
            }
        }
    }
}

impl Likelihood for Bernoulli {
    type Params<C> = ();
    fn id(&self) -> LikelihoodId {
        match self.link {
            Link::Probit => LikelihoodId::BernoulliProbit,
            Link::Logit => LikelihoodId::BernoulliLogit,
        }
    }
    fn n_params(&self) -> usize {
        0
    }
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<()> {
        check_len("Bernoulli likelihood parameters (none)", 0, raw.len())
    }
    fn init_params<S: Scalar>(&self, out: &mut [S]) -> Result<()> {
        check_len("Bernoulli likelihood parameters (none)", 0, out.len())
    }
    fn check_target(&self, index: usize, y: f64) -> Result<()> {
        if y == 0.0 || y == 1.0 {
            Ok(())
        } else {
            Err(invalid_target("Bernoulli target (must be 0 or 1)", index, y))
        }
    }
    fn expected_log_lik<S: Scalar>(&self, _params: &[S], y: S, mean: S, var: S) -> S {
        let sign = Self::sign(y);
        self.quad.expect(mean, var, |f| [self.log_lik(sign * f)])[0]
    }
    fn expected_log_lik_grad<S: Scalar>(
        &self,
        _params: &[S],
        y: S,
        mean: S,
        var: S,
        _grad_params: &mut [S],
    ) -> ExpectedLogLik<S> {
        let sign = Self::sign(y);
        let [value, d1, d2] = self.quad.expect(mean, var, |f| self.derivatives(sign, f));
        ExpectedLogLik { value, d_mean: d1, d_var: S::from_f64(0.5) * d2 }
    }
    fn predictive<S: Scalar>(&self, _params: &[S], mean: S, var: S) -> Result<Moments<S>> {
        let (p, q) = self.probabilities(mean, var);
        Ok(Moments { mean: p, var: p * q })
    }
    fn log_predictive_density<S: Scalar>(&self, _params: &[S], y: S, mean: S, var: S) -> S {
        let sign = Self::sign(y);
        match self.link {
            Link::Probit => log_cdf(sign * mean / (S::one() + var).sqrt()),
            Link::Logit => self.quad.log_expect_exp_adaptive(mean, var, |f| self.derivatives(sign, f)),
        }
    }
}
