//! Dense neural networks (the warp of a deep kernel).
//!
//! An [`Mlp`] is a shape (widths, activation) over a flat parameter buffer; its forward pass
//! runs a whole batch as one gemm per layer and keeps what the reverse sweep needs in a
//! caller-provided workspace.

mod activation;
mod mlp;

pub use activation::Activation;
pub use mlp::{Mlp, MAX_LAYERS};
