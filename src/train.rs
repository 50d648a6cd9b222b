//! The fit loop: Adam steps on a loss, each reported to a callback, stopping safely on
//! non-finite numbers.

use crate::error::{check_len, Error, Result};
use crate::optim::{global_norm, Adam};
use crate::Scalar;
use core::ops::ControlFlow;

/// What one training step reports.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepReport {
    /// 1-based step number.
    pub step: usize,
    /// The loss at the parameters *before* this step's update (as the reference reports it).
    pub loss: f64,
    /// Global norm of the raw (unclipped) loss gradient.
    pub grad_norm: f64,
}

/// How a fit ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitSummary {
    /// Updates applied.
    pub steps: usize,
    /// The last reported loss (NaN if no step ran).
    pub last_loss: f64,
    /// Whether the callback stopped training early.
    pub stopped_by_callback: bool,
}

/// Runs up to `steps` Adam updates on `params`.
///
/// `objective(params, grad)` returns the loss to *minimise* and writes its gradient into
/// `grad`. After each update `callback` gets a [`StepReport`]; returning
/// [`ControlFlow::Break`] stops training. A non-finite loss or gradient returns
/// [`Error::NonFinite`] *before* the update, so `params` keep their last finite values.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::optim::{Adam, AdamConfig};
/// use svgp::train::fit;
/// // Minimise (θ − 3)².
/// let mut theta = [0.0_f64];
/// let (mut mu, mut nu, mut grad) = ([0.0], [0.0], [0.0]);
/// let mut adam = Adam::new(AdamConfig::new(0.1), &mut mu, &mut nu)?;
/// let obj = |p: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * (p[0] - 3.0);
///     Ok((p[0] - 3.0).powi(2))
/// };
/// let summary = fit(obj, &mut theta, &mut grad, &mut adam, 500, |_| ControlFlow::Continue(()))?;
/// assert_eq!(summary.steps, 500);
/// assert!((theta[0] - 3.0).abs() < 1e-2);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn fit<S, F, C>(
    mut objective: F,
    params: &mut [S],
    grad: &mut [S],
    adam: &mut Adam<'_, S>,
    steps: usize,
    mut callback: C,
) -> Result<FitSummary>
where
    S: Scalar,
    F: FnMut(&[S], &mut [S]) -> Result<S>,
    C: FnMut(&StepReport) -> ControlFlow<()>,
{
    check_len("fit: gradient buffer", params.len(), grad.len())?;
    let mut summary = FitSummary { steps: 0, last_loss: f64::NAN, stopped_by_callback: false };
    for step in 1..=steps {
        let loss = objective(params, grad)?;
        if !loss.is_finite() {
            return Err(Error::NonFinite { what: "loss", index: step, value: loss.re() });
        }
        if let Some(index) = grad.iter().position(|g| !g.is_finite()) {
            return Err(Error::NonFinite { what: "loss gradient", index, value: grad[index].re() });
        }
        let grad_norm = global_norm(grad).re();
        adam.step(params, grad)?;
        summary.steps = step;
        summary.last_loss = loss.re();
        let report = StepReport { step, loss: loss.re(), grad_norm };
        if callback(&report).is_break() {
            summary.stopped_by_callback = true;
            break;
        }
    }
    Ok(summary)
}

/// Trains an SVGP on the full batch: minimises −ELBO with clipped Adam for `steps` steps,
/// owning its workspace, gradient and Adam moments. The loop of [`fit`], with the same
/// reporting and the same guarantee on non-finite numbers.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::optim::AdamConfig;
/// use svgp::train::fit_svgp;
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 0.0, 1.0], 0.1, &mut p)?;
/// let x: Vec<f64> = (0..20).map(|i| -1.0 + 0.1 * i as f64).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let mut losses = vec![];
/// fit_svgp(&model, &mut p, &x, &y, AdamConfig::new(0.01).with_clip(1.0), 50, |r| {
///     losses.push(r.loss);
///     ControlFlow::Continue(())
/// })?;
/// assert!(losses[49] < losses[0]);
/// # Ok::<(), svgp::Error>(())
/// ```
#[cfg(feature = "alloc")]
pub fn fit_svgp<P, S, C>(
    model: &crate::gp::Svgp<P>,
    params: &mut [S],
    x: &[S],
    y: &[S],
    cfg: crate::optim::AdamConfig,
    steps: usize,
    callback: C,
) -> Result<FitSummary>
where
    P: crate::gp::Prior,
    S: Scalar,
    C: FnMut(&StepReport) -> ControlFlow<()>,
{
    use alloc::vec;
    let np = model.n_params();
    check_len("fit_svgp: parameters", np, params.len())?;
    let mut ws = vec![S::zero(); model.workspace_len(y.len())?];
    let (mut mu, mut nu, mut grad) = (vec![S::zero(); np], vec![S::zero(); np], vec![S::zero(); np]);
    let mut adam = Adam::new(cfg, &mut mu, &mut nu)?;
    let opts = crate::gp::ElboOptions::default();
    let objective = |p: &[S], g: &mut [S]| {
        let e = model.elbo_and_grad(p, x, y, opts, g, &mut ws)?;
        g.iter_mut().for_each(|v| *v = -*v);
        Ok(-e)
    };
    fit(objective, params, &mut grad, &mut adam, steps, callback)
}
