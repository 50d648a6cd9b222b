//! Feature maps x ↦ ψ(x) ∈ ℝ^J and their reverse rules.
//!
//! A feature kernel is k(x, x') = σ²·ψ(x)·ψ(x'). Random-feature families approximate a
//! closed-form kernel; the deep map (an MLP followed by random Fourier features) learns one.

use crate::error::Result;
use crate::Scalar;

/// A differentiable map from D-dimensional inputs to J features, with parameters in a flat buffer.
///
/// The forward pass may store intermediates in `ws`; [`FeatureMap::features_adjoint`] must be
/// called with the `ws` left by the forward pass on the same inputs.
pub trait FeatureMap: Copy + core::fmt::Debug {
    /// Input dimension D.
    fn input_dim(&self) -> usize;
    /// Number of features J.
    fn n_features(&self) -> usize;
    /// Number of parameters in the flat buffer.
    fn n_params(&self) -> usize;
    /// Workspace length needed for `n` inputs.
    fn workspace_len(&self, n: usize) -> usize;
    /// ψ for `n` row-major inputs `x` (n × D) into `psi` (n × J).
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()>;
    /// Reverse rule: given ψ̄ (n × J), *add* ∂/∂params into `grad_params` and, when given,
    /// ∂/∂x into `grad_x` (n × D).
    fn features_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        psi_bar: &[S],
        grad_params: &mut [S],
        grad_x: Option<&mut [S]>,
        ws: &mut [S],
    ) -> Result<()>;
}

mod arccos;
mod fourier;
mod hsgp;
mod projection;

pub use arccos::ArcCosineFeatures;
pub use fourier::{Coupling, FourierForm, RandomFourier, Spectrum};
pub use hsgp::Hsgp;
mod deep;
pub use deep::DeepRff;
