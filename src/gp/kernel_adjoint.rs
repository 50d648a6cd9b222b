//! Forward-mode (Dual) fallbacks for the kernel reverse-rule hooks
//! [`Kernel::cross_covariance_adjoint`] and [`Kernel::diagonal_adjoint`].
//!
//! Each kernel entry is evaluated on [`Dual`] numbers with [`LANES`] tangent lanes at a time,
//! seeded over (params, x1 row, x2 row), and its tangents are weighted by k̄ and added to the
//! gradients. Correct for any kernel; a closed-form override is much faster.

use crate::error::{Error, Result};
use crate::kernel::Kernel;
use crate::{Dual, Scalar};

/// Tangent lanes per forward pass.
const LANES: usize = 8;
/// Largest parameter count the fallback handles (its Dual copies live on the stack).
pub const MAX_DUAL_PARAMS: usize = 64;
/// Largest input dimension the fallback handles.
pub const MAX_DUAL_DIM: usize = 16;

type D<S> = Dual<S, LANES>;

fn check_caps(n_params: usize, dim: usize) -> Result<()> {
    if n_params > MAX_DUAL_PARAMS {
        return Err(Error::BufferTooSmall {
            what: "Dual kernel adjoint: parameter count",
            needed: n_params,
            found: MAX_DUAL_PARAMS,
        });
    }
    if dim > MAX_DUAL_DIM {
        return Err(Error::BufferTooSmall {
            what: "Dual kernel adjoint: input dimension",
            needed: dim,
            found: MAX_DUAL_DIM,
        });
    }
    Ok(())
}

/// Lift `src` into `dst`, seeding lane `base + q - lo` for entry q when that lane is in this chunk.
#[inline]
fn lift<S: Scalar>(src: &[S], dst: &mut [D<S>], base: usize, lo: usize) {
    for (q, (d, &v)) in dst.iter_mut().zip(src).enumerate() {
        let g = base + q;
        *d = if g >= lo && g < lo + LANES { D::variable(v, g - lo) } else { D::constant(v) };
    }
}

/// Default body of [`Kernel::cross_covariance_adjoint`].
pub(crate) fn dual_cross_covariance_adjoint<K: Kernel, S: Scalar>(
    kernel: &K,
    params: &[S],
    x1: &[S],
    x2: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
    grad_x1: &mut [S],
    mut grad_x2: Option<&mut [S]>,
) -> Result<()> {
    let (p, d) = (kernel.n_params(), kernel.input_dim());
    check_caps(p, d)?;
    let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
    let total = p + d + if grad_x2.is_some() { d } else { 0 };
    let mut dp = [D::<S>::default(); MAX_DUAL_PARAMS];
    let mut dx = [D::<S>::default(); MAX_DUAL_DIM];
    let mut dy = [D::<S>::default(); MAX_DUAL_DIM];
    for i in 0..n1 {
        let xi = &x1[i * d..(i + 1) * d];
        for j in 0..n2 {
            // No skipping of k̄ = 0: on duals (forward over reverse) its tangent may not be.
            let w = k_bar[i * n2 + j];
            let yj = &x2[j * d..(j + 1) * d];
            for lo in (0..total).step_by(LANES) {
                lift(params, &mut dp[..p], 0, lo);
                lift(xi, &mut dx[..d], p, lo);
                lift(yj, &mut dy[..d], p + d, lo);
                let v = kernel.eval(&dp[..p], &dx[..d], &dy[..d]);
                for l in 0..LANES.min(total - lo) {
                    let g = lo + l;
                    let t = w * v.eps[l];
                    if g < p {
                        grad_params[g] += t;
                    } else if g < p + d {
                        grad_x1[i * d + g - p] += t;
                    } else if let Some(gx2) = grad_x2.as_deref_mut() {
                        gx2[j * d + g - p - d] += t;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Default body of [`Kernel::diagonal_adjoint`].
pub(crate) fn dual_diagonal_adjoint<K: Kernel, S: Scalar>(
    kernel: &K,
    params: &[S],
    x: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
) -> Result<()> {
    let (p, d) = (kernel.n_params(), kernel.input_dim());
    check_caps(p, d)?;
    let mut dp = [D::<S>::default(); MAX_DUAL_PARAMS];
    let mut dx = [D::<S>::default(); MAX_DUAL_DIM];
    for (i, &w) in k_bar.iter().enumerate() {
        lift(&x[i * d..(i + 1) * d], &mut dx[..d], usize::MAX / 2, 0);
        for lo in (0..p).step_by(LANES) {
            lift(params, &mut dp[..p], 0, lo);
            let v = kernel.eval_diag(&dp[..p], &dx[..d]);
            for l in 0..LANES.min(p - lo) {
                grad_params[lo + l] += w * v.eps[l];
            }
        }
    }
    Ok(())
}
