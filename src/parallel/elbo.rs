//! The SVGP ELBO split into chunks on a [team](super::team): a fixed data set
//! ([`with_split_elbo`]) or a batch loaded before each call (the minibatch split).

use super::team::{with_team, Job, Shared, Team};
use super::{chunking, Split};
use crate::error::{check_len, check_not_empty, Error, Result};
use crate::gp::{check_chunk_sum, ElboOptions, Prior, Svgp};
use crate::layout::Size;
use crate::likelihood::{Gaussian, Likelihood};
use crate::linalg::rows_of;
use crate::objective::{loss_from_elbo, Objective};
use crate::Scalar;
use std::vec;
use std::vec::Vec;

/// The ELBO of chunks of a data set: fixed data (`data`), or the batch in the input.
pub(crate) struct ElboJob<'a, P, S, L> {
    model: &'a Svgp<P, L>,
    data: Option<(&'a [S], &'a [S])>,
    chunks: usize,
}

/// What a call reads: the parameters, the options and (batch mode) the batch.
pub(crate) struct ElboInput<S> {
    params: Vec<S>,
    opts: ElboOptions,
    x: Vec<S>,
    y: Vec<S>,
    n: usize,
}

/// One chunk's ELBO term and gradient.
pub(crate) struct ElboOut<S> {
    elbo: S,
    grad: Vec<S>,
}

impl<P: Prior, S, L: Likelihood> ElboJob<'_, P, S, L> {
    /// The data of this call: the fixed set, or the batch loaded in the input.
    fn data<'s>(&'s self, input: &'s ElboInput<S>) -> (&'s [S], &'s [S]) {
        match self.data {
            Some(d) => d,
            None => (&input.x[..input.n * self.model.input_dim()], &input.y[..input.n]),
        }
    }
}

impl<P: Prior + Sync, S: Scalar + Send + Sync, L: Likelihood + Sync> Job for ElboJob<'_, P, S, L> {
    type Input = ElboInput<S>;
    type Scratch = Vec<S>;
    type Out = ElboOut<S>;

    fn chunks(&self, input: &ElboInput<S>) -> usize {
        match self.data(input).1.len() {
            0 => 0,
            n => chunking(n, self.chunks).1,
        }
    }

    fn run(&self, input: &ElboInput<S>, c: usize, ws: &mut Vec<S>, out: &mut ElboOut<S>) -> Result<()> {
        let (x, y) = self.data(input);
        let d = self.model.input_dim();
        let (len, _) = chunking(y.len(), self.chunks);
        let (lo, hi) = (c * len, ((c + 1) * len).min(y.len()));
        let opts = ElboOptions { include_kl: c == 0 && input.opts.include_kl, ..input.opts };
        out.elbo = self.model.elbo_and_grad(
            &input.params,
            &x[lo * d..hi * d],
            &y[lo..hi],
            opts,
            &mut out.grad,
            ws,
        )?;
        Ok(())
    }
}

/// The ELBO of a data set split as [`Split`] says, evaluated by a thread team; created by
/// [`with_split_elbo`]. It is an [`Objective`] (the loss −ELBO) for [`crate::train::fit`].
pub struct SplitElbo<'a, P: Prior + Sync, S: Scalar + Send + Sync, L: Likelihood + Sync = Gaussian> {
    team: Team<'a, ElboJob<'a, P, S, L>>,
}

impl<P: Prior + Sync, S: Scalar + Send + Sync, L: Likelihood + Sync> SplitElbo<'_, P, S, L> {
    /// The ELBO at `params` and its gradient, written over `grad`: the same as
    /// [`Svgp::elbo_and_grad`] on the whole data set, up to summation order (fixed by the
    /// chunk count). A sum of finite chunks that overflows is [`Error::NonFinite`], as the
    /// whole batch's ELBO would be.
    pub fn elbo_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let np = self.team.job().model.n_params();
        check_len("parameters", np, params.len())?;
        check_len("gradient buffer", np, grad.len())?;
        let chunks = {
            let job = self.team.job();
            let mut input = self.team.input_mut();
            input.params.copy_from_slice(params);
            job.chunks(&input)
        };
        if chunks == 0 {
            return Err(Error::InvalidParameter { what: "points in the batch (must be ≥ 1)", value: 0.0 });
        }
        self.team.run()?;
        let mut elbo = S::zero();
        self.team.gather(|c, out| {
            if c == 0 {
                elbo = out.elbo;
                grad.copy_from_slice(&out.grad);
            } else {
                elbo += out.elbo;
                grad.iter_mut().zip(&out.grad).for_each(|(g, &v)| *g += v);
            }
        })?;
        check_chunk_sum(elbo, grad)
    }

    /// Batch mode: `fill(x, y)` writes up to the capacity's points into the team's batch
    /// buffers and returns how many: the batch the next call evaluates.
    pub(crate) fn load_batch(
        &mut self,
        fill: impl FnOnce(&mut [S], &mut [S]) -> Result<usize>,
    ) -> Result<usize> {
        let mut input = self.team.input_mut();
        let input = &mut *input;
        input.n = 0;
        let b = fill(&mut input.x, &mut input.y)?;
        if b > input.y.len() {
            return Err(Error::DimensionMismatch {
                what: "points in the batch",
                expected: input.y.len(),
                found: b,
            });
        }
        input.n = b;
        Ok(b)
    }

    /// Batch mode: the ELBO options of the next calls (the minibatch scale).
    pub(crate) fn set_options(&mut self, opts: ElboOptions) {
        self.team.input_mut().opts = opts;
    }
}

impl<P: Prior + Sync, S: Scalar + Send + Sync, L: Likelihood + Sync> Objective<S> for SplitElbo<'_, P, S, L> {
    fn n_params(&self) -> Option<usize> {
        Some(self.team.job().model.n_params())
    }
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let elbo = self.elbo_and_grad(params, grad);
        loss_from_elbo(elbo, grad)
    }
}

impl<P: Prior + Sync, S: Scalar + Send + Sync, L: Likelihood + Sync> core::fmt::Debug
    for SplitElbo<'_, P, S, L>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SplitElbo")
            .field("model", self.team.job().model)
            .field("chunks", &self.team.job().chunks)
            .finish()
    }
}

/// Runs `body` with a [`SplitElbo`] of `model` on the data (`x`: n × D row-major, `y`: n ≥ 1
/// points), whose worker threads live until `body` returns. Allocates the workspaces once.
/// The targets are checked once, for the model's likelihood ([`Svgp::check_targets`]: errors
/// name the index in `y`).
///
/// ```
/// use svgp::gp::{Closed, ElboOptions, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::parallel::{with_split_elbo, Split};
/// let x: Vec<f64> = (0..40).map(|i| i as f64 / 20.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.5], 0.01, &mut p)?;
/// let opts = ElboOptions::default();
/// let mut g2 = vec![0.0; p.len()];
/// // Two chunks on two threads, then the same two chunks on one: the same bits.
/// let two = with_split_elbo(&model, &x, &y, opts, Split::new(2, 2), |e| e.elbo_and_grad(&p, &mut g2))??;
/// let mut g1 = vec![0.0; p.len()];
/// let one = with_split_elbo(&model, &x, &y, opts, Split::new(2, 1), |e| e.elbo_and_grad(&p, &mut g1))??;
/// assert_eq!((two, &g2), (one, &g1));
/// // And the whole-batch ELBO up to rounding.
/// let mut ws = vec![0.0; model.workspace_len(40)?];
/// let whole = model.elbo_and_grad(&p, &x, &y, opts, &mut g1, &mut ws)?;
/// assert!((two - whole).abs() < 1e-12 * whole.abs());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn with_split_elbo<P, S, R, L>(
    model: &Svgp<P, L>,
    x: &[S],
    y: &[S],
    opts: ElboOptions,
    split: Split,
    body: impl FnOnce(&mut SplitElbo<'_, P, S, L>) -> R,
) -> Result<R>
where
    P: Prior + Sync,
    S: Scalar + Send + Sync,
    L: Likelihood + Sync,
{
    let n = y.len();
    check_not_empty(n)?;
    model.check_targets(y)?;
    check_len("inputs x (n × D): rows", n, rows_of(x, model.input_dim(), "inputs x (n × D)")?)?;
    launch(model, Some((x, y)), n, opts, split, |team| body(&mut SplitElbo { team }))
}

/// Runs `body` with a [`SplitElbo`] in batch mode: batches of up to `capacity ≥ 1` points are
/// loaded with [`SplitElbo::load_batch`] before each call.
pub(crate) fn with_batch_split<P, S, R, L>(
    model: &Svgp<P, L>,
    capacity: usize,
    split: Split,
    body: impl FnOnce(SplitElbo<'_, P, S, L>) -> R,
) -> Result<R>
where
    P: Prior + Sync,
    S: Scalar + Send + Sync,
    L: Likelihood + Sync,
{
    launch(model, None, capacity, ElboOptions::default(), split, |team| body(SplitElbo { team }))
}

/// Checks the sizes, allocates every buffer, and starts the team.
fn launch<'d, P, S, R, L>(
    model: &Svgp<P, L>,
    data: Option<(&'d [S], &'d [S])>,
    capacity: usize,
    opts: ElboOptions,
    split: Split,
    body: impl for<'t> FnOnce(Team<'t, ElboJob<'t, P, S, L>>) -> R,
) -> Result<R>
where
    P: Prior + Sync,
    S: Scalar + Send + Sync,
    L: Likelihood + Sync,
{
    check_not_empty(capacity)?;
    split.check(capacity)?;
    let (d, np) = (model.input_dim(), model.n_params());
    let (chunk, chunks) = chunking(capacity, split.chunks);
    // Every size before any allocation: per-thread workspaces, per-chunk gradients, the batch.
    let ws_len = model.workspace_len(chunk)?;
    (Size::of(ws_len) * split.threads.min(chunks)).get("split ELBO workspaces")?;
    (Size::of(np) * chunks).get("split ELBO chunk gradients")?;
    let batch = if data.is_some() { 0 } else { capacity };
    let x_len = (Size::of(batch) * d).get("split ELBO batch inputs")?;
    let input = ElboInput {
        params: vec![S::zero(); np],
        opts,
        x: vec![S::zero(); x_len],
        y: vec![S::zero(); batch],
        n: 0,
    };
    let (shared, own) = Shared::new(
        input,
        Split::new(chunks, split.threads),
        || vec![S::zero(); ws_len],
        || ElboOut { elbo: S::zero(), grad: vec![S::zero(); np] },
    );
    let job = ElboJob { model, data, chunks };
    Ok(with_team(&job, &shared, own, body))
}
