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
//! The data are cut into [`Split::chunks`] fixed, contiguous chunks of ⌈n/chunks⌉ points;
//! chunk `c` is evaluated with [`Svgp::elbo_and_grad`](crate::gp::Svgp::elbo_and_grad) into
//! its own gradient buffer (chunk 0 carries the KL), and the calling thread sums the chunks'
//! ELBOs and gradients in chunk order. Which thread ran a chunk does not enter the arithmetic,
//! so a run with 2 chunks gives bit-identical results on 1 or 2 threads: the thread count is a
//! speed setting, the chunk count part of the computation. Errors follow the same rule: the
//! first failing chunk in chunk order is reported, and a chunk whose evaluation panics gives
//! [`crate::Error::WorkerPanicked`] naming it, on any number of threads.
//!
//! # Cost
//!
//! Every chunk recomputes the K_zz part (the prior at Z, the M × M Cholesky and their reverse
//! sweep), O(M/chunk) of a chunk's work: about 10 % for the deep flagship kernel at two chunks
//! of 300. A call copies the parameters (and, for a minibatch, the batch) to the team, wakes the
//! workers (idle workers spin briefly, then park) and sums the chunks. A deeper seam inside
//! `gp::elbo` could share the K_zz part (forward once, per-column work per thread, one shared
//! reverse through the Cholesky).
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
