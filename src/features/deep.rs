//! The deep random-Fourier-feature map ψ(x) = √(2/J)·cos(MLP(x)·W/ℓ + b).

use super::FeatureMap;
use crate::error::{check_buf, check_len, Error, Result};
use crate::linalg::{gemm, MatMut, MatRef, Trans};
use crate::nn::Mlp;
use crate::rng::{standard_normal, uniform};
use crate::Scalar;
use rand_core::Rng;

/// Random Fourier features on a learned warp: ψ(x)_j = √(2/J)·cos((Σ_h φ(x)_h·W\[h\]\[j\]) / ℓ + b_j),
/// φ = MLP(x) ∈ ℝ^H. With the feature kernel k(x, x') = σ²·ψ(x)·ψ(x') this is the flagship's deep kernel.
///
/// Parameter layout (the JAX fixture's `kernel` dict in order, without `log_variance`, which the
/// feature kernel holds in front): `[MLP params | W (H × J, row-major) | b (J) | ln ℓ]`.
/// The argument is formed in the reference's order, φ·W first, then scaled by 1/ℓ, then + b,
/// except that 1/ℓ is one reciprocal and n·J multiplies instead of n·J divisions (the products
/// cannot match JAX bit for bit anyway, their summation order differs; against the JAX fixture
/// the −ELBO at init agrees to 8e-16 relative either way).
///
/// ```
/// use svgp::features::{DeepRff, FeatureMap};
/// use svgp::nn::{Activation, Mlp};
/// use svgp::rng::Xoshiro256;
/// let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh)?, 256)?;
/// let mut params = vec![0.0_f64; map.n_params()];
/// map.init(&mut Xoshiro256::from_u64(0), 0.5, &mut params)?;
/// let x = [0.2, -0.4, 0.9, 0.1]; // two points in 2-D
/// let mut psi = vec![0.0; 2 * 256];
/// let mut ws = vec![0.0; map.workspace_len(2)];
/// map.features(&params, &x, &mut psi, &mut ws)?;
/// let norm2: f64 = psi[..256].iter().map(|v| v * v).sum(); // ≈ 1 = k(x, x)/σ² for large J
/// assert!((norm2 - 1.0).abs() < 0.3);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeepRff {
    mlp: Mlp,
    n_features: usize,
}

impl DeepRff {
    /// J random features on top of `mlp` (its output width is H).
    pub fn new(mlp: Mlp, n_features: usize) -> Result<Self> {
        if n_features == 0 {
            return Err(Error::InvalidParameter { what: "number of random features", value: 0.0 });
        }
        Ok(Self { mlp, n_features })
    }

    /// The warp.
    #[inline]
    pub fn mlp(&self) -> Mlp {
        self.mlp
    }
    /// The warp's output width H.
    #[inline]
    pub fn hidden_dim(&self) -> usize {
        self.mlp.output_dim()
    }
    /// Offset of W in the parameter buffer (the MLP parameters come first).
    #[inline]
    pub fn w_offset(&self) -> usize {
        self.mlp.n_params()
    }
    /// Offset of b in the parameter buffer.
    #[inline]
    pub fn b_offset(&self) -> usize {
        self.w_offset() + self.hidden_dim() * self.n_features
    }
    /// Offset of ln ℓ (the last parameter).
    #[inline]
    pub fn log_lengthscale_offset(&self) -> usize {
        self.b_offset() + self.n_features
    }

    /// Draw initial parameters as the reference does: the MLP as [`Mlp::init`], W ~ N(0, 1),
    /// b ~ U(0, 2π), and ln ℓ = ln `lengthscale` (0.5 in the reference).
    ///
    /// The stream is this crate's generator, not JAX's: load the fixtures to reproduce a JAX run.
    pub fn init<R: Rng + ?Sized, S: Scalar>(
        &self,
        rng: &mut R,
        lengthscale: f64,
        params: &mut [S],
    ) -> Result<()> {
        check_len("deep RFF parameters", self.n_params(), params.len())?;
        if !(lengthscale > 0.0 && lengthscale.is_finite()) {
            return Err(Error::InvalidParameter { what: "feature lengthscale", value: lengthscale });
        }
        let (mlp_p, rest) = params.split_at_mut(self.w_offset());
        self.mlp.init(rng, mlp_p)?;
        let (w, rest) = rest.split_at_mut(self.hidden_dim() * self.n_features);
        w.iter_mut().for_each(|v| *v = S::from_f64(standard_normal(rng)));
        let (b, ll) = rest.split_at_mut(self.n_features);
        b.iter_mut().for_each(|v| *v = S::from_f64(uniform(rng, 0.0, core::f64::consts::TAU)));
        ll[0] = S::from_f64(libm::log(lengthscale));
        Ok(())
    }

    /// Workspace pieces for n inputs: (MLP, φ, z block (then z̄ block), sin z, φ̄, W̄ scratch).
    fn ws_lens(&self, n: usize) -> [usize; 6] {
        let (h, j) = (self.hidden_dim(), self.n_features);
        [self.mlp.workspace_len(n), n * h, n.min(ROW_BLOCK) * j, n * j, n * h, h * j]
    }

    /// Workspace length [`DeepRff::features_inference`] needs for `n` inputs: the MLP's forward
    /// state and φ (n × H) only — no sines, no reverse-sweep scratch.
    pub fn inference_workspace_len(&self, n: usize) -> usize {
        self.mlp.forward_workspace_len(n) + n * self.hidden_dim()
    }

    /// ψ without the state the reverse rule needs (prediction, deployment): cosines only (on a
    /// scalar FPU such as a Cortex-M4F, one polynomial per feature instead of two, for `f32`),
    /// computed in place in `psi`, and a workspace of [`DeepRff::inference_workspace_len`]`(n)`.
    /// Same values as [`FeatureMap::features`] (bit for bit in `f32`; f64 may differ in the
    /// last bit where the sin/cos kernel picks its reduction per block).
    ///
    /// ```
    /// use svgp::features::{DeepRff, FeatureMap};
    /// use svgp::nn::{Activation, Mlp};
    /// use svgp::rng::Xoshiro256;
    /// let map = DeepRff::new(Mlp::equinox(2, 32, 2, 8, Activation::Tanh)?, 256)?;
    /// let mut params = vec![0.0_f32; map.n_params()];
    /// map.init(&mut Xoshiro256::from_u64(0), 0.5, &mut params)?;
    /// let mut psi = [0.0_f32; 256];
    /// // MLP state 2·(32 + 32) and φ 8: 136 floats, against 2,768 with the training state.
    /// assert_eq!((map.inference_workspace_len(1), map.workspace_len(1)), (136, 2768));
    /// let mut ws = vec![0.0_f32; map.inference_workspace_len(1)];
    /// map.features_inference(&params, &[0.3, -0.2], &mut psi, &mut ws)?;
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn features_inference<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        psi: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        check_len("deep RFF parameters", self.n_params(), params.len())?;
        let n = self.rows(x)?;
        let (h, j) = (self.hidden_dim(), self.n_features);
        check_len("deep RFF output", n * j, psi.len())?;
        let mlp_len = self.mlp.forward_workspace_len(n);
        check_buf("deep RFF inference workspace", mlp_len + n * h, ws.len())?;
        let (mlp_ws, rest) = ws.split_at_mut(mlp_len);
        let phi = &mut rest[..n * h];

        let w = MatRef::new(h, j, &params[self.w_offset()..self.b_offset()])?;
        let b = &params[self.b_offset()..self.log_lengthscale_offset()];
        let inv_ell = params[self.log_lengthscale_offset()].exp().recip();
        self.mlp.forward(&params[..self.w_offset()], x, phi, mlp_ws)?;
        let scale = S::from_f64(2.0 / j as f64).sqrt();
        for (phi_b, psi_b) in phi.chunks(ROW_BLOCK * h).zip(psi.chunks_mut(ROW_BLOCK * j)) {
            let rows = phi_b.len() / h;
            gemm(
                S::one(),
                MatRef::new(rows, h, phi_b)?,
                Trans::No,
                w,
                Trans::No,
                S::zero(),
                MatMut::new(rows, j, psi_b)?,
            )?;
            for row in psi_b.chunks_exact_mut(j) {
                for (v, &bj) in row.iter_mut().zip(b) {
                    *v = *v * inv_ell + bj;
                }
            }
            S::cos_in_place(psi_b);
            psi_b.iter_mut().for_each(|v| *v = scale * *v);
        }
        Ok(())
    }

    fn rows(&self, x: &[impl Copy]) -> Result<usize> {
        let d = self.input_dim();
        let n = x.len() / d;
        check_len("deep RFF inputs", n * d, x.len())?;
        Ok(n)
    }
}

/// Rows per block in the feature stage: a block's z (ROW_BLOCK × J) stays in L1/L2 cache
/// between its gemm, the sin/cos kernel and the scaling, instead of streaming n × J through memory.
const ROW_BLOCK: usize = 32;

/// Split `ws` into consecutive pieces of the given lengths.
fn split6<'a, S>(ws: &'a mut [S], lens: &[usize; 6]) -> [&'a mut [S]; 6] {
    let (a, r) = ws.split_at_mut(lens[0]);
    let (b, r) = r.split_at_mut(lens[1]);
    let (c, r) = r.split_at_mut(lens[2]);
    let (d, r) = r.split_at_mut(lens[3]);
    let (e, r) = r.split_at_mut(lens[4]);
    let (f, _) = r.split_at_mut(lens[5]);
    [a, b, c, d, e, f]
}

impl FeatureMap for DeepRff {
    fn input_dim(&self) -> usize {
        self.mlp.input_dim()
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_params(&self) -> usize {
        self.log_lengthscale_offset() + 1
    }
    /// MLP workspace, φ (n × H), one row block of the argument z (min(n, 32) × J, reused for z̄
    /// by the adjoint), sin z (n × J, so the adjoint needs no trigonometry), φ̄ (n × H) and an
    /// H × J scratch.
    fn workspace_len(&self, n: usize) -> usize {
        self.ws_lens(n).iter().sum()
    }

    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()> {
        check_len("deep RFF parameters", self.n_params(), params.len())?;
        let n = self.rows(x)?;
        let (h, j) = (self.hidden_dim(), self.n_features);
        check_len("deep RFF output", n * j, psi.len())?;
        let lens = self.ws_lens(n);
        check_buf("deep RFF workspace", lens.iter().sum(), ws.len())?;
        let [mlp_ws, phi, z, sin_z, _, _] = split6(ws, &lens);

        let w = MatRef::new(h, j, &params[self.w_offset()..self.b_offset()])?;
        let b = &params[self.b_offset()..self.log_lengthscale_offset()];
        let inv_ell = params[self.log_lengthscale_offset()].exp().recip();

        self.mlp.forward(&params[..self.w_offset()], x, phi, mlp_ws)?;
        let scale = S::from_f64(2.0 / j as f64).sqrt();
        let blocks =
            phi.chunks(ROW_BLOCK * h).zip(psi.chunks_mut(ROW_BLOCK * j)).zip(sin_z.chunks_mut(ROW_BLOCK * j));
        for ((phi_b, psi_b), sin_b) in blocks {
            let rows = phi_b.len() / h;
            let z_b = &mut z[..rows * j];
            gemm(
                S::one(),
                MatRef::new(rows, h, phi_b)?,
                Trans::No,
                w,
                Trans::No,
                S::zero(),
                MatMut::new(rows, j, z_b)?,
            )?;
            crate::arch::simd(
                #[inline(always)]
                || {
                    for row in z_b.chunks_exact_mut(j) {
                        for (v, &bj) in row.iter_mut().zip(b) {
                            *v = *v * inv_ell + bj;
                        }
                    }
                },
            );
            S::sin_cos_slice(z_b, sin_b, psi_b);
            crate::arch::simd(
                #[inline(always)]
                || psi_b.iter_mut().for_each(|v| *v = scale * *v),
            );
        }
        Ok(())
    }

    /// With z = u/ℓ + b, u = φ·W: z̄ = −√(2/J)·sin z ⊙ ψ̄, b̄ += colsum z̄, ū = z̄/ℓ,
    /// W̄ += φᵀ·ū, (ln ℓ)‾ += −Σ ū ⊙ u = −Σ_hj W_hj·(φᵀū)_hj (so u need not be stored),
    /// φ̄ = ū·Wᵀ, then the MLP's reverse sweep.
    fn features_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        psi_bar: &[S],
        grad_params: &mut [S],
        grad_x: Option<&mut [S]>,
        ws: &mut [S],
    ) -> Result<()> {
        check_len("deep RFF parameters", self.n_params(), params.len())?;
        check_len("deep RFF parameter gradient", self.n_params(), grad_params.len())?;
        let n = self.rows(x)?;
        let (h, j) = (self.hidden_dim(), self.n_features);
        check_len("deep RFF output adjoint", n * j, psi_bar.len())?;
        if let Some(gx) = grad_x.as_deref() {
            // Checked up front so an error leaves `grad_params` untouched.
            check_len("deep RFF input gradient", x.len(), gx.len())?;
        }
        let lens = self.ws_lens(n);
        check_buf("deep RFF workspace", lens.iter().sum(), ws.len())?;
        if n == 0 {
            return Ok(());
        }
        let [mlp_ws, phi, zbar, sin_z, phi_bar, gw_tmp] = split6(ws, &lens);

        let w_data = &params[self.w_offset()..self.b_offset()];
        let inv_ell = params[self.log_lengthscale_offset()].exp().recip();
        let (g_mlp, g_rest) = grad_params.split_at_mut(self.w_offset());
        let (g_w, g_rest) = g_rest.split_at_mut(h * j);
        let (g_b, g_ll) = g_rest.split_at_mut(j);

        let neg_scale = -S::from_f64(2.0 / j as f64).sqrt();
        let w = MatRef::new(h, j, w_data)?;
        let blocks = psi_bar
            .chunks(ROW_BLOCK * j)
            .zip(sin_z.chunks(ROW_BLOCK * j))
            .zip(phi.chunks(ROW_BLOCK * h))
            .zip(phi_bar.chunks_mut(ROW_BLOCK * h));
        for (k, (((pb_b, sin_b), phi_b), phi_bar_b)) in blocks.enumerate() {
            let rows = phi_b.len() / h;
            let zbar_b = &mut zbar[..rows * j];
            let rows_iter = zbar_b.chunks_exact_mut(j).zip(sin_b.chunks_exact(j)).zip(pb_b.chunks_exact(j));
            crate::arch::simd(
                #[inline(always)]
                || {
                    for ((zb_row, sin_row), pb_row) in rows_iter {
                        let cols = zb_row.iter_mut().zip(sin_row).zip(pb_row).zip(g_b.iter_mut());
                        for (((zb, &sv), &pb), g) in cols {
                            let v = neg_scale * sv * pb;
                            *g += v;
                            *zb = v * inv_ell; // ū = z̄/ℓ
                        }
                    }
                },
            );
            let ubar = MatRef::new(rows, j, zbar_b)?;
            // W̄ accumulates φᵀ·ū over the blocks in `gw_tmp` (overwritten by the first block).
            let beta = if k == 0 { S::zero() } else { S::one() };
            gemm(
                S::one(),
                MatRef::new(rows, h, phi_b)?,
                Trans::Yes,
                ubar,
                Trans::No,
                beta,
                MatMut::new(h, j, gw_tmp)?,
            )?;
            gemm(S::one(), ubar, Trans::No, w, Trans::Yes, S::zero(), MatMut::new(rows, h, phi_bar_b)?)?;
        }
        let mut ll_bar = S::zero();
        for ((g, &t), &wv) in g_w.iter_mut().zip(gw_tmp.iter()).zip(w_data) {
            *g += t;
            ll_bar += wv * t;
        }
        g_ll[0] -= ll_bar;
        self.mlp.backward(&params[..self.w_offset()], x, phi_bar, g_mlp, grad_x, mlp_ws)
    }
}
