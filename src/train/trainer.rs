//! The one-call trainer (feature `alloc`): Adam, the fit options, a frozen mask, the inference
//! mode and (with `std`) the thread split in one value, with the buffers allocated per call.

use super::{fit_with, FitOptions, FitSummary, StepReport};
use crate::error::{Error, Result};
use crate::gp::{Prior, Svgp, SvgpParts};
use crate::hyperprior::{HyperPrior, WithHyperPrior};
use crate::likelihood::Likelihood;
use crate::objective::{CollapsedElbo, FullBatchElbo, Objective};
use crate::optim::{Adam, AdamConfig, NaturalConfig, NaturalGradient};
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
    inference: Inference,
    hyperprior: HyperPrior,
    #[cfg(feature = "std")]
    split: crate::parallel::Split,
}

/// How [`Trainer::fit_svgp`] treats the SVGP's whitened guide (m, L).
///
/// - [`Inference::Adam`] (the default, the reference recipe): Adam on every parameter.
/// - [`Inference::Natural`]: natural-gradient steps on the guide, Adam on the rest
///   ([`NaturalGradient`]); γ = 1 is the exact optimum of q at every step for the Gaussian
///   likelihood on the full batch. Any likelihood: for the non-conjugate ones the step works
///   from the ELBO's gradient in (m, S) and γ ≈ 0.1 is the usual choice; where a likelihood is
///   not log-concave (Student-t) the new precision can be indefinite, and the step halves γ,
///   then fails with a typed error, as [`NaturalGradient`] documents.
/// - [`Inference::Collapsed`]: Adam on the collapsed (Titsias) bound, whose guide is at its
///   closed-form optimum ([`CollapsedElbo`]; Gaussian likelihood, full batch, evaluated on the
///   calling thread whatever the split says); the optimal guide is written into the parameters
///   at the end, so prediction works unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub enum Inference {
    /// Adam on everything.
    #[default]
    Adam,
    /// Natural gradients on the guide, Adam on the rest.
    Natural(NaturalConfig),
    /// The collapsed bound, the optimal guide written at the end.
    Collapsed,
}

impl Trainer {
    /// Adam with `adam`, the loop with `options`; nothing frozen, no split.
    pub fn new(adam: AdamConfig, options: FitOptions) -> Self {
        #[cfg(feature = "std")]
        return Self {
            adam,
            options,
            frozen: None,
            inference: Inference::Adam,
            hyperprior: HyperPrior::default(),
            split: crate::parallel::Split::default(),
        };
        #[cfg(not(feature = "std"))]
        Self { adam, options, frozen: None, inference: Inference::Adam, hyperprior: HyperPrior::default() }
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
    /// Trains the SVGP's guide as `inference` says in [`Trainer::fit_svgp`] (default
    /// [`Inference::Adam`]).
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::optim::{AdamConfig, NaturalConfig};
    /// use svgp::train::{FitOptions, Inference, Trainer};
    /// let model = Svgp::new(Closed(Rbf::new(1)), 4, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.9, -0.3, 0.3, 0.9], 0.1, &mut p)?;
    /// let x: Vec<f64> = (0..40).map(|i| -1.0 + 0.05 * i as f64).collect();
    /// let y: Vec<f64> = x.iter().map(|v| (3.0 * v).sin()).collect();
    /// let recipe = Trainer::new(AdamConfig::new(0.01), FitOptions::new(30));
    /// let mut last = |p: &mut Vec<f64>, inference| {
    ///     let mut loss = 0.0;
    ///     recipe.clone().inference(inference).fit_svgp(&model, p, &x, &y, |r| {
    ///         loss = r.loss;
    ///         ControlFlow::Continue(())
    ///     })?;
    ///     Ok::<f64, svgp::Error>(loss)
    /// };
    /// let adam = last(&mut p.clone(), Inference::Adam)?;
    /// let natural = last(&mut p.clone(), Inference::Natural(NaturalConfig::new(1.0)))?;
    /// let collapsed = last(&mut p.clone(), Inference::Collapsed)?;
    /// assert!(natural < adam && collapsed < adam); // the guide is optimal at every step
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn inference(self, inference: Inference) -> Self {
        Self { inference, ..self }
    }
    /// The inference mode.
    pub fn inference_mode(&self) -> Inference {
        self.inference
    }
    /// Adds the MAP terms of `prior` to the SVGP's loss in [`Trainer::fit_svgp`]
    /// ([`WithHyperPrior`]; default: none).
    pub fn hyperprior(self, prior: HyperPrior) -> Self {
        Self { hyperprior: prior, ..self }
    }
    /// The Adam settings.
    pub fn adam(&self) -> AdamConfig {
        self.adam
    }
    /// The loop settings.
    pub fn options(&self) -> FitOptions {
        self.options
    }

    /// Minimises `objective` from `params` (a closure, or any [`Objective`]) with Adam.
    ///
    /// The inference mode needs the model: with anything but [`Inference::Adam`] this is
    /// [`Error::InvalidParameter`] (use [`Trainer::fit_svgp`]).
    pub fn fit<S, O, C>(&self, objective: &mut O, params: &mut [S], callback: C) -> Result<FitSummary>
    where
        S: Scalar,
        O: Objective<S> + ?Sized,
        C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
    {
        if self.inference != Inference::Adam {
            return Err(Error::InvalidParameter {
                what: "Trainer::fit with natural-gradient or collapsed inference (needs the model: use fit_svgp)",
                value: 0.0,
            });
        }
        self.run(None, objective, params, callback)
    }

    /// Adam (and natural gradients on the guide when `guide` gives the model's layout and the
    /// inference mode asks for them) on `objective`.
    fn run<S, O, C>(
        &self,
        guide: Option<SvgpParts<usize>>,
        objective: &mut O,
        params: &mut [S],
        callback: C,
    ) -> Result<FitSummary>
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
        match (guide, self.inference) {
            (Some(lens), Inference::Natural(cfg)) => {
                let mut nws = vec![S::zero(); NaturalGradient::<S>::workspace_len_for(lens)?];
                let mut opt = NaturalGradient::for_layout(lens, cfg, adam, &mut nws)?;
                fit_with(objective, params, &mut opt, &self.options, &mut ws, callback)
            }
            _ => fit_with(objective, params, &mut adam, &self.options, &mut ws, callback),
        }
    }

    /// Trains the SVGP `model` on the full batch `x` (n × D, row-major), `y` (n ≥ 1): minimises
    /// −ELBO, split across threads when [`Trainer::split`] asked for it, the guide trained as
    /// [`Trainer::inference`] says. For a given chunk count the numbers are bit-identical on
    /// any number of threads, and with one chunk they are those of [`FullBatchElbo`] in
    /// [`crate::train::fit`]. Any likelihood; the targets are checked for it first
    /// ([`Svgp::check_targets`]).
    ///
    /// With [`Inference::Collapsed`] (Gaussian likelihood only) the loss is −ELBO* (the
    /// collapsed bound), and the optimal guide is written into `params` at the end (also after
    /// an error, from the last good parameters, when it can be computed).
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
        let guide = Some(model.layout());
        if self.inference == Inference::Collapsed {
            let mut bound = CollapsedElbo::alloc(model, x, y)?;
            let fitted = self.run_svgp(model, None, &mut bound, params, callback);
            let written = bound.optimal_guide(params);
            let summary = fitted?;
            written?;
            return Ok(summary);
        }
        #[cfg(feature = "std")]
        if self.split != crate::parallel::Split::default() {
            let opts = crate::gp::ElboOptions::default();
            return crate::parallel::with_split_elbo(model, x, y, opts, self.split, |elbo| {
                self.run_svgp(model, guide, elbo, params, callback)
            })?;
        }
        let mut elbo = FullBatchElbo::alloc(model, x, y)?;
        self.run_svgp(model, guide, &mut elbo, params, callback)
    }

    /// [`Trainer::run`] on an objective of `model`, with the MAP terms when asked for.
    fn run_svgp<P, S, O, C, L>(
        &self,
        model: &Svgp<P, L>,
        guide: Option<SvgpParts<usize>>,
        objective: &mut O,
        params: &mut [S],
        callback: C,
    ) -> Result<FitSummary>
    where
        P: Prior,
        S: Scalar,
        O: Objective<S> + ?Sized,
        C: FnMut(&StepReport<'_, S>) -> ControlFlow<()>,
        L: Likelihood,
    {
        if self.hyperprior.is_none() {
            return self.run(guide, objective, params, callback);
        }
        let mut map = WithHyperPrior::new(model, self.hyperprior, objective)?;
        self.run(guide, &mut map, params, callback)
    }
}
