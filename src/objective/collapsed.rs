//! The collapsed (Titsias) bound as an [`Objective`]: Gaussian likelihood, full batch.

use super::{loss_from_elbo, Objective};
use crate::error::{check_buf, check_len, check_not_empty, Result};
use crate::gp::{Prior, Svgp};
use crate::likelihood::{Gaussian, Likelihood};
use crate::linalg::rows_of;
use crate::Scalar;

/// −ELBO* of `model` on all of `x` (n × D) and `y` (n), the guide at its closed-form optimum
/// ([`Svgp::collapsed_elbo_and_grad`]): an objective over the prior's parameters, Z and the
/// noise (the guide's entries get a zero gradient, so an optimiser leaves them alone). After
/// training, [`CollapsedElbo::optimal_guide`] writes the optimal guide into the parameters,
/// so prediction and export work unchanged.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::gp::{Closed, ElboOptions, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::objective::{CollapsedElbo, Objective};
/// use svgp::optim::{Adam, AdamConfig};
/// use svgp::train::fit;
/// let model = Svgp::new(Closed(Rbf::new(1)), 4, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.9, -0.3, 0.3, 0.9], 0.1, &mut p)?;
/// let x: Vec<f64> = (0..30).map(|i| -1.0 + i as f64 / 15.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| (3.0 * v).sin()).collect();
/// let mut obj = CollapsedElbo::new(&model, &x, &y, vec![0.0; model.collapsed_workspace_len(y.len())?])?;
/// let (mut g, mut mu, mut nu) = (vec![0.0; p.len()], vec![0.0; p.len()], vec![0.0; p.len()]);
/// let first = obj.loss_and_grad(&p, &mut g)?;
/// let mut adam = Adam::new(AdamConfig::new(0.01), &mut mu, &mut nu)?;
/// fit(&mut obj, &mut p, &mut g, &mut adam, 100, |_| ControlFlow::Continue(()))?;
/// let bound = obj.optimal_guide(&mut p)?;
/// assert!(-bound < first);
/// // With the optimal guide written, the ordinary ELBO equals the bound.
/// let mut ws = vec![0.0; model.workspace_len(x.len())?];
/// let elbo = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws)?;
/// assert!((elbo - bound).abs() < 1e-9 * bound.abs());
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct CollapsedElbo<'a, P, S, W = &'a mut [S], L = Gaussian> {
    model: &'a Svgp<P, L>,
    x: &'a [S],
    y: &'a [S],
    ws: W,
}

impl<'a, P: Prior, S: Scalar, W: AsMut<[S]>, L: Likelihood> CollapsedElbo<'a, P, S, W, L> {
    /// The objective of `model` on `x` (n × D, row-major) and `y` (n ≥ 1 points), in `ws` of at
    /// least [`Svgp::collapsed_workspace_len`] elements.
    pub fn new(model: &'a Svgp<P, L>, x: &'a [S], y: &'a [S], mut ws: W) -> Result<Self> {
        check_not_empty(y.len())?;
        check_len("inputs x (n × D): rows", y.len(), rows_of(x, model.input_dim(), "inputs x (n × D)")?)?;
        check_buf("collapsed-bound workspace", model.collapsed_workspace_len(y.len())?, ws.as_mut().len())?;
        Ok(Self { model, x, y, ws })
    }
    /// The bound ELBO* (to maximise) at `params`, its gradient written over `grad`.
    pub fn elbo_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        self.model.collapsed_elbo_and_grad(params, self.x, self.y, grad, self.ws.as_mut())
    }
    /// Writes the optimal guide into `params` and returns the bound ([`Svgp::optimal_guide`]).
    pub fn optimal_guide(&mut self, params: &mut [S]) -> Result<S> {
        self.model.optimal_guide(params, self.x, self.y, self.ws.as_mut())
    }
}

#[cfg(feature = "alloc")]
impl<'a, P: Prior, S: Scalar, L: Likelihood> CollapsedElbo<'a, P, S, alloc::vec::Vec<S>, L> {
    /// The objective with a workspace of its own.
    pub fn alloc(model: &'a Svgp<P, L>, x: &'a [S], y: &'a [S]) -> Result<Self> {
        let ws = alloc::vec![S::zero(); model.collapsed_workspace_len(y.len())?];
        Self::new(model, x, y, ws)
    }
}

impl<P: Prior, S: Scalar, W: AsMut<[S]>, L: Likelihood> Objective<S> for CollapsedElbo<'_, P, S, W, L> {
    fn n_params(&self) -> Option<usize> {
        Some(self.model.n_params())
    }
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let elbo = self.elbo_and_grad(params, grad);
        loss_from_elbo(elbo, grad)
    }
}
