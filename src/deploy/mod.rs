//! Deployment: compact prediction-only posteriors and the binary model format.
//!
//! Train on a desktop in `f64`, then:
//! 1. build a compact posterior ([`FeaturePosterior::build`] for a feature kernel,
//!    [`KernelPosterior::build`] for a closed-form one) in `f32` or `f64` storage;
//! 2. write it as a blob ([`write_feature`], or [`feature_to_bytes`] with `alloc`);
//! 3. on the device, `include_bytes!` the blob, read it with [`read_feature`] into a static
//!    or stack array, and predict with no allocator.
//!
//! The posteriors only borrow their storage, so the same code serves a `Vec` on the host and
//! an array on a microcontroller. To keep the posterior in flash with no copy at all, decode the
//! blob at compile time with the `const fn` [`payload_f32`] and view the `static` array with
//! [`read_feature_in_place`] / [`read_kernel_in_place`].
//!
//! A blob names its feature map or kernel by a [`ModelShape`] family number plus shape words;
//! implemented for [`Rbf`](crate::kernel::Rbf), [`RbfArd`](crate::kernel::RbfArd),
//! [`Matern`](crate::kernel::Matern), [`ArcCosine`](crate::kernel::ArcCosine),
//! [`DeepRff`](crate::features::DeepRff) and [`RandomFourier`](crate::features::RandomFourier).
//!
//! ```
//! # #[cfg(feature = "alloc")] // blob export needs `alloc`
//! # fn main() -> Result<(), svgp::Error> {
//! use svgp::deploy::{feature_to_bytes, read_feature, read_header, FeatureModel, FeaturePosterior};
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
//! // Compact f32 posterior and its blob.
//! let model = FeatureModel::from_svgp(&svgp, &params)?;
//! let mut storage = vec![0.0_f32; FeaturePosterior::<f32, DeepRff>::storage_len(&map, 4)?];
//! let post = FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len()?])?;
//! let blob = feature_to_bytes(&post)?;
//!
//! // Device side: no allocation, arrays only.
//! let mut store = [0.0_f32; 512];
//! assert!(read_header(&blob)?.count <= store.len());
//! let post = read_feature::<f32, DeepRff>(&blob, &mut store)?;
//! let mut ws = [0.0_f32; 256];
//! let p = post.predict(&[0.1, -0.2], &mut ws[..post.workspace_len()?])?;
//! // At initialisation (m = 0, L = I) the posterior is the prior: mean 0, variance σ²|ψ|².
//! assert_eq!(p.mean, 0.0);
//! assert!(p.variance > 0.0);
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "alloc"))]
//! # fn main() {}
//! ```

mod closed;
mod crc32;
mod feature;
mod format;
mod prediction;
mod shape;

pub use crate::error::{BlobError, Error};
pub use closed::{KernelModel, KernelPosterior};
pub use crc32::{crc32, Crc32};
pub use feature::{FeatureModel, FeaturePosterior};
pub use format::{
    encoded_len, offset, payload_f32, read_feature, read_feature_in_place, read_header, read_header_fields,
    read_kernel, read_kernel_in_place, write_feature, write_kernel, Header, ModelKind, HEADER_LEN, MAGIC,
    TRAILER_LEN, VERSION,
};
#[cfg(feature = "alloc")]
pub use format::{feature_to_bytes, kernel_to_bytes};
pub use prediction::Prediction;
pub use shape::{
    bad_shape, check_size, check_unused, dim_word, ModelShape, StoredScalar, MAX_DIM, SHAPE_WORDS,
};
