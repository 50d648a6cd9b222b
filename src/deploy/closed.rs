//! The compact posterior of an SVGP with a closed-form kernel (RBF, Matérn, ...).
//!
//! With K_zz + jitter·I = L_z L_zᵀ, a(x) = L_z⁻¹ k_z(x) and q(v) = N(m, L Lᵀ):
//! mean(x) = aᵀm = k_z(x)·α with α = L_z⁻ᵀ m, and var(x) = k(x, x) − |a|² + |Lᵀa|² (clipped at 0).
//! Nothing collapses here: a prediction costs M kernel evaluations, one triangular solve
//! (M²/2) and one triangular product (M²/2). The storage keeps Z, α, L_z and L (both packed),
//! rather than the single M × M matrix L_z⁻ᵀ(L Lᵀ − I)L_z⁻¹, whose entries grow like
//! 1/jitter and would lose everything to cancellation in `f32`.

use super::feature::{dot, finite};
use super::prediction::Prediction;
use crate::error::{check_finite, check_len, Error, Result};
use crate::gp::{Closed, Svgp, SvgpParts};
use crate::kernel::{gram, Kernel};
use crate::layout::Size;
use crate::linalg::{cholesky_in_place, solve_triangular, Jitter, MatMut, MatRef, PackedLower, Side};
use crate::Scalar;

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
    /// A closed-form posterior's storage, the payload of its blob: σ_n², α (M), Z (M × D),
    /// L_z and L (packed, M(M+1)/2 each) and the kernel's parameters (P).
    "kernel posterior storage": pub(crate) struct KernelStorage { noise, alpha, z, lz, l, kernel }
}

/// The storage parts for M inducing points in D dimensions and P kernel parameters (sizes may
/// come from an untrusted header: every product is checked).
pub(crate) fn kernel_storage(m: usize, d: usize, p: usize) -> Result<KernelStorage<usize>> {
    let tri = PackedLower::size(m);
    KernelStorage {
        noise: Size::of(1),
        alpha: Size::of(m),
        z: Size::of(m) * d,
        lz: tri,
        l: tri,
        kernel: Size::of(p),
    }
    .resolve()
}

crate::parts! {
    /// A closed-form posterior's prediction workspace: a = L_z⁻¹k_z(x) and t = Lᵀa (M each).
    "kernel posterior predict workspace": struct PredictWs { a, t }
}

/// A prediction-only closed-form-kernel posterior over borrowed storage (no allocation).
///
/// ```
/// use svgp::deploy::{KernelModel, KernelPosterior};
/// use svgp::kernel::Rbf;
/// // One inducing point at 0 with q(v) = N(1, 0.1²), unit RBF.
/// let params = [0.0, 0.0, 0.0, 1.0, 0.1, -4.0];
/// let model = KernelModel::from_flat(Rbf::new(1), 1, 0.0, &params)?;
/// let mut storage = [0.0_f32; 7];
/// let post = KernelPosterior::build(&model, &mut storage, &mut [0.0; 2])?;
/// let p = post.predict(&[0.0_f32], &mut [0.0; 2])?;
/// assert!((p.mean - 1.0).abs() < 1e-6 && (p.variance - 0.01).abs() < 1e-6);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct KernelPosterior<'a, S, K> {
    kernel: K,
    m: usize,
    parts: KernelStorage<&'a [S]>,
    storage: &'a [S],
}

impl<'a, S: Scalar, K: Kernel> KernelPosterior<'a, S, K> {
    /// Storage length for a kernel and M inducing points.
    pub fn storage_len(kernel: &K, m: usize) -> Result<usize> {
        Ok(kernel_storage(m, kernel.input_dim(), kernel.n_params())?.total())
    }

    /// Views `storage` as a posterior, checking its length, finiteness, a positive noise
    /// variance and a positive diagonal of L_z (the solve divides by it).
    pub fn from_storage(kernel: K, m: usize, storage: &'a [S]) -> Result<Self> {
        let parts = kernel_storage(m, kernel.input_dim(), kernel.n_params())?.carve_exact(storage)?;
        check_finite("kernel posterior storage", storage)?;
        if parts.noise[0] <= S::zero() {
            return Err(Error::InvalidParameter { what: "noise variance", value: parts.noise[0].re() });
        }
        let lz = PackedLower::new(m, parts.lz)?;
        for i in 0..m {
            let v = lz.diag(i);
            if v <= S::zero() {
                return Err(Error::NotPositiveDefinite { pivot: i, value: v.re() });
            }
        }
        Ok(Self { kernel, m, parts, storage })
    }

    /// Computes the compact posterior in `f64` and stores it, rounded to `S`, in `storage`
    /// ([`Self::storage_len`] long); `ws` holds [`KernelModel::build_workspace_len`] `f64`s.
    pub fn build(model: &KernelModel<'_, K>, storage: &'a mut [S], ws: &mut [f64]) -> Result<Self> {
        let k = *model.kernel();
        let m = model.n_inducing();
        let out = kernel_storage(m, k.input_dim(), k.n_params())?.carve_exact(&mut *storage)?;
        let SvgpParts { prior, z, mean, scale_tril, likelihood } = model.svgp.parts(model.params)?;
        let BuildWs { kzz, alpha } = model.build_ws()?.carve(ws)?;
        let noise = likelihood[0].exp();
        if !noise.is_finite() || noise <= 0.0 {
            return Err(Error::InvalidParameter { what: "ln noise variance", value: likelihood[0] });
        }
        gram(&k, prior, z, kzz)?;
        cholesky_in_place(MatMut::new(m, m, kzz)?, Jitter::Fixed(model.svgp.jitter()))?;
        alpha.copy_from_slice(mean);
        solve_triangular(MatRef::new(m, m, kzz)?, Side::LowerTrans, MatMut::new(m, 1, alpha)?)?;

        let cast =
            |dst: &mut [S], src: &[f64]| dst.iter_mut().zip(src).for_each(|(o, &v)| *o = S::from_f64(v));
        out.noise[0] = S::from_f64(noise);
        cast(out.alpha, alpha);
        cast(out.z, z);
        let mut lz = PackedLower::new(m, out.lz)?;
        for i in 0..m {
            cast(lz.row_mut(i), &kzz[i * m..i * m + i + 1]);
        }
        cast(out.l, scale_tril);
        cast(out.kernel, prior);
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
    /// The whole storage, in the layout the model format writes.
    pub fn storage(&self) -> &'a [S] {
        self.storage
    }
    /// The likelihood's noise variance σ_n².
    pub fn noise_variance(&self) -> S {
        self.parts.noise[0]
    }
    /// The kernel's parameters.
    pub fn kernel_params(&self) -> &'a [S] {
        self.parts.kernel
    }
    /// Workspace length [`Self::predict`] needs.
    pub fn workspace_len(&self) -> Result<usize> {
        Self::workspace_len_for(self.m)
    }
    /// [`Self::workspace_len`] before a posterior exists (to size static buffers).
    pub fn workspace_len_for(m: usize) -> Result<usize> {
        Ok(Self::predict_ws(m)?.total())
    }
    fn predict_ws(m: usize) -> Result<PredictWs<usize>> {
        PredictWs { a: Size::of(m), t: Size::of(m) }.resolve()
    }

    /// k_z(x) into `kz` (M).
    fn cross(&self, x: &[S], kz: &mut [S]) -> Result<()> {
        let d = self.kernel.input_dim();
        check_len("input x", d, x.len())?;
        check_finite("input x", x)?;
        let params = self.kernel_params();
        for (o, zi) in kz.iter_mut().zip(self.parts.z.chunks_exact(d)) {
            *o = self.kernel.eval(params, zi, x);
        }
        Ok(())
    }

    /// Posterior mean at one input `x` (D values): k_z(x)·α.
    pub fn predict_mean(&self, x: &[S], ws: &mut [S]) -> Result<S> {
        let PredictWs { a: kz, .. } = Self::predict_ws(self.m)?.carve(ws)?;
        self.cross(x, kz)?;
        let mean = dot(kz, self.parts.alpha);
        finite(Prediction { mean, variance: S::zero() }).map(|p| p.mean)
    }

    /// Posterior mean and latent variance (never negative) at one input `x`.
    pub fn predict(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let m = self.m;
        let PredictWs { a, t } = Self::predict_ws(m)?.carve(ws)?;
        self.cross(x, a)?;
        let mean = dot(a, self.parts.alpha);
        // a = L_z⁻¹ k_z(x) by forward substitution on the packed rows.
        let lz = PackedLower::new(m, self.parts.lz)?;
        for i in 0..m {
            let row = lz.row(i);
            let s = a[i] - dot(&row[..i], &a[..i]);
            a[i] = s / row[i];
        }
        // t = Lᵀ a, accumulated row by row of L.
        let l = PackedLower::new(m, self.parts.l)?;
        t.iter_mut().for_each(|v| *v = S::zero());
        for i in 0..m {
            for (tj, &lij) in t[..=i].iter_mut().zip(l.row(i)) {
                *tj += lij * a[i];
            }
        }
        let kxx = self.kernel.eval_diag(self.kernel_params(), x);
        let variance = (kxx - dot(a, a) + dot(t, t)).max(S::zero());
        finite(Prediction { mean, variance })
    }
}
