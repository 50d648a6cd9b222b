//! The likelihood's place in the parameter buffer. Today the Gaussian one, whose single
//! parameter is ln σ²_noise; another likelihood (Bernoulli, Poisson, Student-t) takes the same
//! place with its own parameters and view, so the rest of the layout does not change.

use crate::error::{check_len, Result};
use crate::kernel::log_of_positive;
use crate::Scalar;
use core::ops::{Deref, DerefMut};

/// The Gaussian likelihood y = f + ε, ε ~ N(0, σ²_noise): one parameter, ln σ²_noise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Gaussian;

impl Gaussian {
    /// Number of parameters: 1 (ln σ²_noise).
    pub const N_PARAMS: usize = 1;
    /// Views `raw` (exactly one value) by name.
    pub fn view<S: Scalar, C: Deref<Target = [S]>>(raw: C) -> Result<GaussianParams<C>> {
        check_len("Gaussian likelihood parameters [ln σ²_noise]", Self::N_PARAMS, raw.len())?;
        Ok(GaussianParams { raw })
    }
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
