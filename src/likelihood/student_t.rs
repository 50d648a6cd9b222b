//! The Student-t likelihood for robust regression: y = f + σ·t_ν, ν fixed.

use super::{ExpectedLogLik, GaussHermite, Likelihood, LikelihoodId, Moments};
use crate::error::{check_len, Error, Result};
use crate::kernel::log_of_positive;
use crate::layout::SliceRef;
use crate::Scalar;
use core::ops::{Deref, DerefMut};

/// The largest ν accepted: beyond it the normalising constant loses its digits (ln Γ of
/// huge arguments) and the likelihood is a Gaussian anyway.
const MAX_NU: f64 = 1e6;

/// The Student-t likelihood: y = f + σ·ε, ε ~ t_ν, for regression with outliers. One
/// parameter, ln σ² (the squared scale, as the Gaussian stores its noise variance); ν is
/// fixed when the likelihood is built.
///
/// log p(y | f) = c_ν − ½ln σ² − (ν + 1)/2·ln(1 + r²/(νσ²)), r = y − f,
/// c_ν = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ln(νπ). E_q of it by Gauss–Hermite
/// ([`StudentT::with_quadrature`], default 20 nodes), derivatives by Bonnet/Price from
/// g′ = (ν + 1)r/(νσ² + r²) and g″ = (ν + 1)(r² − νσ²)/(νσ² + r²)², which is *positive* for
/// |r| > √ν·σ: the likelihood is not log-concave, and the ELBO's sweep takes its general
/// path there.
///
/// **Why ν is fixed.** ν and σ trade off against each other (heavier tails with a smaller
/// scale explain the same residuals), so ν learned by maximising the ELBO is weakly determined
/// by a handful of outliers and drifts, often towards the Gaussian limit, taking the
/// robustness with it. GPflow fixes it too (its default is 3). Choose ν from the data's tails
/// (3–5 is usual) or by validation; it also keeps ln Γ and digamma of a trainable argument out
/// of the [`Scalar`] trait.
///
/// The predictive of y has mean μ and variance s² + σ²ν/(ν − 2) (ν > 2; for ν ≤ 2 there is
/// none, and [`Likelihood::predictive`] says so); its density is a Gauss–Hermite sum.
///
/// ```
/// use svgp::likelihood::{Likelihood, StudentT};
/// let lik = StudentT::new(4.0)?;
/// let mut theta = [0.0_f64; 1];
/// lik.view(&mut theta[..])?.set_scale(0.5)?;
/// let m = lik.predictive(&theta, 1.0, 0.1)?;
/// assert!((m.mean - 1.0).abs() < 1e-15 && (m.var - (0.1 + 0.25 * 2.0)).abs() < 1e-15);
/// assert!(StudentT::new(2.0)?.predictive(&theta, 1.0, 0.1).is_err()); // ν ≤ 2: no variance
/// assert!(StudentT::new(0.0).is_err());
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentT {
    nu: f64,
    /// c_ν = ln Γ((ν+1)/2) − ln Γ(ν/2) − ½ln(νπ).
    log_norm: f64,
    quad: GaussHermite,
}

impl StudentT {
    /// ν degrees of freedom, 0 < ν ≤ 10⁶ (else [`Error::InvalidParameter`]), expectations with
    /// the default 20-node rule.
    pub fn new(nu: f64) -> Result<Self> {
        if !(nu > 0.0 && nu <= MAX_NU) {
            return Err(Error::InvalidParameter {
                what: "Student-t degrees of freedom ν (0 < ν ≤ 1e6)",
                value: nu,
            });
        }
        let log_norm = libm::lgamma(0.5 * (nu + 1.0))
            - libm::lgamma(0.5 * nu)
            - 0.5 * libm::log(nu * core::f64::consts::PI);
        Ok(Self { nu, log_norm, quad: GaussHermite::default() })
    }
    /// The same likelihood with another quadrature rule.
    pub fn with_quadrature(self, quad: GaussHermite) -> Self {
        Self { quad, ..self }
    }
    /// The degrees of freedom ν.
    pub fn nu(&self) -> f64 {
        self.nu
    }
    /// The quadrature rule.
    pub fn quadrature(&self) -> &GaussHermite {
        &self.quad
    }

    /// (c_ν − ½ln σ², νσ²) from the parameters.
    #[inline]
    fn constants<S: Scalar>(&self, params: &[S]) -> (S, S) {
        let eta = params[0];
        (S::from_f64(self.log_norm) - S::from_f64(0.5) * eta, S::from_f64(self.nu) * eta.exp())
    }

    /// log p(y | f) from the constants, r = y − f.
    #[inline]
    fn log_lik<S: Scalar>(&self, c: S, a: S, r: S) -> S {
        c - S::from_f64(0.5 * (self.nu + 1.0)) * (r * r / a).ln_1p()
    }
}

/// The Student-t likelihood's parameter by name, over `&[S]` or `&mut [S]`: ln σ².
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StudentTParams<C> {
    raw: C,
}

impl<S: Scalar, C: Deref<Target = [S]>> StudentTParams<C> {
    /// ln σ², the stored (trainable) value.
    pub fn ln_scale_squared(&self) -> S {
        self.raw[0]
    }
    /// The scale σ = exp(½ ln σ²).
    pub fn scale(&self) -> S {
        (S::from_f64(0.5) * self.raw[0]).exp()
    }
    /// The raw parameters (one value).
    pub fn as_slice(&self) -> &[S] {
        &self.raw
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> StudentTParams<C> {
    /// Sets the scale σ (finite, > 0).
    pub fn set_scale(&mut self, scale: f64) -> Result<()> {
        let ln = log_of_positive("Student-t scale σ", scale)?;
        self.raw[0] = S::from_f64(2.0 * ln);
        Ok(())
    }
    /// ln σ², mutably.
    pub fn ln_scale_squared_mut(&mut self) -> &mut S {
        &mut self.raw[0]
    }
}

impl Likelihood for StudentT {
    type Params<C> = StudentTParams<C>;
    fn id(&self) -> LikelihoodId {
        LikelihoodId::StudentT
    }
    fn n_params(&self) -> usize {
        1
    }
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<StudentTParams<C>> {
        check_len("Student-t likelihood parameters [ln σ²]", 1, raw.len())?;
        Ok(StudentTParams { raw })
    }
    /// σ = 1 (ln σ² = 0): set the scale the data want through the view.
    fn init_params<S: Scalar>(&self, out: &mut [S]) -> Result<()> {
        self.view(out)?.set_scale(1.0)
    }
    fn expected_log_lik<S: Scalar>(&self, params: &[S], y: S, mean: S, var: S) -> S {
        let (c, a) = self.constants(params);
        self.quad.expect(mean, var, |f| [self.log_lik(c, a, y - f)])[0]
    }
    fn expected_log_lik_grad<S: Scalar>(
        &self,
        params: &[S],
        y: S,
        mean: S,
        var: S,
        grad_params: &mut [S],
    ) -> ExpectedLogLik<S> {
        let (c, a) = self.constants(params);
        let nu1 = S::from_f64(self.nu + 1.0);
        let half = S::from_f64(0.5);
        let [value, d1, d2, d_eta] = self.quad.expect(mean, var, |f| {
            let r = y - f;
            let r2 = r * r;
            let d = a + r2;
            // g′, g″ and ∂g/∂ln σ² = −½ + ½(ν + 1)·r²/(νσ² + r²).
            [self.log_lik(c, a, r), nu1 * r / d, nu1 * (r2 - a) / (d * d), half * (nu1 * r2 / d - S::one())]
        });
        grad_params[0] += d_eta;
        ExpectedLogLik { value, d_mean: d1, d_var: half * d2 }
    }
    fn predictive<S: Scalar>(&self, params: &[S], mean: S, var: S) -> Result<Moments<S>> {
        if self.nu <= 2.0 {
            return Err(Error::InvalidParameter {
                what: "Student-t predictive variance (exists only for ν > 2)",
                value: self.nu,
            });
        }
        let noise = params[0].exp() * S::from_f64(self.nu / (self.nu - 2.0));
        Ok(Moments { mean, var: var + noise })
    }
    fn log_predictive_density<S: Scalar>(&self, params: &[S], y: S, mean: S, var: S) -> S {
        let (c, a) = self.constants(params);
        let nu1 = S::from_f64(self.nu + 1.0);
        self.quad.log_expect_exp_adaptive(mean, var, |f| {
            let r = y - f;
            let d = a + r * r;
            [self.log_lik(c, a, r), nu1 * r / d, nu1 * (r * r - a) / (d * d)]
        })
    }
}
