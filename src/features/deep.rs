//! The deep random-Fourier-feature map ψ(x) = √(2/J)·cos(MLP(x)·W/ℓ + b).

use super::FeatureMap;
use crate::error::{check_finite, check_len, Error, Result};
use crate::kernel::{check_log_param, log_of_positive};
use crate::layout::{Size, SliceRef};
use crate::linalg::{gemm, rows_of, MatMut, MatRef, Trans};
use crate::nn::Mlp;
use crate::rng::{standard_normal, uniform};
use crate::Scalar;
use core::ops::{Deref, DerefMut};
use rand_core::Rng;

/// Random Fourier features on a learned warp: ψ(x)_j = √(2/J)·cos((Σ_h φ(x)_h·W\[h\]\[j\]) / ℓ + b_j),
/// φ = MLP(x) ∈ ℝ^H. With the feature kernel k(x, x') = σ²·ψ(x)·ψ(x') this is the flagship's deep kernel.
///
/// Parameter layout (the JAX fixture's `kernel` dict in order, without `log_variance`, which the
/// feature kernel holds in front): `[MLP params | W (H × J, row-major) | b (J) | ln ℓ]`, named
/// by [`DeepRffParams`].
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
/// let mut ws = vec![0.0; map.workspace_len(2)?];
/// map.features(&params, &x, &mut psi, &mut ws)?;
/// let norm2: f64 = psi[..256].iter().map(|v| v * v).sum(); // ≈ 1 = k(x, x)/σ² for large J
/// assert!((norm2 - 1.0).abs() < 0.3);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeepRff {
    mlp: Mlp,
    n_features: usize,
    lens: DeepRffParams<usize>,
}

crate::parts! {
    /// The parameters of [`DeepRff`] by name: `[MLP parameters | W (H × J, row-major) | b (J) |
    /// ln ℓ]`. What [`FeatureMap::view`] returns for it, over `&[S]` or `&mut [S]`.
    ///
    /// ```
    /// use svgp::features::{DeepRff, FeatureMap};
    /// use svgp::nn::{Activation, Mlp};
    /// use svgp::rng::Xoshiro256;
    /// let map = DeepRff::new(Mlp::equinox(2, 8, 1, 4, Activation::Tanh)?, 16)?;
    /// let mut raw = vec![0.0_f64; map.n_params()];
    /// map.init(&mut Xoshiro256::from_u64(0), 0.5, &mut raw)?;
    /// let p = map.view(&raw[..])?;
    /// assert_eq!((p.mlp.len(), p.w.len(), p.b.len()), (map.mlp().n_params(), 4 * 16, 16));
    /// assert!((p.lengthscale() - 0.5).abs() < 1e-15);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    "deep RFF parameters": pub struct DeepRffParams {
        /// The warp's parameters (the [`Mlp`] layout).
        mlp,
        /// The random-feature frequencies W (H × J, row-major).
        w,
        /// The phases b (J).
        b,
        /// ln ℓ (one value).
        ln_lengthscale,
    }
}

impl<S: Scalar, C: Deref<Target = [S]>> DeepRffParams<C> {
    /// The feature lengthscale ℓ.
    pub fn lengthscale(&self) -> S {
        self.ln_lengthscale[0].exp()
    }
    /// [`Error::InvalidParameter`] unless 1/ℓ is finite and positive.
    pub fn check(&self) -> Result<()> {
        check_log_param("deep RFF ln lengthscale", self.ln_lengthscale[0], 1.0)
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> DeepRffParams<C> {
    /// Sets ℓ (finite, > 0).
    pub fn set_lengthscale(&mut self, lengthscale: f64) -> Result<()> {
        self.ln_lengthscale[0] = S::from_f64(log_of_positive("feature lengthscale", lengthscale)?);
        Ok(())
    }
}

crate::parts! {
    /// The workspace of the feature pipeline for n inputs: the MLP's (forward state, and its
    /// reverse sweep's scratch when training), φ (n × H), one row block of the argument z
    /// (min(n, 32) × J, reused for z̄ by the adjoint), sin z (n × J, so the adjoint needs no
    /// trigonometry), φ̄ (n × H) and an H × J scratch. Inference keeps only the first two.
    "deep RFF workspace": struct DeepWs { mlp, phi, z, sin_z, phi_bar, w_bar }
}

/// The two passes of the one feature pipeline.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// Keep what the reverse rule needs (sin z, the MLP's state and scratch).
    Train,
    /// Cosines only, computed in place in ψ, and the MLP's forward state.
    Inference,
}

impl DeepRff {
    /// J random features on top of `mlp` (its output width is H).
    pub fn new(mlp: Mlp, n_features: usize) -> Result<Self> {
        if n_features == 0 {
            return Err(Error::InvalidParameter { what: "number of random features", value: 0.0 });
        }
        let j = Size::of(n_features);
        let lens = DeepRffParams {
            mlp: Size::of(mlp.n_params()),
            w: j * mlp.output_dim(),
            b: j,
            ln_lengthscale: Size::of(1),
        }
        .resolve()?;
        Ok(Self { mlp, n_features, lens })
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
        let p = self.view(params)?;
        let ln_l = log_of_positive("feature lengthscale", lengthscale)?;
        self.mlp.init(rng, p.mlp)?;
        p.w.iter_mut().for_each(|v| *v = S::from_f64(standard_normal(rng)));
        p.b.iter_mut().for_each(|v| *v = S::from_f64(uniform(rng, 0.0, core::f64::consts::TAU)));
        p.ln_lengthscale[0] = S::from_f64(ln_l);
        Ok(())
    }

    /// The pipeline's workspace for `n` inputs.
    fn ws_parts(&self, n: usize, pass: Pass) -> Result<DeepWs<usize>> {
        let (h, j) = (self.hidden_dim(), self.n_features);
        let nh = Size::of(n) * h;
        match pass {
            Pass::Train => DeepWs {
                mlp: Size::from_result(self.mlp.workspace_len(n)),
                phi: nh,
                z: Size::of(n.min(ROW_BLOCK)) * j,
                sin_z: Size::of(n) * j,
                phi_bar: nh,
                w_bar: Size::of(h) * j,
            },
            Pass::Inference => DeepWs {
                mlp: Size::from_result(self.mlp.forward_workspace_len(n)),
                phi: nh,
                z: Size::of(0),
                sin_z: Size::of(0),
                phi_bar: Size::of(0),
                w_bar: Size::of(0),
            },
        }
        .resolve()
    }

    /// Workspace length [`DeepRff::features_inference`] needs for `n` inputs: the MLP's forward
    /// state and φ (n × H) only — no sines, no reverse-sweep scratch.
    pub fn inference_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.ws_parts(n, Pass::Inference)?.total())
    }

    /// ψ without the state the reverse rule needs (prediction, deployment): the inference pass
    /// of the same pipeline as [`FeatureMap::features`], with cosines only (on a scalar FPU such
    /// as a Cortex-M4F, one polynomial per feature instead of two, for `f32`), computed in place
    /// in `psi`, and a workspace of [`DeepRff::inference_workspace_len`]`(n)`.
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
    /// assert_eq!((map.inference_workspace_len(1)?, map.workspace_len(1)?), (136, 2768));
    /// let mut ws = vec![0.0_f32; map.inference_workspace_len(1)?];
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
        self.pipeline(params, x, psi, ws, Pass::Inference)
    }

    /// The feature pipeline ψ = √(2/J)·cos(MLP(x)·W/ℓ + b), in row blocks; the training pass
    /// also keeps sin z (and the MLP's state) for the reverse rule.
    fn pipeline<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        psi: &mut [S],
        ws: &mut [S],
        pass: Pass,
    ) -> Result<()> {
        let p = self.view(params)?;
        let n = rows_of(x, self.input_dim(), "deep RFF inputs")?;
        let (h, j) = (self.hidden_dim(), self.n_features);
        check_len("deep RFF output", (Size::of(n) * j).get("deep RFF output")?, psi.len())?;
        let DeepWs { mlp: mlp_ws, phi, z, sin_z, .. } = self.ws_parts(n, pass)?.carve(ws)?;

        let (w, b) = (MatRef::new(h, j, p.w)?, p.b);
        let inv_ell = p.ln_lengthscale[0].exp().recip();
        self.mlp.forward(p.mlp, x, phi, mlp_ws)?;
        let scale = S::from_f64(2.0 / j as f64).sqrt();
        for (k, (phi_b, psi_b)) in phi.chunks(ROW_BLOCK * h).zip(psi.chunks_mut(ROW_BLOCK * j)).enumerate() {
            let rows = phi_b.len() / h;
            // The argument z = φ·W/ℓ + b: in the z block for training (ψ = cos z and sin z come
            // from one sin/cos pass), in ψ itself for inference (cosines in place).
            match pass {
                Pass::Train => {
                    let z_b = &mut z[..rows * j];
                    argument(MatRef::new(rows, h, phi_b)?, w, b, inv_ell, z_b)?;
                    S::sin_cos_slice(z_b, &mut sin_z[k * ROW_BLOCK * j..][..rows * j], psi_b);
                }
                Pass::Inference => {
                    argument(MatRef::new(rows, h, phi_b)?, w, b, inv_ell, psi_b)?;
                    S::cos_in_place(psi_b);
                }
            }
            crate::arch::simd(
                #[inline(always)]
                || psi_b.iter_mut().for_each(|v| *v = scale * *v),
            );
        }
        Ok(())
    }
}

/// The feature argument of one row block into `z` (rows × J): z = φ·W, then z·(1/ℓ) + b.
#[inline]
fn argument<S: Scalar>(phi: MatRef<'_, S>, w: MatRef<'_, S>, b: &[S], inv_ell: S, z: &mut [S]) -> Result<()> {
    let j = w.cols();
    gemm(S::one(), phi, Trans::No, w, Trans::No, S::zero(), MatMut::new(phi.rows(), j, &mut *z)?)?;
    crate::arch::simd(
        #[inline(always)]
        || {
            for row in z.chunks_exact_mut(j) {
                for (v, &bj) in row.iter_mut().zip(b) {
                    *v = *v * inv_ell + bj;
                }
            }
        },
    );
    Ok(())
}

/// Rows per block in the feature stage: a block's z (ROW_BLOCK × J) stays in L1/L2 cache
/// between its gemm, the sin/cos kernel and the scaling, instead of streaming n × J through memory.
const ROW_BLOCK: usize = 32;

impl FeatureMap for DeepRff {
    type Params<C> = DeepRffParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<DeepRffParams<C>> {
        self.lens.carve_exact(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        check_finite("deep RFF parameters", params)?;
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.mlp.input_dim()
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_params(&self) -> usize {
        self.lens.total()
    }
    /// The training pass's workspace: MLP workspace, φ (n × H), one row block of the argument z
    /// (min(n, 32) × J, reused for z̄ by the adjoint), sin z (n × J, so the adjoint needs no
    /// trigonometry), φ̄ (n × H) and an H × J scratch.
    fn workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.ws_parts(n, Pass::Train)?.total())
    }

    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()> {
        self.pipeline(params, x, psi, ws, Pass::Train)
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
        let p = self.view(params)?;
        let g = self.view(grad_params)?;
        let n = rows_of(x, self.input_dim(), "deep RFF inputs")?;
        let (h, j) = (self.hidden_dim(), self.n_features);
        check_len(
            "deep RFF output adjoint",
            (Size::of(n) * j).get("deep RFF output adjoint")?,
            psi_bar.len(),
        )?;
        if let Some(gx) = grad_x.as_deref() {
            // Checked up front so an error leaves `grad_params` untouched.
            check_len("deep RFF input gradient", x.len(), gx.len())?;
        }
        let DeepWs { mlp: mlp_ws, phi, z: zbar, sin_z, phi_bar, w_bar: gw_tmp } =
            self.ws_parts(n, Pass::Train)?.carve(ws)?;
        if n == 0 {
            return Ok(());
        }

        let w_data = p.w;
        let inv_ell = p.ln_lengthscale[0].exp().recip();
        let DeepRffParams { mlp: g_mlp, w: g_w, b: g_b, ln_lengthscale: g_ll } = g;

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
        self.mlp.backward(p.mlp, x, phi_bar, g_mlp, grad_x, mlp_ws)
    }
}
