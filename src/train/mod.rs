//! The fit loop: an [`Optimizer`] stepping on an [`Objective`], each step reported to a
//! callback, stopping safely on non-finite numbers.
//!
//! - [`fit`]: a number of steps, today's loop, caller-owned everything (`no_std`, no heap).
//! - [`fit_with`]: the same loop with [`FitOptions`]: keep the best iterate, stop early when
//!   the loss stops improving (patience).
//! - `Trainer` (feature `alloc`): the one-call version that owns the gradient, the moments
//!   and the best-iterate buffer, freezes parameters by a mask, and with `std` trains the SVGP
//!   with its data split across a thread team (`Trainer::fit_svgp`).
//!
//! # What survives a failure
//!
//! A non-finite loss or gradient stops training with [`Error::NonFinite`] *before* the update;
//! an update that would give a non-finite parameter is refused by the optimiser before it is
//! written ([`Optimizer`]'s contract; Adam names the parameter and the value). So whatever
//! `fit` returns (`Ok`, an error, a stop by the callback or by patience), the parameters are
//! the last finite ones, or the best iterate when [`FitOptions::keep_best`] asked for it.

#[cfg(feature = "alloc")]
mod trainer;

#[cfg(feature = "alloc")]
pub use trainer::Trainer;

use crate::error::{check_len, Error, Result};
use crate::layout::Size;
use crate::objective::Objective;
use crate::optim::Optimizer;
use crate::Scalar;
use core::ops::ControlFlow;

/// What one training step reports to the callback.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport<'a, S> {
    /// 1-based step number.
    pub step: usize,
    /// The loss at the parameters *before* this step's update (as the reference reports it).
    pub loss: f64,
    /// Global norm of the loss gradient the optimiser used, before clipping (frozen entries
    /// excluded).
    pub grad_norm: f64,
    /// The parameters *after* this step's update (those the next step evaluates).
    pub params: &'a [S],
}

/// Why a fit ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// All the steps asked for ran.
    Steps,
    /// The callback returned [`ControlFlow::Break`].
    Callback,
    /// The loss did not improve for [`FitOptions::patience`] steps in a row.
    Patience,
}

/// How a fit ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitSummary {
    /// Updates applied.
    pub steps: usize,
    /// The last reported loss (NaN if no step ran).
    pub last_loss: f64,
    /// The step with the lowest loss (0 if no step ran); its parameters are those *before*
    /// that step's update, which [`FitOptions::keep_best`] restores at the end.
    pub best_step: usize,
    /// The lowest loss seen (NaN if no step ran).
    pub best_loss: f64,
    /// Why training stopped.
    pub stop: Stop,
}

crate::parts! {
    /// The fit loop's workspace: the gradient, and the best parameters when kept (else empty).
    "fit workspace": struct FitWs { grad, best }
}

/// Settings of the fit loop beyond the optimiser's own.
///
/// [`FitOptions::new`]`(steps)` is plain training: `steps` updates, the last parameters kept.
/// The builder methods add the best iterate and early stopping.
///
/// ```
/// use svgp::train::FitOptions;
/// let opts = FitOptions::new(3000).keep_best().patience(200).min_improvement(1e-3);
/// assert_eq!(opts.workspace_len(10)?, 20); // the gradient and the best parameters
/// assert_eq!(FitOptions::new(3000).workspace_len(10)?, 10); // the gradient alone
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitOptions {
    /// Maximum number of updates.
    pub steps: usize,
    /// Restore the parameters with the lowest loss when the fit ends, whatever the outcome.
    pub keep_best: bool,
    /// Stop after this many steps in a row without an improvement (see
    /// [`FitOptions::min_improvement`]); `None`: never stop early.
    pub patience: Option<usize>,
    /// An improvement, for patience, lowers the loss by more than this below the loss of the
    /// last improvement (0: any decrease counts).
    pub min_improvement: f64,
}

impl FitOptions {
    /// `steps` updates, nothing more: the behaviour of [`fit`].
    pub fn new(steps: usize) -> Self {
        Self { steps, keep_best: false, patience: None, min_improvement: 0.0 }
    }
    /// Keep the best iterate (by loss): at the end, the parameters are those with the lowest
    /// loss seen. Needs a second parameter-sized buffer ([`FitOptions::workspace_len`]).
    pub fn keep_best(self) -> Self {
        Self { keep_best: true, ..self }
    }
    /// Stop early after `steps ≥ 1` steps in a row without an improvement.
    pub fn patience(self, steps: usize) -> Self {
        Self { patience: Some(steps), ..self }
    }
    /// The least decrease of the loss that counts as an improvement for patience (finite, ≥ 0).
    pub fn min_improvement(self, delta: f64) -> Self {
        Self { min_improvement: delta, ..self }
    }
    /// Workspace length for [`fit_with`] on `n_params` parameters: the gradient, and the best
    /// parameters when kept.
    pub fn workspace_len(&self, n_params: usize) -> Result<usize> {
        Ok(self.ws(n_params)?.total())
    }
    /// The workspace's parts for `n_params` parameters.
    fn ws(&self, n_params: usize) -> Result<FitWs<usize>> {
        let best = if self.keep_best { n_params } else { 0 };
        FitWs { grad: Size::of(n_params), best: Size::of(best) }.resolve()
    }
    fn check(&self) -> Result<()> {
        if self.patience == Some(0) {
            return Err(Error::InvalidParameter { what: "fit patience (must be ≥ 1 step)", value: 0.0 });
        }
        if !(self.min_improvement.is_finite() && self.min_improvement >= 0.0) {
            return Err(Error::InvalidParameter {
                what: "fit min_improvement (finite, ≥ 0)",
                value: self.min_improvement,
            });
        }
        Ok(())
    }
}

/// Runs up to `steps` updates of `optimizer` on `params`, minimising `objective`.
///
/// `objective` writes the loss gradient into `grad` and returns the loss. After each update
/// `callback` gets a [`StepReport`]; returning [`ControlFlow::Break`] stops training. A
/// non-finite loss or gradient returns [`Error::NonFinite`] *before* the update, and the
/// optimiser refuses updates that would not be finite, so `params` keep their last finite
/// values whatever the outcome. [`fit_with`] adds the best iterate and early stopping.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::optim::{Adam, AdamConfig};
/// use svgp::train::fit;
/// // Minimise (θ − 3)².
/// let mut theta = [0.0_f64];
/// let (mut mu, mut nu, mut grad) = ([0.0], [0.0], [0.0]);
/// let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu)?;
/// let mut obj = |p: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * (p[0] - 3.0);
///     Ok((p[0] - 3.0).powi(2))
/// };
/// let summary = fit(&mut obj, &mut theta, &mut grad, &mut adam, 500, |_| ControlFlow::Continue(()))?;
/// assert_eq!(summary.steps, 500);
/// assert!((theta[0] - 3.0).abs() < 1e-2);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn fit<S, O, Opt, C>(
    objective: &mut O,
    params: &mut [S],
    grad: &mut [S],
    optimizer: &mut Opt,
    steps: usize,
    callback: C,
) -> Result<FitSummary>
where
    S: Scalar,
    O: Objective<S> + ?Sized,
    Opt: Optimizer<S> + ?Sized,
    C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
{
    check_len("fit: gradient buffer", params.len(), grad.len())?;
    fit_with(objective, params, optimizer, &FitOptions::new(steps), grad, callback)
}

/// [`fit`] with [`FitOptions`]: the best iterate and early stopping, in a caller-owned
/// workspace `ws` of [`FitOptions::workspace_len`] elements (the gradient, then the best
/// parameters).
///
/// With [`FitOptions::keep_best`] the parameters are, on return (`Ok` or error), those with
/// the lowest loss seen.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::optim::{Adam, AdamConfig};
/// use svgp::train::{fit_with, FitOptions, Stop};
/// // |θ| has its minimum at 0; Adam at a large step size overshoots and oscillates there.
/// let mut obj = |p: &[f64], g: &mut [f64]| {
///     g[0] = p[0].signum();
///     Ok(p[0].abs())
/// };
/// let mut theta = [1.0_f64];
/// let (mut mu, mut nu) = ([0.0], [0.0]);
/// let mut adam = Adam::new(AdamConfig::new(0.3), &mut mu, &mut nu)?;
/// let opts = FitOptions::new(1000).keep_best().patience(20);
/// let mut ws = vec![0.0; opts.workspace_len(1)?];
/// let s = fit_with(&mut obj, &mut theta, &mut adam, &opts, &mut ws, |_| ControlFlow::Continue(()))?;
/// assert_eq!(s.stop, Stop::Patience);
/// assert!(s.steps < 1000);
/// assert_eq!(theta[0].abs(), s.best_loss); // the best iterate, not the last
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn fit_with<S, O, Opt, C>(
    objective: &mut O,
    params: &mut [S],
    optimizer: &mut Opt,
    options: &FitOptions,
    ws: &mut [S],
    mut callback: C,
) -> Result<FitSummary>
where
    S: Scalar,
    O: Objective<S> + ?Sized,
    Opt: Optimizer<S> + ?Sized,
    C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
{
    let np = params.len();
    options.check()?;
    if let Some(n) = objective.n_params() {
        check_len("fit: parameters (the objective's count)", n, np)?;
    }
    check_len("fit: parameters (the optimiser's count)", optimizer.n_params(), np)?;
    let FitWs { grad, best } = options.ws(np)?.carve(ws)?;
    let mut best = if options.keep_best { Some(best) } else { None };
    let mut summary =
        FitSummary { steps: 0, last_loss: f64::NAN, best_step: 0, best_loss: f64::NAN, stop: Stop::Steps };
    let outcome =
        steps(objective, params, grad, best.as_deref_mut(), optimizer, options, &mut callback, &mut summary);
    if let Some(best) = best {
        if summary.best_step > 0 {
            params.copy_from_slice(best);
        }
    }
    outcome.map(|()| summary)
}

/// The loop of [`fit_with`], filling `summary` as it goes (so the caller can restore the best
/// iterate on any outcome).
fn steps<S, O, Opt, C>(
    objective: &mut O,
    params: &mut [S],
    grad: &mut [S],
    mut best: Option<&mut [S]>,
    optimizer: &mut Opt,
    options: &FitOptions,
    callback: &mut C,
    summary: &mut FitSummary,
) -> Result<()>
where
    S: Scalar,
    O: Objective<S> + ?Sized,
    Opt: Optimizer<S> + ?Sized,
    C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
{
    // Patience counts steps since the loss last fell more than `min_improvement` below `mark`.
    let (mut mark, mut since) = (f64::INFINITY, 0usize);
    for step in 1..=options.steps {
        let loss = objective.loss_and_grad(params, grad)?;
        if !loss.is_finite() {
            return Err(Error::NonFinite { what: "loss", index: step, value: loss.re() });
        }
        if let Some(index) = grad.iter().position(|g| !g.is_finite()) {
            return Err(Error::NonFinite { what: "loss gradient", index, value: grad[index].re() });
        }
        let loss = loss.re();
        if summary.best_step == 0 || loss < summary.best_loss {
            summary.best_step = step;
            summary.best_loss = loss;
            if let Some(best) = best.as_deref_mut() {
                best.copy_from_slice(params);
            }
        }
        if loss < mark - options.min_improvement {
            (mark, since) = (loss, 0);
        } else {
            since += 1;
        }
        let grad_norm = optimizer.step(params, grad)?.re();
        summary.steps = step;
        summary.last_loss = loss;
        if callback(&StepReport { step, loss, grad_norm, params }).is_break() {
            summary.stop = Stop::Callback;
            break;
        }
        if options.patience.is_some_and(|p| since >= p) {
            summary.stop = Stop::Patience;
            break;
        }
    }
    Ok(())
}
