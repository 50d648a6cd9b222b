//! A dense multilayer perceptron over a flat parameter buffer, batched as gemm, with its reverse sweep.

use super::Activation;
use crate::error::{check_len, Error, Result};
use crate::layout::Size;
use crate::linalg::{gemm, rows_of, MatMut, MatRef, Trans};
use crate::rng::uniform;
use crate::Scalar;
use rand_core::Rng;

crate::parts! {
    /// An MLP's workspace: the hidden pre- and post-activations kept for the reverse sweep,
    /// then the sweep's two n × max-width scratch blocks (empty for a forward pass alone).
    "MLP workspace": struct MlpWs { state, cur, next }
}

/// Most layers an [`Mlp`] can have (so the shape stays plain `Copy` data, no allocation).
pub const MAX_LAYERS: usize = 8;

/// The shape of a dense MLP: layer widths and one hidden activation.
///
/// Layer `l` maps `widths[l]` inputs to `widths[l + 1]` outputs as
/// `h_out = weight·h_in + bias` (equinox's `eqx.nn.Linear` orientation, weight is out × in),
/// with the activation after every layer but the last (equinox's default: a linear output).
///
/// Parameters live in one flat buffer, layer by layer: the weight (out × in, row-major), then
/// the bias (out). That is the order of the `kernel.mlp` list in the JAX fixtures, so loading
/// them is a flat copy.
///
/// ```
/// use svgp::nn::{Activation, Mlp};
/// use svgp::rng::Xoshiro256;
/// // eqx.nn.MLP(in_size=2, out_size=8, width_size=32, depth=2, activation=tanh)
/// let mlp = Mlp::equinox(2, 32, 2, 8, Activation::Tanh)?;
/// assert_eq!(mlp.n_params(), (2 * 32 + 32) + (32 * 32 + 32) + (32 * 8 + 8));
/// let mut params = vec![0.0_f64; mlp.n_params()];
/// mlp.init(&mut Xoshiro256::from_u64(0), &mut params)?;
/// let x = [0.1, -0.3, 0.5, 0.7]; // two inputs, row-major
/// let mut out = [0.0; 2 * 8];
/// let mut ws = vec![0.0; mlp.workspace_len(2)?];
/// mlp.forward(&params, &x, &mut out, &mut ws)?;
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mlp {
    widths: [usize; MAX_LAYERS + 1],
    n_layers: usize,
    activation: Activation,
}

impl Mlp {
    /// An MLP with the given widths `[in, hidden…, out]` (2 to `MAX_LAYERS + 1` entries, all ≥ 1).
    pub fn new(widths: &[usize], activation: Activation) -> Result<Self> {
        if widths.len() < 2 || widths.len() > MAX_LAYERS + 1 {
            return Err(Error::InvalidParameter { what: "MLP number of widths", value: widths.len() as f64 });
        }
        if widths.contains(&0) {
            return Err(Error::InvalidParameter { what: "MLP layer width", value: 0.0 });
        }
        let mut w = [0; MAX_LAYERS + 1];
        w[..widths.len()].copy_from_slice(widths);
        let mlp = Self { widths: w, n_layers: widths.len() - 1, activation };
        // Every later size product (layer lengths, their sum, the hidden widths' sum) is checked once here.
        let layers = (0..mlp.n_layers).map(|l| (Size::of(mlp.widths[l]) + 1) * mlp.widths[l + 1]);
        layers.fold(Size::of(0), |a, b| a + b).get("MLP parameter count")?;
        mlp.hidden_sum().get("MLP hidden widths")?;
        Ok(mlp)
    }

    /// The shape `eqx.nn.MLP(in_size, out_size, width_size, depth, activation)` builds:
    /// `depth` hidden layers of `width`, so `depth + 1` linear layers.
    pub fn equinox(
        in_dim: usize,
        width: usize,
        depth: usize,
        out_dim: usize,
        activation: Activation,
    ) -> Result<Self> {
        if depth >= MAX_LAYERS {
            return Err(Error::InvalidParameter { what: "MLP depth", value: depth as f64 });
        }
        let mut w = [width; MAX_LAYERS + 1];
        w[0] = in_dim;
        w[depth + 1] = out_dim;
        Self::new(&w[..depth + 2], activation)
    }

    /// Input width.
    #[inline]
    pub fn input_dim(&self) -> usize {
        self.widths[0]
    }
    /// Output width.
    #[inline]
    pub fn output_dim(&self) -> usize {
        self.widths[self.n_layers]
    }
    /// Number of linear layers.
    #[inline]
    pub fn n_layers(&self) -> usize {
        self.n_layers
    }
    /// The widths `[in, hidden…, out]`.
    #[inline]
    pub fn widths(&self) -> &[usize] {
        &self.widths[..=self.n_layers]
    }
    /// The hidden activation.
    #[inline]
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// Number of parameters: Σ_l (in_l·out_l + out_l).
    pub fn n_params(&self) -> usize {
        (0..self.n_layers).map(|l| self.layer_len(l)).sum()
    }

    #[inline]
    fn layer_len(&self, l: usize) -> usize {
        (self.widths[l] + 1) * self.widths[l + 1]
    }

    /// The widest hidden layer (0 without hidden layers).
    fn max_hidden(&self) -> usize {
        self.widths[1..self.n_layers].iter().copied().max().unwrap_or(0)
    }

    /// Σ of the hidden widths.
    fn hidden_sum(&self) -> Size {
        self.widths[1..self.n_layers].iter().fold(Size::of(0), |a, &w| a + w)
    }

    /// The workspace's parts for `n` inputs; the reverse sweep's scratch only `with_backward`.
    fn ws_parts(&self, n: usize, with_backward: bool) -> Result<MlpWs<usize>> {
        let scratch = if with_backward { Size::of(n) * self.max_hidden() } else { Size::of(0) };
        MlpWs { state: self.hidden_sum() * n * 2, cur: scratch, next: scratch }.resolve()
    }

    /// Workspace length for a batch of `n` inputs, for [`Mlp::forward`] followed by
    /// [`Mlp::backward`]: pre- and post-activations of every hidden layer (kept for the reverse
    /// sweep) plus two n × max-width scratch blocks for it.
    pub fn workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.ws_parts(n, true)?.total())
    }

    /// Workspace length [`Mlp::forward`] alone needs (inference): the hidden pre- and
    /// post-activations, without the reverse sweep's scratch.
    pub fn forward_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.ws_parts(n, false)?.total())
    }

    /// Draw initial parameters as `eqx.nn.Linear` does: every weight and bias uniform in
    /// ±1/√fan_in, layer by layer (weights row-major, then biases).
    ///
    /// The distribution is equinox's; the stream is this crate's generator, not JAX's threefry,
    /// so the draws differ from JAX's (load the fixtures' values to reproduce a JAX run).
    pub fn init<R: Rng + ?Sized, S: Scalar>(&self, rng: &mut R, params: &mut [S]) -> Result<()> {
        check_len("MLP parameters", self.n_params(), params.len())?;
        let mut off = 0;
        for l in 0..self.n_layers {
            let lim = 1.0 / libm::sqrt(self.widths[l] as f64);
            let len = self.layer_len(l);
            for p in &mut params[off..off + len] {
                *p = S::from_f64(uniform(rng, -lim, lim));
            }
            off += len;
        }
        Ok(())
    }

    /// Rows of a row-major `n × width` batch, checking the length is a whole number of rows.
    fn batch_rows<S>(&self, x: &[S]) -> Result<usize> {
        rows_of(x, self.input_dim(), "MLP input batch")
    }

    /// Forward pass over `n` row-major inputs `x` (n × in) into `out` (n × out).
    ///
    /// Each layer is one gemm, `H_out = H_in·Wᵀ` followed by `+ bias` (the bias is added after
    /// the product, as `weight @ h + bias` does). Hidden pre- and post-activations are kept in
    /// `ws` for [`Mlp::backward`]: at least [`Mlp::forward_workspace_len`]`(n)` long, or
    /// [`Mlp::workspace_len`]`(n)` when the reverse sweep follows on the same `ws`.
    pub fn forward<S: Scalar>(&self, params: &[S], x: &[S], out: &mut [S], ws: &mut [S]) -> Result<()> {
        check_len("MLP parameters", self.n_params(), params.len())?;
        let n = self.batch_rows(x)?;
        check_len("MLP output", (Size::of(n) * self.output_dim()).get("MLP output")?, out.len())?;
        let MlpWs { state: ws, .. } = self.ws_parts(n, false)?.carve(ws)?;
        let mut poff = 0;
        let mut woff = 0;
        for l in 0..self.n_layers {
            let (fi, fo) = (self.widths[l], self.widths[l + 1]);
            let w = MatRef::new(fo, fi, &params[poff..poff + fi * fo])?;
            let bias = &params[poff + fi * fo..poff + (fi + 1) * fo];
            poff += (fi + 1) * fo;
            // Layer input: x, or the previous hidden post-activation (just before `woff`).
            let (done, rest) = ws.split_at_mut(woff);
            let h_in: &[S] = if l == 0 { x } else { &done[woff - n * fi..] };
            let last = l + 1 == self.n_layers;
            let z: &mut [S] = if last { &mut *out } else { &mut rest[..n * fo] };
            gemm(
                S::one(),
                MatRef::new(n, fi, h_in)?,
                Trans::No,
                w,
                Trans::Yes,
                S::zero(),
                MatMut::new(n, fo, z)?,
            )?;
            for row in z.chunks_exact_mut(fo) {
                for (v, &b) in row.iter_mut().zip(bias) {
                    *v += b;
                }
            }
            if !last {
                let (a, h) = rest[..2 * n * fo].split_at_mut(n * fo);
                self.activation.apply_slice(a, h);
                woff += 2 * n * fo;
            }
        }
        Ok(())
    }

    /// Reverse sweep: given `out_bar` = ∂L/∂out (n × out) and the `ws` left by
    /// [`Mlp::forward`] on the same `params` and `x`, *add* ∂L/∂params into `grad_params` and,
    /// when given, ∂L/∂x into `grad_x` (n × in).
    ///
    /// Per layer: W̄ += Āᵀ·H_in, b̄ += colsum Ā, H̄_in = Ā·W, then Ā_prev = H̄_in ⊙ act'(A_prev).
    /// Only the scratch part of `ws` is written, so the stored forward state stays valid.
    pub fn backward<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        out_bar: &[S],
        grad_params: &mut [S],
        mut grad_x: Option<&mut [S]>,
        ws: &mut [S],
    ) -> Result<()> {
        check_len("MLP parameters", self.n_params(), params.len())?;
        check_len("MLP parameter gradient", self.n_params(), grad_params.len())?;
        let n = self.batch_rows(x)?;
        let out_len = (Size::of(n) * self.output_dim()).get("MLP output adjoint")?;
        check_len("MLP output adjoint", out_len, out_bar.len())?;
        if let Some(gx) = grad_x.as_deref() {
            check_len("MLP input gradient", x.len(), gx.len())?;
        }
        let MlpWs { state, mut cur, mut next } = self.ws_parts(n, true)?.carve(ws)?;
        let hidden_len = state.len();

        let mut poff = self.n_params();
        let mut soff = hidden_len; // end of layer l's (a, h) pair in `state`
        for l in (0..self.n_layers).rev() {
            let (fi, fo) = (self.widths[l], self.widths[l + 1]);
            poff -= (fi + 1) * fo;
            let w = MatRef::new(fo, fi, &params[poff..poff + fi * fo])?;
            // Ā of this layer: the output adjoint for the last layer, else the scratch block.
            let abar: &[S] = if l + 1 == self.n_layers { out_bar } else { &cur[..n * fo] };
            let abar_m = MatRef::new(n, fo, abar)?;
            if l + 1 != self.n_layers {
                soff -= 2 * n * fo;
            }
            let h_in: &[S] = if l == 0 { x } else { &state[soff - n * fi..soff] };
            let (gw, gb) = grad_params[poff..poff + (fi + 1) * fo].split_at_mut(fi * fo);
            gemm(
                S::one(),
                abar_m,
                Trans::Yes,
                MatRef::new(n, fi, h_in)?,
                Trans::No,
                S::one(),
                MatMut::new(fo, fi, gw)?,
            )?;
            for row in abar.chunks_exact(fo) {
                for (g, &v) in gb.iter_mut().zip(row) {
                    *g += v;
                }
            }
            if l == 0 {
                if let Some(gx) = grad_x.as_deref_mut() {
                    gemm(S::one(), abar_m, Trans::No, w, Trans::No, S::one(), MatMut::new(n, fi, gx)?)?;
                }
            } else {
                // H̄_in = Ā·W, then through the previous layer's activation.
                let hbar = &mut next[..n * fi];
                gemm(S::one(), abar_m, Trans::No, w, Trans::No, S::zero(), MatMut::new(n, fi, hbar)?)?;
                let (a_prev, h_prev) = state[soff - 2 * n * fi..soff].split_at(n * fi);
                self.activation.backprop_slice(a_prev, h_prev, hbar);
                core::mem::swap(&mut cur, &mut next);
            }
        }
        Ok(())
    }
}
