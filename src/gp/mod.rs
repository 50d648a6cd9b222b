//! Sparse variational GP: prior, whitened guide, Gaussian likelihood, ELBO and its reverse
//! sweep, prediction.
//!
//! # The model
//!
//! A model is a shape [`Svgp<P>`] (prior `P`, number of inducing points M, jitter) plus one
//! flat parameter buffer (layout in [`Svgp`]'s docs): prior parameters, inducing inputs Z,
//! the whitened guide q(v) = N(m, L·Lᵀ) with L stored as a packed lower triangle, and the
//! log noise variance. The prior is either
//! - [`Closed<K>`]: any closed-form [`Kernel`](crate::kernel::Kernel), parameters the kernel's; or
//! - [`Features<F>`]: k(x, x') = σ²·ψ(x)·ψ(x') for a [`FeatureMap`](crate::features::FeatureMap)
//!   (the deep RFF kernel), parameters `[ln σ² | map parameters]`.
//!
//! # Entry points (all allocation-free: the caller owns the workspace)
//!
//! - [`Svgp::init_params`]: m = 0, L = I, given prior parameters, Z and noise variance.
//! - [`Svgp::elbo`], [`Svgp::elbo_terms`]: the ELBO (to maximise) on a batch; [`ElboOptions`]
//!   carries the minibatch scale s = N_total/B (ELBO = s·ELL − KL) and whether to include the KL.
//! - [`Svgp::elbo_and_grad`]: the ELBO and ∂ELBO/∂params (every parameter, Z included) by a
//!   tape-free reverse sweep, generic over [`Scalar`](crate::Scalar). Sign: the gradient of
//!   the ELBO, not of the loss; [`crate::train`] minimises −ELBO.
//! - [`Svgp::predict`], [`Svgp::predict_cov`]: posterior mean and variance (never negative)
//!   of the latent f, full covariance for small sets.
//!
//! Workspace sizes: [`Svgp::workspace_len`]`(n)` (ELBO, gradient, predict),
//! [`Svgp::predict_workspace_len`], [`Svgp::predict_cov_workspace_len`].
//!
//! Everything runs on [`Dual`](crate::Dual) numbers too: the forward-mode gradient is the
//! oracle the reverse sweep is tested against.

mod elbo;
pub(crate) mod fastexp;
pub(crate) mod kernel_adjoint;
mod model;
mod predict;
mod prior;
mod ws;

pub use elbo::{ElboOptions, ElboTerms};
pub use kernel_adjoint::{MAX_DUAL_DIM, MAX_DUAL_PARAMS};
pub use model::{tri_len, Prior, Svgp};
pub use predict::PREDICT_CHUNK;
pub use prior::{Closed, Features};
