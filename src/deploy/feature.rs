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
use crate::error::{check_buf, check_len, Error, Result};
use crate::features::FeatureMap;
use crate::linalg::{cholesky_in_place, gemm, solve_triangular, Jitter, MatMut, MatRef, Side, Trans};
use crate::Scalar;

/// A trained feature-kernel SVGP, as the `f64` pieces the compact posterior is built from.
///
/// The parameter conventions are the training model's: `ln_variance` is ln σ², `l_packed` is
/// the whitened guide's Cholesky factor L as its packed lower triangle (row by row,
/// `L[i][j]` for `j ≤ i` at `i(i+1)/2 + j`), and `jitter` is the value added to K_zz's
/// diagonal before factorising.
#[derive(Clone, Copy, Debug)]
pub struct FeatureModel<'a, F> {
    /// The feature map ψ.
    pub map: F,
    /// ln σ², the feature kernel's log variance.
    pub ln_variance: f64,
    /// ψ's parameters (`map.n_params()` of them).
    pub map_params: &'a [f64],
    /// Inducing inputs Z, M × D row-major.
    pub z: &'a [f64],
    /// Whitened variational mean m (M).
    pub m: &'a [f64],
    /// Whitened variational factor L, packed lower triangle (M(M+1)/2).
    pub l_packed: &'a [f64],
    /// ln σ_n², the Gaussian likelihood's log noise variance (kept for noisy predictions).
    pub ln_noise_variance: f64,
    /// Jitter added to K_zz's diagonal.
    pub jitter: f64,
}

impl<'a, F: FeatureMap> FeatureModel<'a, F> {
    /// Splits a training model's flat parameter buffer
    /// `[ln σ² | map params | Z (M × D) | m (M) | L packed (M(M+1)/2) | ln σ_n²]`.
    ///
    /// ```
    /// use svgp::deploy::FeatureModel;
    /// use svgp::features::{DeepRff, FeatureMap};
    /// use svgp::nn::{Activation, Mlp};
    /// let map = DeepRff::new(Mlp::equinox(2, 4, 1, 2, Activation::Tanh)?, 8)?;
    /// let (m, d) = (3, 2);
    /// let params = vec![0.5; 1 + map.n_params() + m * d + m + m * (m + 1) / 2 + 1];
    /// let model = FeatureModel::from_flat(map, m, 1e-4, &params)?;
    /// assert_eq!((model.z.len(), model.l_packed.len()), (6, 6));
    /// assert!(FeatureModel::from_flat(map, m, 1e-4, &params[1..]).is_err());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn from_flat(map: F, m: usize, jitter: f64, params: &'a [f64]) -> Result<Self> {
        let (p, d) = (map.n_params(), map.input_dim());
        let sizes = [1, p, m * d, m, m * (m + 1) / 2, 1];
        check_len("flat SVGP parameters", sizes.iter().sum(), params.len())?;
        let (ln_variance, rest) = (params[0], &params[1..]);
        let (map_params, rest) = rest.split_at(p);
        let (z, rest) = rest.split_at(m * d);
        let (mv, rest) = rest.split_at(m);
        let (l_packed, rest) = rest.split_at(m * (m + 1) / 2);
        Ok(Self { map, ln_variance, map_params, z, m: mv, l_packed, ln_noise_variance: rest[0], jitter })
    }

    /// The pieces of a trained [`Svgp`](crate::gp::Svgp) with a feature prior and its flat
    /// parameters (the training layout, see [`Self::from_flat`]).
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
    /// assert_eq!(model.map_params.len(), map.n_params());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn from_svgp(svgp: &crate::gp::Svgp<crate::gp::Features<F>>, params: &'a [f64]) -> Result<Self> {
        Self::from_flat(svgp.prior.0, svgp.m, svgp.jitter, params)
    }

    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.m.len()
    }

    /// `f64` workspace length [`FeaturePosterior::build`] needs.
    pub fn build_workspace_len(&self) -> usize {
        let (m, j) = (self.n_inducing(), self.map.n_features());
        m * j + 2 * m * m + j + self.map.workspace_len(m)
    }
}

/// Offsets of the pieces in a feature posterior's storage:
/// `[σ² | σ_n² | w (J) | B_s (M × J) | Q (M × M) | map params (P)]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    m: usize,
    j: usize,
    p: usize,
}

impl Layout {
    fn of<F: FeatureMap>(map: &F, m: usize) -> Self {
        Self { m, j: map.n_features(), p: map.n_params() }
    }
    const W: usize = 2;
    fn bs(&self) -> usize {
        Self::W + self.j
    }
    fn q(&self) -> usize {
        self.bs() + self.m * self.j
    }
    fn params(&self) -> usize {
        self.q() + self.m * self.m
    }
    /// Total length, `None` on overflow (sizes may come from an untrusted header).
    fn len(&self) -> Option<usize> {
        let mj = self.m.checked_mul(self.j)?;
        let mm = self.m.checked_mul(self.m)?;
        (Self::W + self.p).checked_add(self.j)?.checked_add(mj)?.checked_add(mm)
    }
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
/// use svgp::nn::{Activation, Mlp};
/// // All map parameters 0: ψ_j(x) = √(2/J)·cos 0, so k(x, x) = σ²·|ψ|² = 2 for σ² = 1.
/// let map = DeepRff::new(Mlp::equinox(1, 4, 1, 1, Activation::Tanh)?, 8)?;
/// // [ln σ² | map params | Z (1 × 1) | m (1) | L packed (1) | ln σ_n²]
/// let mut flat = vec![0.0; 1 + map.n_params() + 4];
/// let n = flat.len();
/// (flat[n - 2], flat[n - 1]) = (1.0, -4.0); // L = I, σ_n² = e⁻⁴
/// let model = FeatureModel::from_flat(map, 1, 1e-6, &flat)?;
/// let mut storage = vec![0.0_f32; FeaturePosterior::<f32, DeepRff>::storage_len(&map, 1)?];
/// let post = FeaturePosterior::build(&model, &mut storage, &mut vec![0.0; model.build_workspace_len()])?;
/// let p = post.predict(&[0.5_f32], &mut vec![0.0; post.workspace_len()])?;
/// // q(v) = N(0, I) is the prior, so the posterior is the prior: mean 0, variance k(x, x).
/// assert_eq!(p.mean, 0.0);
/// assert!((p.variance - 2.0).abs() < 1e-5);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FeaturePosterior<'a, S, F> {
    map: F,
    layout: Layout,
    storage: &'a [S],
}

impl<'a, S: Scalar, F: FeatureMap> FeaturePosterior<'a, S, F> {
    /// Storage length for a map and M inducing points.
    pub fn storage_len(map: &F, m: usize) -> Result<usize> {
        Layout::of(map, m).len().ok_or(Error::InvalidParameter { what: "posterior size", value: m as f64 })
    }

    /// Views `storage` (exactly [`Self::storage_len`] long) as a posterior, checking that every
    /// value is finite and the variances are positive.
    pub fn from_storage(map: F, m: usize, storage: &'a [S]) -> Result<Self> {
        check_len("feature posterior storage", Self::storage_len(&map, m)?, storage.len())?;
        if let Some((index, v)) = storage.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "feature posterior storage", index, value: v.re() });
        }
        for (what, v) in [("kernel variance", storage[0]), ("noise variance", storage[1])] {
            if v <= S::zero() {
                return Err(Error::InvalidParameter { what, value: v.re() });
            }
        }
        Ok(Self { map, layout: Layout::of(&map, m), storage })
    }

    /// Computes the compact posterior of `model` in `f64` and stores it, rounded to `S`,
    /// in `storage` ([`Self::storage_len`] long). `ws` is an `f64` workspace of
    /// [`FeatureModel::build_workspace_len`].
    pub fn build(model: &FeatureModel<'_, F>, storage: &'a mut [S], ws: &mut [f64]) -> Result<Self> {
        let map = model.map;
        let lay = Layout::of(&map, model.n_inducing());
        let (m, j, d) = (lay.m, lay.j, map.input_dim());
        check_len("feature posterior storage", Self::storage_len(&map, m)?, storage.len())?;
        check_len("feature map parameters", lay.p, model.map_params.len())?;
        check_len("inducing inputs Z", m * d, model.z.len())?;
        check_len("guide factor L (packed)", m * (m + 1) / 2, model.l_packed.len())?;
        check_buf("build workspace", model.build_workspace_len(), ws.len())?;
        let s2 = model.ln_variance.exp();
        let noise = model.ln_noise_variance.exp();
        for (what, v) in [("ln kernel variance", s2), ("ln noise variance", noise), ("jitter", model.jitter)]
        {
            if !v.is_finite() || v < 0.0 {
                return Err(Error::InvalidParameter { what, value: v });
            }
        }
        let (b, rest) = ws.split_at_mut(m * j);
        let (kzz, rest) = rest.split_at_mut(m * m);
        let (w, rest) = rest.split_at_mut(j);
        let (q, map_ws) = rest.split_at_mut(m * m);
        // Ψ_z, then K_zz = σ² Ψ_z Ψ_zᵀ (+ jitter inside the Cholesky) = L_z L_zᵀ.
        map.features(model.map_params, model.z, b, map_ws)?;
        gemm(
            s2,
            MatRef::new(m, j, b)?,
            Trans::No,
            MatRef::new(m, j, b)?,
            Trans::Yes,
            0.0,
            MatMut::new(m, m, kzz)?,
        )?;
        cholesky_in_place(MatMut::new(m, m, kzz)?, Jitter::Fixed(model.jitter))?;
        // B_s = σ² L_z⁻¹ Ψ_z, w = B_sᵀ m.
        solve_triangular(MatRef::new(m, m, kzz)?, Side::Lower, MatMut::new(m, j, b)?)?;
        b.iter_mut().for_each(|v| *v *= s2);
        gemm(
            1.0,
            MatRef::new(m, j, b)?,
            Trans::Yes,
            MatRef::new(m, 1, model.m)?,
            Trans::No,
            0.0,
            MatMut::new(j, 1, w)?,
        )?;
        // Q = L Lᵀ − I from the packed factor (kzz reused for the full L).
        kzz.iter_mut().for_each(|v| *v = 0.0);
        for i in 0..m {
            let row = &model.l_packed[i * (i + 1) / 2..(i + 1) * (i + 2) / 2];
            kzz[i * m..i * m + i + 1].copy_from_slice(row);
        }
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
        storage[0] = S::from_f64(s2);
        storage[1] = S::from_f64(noise);
        cast(&mut storage[Layout::W..lay.bs()], w);
        cast(&mut storage[lay.bs()..lay.q()], b);
        cast(&mut storage[lay.q()..lay.params()], q);
        cast(&mut storage[lay.params()..], model.map_params);
        Self::from_storage(map, m, storage)
    }

    /// The feature map.
    pub fn map(&self) -> &F {
        &self.map
    }
    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.layout.m
    }
    /// The whole storage, in the layout the model format writes.
    pub fn storage(&self) -> &'a [S] {
        self.storage
    }
    /// The kernel variance σ².
    pub fn kernel_variance(&self) -> S {
        self.storage[0]
    }
    /// The likelihood's noise variance σ_n² (add it to the latent variance for a noisy prediction).
    pub fn noise_variance(&self) -> S {
        self.storage[1]
    }
    /// The feature map's parameters.
    pub fn map_params(&self) -> &'a [S] {
        &self.storage[self.layout.params()..]
    }

    /// Workspace length [`Self::predict`] and [`Self::predict_mean`] need.
    pub fn workspace_len(&self) -> usize {
        Self::workspace_len_for(&self.map, self.layout.m)
    }
    /// [`Self::workspace_len`] before a posterior exists (to size static buffers).
    pub fn workspace_len_for(map: &F, m: usize) -> usize {
        map.workspace_len(1) + map.n_features() + m
    }

    /// ψ(x) into the front of `ws`; returns (ψ, rest of the workspace).
    fn features<'w>(&self, x: &[S], ws: &'w mut [S]) -> Result<(&'w mut [S], &'w mut [S])> {
        check_len("input x", self.map.input_dim(), x.len())?;
        if let Some((index, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "input x", index, value: v.re() });
        }
        check_buf("predict workspace", self.workspace_len(), ws.len())?;
        let (psi, rest) = ws.split_at_mut(self.layout.j);
        let (u, map_ws) = rest.split_at_mut(self.layout.m);
        self.map.features(self.map_params(), x, psi, map_ws)?;
        Ok((psi, u))
    }

    /// Posterior mean of the latent function at one input `x` (D values): ψ(x)·w.
    pub fn predict_mean(&self, x: &[S], ws: &mut [S]) -> Result<S> {
        let (psi, _) = self.features(x, ws)?;
        let mean = dot(psi, &self.storage[Layout::W..self.layout.bs()]);
        finite(Prediction { mean, variance: S::zero() }).map(|p| p.mean)
    }

    /// Posterior mean and latent variance (never negative) at one input `x` (D values).
    pub fn predict(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let lay = self.layout;
        let (psi, u) = self.features(x, ws)?;
        let mean = dot(psi, &self.storage[Layout::W..lay.bs()]);
        // u = B_s ψ: M dot products of length J, the bulk of the work.
        let bs = &self.storage[lay.bs()..lay.q()];
        for (ui, row) in u.iter_mut().zip(bs.chunks_exact(lay.j)) {
            *ui = dot(row, psi);
        }
        let q = &self.storage[lay.q()..lay.params()];
        let quad: S = u.iter().zip(q.chunks_exact(lay.m)).map(|(&ui, row)| ui * dot(row, u)).sum();
        let variance = (self.kernel_variance() * dot(psi, psi) + quad).max(S::zero());
        finite(Prediction { mean, variance })
    }

    /// [`Self::predict`] for n row-major inputs (n × D) into `mean` and `variance` (n each).
    pub fn predict_batch(&self, x: &[S], mean: &mut [S], variance: &mut [S], ws: &mut [S]) -> Result<()> {
        let d = self.map.input_dim();
        let n = mean.len();
        check_len("inputs x (n × D)", n * d, x.len())?;
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
