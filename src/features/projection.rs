//! The shared first stage of the projection feature maps: z = x·W/ℓ (one row), and its adjoint.
//!
//! W is D × M row-major (column j is frequency / weight vector j), the layout of the
//! reference's `phi @ W`, so the inner loops run along contiguous rows of W.

use crate::error::Result;
use crate::kernel::{check_log_param, log_of_positive};
use crate::layout::Size;
use crate::Scalar;
use core::ops::{Deref, DerefMut};

crate::parts! {
    /// The parameters of a projection feature map ([`RandomFourier`](super::RandomFourier),
    /// [`ArcCosineFeatures`](super::ArcCosineFeatures)), by name: `[ln ℓ | W (D × M, row-major)
    /// | b (M phases; empty for the maps without phases)]`. What
    /// [`FeatureMap::view`](super::FeatureMap::view) returns for them, over `&[S]` or `&mut [S]`.
    ///
    /// ```
    /// use svgp::features::{Coupling, FeatureMap, FourierForm, RandomFourier, Spectrum};
    /// use svgp::rng::Xoshiro256;
    /// let map = RandomFourier::new(2, 8, FourierForm::CosPhase, Spectrum::Rbf, Coupling::Iid)?;
    /// let mut raw = vec![0.0; map.n_params()];
    /// map.draw(&mut Xoshiro256::from_u64(1), 0.5, &mut raw)?;
    /// let p = map.view(&raw[..])?;
    /// assert_eq!((p.w.len(), p.b.len()), (2 * 8, 8));
    /// assert!((p.lengthscale() - 0.5).abs() < 1e-15);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    "projection feature map parameters": pub struct ProjectionParams {
        /// ln ℓ (one value).
        ln_lengthscale,
        /// The projection W (D × M, row-major; column j is frequency or weight vector j).
        w,
        /// The phases b (M; empty for maps without phases).
        b,
    }
}

crate::parts! {
    /// A projection map's workspace for n inputs: the local derivatives (or values) of the
    /// forward pass, n × J, kept for the adjoint, and one J-row of scratch.
    "projection feature map workspace": pub(crate) struct ProjectionWs { saved, scratch }
}

/// [`ProjectionWs`] for `n` inputs and `j` features.
pub(crate) fn projection_ws(n: usize, j: usize) -> Result<ProjectionWs<usize>> {
    ProjectionWs { saved: Size::of(n) * j, scratch: Size::of(j) }.resolve()
}

/// The lengths of a projection map's parameters: D × M projection weights and `phases` phases.
pub(crate) fn projection_lens(d: usize, m: usize, phases: usize) -> Result<ProjectionParams<usize>> {
    ProjectionParams { ln_lengthscale: Size::of(1), w: Size::of(d) * m, b: Size::of(phases) }.resolve()
}

impl<S: Scalar, C: Deref<Target = [S]>> ProjectionParams<C> {
    /// The lengthscale ℓ.
    pub fn lengthscale(&self) -> S {
        self.ln_lengthscale[0].exp()
    }
    /// [`Error::InvalidParameter`](crate::Error::InvalidParameter) unless 1/ℓ is finite and positive.
    pub fn check(&self) -> Result<()> {
        check_log_param("feature ln lengthscale", self.ln_lengthscale[0], 1.0)
    }
}

impl<S: Scalar, C: DerefMut<Target = [S]>> ProjectionParams<C> {
    /// Sets ℓ (finite, > 0).
    pub fn set_lengthscale(&mut self, lengthscale: f64) -> Result<()> {
        self.ln_lengthscale[0] = S::from_f64(log_of_positive("feature lengthscale", lengthscale)?);
        Ok(())
    }
}

/// `z[j] = inv_l · Σ_d x[d]·W[d, j]` for one input row.
#[inline]
pub(crate) fn project<S: Scalar>(x: &[S], w: &[S], inv_l: S, z: &mut [S]) {
    let m = z.len();
    z.fill(S::zero());
    for (d, &xd) in x.iter().enumerate() {
        let row = &w[d * m..(d + 1) * m];
        for (zj, &wj) in z.iter_mut().zip(row) {
            *zj += xd * wj;
        }
    }
    for zj in z.iter_mut() {
        *zj *= inv_l;
    }
}

/// Adjoint of [`project`] for one row: given z̄, adds W̄ += x ⊗ z̄/ℓ, x̄ += W z̄/ℓ (if given),
/// and returns the contribution to ∂/∂ln ℓ, which is −x·(W z̄/ℓ) because ∂z/∂ln ℓ = −z.
#[inline]
pub(crate) fn project_adjoint<S: Scalar>(
    x: &[S],
    w: &[S],
    inv_l: S,
    z_bar: &[S],
    grad_w: &mut [S],
    mut grad_x: Option<&mut [S]>,
) -> S {
    let m = z_bar.len();
    let mut g_ln_l = S::zero();
    for (d, &xd) in x.iter().enumerate() {
        let row = &w[d * m..(d + 1) * m];
        let grow = &mut grad_w[d * m..(d + 1) * m];
        let xs = xd * inv_l;
        let mut acc = S::zero();
        for ((g, &wj), &zb) in grow.iter_mut().zip(row).zip(z_bar) {
            *g += xs * zb;
            acc += wj * zb;
        }
        let xbar = acc * inv_l;
        if let Some(gx) = grad_x.as_deref_mut() {
            gx[d] += xbar;
        }
        g_ln_l -= xd * xbar;
    }
    g_ln_l
}
