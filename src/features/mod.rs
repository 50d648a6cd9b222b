//! Feature maps x ↦ ψ(x) ∈ ℝ^J and their reverse rules.
//!
//! A feature kernel is k(x, x') = σ²·ψ(x)·ψ(x'). Random-feature families approximate a
//! closed-form kernel; the deep map (an MLP followed by random Fourier features) learns one.

use crate::error::{check_buf, check_len, Result};
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

/// The checks every feature map makes on a call's inputs and buffers: `x` is n × D, `out` is
/// n × J and `ws` holds `workspace_len(n)`. Returns n. `ws_what` names the map's workspace.
pub(crate) fn check_io<F: FeatureMap, S>(
    map: &F,
    ws_what: &'static str,
    x: &[S],
    out: &[S],
    ws: &[S],
) -> Result<usize> {
    let n = crate::kernel::rows_of(x, map.input_dim(), "feature inputs")?;
    check_len("features (n × J)", n * map.n_features(), out.len())?;
    check_buf(ws_what, map.workspace_len(n), ws.len())?;
    Ok(n)
}

/// The gradient buffers of a feature map's adjoint on `n` inputs: `grad_params` (checked under
/// `what`) and, when given, the input gradient (n × D).
pub(crate) fn check_grads<F: FeatureMap, S>(
    map: &F,
    what: &'static str,
    n: usize,
    grad_params: &[S],
    grad_x: Option<&[S]>,
) -> Result<()> {
    check_len(what, map.n_params(), grad_params.len())?;
    if let Some(g) = grad_x {
        check_len("feature input gradient", n * map.input_dim(), g.len())?;
    }
    Ok(())
}
