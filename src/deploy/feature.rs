//! The compact posterior of a feature-kernel SVGP, k(x, x') = σ²·ψ(x)·ψ(x').
//!
//! From the whitened SVGP (K_zz + jitter·I = L_z L_zᵀ, A = L_z⁻¹ K_zx, q(v) = N(m, L Lᵀ)):
//! with Ψ_z the features of the inducing inputs, K_zx = σ² Ψ_z ψ(x), so A = B_s ψ(x) with
//! B_s = σ² L_z⁻¹ Ψ_z (M × J), and
//!
//! - mean(x) = Aᵀm = ψ(x)·w with w = B_sᵀ m (one J-vector);
//! - var(x) = k(x, x) − |A|² + |LᵀA|² = σ²|ψ(x)|² + ψ(x)ᵀ G ψ(x), G = B_sᵀ(L Lᵀ − I)B_s.
//!
//! G (J × J) has rank at most M. The build writes it as a sum of squares, G = Σ_k λ_k c_k c_kᵀ
//! with orthonormal rows c_k (an eigen-decomposition, computed in `f64` through two M × M
//! symmetric ones), so
//!
//! - var(x) = σ²|ψ(x)|² + Σ_k λ_k (c_k·ψ(x))², clipped at 0,
//!
//! one dot product of length J per row and nothing else: M·J multiply-adds instead of the
//! M·J + M² of u = B_sψ, uᵀQu. The rows are sorted by |λ_k|, so a writer may drop the tail
//! ([`Plan::rank_tolerance`](super::Plan::rank_tolerance)) with a stated bound: since
//! |c_k·ψ|² ≤ |ψ|², dropping rows changes the variance by at most Σ_dropped |λ_k|·|ψ(x)|²,
//! that is by Σ_dropped |λ_k|/σ² relative to the prior variance σ²|ψ(x)|².
//!
//! The storage, a sequence of [blocks](super::Block) in this order (each one of the blob's
//! encodings, or native): σ² (1), the likelihood's parameters, w (J), λ (rank), the rows c_k
//! (rank × J), the map's parameter blocks.

use super::block::{Block, BlockSpec, Operand, ParamBlocks, Role, MAX_PARAM_BLOCKS};
use super::likelihood::Likelihood;
use super::map::DeployMap;
use super::prediction::Prediction;
use super::shape::StoredScalar;
use crate::error::{check_buf, check_finite, check_len, Error, Result};
use crate::features::FeatureMap;
use crate::gp::{FeaturePriorParts, Features, Svgp, SvgpParts};
use crate::layout::Size;
use crate::linalg::{
    cholesky_in_place, gemm, solve_triangular, sym_eigen, Jitter, MatMut, MatRef, PackedLower, Side, Trans,
};

/// Blocks of a feature posterior before the map's: σ², likelihood, w, λ, rows.
pub(crate) const POSTERIOR_BLOCKS: usize = 5;
/// Most blocks a feature posterior has.
pub(crate) const MAX_FEATURE_BLOCKS: usize = POSTERIOR_BLOCKS + MAX_PARAM_BLOCKS;

/// A trained feature-kernel SVGP and its `f64` parameters, which the compact posterior is
/// built from: the parameters are read through the model's own layout ([`SvgpParts`]), so
/// nothing here re-derives it.
#[derive(Clone, Copy, Debug)]
pub struct FeatureModel<'a, F> {
    /// The trained model's shape: the feature map, M and the jitter added to K_zz's diagonal.
    pub svgp: Svgp<Features<F>>,
    /// Its flat parameters ([`Svgp::n_params`] values).
    pub params: &'a [f64],
}

impl<'a, F: FeatureMap> FeatureModel<'a, F> {
    /// A model from the pieces of a training run: the map, M, the jitter, and the flat
    /// parameters `[ln σ² | map params | Z (M × D) | m (M) | L packed (M(M+1)/2) | ln σ_n²]`
    /// (the layout of [`Svgp`] with a [`Features`] prior).
    ///
    /// ```
    /// use svgp::deploy::FeatureModel;
    /// use svgp::features::{DeepRff, FeatureMap};
    /// use svgp::nn::{Activation, Mlp};
    /// let map = DeepRff::new(Mlp::equinox(2, 4, 1, 2, Activation::Tanh)?, 8)?;
    /// let (m, d) = (3, 2);
    /// let params = vec![0.5; 1 + map.n_params() + m * d + m + m * (m + 1) / 2 + 1];
    /// let model = FeatureModel::from_flat(map, m, 1e-4, &params)?;
    /// let p = model.svgp.params(model.params)?;
    /// assert_eq!((p.z.len(), p.scale_tril.as_slice().len()), (6, 6));
    /// assert!(FeatureModel::from_flat(map, m, 1e-4, &params[1..]).is_err());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn from_flat(map: F, m: usize, jitter: f64, params: &'a [f64]) -> Result<Self> {
        Self::from_svgp(&Svgp::new(Features(map), m, jitter)?, params)
    }

    /// The pieces of a trained [`Svgp`] with a feature prior and its flat parameters.
    ///
    /// ```
    /// use svgp::deploy::FeatureModel;
    /// use svgp::features::{DeepRff, FeatureMap};
    /// use svgp::gp::{Features, Svgp};
    /// use svgp::nn::{Activation, Mlp};
    /// let map = DeepRff::new(Mlp::equinox(2, 8, 1, 2, Activation::Tanh)?, 16)?;
    /// let svgp = Svgp::new(Features(map), 4, 1e-4)?;
    /// let params = vec![0.1; svgp.n_params()];
    /// let model = FeatureModel::from_svgp(&svgp, &params)?;
    /// assert_eq!(model.n_inducing(), 4);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn from_svgp(svgp: &Svgp<Features<F>>, params: &'a [f64]) -> Result<Self> {
        svgp.parts(params)?;
        Ok(Self { svgp: *svgp, params })
    }

    /// The feature map.
    pub fn map(&self) -> &F {
        &self.svgp.prior().0
    }

    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.svgp.n_inducing()
    }

    /// The parts of [`FeaturePosterior::build`]'s `f64` workspace.
    fn build_ws(&self) -> Result<BuildWs<usize>> {
        let (m, j) = (self.n_inducing(), self.map().n_features());
        let (mj, mm) = (Size::of(m) * j, Size::of(m) * m);
        let map = Size::from_result(self.map().workspace_len(m));
        BuildWs { b: mj, y: mj, kzz: mm, q: mm, u: mm, t: mm, d: Size::of(m), w: Size::of(j), map }.resolve()
    }

    /// `f64` workspace length [`FeaturePosterior::build`] needs.
    pub fn build_workspace_len(&self) -> Result<usize> {
        Ok(self.build_ws()?.total())
    }
}

crate::parts! {
    /// [`FeaturePosterior::build`]'s workspace: Ψ_z then B_s (M × J), the orthonormal rows Y
    /// (M × J), K_zz then L_z then L (M × M), Q (M × M), two M × M eigenvector blocks, the
    /// eigenvalues (M), w (J), and the map's workspace for the M inducing inputs.
    "feature posterior build workspace": struct BuildWs { b, y, kzz, q, u, t, d, w, map }
}

crate::parts! {
    /// A feature posterior's prediction workspace: ψ (J), its fixed-point copy for the
    /// integer-encoded blocks (J), the map's deployment workspace.
    "feature posterior predict workspace": struct PredictWs { psi, slots, map }
}

/// The block shapes and roles of a feature posterior's storage, in order.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FeatureSpecs {
    pub(crate) specs: [BlockSpec; MAX_FEATURE_BLOCKS],
    pub(crate) n: usize,
}

impl FeatureSpecs {
    pub(crate) fn of<F: DeployMap>(map: &F, rank: usize, likelihood: Likelihood) -> Self {
        let j = map.n_features();
        let mut specs = [BlockSpec::row(Role::Scalar, 0); MAX_FEATURE_BLOCKS];
        specs[0] = BlockSpec::row(Role::Scalar, 1);
        specs[1] = BlockSpec::row(Role::Scalar, likelihood.n_params());
        specs[2] = BlockSpec::row(Role::Mean, j);
        specs[3] = BlockSpec::row(Role::Scalar, rank);
        specs[4] = BlockSpec::new(Role::Variance, rank, j);
        let mut map_specs = [BlockSpec::row(Role::Scalar, 0); MAX_PARAM_BLOCKS];
        let k = map.param_blocks(&mut map_specs);
        specs[POSTERIOR_BLOCKS..POSTERIOR_BLOCKS + k].copy_from_slice(&map_specs[..k]);
        Self { specs, n: POSTERIOR_BLOCKS + k }
    }
    pub(crate) fn list(&self) -> &[BlockSpec] {
        &self.specs[..self.n]
    }
    /// Total values, `None` on overflow.
    pub(crate) fn total(&self) -> Option<usize> {
        self.list().iter().try_fold(0usize, |a, s| s.rows.checked_mul(s.cols).and_then(|n| a.checked_add(n)))
    }
}

/// A prediction-only feature-kernel posterior over borrowed storage: native (`f32`/`f64`
/// slices) or the encoded blocks of a blob, read in place. No allocation.
///
/// Build it on the host with [`FeaturePosterior::build`] (from an `f64` model, into storage of
/// the target type), ship it with [`write_feature`](super::write_feature) under a
/// [`Plan`](super::Plan), and predict with [`FeaturePosterior::predict`] (the
/// [module docs](super) show the whole round trip).
///
/// ```
/// use svgp::deploy::{FeatureModel, FeaturePosterior};
/// use svgp::features::{DeepRff, FeatureMap};
/// use svgp::gp::{Features, Svgp};
/// use svgp::nn::{Activation, Mlp};
/// // All map parameters 0: ψ_j(x) = √(2/J)·cos 0, so k(x, x) = σ²·|ψ|² = 2 for σ² = 1.
/// let map = DeepRff::new(Mlp::equinox(1, 4, 1, 1, Activation::Tanh)?, 8)?;
/// let svgp = Svgp::new(Features(map), 1, 1e-6)?;
/// let mut flat = vec![0.0; svgp.n_params()];
/// let mut p = svgp.params_mut(&mut flat)?;
/// p.scale_tril.set_identity(); // L = I
/// p.likelihood.set_noise_variance(0.02)?;
/// let model = FeatureModel::from_svgp(&svgp, &flat)?;
/// let mut storage = vec![0.0_f32; FeaturePosterior::<f32, DeepRff>::storage_len(&map, 1)?];
/// let post = FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len()?])?;
/// let p = post.predict(&[0.5_f32], &mut vec![0.0; post.workspace_len()?])?;
/// // q(v) = N(0, I) is the prior, so the posterior is the prior: mean 0, variance k(x, x).
/// assert_eq!(p.mean, 0.0);
/// assert!((p.variance - 2.0).abs() < 1e-5);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FeaturePosterior<'a, S, F> {
    map: F,
    m: usize,
    likelihood: Likelihood,
    /// σ², decoded once.
    variance: S,
    variance_block: Block<'a, S>,
    lik_params: Block<'a, S>,
    w: Block<'a, S>,
    lambda: Block<'a, S>,
    rows: Block<'a, S>,
    params: ParamBlocks<'a, S>,
}

impl<'a, S: StoredScalar, F: DeployMap> FeaturePosterior<'a, S, F> {
    /// Native storage length for a map and M inducing points (a Gaussian likelihood, every
    /// variance row kept: what [`Self::build`] writes).
    pub fn storage_len(map: &F, m: usize) -> Result<usize> {
        FeatureSpecs::of(map, m, Likelihood::Gaussian)
            .total()
            .ok_or(Error::SizeOverflow { what: "feature posterior storage" })
    }

    /// Views native `storage` (exactly [`Self::storage_len`] long, the layout [`Self::build`]
    /// writes) as a posterior, checking that every value is finite and the variances positive.
    pub fn from_storage(map: F, m: usize, storage: &'a [S]) -> Result<Self> {
        Self::from_native(map, m, m, Likelihood::Gaussian, storage)
    }

    /// Views native storage laid out for `rank` variance rows and `likelihood`.
    pub(crate) fn from_native(
        map: F,
        m: usize,
        rank: usize,
        likelihood: Likelihood,
        storage: &'a [S],
    ) -> Result<Self> {
        let specs = FeatureSpecs::of(&map, rank, likelihood);
        let total = specs.total().ok_or(Error::SizeOverflow { what: "feature posterior storage" })?;
        check_len("feature posterior storage", total, storage.len())?;
        check_finite("feature posterior storage", storage)?;
        let mut blocks = [Block::default(); POSTERIOR_BLOCKS];
        let mut rest = storage;
        for (b, s) in blocks.iter_mut().zip(specs.list()) {
            let (now, later) = rest.split_at(s.rows * s.cols);
            *b = Block::native(s.rows, s.cols, now)?;
            rest = later;
        }
        let params = ParamBlocks::native(&specs.list()[POSTERIOR_BLOCKS..], rest)?;
        Self::from_blocks(map, m, likelihood, blocks, params)
    }

    /// A posterior from its blocks (σ², likelihood, w, λ, rows) and the map's: checks the
    /// shapes, a positive σ², the likelihood's and the map's parameters. The blocks' values
    /// must have been checked finite ([`Block::check_finite`]).
    pub(crate) fn from_blocks(
        map: F,
        m: usize,
        likelihood: Likelihood,
        blocks: [Block<'a, S>; POSTERIOR_BLOCKS],
        params: ParamBlocks<'a, S>,
    ) -> Result<Self> {
        let [variance_block, lik_params, w, lambda, rows] = blocks;
        let rank = lambda.len();
        let specs = FeatureSpecs::of(&map, rank, likelihood);
        for (b, s) in blocks.iter().zip(specs.list()) {
            check_len("feature posterior block rows", s.rows, b.rows())?;
            check_len("feature posterior block columns", s.cols, b.cols())?;
        }
        check_len("feature map parameters", map.n_params(), params.len())?;
        if rank > m {
            return Err(Error::DimensionMismatch { what: "variance rank (≤ M)", expected: m, found: rank });
        }
        let s2 = variance_block.get(0);
        if s2 <= S::zero() {
            return Err(Error::InvalidParameter { what: "kernel variance", value: s2.re() });
        }
        likelihood.check(&lik_params)?;
        map.check_deploy_params(&params)?;
        Ok(Self { map, m, likelihood, variance: s2, variance_block, lik_params, w, lambda, rows, params })
    }

    /// Computes the compact posterior of `model` in `f64` and stores it, rounded to `S`,
    /// in `storage` ([`Self::storage_len`] long). `ws` is an `f64` workspace of
    /// [`FeatureModel::build_workspace_len`].
    pub fn build(model: &FeatureModel<'_, F>, storage: &'a mut [S], ws: &mut [f64]) -> Result<Self> {
        let map = *model.map();
        let (m, j) = (model.n_inducing(), map.n_features());
        check_len("feature posterior storage", Self::storage_len(&map, m)?, storage.len())?;
        let SvgpParts { prior, z, mean, scale_tril, likelihood } = model.svgp.parts(model.params)?;
        let FeaturePriorParts { ln_variance, map: map_params } = model.svgp.prior().parts(prior)?;
        let BuildWs { b, y, kzz, q, u, t, d, w, map: map_ws } = model.build_ws()?.carve(ws)?;
        let jitter = model.svgp.jitter();
        let s2 = libm::exp(ln_variance[0]);
        let noise = libm::exp(likelihood[0]);
        for (what, v) in [("ln kernel variance", s2), ("ln noise variance", noise), ("jitter", jitter)] {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::InvalidParameter { what, value: v });
            }
        }
        // Ψ_z, then K_zz = σ² Ψ_z Ψ_zᵀ (+ jitter inside the Cholesky) = L_z L_zᵀ.
        map.features(map_params, z, b, map_ws)?;
        gemm(
            s2,
            MatRef::new(m, j, b)?,
            Trans::No,
            MatRef::new(m, j, b)?,
            Trans::Yes,
            0.0,
            MatMut::new(m, m, kzz)?,
        )?;
        cholesky_in_place(MatMut::new(m, m, kzz)?, Jitter::Fixed(jitter))?;
        // B_s = σ² L_z⁻¹ Ψ_z, w = B_sᵀ m.
        solve_triangular(MatRef::new(m, m, kzz)?, Side::Lower, MatMut::new(m, j, b)?)?;
        b.iter_mut().for_each(|v| *v *= s2);
        gemm(
            1.0,
            MatRef::new(m, j, b)?,
            Trans::Yes,
            MatRef::new(m, 1, mean)?,
            Trans::No,
            0.0,
            MatMut::new(j, 1, w)?,
        )?;
        // Q = L Lᵀ − I from the packed factor (kzz reused for the full L).
        PackedLower::new(m, scale_tril)?.unpack_into(MatMut::new(m, m, kzz)?)?;
        gemm(
            1.0,
            MatRef::new(m, m, kzz)?,
            Trans::No,
            MatRef::new(m, m, kzz)?,
            Trans::Yes,
            0.0,
            MatMut::new(m, m, q)?,
        )?;
        (0..m).for_each(|i| q[i * m + i] -= 1.0);
        sum_of_squares(m, j, b, q, Eig { y, u, t, d })?;

        // Native storage, in block order: σ², σ_n², w, λ (in d), the rows (in y), the map.
        let lens = [1, 1, j, m, m * j, map.n_params()];
        let srcs: [&[f64]; 6] = [&[s2], &[noise], w, d, y, map_params];
        let mut rest = &mut storage[..];
        for (len, src) in lens.into_iter().zip(srcs) {
            let (now, later) = rest.split_at_mut(len);
            now.iter_mut().zip(src).for_each(|(o, &v)| *o = S::from_f64(v));
            rest = later;
        }
        Self::from_storage(map, m, storage)
    }

    /// The feature map.
    pub fn map(&self) -> &F {
        &self.map
    }
    /// Number of inducing points M the model was trained with.
    pub fn n_inducing(&self) -> usize {
        self.m
    }
    /// Rows of the variance's sum of squares (M, or fewer if a writer dropped some).
    pub fn rank(&self) -> usize {
        self.lambda.len()
    }
    /// The likelihood the model was trained with.
    pub fn likelihood(&self) -> Likelihood {
        self.likelihood
    }
    /// The kernel variance σ².
    pub fn kernel_variance(&self) -> S {
        self.variance
    }
    /// The Gaussian likelihood's noise variance σ_n² (add it to the latent variance for a noisy
    /// prediction, or use [`Self::predict_observation`]).
    pub fn noise_variance(&self) -> S {
        self.lik_params.get(0)
    }
    /// The feature map's parameters.
    pub fn map_params(&self) -> &ParamBlocks<'a, S> {
        &self.params
    }
    /// The storage blocks in order (σ², likelihood, w, λ, rows, then the map's), each with
    /// its role, for a writer.
    pub(crate) fn blocks(&self, out: &mut [(Block<'a, S>, BlockSpec); MAX_FEATURE_BLOCKS]) -> usize {
        let specs = FeatureSpecs::of(&self.map, self.rank(), self.likelihood);
        let own = [self.variance_block, self.lik_params, self.w, self.lambda, self.rows];
        let blocks = own.iter().chain(self.params.blocks());
        for ((o, b), s) in out.iter_mut().zip(blocks).zip(specs.list()) {
            *o = (*b, *s);
        }
        specs.n
    }

    /// Workspace length [`Self::predict`] and [`Self::predict_mean`] need.
    pub fn workspace_len(&self) -> Result<usize> {
        Self::workspace_len_for(&self.map, self.m)
    }
    /// [`Self::workspace_len`] before a posterior exists (to size static buffers).
    pub fn workspace_len_for(map: &F, _m: usize) -> Result<usize> {
        Ok(Self::predict_ws(map)?.total())
    }
    fn predict_ws(map: &F) -> Result<PredictWs<usize>> {
        let j = Size::of(map.n_features());
        PredictWs { psi: j, slots: j, map: Size::from_result(map.deploy_workspace_len()) }.resolve()
    }

    /// ψ(x) into the front of `ws`, then (ψ, the fixed-point slots).
    fn features<'w>(&self, x: &[S], ws: &'w mut [S]) -> Result<(&'w mut [S], &'w mut [S])> {
        check_len("input x", self.map.input_dim(), x.len())?;
        check_finite("input x", x)?;
        let PredictWs { psi, slots, map } = Self::predict_ws(&self.map)?.carve(ws)?;
        self.map.deploy_features(&self.params, x, psi, map)?;
        Ok((psi, slots))
    }

    /// ψ prepared for the mean and variance rows: in fixed point if either is integer-encoded
    /// (the same for the mean alone, so [`Self::predict_mean`] equals [`Self::predict`]'s mean).
    fn operand<'w>(&self, psi: &'w [S], slots: &'w mut [S]) -> Result<Operand<'w, S>> {
        let integer = |b: &Block<'_, S>| b.encoding().is_some_and(|e| e.is_integer());
        Operand::new(psi, slots, integer(&self.w) || integer(&self.rows))
    }

    /// Posterior mean of the latent function at one input `x` (D values): ψ(x)·w.
    pub fn predict_mean(&self, x: &[S], ws: &mut [S]) -> Result<S> {
        let (psi, slots) = self.features(x, ws)?;
        let op = self.operand(psi, slots)?;
        finite(Prediction { mean: self.w.row_dot(0, &op), variance: S::zero() }).map(|p| p.mean)
    }

    /// Posterior mean and latent variance (never negative) at one input `x` (D values).
    pub fn predict(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let (psi, slots) = self.features(x, ws)?;
        let psi: &[S] = psi;
        let op = self.operand(psi, slots)?;
        let mean = self.w.row_dot(0, &op);
        // σ²|ψ|² + Σ_k λ_k (c_k·ψ)²: one dot product of length J per row, the bulk of the work.
        let mut quad = S::zero();
        for k in 0..self.rank() {
            let d = self.rows.row_dot(k, &op);
            quad += self.lambda.get(k) * (d * d);
        }
        let norm2 = psi.iter().fold(S::zero(), |a, &v| a + v * v);
        let variance = (self.variance * norm2 + quad).max(S::zero());
        finite(Prediction { mean, variance })
    }

    /// The predictive mean and variance of the observation y at `x`: the latent prediction
    /// through the likelihood (Gaussian: the noise variance added).
    pub fn predict_observation(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let latent = self.predict(x, ws)?;
        finite(self.likelihood.observe(&self.lik_params, latent))
    }

    /// [`Self::predict`] for n row-major inputs (n × D) into `mean` and `variance` (n each).
    pub fn predict_batch(&self, x: &[S], mean: &mut [S], variance: &mut [S], ws: &mut [S]) -> Result<()> {
        let d = self.map.input_dim();
        let n = crate::linalg::rows_of(x, d, "inputs x (n × D)")?;
        check_len("mean output", n, mean.len())?;
        check_len("variance output", n, variance.len())?;
        for ((xi, mu), var) in x.chunks_exact(d).zip(mean.iter_mut()).zip(variance.iter_mut()) {
            let p = self.predict(xi, ws)?;
            (*mu, *var) = (p.mean, p.variance);
        }
        Ok(())
    }

    /// The same posterior with every block decoded into native `storage` (at least the
    /// total number of values long): the fastest to evaluate, at the cost of RAM.
    pub fn decode_into<'s>(&self, storage: &'s mut [S]) -> Result<FeaturePosterior<'s, S, F>> {
        let specs = FeatureSpecs::of(&self.map, self.rank(), self.likelihood);
        let total = specs.total().ok_or(Error::SizeOverflow { what: "feature posterior storage" })?;
        check_buf("feature posterior storage", total, storage.len())?;
        let out = &mut storage[..total];
        let mut blocks = [(Block::default(), specs.specs[0]); MAX_FEATURE_BLOCKS];
        let n = self.blocks(&mut blocks);
        let mut rest = &mut out[..];
        for (b, _) in &blocks[..n] {
            let (now, later) = rest.split_at_mut(b.len());
            b.decode_into(now)?;
            rest = later;
        }
        FeaturePosterior::from_native(self.map, self.m, self.rank(), self.likelihood, out)
    }
}

/// The eigen workspace of [`sum_of_squares`].
struct Eig<'w> {
    y: &'w mut [f64],
    u: &'w mut [f64],
    t: &'w mut [f64],
    d: &'w mut [f64],
}

/// G = B_sᵀ Q B_s (rank ≤ M) as Σ_k λ_k c_k c_kᵀ, c_k orthonormal: returns λ in `e.d` and the
/// rows c_k in `e.y`, sorted by |λ_k| (largest first). `b` (M × J) and `q` are clobbered.
///
/// With B_s B_sᵀ = U D Uᵀ, the rows Y = D^(−½) Uᵀ B_s are orthonormal and B_s = U D^(½) Y, so
/// G = Yᵀ K Y with K = D^(½) Uᵀ Q U D^(½) (M × M); K = E Λ Eᵀ gives c_k = (Eᵀ Y)_k. Directions
/// with D ≈ 0 carry no part of G (B_sᵀ u = 0 there) and get λ = 0.
fn sum_of_squares(m: usize, j: usize, b: &mut [f64], q: &mut [f64], e: Eig<'_>) -> Result<()> {
    let Eig { y, u, t, d } = e;
    // t = B_s B_sᵀ = U D Uᵀ.
    gemm(
        1.0,
        MatRef::new(m, j, b)?,
        Trans::No,
        MatRef::new(m, j, b)?,
        Trans::Yes,
        0.0,
        MatMut::new(m, m, t)?,
    )?;
    sym_eigen(MatMut::new(m, m, t)?, d, MatMut::new(m, m, u)?)?;
    let top = d.first().copied().unwrap_or(0.0).max(0.0);
    let keep = |v: f64| v > top * 1e-13;
    // Y = D^(−½) Uᵀ B_s (zero rows where D ≈ 0).
    gemm(
        1.0,
        MatRef::new(m, m, u)?,
        Trans::Yes,
        MatRef::new(m, j, b)?,
        Trans::No,
        0.0,
        MatMut::new(m, j, y)?,
    )?;
    for (row, &dv) in y.chunks_exact_mut(j).zip(d.iter()) {
        let s = if keep(dv) { 1.0 / libm::sqrt(dv) } else { 0.0 };
        row.iter_mut().for_each(|v| *v *= s);
    }
    // K = D^(½) Uᵀ Q U D^(½), in q (t = Q U first).
    gemm(
        1.0,
        MatRef::new(m, m, q)?,
        Trans::No,
        MatRef::new(m, m, u)?,
        Trans::No,
        0.0,
        MatMut::new(m, m, t)?,
    )?;
    gemm(
        1.0,
        MatRef::new(m, m, u)?,
        Trans::Yes,
        MatRef::new(m, m, t)?,
        Trans::No,
        0.0,
        MatMut::new(m, m, q)?,
    )?;
    for a in 0..m {
        for c in 0..m {
            let (da, dc) = (d[a], d[c]);
            q[a * m + c] =
                if keep(da) && keep(dc) { q[a * m + c] * libm::sqrt(da) * libm::sqrt(dc) } else { 0.0 };
        }
    }
    // K = E Λ Eᵀ (E in u, Λ in d), sorted by |λ| largest first.
    sym_eigen(MatMut::new(m, m, q)?, d, MatMut::new(m, m, u)?)?;
    for i in 0..m {
        let k = (i..m).fold(i, |k, c| if d[c].abs() > d[k].abs() { c } else { k });
        if k != i {
            d.swap(i, k);
            for r in 0..m {
                u.swap(r * m + i, r * m + k);
            }
        }
    }
    // Rows c = Eᵀ Y, into b, then back into y.
    gemm(
        1.0,
        MatRef::new(m, m, u)?,
        Trans::Yes,
        MatRef::new(m, j, y)?,
        Trans::No,
        0.0,
        MatMut::new(m, j, b)?,
    )?;
    y.copy_from_slice(b);
    Ok(())
}

/// The prediction, or [`Error::NonFinite`] if it overflowed (a damaged or extreme model).
#[inline]
pub(crate) fn finite<S: StoredScalar>(p: Prediction<S>) -> Result<Prediction<S>> {
    match (p.mean.is_finite(), p.variance.is_finite()) {
        (true, true) => Ok(p),
        (false, _) => Err(Error::NonFinite { what: "predicted mean", index: 0, value: p.mean.re() }),
        (true, false) => {
            Err(Error::NonFinite { what: "predicted variance", index: 0, value: p.variance.re() })
        }
    }
}
