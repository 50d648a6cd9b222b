//! Random features for the arc-cosine kernels (Cho & Saul 2009): one-layer networks with
//! Gaussian weights and threshold / ReLU / squared-ReLU units.

use super::projection::{
    project, project_adjoint, projection_lens, projection_ws, ProjectionParams, ProjectionWs,
};
use super::FeatureMap;
use crate::error::{check_finite, Result};
use crate::layout::SliceRef;
use crate::rng::standard_normal;
use crate::{Error, Scalar};
use rand_core::Rng;

/// ψ_j(x) = √(2/J)·Θ(z_j)·z_jⁿ with z = x·W/ℓ, W ~ N(0, I): ψ(x)·ψ(x') approximates the
/// unit-variance [`ArcCosine`](crate::kernel::ArcCosine) kernel of order n ∈ {0, 1, 2} at
/// lengthscale ℓ (order 0 ignores ℓ).
///
/// **Parameter layout:** `[ln ℓ, W (D × J, row-major)]` (named by [`ProjectionParams`], whose
/// phases `b` are empty here). The step Θ is taken as 0 at z = 0, so the order-0 map has zero
/// derivative everywhere it is differentiable (and we return 0 on the measure-zero set where
/// it is not), and the features of the origin are all 0: the kernel they approximate is 0
/// there too (see [`ArcCosine`](crate::kernel::ArcCosine)), and their Gram matrix ΨΨᵀ is
/// positive semi-definite for any inputs.
///
/// ```
/// use svgp::features::{ArcCosineFeatures, FeatureMap};
/// use svgp::rng::Xoshiro256;
/// let map = ArcCosineFeatures::new(3, 64, 1)?;
/// let mut params = vec![0.0; map.n_params()];
/// map.draw(&mut Xoshiro256::from_u64(5), 1.0, &mut params)?;
/// let mut psi = vec![0.0; 64];
/// map.features(&params, &[0.1, 0.2, 0.3], &mut psi, &mut vec![0.0; map.workspace_len(1)?])?;
/// assert!(psi.iter().all(|&p| p >= 0.0)); // ReLU units
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArcCosineFeatures {
    dim: usize,
    n_features: usize,
    order: u8,
    lens: ProjectionParams<usize>,
}

impl ArcCosineFeatures {
    /// `n_features` units of `order` 0, 1 or 2 on `dim` inputs.
    pub fn new(dim: usize, n_features: usize, order: u8) -> Result<Self> {
        if dim == 0 || n_features == 0 {
            return Err(Error::InvalidParameter { what: "arc-cosine feature sizes", value: 0.0 });
        }
        if order > 2 {
            return Err(Error::InvalidParameter {
                what: "arc-cosine order (0, 1 or 2)",
                value: order as f64,
            });
        }
        let lens = projection_lens(dim, n_features, 0)?;
        Ok(Self { dim, n_features, order, lens })
    }

    /// Draws `[ln ℓ, W]` with W ~ N(0, I), column by column; reproducible for a given generator state.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R, lengthscale: f64, params: &mut [f64]) -> Result<()> {
        let mut p = self.view(params)?;
        p.set_lengthscale(lengthscale)?;
        let (d, m) = (self.dim, self.n_features);
        for j in 0..m {
            for i in 0..d {
                p.w[i * m + j] = standard_normal(rng);
            }
        }
        Ok(())
    }

    fn check_shapes<'p, S: Scalar>(
        &self,
        params: &'p [S],
        x: &[S],
        out: &[S],
        ws: &[S],
    ) -> Result<(usize, ProjectionParams<&'p [S]>)> {
        let p = self.view(params)?;
        Ok((super::check_io(self, "arc-cosine workspace", x, out, ws)?, p))
    }
}

impl FeatureMap for ArcCosineFeatures {
    type Params<C> = ProjectionParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<ProjectionParams<C>> {
        self.lens.carve_exact(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        check_finite("arc-cosine parameters", params)?;
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
    /// n × J local derivatives dψ/dz plus one J-row of scratch.
    fn workspace_len(&self, n: usize) -> Result<usize> {
        Ok(projection_ws(n, self.n_features)?.total())
    }
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()> {
        let (n, p) = self.check_shapes(params, x, psi, ws)?;
        let (d, jn) = (self.dim, self.n_features);
        let c = S::from_f64(libm::sqrt(2.0 / jn as f64));
        let inv_l = (-p.ln_lengthscale[0]).exp();
        let w = p.w;
        let ProjectionWs { saved, .. } = projection_ws(n, jn)?.carve(ws)?;
        for i in 0..n {
            let row = &mut psi[i * jn..(i + 1) * jn];
            let dz = &mut saved[i * jn..(i + 1) * jn];
            project(&x[i * d..(i + 1) * d], w, inv_l, row);
            for (p, g) in row.iter_mut().zip(dz.iter_mut()) {
                let z = *p;
                let (v, dv) = if z > S::zero() {
                    match self.order {
                        0 => (c, S::zero()),
                        1 => (c * z, c),
                        _ => (c * z * z, S::from_f64(2.0) * c * z),
                    }
                } else {
                    (S::zero(), S::zero())
                };
                *p = v;
                *g = dv;
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
        super::check_grads(self, "arc-cosine parameter gradient", n, grad_params, grad_x.as_deref())?;
        let (d, jn) = (self.dim, self.n_features);
        let inv_l = (-p.ln_lengthscale[0]).exp();
        let w = p.w;
        let ProjectionWs { saved: saved_all, scratch: z_bar } = projection_ws(n, jn)?.carve(ws)?;
        let ProjectionParams { ln_lengthscale: g_ln_l, w: g_w, .. } = self.view(grad_params)?;
        for i in 0..n {
            let pb = &psi_bar[i * jn..(i + 1) * jn];
            for ((zb, &p), &s) in z_bar.iter_mut().zip(pb).zip(&saved_all[i * jn..(i + 1) * jn]) {
                *zb = p * s;
            }
            let gx = grad_x.as_deref_mut().map(|g| &mut g[i * d..(i + 1) * d]);
            g_ln_l[0] += project_adjoint(&x[i * d..(i + 1) * d], w, inv_l, z_bar, g_w, gx);
        }
        Ok(())
    }
}
