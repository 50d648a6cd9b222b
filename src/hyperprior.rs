//! Priors on hyperparameters as MAP terms: log-normal or gamma priors on the kernel variance,
//! the lengthscales and the noise variance, a noise floor, and a Gaussian prior (weight decay)
//! on a deep kernel's MLP weights, with their gradients; [`WithHyperPrior`] adds them to any
//! SVGP objective (loss = −ELBO − log p(θ)). Off unless asked for: the reference recipe has
//! none.
//!
//! # Densities, in the coordinate training moves
//!
//! The crate stores positive hyperparameters θ by their logarithm u = ln θ (ln σ², ln ℓ,
//! ln σ²_noise), so a prior is a density of u (the Jacobian e^u included):
//! - [`LogPrior::LogNormal`]: ln θ ~ N(μ, s²), i.e. log p(u) = −½((u − μ)/s)² − ln(s√(2π));
//! - [`LogPrior::Gamma`]: θ ~ Gamma(α, β) (shape, rate), i.e. log p(u) = α·u − β·e^u +
//!   α·ln β − ln Γ(α).
//!
//! The noise floor keeps σ²_noise above `floor` with the one-sided penalty
//! −½((ln floor − u)₊ / w)² (width w in ln σ² units, default [`NoiseFloor::DEFAULT_WIDTH`]):
//! zero above the floor, and steep enough below it that the N/2 a data set of N points can
//! push with leaves σ²_noise at most about N·w²/2 (in ln σ²) under the floor. The weight
//! prior is N(0, s²) on every MLP weight (biases excluded): −½Σw²/s² − K·ln(s√(2π)).
//!
//! Which entries of the flat buffer are variances, lengthscales or weights comes from the
//! prior's [`ParamRole`]s ([`Prior::param_role`]), so the same
//! [`HyperPrior`] serves an RBF, an ARD kernel and the deep kernel.

use crate::error::{check_finite_value, check_len, Error, Result};
use crate::gp::{Prior, Svgp};
use crate::kernel::ParamRole;
use crate::likelihood::{Gaussian, Likelihood, LikelihoodId};
use crate::objective::Objective;
use crate::Scalar;

/// A prior on a positive hyperparameter θ, as a density of u = ln θ (see the module notes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LogPrior {
    /// ln θ ~ N(mu, sigma²).
    LogNormal {
        /// Mean of ln θ (ln of the median).
        mu: f64,
        /// Standard deviation of ln θ (> 0).
        sigma: f64,
    },
    /// θ ~ Gamma(shape, rate).
    Gamma {
        /// Shape α (> 0).
        shape: f64,
        /// Rate β (> 0).
        rate: f64,
    },
}

impl LogPrior {
    /// θ log-normal with median `median` and ln θ's standard deviation `sigma`.
    pub fn log_normal(median: f64, sigma: f64) -> Self {
        LogPrior::LogNormal { mu: libm::log(median), sigma }
    }
    /// θ ~ Gamma(shape, rate).
    pub fn gamma(shape: f64, rate: f64) -> Self {
        LogPrior::Gamma { shape, rate }
    }
    fn check(&self) -> Result<()> {
        let ok = |v: f64| v.is_finite() && v > 0.0;
        match *self {
            LogPrior::LogNormal { mu, sigma } => {
                if !mu.is_finite() {
                    return Err(Error::InvalidParameter {
                        what: "log-normal prior: ln median (finite)",
                        value: mu,
                    });
                }
                if !ok(sigma) {
                    return Err(Error::InvalidParameter {
                        what: "log-normal prior: sigma (> 0)",
                        value: sigma,
                    });
                }
            }
            LogPrior::Gamma { shape, rate } => {
                if !ok(shape) {
                    return Err(Error::InvalidParameter { what: "gamma prior: shape (> 0)", value: shape });
                }
                if !ok(rate) {
                    return Err(Error::InvalidParameter { what: "gamma prior: rate (> 0)", value: rate });
                }
            }
        }
        Ok(())
    }
    /// log p(u) and d log p/du at u = ln θ.
    ///
    /// ```
    /// use svgp::hyperprior::LogPrior;
    /// // ln θ ~ N(0, 1): at u = 1, log p = −½ − ln √(2π) and the slope is −1.
    /// let (lp, d) = LogPrior::log_normal(1.0, 1.0).log_density(1.0_f64);
    /// assert!((lp - (-0.5 - (2.0 * std::f64::consts::PI).sqrt().ln())).abs() < 1e-15);
    /// assert!((d + 1.0).abs() < 1e-15);
    /// ```
    pub fn log_density<S: Scalar>(&self, u: S) -> (S, S) {
        match *self {
            LogPrior::LogNormal { mu, sigma } => {
                let z = (u - S::from_f64(mu)) / S::from_f64(sigma);
                let c = -libm::log(sigma * libm::sqrt(2.0 * core::f64::consts::PI));
                (S::from_f64(-0.5) * z * z + S::from_f64(c), -z / S::from_f64(sigma))
            }
            LogPrior::Gamma { shape, rate } => {
                let e = u.exp() * S::from_f64(rate);
                let c = shape * libm::log(rate) - libm::lgamma(shape);
                (S::from_f64(shape) * u - e + S::from_f64(c), S::from_f64(shape) - e)
            }
        }
    }
}

/// A floor under the noise variance: see the module notes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NoiseFloor {
    /// The least noise variance (> 0).
    pub variance: f64,
    /// Width w of the penalty below it, in ln σ² units (> 0).
    pub width: f64,
}

impl NoiseFloor {
    /// The default width: 0.01 in ln σ² (a data set of 300 points sits at most ~1.5 % under).
    pub const DEFAULT_WIDTH: f64 = 0.01;
    /// A floor at noise variance `variance` with the default width.
    pub fn new(variance: f64) -> Self {
        Self { variance, width: Self::DEFAULT_WIDTH }
    }
}

/// The MAP terms: which priors apply (each `None` by default, [`HyperPrior::default`] is no
/// prior at all).
///
/// ```
/// use svgp::gp::{Closed, Svgp};
/// use svgp::hyperprior::{HyperPrior, LogPrior};
/// use svgp::kernel::Rbf;
/// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
/// let prior = HyperPrior::default().lengthscale(LogPrior::log_normal(0.5, 1.0)).noise_floor(1e-2);
/// let mut g = vec![0.0; p.len()];
/// let lp = prior.log_prior(&model, &p, Some(&mut g))?;
/// // At its median, the lengthscale prior has zero slope; at the floor the floor has none either.
/// assert!(model.params(&g)?.prior.ln_lengthscale().abs() < 1e-12 && lp.is_finite());
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct HyperPrior {
    /// Prior on every kernel variance σ² (`ParamRole::LnVariance`).
    pub variance: Option<LogPrior>,
    /// Prior on every lengthscale ℓ (`ParamRole::LnLengthscale`).
    pub lengthscale: Option<LogPrior>,
    /// Prior on the noise variance σ²_noise (Gaussian likelihood only).
    pub noise: Option<LogPrior>,
    /// A floor under σ²_noise (Gaussian likelihood only).
    pub noise_floor: Option<NoiseFloor>,
    /// N(0, s²) on every network weight (`ParamRole::Weight`): s.
    pub weight_std: Option<f64>,
}

impl HyperPrior {
    /// With a prior on the kernel variance.
    pub fn variance(self, p: LogPrior) -> Self {
        Self { variance: Some(p), ..self }
    }
    /// With a prior on every lengthscale.
    pub fn lengthscale(self, p: LogPrior) -> Self {
        Self { lengthscale: Some(p), ..self }
    }
    /// With a prior on the noise variance.
    pub fn noise(self, p: LogPrior) -> Self {
        Self { noise: Some(p), ..self }
    }
    /// With a floor at noise variance `variance` (default width).
    pub fn noise_floor(self, variance: f64) -> Self {
        Self { noise_floor: Some(NoiseFloor::new(variance)), ..self }
    }
    /// With N(0, `std`²) on every network weight (weight decay 1/(2·std²)).
    pub fn weight_decay(self, std: f64) -> Self {
        Self { weight_std: Some(std), ..self }
    }
    /// Whether no prior applies.
    pub fn is_none(&self) -> bool {
        *self == Self::default()
    }
    /// [`Error::InvalidParameter`] for a setting no prior can have.
    pub fn check(&self) -> Result<()> {
        for p in [self.variance, self.lengthscale, self.noise].into_iter().flatten() {
            p.check()?;
        }
        if let Some(f) = self.noise_floor {
            if !(f.variance.is_finite() && f.variance > 0.0) {
                return Err(Error::InvalidParameter { what: "noise floor (> 0)", value: f.variance });
            }
            if !(f.width.is_finite() && f.width > 0.0) {
                return Err(Error::InvalidParameter { what: "noise floor width (> 0)", value: f.width });
            }
        }
        if let Some(s) = self.weight_std {
            if !(s.is_finite() && s > 0.0) {
                return Err(Error::InvalidParameter { what: "weight prior std (> 0)", value: s });
            }
        }
        Ok(())
    }

    /// log p(θ) of `model`'s parameters `params`; with `grad`, adds ∂ log p/∂params into it
    /// (same layout). The guide and Z have no prior.
    ///
    /// Errors: wrong lengths, bad settings, a non-finite value.
    pub fn log_prior<P: Prior, S: Scalar, L: Likelihood>(
        &self,
        model: &Svgp<P, L>,
        params: &[S],
        mut grad: Option<&mut [S]>,
    ) -> Result<S> {
        self.check()?;
        check_len("hyperprior: parameters", model.n_params(), params.len())?;
        if let Some(g) = grad.as_deref() {
            check_len("hyperprior: gradient", model.n_params(), g.len())?;
        }
        let prior = model.prior();
        let mut total = S::zero();
        let mut add = |i: usize, (lp, d): (S, S), grad: &mut Option<&mut [S]>| {
            total += lp;
            if let Some(g) = grad.as_deref_mut() {
                g[i] += d;
            }
        };
        for i in 0..prior.n_params() {
            let u = params[i];
            match prior.param_role(i) {
                ParamRole::LnVariance => {
                    if let Some(p) = self.variance {
                        add(i, p.log_density(u), &mut grad);
                    }
                }
                ParamRole::LnLengthscale => {
                    if let Some(p) = self.lengthscale {
                        add(i, p.log_density(u), &mut grad);
                    }
                }
                ParamRole::Weight => {
                    if let Some(s) = self.weight_std {
                        let inv = S::from_f64(1.0 / (s * s));
                        let c = -libm::log(s * libm::sqrt(2.0 * core::f64::consts::PI));
                        add(i, (S::from_f64(-0.5) * u * u * inv + S::from_f64(c), -u * inv), &mut grad);
                    }
                }
                _ => {}
            }
        }
        if self.noise.is_none() && self.noise_floor.is_none() {
            check_finite_value("log prior of the hyperparameters", 0, total)?;
            return Ok(total);
        }
        if model.likelihood().id() != LikelihoodId::Gaussian {
            return Err(Error::InvalidParameter {
                what: "noise prior or floor: Gaussian likelihood only (value: the likelihood id)",
                value: f64::from(model.likelihood().id().as_u8()),
            });
        }
        let lens = model.layout();
        let noise_at = lens.total() - lens.likelihood;
        let u = params[noise_at];
        if let Some(p) = self.noise {
            add(noise_at, p.log_density(u), &mut grad);
        }
        if let Some(f) = self.noise_floor {
            let below = S::from_f64(libm::log(f.variance)) - u;
            if below > S::zero() {
                let inv = S::from_f64(1.0 / (f.width * f.width));
                add(noise_at, (S::from_f64(-0.5) * below * below * inv, below * inv), &mut grad);
            }
        }
        check_finite_value("log prior of the hyperparameters", 0, total)?;
        Ok(total)
    }
}

/// An SVGP objective with MAP terms: loss = inner loss − log p(θ), gradient likewise; the
/// inner objective is any −ELBO of `model` (full batch, collapsed, split, minibatch).
///
/// ```
/// use svgp::gp::{Closed, Svgp};
/// use svgp::hyperprior::{HyperPrior, LogPrior, WithHyperPrior};
/// use svgp::kernel::Rbf;
/// use svgp::objective::{FullBatchElbo, Objective};
/// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
/// let (x, y) = ([-1.0, 0.0, 1.0], [0.5, 0.0, -0.5]);
/// let prior = HyperPrior::default().variance(LogPrior::gamma(2.0, 1.0));
/// let mut elbo = FullBatchElbo::new(&model, &x, &y, vec![0.0; model.workspace_len(y.len())?])?;
/// let mut map = WithHyperPrior::new(&model, prior, &mut elbo)?;
/// let mut g = vec![0.0; p.len()];
/// let loss = map.loss_and_grad(&p, &mut g)?;
/// let plain = FullBatchElbo::new(&model, &x, &y, vec![0.0; model.workspace_len(y.len())?])?.loss_and_grad(&p, &mut vec![0.0; p.len()])?;
/// assert!((loss - (plain - prior.log_prior(&model, &p, None)?)).abs() < 1e-12);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct WithHyperPrior<'a, P, O: ?Sized, L = Gaussian> {
    model: &'a Svgp<P, L>,
    prior: HyperPrior,
    inner: &'a mut O,
}

impl<'a, P: Prior, O: ?Sized, L: Likelihood> WithHyperPrior<'a, P, O, L> {
    /// `inner` (an objective of `model`) with the MAP terms of `prior` (checked).
    pub fn new(model: &'a Svgp<P, L>, prior: HyperPrior, inner: &'a mut O) -> Result<Self> {
        prior.check()?;
        Ok(Self { model, prior, inner })
    }
}

impl<P: Prior, S: Scalar, O: Objective<S> + ?Sized, L: Likelihood> Objective<S>
    for WithHyperPrior<'_, P, O, L>
{
    fn n_params(&self) -> Option<usize> {
        Some(self.model.n_params())
    }
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let loss = self.inner.loss_and_grad(params, grad)?;
        // ∂(−log p) = −∂ log p: negate around the accumulation.
        grad.iter_mut().for_each(|g| *g = -*g);
        let lp = self.prior.log_prior(self.model, params, Some(grad));
        grad.iter_mut().for_each(|g| *g = -*g);
        Ok(loss - lp?)
    }
}
