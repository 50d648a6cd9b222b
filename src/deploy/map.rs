//! How a feature map evaluates ψ(x) from parameters stored as blocks ([`DeployMap`]).

use super::block::{BlockSpec, ParamBlocks, Role, MAX_PARAM_BLOCKS};
use super::shape::{ModelShape, StoredScalar};
use crate::error::{check_buf, Result};
use crate::features::{FeatureMap, RandomFourier};
use crate::layout::Size;

/// A feature map a blob can hold: its parameters as [blocks](super::Block) (each with a role,
/// so a [`Plan`](super::Plan) can store them at different precisions), and ψ(x) for one input
/// straight from those blocks, however they are encoded.
///
/// The defaults serve any map: one block of all parameters, decoded into the workspace before
/// each evaluation (or used in place when it is native). [`DeepRff`](crate::features::DeepRff)
/// overrides them with one block per layer and an evaluation that reads the encoded blocks
/// directly (no copy of its parameters in RAM).
pub trait DeployMap: FeatureMap + ModelShape {
    /// The parameter blocks in the order of the flat parameters (their sizes sum to
    /// [`FeatureMap::n_params`]); written into `out`, returns how many.
    fn param_blocks(&self, out: &mut [BlockSpec; MAX_PARAM_BLOCKS]) -> usize {
        out[0] = BlockSpec::row(Role::Weights, self.n_params());
        1
    }

    /// Workspace length [`DeployMap::deploy_features`] needs.
    fn deploy_workspace_len(&self) -> Result<usize> {
        (Size::of(self.n_params()) + Size::from_result(self.workspace_len(1))).get("feature map workspace")
    }

    /// ψ(x) (J values) for one input `x` (D values, checked by the caller) from the
    /// parameters `params`.
    fn deploy_features<S: StoredScalar>(
        &self,
        params: &ParamBlocks<'_, S>,
        x: &[S],
        psi: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        if let Some(p) = params.as_native() {
            return self.features(p, x, psi, ws);
        }
        let n = self.n_params();
        check_buf("feature map workspace", n, ws.len())?;
        let (p, rest) = ws.split_at_mut(n);
        params.decode_into(p)?;
        self.features(p, x, psi, rest)
    }

    /// Checks stored parameters the map could not use (the default: none beyond finiteness,
    /// which the reader checks for every block).
    fn check_deploy_params<S: StoredScalar>(&self, params: &ParamBlocks<'_, S>) -> Result<()> {
        match params.as_native() {
            Some(p) => self.check_params(p),
            None => Ok(()),
        }
    }
}

impl DeployMap for RandomFourier {}
