//! Feature maps x ↦ ψ(x) ∈ ℝ^J and their reverse rules.
//!
//! A feature kernel is k(x, x') = σ²·ψ(x)·ψ(x'). Random-feature families approximate a
//! closed-form kernel; the deep map (an MLP followed by random Fourier features) learns one.

use crate::error::{check_buf, check_finite, check_len, Result};
use crate::layout::{Size, SliceRef};
use crate::linalg::rows_of;
use crate::Scalar;

/// A differentiable map from D-dimensional inputs to J features, with parameters in a flat buffer.
///
/// The forward pass may store intermediates in `ws`; [`FeatureMap::features_adjoint`] must be
/// called with the `ws` left by the forward pass on the same inputs. A user map can declare
/// its workspace with [`parts!`](crate::parts), so its length and its carving agree.
pub trait FeatureMap: Copy + core::fmt::Debug {
    /// The named view of the parameters, over storage `C` (`&[S]` to read, `&mut [S]` to write
    /// too); the slice itself for a map without named parts.
    type Params<C>;
    /// Views `raw` ([`FeatureMap::n_params`] values, checked) by name.
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>>;
    /// Refuses parameters the map cannot use: non-finite ones, and (for the built-in maps)
    /// log-scale ones whose transformed value is 0 or infinite. The default checks the length
    /// and finiteness only.
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        check_len("feature map parameters", self.n_params(), params.len())?;
        check_finite("feature map parameters", params)
    }
    /// Input dimension D.
    fn input_dim(&self) -> usize;
    /// Number of features J.
    fn n_features(&self) -> usize;
    /// Number of parameters in the flat buffer.
    fn n_params(&self) -> usize;
    /// Workspace length needed for `n` inputs ([`Error::SizeOverflow`](crate::Error::SizeOverflow)
    /// for an absurd `n`).
    fn workspace_len(&self, n: usize) -> Result<usize>;
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
pub use hsgp::{Hsgp, HsgpParams};
pub use projection::ProjectionParams;
mod deep;
pub use deep::{DeepRff, DeepRffParams};

/// The checks every feature map makes on a call's inputs and buffers: `x` is n × D, `out` is
/// n × J and `ws` holds `workspace_len(n)`. Returns n. `ws_what` names the map's workspace.
pub(crate) fn check_io<F: FeatureMap, S>(
    map: &F,
    ws_what: &'static str,
    x: &[S],
    out: &[S],
    ws: &[S],
) -> Result<usize> {
    let n = rows_of(x, map.input_dim(), "feature inputs")?;
    check_len("features (n × J)", (Size::of(n) * map.n_features()).get("features (n × J)")?, out.len())?;
    check_buf(ws_what, map.workspace_len(n)?, ws.len())?;
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
        let len = (Size::of(n) * map.input_dim()).get("feature input gradient")?;
        check_len("feature input gradient", len, g.len())?;
    }
    Ok(())
}
