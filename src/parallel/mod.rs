//! The crate's one thread engine (feature `std`): a team of scoped worker threads that lives for
//! a whole training run and evaluates a fixed set of chunks of the work at each call.
//!
//! [`with_split_elbo`] cuts a fixed data set into chunks and gives a [`SplitElbo`] whose
//! [`SplitElbo::elbo_and_grad`] is the whole data set's ELBO and gradient (an [`Objective`]
//! for [`crate::train::fit`]); [`crate::train::Trainer::fit_svgp`] uses it for threaded
//! full-batch training, and [`crate::batch::with_split_minibatch`] splits each minibatch with
//! the same engine.
//!
//! # The numbers depend on the chunks, not on the threads
//!
//! The data are cut into [`Split::chunks`] fixed, contiguous chunks of ⌈n/chunks⌉ points.
//! The calling thread first computes the inducing half of the prior pass (the prior at Z and
//! the M × M Cholesky, [`Prior::forward_inducing`](crate::gp::Prior::forward_inducing)) once;
//! chunk `c` is then evaluated against it (the data half of the prior, the likelihood and the
//! guide, and their reverse) into its own gradient buffer and its own share of the inducing
//! adjoint (chunk 0 carries the KL); the calling thread sums the chunks' ELBOs, gradients and
//! adjoints in chunk order and runs the inducing half's reverse (through the Cholesky) once.
//! Which thread ran a chunk does not enter the arithmetic, so a run with 2 chunks gives
//! bit-identical results on 1 or 2 threads: the thread count is a speed setting, the chunk
//! count part of the computation. Errors follow the same rule: the first failing chunk in
//! chunk order is reported, and a chunk whose evaluation panics gives
//! [`crate::Error::WorkerPanicked`] naming it, on any number of threads.
//!
//! # Cost
//!
//! The inducing half runs once per call whatever the chunk count, on the calling thread while
//! the workers wait (it needs the parameters only; the chunks need its result); a call also
//! copies the parameters (and, for a minibatch, the batch) to the team, wakes the workers (idle
//! workers spin briefly, then park) and sums the chunks. Until the inducing half was shared,
//! every chunk recomputed it: 12 % of the deep step and 34 % of the RBF step on one thread
//! with two chunks.
//!
//! [`Objective`]: crate::objective::Objective

mod elbo;
mod team;

pub use elbo::{with_split_elbo, SplitElbo};

pub(crate) use elbo::with_batch_split;

use crate::error::{Error, Result};

/// How to split the work: `chunks` fixed pieces of the data (this decides the numbers) run on
/// up to `threads` threads, the caller's included (this decides only the speed).
///
/// ```
/// use svgp::parallel::Split;
/// let s = Split::new(2, 2);
/// assert_eq!((s.chunks, s.threads), (2, 2));
/// assert_eq!(Split::default(), Split::new(1, 1)); // no split: the whole batch on the caller
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split {
    /// Number of contiguous chunks of the data (at least 1, at most the number of points).
    pub chunks: usize,
    /// Number of threads including the calling one (at least 1; more than `chunks` is not used).
    pub threads: usize,
}

impl Split {
    /// `chunks` chunks on `threads` threads.
    pub fn new(chunks: usize, threads: usize) -> Self {
        Self { chunks, threads }
    }
    /// Checks the split for a data set (or batch capacity) of `n ≥ 1` points.
    pub(crate) fn check(&self, n: usize) -> Result<()> {
        if self.chunks == 0 || self.chunks > n {
            return Err(Error::InvalidParameter {
                what: "split: chunks (must be 1..=n)",
                value: self.chunks as f64,
            });
        }
        if self.threads == 0 {
            return Err(Error::InvalidParameter { what: "split: threads (must be ≥ 1)", value: 0.0 });
        }
        Ok(())
    }
}

impl Default for Split {
    fn default() -> Self {
        Self::new(1, 1)
    }
}

/// Points per chunk and number of chunks for `n` points cut into at most `chunks` pieces
/// (n, chunks ≥ 1): ⌈n/chunks⌉ points each, the last one shorter.
pub(crate) fn chunking(n: usize, chunks: usize) -> (usize, usize) {
    let len = n.div_ceil(chunks.max(1)).max(1);
    (len, n.div_ceil(len))
}
