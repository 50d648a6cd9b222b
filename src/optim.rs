//! Optimisers on caller-owned state: the [`Optimizer`] trait the fit loop drives, and Adam with
//! global-norm gradient clipping, exactly as `optax.chain(clip_by_global_norm(c), adam(lr))`
//! defines them (eps_root = 0).
//!
//! One Adam step with gradient g (of the loss being *minimised*), t = 1, 2, …:
//! n = ‖g‖₂ over all entries; g' = g if n < c else (g / n)·c;
//! μ ← (1 − β1)·g' + β1·μ; ν ← (1 − β2)·g'² + β2·ν;
//! μ̂ = μ / (1 − β1ᵗ); ν̂ = ν / (1 − β2ᵗ); θ ← θ + (−lr)·μ̂ / (√ν̂ + ε).
//!
//! # Clipping: what the defaults do
//!
//! [`AdamConfig::new`] is `optax.adam(lr)` alone: **no clipping**. The reference experiment
//! (the deep-RFF notebook) chains `optax.clip_by_global_norm(1.0)` before Adam, because without
//! it a deep-kernel run now and then lands a step that sends the MLP into a flat region and the
//! ELBO spikes; its recipe is `AdamConfig::new(1e-2).with_clip(1.0)`, which the examples, the
//! fixture tests and the quality tests use. Clipping changes only steps whose gradient norm
//! reaches the threshold: ask for it with [`AdamConfig::with_clip`].

use crate::error::{check_len, Error, Result};
use crate::Scalar;

mod natural;
pub use natural::{NaturalConfig, NaturalGradient};

/// The objective as [`Optimizer::step_with`] sees it: `(at, grad) -> loss`, writing the loss
/// gradient at `at` over `grad`.
pub type Reevaluate<'a, S> = dyn FnMut(&[S], &mut [S]) -> Result<S> + 'a;

/// An update rule for a flat parameter buffer, driven by [`crate::train::fit`].
///
/// The contract that keeps training safe: on `Ok` every parameter the step wrote is finite; on
/// `Err` neither `params` nor the optimiser's state changed, so a failed step loses nothing.
/// `grad` is scratch: a step may overwrite it (clipping does). An optimiser may update only a
/// subset of the parameters (Adam's frozen mask; a natural-gradient step on the guide alone).
///
/// ```
/// use svgp::optim::Optimizer;
/// use svgp::{Error, Result};
/// /// Plain gradient descent θ ← θ − lr·g, checking the update before it is written.
/// struct Sgd(f64, usize);
/// impl Optimizer<f64> for Sgd {
///     fn n_params(&self) -> usize {
///         self.1
///     }
///     fn step(&mut self, params: &mut [f64], grad: &mut [f64]) -> Result<f64> {
///         if let Some(i) = params.iter().zip(grad.iter()).position(|(p, g)| !(p - self.0 * g).is_finite()) {
///             return Err(Error::NonFinite { what: "parameter after the update", index: i, value: params[i] - self.0 * grad[i] });
///         }
///         params.iter_mut().zip(grad.iter()).for_each(|(p, g)| *p -= self.0 * g);
///         Ok(grad.iter().map(|g| g * g).sum::<f64>().sqrt())
///     }
/// }
/// let mut theta = [1.0_f64];
/// Sgd(0.25, 1).step(&mut theta, &mut [2.0])?;
/// assert_eq!(theta, [0.5]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub trait Optimizer<S> {
    /// Length of the parameter buffer the state covers.
    fn n_params(&self) -> usize;
    /// One update of `params` from the loss gradient `grad`; returns the global norm of the
    /// gradient entries it used, before any clipping (the norm the fit loop reports).
    fn step(&mut self, params: &mut [S], grad: &mut [S]) -> Result<S>;
    /// One update with access to the objective, for an optimiser that evaluates it again
    /// within a step ([`NaturalGradient`]: the natural step on the guide, then Adam with the
    /// gradient at the new guide). `reevaluate(at, grad)` writes the loss gradient at `at`
    /// over `grad` and returns the loss. The same contract as [`Optimizer::step`]; the
    /// default is `step`, which is what [`crate::train::fit`] calls through it.
    fn step_with(
        &mut self,
        params: &mut [S],
        grad: &mut [S],
        reevaluate: &mut Reevaluate<'_, S>,
    ) -> Result<S> {
        let _ = reevaluate;
        self.step(params, grad)
    }
}

/// Adam's settings. [`AdamConfig::new`] gives optax's defaults (β1 0.9, β2 0.999, ε 1e-8)
/// and no clipping (see the [module docs](self) for what the reference recipe clips at).
///
/// Settings that cannot work are refused by [`Adam::new`] with [`Error::InvalidParameter`]:
/// a learning rate or ε that is not finite and positive *in the scalar type* (1e39 is finite in
/// `f64`, not in `f32`; 1e-50 is positive in `f64`, zero in `f32`), β1 or β2 outside [0, 1), a
/// clip threshold that is not finite and positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig {
    /// Learning rate.
    pub lr: f64,
    /// First-moment decay β1.
    pub b1: f64,
    /// Second-moment decay β2.
    pub b2: f64,
    /// ε added to √ν̂.
    pub eps: f64,
    /// Global-norm clip threshold (`None`: no clipping).
    pub clip_norm: Option<f64>,
}

impl AdamConfig {
    /// optax.adam(lr) defaults, no clipping.
    pub fn new(lr: f64) -> Self {
        Self { lr, b1: 0.9, b2: 0.999, eps: 1e-8, clip_norm: None }
    }
    /// The same with global-norm clipping at `clip_norm` (the reference recipe uses 1.0).
    pub fn with_clip(self, clip_norm: f64) -> Self {
        Self { clip_norm: Some(clip_norm), ..self }
    }
    /// Checks the settings for the scalar type `S` (see the type's docs for the rules).
    ///
    /// ```
    /// use svgp::optim::AdamConfig;
    /// assert!(AdamConfig::new(1e-2).check::<f32>().is_ok());
    /// assert!(AdamConfig::new(-1e-2).check::<f64>().is_err()); // would climb the loss
    /// assert!(AdamConfig::new(1e39).check::<f64>().is_ok());
    /// assert!(AdamConfig::new(1e39).check::<f32>().is_err()); // infinite once in f32
    /// ```
    pub fn check<S: Scalar>(&self) -> Result<()> {
        positive_in::<S>("Adam learning rate (finite and > 0 in the scalar type)", self.lr)?;
        if !(0.0..1.0).contains(&self.b1) {
            return Err(Error::InvalidParameter { what: "Adam b1 (in [0, 1))", value: self.b1 });
        }
        if !(0.0..1.0).contains(&self.b2) {
            return Err(Error::InvalidParameter { what: "Adam b2 (in [0, 1))", value: self.b2 });
        }
        positive_in::<S>("Adam eps (finite and > 0 in the scalar type)", self.eps)?;
        match self.clip_norm {
            Some(c) => positive_in::<S>("clip norm (finite and > 0 in the scalar type)", c),
            None => Ok(()),
        }
    }
}

/// `value` is finite and positive in `f64` and still so after conversion to `S`.
fn positive_in<S: Scalar>(what: &'static str, value: f64) -> Result<()> {
    let converted = S::from_f64(value).re();
    if value.is_finite() && value > 0.0 && converted.is_finite() && converted > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidParameter { what, value })
    }
}

/// ‖g‖₂ over all entries.
pub fn global_norm<S: Scalar>(g: &[S]) -> S {
    g.iter().map(|&v| v * v).sum::<S>().sqrt()
}

/// optax.clip_by_global_norm: g ← (g / n)·c when n = ‖g‖ ≥ c. Returns n (before clipping).
pub fn clip_by_global_norm<S: Scalar>(g: &mut [S], clip_norm: f64) -> S {
    let n = global_norm(g);
    let c = S::from_f64(clip_norm);
    // optax: where(n < c, g, g / n * c) (a NaN norm takes the clipping branch, as there).
    if n.partial_cmp(&c) != Some(core::cmp::Ordering::Less) {
        g.iter_mut().for_each(|v| *v = *v / n * c);
    }
    n
}

/// Adam's state over caller-provided moment buffers (one entry per parameter), optionally with
/// a mask of frozen parameters.
///
/// A step computes every candidate update first and writes nothing until all of them are
/// finite: an update that overflows (a huge learning rate, a huge gradient in `f32`) returns
/// [`Error::NonFinite`] naming the parameter's index and the value it would have taken, and
/// leaves the parameters, the moments and the step count as they were.
///
/// ```
/// use svgp::optim::{Adam, AdamConfig};
/// let (mut mu, mut nu) = ([0.0; 2], [0.0; 2]);
/// let mut adam = Adam::new(AdamConfig::new(0.1).with_clip(1.0), &mut mu, &mut nu)?;
/// let mut theta = [1.0_f64, -1.0];
/// let mut g = [2.0, -2.0]; // gradient of the loss
/// adam.step(&mut theta, &mut g)?;
/// // The first step moves each parameter by about lr against its gradient's sign.
/// assert!((theta[0] - 0.9).abs() < 1e-6 && (theta[1] + 0.9).abs() < 1e-6);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct Adam<'a, S> {
    cfg: AdamConfig,
    mu: &'a mut [S],
    nu: &'a mut [S],
    frozen: Option<&'a [bool]>,
    t: u32,
}

/// One step's constants, converted to `S` once.
struct Coefficients<S> {
    b1: S,
    b2: S,
    one_b1: S,
    one_b2: S,
    bc1: S,
    bc2: S,
    neg_lr: S,
    eps: S,
}

impl<S: Scalar> Coefficients<S> {
    fn at(c: &AdamConfig, t: u32) -> Self {
        let t = t as i32;
        Self {
            b1: S::from_f64(c.b1),
            b2: S::from_f64(c.b2),
            one_b1: S::from_f64(1.0 - c.b1),
            one_b2: S::from_f64(1.0 - c.b2),
            bc1: S::from_f64(1.0 - c.b1.powi(t)),
            bc2: S::from_f64(1.0 - c.b2.powi(t)),
            neg_lr: S::from_f64(-c.lr),
            eps: S::from_f64(c.eps),
        }
    }

    /// One entry's new (μ, ν, θ): the candidate the check reads and the commit writes, so both
    /// passes run the same arithmetic.
    #[inline(always)]
    fn update(&self, p: S, g: S, mu: S, nu: S) -> (S, S, S) {
        let mu = self.one_b1 * g + self.b1 * mu;
        let nu = self.one_b2 * (g * g) + self.b2 * nu;
        let mhat = mu / self.bc1;
        let nhat = nu / self.bc2;
        (mu, nu, p + self.neg_lr * (mhat / (nhat.sqrt() + self.eps)))
    }
}

impl<'a, S: Scalar> Adam<'a, S> {
    /// Fresh state (moments zeroed, t = 0) over `mu` and `nu` (same length), after checking
    /// `cfg` for the scalar type `S` ([`AdamConfig::check`]).
    pub fn new(cfg: AdamConfig, mu: &'a mut [S], nu: &'a mut [S]) -> Result<Self> {
        cfg.check::<S>()?;
        check_len("Adam second-moment buffer", mu.len(), nu.len())?;
        mu.iter_mut().for_each(|v| *v = S::zero());
        nu.iter_mut().for_each(|v| *v = S::zero());
        Ok(Self { cfg, mu, nu, frozen: None, t: 0 })
    }
    /// The same, never moving the parameters whose entry in `frozen` is `true` (one entry per
    /// parameter): their gradient is set to zero before clipping (so it does not count in the
    /// norm), their moments stay zero, their values stay exactly as they are.
    ///
    /// ```
    /// use svgp::optim::{Adam, AdamConfig};
    /// let (mut mu, mut nu) = ([0.0; 2], [0.0; 2]);
    /// let frozen = [false, true];
    /// let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu)?.with_frozen(&frozen)?;
    /// let mut theta = [1.0_f64, 365.25];
    /// adam.step(&mut theta, &mut [1.0, 1.0])?;
    /// assert_eq!(theta[1], 365.25);
    /// assert!(theta[0] < 1.0);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn with_frozen(self, frozen: &'a [bool]) -> Result<Self> {
        check_len("frozen-parameter mask", self.mu.len(), frozen.len())?;
        Ok(Self { frozen: Some(frozen), ..self })
    }
    /// Steps taken so far.
    pub fn t(&self) -> u32 {
        self.t
    }
    /// The settings.
    pub fn config(&self) -> AdamConfig {
        self.cfg
    }
    /// The first and second moments (zero for frozen parameters).
    pub fn moments(&self) -> (&[S], &[S]) {
        (self.mu, self.nu)
    }

    fn is_frozen(&self, i: usize) -> bool {
        self.frozen.is_some_and(|f| f[i])
    }
}

impl<S: Scalar> Adam<'_, S> {
    /// One update of `params` from the loss gradient `grad` (zeroed at frozen entries, then
    /// clipped in place when configured). Returns the gradient's global norm before clipping.
    pub fn step(&mut self, params: &mut [S], grad: &mut [S]) -> Result<S> {
        check_len("Adam parameters", self.mu.len(), params.len())?;
        check_len("Adam gradient", self.mu.len(), grad.len())?;
        if let Some(frozen) = self.frozen {
            grad.iter_mut().zip(frozen).filter(|(_, &f)| f).for_each(|(g, _)| *g = S::zero());
        }
        let n = match self.cfg.clip_norm {
            Some(c) => clip_by_global_norm(grad, c),
            None => global_norm(grad),
        };
        let t = self.t.checked_add(1).ok_or(Error::InvalidParameter {
            what: "Adam step count (at most u32::MAX steps)",
            value: f64::from(u32::MAX),
        })?;
        let k = Coefficients::at(&self.cfg, t);
        // First pass: every candidate must be finite before anything is written.
        for i in 0..params.len() {
            if self.is_frozen(i) {
                continue;
            }
            let (mu, nu, p) = k.update(params[i], grad[i], self.mu[i], self.nu[i]);
            for (what, v) in [
                ("parameter after the Adam update", p),
                ("Adam first moment", mu),
                ("Adam second moment", nu),
            ] {
                if !v.is_finite() {
                    return Err(Error::NonFinite { what, index: i, value: v.re() });
                }
            }
        }
        // Second pass: commit (the same arithmetic, so the same values).
        for i in 0..params.len() {
            if self.is_frozen(i) {
                continue;
            }
            (self.mu[i], self.nu[i], params[i]) = k.update(params[i], grad[i], self.mu[i], self.nu[i]);
        }
        self.t = t;
        Ok(n)
    }
}

impl<S: Scalar> Optimizer<S> for Adam<'_, S> {
    fn n_params(&self) -> usize {
        self.mu.len()
    }
    fn step(&mut self, params: &mut [S], grad: &mut [S]) -> Result<S> {
        Adam::step(self, params, grad)
    }
}
