//! The minibatch ELBO on top of [`Svgp::elbo_and_grad`]: batch drawing, the N/b scale, and an
//! exact chunked full-data ELBO with bounded memory.

use super::source::BatchSource;
use crate::error::{check_len, check_not_empty, Error, Result};
use crate::gp::{check_chunk_sum, ElboOptions, Prior, Svgp};
use crate::layout::Size;
use crate::likelihood::{Gaussian, Likelihood};
use crate::linalg::rows_of;
use crate::objective::{loss_from_elbo, Objective};
use crate::Scalar;

crate::parts! {
    /// A minibatch objective's buffer: the batch's inputs (B × D) and targets (B), then the
    /// model's ELBO workspace for B points.
    "minibatch workspace": struct MinibatchWs { x, y, elbo }
}

/// Minibatch settings: the data set's total size N and the batch size B (1 ≤ B ≤ N).
///
/// N is required because the ELBO estimate N/b·ELL_b − KL depends on it and a stream cannot
/// know it.
///
/// ```
/// use svgp::batch::Minibatch;
/// let mb = Minibatch::new(600, 100)?;
/// assert_eq!(mb.options(100)?.scale, 6.0);
/// assert_eq!(mb.options(50)?.scale, 12.0); // a short last batch weighs more per point
/// assert!(Minibatch::new(100, 600).is_err()); // B > N: refused, not guessed
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Minibatch {
    n_total: usize,
    batch: usize,
}

impl Minibatch {
    /// Batches of `batch` points out of `n_total`.
    pub fn new(n_total: usize, batch: usize) -> Result<Self> {
        if n_total == 0 {
            return Err(Error::InvalidParameter { what: "total number of points N", value: 0.0 });
        }
        if batch == 0 || batch > n_total {
            return Err(Error::InvalidParameter { what: "batch size (1 ≤ B ≤ N)", value: batch as f64 });
        }
        Ok(Self { n_total, batch })
    }
    /// Total number of points N.
    pub fn n_total(&self) -> usize {
        self.n_total
    }
    /// Batch size B.
    pub fn batch(&self) -> usize {
        self.batch
    }
    /// Buffer length [`MinibatchElbo::new`] needs for `model`: B inputs and targets plus the
    /// model's workspace for B points ([`Error::SizeOverflow`] for absurd sizes).
    pub fn workspace_len<P: Prior, L: Likelihood>(&self, model: &Svgp<P, L>) -> Result<usize> {
        Ok(self.ws(model)?.total())
    }
    /// The buffer's parts: the batch's inputs and targets, the model's ELBO workspace.
    fn ws<P: Prior, L: Likelihood>(&self, model: &Svgp<P, L>) -> Result<MinibatchWs<usize>> {
        let b = self.batch;
        let elbo = Size::from_result(model.workspace_len(b));
        MinibatchWs { x: Size::of(b) * model.input_dim(), y: Size::of(b), elbo }.resolve()
    }
    /// ELBO options for a batch of `b` points (1 ≤ b ≤ B): scale N/b, KL included.
    pub fn options(&self, b: usize) -> Result<ElboOptions> {
        if b == 0 || b > self.batch {
            return Err(Error::DimensionMismatch {
                what: "points in the batch",
                expected: self.batch,
                found: b,
            });
        }
        Ok(ElboOptions { scale: self.n_total as f64 / b as f64, include_kl: true })
    }
}

/// The minibatch objective: each call draws the next batch from a [`BatchSource`] and returns
/// its scaled ELBO N/b·ELL_b − KL and gradient. All memory is one caller buffer of
/// [`Minibatch::workspace_len`] elements (B inputs and targets plus the model's workspace
/// for B points), independent of N. With `std`, `with_split_minibatch` splits each batch
/// across a thread team instead.
///
/// It is an [`Objective`] (the loss −ELBO_b) for [`crate::train::fit`].
///
/// ```
/// use svgp::batch::{Minibatch, MinibatchElbo, SliceSource};
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::rng::Xoshiro256;
/// let x: Vec<f64> = (0..50).map(|i| i as f64 / 25.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let model = Svgp::new(Closed(Rbf::new(1)), 4, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.75, -0.25, 0.25, 0.75], 0.01, &mut p)?;
/// let mb = Minibatch::new(x.len(), 10)?;
/// let src = SliceSource::new(&x, &y, 1, Xoshiro256::from_u64(0))?;
/// let mut ws = vec![0.0; mb.workspace_len(&model)?];
/// let mut obj = MinibatchElbo::new(model, mb, src, &mut ws)?;
/// let mut grad = vec![0.0; model.n_params()];
/// let elbo = obj.elbo_and_grad(&p, &mut grad)?; // a 10-point batch, scaled by 50/10
/// assert!(elbo.is_finite() && obj.last_batch_len() == 10);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Debug)]
pub struct MinibatchElbo<'w, P: Prior + Sync, Src, S: Scalar + Send + Sync, L: Likelihood + Sync = Gaussian> {
    model: Svgp<P, L>,
    cfg: Minibatch,
    source: Src,
    xb: &'w mut [S],
    yb: &'w mut [S],
    ws: &'w mut [S],
    #[cfg(feature = "std")]
    team: Option<crate::parallel::SplitElbo<'w, P, S, L>>,
    last: usize,
}

impl<'w, P: Prior + Sync, Src: BatchSource<S>, S: Scalar + Send + Sync, L: Likelihood + Sync>
    MinibatchElbo<'w, P, Src, S, L>
{
    /// The objective of `model` on batches from `source`, in the caller's buffer `ws`.
    pub fn new(model: Svgp<P, L>, cfg: Minibatch, source: Src, ws: &'w mut [S]) -> Result<Self> {
        check_len("batch source input dimension", model.input_dim(), source.input_dim())?;
        let MinibatchWs { x: xb, y: yb, elbo: ws } = cfg.ws(&model)?.carve(ws)?;
        #[cfg(feature = "std")]
        return Ok(Self { model, cfg, source, xb, yb, ws, team: None, last: 0 });
        #[cfg(not(feature = "std"))]
        Ok(Self { model, cfg, source, xb, yb, ws, last: 0 })
    }

    /// Draws the next batch; writes ∂ELBO_b/∂params into `grad` and returns ELBO_b.
    ///
    /// A source that has ended (returns 0 points) gives [`Error::DimensionMismatch`] naming
    /// the batch; a target the likelihood cannot explain gives [`Error::InvalidTarget`] with
    /// its index in the batch.
    pub fn elbo_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        #[cfg(feature = "std")]
        if let Some(team) = &mut self.team {
            let b = team.load_batch(|x, y| self.source.next_batch(x, y))?;
            self.last = b;
            team.set_options(self.cfg.options(b)?);
            return team.elbo_and_grad(params, grad);
        }
        let d = self.model.input_dim();
        let b = self.source.next_batch(self.xb, self.yb)?;
        self.last = b;
        let opts = self.cfg.options(b)?;
        let (x, y) = (&self.xb[..b * d], &self.yb[..b]);
        self.model.elbo_and_grad(params, x, y, opts, grad, self.ws)
    }

    /// Points in the last batch drawn.
    pub fn last_batch_len(&self) -> usize {
        self.last
    }
    /// The settings.
    pub fn config(&self) -> Minibatch {
        self.cfg
    }
    /// The batch source (e.g. to read its epoch counter).
    pub fn source(&self) -> &Src {
        &self.source
    }
}

impl<P: Prior + Sync, Src: BatchSource<S>, S: Scalar + Send + Sync, L: Likelihood + Sync> Objective<S>
    for MinibatchElbo<'_, P, Src, S, L>
{
    fn n_params(&self) -> Option<usize> {
        Some(self.model.n_params())
    }
    /// The loss −ELBO_b of the next batch and its gradient.
    fn loss_and_grad(&mut self, params: &[S], grad: &mut [S]) -> Result<S> {
        let elbo = self.elbo_and_grad(params, grad);
        loss_from_elbo(elbo, grad)
    }
}

/// Runs `body` with the minibatch objective of `model` on batches from `source`, each batch
/// split as `split` says on the crate's thread team ([`crate::parallel`]), whose workers live
/// until `body` returns. Allocates its buffers. The numbers depend on `split.chunks`, not on
/// `split.threads`; a batch shorter than the chunk count is cut into fewer chunks.
///
/// ```
/// use core::ops::ControlFlow;
/// use svgp::batch::{with_split_minibatch, Minibatch, SliceSource};
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::Rbf;
/// use svgp::optim::{Adam, AdamConfig};
/// use svgp::parallel::Split;
/// use svgp::rng::Xoshiro256;
/// use svgp::train::fit;
/// let x: Vec<f64> = (0..200).map(|i| i as f64 / 100.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
/// let model = Svgp::new(Closed(Rbf::new(1)), 4, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.75, -0.25, 0.25, 0.75], 0.01, &mut p)?;
/// let mb = Minibatch::new(x.len(), 50)?;
/// let src = SliceSource::new(&x, &y, 1, Xoshiro256::from_u64(0))?;
/// let (mut g, mut mu, mut nu) = (vec![0.0; p.len()], vec![0.0; p.len()], vec![0.0; p.len()]);
/// let mut adam = Adam::new(AdamConfig::new(0.01), &mut mu, &mut nu)?;
/// // Each batch of 50 in two chunks of 25, on two threads.
/// let summary = with_split_minibatch(model, mb, src, Split::new(2, 2), |obj| {
///     fit(obj, &mut p, &mut g, &mut adam, 20, |_| ControlFlow::Continue(()))
/// })??;
/// assert_eq!(summary.steps, 20);
/// # Ok::<(), svgp::Error>(())
/// ```
#[cfg(feature = "std")]
pub fn with_split_minibatch<P, Src, S, R, L>(
    model: Svgp<P, L>,
    cfg: Minibatch,
    source: Src,
    split: crate::parallel::Split,
    body: impl FnOnce(&mut MinibatchElbo<'_, P, Src, S, L>) -> R,
) -> Result<R>
where
    P: Prior + Sync,
    L: Likelihood + Sync,
    Src: BatchSource<S>,
    S: Scalar + Send + Sync,
{
    check_len("batch source input dimension", model.input_dim(), source.input_dim())?;
    crate::parallel::with_batch_split(&model, cfg.batch, split, |team| {
        let mut obj = MinibatchElbo {
            model,
            cfg,
            source,
            xb: &mut [],
            yb: &mut [],
            ws: &mut [],
            team: Some(team),
            last: 0,
        };
        body(&mut obj)
    })
}

/// Workspace length for [`accumulate_elbo_and_grad`] with chunks of `chunk` points
/// ([`Error::SizeOverflow`] for absurd sizes).
pub fn accumulate_workspace_len<P: Prior, L: Likelihood>(model: &Svgp<P, L>, chunk: usize) -> Result<usize> {
    Ok(accumulate_ws(model, chunk)?.total())
}

crate::parts! {
    /// [`accumulate_elbo_and_grad`]'s workspace: one chunk's gradient, the model's ELBO workspace.
    "accumulate workspace": struct AccumulateWs { grad, elbo }
}

fn accumulate_ws<P: Prior, L: Likelihood>(model: &Svgp<P, L>, chunk: usize) -> Result<AccumulateWs<usize>> {
    AccumulateWs { grad: Size::of(model.n_params()), elbo: Size::from_result(model.workspace_len(chunk)) }
        .resolve()
}

/// The full-data ELBO and its gradient, computed chunk by chunk (≤ `chunk` points each) so the
/// memory is that of one chunk, whatever N: each chunk adds its expected log-likelihood and
/// gradient at scale 1, the KL enters once. Equal to [`Svgp::elbo_and_grad`] on all points up
/// to summation order (a sum of finite chunks that overflows is [`Error::NonFinite`], as the
/// whole batch's ELBO would be). `ws` needs [`accumulate_workspace_len`]`(model, chunk)` elements.
///
/// ```
/// use svgp::batch::{accumulate_elbo_and_grad, accumulate_workspace_len};
/// use svgp::gp::{Closed, ElboOptions, Svgp};
/// use svgp::kernel::Rbf;
/// let x: Vec<f64> = (0..30).map(|i| i as f64 / 15.0 - 1.0).collect();
/// let y: Vec<f64> = x.iter().map(|v| v.cos()).collect();
/// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
/// let mut p = vec![0.0; model.n_params()];
/// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.0, 0.5], 0.01, &mut p)?;
/// let mut g = vec![0.0; model.n_params()];
/// let mut ws = vec![0.0; accumulate_workspace_len(&model, 7)?];
/// let chunked = accumulate_elbo_and_grad(&model, &p, &x, &y, 7, &mut g, &mut ws)?;
/// let mut ws_full = vec![0.0; model.workspace_len(30)?];
/// let full = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws_full)?;
/// assert!((chunked - full).abs() < 1e-10 * full.abs());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn accumulate_elbo_and_grad<P: Prior, S: Scalar, L: Likelihood>(
    model: &Svgp<P, L>,
    params: &[S],
    x: &[S],
    y: &[S],
    chunk: usize,
    grad: &mut [S],
    ws: &mut [S],
) -> Result<S> {
    let (d, np) = (model.input_dim(), model.n_params());
    check_not_empty(y.len())?;
    check_len("inputs x (n × D): rows", y.len(), rows_of(x, d, "inputs x (n × D)")?)?;
    check_len("gradient buffer", np, grad.len())?;
    if chunk == 0 {
        return Err(Error::InvalidParameter { what: "chunk size (must be ≥ 1)", value: 0.0 });
    }
    let AccumulateWs { grad: g_chunk, elbo: ws } = accumulate_ws(model, chunk)?.carve(ws)?;
    grad.iter_mut().for_each(|g| *g = S::zero());
    let mut elbo = S::zero();
    for (k, (xc, yc)) in x.chunks(chunk * d).zip(y.chunks(chunk)).enumerate() {
        let opts = ElboOptions { scale: 1.0, include_kl: k == 0 };
        elbo += model.elbo_and_grad(params, xc, yc, opts, g_chunk, ws)?;
        for (g, &c) in grad.iter_mut().zip(g_chunk.iter()) {
            *g += c;
        }
    }
    check_chunk_sum(elbo, grad)
}
