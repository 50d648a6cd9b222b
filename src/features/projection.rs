//! The shared first stage of the projection feature maps: z = x·W/ℓ (one row), and its adjoint.
//!
//! W is D × M row-major (column j is frequency / weight vector j), the layout of the
//! reference's `phi @ W`, so the inner loops run along contiguous rows of W.

use crate::Scalar;

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
