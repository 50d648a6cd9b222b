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
use crate::error::{check_buf, check_len, Error, Result};
use crate::kernel::{gram, Kernel};
use crate::linalg::{cholesky_in_place, solve_triangular, Jitter, MatMut, MatRef, Side};
use crate::Scalar;

/// A trained closed-form-kernel SVGP as `f64` pieces (conventions as in
/// [`super::FeatureModel`]; the kernel's own parameters come first in the flat buffer).
#[derive(Clone, Copy, Debug)]
pub struct KernelModel<'a, K> {
    /// The covariance function.
    pub kernel: K,
    /// Its parameters (`kernel.n_params()`).
    pub kernel_params: &'a [f64],
    /// Inducing inputs Z, M × D row-major.
    pub z: &'a [f64],
    /// Whitened variational mean m (M).
    pub m: &'a [f64],
    /// Whitened variational factor L, packed lower triangle (M(M+1)/2).
    pub l_packed: &'a [f64],
    /// ln σ_n², the Gaussian likelihood's log noise variance.
    pub ln_noise_variance: f64,
    /// Jitter added to K_zz's diagonal.
    pub jitter: f64,
}

impl<'a, K: Kernel> KernelModel<'a, K> {
    /// Splits a flat buffer `[kernel params | Z (M × D) | m (M) | L packed | ln σ_n²]`.
    ///
    /// ```
    /// use svgp::{deploy::KernelModel, kernel::Rbf};
    /// let params = [0.0, 0.0, /* Z */ 0.5, /* m */ 1.0, /* L */ 0.1, /* ln σ_n² */ -4.0];
    /// let model = KernelModel::from_flat(Rbf::new(1), 1, 1e-6, &params)?;
    /// assert_eq!(model.l_packed, &[0.1]);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn from_flat(kernel: K, m: usize, jitter: f64, params: &'a [f64]) -> Result<Self> {
        let (p, d) = (kernel.n_params(), kernel.input_dim());
        check_len("flat SVGP parameters", p + m * d + m + m * (m + 1) / 2 + 1, params.len())?;
        let (kernel_params, rest) = params.split_at(p);
        let (z, rest) = rest.split_at(m * d);
        let (mv, rest) = rest.split_at(m);
        let (l_packed, rest) = rest.split_at(m * (m + 1) / 2);
        Ok(Self { kernel, kernel_params, z, m: mv, l_packed, ln_noise_variance: rest[0], jitter })
    }
    /// The pieces of a trained [`Svgp`](crate::gp::Svgp) with a closed-form prior.
    pub fn from_svgp(svgp: &crate::gp::Svgp<crate::gp::Closed<K>>, params: &'a [f64]) -> Result<Self> {
        Self::from_flat(svgp.prior.0, svgp.m, svgp.jitter, params)
    }
    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.m.len()
    }
    /// `f64` workspace length [`KernelPosterior::build`] needs.
    pub fn build_workspace_len(&self) -> usize {
        self.n_inducing() * (self.n_inducing() + 1)
    }
}

/// Offsets in the storage `[σ_n² | α (M) | Z (M × D) | L_z packed | L packed | kernel params]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    m: usize,
    d: usize,
    p: usize,
}

impl Layout {
    fn of<K: Kernel>(k: &K, m: usize) -> Self {
        Self { m, d: k.input_dim(), p: k.n_params() }
    }
    const ALPHA: usize = 1;
    fn z(&self) -> usize {
        Self::ALPHA + self.m
    }
    fn tri(&self) -> usize {
        self.m * (self.m + 1) / 2
    }
    fn lz(&self) -> usize {
        self.z() + self.m * self.d
    }
    fn l(&self) -> usize {
        self.lz() + self.tri()
    }
    fn params(&self) -> usize {
        self.l() + self.tri()
    }
    fn len(&self) -> Option<usize> {
        let tri = self.m.checked_add(1)?.checked_mul(self.m)? / 2;
        let md = self.m.checked_mul(self.d)?;
        (Self::ALPHA + self.p).checked_add(self.m)?.checked_add(md)?.checked_add(tri)?.checked_add(tri)
    }
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
    layout: Layout,
    storage: &'a [S],
}

impl<'a, S: Scalar, K: Kernel> KernelPosterior<'a, S, K> {
    /// Storage length for a kernel and M inducing points.
    pub fn storage_len(kernel: &K, m: usize) -> Result<usize> {
        Layout::of(kernel, m).len().ok_or(Error::InvalidParameter { what: "posterior size", value: m as f64 })
    }

    /// Views `storage` as a posterior, checking its length, finiteness, a positive noise
    /// variance and a positive diagonal of L_z (the solve divides by it).
    pub fn from_storage(kernel: K, m: usize, storage: &'a [S]) -> Result<Self> {
        check_len("kernel posterior storage", Self::storage_len(&kernel, m)?, storage.len())?;
        if let Some((index, v)) = storage.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "kernel posterior storage", index, value: v.re() });
        }
        let lay = Layout::of(&kernel, m);
        if storage[0] <= S::zero() {
            return Err(Error::InvalidParameter { what: "noise variance", value: storage[0].re() });
        }
        for i in 0..m {
            let v = storage[lay.lz() + i * (i + 1) / 2 + i];
            if v <= S::zero() {
                return Err(Error::NotPositiveDefinite { pivot: i, value: v.re() });
            }
        }
        Ok(Self { kernel, layout: lay, storage })
    }

    /// Computes the compact posterior in `f64` and stores it, rounded to `S`, in `storage`
    /// ([`Self::storage_len`] long); `ws` holds [`KernelModel::build_workspace_len`] `f64`s.
    pub fn build(model: &KernelModel<'_, K>, storage: &'a mut [S], ws: &mut [f64]) -> Result<Self> {
        let k = model.kernel;
        let lay = Layout::of(&k, model.n_inducing());
        let m = lay.m;
        check_len("kernel posterior storage", Self::storage_len(&k, m)?, storage.len())?;
        check_len("kernel parameters", lay.p, model.kernel_params.len())?;
        check_len("inducing inputs Z", m * lay.d, model.z.len())?;
        check_len("guide factor L (packed)", lay.tri(), model.l_packed.len())?;
        check_buf("build workspace", model.build_workspace_len(), ws.len())?;
        let noise = model.ln_noise_variance.exp();
        if !noise.is_finite() || noise <= 0.0 {
            return Err(Error::InvalidParameter {
                what: "ln noise variance",
                value: model.ln_noise_variance,
            });
        }
        let (kzz, alpha) = ws.split_at_mut(m * m);
        gram(&k, model.kernel_params, model.z, kzz)?;
        cholesky_in_place(MatMut::new(m, m, kzz)?, Jitter::Fixed(model.jitter))?;
        alpha[..m].copy_from_slice(model.m);
        solve_triangular(MatRef::new(m, m, kzz)?, Side::LowerTrans, MatMut::new(m, 1, &mut alpha[..m])?)?;

        let cast =
            |dst: &mut [S], src: &[f64]| dst.iter_mut().zip(src).for_each(|(o, &v)| *o = S::from_f64(v));
        storage[0] = S::from_f64(noise);
        cast(&mut storage[Layout::ALPHA..lay.z()], &alpha[..m]);
        cast(&mut storage[lay.z()..lay.lz()], model.z);
        for i in 0..m {
            let at = lay.lz() + i * (i + 1) / 2;
            cast(&mut storage[at..at + i + 1], &kzz[i * m..i * m + i + 1]);
        }
        cast(&mut storage[lay.l()..lay.params()], model.l_packed);
        cast(&mut storage[lay.params()..], model.kernel_params);
        Self::from_storage(k, m, storage)
    }

    /// The kernel.
    pub fn kernel(&self) -> &K {
        &self.kernel
    }
    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.layout.m
    }
    /// The whole storage, in the layout the model format writes.
    pub fn storage(&self) -> &'a [S] {
        self.storage
    }
    /// The likelihood's noise variance σ_n².
    pub fn noise_variance(&self) -> S {
        self.storage[0]
    }
    /// The kernel's parameters.
    pub fn kernel_params(&self) -> &'a [S] {
        &self.storage[self.layout.params()..]
    }
    /// Workspace length [`Self::predict`] needs.
    pub fn workspace_len(&self) -> usize {
        Self::workspace_len_for(self.layout.m)
    }
    /// [`Self::workspace_len`] before a posterior exists (to size static buffers).
    pub fn workspace_len_for(m: usize) -> usize {
        2 * m
    }

    /// k_z(x) into `kz` (M).
    fn cross(&self, x: &[S], kz: &mut [S]) -> Result<()> {
        check_len("input x", self.layout.d, x.len())?;
        if let Some((index, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::NonFinite { what: "input x", index, value: v.re() });
        }
        let z = &self.storage[self.layout.z()..self.layout.lz()];
        let params = self.kernel_params();
        for (o, zi) in kz.iter_mut().zip(z.chunks_exact(self.layout.d)) {
            *o = self.kernel.eval(params, zi, x);
        }
        Ok(())
    }

    /// Posterior mean at one input `x` (D values): k_z(x)·α.
    pub fn predict_mean(&self, x: &[S], ws: &mut [S]) -> Result<S> {
        check_buf("predict workspace", self.workspace_len(), ws.len())?;
        let kz = &mut ws[..self.layout.m];
        self.cross(x, kz)?;
        let mean = dot(kz, &self.storage[Layout::ALPHA..self.layout.z()]);
        finite(Prediction { mean, variance: S::zero() }).map(|p| p.mean)
    }

    /// Posterior mean and latent variance (never negative) at one input `x`.
    pub fn predict(&self, x: &[S], ws: &mut [S]) -> Result<Prediction<S>> {
        let lay = self.layout;
        let m = lay.m;
        check_buf("predict workspace", self.workspace_len(), ws.len())?;
        let (a, t) = ws.split_at_mut(m);
        self.cross(x, a)?;
        let mean = dot(a, &self.storage[Layout::ALPHA..lay.z()]);
        // a = L_z⁻¹ k_z(x) by forward substitution on the packed rows.
        let lz = &self.storage[lay.lz()..lay.l()];
        for i in 0..m {
            let row = &lz[i * (i + 1) / 2..(i + 1) * (i + 2) / 2];
            let s = a[i] - dot(&row[..i], &a[..i]);
            a[i] = s / row[i];
        }
        // t = Lᵀ a, accumulated row by row of L.
        let l = &self.storage[lay.l()..lay.params()];
        t[..m].iter_mut().for_each(|v| *v = S::zero());
        for i in 0..m {
            let row = &l[i * (i + 1) / 2..(i + 1) * (i + 2) / 2];
            for (tj, &lij) in t[..=i].iter_mut().zip(row) {
                *tj += lij * a[i];
            }
        }
        let kxx = self.kernel.eval_diag(self.kernel_params(), x);
        let variance = (kxx - dot(a, a) + dot(&t[..m], &t[..m])).max(S::zero());
        finite(Prediction { mean, variance })
    }
}
