//! What the fit loop minimises: the [`Objective`] trait, a loss and its gradient.
//!
//! The SVGP objectives *maximise* an ELBO; the loss is −ELBO and its gradient −∂ELBO. That sign
//! flip is written once, here (`loss_from_elbo`), and every ELBO objective goes through it:
//! the full batch ([`FullBatchElbo`]), the minibatch ([`crate::batch::MinibatchElbo`]) and the
//! split across threads (`parallel::SplitElbo`, with `std`). A closure
//! `|params: &[S], grad: &mut [S]| -> Result<S>` is an objective too, for users minimising
//! their own function.

use crate::error::{check_buf, check_len, check_not_empty, Result};
use crate::gp::{ElboOptions, Prior, Svgp};
use crate::likelihood::{Gaussian, Likelihood};
use crate::linalg::rows_of;
use crate::Scalar;

/// A loss to minimise and its gradient.
///
/// Implemented for closures `FnMut(&[S], &mut [S]) -> Result<S>` (annotate the closure's
/// argument types when you write it inline), for the SVGP's ELBO objectives, and for whatever
/// a user writes. [`crate::train::fit`] borrows it mutably, so it keeps its state (a batch
/// source's position, a thread team) after training.
///
/// ```
/// use svgp::objective::Objective;
/// let mut square = |p: &[f64], g: &mut [f64]| {
///     g[0] = 2.0 * p[0];
///     Ok(p[0] * p[0])
/// };
/// let mut g = [0.0];
/// assert_eq!(square.loss_and_grad(&[3.0], &mut g)?, 9.0);
/// assert_eq!(g, [6.0]);
/// assert_eq!(square.n_params(), None); // a closure does not know its parameter count
/// # Ok::<(), svgp::Error>(())
/// ```
pub trait Objective<S> {
    /// Length of the parameter buffer it expects, when it knows (a closure does not).
    fn n_params(&self) -> Option<usize> {
        None
    }
    /// The loss at `params`; its gradient is written over `grad` (same layout as `params`).
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S>;
}

impl<S, F: FnMut(&[S], &mut [S]) -> Result<S>> Objective<S> for F {
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        self(params, grad)
    }
}

/// The loss −ELBO from an ELBO and its gradient (negated in place): the one place where
/// "maximise the ELBO" becomes "minimise the loss".
#[inline]
pub(crate) fn loss_from_elbo<S: Scalar>(elbo: Result<S>, grad: &mut [S]) -> Result<S> {
    let elbo = elbo?;
    grad.iter_mut().for_each(|g| *g = -*g);
    Ok(-elbo)
}

/// The full-batch SVGP objective: −ELBO of `model` on all of `x` (n × D) and `y` (n), in a
/// workspace it borrows (`&mut [S]`) or owns (`Vec<S>`; `FullBatchElbo::alloc` with `alloc`).
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::objective::{FullBatchElbo, Objective};
/// use svgp::optim::{Adam, AdamConfig};
/// use svgp::train::fit;
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 0.0, 1.0], 0.1, &mut p)?;
/// let x: Vec<f64> = (0..20).map(|i| -1.0 + 0.1 * i as f64).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// // Caller-owned memory throughout (no allocation inside).
/// let mut ws = vec![0.0; model.workspace_len(x.len())?];
/// let mut elbo = FullBatchElbo::new(&model, &x, &y, &mut ws[..])?;
/// let (mut g, mut mu, mut nu) = (vec![0.0; p.len()], vec![0.0; p.len()], vec![0.0; p.len()]);
/// let first = elbo.loss_and_grad(&p, &mut g)?;
/// let mut adam = Adam::new(AdamConfig::new(0.01).with_clip(1.0), &mut mu, &mut nu)?;
/// fit(&mut elbo, &mut p, &mut g, &mut adam, 50, |_| ControlFlow::Continue(()))?;
/// assert!(elbo.loss_and_grad(&p, &mut g)? < first);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct FullBatchElbo<'a, P, S, W = &'a mut [S], L = Gaussian> {
    model: &'a Svgp<P, L>,
    x: &'a [S],
    y: &'a [S],
    ws: W,
}

impl<'a, P: Prior, S: Scalar, W: AsMut<[S]>, L: Likelihood> FullBatchElbo<'a, P, S, W, L> {
    /// The objective of `model` on `x` (n × D, row-major) and `y` (n ≥ 1 points), in `ws` of at
    /// least [`Svgp::workspace_len`] elements. The targets are checked here, once, for the
    /// model's likelihood ([`Svgp::check_targets`]: errors name the index in `y`).
    pub fn new(model: &'a Svgp<P, L>, x: &'a [S], y: &'a [S], mut ws: W) -> Result<Self> {
        check_not_empty(y.len())?;
        model.check_targets(y)?;
        check_len("inputs x (n × D): rows", y.len(), rows_of(x, model.input_dim(), "inputs x (n × D)")?)?;
        check_buf("full-batch ELBO workspace", model.workspace_len(y.len())?, ws.as_mut().len())?;
        Ok(Self { model, x, y, ws })
    }
    /// The ELBO (to maximise) at `params`, its gradient written over `grad`.
    pub fn elbo_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        self.model.elbo_and_grad(params, self.x, self.y, ElboOptions::default(), grad, self.ws.as_mut())
    }
}

#[cfg(feature = "alloc")]
impl<'a, P: Prior, S: Scalar, L: Likelihood> FullBatchElbo<'a, P, S, alloc::vec::Vec<S>, L> {
    /// The objective with a workspace of its own.
    ///
    /// ```
    /// use svgp::gp::{Closed, ElboOptions, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::objective::{FullBatchElbo, Objective};
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let (x, y) = ([-1.0, 0.0, 1.0], [0.5, 0.0, -0.5]);
    /// let mut g = vec![0.0; p.len()];
    /// let loss = FullBatchElbo::alloc(&model, &x, &y)?.loss_and_grad(&p, &mut g)?;
    /// let mut ws = vec![0.0; model.workspace_len(3)?];
    /// assert_eq!(loss, -model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws)?); // the loss is −ELBO
    /// assert!(FullBatchElbo::alloc(&model, &x[..0], &y[..0]).is_err()); // no data: a typed error
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn alloc(model: &'a Svgp<P, L>, x: &'a [S], y: &'a [S]) -> Result<Self> {
        let ws = alloc::vec![S::zero(); model.workspace_len(y.len())?];
        Self::new(model, x, y, ws)
    }
}

impl<P: Prior, S: Scalar, W: AsMut<[S]>, L: Likelihood> Objective<S> for FullBatchElbo<'_, P, S, W, L> {
    fn n_params(&self) -> Option<usize> {
        Some(self.model.n_params())
    }
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let elbo = self.elbo_and_grad(params, grad);
        loss_from_elbo(elbo, grad)
    }
}
