//! Sparse variational GP: prior, whitened guide, Gaussian likelihood, ELBO and its reverse
//! sweep, prediction.
//!
//! # The model
//!
//! A model is a shape [`Svgp<P>`] (prior `P`, number of inducing points M, jitter) plus one
//! flat parameter buffer (layout in [`Svgp`]'s docs, declared once as [`SvgpParts`]): prior
//! parameters, inducing inputs Z, the whitened guide q(v) = N(m, L·Lᵀ) with L stored as a
//! packed lower triangle, and the likelihood's parameters (the log noise variance). Read and
//! write it by name with [`Svgp::params`] / [`Svgp::params_mut`] ([`SvgpParams`]: the prior's
//! own view, Z, m, L as a [`PackedLower`](crate::linalg::PackedLower), the Gaussian noise),
//! never by offset. The prior is either
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
//! Workspace sizes: [`Svgp::workspace_len`]`(n)` (ELBO, gradient),
//! [`Svgp::predict_workspace_len`], [`Svgp::predict_cov_workspace_len`]; each is a
//! [`Result`](crate::Result), an [`Error::SizeOverflow`](crate::Error::SizeOverflow) for absurd
//! sizes. Every entry point returns a typed error for data it cannot use (no points,
//! non-finite values, an ELBO, gradient or prediction that overflows), never a panic or `Ok(NaN)`.
//!
//! Everything runs on [`Dual`](crate::Dual) numbers too: the forward-mode gradient of
//! [`Svgp::elbo`] is the oracle the reverse sweep is tested against, and
//! [`Svgp::elbo_and_grad`] on duals gives Hessian-vector products (forward over reverse).
//!
//! # Cost of a step (N points, M inducing points, J features)
//!
//! The guide's algebra costs one M²N product forward (Q = (LLᵀ − I)·A) and an M²N/2 syrk
//! backward (see the `elbo` module notes for the formulas); the closed-form prior adds two
//! triangular solves and the kernel blocks; the feature prior adds the three N·M·J products
//! that dominate the deep kernel. Results agree with the JAX reference
//! (its fixtures are vendored in `tests/data/`, tests `fixture_*`) to ~1e-14 over the first ten
//! Adam steps.
//!
//! # Example: a deep RFF kernel SVGP
//!
//! ```
//! use svgp::features::{DeepRff, FeatureMap};
//! use svgp::gp::{ElboOptions, Features, Prior, Svgp};
//! use svgp::nn::{Activation, Mlp};
//! use svgp::rng::Xoshiro256;
//! // MLP 2 → 8 → 8 → 4, 32 random features, 5 inducing points.
//! let map = DeepRff::new(Mlp::equinox(2, 8, 2, 4, Activation::Tanh)?, 32)?;
//! let model = Svgp::new(Features(map), 5, 1e-4)?;
//! let mut prior = vec![0.0_f64; model.prior().n_params()]; // [ln σ² | map parameters]
//! map.init(&mut Xoshiro256::from_u64(7), 0.5, &mut *model.prior().parts(&mut prior[..])?.map)?;
//! let z = [-0.8, -0.8, -0.4, 0.4, 0.0, 0.0, 0.4, -0.4, 0.8, 0.8];
//! let mut params = vec![0.0; model.n_params()];
//! model.init_params(&prior, &z, 0.01, &mut params)?;
//! let x = [0.1, 0.2, -0.5, 0.3, 0.7, -0.9];
//! let y = [0.3, -0.1, 0.8];
//! let mut ws = vec![0.0; model.workspace_len(3)?];
//! let mut grad = vec![0.0; model.n_params()];
//! let elbo = model.elbo_and_grad(&params, &x, &y, ElboOptions::default(), &mut grad, &mut ws)?;
//! assert!(elbo.is_finite() && grad.iter().all(|g| g.is_finite()));
//! // Results by name: the learned feature lengthscale, the noise, the gradient of Z.
//! let p = model.params(&params)?;
//! assert!((p.prior.map.lengthscale() - 0.5).abs() < 1e-15 && (p.likelihood.noise_std() - 0.1).abs() < 1e-15);
//! assert_eq!(model.params(&grad)?.z.len(), 5 * 2);
//! # Ok::<(), svgp::Error>(())
//! ```

mod elbo;
mod model;
mod predict;
mod prior;

pub use crate::likelihood::{Gaussian, GaussianParams, Likelihood};
pub(crate) use elbo::check_chunk_sum;
pub use elbo::{ElboOptions, ElboTerms};
pub use model::{
    ParamsMut, ParamsRef, Prior, PriorAdjoint, PriorBlocks, PriorGrad, PriorInputs, Svgp, SvgpParams,
    SvgpParts,
};
pub use predict::PREDICT_CHUNK;
pub use prior::{Closed, FeaturePriorParams, FeaturePriorParts, Features};
