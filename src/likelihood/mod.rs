//! Likelihoods p(y | f): the observation model of an SVGP, one file per likelihood.
//!
//! The ELBO needs, per point, the expected log-likelihood E_q[log p(y | f)] under the latent
//! marginal q(f) = N(μ, s²) and its partial derivatives in μ, s² and the likelihood's own
//! parameters; prediction needs the predictive mean and variance of y and the log predictive
//! density ln ∫ p(y | f) q(f) df. The [`Likelihood`] trait asks for exactly these, generic over
//! [`Scalar`] (so `Dual` numbers check every derivative), `no_std` and without allocation.
//!
//! | likelihood | y | parameters | E_q[log p] | predictive | id |
//! |---|---|---|---|---|---|
//! | [`Gaussian`] | real | ln σ² (noise) | closed form | N(μ, s² + σ²), closed form | 0 |
//! | [`Bernoulli`] probit | 0 or 1 | none | Gauss–Hermite | P(y = 1) = Φ(μ/√(1 + s²)), closed form | 1 |
//! | [`Bernoulli`] logit | 0 or 1 | none | Gauss–Hermite | P(y = 1) = E[σ(f)], Gauss–Hermite | 2 |
//! | [`Poisson`] (log link) | 0, 1, 2, … | none | closed form: yμ − e^{μ+s²/2} − ln y! | moments closed form, density Gauss–Hermite | 3 |
//! | [`StudentT`] (ν fixed) | real | ln σ² (scale²) | Gauss–Hermite | moments closed form, density Gauss–Hermite | 4 |
//!
//! The id ([`LikelihoodId`]) and the parameter count ([`Likelihood::n_params`]) are what a
//! serialised model records.
//!
//! # Derivatives of a Gauss–Hermite expectation
//!
//! Where E_q[g(f)] has no closed form it is Σ_k (w_k/√π)·g(μ + √2·s·x_k)
//! ([`GaussHermite`], default order 20). Its derivatives are not taken through the nodes
//! (that divides by s, unstable as s → 0) but by Bonnet's and Price's theorems,
//! ∂E/∂μ = E[g′] and ∂E/∂s² = ½E[g″], each by the same quadrature; derivatives in the
//! likelihood's parameters are E[∂g/∂θ]. So one pass over the nodes evaluating g, g′, g″ and
//! ∂g/∂θ gives the value and the whole gradient. These are the exact derivatives of the true
//! expectation up to the quadrature's error, not the derivatives of the quadrature sum: with
//! enough nodes the two agree (the tests check both against `Dual` at orders where the
//! quadrature error is below the tolerance, and each expectation against an independent
//! oracle at the default order).
//!
//! # Targets
//!
//! Each likelihood says which targets it accepts ([`Likelihood::check_target`]): a Bernoulli
//! target is 0 or 1, a Poisson one a non-negative integer. A bad one is
//! [`Error::InvalidTarget`] naming its index and value, raised before any arithmetic.

mod bernoulli;
mod gaussian;
mod normal;
mod poisson;
pub mod quadrature;
mod student_t;

pub use bernoulli::{Bernoulli, Link};
pub use gaussian::{Gaussian, GaussianParams};
pub use poisson::Poisson;
pub use quadrature::GaussHermite;
pub use student_t::{StudentT, StudentTParams};

use crate::error::{Error, Result};
use crate::layout::SliceRef;
use crate::Scalar;

/// The stable number a serialised model records for its likelihood. The values never change;
/// new likelihoods get new numbers.
///
/// ```
/// use svgp::likelihood::{Bernoulli, Likelihood, LikelihoodId, StudentT};
/// assert_eq!(Bernoulli::logit().id().as_u8(), 2);
/// assert_eq!(LikelihoodId::from_u8(4), Some(StudentT::new(4.0)?.id()));
/// assert_eq!(LikelihoodId::from_u8(9), None);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum LikelihoodId {
    /// [`Gaussian`]: y = f + ε, ε ~ N(0, σ²).
    Gaussian = 0,
    /// [`Bernoulli`] with the probit link: P(y = 1 | f) = Φ(f).
    BernoulliProbit = 1,
    /// [`Bernoulli`] with the logit link: P(y = 1 | f) = 1/(1 + e^{−f}).
    BernoulliLogit = 2,
    /// [`Poisson`] with the log link: y ~ Poisson(e^f).
    Poisson = 3,
    /// [`StudentT`]: y = f + σ·t_ν.
    StudentT = 4,
    /// A likelihood defined outside this crate: nothing that reads a serialised model knows it.
    Custom = 255,
}

impl LikelihoodId {
    /// The number.
    pub const fn as_u8(self) -> u8 {
        self as u8
    }
    /// The likelihood a number stands for, if any.
    pub const fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0 => Self::Gaussian,
            1 => Self::BernoulliProbit,
            2 => Self::BernoulliLogit,
            3 => Self::Poisson,
            4 => Self::StudentT,
            255 => Self::Custom,
            _ => return None,
        })
    }
}

/// E_q[log p(y | f)] at one point and its partial derivatives in the mean and the variance of
/// q(f) (the likelihood's own parameters go to a slice: see
/// [`Likelihood::expected_log_lik_grad`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExpectedLogLik<S> {
    /// E_q[log p(y | f)].
    pub value: S,
    /// ∂/∂μ.
    pub d_mean: S,
    /// ∂/∂s².
    pub d_var: S,
}

/// The predictive mean and variance of an observation y.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moments<S> {
    /// E\[y\].
    pub mean: S,
    /// Var\[y\].
    pub var: S,
}

/// Where [`Likelihood::batch_expected_log_lik`] writes the adjoints of a batch, already
/// multiplied by `scale` (the ELBO's N/B): `mean[i]` = scale·∂ELL/∂μ_i, `var[i]` =
/// scale·∂ELL/∂v_i with respect to the *unclipped* variance v_i (see the method), `params` =
/// scale·∂ELL/∂θ (overwritten).
#[derive(Debug)]
pub struct BatchAdjoint<'a, S> {
    /// The factor every adjoint carries.
    pub scale: S,
    /// ∂/∂μ_i, one per point.
    pub mean: &'a mut [S],
    /// ∂/∂v_i, one per point.
    pub var: &'a mut [S],
    /// ∂/∂θ, [`Likelihood::n_params`] values.
    pub params: &'a mut [S],
}

/// An observation model p(y | f) for the SVGP: parameters in the model's flat buffer, the
/// expected log-likelihood and its derivatives for the ELBO, and the predictive of y.
///
/// Plain `Copy` data (a shape, like the prior); its trainable parameters θ live in the
/// model's flat buffer, in its `likelihood` part, and every method reads them from `params`
/// ([`Likelihood::n_params`] values). Every method is generic over [`Scalar`], allocates
/// nothing and works under `no_std`.
///
/// Contract for implementors: [`Likelihood::expected_log_lik`] and the `value` of
/// [`Likelihood::expected_log_lik_grad`] are the same number (bit for bit), so that the ELBO
/// does not depend on whether its gradient was asked for; the derivatives are those of
/// the value (tests check them against `Dual`).
///
/// ```
/// use svgp::likelihood::{Bernoulli, Likelihood};
/// let lik = Bernoulli::probit();
/// // One point, y = 1, latent q(f) = N(0.5, 0.2): E[ln Φ(f)] and its derivatives.
/// let mut g = [0.0_f64; 0]; // no parameters
/// let e = lik.expected_log_lik_grad(&[], 1.0, 0.5, 0.2, &mut g);
/// assert!(e.value < 0.0 && e.d_mean > 0.0 && e.d_var < 0.0);
/// assert_eq!(e.value, lik.expected_log_lik(&[], 1.0, 0.5, 0.2));
/// // The predictive probability Φ(μ/√(1 + s²)) and the log density of y = 1.
/// let p: f64 = lik.predictive(&[], 0.5, 0.2)?.mean;
/// assert!((lik.log_predictive_density(&[], 1.0, 0.5, 0.2) - p.ln()).abs() < 1e-15);
/// assert!(lik.check_target(3, 0.5).is_err()); // targets are 0 or 1
/// # Ok::<(), svgp::Error>(())
/// ```
pub trait Likelihood: Copy + core::fmt::Debug + PartialEq {
    /// The named view of the parameters over `&[S]` or `&mut [S]` (the Gaussian's
    /// [`GaussianParams`], the Student-t's [`StudentTParams`], `()` when there are none).
    type Params<C>;
    /// The stable number of this likelihood in serialised models.
    fn id(&self) -> LikelihoodId;
    /// Number of trainable parameters θ (the `likelihood` part of the model's buffer).
    fn n_params(&self) -> usize;
    /// Views `raw` ([`Likelihood::n_params`] values, checked) by name.
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>>;
    /// Writes the initial parameters (what [`Svgp::init`](crate::gp::Svgp::init) uses).
    fn init_params<S: Scalar>(&self, out: &mut [S]) -> Result<()>;
    /// Refuses parameters the likelihood cannot use (default: any non-finite value).
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        crate::error::check_len("likelihood parameters", self.n_params(), params.len())?;
        crate::error::check_finite("likelihood parameters", params)
    }
    /// Refuses a target this likelihood cannot explain, [`Error::InvalidTarget`] naming
    /// `index` and `y`; called on finite targets only (default: every finite value is fine).
    fn check_target(&self, index: usize, y: f64) -> Result<()> {
        let _ = (index, y);
        Ok(())
    }
    /// E_q[log p(y | f)] for q(f) = N(`mean`, `var`), `var` ≥ 0.
    fn expected_log_lik<S: Scalar>(&self, params: &[S], y: S, mean: S, var: S) -> S;
    /// The same value and its partial derivatives in `mean` and `var`; ∂/∂θ is *added* to
    /// `grad_params` ([`Likelihood::n_params`] values).
    fn expected_log_lik_grad<S: Scalar>(
        &self,
        params: &[S],
        y: S,
        mean: S,
        var: S,
        grad_params: &mut [S],
    ) -> ExpectedLogLik<S>;
    /// Predictive mean and variance of y when the latent is N(`mean`, `var`). Errors where
    /// they do not exist (a Student-t with ν ≤ 2 has no variance).
    fn predictive<S: Scalar>(&self, params: &[S], mean: S, var: S) -> Result<Moments<S>>;
    /// ln p(y | data) = ln ∫ p(y | f) N(f | `mean`, `var`) df, the log predictive density of
    /// an observation (its negative mean over test points is the NLPD).
    fn log_predictive_density<S: Scalar>(&self, params: &[S], y: S, mean: S, var: S) -> S;

    /// The expected log-likelihood of a batch, Σ_i E_q[log p(y_i | f_i)] with
    /// q(f_i) = N(mean_i, max(var_i, 0)), and, given `adjoint`, its scaled adjoints.
    ///
    /// The variances are the raw ones of the ELBO's forward pass, which rounding can push
    /// below 0; they are clipped at 0, and their adjoint follows the clip as JAX's `max` does:
    /// the full derivative where v_i > 0, half of it at v_i = 0, none below.
    ///
    /// Provided: a loop over [`Likelihood::expected_log_lik`] (or its `_grad` twin). The
    /// Gaussian overrides it with its closed form over the whole batch.
    fn batch_expected_log_lik<S: Scalar>(
        &self,
        params: &[S],
        y: &[S],
        mean: &[S],
        var: &[S],
        adjoint: Option<BatchAdjoint<'_, S>>,
    ) -> S {
        let zero = S::zero();
        let mut ell = zero;
        match adjoint {
            None => {
                for ((&y, &m), &v) in y.iter().zip(mean).zip(var) {
                    ell += self.expected_log_lik(params, y, m, v.max(zero));
                }
            }
            Some(BatchAdjoint { scale, mean: mean_bar, var: var_bar, params: params_bar }) => {
                params_bar.iter_mut().for_each(|g| *g = zero);
                for i in 0..y.len() {
                    let e = self.expected_log_lik_grad(params, y[i], mean[i], var[i].max(zero), params_bar);
                    ell += e.value;
                    mean_bar[i] = scale * e.d_mean;
                    var_bar[i] = clipped_adjoint(var[i], scale * e.d_var);
                }
                params_bar.iter_mut().for_each(|g| *g *= scale);
            }
        }
        ell
    }
}

/// The adjoint of a raw variance `v` clipped at 0, given the adjoint `d` of the clipped value:
/// `d` where v > 0, d/2 at v = 0, 0 below (JAX's convention for `max`).
#[inline]
pub(crate) fn clipped_adjoint<S: Scalar>(v: S, d: S) -> S {
    if v > S::zero() {
        d
    } else if v == S::zero() {
        S::from_f64(0.5) * d
    } else {
        S::zero()
    }
}

/// [`Error::InvalidTarget`] (cold: off the hot path).
#[cold]
pub(crate) fn invalid_target(what: &'static str, index: usize, value: f64) -> Error {
    Error::InvalidTarget { what, index, value }
}
