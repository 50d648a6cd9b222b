//! Random features for the arc-cosine kernels (Cho & Saul 2009): one-layer networks with
//! Gaussian weights and threshold / ReLU / squared-ReLU units.

use super::projection::{project, project_adjoint};
use super::FeatureMap;
use crate::error::{check_len, Result};
use crate::rng::standard_normal;
use crate::{Error, Scalar};
use rand_core::Rng;

/// ψ_j(x) = √(2/J)·Θ(z_j)·z_jⁿ with z = x·W/ℓ, W ~ N(0, I): ψ(x)·ψ(x') approximates the
/// unit-variance [`ArcCosine`](crate::kernel::ArcCosine) kernel of order n ∈ {0, 1, 2} at
/// lengthscale ℓ (order 0 ignores ℓ).
///
/// **Parameter layout:** `[ln ℓ, W (D × J, row-major)]`. The step Θ is taken as 0 at z = 0,
/// so the order-0 map has zero derivative everywhere it is differentiable (and we return 0
/// on the measure-zero set where it is not).
///
/// ```
/// use svgp::features::{ArcCosineFeatures, FeatureMap};
/// use svgp::rng::Xoshiro256;
/// let map = ArcCosineFeatures::new(3, 64, 1)?;
/// let mut params = vec![0.0; map.n_params()];
/// map.draw(&mut Xoshiro256::from_u64(5), 1.0, &mut params)?;
/// let mut psi = vec![0.0; 64];
/// map.features(&params, &[0.1, 0.2, 0.3], &mut psi, &mut vec![0.0; map.workspace_len(1)])?;
/// assert!(psi.iter().all(|&p| p >= 0.0)); // ReLU units
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArcCosineFeatures {
    dim: usize,
    n_features: usize,
    order: u8,
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
        Ok(Self { dim, n_features, order })
    }

    /// Draws `[ln ℓ, W]` with W ~ N(0, I), column by column; reproducible for a given generator state.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R, lengthscale: f64, params: &mut [f64]) -> Result<()> {
        check_len("arc-cosine parameters", self.n_params(), params.len())?;
        if !(lengthscale > 0.0 && lengthscale.is_finite()) {
            return Err(Error::InvalidParameter { what: "lengthscale", value: lengthscale });
        }
        params[0] = libm::log(lengthscale);
        let (d, m) = (self.dim, self.n_features);
        for j in 0..m {
            for i in 0..d {
                params[1 + i * m + j] = standard_normal(rng);
            }
        }
        Ok(())
    }

    fn check_shapes<S>(&self, params: &[S], x: &[S], out: &[S], ws: &[S]) -> Result<usize> {
        check_len("arc-cosine parameters", self.n_params(), params.len())?;
        super::check_io(self, "arc-cosine workspace", x, out, ws)
    }
}

impl FeatureMap for ArcCosineFeatures {
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn n_params(&self) -> usize {
        1 + self.dim * self.n_features
    }
    /// n × J local derivatives dψ/dz plus one J-row of scratch.
    fn workspace_len(&self, n: usize) -> usize {
        (n + 1) * self.n_features
    }
    fn features<S: Scalar>(&self, params: &[S], x: &[S], psi: &mut [S], ws: &mut [S]) -> Result<()> {
        let n = self.check_shapes(params, x, psi, ws)?;
        let (d, jn) = (self.dim, self.n_features);
        let c = S::from_f64(libm::sqrt(2.0 / jn as f64));
        let inv_l = (-params[0]).exp();
        let w = &params[1..];
        for i in 0..n {
            let row = &mut psi[i * jn..(i + 1) * jn];
            let dz = &mut ws[i * jn..(i + 1) * jn];
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
        let n = self.check_shapes(params, x, psi_bar, ws)?;
        super::check_grads(self, "arc-cosine parameter gradient", n, grad_params, grad_x.as_deref())?;
        let (d, jn) = (self.dim, self.n_features);
        let inv_l = (-params[0]).exp();
        let w = &params[1..];
        let (saved_all, scratch) = ws.split_at_mut(n * jn);
        let z_bar = &mut scratch[..jn];
        let (g_ln_l, g_w) = grad_params.split_at_mut(1);
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
