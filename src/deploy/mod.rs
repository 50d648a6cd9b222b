//! Deployment: compact prediction-only posteriors and the binary model format.
//!
//! Train on a desktop in `f64`, then:
//! 1. build a compact posterior ([`FeaturePosterior::build`] for a feature kernel,
//!    [`KernelPosterior::build`] for a closed-form one), in `f64`;
//! 2. write it as a blob ([`write_feature`], or [`feature_to_bytes`] with `alloc`) under a
//!    [`Plan`]: each block of the posterior (mean weights, variance rows, each layer's
//!    weights, ...) in its own [`Encoding`] — `f64`, `f32`, `f16`, `bf16`, or 16/8-bit
//!    integers with a scale per row;
//! 3. on the device, `include_bytes!` the blob, check it and predict from it in place with
//!    [`view_feature`] (no copy, no allocator), or decode it into a static array with
//!    [`read_feature`].
//!
//! The posteriors only borrow their storage — native slices or encoded blob bytes, through
//! [`Block`] — so the same code serves a `Vec` on the host and flash on a microcontroller.
//! A blob names its feature map or kernel by a [`ModelShape`] family number plus shape words;
//! implemented for [`Rbf`](crate::kernel::Rbf), [`RbfArd`](crate::kernel::RbfArd),
//! [`Matern`](crate::kernel::Matern), [`ArcCosine`](crate::kernel::ArcCosine),
//! [`DeepRff`](crate::features::DeepRff) and [`RandomFourier`](crate::features::RandomFourier)
//! (feature maps also implement [`DeployMap`]). It also names its [`Likelihood`].
//!
//! ```
//! # #[cfg(feature = "alloc")] // blob export needs `alloc`
//! # fn main() -> Result<(), svgp::Error> {
//! use svgp::deploy::{feature_to_bytes, view_feature, FeatureModel, FeaturePosterior, Plan};
//! use svgp::features::{DeepRff, FeatureMap};
//! use svgp::gp::{Features, Prior, Svgp};
//! use svgp::nn::{Activation, Mlp};
//! use svgp::rng::Xoshiro256;
//!
//! // Host, f64: a (here untrained) deep-kernel SVGP with M = 4 inducing points.
//! let map = DeepRff::new(Mlp::equinox(2, 8, 1, 2, Activation::Tanh)?, 16)?;
//! let svgp = Svgp::new(Features(map), 4, 1e-4)?;
//! let mut prior = vec![0.0; svgp.prior().n_params()]; // [ln σ² | map params], σ² = 1
//! map.init(&mut Xoshiro256::from_u64(1), 0.5, &mut *svgp.prior().parts(&mut prior[..])?.map)?;
//! let mut params = vec![0.0; svgp.n_params()];
//! svgp.init_params(&prior, &[-0.5, -0.5, 0.5, -0.5, -0.5, 0.5, 0.5, 0.5], 0.01, &mut params)?;
//!
//! // The compact posterior, and its blob in 16-bit integers (f32 for single values).
//! let model = FeatureModel::from_svgp(&svgp, &params)?;
//! let mut storage = vec![0.0_f64; FeaturePosterior::<f64, DeepRff>::storage_len(&map, 4)?];
//! let post = FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len()?])?;
//! let blob = feature_to_bytes(&post, &Plan::compact())?;
//!
//! // Device side: no allocation, the blob read in place.
//! let post = view_feature::<f32, DeepRff>(&blob)?;
//! let mut ws = [0.0_f32; 256];
//! let p = post.predict(&[0.1, -0.2], &mut ws[..post.workspace_len()?])?;
//! // At initialisation (m = 0, L = I) the posterior is the prior: mean 0, variance σ²|ψ|².
//! assert!(p.mean.abs() < 1e-6);
//! assert!(p.variance > 0.0);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "alloc"))]
//! # fn main() {}
//! ```

mod block;
mod closed;
mod crc32;
mod deep;
mod feature;
mod format;
mod likelihood;
mod map;
mod plan;
mod prediction;
mod shape;

pub use crate::error::{BlobError, Error};
pub use block::{Block, BlockSpec, Encoding, Operand, ParamBlocks, Role, MAX_PARAM_BLOCKS};
pub use closed::{KernelModel, KernelPosterior};
pub use crc32::{crc32, Crc32};
pub use feature::{FeatureModel, FeaturePosterior};
pub use format::{
    block_entries, feature_blob_len, kernel_blob_len, offset, read_feature, read_header, read_kernel,
    view_feature, view_kernel, write_feature, write_kernel, BlockEntry, Header, ModelKind, ENTRY_LEN,
    HEADER_LEN, MAGIC, MAX_BLOCKS, TRAILER_LEN, VERSION,
};
#[cfg(feature = "alloc")]
pub use format::{feature_to_bytes, kernel_to_bytes};
pub use likelihood::Likelihood;
pub use map::DeployMap;
pub use plan::Plan;
pub use prediction::Prediction;
pub use shape::{
    bad_shape, check_size, check_unused, dim_word, ModelShape, StoredScalar, MAX_DIM, SHAPE_WORDS,
};
