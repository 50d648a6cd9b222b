//! Named views of a kernel's parameters: what [`Kernel::view`](super::Kernel::view) returns.
//!
//! The built-in kernels keep their parameters on the log scale, `[ln σ², ln ℓ…]`; a view reads
//! them by name (`variance()`, `lengthscale()`) and writes them from the natural values
//! (`set_variance`, `set_lengthscale`), so nobody indexes `params[1]`. A view borrows its
//! storage: `&[S]` to read, `&mut [S]` to write too.

use crate::error::{check_len, Error, Result};
use crate::Scalar;
use core::ops::{Deref, DerefMut};

/// `[ln σ², ln ℓ]`: one variance and one lengthscale ([`Rbf`](super::Rbf),
/// [`ArcCosine`](super::ArcCosine)).
///
/// ```
/// use svgp::kernel::{Kernel, Rbf};
/// let k = Rbf::new(2);
/// let mut raw = [0.0; 2];
/// let mut p = k.view(&mut raw[..])?;
/// p.set_variance(2.0)?;
/// p.set_lengthscale(0.5)?;
/// assert_eq!(raw, Rbf::params(2.0, 0.5));
/// let p = k.view(&raw[..])?;
/// assert!((p.variance() - 2.0).abs() < 1e-15 && (p.lengthscale() - 0.5).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsoParams<C> {
    raw: C,
}

/// `[ln σ², ln ℓ_1, …, ln ℓ_D]`: a variance and one lengthscale per input dimension
/// ([`RbfArd`](super::RbfArd), [`Matern`](super::Matern)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArdParams<C> {
    raw: C,
}

impl<S: Scalar, C: Deref<Target = [S]>> IsoParams<C> {
    /// Views `raw` (exactly 2 values).
    pub fn new(raw: C) -> Result<Self> {
        check_len("kernel parameters [ln σ², ln ℓ]", 2, raw.len())?;
        Ok(Self { raw })
    }
    /// ln σ².
    pub fn ln_variance(&self) -> S {
        self.raw[0]
    }
    /// σ².
    pub fn variance(&self) -> S {
        self.raw[0].exp()
    }
    /// ln ℓ.
    pub fn ln_lengthscale(&self) -> S {
        self.raw[1]
    }
    /// ℓ.
    pub fn lengthscale(&self) -> S {
        self.raw[1].exp()
    }
    /// The raw parameters.
    pub fn as_slice(&self) -> &[S] {
        &self.raw
    }
    /// [`Error::InvalidParameter`] unless σ² and ℓ (and 1/ℓ²) are finite and positive.
    pub fn check(&self) -> Result<()> {
        check_log_param("kernel ln variance", self.raw[0], 1.0)?;
        check_log_param("kernel ln lengthscale", self.raw[1], 2.0)
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> IsoParams<C> {
    /// Sets σ² (finite, > 0).
    pub fn set_variance(&mut self, variance: f64) -> Result<()> {
        self.raw[0] = S::from_f64(log_of_positive("kernel variance", variance)?);
        Ok(())
    }
    /// Sets ℓ (finite, > 0).
    pub fn set_lengthscale(&mut self, lengthscale: f64) -> Result<()> {
        self.raw[1] = S::from_f64(log_of_positive("kernel lengthscale", lengthscale)?);
        Ok(())
    }
    /// ln σ², mutably.
    pub fn ln_variance_mut(&mut self) -> &mut S {
        &mut self.raw[0]
    }
    /// ln ℓ, mutably.
    pub fn ln_lengthscale_mut(&mut self) -> &mut S {
        &mut self.raw[1]
    }
    /// The raw parameters, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        &mut self.raw
    }
}

impl<S: Scalar, C: Deref<Target = [S]>> ArdParams<C> {
    /// Views `raw` (1 + D values, D ≥ 1).
    pub fn new(raw: C, dim: usize) -> Result<Self> {
        check_len("kernel parameters [ln σ², ln ℓ_1..D]", dim.saturating_add(1), raw.len())?;
        Ok(Self { raw })
    }
    /// ln σ².
    pub fn ln_variance(&self) -> S {
        self.raw[0]
    }
    /// σ².
    pub fn variance(&self) -> S {
        self.raw[0].exp()
    }
    /// ln ℓ_d for every input dimension d.
    pub fn ln_lengthscales(&self) -> &[S] {
        &self.raw[1..]
    }
    /// ℓ_d (d < D).
    pub fn lengthscale(&self, d: usize) -> S {
        self.raw[1 + d].exp()
    }
    /// The raw parameters.
    pub fn as_slice(&self) -> &[S] {
        &self.raw
    }
    /// [`Error::InvalidParameter`] unless σ² and every ℓ_d (and 1/ℓ_d²) are finite and positive.
    pub fn check(&self) -> Result<()> {
        check_log_param("kernel ln variance", self.raw[0], 1.0)?;
        self.raw[1..].iter().try_for_each(|&l| check_log_param("kernel ln lengthscale", l, 2.0))
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> ArdParams<C> {
    /// Sets σ² (finite, > 0).
    pub fn set_variance(&mut self, variance: f64) -> Result<()> {
        self.raw[0] = S::from_f64(log_of_positive("kernel variance", variance)?);
        Ok(())
    }
    /// Sets every ℓ_d to `lengthscale` (finite, > 0).
    pub fn set_lengthscales(&mut self, lengthscale: f64) -> Result<()> {
        let v = S::from_f64(log_of_positive("kernel lengthscale", lengthscale)?);
        self.raw[1..].iter_mut().for_each(|l| *l = v);
        Ok(())
    }
    /// ln σ², mutably.
    pub fn ln_variance_mut(&mut self) -> &mut S {
        &mut self.raw[0]
    }
    /// ln ℓ_d, mutably.
    pub fn ln_lengthscales_mut(&mut self) -> &mut [S] {
        &mut self.raw[1..]
    }
    /// The raw parameters, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        &mut self.raw
    }
}

/// ln v for a finite v > 0, else [`Error::InvalidParameter`] naming `what`.
pub(crate) fn log_of_positive(what: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && v > 0.0 {
        Ok(libm::log(v))
    } else {
        Err(Error::InvalidParameter { what, value: v })
    }
}

/// Checks a log-scale parameter θ whose transform enters as e^{±power·θ}: both must be finite
/// and positive in `S` (so a lengthscale of 0, ln 0 = −∞, or one whose square overflows is
/// refused), else [`Error::InvalidParameter`] naming `what` with θ.
pub(crate) fn check_log_param<S: Scalar>(what: &'static str, theta: S, power: f64) -> Result<()> {
    let p = S::from_f64(power);
    let (up, down) = ((p * theta).exp(), (-(p * theta)).exp());
    let ok = |v: S| v.is_finite() && v > S::zero();
    if ok(up) && ok(down) {
        Ok(())
    } else {
        Err(Error::InvalidParameter { what, value: theta.re() })
    }
}
