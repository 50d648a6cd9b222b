//! Hilbert-space GP features (Solin & Särkkä 2020; Riutort-Mayol et al. 2022): Dirichlet
//! Laplacian eigenfunctions on a box, weighted by the square root of the target kernel's
//! spectral density.
//!
//! On [−L, L] the Dirichlet eigenpairs are φ_j(x) = L^{−1/2}·sin(a_j(x + L)), a_j = πj/(2L),
//! j = 1, 2, …; on a box they multiply. For a stationary kernel with spectral density S,
//! k(x, x') ≈ Σ_k S(|a_k|)·φ_k(x)φ_k(x') inside the box, so ψ_k = √S(|a_k|)·φ_k. The sum is
//! deterministic: its error falls as the number of eigenfunctions grows (fast once the
//! highest frequency a_m covers the spectrum, i.e. m ≳ 2L/ℓ) and as the boundary moves away
//! from the data (L ≳ 1.5× the data's half-width). Outside [−L, L] the approximation is void.

use super::fourier::Spectrum;
use super::FeatureMap;
use crate::error::{check_finite, Result};
use crate::kernel::{check_log_param, log_of_positive};
use crate::layout::{Size, SliceRef};
use crate::{Error, Scalar};
use core::ops::{Deref, DerefMut};

crate::parts! {
    /// The parameters of [`Hsgp`] by name: `[ln ℓ | L_1, …, L_D]`, the lengthscale and the box
    /// half-widths (positive, not logged). What [`FeatureMap::view`] returns for it.
    "HSGP parameters": pub struct HsgpParams {
        /// ln ℓ (one value).
        ln_lengthscale,
        /// The box half-widths L_1, …, L_D.
        half_widths,
    }
}

impl<S: Scalar, C: Deref<Target = [S]>> HsgpParams<C> {
    /// The lengthscale ℓ.
    pub fn lengthscale(&self) -> S {
        self.ln_lengthscale[0].exp()
    }
    /// [`Error::InvalidParameter`] unless ℓ² is finite and positive, and
    /// [`Error::NonFinite`] unless every half-width is finite and > 0.
    pub fn check(&self) -> Result<()> {
        check_log_param("HSGP ln lengthscale", self.ln_lengthscale[0], 2.0)?;
        for (index, &l) in self.half_widths.iter().enumerate() {
            if !(l.re() > 0.0 && l.re().is_finite()) {
                return Err(Error::NonFinite { what: "HSGP half-width (must be > 0)", index, value: l.re() });
            }
        }
        Ok(())
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> HsgpParams<C> {
    /// Sets ℓ (finite, > 0).
    pub fn set_lengthscale(&mut self, lengthscale: f64) -> Result<()> {
        self.ln_lengthscale[0] = S::from_f64(log_of_positive("HSGP lengthscale", lengthscale)?);
        Ok(())
    }
}

crate::parts! {
    /// Per call: √S, ∂ln√S/∂ln ℓ and ∂ln√S/∂ω² per feature (J each), and the eigenfunction
    /// values and derivatives of one input (D × m each).
    "HSGP workspace": struct HsgpWs { sqrt_s, d_ln_l, d_w2, phi, dphi }
}

/// HSGP features: the first m eigenfunctions per dimension, tensor product, J = m^D.
///
/// Feature k has multi-index (j_1, …, j_D), j_d ∈ 1..=m, with the last dimension varying
/// fastest. ψ(x)·ψ(x') approximates the unit-variance kernel of the [`Spectrum`] (RBF or
/// isotropic Matérn; the Laplace product kernel is not supported).
///
/// **Parameter layout:** `[ln ℓ, L_1, …, L_D]` (named by [`HsgpParams`]): the lengthscale and
/// the box half-widths (positive, not logged; usually frozen, but their gradient is computed too).
///
/// ```
/// use svgp::features::{FeatureMap, Hsgp, Spectrum};
/// let map = Hsgp::new(1, 32, Spectrum::Rbf)?;
/// let params = [0.5_f64.ln(), 3.0]; // ℓ = 0.5 on the box [−3, 3]
/// let mut psi = vec![0.0; 2 * 32];
/// let mut ws = vec![0.0; map.workspace_len(2)?];
/// map.features(&params, &[0.0, 0.4], &mut psi, &mut ws)?;
/// let k01: f64 = psi[..32].iter().zip(&psi[32..]).map(|(a, b)| a * b).sum();
/// assert!((k01 - (-0.5_f64 * 0.64).exp()).abs() < 1e-3);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hsgp {
    dim: usize,
    m: usize,
    n_features: usize,
    spectrum: Spectrum,
    ws: HsgpWs<usize>,
}

impl Hsgp {
    /// `m` eigenfunctions per dimension on `dim` inputs, for an RBF or Matérn target.
    pub fn new(dim: usize, m: usize, spectrum: Spectrum) -> Result<Self> {
        if dim == 0 || m == 0 {
            return Err(Error::InvalidParameter { what: "HSGP sizes", value: 0.0 });
        }
        if spectrum == Spectrum::Laplace {
            return Err(Error::InvalidParameter { what: "HSGP spectrum (Rbf or Matern)", value: 0.0 });
        }
        let n_features = u32::try_from(dim)
            .ok()
            .and_then(|d| m.checked_pow(d))
            .ok_or(Error::InvalidParameter { what: "HSGP feature count m^D", value: m as f64 })?;
        let (j, dm) = (Size::of(n_features), Size::of(dim) * m);
        let ws = HsgpWs { sqrt_s: j, d_ln_l: j, d_w2: j, phi: dm, dphi: dm }.resolve()?;
        Ok(Self { dim, m, n_features, spectrum, ws })
    }

    /// Eigenfunctions per dimension.
    pub fn per_dim(&self) -> usize {
        self.m
    }

    /// A parameter buffer for a lengthscale and one half-width (finite, > 0) for every dimension.
    pub fn params(&self, lengthscale: f64, half_width: f64, out: &mut [f64]) -> Result<()> {
        let mut p = self.view(out)?;
        p.set_lengthscale(lengthscale)?;
        p.half_widths.fill(half_width);
        p.check()
    }

    fn check_shapes<S: Scalar>(&self, params: &[S], x: &[S], out: &[S], ws: &[S]) -> Result<usize> {
        let p = self.view(params)?;
        for (index, &l) in p.half_widths.iter().enumerate() {
            if !(l.re() > 0.0 && l.re().is_finite()) {
                return Err(Error::NonFinite { what: "HSGP half-width (must be > 0)", index, value: l.re() });
            }
        }
        super::check_io(self, "HSGP workspace", x, out, ws)
    }

    /// Frequency index j_d − 1 of feature k in dimension d.
    #[inline]
    fn index(&self, mut k: usize, d: usize) -> usize {
        for _ in d + 1..self.dim {
            k /= self.m;
        }
        k % self.m
    }

    /// a_{d,j} = π(j + 1)/(2 L_d).
    #[inline]
    fn freq<S: Scalar>(half_width: S, j: usize) -> S {
        S::from_f64(core::f64::consts::FRAC_PI_2 * (j + 1) as f64) / half_width
    }

    /// Per feature: √S, ∂ln√S/∂ln ℓ and ∂ln√S/∂ω², into three J-slices.
    fn spectral<S: Scalar>(&self, p: &HsgpParams<&[S]>, sqrt_s: &mut [S], d_ln_l: &mut [S], d_w2: &mut [S]) {
        let ln_l = p.ln_lengthscale[0];
        let l2 = (ln_l + ln_l).exp();
        let dim = self.dim as f64;
        for k in 0..self.n_features {
            let mut w2 = S::zero();
            for d in 0..self.dim {
                let a = Self::freq(p.half_widths[d], self.index(k, d));
                w2 += a * a;
            }
            let (ln_s, g_l, g_w) = match self.spectrum {
                Spectrum::Matern(nu) => {
                    let nu = nu.value();
                    let e = nu + 0.5 * dim;
                    let ln_c = dim * core::f64::consts::LN_2
                        + 0.5 * dim * libm::log(core::f64::consts::PI)
                        + libm::lgamma(e)
                        + nu * libm::log(2.0 * nu)
                        - libm::lgamma(nu);
                    let q = S::from_f64(2.0 * nu) / l2 + w2;
                    let ln_s = S::from_f64(0.5)
                        * (S::from_f64(ln_c) - S::from_f64(2.0 * nu) * ln_l - S::from_f64(e) * q.ln());
                    let g_l = S::from_f64(-nu) + S::from_f64(e * 2.0 * nu) / (l2 * q);
                    (ln_s, g_l, S::from_f64(-0.5 * e) / q)
                }
                _ => {
                    let ln_s = S::from_f64(0.25 * dim * libm::log(core::f64::consts::TAU))
                        + S::from_f64(0.5 * dim) * ln_l
                        - S::from_f64(0.25) * l2 * w2;
                    (ln_s, S::from_f64(0.5 * dim) - S::from_f64(0.5) * l2 * w2, S::from_f64(-0.25) * l2)
                }
            };
            sqrt_s[k] = ln_s.exp();
            d_ln_l[k] = g_l;
            d_w2[k] = g_w;
        }
    }

    /// φ_{d,j}(x_d) and ∂φ/∂x_d for one input, into two D × m tables.
    fn eigen_table<S: Scalar>(&self, half_widths: &[S], x: &[S], phi: &mut [S], dphi: &mut [S]) {
        for d in 0..self.dim {
            let l = half_widths[d];
            let norm = l.sqrt().recip();
            for j in 0..self.m {
                let a = Self::freq(l, j);
                let (s, c) = (a * (x[d] + l)).sin_cos();
                phi[d * self.m + j] = norm * s;
                dphi[d * self.m + j] = norm * a * c;
            }
        }
    }
}

impl FeatureMap for Hsgp {
    type Params<C> = HsgpParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<HsgpParams<C>> {
        HsgpParams { ln_lengthscale: 1, half_widths: self.dim }.carve_exact(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        check_finite("HSGP parameters", params)?;
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_params(&self) -> usize {
        self.dim.saturating_add(1)
    }
    /// 3J spectral values plus two D × m eigenfunction tables (independent of n).
    fn workspace_len(&self, _n: usize) -> Result<usize> {
        Ok(self.ws.total())
    }
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()> {
        let n = self.check_shapes(params, x, psi, ws)?;
        let jn = self.n_features;
        let HsgpWs { sqrt_s, d_ln_l, d_w2, phi, dphi } = self.ws.carve(ws)?;
        let p = self.view(params)?;
        self.spectral(&p, sqrt_s, d_ln_l, d_w2);
        for i in 0..n {
            self.eigen_table(p.half_widths, &x[i * self.dim..(i + 1) * self.dim], phi, dphi);
            for (k, p) in psi[i * jn..(i + 1) * jn].iter_mut().enumerate() {
                let mut v = sqrt_s[k];
                for d in 0..self.dim {
                    v *= phi[d * self.m + self.index(k, d)];
                }
                *p = v;
            }
        }
        Ok(())
    }
    fn features_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        psi_bar: &[S],
        grad_params: &mut [S],
        mut grad_x: Option<&mut [S]>,
        ws: &mut [S],
    ) -> Result<()> {
        let n = self.check_shapes(params, x, psi_bar, ws)?;
        super::check_grads(self, "HSGP parameter gradient", n, grad_params, grad_x.as_deref())?;
        let (dim, jn) = (self.dim, self.n_features);
        let HsgpWs { sqrt_s, d_ln_l, d_w2, phi, dphi } = self.ws.carve(ws)?;
        let p = self.view(params)?;
        let HsgpParams { ln_lengthscale: g_ln_l, half_widths: g_half } = self.view(grad_params)?;
        self.spectral(&p, sqrt_s, d_ln_l, d_w2);
        for i in 0..n {
            let xi = &x[i * dim..(i + 1) * dim];
            self.eigen_table(p.half_widths, xi, phi, dphi);
            for k in 0..jn {
                let g = psi_bar[i * jn + k];
                let mut psi = sqrt_s[k];
                for d in 0..dim {
                    psi *= phi[d * self.m + self.index(k, d)];
                }
                g_ln_l[0] += g * psi * d_ln_l[k];
                for d in 0..dim {
                    let jd = d * self.m + self.index(k, d);
                    // Q_d = √S · Π_{e≠d} φ_e (no division: φ may vanish).
                    let mut q = sqrt_s[k];
                    for e in (0..dim).filter(|&e| e != d) {
                        q *= phi[e * self.m + self.index(k, e)];
                    }
                    let l = p.half_widths[d];
                    let a = Self::freq(l, self.index(k, d));
                    // ψ depends on L_d through ω² (∂a²/∂L = −2a²/L) and through φ_d:
                    // ∂φ/∂L = −φ/(2L) − x·φ'/L.
                    let dphi_dl = -(phi[jd] * S::from_f64(0.5) + xi[d] * dphi[jd]) / l;
                    g_half[d] += g * (psi * d_w2[k] * S::from_f64(-2.0) * a * a / l + q * dphi_dl);
                    if let Some(gx) = grad_x.as_deref_mut() {
                        gx[i * dim + d] += g * q * dphi[jd];
                    }
                }
            }
        }
        Ok(())
    }
}
