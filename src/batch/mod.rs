//! Minibatch training: shuffled epochs, streaming batch sources, and the minibatch ELBO.
//!
//! # The minibatch ELBO
//!
//! The ELBO's likelihood term is a sum over points, so a batch of b points out of N gives an
//! unbiased estimate of it when scaled by s = N/b: ELBO_b = s·ELL_b − KL. The total N is part of
//! the estimator, and a stream cannot know it, so [`Minibatch::new`] requires it (nothing here
//! guesses it from a slice length). Over a partition of the data into batches, the ELBO_b
//! weighted by b/N sum to the full-batch ELBO exactly (plain average when all b are equal).
//!
//! # Memory
//!
//! A step touches only the batch: the buffers of [`MinibatchElbo`] hold B inputs and targets and
//! the model's workspace for B points, O(B·(J + M) + M·J + M²) whatever N is. The shuffler
//! ([`ShuffledEpochs`]) is a keyed permutation, O(1) memory; sources ([`BatchSource`]) copy at
//! most B points per call, from a slice ([`SliceSource`]), a callback ([`FnSource`]) or an
//! iterator ([`IterSource`]).
//!
//! # Threads (feature `std`)
//!
//! `with_split_minibatch` splits each batch into chunks on the crate's one thread engine
//! (`svgp::parallel`); its results depend on the number of chunks only, not on the number
//! of threads.

mod objective;
pub(crate) mod sampler;
mod source;

#[cfg(feature = "std")]
pub use objective::with_split_minibatch;
pub use objective::{accumulate_elbo_and_grad, accumulate_workspace_len, Minibatch, MinibatchElbo};
pub use sampler::ShuffledEpochs;
pub use source::{BatchSource, FnSource, IterSource, SliceSource};
