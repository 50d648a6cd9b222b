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
/// let mut raw = [0.0_f64; 2];
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
    /// Sets σ² and the lengthscales: one value for every input, or one per input (finite, > 0).
    ///
    /// ```
    /// use svgp::kernel::{Kernel, RbfArd};
    /// let k = RbfArd::new(3);
    /// let mut raw = [0.0_f64; 4];
    /// k.view(&mut raw[..])?.set(2.0, &[1.0, 2.0, 4.0])?;
    /// assert!((k.view(&raw[..])?.lengthscale(2) - 4.0).abs() < 1e-15);
    /// assert!(k.view(&mut raw[..])?.set(2.0, &[1.0, 2.0]).is_err());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn set(&mut self, variance: f64, lengthscales: &[f64]) -> Result<()> {
        self.set_variance(variance)?;
        fill_log("kernel lengthscale", &mut self.raw[1..], lengthscales)
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

/// `[ln σ²]`: one variance ([`Constant`](super::Constant), and the factor of a
/// [`Scale`](super::Scale)).
///
/// ```
/// use svgp::kernel::{Constant, Kernel};
/// let k = Constant::new(3);
/// let mut raw = [0.0];
/// k.view(&mut raw[..])?.set_variance(4.0)?;
/// assert_eq!(raw, Constant::params(4.0));
/// assert!((k.view(&raw[..])?.variance() - 4.0).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VarianceParams<C> {
    raw: C,
}

impl<S: Scalar, C: Deref<Target = [S]>> VarianceParams<C> {
    /// Views `raw` (exactly 1 value).
    pub fn new(raw: C) -> Result<Self> {
        check_len("kernel parameters [ln σ²]", 1, raw.len())?;
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
    /// The raw parameters.
    pub fn as_slice(&self) -> &[S] {
        &self.raw
    }
    /// [`Error::InvalidParameter`] unless σ² is finite and positive.
    pub fn check(&self) -> Result<()> {
        check_log_param("kernel ln variance", self.raw[0], 1.0)
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> VarianceParams<C> {
    /// Sets σ² (finite, > 0).
    pub fn set_variance(&mut self, variance: f64) -> Result<()> {
        self.raw[0] = S::from_f64(log_of_positive("kernel variance", variance)?);
        Ok(())
    }
    /// ln σ², mutably.
    pub fn ln_variance_mut(&mut self) -> &mut S {
        &mut self.raw[0]
    }
}

/// `[ln σ², ln p_1, …, ln p_D, ln ℓ_1, …, ln ℓ_D]`: a variance, one period and one lengthscale
/// per input dimension ([`Periodic`](super::Periodic)).
///
/// ```
/// use svgp::kernel::{Kernel, Periodic};
/// let k = Periodic::new(2);
/// let mut raw = [0.0_f64; 5];
/// let mut p = k.view(&mut raw[..])?;
/// p.set_variance(2.0)?;
/// p.set_periods(1.0)?;
/// p.set_lengthscales(0.5)?;
/// p.ln_periods_mut()[1] = 3.0_f64.ln();
/// let p = k.view(&raw[..])?;
/// assert!((p.period(1) - 3.0).abs() < 1e-15 && (p.lengthscale(0) - 0.5).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PeriodicParams<C> {
    raw: C,
    dim: usize,
}

impl<S: Scalar, C: Deref<Target = [S]>> PeriodicParams<C> {
    /// Views `raw` (1 + 2D values).
    pub fn new(raw: C, dim: usize) -> Result<Self> {
        let n = dim.saturating_mul(2).saturating_add(1);
        check_len("kernel parameters [ln σ², ln p_1..D, ln ℓ_1..D]", n, raw.len())?;
        Ok(Self { raw, dim })
    }
    /// ln σ².
    pub fn ln_variance(&self) -> S {
        self.raw[0]
    }
    /// σ².
    pub fn variance(&self) -> S {
        self.raw[0].exp()
    }
    /// ln p_d for every input dimension d.
    pub fn ln_periods(&self) -> &[S] {
        &self.raw[1..1 + self.dim]
    }
    /// ln ℓ_d for every input dimension d.
    pub fn ln_lengthscales(&self) -> &[S] {
        &self.raw[1 + self.dim..]
    }
    /// p_d (d < D).
    pub fn period(&self, d: usize) -> S {
        self.raw[1 + d].exp()
    }
    /// ℓ_d (d < D).
    pub fn lengthscale(&self, d: usize) -> S {
        self.raw[1 + self.dim + d].exp()
    }
    /// The raw parameters.
    pub fn as_slice(&self) -> &[S] {
        &self.raw
    }
    /// [`Error::InvalidParameter`] unless σ², every p_d and ℓ_d (and 1/p_d, 1/ℓ_d²) are finite
    /// and positive.
    pub fn check(&self) -> Result<()> {
        check_log_param("kernel ln variance", self.raw[0], 1.0)?;
        self.ln_periods().iter().try_for_each(|&p| check_log_param("kernel ln period", p, 1.0))?;
        self.ln_lengthscales().iter().try_for_each(|&l| check_log_param("kernel ln lengthscale", l, 2.0))
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> PeriodicParams<C> {
    /// Sets σ² (finite, > 0).
    pub fn set_variance(&mut self, variance: f64) -> Result<()> {
        self.raw[0] = S::from_f64(log_of_positive("kernel variance", variance)?);
        Ok(())
    }
    /// Sets every p_d to `period` (finite, > 0).
    pub fn set_periods(&mut self, period: f64) -> Result<()> {
        let v = S::from_f64(log_of_positive("kernel period", period)?);
        self.ln_periods_mut().iter_mut().for_each(|p| *p = v);
        Ok(())
    }
    /// Sets every ℓ_d to `lengthscale` (finite, > 0).
    pub fn set_lengthscales(&mut self, lengthscale: f64) -> Result<()> {
        let v = S::from_f64(log_of_positive("kernel lengthscale", lengthscale)?);
        self.ln_lengthscales_mut().iter_mut().for_each(|l| *l = v);
        Ok(())
    }
    /// ln σ², mutably.
    pub fn ln_variance_mut(&mut self) -> &mut S {
        &mut self.raw[0]
    }
    /// ln p_d, mutably.
    pub fn ln_periods_mut(&mut self) -> &mut [S] {
        let d = self.dim;
        &mut self.raw[1..1 + d]
    }
    /// ln ℓ_d, mutably.
    pub fn ln_lengthscales_mut(&mut self) -> &mut [S] {
        let d = self.dim;
        &mut self.raw[1 + d..]
    }
    /// The raw parameters, mutably.
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        &mut self.raw
    }
}

/// `[ln σ², ln ℓ_1, …, ln ℓ_D, ln α]`: an ARD lengthscale set ([`ArdParams`]) and the shape α
/// of a [`RationalQuadratic`](super::RationalQuadratic).
///
/// ```
/// use svgp::kernel::{Kernel, RationalQuadratic};
/// let k = RationalQuadratic::new(2);
/// let mut raw = [0.0_f64; 4];
/// k.view(&mut raw[..])?.set_alpha(0.5)?;
/// let p = k.view(&raw[..])?;
/// assert!((p.alpha() - 0.5).abs() < 1e-15 && p.ard.lengthscale(1) == 1.0);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RqParams<C> {
    /// σ² and the lengthscales.
    pub ard: ArdParams<C>,
    /// ln α (one value).
    pub ln_alpha: C,
}

impl<C> RqParams<C> {
    /// Views `raw` (2 + D values).
    pub fn new<S: Scalar>(raw: C, dim: usize) -> Result<Self>
    where
        C: crate::layout::SliceRef<S>,
    {
        check_len("kernel parameters [ln σ², ln ℓ_1..D, ln α]", dim.saturating_add(2), raw.len())?;
        let (ard, ln_alpha) = crate::layout::Carve::split(raw, dim + 1);
        Ok(Self { ard: ArdParams::new(ard, dim)?, ln_alpha })
    }
}

impl<S: Scalar, C: Deref<Target = [S]>> RqParams<C> {
    /// α.
    pub fn alpha(&self) -> S {
        self.ln_alpha[0].exp()
    }
    /// [`Error::InvalidParameter`] unless σ², every ℓ_d and α are finite and positive.
    pub fn check(&self) -> Result<()> {
        self.ard.check()?;
        check_log_param("kernel ln alpha", self.ln_alpha[0], 1.0)
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> RqParams<C> {
    /// Sets α (finite, > 0).
    pub fn set_alpha(&mut self, alpha: f64) -> Result<()> {
        self.ln_alpha[0] = S::from_f64(log_of_positive("kernel alpha", alpha)?);
        Ok(())
    }
}

/// `[ln σ²_1, …, ln σ²_D]`: one variance per input dimension ([`Linear`](super::Linear)).
///
/// ```
/// use svgp::kernel::{Kernel, Linear};
/// let k = Linear::new(2);
/// let mut raw = [0.0_f64; 2];
/// k.view(&mut raw[..])?.set_variances(0.25)?;
/// assert!((k.view(&raw[..])?.variance(1) - 0.25).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinearParams<C> {
    raw: C,
}

impl<S: Scalar, C: Deref<Target = [S]>> LinearParams<C> {
    /// Views `raw` (D values).
    pub fn new(raw: C, dim: usize) -> Result<Self> {
        check_len("kernel parameters [ln σ²_1..D]", dim, raw.len())?;
        Ok(Self { raw })
    }
    /// ln σ²_d for every input dimension d.
    pub fn ln_variances(&self) -> &[S] {
        &self.raw
    }
    /// σ²_d (d < D).
    pub fn variance(&self, d: usize) -> S {
        self.raw[d].exp()
    }
    /// [`Error::InvalidParameter`] unless every σ²_d is finite and positive.
    pub fn check(&self) -> Result<()> {
        self.raw.iter().try_for_each(|&v| check_log_param("kernel ln variance", v, 1.0))
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> LinearParams<C> {
    /// Sets every σ²_d to `variance` (finite, > 0).
    pub fn set_variances(&mut self, variance: f64) -> Result<()> {
        let v = S::from_f64(log_of_positive("kernel variance", variance)?);
        self.raw.iter_mut().for_each(|l| *l = v);
        Ok(())
    }
    /// ln σ²_d, mutably.
    pub fn ln_variances_mut(&mut self) -> &mut [S] {
        &mut self.raw
    }
}

/// The parameters of a [`Sum`](super::Sum) or [`Product`](super::Product) `(a, b)`: `a`'s
/// view, then `b`'s, over the two consecutive parts of the buffer. Nested sums and products
/// nest their views, so the view mirrors the kernel expression:
///
/// ```
/// use svgp::kernel::{Kernel, Periodic, Product, Rbf, Sum};
/// let k = Sum(Rbf::new(1), Product(Periodic::new(1), Rbf::new(1)));
/// let mut raw = vec![0.0_f64; k.n_params()]; // [trend RBF | periodic | decay RBF]: 2 + 3 + 2
/// let mut p = k.view(&mut raw[..])?;
/// p.0.set_lengthscale(50.0)?;
/// p.1 .0.set_periods(1.0)?;
/// p.1 .1.set_lengthscale(100.0)?;
/// let p = k.view(&raw[..])?;
/// assert!((p.1 .1.lengthscale() - 100.0).abs() < 1e-12);
/// assert_eq!(raw[3], 0.0); // ln p = ln 1
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PairParams<A, B>(pub A, pub B);

/// The parameters of a [`Scale`](super::Scale): the factor σ² ([`VarianceParams`]), then the
/// kernel's own view.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleParams<C, P> {
    /// The factor σ².
    pub scale: VarianceParams<C>,
    /// The scaled kernel's parameters.
    pub kernel: P,
}

/// Writes ln v into `out` for natural values `v`: one value for every entry, or one per
/// entry (each finite, > 0).
pub(crate) fn fill_log<S: Scalar>(what: &'static str, out: &mut [S], v: &[f64]) -> Result<()> {
    match v {
        [one] => {
            let l = S::from_f64(log_of_positive(what, *one)?);
            out.iter_mut().for_each(|o| *o = l);
        }
        _ => {
            check_len(what, out.len(), v.len())?;
            for (o, &x) in out.iter_mut().zip(v) {
                *o = S::from_f64(log_of_positive(what, x)?);
            }
        }
    }
    Ok(())
}

/// What one parameter of a prior is, so that priors on hyperparameters (MAP terms, see
/// [`crate::hyperprior`]) find the values they apply to by role, not by offset.
///
/// ```
/// use svgp::kernel::{Kernel, ParamRole, Rbf};
/// assert_eq!(Rbf::new(2).param_role(0), ParamRole::LnVariance);
/// assert_eq!(Rbf::new(2).param_role(1), ParamRole::LnLengthscale);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamRole {
    /// ln σ², a kernel variance's log.
    LnVariance,
    /// ln ℓ, a lengthscale's log.
    LnLengthscale,
    /// A weight of a neural network layer (not a bias).
    Weight,
    /// A random-feature frequency (an entry of W).
    Frequency,
    /// Anything else (biases, phases, box widths, a user kernel's parameters): no prior applies.
    Other,
}

/// The role of parameter `i` in the built-in kernels' layout `[ln σ², ln ℓ…]`.
pub(crate) fn variance_then_lengthscales(i: usize) -> ParamRole {
    if i == 0 {
        ParamRole::LnVariance
    } else {
        ParamRole::LnLengthscale
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
