//! Adam with global-norm gradient clipping, exactly as `optax.chain(clip_by_global_norm(c),
//! adam(lr))` defines them (eps_root = 0), on caller-owned state buffers.
//!
//! One step with gradient g (of the loss being *minimised*), t = 1, 2, …:
//! n = ‖g‖₂ over all entries; g' = g if n < c else (g / n)·c;
//! μ ← (1 − β1)·g' + β1·μ; ν ← (1 − β2)·g'² + β2·ν;
//! μ̂ = μ / (1 − β1ᵗ); ν̂ = ν / (1 − β2ᵗ); θ ← θ + (−lr)·μ̂ / (√ν̂ + ε).

use crate::error::{check_len, Error, Result};
use crate::Scalar;

/// Adam's settings. [`AdamConfig::new`] gives optax's defaults (β1 0.9, β2 0.999, ε 1e-8)
/// and no clipping.
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
    /// The same with global-norm clipping at `clip_norm`.
    pub fn with_clip(self, clip_norm: f64) -> Self {
        Self { clip_norm: Some(clip_norm), ..self }
    }
    fn validate(&self) -> Result<()> {
        let bad = |what, value: f64| Err(Error::InvalidParameter { what, value });
        if !(self.lr.is_finite()) {
            return bad("Adam learning rate", self.lr);
        }
        if !(0.0..1.0).contains(&self.b1) {
            return bad("Adam b1", self.b1);
        }
        if !(0.0..1.0).contains(&self.b2) {
            return bad("Adam b2", self.b2);
        }
        if !(self.eps.is_finite() && self.eps >= 0.0) {
            return bad("Adam eps", self.eps);
        }
        match self.clip_norm {
            Some(c) if !(c.is_finite() && c > 0.0) => bad("clip norm", c),
            _ => Ok(()),
        }
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

/// Adam's state over caller-provided moment buffers (one entry per parameter).
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
    t: u32,
}

impl<'a, S: Scalar> Adam<'a, S> {
    /// Fresh state (moments zeroed, t = 0) over `mu` and `nu` (same length).
    pub fn new(cfg: AdamConfig, mu: &'a mut [S], nu: &'a mut [S]) -> Result<Self> {
        cfg.validate()?;
        check_len("Adam second-moment buffer", mu.len(), nu.len())?;
        mu.iter_mut().for_each(|v| *v = S::zero());
        nu.iter_mut().for_each(|v| *v = S::zero());
        Ok(Self { cfg, mu, nu, t: 0 })
    }
    /// Steps taken so far.
    pub fn t(&self) -> u32 {
        self.t
    }
    /// The settings.
    pub fn config(&self) -> AdamConfig {
        self.cfg
    }
    /// One update of `params` from the loss gradient `grad` (clipped in place when configured).
    /// Returns the gradient's global norm before clipping.
    pub fn step(&mut self, params: &mut [S], grad: &mut [S]) -> Result<S> {
        check_len("Adam parameters", self.mu.len(), params.len())?;
        check_len("Adam gradient", self.mu.len(), grad.len())?;
        let n = match self.cfg.clip_norm {
            Some(c) => clip_by_global_norm(grad, c),
            None => global_norm(grad),
        };
        self.t += 1;
        let c = &self.cfg;
        let (b1, b2) = (S::from_f64(c.b1), S::from_f64(c.b2));
        let (one_b1, one_b2) = (S::from_f64(1.0 - c.b1), S::from_f64(1.0 - c.b2));
        let t = self.t as i32;
        let bc1 = S::from_f64(1.0 - c.b1.powi(t));
        let bc2 = S::from_f64(1.0 - c.b2.powi(t));
        let (neg_lr, eps) = (S::from_f64(-c.lr), S::from_f64(c.eps));
        for (((p, &g), mu), nu) in
            params.iter_mut().zip(grad.iter()).zip(self.mu.iter_mut()).zip(self.nu.iter_mut())
        {
            *mu = one_b1 * g + b1 * *mu;
            *nu = one_b2 * (g * g) + b2 * *nu;
            let mhat = *mu / bc1;
            let nhat = *nu / bc2;
            *p += neg_lr * (mhat / (nhat.sqrt() + eps));
        }
        Ok(n)
    }
}
