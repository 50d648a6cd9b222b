//! The one-call trainer (feature `alloc`): Adam, the fit options, a frozen mask and (with
//! `std`) the thread split in one value, with the buffers allocated per call.

use super::{fit_with, FitOptions, FitSummary, StepReport};
use crate::error::Result;
use crate::gp::{Prior, Svgp};
use crate::likelihood::Likelihood;
use crate::objective::{FullBatchElbo, Objective};
use crate::optim::{Adam, AdamConfig};
use crate::Scalar;
use alloc::vec;
use alloc::vec::Vec;
use core::ops::ControlFlow;

/// Everything a training run is set up with; [`Trainer::fit`] and [`Trainer::fit_svgp`] then
/// allocate the gradient, Adam's moments and the best-iterate buffer and run [`fit_with`].
///
/// Defaults: no frozen parameters and, with `std`, no split (the whole data set on the calling
/// thread). Adam clips only when the [`AdamConfig`] says so: the reference recipe is
/// `AdamConfig::new(1e-2).with_clip(1.0)` (see [`crate::optim`]).
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::optim::AdamConfig;
/// use svgp::train::{FitOptions, Trainer};
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 0.0, 1.0], 0.1, &mut p)?;
/// let x: Vec<f64> = (0..40).map(|i| -1.0 + 0.05 * i as f64).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// // The reference recipe (clipped Adam), keeping the best iterate.
/// let trainer = Trainer::new(AdamConfig::new(0.01).with_clip(1.0), FitOptions::new(50).keep_best());
/// let mut losses = vec![];
/// let summary = trainer.fit_svgp(&model, &mut p, &x, &y, |r| {
///     losses.push(r.loss);
///     ControlFlow::Continue(())
/// })?;
/// assert!(losses[49] < losses[0]);
/// assert_eq!(summary.best_loss, losses[summary.best_step - 1]);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Trainer {
    adam: AdamConfig,
    options: FitOptions,
    frozen: Option<Vec<bool>>,
    #[cfg(feature = "std")]
    split: crate::parallel::Split,
}

impl Trainer {
    /// Adam with `adam`, the loop with `options`; nothing frozen, no split.
    pub fn new(adam: AdamConfig, options: FitOptions) -> Self {
        #[cfg(feature = "std")]
        return Self { adam, options, frozen: None, split: crate::parallel::Split::default() };
        #[cfg(not(feature = "std"))]
        Self { adam, options, frozen: None }
    }
    /// Never moves the parameters whose entry in `frozen` is `true` (one entry per parameter;
    /// see [`Adam::with_frozen`]), e.g. a period fixed at one year.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use svgp::optim::AdamConfig;
    /// use svgp::train::{FitOptions, Trainer};
    /// // Minimise (a − 1)² + (b − 2)² with b frozen at 5.
    /// let mut obj = |p: &[f64], g: &mut [f64]| {
    ///     (g[0], g[1]) = (2.0 * (p[0] - 1.0), 2.0 * (p[1] - 2.0));
    ///     Ok((p[0] - 1.0).powi(2) + (p[1] - 2.0).powi(2))
    /// };
    /// let mut p = [0.0, 5.0];
    /// let t = Trainer::new(AdamConfig::new(0.05), FitOptions::new(500)).freeze(&[false, true]);
    /// t.fit(&mut obj, &mut p, |_| ControlFlow::Continue(()))?;
    /// assert!((p[0] - 1.0).abs() < 1e-2);
    /// assert_eq!(p[1], 5.0);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn freeze(self, frozen: &[bool]) -> Self {
        Self { frozen: Some(frozen.to_vec()), ..self }
    }
    /// Splits the SVGP's data as `split` says in [`Trainer::fit_svgp`]: `split.chunks` fixed
    /// chunks (they decide the numbers) on up to `split.threads` threads (they decide only the
    /// speed), on the crate's thread team ([`crate::parallel`]).
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::optim::AdamConfig;
    /// use svgp::parallel::Split;
    /// use svgp::train::{FitOptions, Trainer};
    /// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-1.0, 0.0, 1.0], 0.1, &mut p)?;
    /// let x: Vec<f64> = (0..40).map(|i| -1.0 + 0.05 * i as f64).collect();
    /// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
    /// let recipe = Trainer::new(AdamConfig::new(0.01).with_clip(1.0), FitOptions::new(20));
    /// // Two fixed chunks on two threads, then on one: the same bits.
    /// let mut q = p.clone();
    /// recipe.clone().split(Split::new(2, 2)).fit_svgp(&model, &mut p, &x, &y, |_| ControlFlow::Continue(()))?;
    /// recipe.split(Split::new(2, 1)).fit_svgp(&model, &mut q, &x, &y, |_| ControlFlow::Continue(()))?;
    /// assert_eq!(p, q);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    #[cfg(feature = "std")]
    pub fn split(self, split: crate::parallel::Split) -> Self {
        Self { split, ..self }
    }
    /// The Adam settings.
    pub fn adam(&self) -> AdamConfig {
        self.adam
    }
    /// The loop settings.
    pub fn options(&self) -> FitOptions {
        self.options
    }

    /// Minimises `objective` from `params` (a closure, or any [`Objective`]).
    pub fn fit<S, O, C>(&self, objective: &mut O, params: &mut [S], callback: C) -> Result<FitSummary>
    where
        S: Scalar,
        O: Objective<S> + ?Sized,
        C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
    {
        let np = params.len();
        self.adam.check::<S>()?;
        let mut ws = vec![S::zero(); self.options.workspace_len(np)?];
        let (mut mu, mut nu) = (vec![S::zero(); np], vec![S::zero(); np]);
        let mut adam = Adam::new(self.adam, &mut mu, &mut nu)?;
        if let Some(frozen) = &self.frozen {
            adam = adam.with_frozen(frozen)?;
        }
        fit_with(objective, params, &mut adam, &self.options, &mut ws, callback)
    }

    /// Trains the SVGP `model` on the full batch `x` (n × D, row-major), `y` (n ≥ 1): minimises
    /// −ELBO, split across threads when [`Trainer::split`] asked for it. For a given chunk count
    /// the numbers are bit-identical on any number of threads, and with one chunk they are
    /// those of [`FullBatchElbo`] in [`crate::train::fit`]. Any likelihood; the targets are
    /// checked for it first ([`Svgp::check_targets`]).
    pub fn fit_svgp<P, S, C, L>(
        &self,
        model: &Svgp<P, L>,
        params: &mut [S],
        x: &[S],
        y: &[S],
        callback: C,
    ) -> Result<FitSummary>
    where
        P: Prior + Sync,
        S: Scalar + Send + Sync,
        C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
        L: Likelihood + Sync,
    {
        #[cfg(feature = "std")]
        if self.split != crate::parallel::Split::default() {
            let opts = crate::gp::ElboOptions::default();
            return crate::parallel::with_split_elbo(model, x, y, opts, self.split, |elbo| {
                self.fit(elbo, params, callback)
            })?;
        }
        let mut elbo = FullBatchElbo::alloc(model, x, y)?;
        self.fit(&mut elbo, params, callback)
    }
}
