//! The compact posterior of a feature-kernel SVGP, k(x, x') = σ²·ψ(x)·ψ(x').
//!
//! From the whitened SVGP (K_zz + jitter·I = L_z L_zᵀ, A = L_z⁻¹ K_zx, q(v) = N(m, L Lᵀ)):
//! with Ψ_z the features of the inducing inputs, K_zx = σ² Ψ_z ψ(x), so A = σ² B ψ(x) with
//! B = L_z⁻¹ Ψ_z (M × J). Writing u = σ² B ψ(x) (an M-vector),
//!
//! - mean(x) = Aᵀm = uᵀm = ψ(x)·w with w = σ² Bᵀ m (one J-vector);
//! - var(x) = k(x, x) − |A|² + |LᵀA|² = σ²|ψ(x)|² + uᵀ(L Lᵀ − I) u, clipped at 0.
//!
//! So the posterior stores w, B_s = σ²B and Q = L Lᵀ − I (M × M) besides the feature map's
//! parameters: a mean costs one feature evaluation plus J multiply-adds, a variance M·J + M²
//! more. This is the same arithmetic as keeping B and C = LᵀB (|Bψ|², |Cψ|²) with half the
//! multiply-adds and half the storage, since M ≤ J. Q is formed on the host in `f64`; only
//! the prediction runs in the storage type.

use super::prediction::Prediction;
use crate::error::{check_finite, check_len, Error, Result};
use crate::features::FeatureMap;
use crate::gp::{FeaturePriorParts, Features, Svgp, SvgpParts};
use crate::layout::Size;
use crate::linalg::{
    cholesky_in_place, gemm, solve_triangular, Jitter, MatMut, MatRef, PackedLower, Side, Trans,
};
use crate::Scalar;

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
        let mm = Size::of(m) * m;
        let map = Size::from_result(self.map().workspace_len(m));
        BuildWs { b: Size::of(m) * j, kzz: mm, w: Size::of(j), q: mm, map }.resolve()
    }

    /// `f64` workspace length [`FeaturePosterior::build`] needs.
    pub fn build_workspace_len(&self) -> Result<usize> {
        Ok(self.build_ws()?.total())
    }
}

crate::parts! {
    /// [`FeaturePosterior::build`]'s workspace: Ψ_z, then B_s (M × J), K_zz then L_z, then the
    /// unpacked L (M × M), w (J), Q (M × M), and the map's workspace for the M inducing inputs.
    "feature posterior build workspace": struct BuildWs { b, kzz, w, q, map }
}

crate::parts! {
    /// A feature posterior's storage, the payload of its blob: σ², σ_n², w (J), B_s (M × J),
    /// Q (M × M) and the map's parameters (P).
    "feature posterior storage": pub(crate) struct FeatureStorage { variance, noise, w, bs, q, map }
}

/// The storage parts for M inducing points, J features and P map parameters (sizes may come
/// from an untrusted header: every product is checked).
pub(crate) fn feature_storage(m: usize, j: usize, p: usize) -> Result<FeatureStorage<usize>> {
    let one = Size::of(1);
    FeatureStorage {
        variance: one,
        noise: one,
        w: Size::of(j),
        bs: Size::of(m) * j,
        q: Size::of(m) * m,
        map: Size::of(p),
    }
    .resolve()
}

crate::parts! {
    /// A feature posterior's prediction workspace: ψ (J), u = B_sψ (M), the map's workspace
    /// for one input.
    "feature posterior predict workspace": struct PredictWs { psi, u, map }
}

/// A prediction-only feature-kernel posterior over borrowed storage: no allocation, any
/// [`Scalar`] (`f32` on a microcontroller, `f64` on a desktop).
///
/// Build it on the host with [`FeaturePosterior::build`] (from an `f64` model, into storage of
/// the target type), ship it with [`write_feature`](super::write_feature), and predict with
/// [`FeaturePosterior::predict`] (the [module docs](super) show the whole round trip).
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
    parts: FeatureStorage<&'a [S]>,
    storage: &'a [S],
}

impl<'a, S: Scalar, F: FeatureMap> FeaturePosterior<'a, S, F> {
    /// Storage length for a map and M inducing points.
    pub fn storage_len(map: &F, m: usize) -> Result<usize> {
        Ok(feature_storage(m, map.n_features(), map.n_params())?.total())
    }

    /// Views `storage` (exactly [`Self::storage_len`] long) as a posterior, checking that every
    /// value is finite and the variances are positive.
    pub fn from_storage(map: F, m: usize, storage: &'a [S]) -> Result<Self> {
        let parts = feature_storage(m, map.n_features(), map.n_params())?.carve_exact(storage)?;
        check_finite("feature posterior storage", storage)?;
        for (what, v) in [("kernel variance", parts.variance[0]), ("noise variance", parts.noise[0])] {
            if v <= S::zero() {
                return Err(Error::InvalidParameter { what, value: v.re() });
            }
        }
        Ok(Self { map, m, parts, storage })
    }

    /// Computes the compact posterior of `model` in `f64` and stores it, rounded to `S`,
    /// in `storage` ([`Self::storage_len`] long). `ws` is an `f64` workspace of
    /// [`FeatureModel::build_workspace_len`].
    pub fn build(model: &FeatureModel<'_, F>, storage: &'a mut [S], ws: &mut [f64]) -> Result<Self> {
        let map = *model.map();
        let (m, j) = (model.n_inducing(), map.n_features());
        let out = feature_storage(m, j, map.n_params())?.carve_exact(&mut *storage)?;
        let SvgpParts { prior, z, mean, scale_tril, likelihood } = model.svgp.parts(model.params)?;
        let FeaturePriorParts { ln_variance, map: map_params } = model.svgp.prior().parts(prior)?;
        let BuildWs { b, kzz, w, q, map: map_ws } = model.build_ws()?.carve(ws)?;
        let jitter = model.svgp.jitter();
        let s2 = ln_variance[0].exp();
        let noise = likelihood[0].exp();
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

        let cast =
            |dst: &mut [S], src: &[f64]| dst.iter_mut().zip(src).for_each(|(o, &v)| *o = S::from_f64(v));
        out.variance[0] = S::from_f64(s2);
        out.noise[0] = S::from_f64(noise);
        cast(out.w, w);
        cast(out.bs, b);
        cast(out.q, q);
        cast(out.map, map_params);
        Self::from_storage(map, m, storage)
    }

    /// The feature map.
    pub fn map(&self) -> &F {
        &self.map
    }
    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.m
    }
    /// The whole storage, in the layout the model format writes.
    pub fn storage(&self) -> &'a [S] {
        self.storage
    }
    /// The kernel variance σ².
    pub fn kernel_variance(&self) -> S {
        self.parts.variance[0]
    }
    /// The likelihood's noise variance σ_n² (add it to the latent variance for a noisy prediction).
    pub fn noise_variance(&self) -> S {
        self.parts.noise[0]
    }
    /// The feature map's parameters.
    pub fn map_params(&self) -> &'a [S] {
        self.parts.map
    }

    /// Workspace length [`Self::predict`] and [`Self::predict_mean`] need.
    pub fn workspace_len(&self) -> Result<usize> {
        Self::workspace_len_for(&self.map, self.m)
    }
    /// [`Self::workspace_len`] before a posterior exists (to size static buffers).
    pub fn workspace_len_for(map: &F, m: usize) -> Result<usize> {
        Ok(Self::predict_ws(map, m)?.total())
    }
    fn predict_ws(map: &F, m: usize) -> Result<PredictWs<usize>> {
        let map_ws = Size::from_result(map.workspace_len(1));
        PredictWs { psi: Size::of(map.n_features()), u: Size::of(m), map: map_ws }.resolve()
    }

    /// ψ(x) into the front of `ws`; returns (ψ, u's scratch).
    fn features<'w>(&self, x: &[S], ws: &'w mut [S]) -> Result<(&'w mut [S], &'w mut [S])> {
        check_len("input x", self.map.input_dim(), x.len())?;
        check_finite("input x", x)?;
        let PredictWs { psi, u, map } = Self::predict_ws(&self.map, self.m)?.carve(ws)?;
        self.map.features(self.map_params(), x, psi, map)?;
        Ok((psi, u))
    }

    /// Posterior mean of the latent function at one input `x` (D values): ψ(x)·w.
    pub fn predict_mean(&self, x: &[S], ws: &mut [S]) -> Result<S> {
        let (psi, _) = self.features(x, ws)?;
        let mean = dot(psi, self.parts.w);
        finite(Prediction { mean, variance: S::zero() }).map(|p| p.mean)
    }

    /// Posterior mean and latent variance (never negative) at one input `x` (D values).
    pub fn predict(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let (m, j) = (self.m, self.map.n_features());
        let (psi, u) = self.features(x, ws)?;
        let mean = dot(psi, self.parts.w);
        // u = B_s ψ: M dot products of length J, the bulk of the work.
        for (ui, row) in u.iter_mut().zip(self.parts.bs.chunks_exact(j)) {
            *ui = dot(row, psi);
        }
        let quad: S = u.iter().zip(self.parts.q.chunks_exact(m)).map(|(&ui, row)| ui * dot(row, u)).sum();
        let variance = (self.kernel_variance() * dot(psi, psi) + quad).max(S::zero());
        finite(Prediction { mean, variance })
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
}
/// The prediction, or [`Error::NonFinite`] if it overflowed (a damaged or extreme model).
#[inline]
pub(crate) fn finite<S: Scalar>(p: Prediction<S>) -> Result<Prediction<S>> {
    match (p.mean.is_finite(), p.variance.is_finite()) {
        (true, true) => Ok(p),
        (false, _) => Err(Error::NonFinite { what: "predicted mean", index: 0, value: p.mean.re() }),
        (true, false) => {
            Err(Error::NonFinite { what: "predicted variance", index: 0, value: p.variance.re() })
        }
    }
}

/// Plain dot product (zip: no bounds checks in the loop; the M4F has no SIMD to exploit).
#[inline]
pub(crate) fn dot<S: Scalar>(a: &[S], b: &[S]) -> S {
    let mut acc = S::zero();
    for (&x, &y) in a.iter().zip(b) {
        acc += x * y;
    }
    acc
}
