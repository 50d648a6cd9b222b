//! Natural gradients for the SVGP's whitened guide, Adam for everything else: GPflow's recipe
//! (`NaturalGradient` on (q_mu, q_sqrt) alternating with Adam on the hyperparameters), as one
//! [`Optimizer`] over the flat parameter buffer.
//!
//! The guide's step is the CVI form of [`NaturalGuide`] (see its module notes), computed from
//! the ELBO gradient the objective already returns, so it works with every ELBO objective:
//! full batch ([`crate::objective::FullBatchElbo`]), split across threads, minibatch. The other
//! parameters (kernel, inducing inputs, noise) take an Adam step on the same gradient, with the
//! guide's entries left out (they neither move under Adam nor count in its clipping norm).
//!
//! Step size γ: 1 for a Gaussian likelihood on the full batch (the exact optimum of q for the
//! current hyperparameters, in one step); about 0.1 for minibatches and non-conjugate
//! likelihoods, optionally ramped up log-linearly from a small start ([`NaturalConfig::ramp`]).

use super::{Adam, Optimizer};
use crate::error::{check_len, Error, Result};
use crate::gp::{NaturalGuide, Prior, Svgp, SvgpParts};
use crate::layout::Size;
use crate::likelihood::Likelihood;
use crate::linalg::PackedLower;
use crate::Scalar;
use core::ops::Range;

/// The natural-gradient step size γ over the steps: fixed ([`NaturalConfig::new`]) or ramped
/// log-linearly from `start` to `gamma` over `ramp_steps` steps ([`NaturalConfig::ramp`]).
///
/// ```
/// use svgp::optim::NaturalConfig;
/// let fixed = NaturalConfig::new(1.0);
/// assert_eq!(fixed.gamma_at(1), 1.0);
/// let ramp = NaturalConfig::new(0.1).ramp(1e-3, 100);
/// assert_eq!(ramp.gamma_at(1), 1e-3);
/// assert!((ramp.gamma_at(51) - 1e-2).abs() < 1e-15); // halfway, on the log scale
/// assert_eq!(ramp.gamma_at(500), 0.1);
/// assert!(NaturalConfig::new(1.5).check().is_err()); // γ must be in (0, 1]
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NaturalConfig {
    /// γ after the ramp (in (0, 1]).
    pub gamma: f64,
    /// γ at the first step (in (0, gamma]); equal to `gamma` for a fixed step.
    pub start: f64,
    /// Steps over which γ grows from `start` to `gamma`.
    pub ramp_steps: u32,
}

impl NaturalConfig {
    /// A fixed step size γ ∈ (0, 1].
    pub fn new(gamma: f64) -> Self {
        Self { gamma, start: gamma, ramp_steps: 0 }
    }
    /// The same, starting at `start` and growing log-linearly to γ over `steps` steps.
    pub fn ramp(self, start: f64, steps: u32) -> Self {
        Self { start, ramp_steps: steps, ..self }
    }
    /// γ at step `t` (1-based).
    pub fn gamma_at(&self, t: u32) -> f64 {
        if self.ramp_steps == 0 || t > self.ramp_steps {
            return self.gamma;
        }
        let frac = f64::from(t.saturating_sub(1)) / f64::from(self.ramp_steps);
        self.start * libm::pow(self.gamma / self.start, frac)
    }
    /// [`Error::InvalidParameter`] unless 0 < start ≤ γ ≤ 1.
    pub fn check(&self) -> Result<()> {
        if !(self.gamma > 0.0 && self.gamma <= 1.0) {
            return Err(Error::InvalidParameter {
                what: "natural-gradient γ (in (0, 1])",
                value: self.gamma,
            });
        }
        if !(self.start > 0.0 && self.start <= self.gamma) {
            return Err(Error::InvalidParameter {
                what: "natural-gradient starting γ (in (0, γ])",
                value: self.start,
            });
        }
        Ok(())
    }
}

crate::parts! {
    /// The natural-gradient optimiser's workspace: the guide algebra's, g_m (M), g_S (M × M),
    /// the candidate guide (mean M, packed scale M(M+1)/2) and the parameters at the
    /// candidate guide (for the re-evaluation of [`Optimizer::step_with`]).
    "natural-gradient optimiser workspace": struct OptWs { algebra, g_m, g_s, mean, scale, params }
}

/// Natural-gradient steps on the guide (m, L) of an [`Svgp`], Adam on every other parameter:
/// an [`Optimizer`] for [`crate::train::fit`] on any ELBO objective of that model.
///
/// The step keeps the [`Optimizer`] contract: the new guide and Adam's update are both computed
/// and checked before anything is written, so on `Err` neither the parameters nor any state
/// changed. A new precision that is not positive definite halves γ (see [`NaturalGuide::step`]);
/// [`NaturalGradient::last_gamma`] says which γ the last step used.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::objective::FullBatchElbo;
/// use svgp::optim::{Adam, AdamConfig, NaturalConfig, NaturalGradient};
/// use svgp::train::fit;
/// let model = Svgp::new(Closed(Rbf::new(1)), 4, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.9, -0.3, 0.3, 0.9], 0.01, &mut p)?;
/// let x: Vec<f64> = (0..30).map(|i| -1.0 + i as f64 / 15.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| (3.0 * v).sin()).collect();
/// let mut elbo = FullBatchElbo::new(&model, &x, &y, vec![0.0; model.workspace_len(y.len())?])?;
/// let (mut mu, mut nu) = (vec![0.0; p.len()], vec![0.0; p.len()]);
/// let adam = Adam::new(AdamConfig::new(0.01), &mut mu, &mut nu)?;
/// let mut ws = vec![0.0; NaturalGradient::<f64>::workspace_len(&model)?];
/// let mut opt = NaturalGradient::new(&model, NaturalConfig::new(1.0), adam, &mut ws)?;
/// let mut g = vec![0.0; p.len()];
/// let mut best = p.clone();
/// fit(&mut elbo, &mut p, &mut g, &mut opt, 1, |_| ControlFlow::Continue(()))?;
/// // γ = 1 on a Gaussian full batch: the guide is the closed-form optimum for the
/// // hyperparameters the step started from (Adam then moved those).
/// let mut ws = vec![0.0; model.collapsed_workspace_len(x.len())?];
/// model.optimal_guide(&mut best, &x, &y, &mut ws)?;
/// let (a, b) = (model.parts(&p)?.mean, model.parts(&best)?.mean);
/// assert!(a.iter().zip(b).all(|(u, v)| (u - v).abs() < 1e-9));
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct NaturalGradient<'a, S> {
    guide: NaturalGuide,
    mean: Range<usize>,
    scale: Range<usize>,
    cfg: NaturalConfig,
    adam: Adam<'a, S>,
    ws: &'a mut [S],
    t: u32,
    last_gamma: f64,
}

impl<'a, S: Scalar> NaturalGradient<'a, S> {
    fn ws_parts(m: usize, n_params: usize) -> Result<OptWs<usize>> {
        let algebra = Size::from_result(NaturalGuide::new(m).and_then(|g| g.workspace_len()));
        let (mm, mv) = (Size::of(m) * m, Size::of(m));
        OptWs { algebra, g_m: mv, g_s: mm, mean: mv, scale: PackedLower::size(m), params: Size::of(n_params) }
            .resolve()
    }

    /// Workspace length for `model`.
    pub fn workspace_len<P: Prior, L: Likelihood>(model: &Svgp<P, L>) -> Result<usize> {
        Self::workspace_len_for(model.layout())
    }

    /// The optimiser for `model`'s flat buffer: natural steps on the guide as `cfg` says, and
    /// `adam` (over the whole buffer: [`Adam::n_params`](Optimizer::n_params) must be
    /// [`Svgp::n_params`]; a frozen mask is honoured) on the rest, in `ws` of
    /// [`NaturalGradient::workspace_len`] elements.
    pub fn new<P: Prior, L: Likelihood>(
        model: &Svgp<P, L>,
        cfg: NaturalConfig,
        adam: Adam<'a, S>,
        ws: &'a mut [S],
    ) -> Result<Self> {
        Self::for_layout(model.layout(), cfg, adam, ws)
    }

    /// The same from the model's layout alone ([`Svgp::layout`]).
    pub(crate) fn for_layout(
        lens: SvgpParts<usize>,
        cfg: NaturalConfig,
        adam: Adam<'a, S>,
        ws: &'a mut [S],
    ) -> Result<Self> {
        cfg.check()?;
        check_len("natural gradient: Adam's parameter count", lens.total(), adam.n_params())?;
        let m = lens.mean;
        crate::error::check_buf(
            "natural-gradient optimiser workspace",
            Self::workspace_len_for(lens)?,
            ws.len(),
        )?;
        let start = lens.prior + lens.z;
        let mean = start..start + m;
        let scale = mean.end..mean.end + lens.scale_tril;
        Ok(Self { guide: NaturalGuide::new(m)?, mean, scale, cfg, adam, ws, t: 0, last_gamma: f64::NAN })
    }

    /// Workspace length for a model with this layout.
    pub(crate) fn workspace_len_for(lens: SvgpParts<usize>) -> Result<usize> {
        Ok(Self::ws_parts(lens.mean, lens.total())?.total())
    }

    /// Steps taken so far.
    pub fn t(&self) -> u32 {
        self.t
    }
    /// The γ the last step used (NaN before the first step); below the schedule's when the
    /// step had to halve it.
    pub fn last_gamma(&self) -> f64 {
        self.last_gamma
    }
    /// The Adam part.
    pub fn adam(&self) -> &Adam<'a, S> {
        &self.adam
    }
}

impl<S: Scalar> NaturalGradient<'_, S> {
    /// Checks the sizes and computes the new guide into the workspace from the loss gradient;
    /// returns the step count it will be, the γ used and ‖guide gradient‖².
    fn guide_candidate(&mut self, params: &[S], grad: &[S]) -> Result<(u32, f64, S)> {
        let np = self.adam.n_params();
        check_len("natural gradient: parameters", np, params.len())?;
        check_len("natural gradient: gradient", np, grad.len())?;
        let t = self.t.checked_add(1).ok_or(Error::InvalidParameter {
            what: "natural-gradient step count (at most u32::MAX steps)",
            value: f64::from(u32::MAX),
        })?;
        let m = self.guide.n_inducing();
        let OptWs { algebra, g_m, g_s, mean, scale, .. } = Self::ws_parts(m, np)?.carve(&mut *self.ws)?;
        // The loss gradient is −∂ELBO: negate into g_m and (for now) the candidate scale buffer.
        let (gm_loss, gl_loss) = (&grad[self.mean.clone()], &grad[self.scale.clone()]);
        let guide_norm2: S = gm_loss.iter().chain(gl_loss).map(|&v| v * v).sum();
        for (o, &g) in g_m.iter_mut().zip(gm_loss) {
            *o = -g;
        }
        for (o, &g) in scale.iter_mut().zip(gl_loss) {
            *o = -g;
        }
        let (pm, pl) = (&params[self.mean.clone()], PackedLower::new(m, &params[self.scale.clone()])?);
        self.guide.ell_gradients(pm, pl, g_m, PackedLower::new(m, &*scale)?, g_s, algebra)?;
        let gamma = self.guide.step(
            self.cfg.gamma_at(t),
            pm,
            pl,
            g_m,
            g_s,
            mean,
            PackedLower::new(m, &mut *scale)?,
            algebra,
        )?;
        Ok((t, gamma, guide_norm2))
    }

    /// Adam on everything but the guide (whose gradient entries are zeroed: no move, no share
    /// of the clipping norm), then the new guide from the workspace; returns Adam's norm.
    fn commit(&mut self, params: &mut [S], grad: &mut [S], t: u32, gamma: f64) -> Result<S> {
        grad[self.mean.clone()].iter_mut().for_each(|g| *g = S::zero());
        grad[self.scale.clone()].iter_mut().for_each(|g| *g = S::zero());
        let adam_norm = self.adam.step(params, grad)?;
        let OptWs { mean, scale, .. } =
            Self::ws_parts(self.guide.n_inducing(), params.len())?.carve(&*self.ws)?;
        params[self.mean.clone()].copy_from_slice(mean);
        params[self.scale.clone()].copy_from_slice(scale);
        self.t = t;
        self.last_gamma = gamma;
        Ok(adam_norm)
    }
}

impl<S: Scalar> Optimizer<S> for NaturalGradient<'_, S> {
    fn n_params(&self) -> usize {
        self.adam.n_params()
    }

    /// One evaluation: the natural step and Adam both use `grad`, the gradient at the old
    /// guide (cheaper; what a caller without the objective can do).
    fn step(&mut self, params: &mut [S], grad: &mut [S]) -> Result<S> {
        let (t, gamma, guide_norm2) = self.guide_candidate(params, grad)?;
        let adam_norm = self.commit(params, grad, t, gamma)?;
        Ok((adam_norm * adam_norm + guide_norm2).sqrt())
    }

    /// GPflow's alternation: the natural step on the guide first, then Adam with the
    /// gradient re-evaluated at the new guide (two evaluations per step). For γ = 1 on a
    /// Gaussian full batch, Adam then follows the collapsed bound's gradient exactly.
    fn step_with(
        &mut self,
        params: &mut [S],
        grad: &mut [S],
        reevaluate: &mut super::Reevaluate<'_, S>,
    ) -> Result<S> {
        let (t, gamma, guide_norm2) = self.guide_candidate(params, grad)?;
        let np = params.len();
        {
            let OptWs { mean, scale, params: at, .. } =
                Self::ws_parts(self.guide.n_inducing(), np)?.carve(&mut *self.ws)?;
            at.copy_from_slice(params);
            at[self.mean.clone()].copy_from_slice(mean);
            at[self.scale.clone()].copy_from_slice(scale);
            let loss = reevaluate(at, grad)?;
            crate::error::check_finite_value("loss at the new guide", 0, loss)?;
            crate::error::check_finite("loss gradient at the new guide", grad)?;
        }
        let adam_norm = self.commit(params, grad, t, gamma)?;
        Ok((adam_norm * adam_norm + guide_norm2).sqrt())
    }
}
