//! Random Fourier features (Rahimi & Recht 2007) for stationary kernels, with orthogonal
//! coupling (Yu et al. 2016, "Orthogonal random features") as an option.
//!
//! Bochner: a stationary unit-variance kernel is k(x − x') = E_ω[cos(ω·(x − x'))] for ω drawn
//! from its normalised spectral density, so Monte-Carlo averages of cosines approximate it,
//! with an error that shrinks like 1/√J. Only the *draw* of the frequencies depends on the
//! kernel; the map itself is the same for every spectrum.

use super::projection::{
    project, project_adjoint, projection_lens, projection_ws, ProjectionParams, ProjectionWs,
};
use super::FeatureMap;
use crate::error::{check_finite, Result};
use crate::kernel::Nu;
use crate::layout::SliceRef;
use crate::rng::{cauchy, chi, chi_squared, orthonormal_columns, standard_normal, uniform};
use crate::{Error, Scalar};
use rand_core::Rng;

/// The spectral density the frequencies are drawn from, i.e. the unit-variance kernel
/// ψ(x)·ψ(x') approximates (r = |x − x'|₂/ℓ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Spectrum {
    /// Squared exponential exp(−r²/2): ω ~ N(0, I_D).
    Rbf,
    /// Isotropic Matérn-ν (see [`Nu::correlation`]): ω ~ multivariate Student-t with 2ν degrees
    /// of freedom, ω = z·√(2ν/u), z ~ N(0, I_D), u ~ χ²_{2ν}, one u shared by all coordinates
    /// of a frequency. That makes the approximated kernel the isotropic Matérn in |x − x'|₂,
    /// not a product of 1-D Matérn kernels.
    Matern(Nu),
    /// The Laplacian kernel exp(−Σ_d |x_d − x'_d|/ℓ) (a product of 1-D exponential kernels,
    /// L1 distance): ω_d iid standard Cauchy. Not isotropic, so no orthogonal coupling.
    Laplace,
}

impl Spectrum {
    /// The unit-variance kernel this spectrum defines, at inputs `x`, `y` and lengthscale ℓ.
    pub fn kernel(self, lengthscale: f64, x: &[f64], y: &[f64]) -> f64 {
        let diffs = x.iter().zip(y).map(|(a, b)| (a - b) / lengthscale);
        match self {
            Spectrum::Rbf => libm::exp(-0.5 * diffs.map(|t| t * t).sum::<f64>()),
            Spectrum::Matern(nu) => nu.correlation(libm::sqrt(diffs.map(|t| t * t).sum::<f64>())),
            Spectrum::Laplace => libm::exp(-diffs.map(libm::fabs).sum::<f64>()),
        }
    }
}

/// How the J features are formed from the projections u = x·W/ℓ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FourierForm {
    /// ψ_j = √(2/J)·cos(u_j + b_j), b_j ~ U[0, 2π): one frequency per feature (M = J). The
    /// reference notebook's map.
    CosPhase,
    /// ψ = √(1/M)·[cos u_1, …, cos u_M, sin u_1, …, sin u_M]: J = 2M features, no phases; lower
    /// variance per frequency than `CosPhase`.
    CosSin,
}

/// How frequencies are coupled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coupling {
    /// Independent frequencies.
    Iid,
    /// Orthogonal random features: frequencies in blocks of D are mutually orthogonal
    /// (directions from a Haar-random orthogonal matrix, [`crate::rng::haar_orthogonal`]),
    /// each with a radius from the spectrum's radial law (χ_D for `Rbf`). Still unbiased for
    /// isotropic spectra, with lower variance. The last block may be partial.
    Orthogonal,
}

/// A random Fourier feature map x ↦ ψ(x) ∈ ℝ^J, with ψ(x)·ψ(x') ≈ the unit-variance kernel of
/// its [`Spectrum`] at lengthscale ℓ (the GP multiplies by σ² outside).
///
/// **Parameter layout** (flat buffer, all trainable or frozen at the caller's choice, named by
/// [`ProjectionParams`]): `[ln ℓ, W (D × M, row-major), b (M, only for CosPhase)]`, M frequencies (M = J for
/// CosPhase, J/2 for CosSin). Frequencies are stored at unit lengthscale; ℓ divides the
/// projection, so ln ℓ stays a single trainable scale.
///
/// ```
/// use svgp::features::{Coupling, FeatureMap, FourierForm, RandomFourier, Spectrum};
/// use svgp::rng::Xoshiro256;
/// let map = RandomFourier::new(2, 512, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Iid)?;
/// let mut params = vec![0.0; map.n_params()];
/// map.draw(&mut Xoshiro256::from_u64(1), 1.0, &mut params)?;
/// let x = [0.0, 0.0, 0.3, -0.2];
/// let mut psi = vec![0.0; 2 * 512];
/// let mut ws = vec![0.0; map.workspace_len(2)?];
/// map.features(&params, &x, &mut psi, &mut ws)?;
/// let k01: f64 = psi[..512].iter().zip(&psi[512..]).map(|(a, b)| a * b).sum();
/// let exact = Spectrum::Rbf.kernel(1.0, &x[..2], &x[2..]);
/// assert!((k01 - exact).abs() < 0.2);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RandomFourier {
    dim: usize,
    n_features: usize,
    form: FourierForm,
    spectrum: Spectrum,
    coupling: Coupling,
    lens: ProjectionParams<usize>,
}

impl RandomFourier {
    /// A map on `dim` inputs with `n_features` outputs (even for `CosSin`).
    ///
    /// Errors: zero sizes, an odd J with `CosSin`, orthogonal coupling with the non-isotropic
    /// `Laplace` spectrum, or a parameter count that overflows.
    pub fn new(
        dim: usize,
        n_features: usize,
        form: FourierForm,
        spectrum: Spectrum,
        coupling: Coupling,
    ) -> Result<Self> {
        if dim == 0 {
            return Err(Error::InvalidParameter { what: "input dimension", value: 0.0 });
        }
        if n_features == 0 || (form == FourierForm::CosSin && n_features % 2 == 1) {
            return Err(Error::InvalidParameter {
                what: "number of features (positive, even for CosSin)",
                value: n_features as f64,
            });
        }
        if coupling == Coupling::Orthogonal && spectrum == Spectrum::Laplace {
            return Err(Error::InvalidParameter {
                what: "orthogonal coupling needs an isotropic spectrum (Rbf or Matern)",
                value: 0.0,
            });
        }
        let m = if form == FourierForm::CosSin { n_features / 2 } else { n_features };
        let phases = if form == FourierForm::CosPhase { m } else { 0 };
        let lens = projection_lens(dim, m, phases)?;
        Ok(Self { dim, n_features, form, spectrum, coupling, lens })
    }

    /// Number of frequencies M (J for CosPhase, J/2 for CosSin).
    pub fn n_frequencies(&self) -> usize {
        match self.form {
            FourierForm::CosPhase => self.n_features,
            FourierForm::CosSin => self.n_features / 2,
        }
    }

    /// The spectrum, i.e. the approximated kernel.
    pub fn spectrum(&self) -> Spectrum {
        self.spectrum
    }

    /// Draws a full parameter buffer: ln ℓ = ln(`lengthscale`), the frequencies W from the
    /// spectrum (with the chosen coupling) and, for CosPhase, phases b ~ U[0, 2π).
    ///
    /// Reproducible: the same generator state gives the same buffer. W is drawn column by
    /// column (frequency by frequency), then b.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R, lengthscale: f64, params: &mut [f64]) -> Result<()> {
        let mut p = self.view(params)?;
        p.set_lengthscale(lengthscale)?;
        let (d, m) = (self.dim, self.n_frequencies());
        let w = &mut *p.w;
        match self.coupling {
            Coupling::Iid => {
                for j in 0..m {
                    let scale = self.radial_scale(rng);
                    for i in 0..d {
                        let z = match self.spectrum {
                            Spectrum::Laplace => cauchy(rng),
                            _ => standard_normal(rng),
                        };
                        w[i * m + j] = scale * z;
                    }
                }
            }
            Coupling::Orthogonal => {
                let mut j0 = 0;
                while j0 < m {
                    let nc = d.min(m - j0);
                    orthonormal_columns(rng, d, nc, w, m, j0);
                    for j in j0..j0 + nc {
                        // Radius of a spectral draw: χ_D for the Gaussian, times the t scale.
                        let r = chi(rng, d as f64) * self.radial_scale(rng);
                        for i in 0..d {
                            w[i * m + j] *= r;
                        }
                    }
                    j0 += nc;
                }
            }
        }
        for b in p.b.iter_mut() {
            *b = uniform(rng, 0.0, core::f64::consts::TAU);
        }
        Ok(())
    }

    /// The Student-t mixing scale √(2ν/u), u ~ χ²_{2ν}, for Matérn; 1 otherwise (no draw).
    fn radial_scale<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        match self.spectrum {
            Spectrum::Matern(nu) => {
                let dof = 2.0 * nu.value();
                libm::sqrt(dof / chi_squared(rng, dof))
            }
            _ => 1.0,
        }
    }

    fn check_shapes<'p, S: Scalar>(
        &self,
        params: &'p [S],
        x: &[S],
        out: &[S],
        ws: &[S],
    ) -> Result<(usize, ProjectionParams<&'p [S]>)> {
        let p = self.view(params)?;
        Ok((super::check_io(self, "random Fourier workspace", x, out, ws)?, p))
    }
}

impl FeatureMap for RandomFourier {
    type Params<C> = ProjectionParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<ProjectionParams<C>> {
        self.lens.carve_exact(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        check_finite("random Fourier parameters", params)?;
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_params(&self) -> usize {
        self.lens.total()
    }
    /// n × J (the local derivatives of the forward pass) plus one J-row of scratch.
    fn workspace_len(&self, n: usize) -> Result<usize> {
        Ok(projection_ws(n, self.n_features)?.total())
    }
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()> {
        let (n, p) = self.check_shapes(params, x, psi, ws)?;
        let (d, m, jn) = (self.dim, self.n_frequencies(), self.n_features);
        let inv_l = (-p.ln_lengthscale[0]).exp();
        let (w, b) = (p.w, p.b);
        let ProjectionWs { saved: saved_all, .. } = projection_ws(n, jn)?.carve(ws)?;
        for i in 0..n {
            let xi = &x[i * d..(i + 1) * d];
            let row = &mut psi[i * jn..(i + 1) * jn];
            let saved = &mut saved_all[i * jn..(i + 1) * jn];
            match self.form {
                FourierForm::CosPhase => {
                    // ws keeps dψ/dz = −c·sin z for the adjoint.
                    let c = S::from_f64(libm::sqrt(2.0 / jn as f64));
                    project(xi, w, inv_l, row);
                    for ((p, s), &bj) in row.iter_mut().zip(saved.iter_mut()).zip(b) {
                        let (sn, cs) = (*p + bj).sin_cos();
                        *p = c * cs;
                        *s = -(c * sn);
                    }
                }
                FourierForm::CosSin => {
                    // ws keeps ψ itself: d(c·cos u)/du = −ψ_sin, d(c·sin u)/du = ψ_cos.
                    let c = S::from_f64(libm::sqrt(1.0 / m as f64));
                    let (cos_half, sin_half) = row.split_at_mut(m);
                    project(xi, w, inv_l, cos_half);
                    for (pc, ps) in cos_half.iter_mut().zip(sin_half.iter_mut()) {
                        let (sn, cs) = pc.sin_cos();
                        *pc = c * cs;
                        *ps = c * sn;
                    }
                    saved.copy_from_slice(row);
                }
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
        let (n, p) = self.check_shapes(params, x, psi_bar, ws)?;
        super::check_grads(self, "random Fourier parameter gradient", n, grad_params, grad_x.as_deref())?;
        let (d, m, jn) = (self.dim, self.n_frequencies(), self.n_features);
        let inv_l = (-p.ln_lengthscale[0]).exp();
        let w = p.w;
        let ProjectionWs { saved: saved_all, scratch } = projection_ws(n, jn)?.carve(ws)?;
        let z_bar = &mut scratch[..m];
        let ProjectionParams { ln_lengthscale: g_ln_l, w: g_w, b: g_b } = self.view(grad_params)?;
        for i in 0..n {
            let pb = &psi_bar[i * jn..(i + 1) * jn];
            let saved = &saved_all[i * jn..(i + 1) * jn];
            match self.form {
                FourierForm::CosPhase => {
                    for ((zb, &p), &s) in z_bar.iter_mut().zip(pb).zip(saved) {
                        *zb = p * s;
                    }
                    for (gb, &zb) in g_b.iter_mut().zip(z_bar.iter()) {
                        *gb += zb;
                    }
                }
                FourierForm::CosSin => {
                    let (pc, ps) = pb.split_at(m);
                    let (sc, ss) = saved.split_at(m);
                    for j in 0..m {
                        z_bar[j] = ps[j] * sc[j] - pc[j] * ss[j];
                    }
                }
            }
            let gx = grad_x.as_deref_mut().map(|g| &mut g[i * d..(i + 1) * d]);
            g_ln_l[0] += project_adjoint(&x[i * d..(i + 1) * d], w, inv_l, z_bar, g_w, gx);
        }
        Ok(())
    }
}
