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
//! an array on a microcontroller.

mod closed;
mod crc32;
mod feature;
mod format;
mod prediction;
mod shape;

pub use crate::error::Error;
pub use closed::{KernelModel, KernelPosterior};
pub use crc32::{crc32, Crc32};
pub use feature::{FeatureModel, FeaturePosterior};
pub use format::{
    encoded_len, read_feature, read_header, read_kernel, write_feature, write_kernel, Header, ModelKind,
    BAD_CHECKSUM, BAD_FAMILY, BAD_KIND, BAD_MAGIC, BAD_SCALAR, BAD_SHAPE, BAD_VERSION, HEADER_LEN, MAGIC,
    TRAILER_LEN, TRAILING_BYTES, TRUNCATED, VERSION,
};
#[cfg(feature = "alloc")]
pub use format::{feature_to_bytes, kernel_to_bytes};
pub use prediction::Prediction;
pub use shape::{
    bad_shape, check_size, check_unused, dim_word, ModelShape, StoredScalar, MAX_DIM, SHAPE_WORDS,
};
