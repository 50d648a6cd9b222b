//! The compact posterior of an SVGP with a closed-form kernel (RBF, Matérn, ...).
//!
//! With K_zz + jitter·I = L_z L_zᵀ, a(x) = L_z⁻¹ k_z(x) and q(v) = N(m, L Lᵀ):
//! mean(x) = aᵀm = k_z(x)·α with α = L_z⁻ᵀ m, and var(x) = k(x, x) − |a|² + |Lᵀa|² (clipped at 0).
//! Nothing collapses here: a prediction costs M kernel evaluations, one triangular solve
//! (M²/2) and one triangular product (M²/2). The storage keeps Z, α, L_z and L (both packed),
//! rather than the single M × M matrix L_z⁻ᵀ(L Lᵀ − I)L_z⁻¹, whose entries grow like
//! 1/jitter and would lose everything to cancellation in `f32`.
//!
//! The storage, as [blocks](super::Block) in this order: the likelihood's parameters, α (M),
//! Z (M × D), L_z and L (packed rows, M(M+1)/2 each), the kernel's parameters (P).

use super::block::{Block, BlockSpec, Role};
use super::feature::finite;
use super::likelihood::Likelihood;
use super::prediction::Prediction;
use super::shape::StoredScalar;
use crate::error::{check_buf, check_finite, check_len, Error, Result};
use crate::gp::{Closed, Svgp, SvgpParts};
use crate::kernel::{gram, Kernel};
use crate::layout::Size;
use crate::linalg::{cholesky_in_place, solve_triangular, Jitter, MatMut, MatRef, PackedLower, Side};

/// Blocks of a closed-form posterior: likelihood, α, Z, L_z, L, kernel parameters.
pub(crate) const KERNEL_BLOCKS: usize = 6;

/// A trained closed-form-kernel SVGP and its `f64` parameters (read through the model's own
/// layout, as for [`super::FeatureModel`]).
#[derive(Clone, Copy, Debug)]
pub struct KernelModel<'a, K> {
    /// The trained model's shape: the kernel, M and the jitter added to K_zz's diagonal.
    pub svgp: Svgp<Closed<K>>,
    /// Its flat parameters ([`Svgp::n_params`] values).
    pub params: &'a [f64],
}

impl<'a, K: Kernel> KernelModel<'a, K> {
    /// A model from the kernel, M, the jitter and the flat parameters
    /// `[kernel params | Z (M × D) | m (M) | L packed | ln σ_n²]`.
    ///
    /// ```
    /// use svgp::{deploy::KernelModel, kernel::Rbf};
    /// let params = [0.0, 0.0, /* Z */ 0.5, /* m */ 1.0, /* L */ 0.1, /* ln σ_n² */ -4.0];
    /// let model = KernelModel::from_flat(Rbf::new(1), 1, 1e-6, &params)?;
    /// assert_eq!(model.svgp.params(model.params)?.scale_tril.as_slice(), &[0.1]);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn from_flat(kernel: K, m: usize, jitter: f64, params: &'a [f64]) -> Result<Self> {
        Self::from_svgp(&Svgp::new(Closed(kernel), m, jitter)?, params)
    }
    /// The pieces of a trained [`Svgp`] with a closed-form prior.
    pub fn from_svgp(svgp: &Svgp<Closed<K>>, params: &'a [f64]) -> Result<Self> {
        svgp.parts(params)?;
        Ok(Self { svgp: *svgp, params })
    }
    /// The kernel.
    pub fn kernel(&self) -> &K {
        &self.svgp.prior().0
    }
    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.svgp.n_inducing()
    }
    fn build_ws(&self) -> Result<BuildWs<usize>> {
        let m = self.n_inducing();
        BuildWs { kzz: Size::of(m) * m, alpha: Size::of(m) }.resolve()
    }
    /// `f64` workspace length [`KernelPosterior::build`] needs.
    pub fn build_workspace_len(&self) -> Result<usize> {
        Ok(self.build_ws()?.total())
    }
}

crate::parts! {
    /// [`KernelPosterior::build`]'s workspace: K_zz then L_z (M × M), and α (M).
    "kernel posterior build workspace": struct BuildWs { kzz, alpha }
}

crate::parts! {
    /// A closed-form posterior's prediction workspace: a = L_z⁻¹k_z(x) and t = Lᵀa (M each),
    /// the kernel's parameters (P) and one inducing input (D), decoded.
    "kernel posterior predict workspace": struct PredictWs { a, t, params, z }
}

/// The block shapes and roles of a closed-form posterior's storage, in order.
pub(crate) fn kernel_specs<K: Kernel>(
    kernel: &K,
    m: usize,
    likelihood: Likelihood,
) -> Option<[BlockSpec; KERNEL_BLOCKS]> {
    let tri = m.checked_mul(m.checked_add(1)?)? / 2;
    Some([
        BlockSpec::row(Role::Scalar, likelihood.n_params()),
        BlockSpec::row(Role::Mean, m),
        BlockSpec::new(Role::Weights, m, kernel.input_dim()),
        BlockSpec::row(Role::Variance, tri),
        BlockSpec::row(Role::Variance, tri),
        BlockSpec::row(Role::Scalar, kernel.n_params()),
    ])
}

/// Total values of `specs`, `None` on overflow.
pub(crate) fn specs_total(specs: &[BlockSpec]) -> Option<usize> {
    specs.iter().try_fold(0usize, |a, s| s.rows.checked_mul(s.cols).and_then(|n| a.checked_add(n)))
}

/// A prediction-only closed-form-kernel posterior over borrowed storage, native or the encoded
/// blocks of a blob (no allocation).
///
/// ```
/// use svgp::deploy::{KernelModel, KernelPosterior};
/// use svgp::kernel::Rbf;
/// // One inducing point at 0 with q(v) = N(1, 0.1²), unit RBF.
/// let params = [0.0, 0.0, 0.0, 1.0, 0.1, -4.0];
/// let model = KernelModel::from_flat(Rbf::new(1), 1, 0.0, &params)?;
/// let mut storage = [0.0_f32; 7];
/// let post = KernelPosterior::build(&model, &mut storage, &mut [0.0; 2])?;
/// let mut ws = vec![0.0; post.workspace_len()?];
/// let p = post.predict(&[0.0_f32], &mut ws)?;
/// assert!((p.mean - 1.0).abs() < 1e-6 && (p.variance - 0.01).abs() < 1e-6);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct KernelPosterior<'a, S, K> {
    kernel: K,
    m: usize,
    likelihood: Likelihood,
    blocks: [Block<'a, S>; KERNEL_BLOCKS],
}

impl<'a, S: StoredScalar, K: Kernel> KernelPosterior<'a, S, K> {
    /// Native storage length for a kernel and M inducing points (Gaussian likelihood).
    pub fn storage_len(kernel: &K, m: usize) -> Result<usize> {
        kernel_specs(kernel, m, Likelihood::Gaussian)
            .and_then(|s| specs_total(&s))
            .ok_or(Error::SizeOverflow { what: "kernel posterior storage" })
    }

    /// Views native `storage` ([`Self::storage_len`] long, the layout [`Self::build`] writes),
    /// checking its length, finiteness, a positive noise variance and a positive diagonal of
    /// L_z (the solve divides by it).
    pub fn from_storage(kernel: K, m: usize, storage: &'a [S]) -> Result<Self> {
        Self::from_native(kernel, m, Likelihood::Gaussian, storage)
    }

    pub(crate) fn from_native(kernel: K, m: usize, likelihood: Likelihood, storage: &'a [S]) -> Result<Self> {
        let specs = kernel_specs(&kernel, m, likelihood)
            .ok_or(Error::SizeOverflow { what: "kernel posterior storage" })?;
        let total = specs_total(&specs).ok_or(Error::SizeOverflow { what: "kernel posterior storage" })?;
        check_len("kernel posterior storage", total, storage.len())?;
        check_finite("kernel posterior storage", storage)?;
        let mut blocks = [Block::default(); KERNEL_BLOCKS];
        let mut rest = storage;
        for (b, s) in blocks.iter_mut().zip(&specs) {
            let (now, later) = rest.split_at(s.rows * s.cols);
            *b = Block::native(s.rows, s.cols, now)?;
            rest = later;
        }
        Self::from_blocks(kernel, m, likelihood, blocks)
    }

    /// A posterior from its blocks (values checked finite by the caller): checks the shapes,
    /// the likelihood's parameters and L_z's diagonal.
    pub(crate) fn from_blocks(
        kernel: K,
        m: usize,
        likelihood: Likelihood,
        blocks: [Block<'a, S>; KERNEL_BLOCKS],
    ) -> Result<Self> {
        let specs = kernel_specs(&kernel, m, likelihood)
            .ok_or(Error::SizeOverflow { what: "kernel posterior storage" })?;
        for (b, s) in blocks.iter().zip(&specs) {
            check_len("kernel posterior block rows", s.rows, b.rows())?;
            check_len("kernel posterior block columns", s.cols, b.cols())?;
        }
        likelihood.check(&blocks[0])?;
        for i in 0..m {
            let v = blocks[3].get(i * (i + 1) / 2 + i);
            if v <= S::zero() {
                return Err(Error::NotPositiveDefinite { pivot: i, value: v.re() });
            }
        }
        Ok(Self { kernel, m, likelihood, blocks })
    }

    /// Computes the compact posterior in `f64` and stores it, rounded to `S`, in `storage`
    /// ([`Self::storage_len`] long); `ws` holds [`KernelModel::build_workspace_len`] `f64`s.
    pub fn build(model: &KernelModel<'_, K>, storage: &'a mut [S], ws: &mut [f64]) -> Result<Self> {
        let k = *model.kernel();
        let m = model.n_inducing();
        check_len("kernel posterior storage", Self::storage_len(&k, m)?, storage.len())?;
        let SvgpParts { prior, z, mean, scale_tril, likelihood } = model.svgp.parts(model.params)?;
        let BuildWs { kzz, alpha } = model.build_ws()?.carve(ws)?;
        let noise = libm::exp(likelihood[0]);
        if !noise.is_finite() || noise <= 0.0 {
            return Err(Error::InvalidParameter { what: "ln noise variance", value: likelihood[0] });
        }
        gram(&k, prior, z, kzz)?;
        cholesky_in_place(MatMut::new(m, m, kzz)?, Jitter::Fixed(model.svgp.jitter()))?;
        alpha.copy_from_slice(mean);
        solve_triangular(MatRef::new(m, m, kzz)?, Side::LowerTrans, MatMut::new(m, 1, alpha)?)?;

        let cast =
            |dst: &mut [S], src: &[f64]| dst.iter_mut().zip(src).for_each(|(o, &v)| *o = S::from_f64(v));
        let tri = m * (m + 1) / 2;
        let (noise_out, rest) = storage.split_at_mut(1);
        let (alpha_out, rest) = rest.split_at_mut(m);
        let (z_out, rest) = rest.split_at_mut(z.len());
        let (lz_out, rest) = rest.split_at_mut(tri);
        let (l_out, kernel_out) = rest.split_at_mut(tri);
        noise_out[0] = S::from_f64(noise);
        cast(alpha_out, alpha);
        cast(z_out, z);
        let mut lz = PackedLower::new(m, lz_out)?;
        for i in 0..m {
            cast(lz.row_mut(i), &kzz[i * m..i * m + i + 1]);
        }
        cast(l_out, scale_tril);
        cast(kernel_out, prior);
        Self::from_storage(k, m, storage)
    }

    /// The kernel.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }
    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.m
    }
    /// The likelihood the model was trained with.
    pub fn likelihood(&self) -> Likelihood {
        self.likelihood
    }
    /// The Gaussian likelihood's noise variance σ_n².
    pub fn noise_variance(&self) -> S {
        self.blocks[0].get(0)
    }
    /// The kernel's parameters.
    pub fn kernel_params(&self) -> &Block<'a, S> {
        &self.blocks[5]
    }
    /// The storage blocks in order, with their roles (for a writer).
    pub(crate) fn blocks(&self) -> ([Block<'a, S>; KERNEL_BLOCKS], [BlockSpec; KERNEL_BLOCKS]) {
        // The specs exist: the same shapes were accepted at construction.
        let specs = kernel_specs(&self.kernel, self.m, self.likelihood)
            .unwrap_or([BlockSpec::row(Role::Scalar, 0); KERNEL_BLOCKS]);
        (self.blocks, specs)
    }
    /// Workspace length [`Self::predict`] needs.
    pub fn workspace_len(&self) -> Result<usize> {
        Self::workspace_len_for(&self.kernel, self.m)
    }
    /// [`Self::workspace_len`] before a posterior exists (to size static buffers).
    pub fn workspace_len_for(kernel: &K, m: usize) -> Result<usize> {
        Ok(Self::predict_ws(kernel, m)?.total())
    }
    fn predict_ws(kernel: &K, m: usize) -> Result<PredictWs<usize>> {
        PredictWs {
            a: Size::of(m),
            t: Size::of(m),
            params: Size::of(kernel.n_params()),
            z: Size::of(kernel.input_dim()),
        }
        .resolve()
    }

    /// k_z(x) into `kz` (M), with the kernel's parameters decoded into `params`.
    fn cross(&self, x: &[S], ws: PredictWs<&mut [S]>) -> Result<()> {
        let d = self.kernel.input_dim();
        check_len("input x", d, x.len())?;
        check_finite("input x", x)?;
        let PredictWs { a: kz, params, z, .. } = ws;
        self.blocks[5].decode_into(params)?;
        let zb = &self.blocks[2];
        for (i, o) in kz.iter_mut().enumerate() {
            for (c, v) in z.iter_mut().enumerate() {
                *v = zb.get(i * d + c);
            }
            *o = self.kernel.eval(params, z, x);
        }
        Ok(())
    }

    /// Posterior mean at one input `x` (D values): k_z(x)·α.
    pub fn predict_mean(&self, x: &[S], ws: &mut [S]) -> Result<S> {
        let PredictWs { a, t, params, z } = Self::predict_ws(&self.kernel, self.m)?.carve(ws)?;
        self.cross(x, PredictWs { a: &mut *a, t, params, z })?;
        let mean = self.blocks[1].dot(0, a);
        finite(Prediction { mean, variance: S::zero() }).map(|p| p.mean)
    }

    /// Posterior mean and latent variance (never negative) at one input `x`.
    pub fn predict(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let m = self.m;
        let PredictWs { a, t, params, z } = Self::predict_ws(&self.kernel, m)?.carve(ws)?;
        self.cross(x, PredictWs { a: &mut *a, t: &mut *t, params: &mut *params, z })?;
        let mean = self.blocks[1].dot(0, a);
        // a = L_z⁻¹ k_z(x) by forward substitution on the packed rows.
        let (lz, l) = (&self.blocks[3], &self.blocks[4]);
        for i in 0..m {
            let row = i * (i + 1) / 2;
            let s = a[i] - lz.dot(row, &a[..i]);
            a[i] = s / lz.get(row + i);
        }
        // t = Lᵀ a, accumulated row by row of L.
        t.iter_mut().for_each(|v| *v = S::zero());
        for i in 0..m {
            let row = i * (i + 1) / 2;
            for (k, tk) in t[..=i].iter_mut().enumerate() {
                *tk += l.get(row + k) * a[i];
            }
        }
        let kxx = self.kernel.eval_diag(params, x);
        let dot = |v: &[S]| v.iter().fold(S::zero(), |acc, &e| acc + e * e);
        let variance = (kxx - dot(a) + dot(t)).max(S::zero());
        finite(Prediction { mean, variance })
    }

    /// The predictive mean and variance of the observation y at `x` (Gaussian: the noise
    /// variance added).
    pub fn predict_observation(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let latent = self.predict(x, ws)?;
        finite(self.likelihood.observe(&self.blocks[0], latent))
    }

    /// The same posterior with every block decoded into native `storage` (at least the total
    /// number of values long).
    pub fn decode_into<'s>(&self, storage: &'s mut [S]) -> Result<KernelPosterior<'s, S, K>> {
        let total: usize = self.blocks.iter().map(Block::len).sum();
        check_buf("kernel posterior storage", total, storage.len())?;
        let out = &mut storage[..total];
        let mut rest = &mut out[..];
        for b in &self.blocks {
            let (now, later) = rest.split_at_mut(b.len());
            b.decode_into(now)?;
            rest = later;
        }
        KernelPosterior::from_native(self.kernel, self.m, self.likelihood, out)
    }
}
