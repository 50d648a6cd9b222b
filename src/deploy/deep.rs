//! The deep random-Fourier-feature map evaluated from stored blocks, one input at a time.
//!
//! The same map as [`DeepRff`]'s inference pass, ψ(x) = √(2/J)·cos(MLP(x)·W/ℓ + b), shaped
//! for a microcontroller: one input, a forward-only workspace of three vectors as wide as the
//! widest layer, cosines only, and every weight read where it is stored (an `i16` block
//! straight from flash through [`Block::row_dot`]'s integer dot products). Its agreement
//! with [`DeepRff::features_inference`] is asserted in `tests/deploy_precision.rs`.

use super::block::{Block, BlockSpec, Operand, ParamBlocks, Role, MAX_PARAM_BLOCKS};
use super::map::DeployMap;
use super::shape::StoredScalar;
use crate::error::{check_buf, check_len, Error, Result};
use crate::features::{DeepRff, FeatureMap};
use crate::kernel::check_log_param;

/// Blocks: per layer its weight (out × in, [`Role::Weights`]) and bias (1 × out,
/// [`Role::Offsets`]), then W (H × J, weights), b (1 × J, offsets) and ln ℓ (1 × 1,
/// [`Role::Scalar`]) — the map's flat parameter layout, cut at its parts.
impl DeployMap for DeepRff {
    fn param_blocks(&self, out: &mut [BlockSpec; MAX_PARAM_BLOCKS]) -> usize {
        let mlp = self.mlp();
        let w = mlp.widths();
        let l = mlp.n_layers();
        for i in 0..l {
            out[2 * i] = BlockSpec::new(Role::Weights, w[i + 1], w[i]);
            out[2 * i + 1] = BlockSpec::row(Role::Offsets, w[i + 1]);
        }
        out[2 * l] = BlockSpec::new(Role::Weights, self.hidden_dim(), self.n_features());
        out[2 * l + 1] = BlockSpec::row(Role::Offsets, self.n_features());
        out[2 * l + 2] = BlockSpec::row(Role::Scalar, 1);
        2 * l + 3
    }

    /// Two activation vectors and the fixed-point slots, each as wide as the widest layer.
    fn deploy_workspace_len(&self) -> Result<usize> {
        widest(self).checked_mul(3).ok_or(Error::SizeOverflow { what: "deep RFF deploy workspace" })
    }

    fn deploy_features<S: StoredScalar>(
        &self,
        params: &ParamBlocks<'_, S>,
        x: &[S],
        psi: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let blocks = check_blocks(self, params)?;
        let (mlp, j) = (self.mlp(), self.n_features());
        let (widths, layers) = (mlp.widths(), mlp.n_layers());
        check_len("deep RFF input", widths[0], x.len())?;
        check_len("deep RFF features", j, psi.len())?;
        let wide = widest(self);
        check_buf("deep RFF deploy workspace", 3 * wide, ws.len())?;
        let (act, rest) = ws.split_at_mut(wide);
        let (pre, rest) = rest.split_at_mut(wide);
        let slots = &mut rest[..wide];

        // The MLP: pre = weight·input + bias, then act = activation(pre) for hidden layers.
        for l in 0..layers {
            let (fi, fo) = (widths[l], widths[l + 1]);
            let (weight, bias) = (&blocks[2 * l], &blocks[2 * l + 1]);
            let input: &[S] = if l == 0 { x } else { &act[..fi] };
            let op = Operand::for_block(weight, input, slots)?;
            for (o, p) in pre[..fo].iter_mut().enumerate() {
                *p = weight.row_dot(o, &op) + bias.get(o);
            }
            if l + 1 < layers {
                mlp.activation().apply_slice(&pre[..fo], &mut act[..fo]);
            }
        }
        // ψ = √(2/J)·cos(φ·W/ℓ + b), φ = the last layer's output, the argument built in ψ.
        let h = self.hidden_dim();
        let (w, b, ln_ell) = (&blocks[2 * layers], &blocks[2 * layers + 1], &blocks[2 * layers + 2]);
        w.vec_mat(&pre[..h], psi, slots)?;
        let inv_ell = ln_ell.get(0).exp().recip();
        for (k, v) in psi.iter_mut().enumerate() {
            *v = *v * inv_ell + b.get(k);
        }
        S::cos_in_place(psi);
        let scale = (S::from_i64(2) / S::from_i64(j as i64)).sqrt();
        psi.iter_mut().for_each(|v| *v = scale * *v);
        Ok(())
    }

    fn check_deploy_params<S: StoredScalar>(&self, params: &ParamBlocks<'_, S>) -> Result<()> {
        let blocks = check_blocks(self, params)?;
        check_log_param("deep RFF ln lengthscale", blocks[blocks.len() - 1].get(0), 1.0)
    }
}

/// The widest layer of the map's MLP (input and output included).
fn widest(map: &DeepRff) -> usize {
    map.mlp().widths().iter().copied().max().unwrap_or(0)
}

/// `params`' blocks, checked against the shapes the map declares (so the evaluation cannot
/// index outside them, whoever assembled the blocks).
fn check_blocks<'p, 'a, S: StoredScalar>(
    map: &DeepRff,
    params: &'p ParamBlocks<'a, S>,
) -> Result<&'p [Block<'a, S>]> {
    let mut specs = [BlockSpec::row(Role::Scalar, 0); MAX_PARAM_BLOCKS];
    let n = map.param_blocks(&mut specs);
    let blocks = params.blocks();
    check_len("deep RFF parameter blocks", n, blocks.len())?;
    for (b, s) in blocks.iter().zip(&specs[..n]) {
        check_len("deep RFF parameter block rows", s.rows, b.rows())?;
        check_len("deep RFF parameter block columns", s.cols, b.cols())?;
    }
    Ok(blocks)
}
