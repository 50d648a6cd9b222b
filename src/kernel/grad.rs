//! Reverse rules for kernel blocks, obtained by evaluating the kernel on [`Dual`] numbers.
//!
//! A closed-form kernel has few hyperparameters, so forward mode over the pair
//! (params, x, x') is cheap: each pair costs ⌈V/8⌉ kernel evaluations on 8-lane duals, where
//! V = n_params + 2D. Any kernel written generically over [`Scalar`] gets these rules for
//! free: no hand-written derivative. No entry of K̄ is skipped, even a zero one, so running
//! these rules on duals (forward over reverse) keeps every tangent.

use super::Kernel;
use crate::error::{check_len, Error, Result};
use crate::layout::Size;
use crate::linalg::rows_of;
use crate::{Dual, Scalar};

/// Tangent lanes per forward pass in the kernel reverse rules.
pub const LANES: usize = 8;

/// The dual number the kernel reverse rules evaluate kernels on.
pub type KernelDual<S> = Dual<S, LANES>;

crate::parts! {
    /// The Dual copies of one pair's inputs: parameters, x and y.
    "kernel gradient workspace": struct PairWs { params, x, y }
}

fn pair_ws<K: Kernel>(k: &K) -> Result<PairWs<usize>> {
    let d = Size::of(k.input_dim());
    PairWs { params: Size::of(k.n_params()), x: d, y: d }.resolve()
}

/// Workspace length (in [`KernelDual`] elements) for the kernel reverse rules: n_params + 2D.
pub fn gradient_workspace_len<K: Kernel>(k: &K) -> Result<usize> {
    Ok(pair_ws(k)?.total())
}

/// Which inputs a pair gradient differentiates.
#[derive(Clone, Copy)]
enum Pair {
    /// k(x, y): parameters, x and y.
    Cross,
    /// k(x, x) via `eval_diag`: parameters and x.
    Diag,
}

/// Adds `w·∂k(x, y)/∂(params, x, y)` (or `w·∂k(x, x)/∂(params, x)` for the diagonal).
#[allow(clippy::too_many_arguments)]
fn pair_gradient<K: Kernel, S: Scalar>(
    k: &K,
    pair: Pair,
    params: &[S],
    x: &[S],
    y: &[S],
    w: S,
    grad_params: &mut [S],
    mut grad_x: Option<&mut [S]>,
    mut grad_y: Option<&mut [S]>,
    ws: &mut PairWs<&mut [KernelDual<S>]>,
) {
    let (p, d) = (params.len(), x.len());
    let PairWs { params: wp, x: wx, y: wy } = ws;
    let nx = if grad_x.is_some() { d } else { 0 };
    let ny = if grad_y.is_some() && matches!(pair, Pair::Cross) { d } else { 0 };
    let n_vars = p + nx + ny;
    let mut start = 0;
    while start < n_vars {
        // Seed variables start..start+LANES, lane t for variable start+t.
        let lane_of = |v: usize| if v >= start { v - start } else { LANES };
        for (i, (o, &v)) in wp.iter_mut().zip(params).enumerate() {
            *o = Dual::variable(v, lane_of(i));
        }
        for (i, (o, &v)) in wx.iter_mut().zip(x).enumerate() {
            *o = if nx > 0 { Dual::variable(v, lane_of(p + i)) } else { Dual::constant(v) };
        }
        for (i, (o, &v)) in wy.iter_mut().zip(y).enumerate() {
            *o = if ny > 0 { Dual::variable(v, lane_of(p + nx + i)) } else { Dual::constant(v) };
        }
        let val = match pair {
            Pair::Cross => k.eval(wp, wx, wy),
            Pair::Diag => k.eval_diag(wp, wx),
        };
        let end = (start + LANES).min(n_vars);
        for v in start..end {
            let g = w * val.eps[v - start];
            if v < p {
                grad_params[v] += g;
            } else if v < p + nx {
                if let Some(gx) = grad_x.as_deref_mut() {
                    gx[v - p] += g;
                }
            } else if let Some(gy) = grad_y.as_deref_mut() {
                gy[v - p - nx] += g;
            }
        }
        start = end;
    }
}

/// Reverse rule of [`cross_covariance`](super::cross_covariance): given K̄ (n1 × n2), *adds*
/// ∂/∂params into `grad_params` and, when given, ∂/∂x1 (n1 × D) and ∂/∂x2 (n2 × D).
///
/// `ws` holds [`gradient_workspace_len`] dual numbers.
///
/// ```
/// use svgp::kernel::{cross_covariance_adjoint, gradient_workspace_len, KernelDual, Rbf};
/// let k = Rbf::new(1);
/// let params = [0.0_f64, 0.0];
/// let mut g = [0.0; 2];
/// let mut ws = [KernelDual::<f64>::default(); 4];
/// assert_eq!(gradient_workspace_len(&k)?, ws.len());
/// // d k(0, 1) / d ln σ² = k(0, 1) = e^{-1/2}.
/// cross_covariance_adjoint(&k, &params, &[0.0], &[1.0], &[1.0], &mut g, None, None, &mut ws)?;
/// assert!((g[0] - (-0.5_f64).exp()).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn cross_covariance_adjoint<K: Kernel, S: Scalar>(
    k: &K,
    params: &[S],
    x1: &[S],
    x2: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
    mut grad_x1: Option<&mut [S]>,
    mut grad_x2: Option<&mut [S]>,
    ws: &mut [KernelDual<S>],
) -> Result<()> {
    let d = k.input_dim();
    check_len("kernel parameters", k.n_params(), params.len())?;
    check_len("kernel parameter gradient", k.n_params(), grad_params.len())?;
    let (n1, n2) = (rows_of(x1, d, "x1")?, rows_of(x2, d, "x2")?);
    check_len("cross-covariance adjoint", n1.saturating_mul(n2), k_bar.len())?;
    if let Some(g) = grad_x1.as_deref() {
        check_len("x1 gradient", n1 * d, g.len())?;
    }
    if let Some(g) = grad_x2.as_deref() {
        check_len("x2 gradient", n2 * d, g.len())?;
    }
    let mut ws = pair_ws(k)?.carve(ws)?;
    for i in 0..n1 {
        let xi = &x1[i * d..(i + 1) * d];
        for j in 0..n2 {
            let w = k_bar[i * n2 + j];
            let gx = grad_x1.as_deref_mut().map(|g| &mut g[i * d..(i + 1) * d]);
            let gy = grad_x2.as_deref_mut().map(|g| &mut g[j * d..(j + 1) * d]);
            pair_gradient(
                k,
                Pair::Cross,
                params,
                xi,
                &x2[j * d..(j + 1) * d],
                w,
                grad_params,
                gx,
                gy,
                &mut ws,
            );
        }
    }
    Ok(())
}

/// Reverse rule of [`gram`](super::gram): given K̄ (n × n, not assumed symmetric), *adds*
/// ∂/∂params into `grad_params` and, when given, ∂/∂x (n × D) into `grad_x`.
///
/// Each unordered pair is differentiated once with weight K̄_ij + K̄_ji; the diagonal goes
/// through [`Kernel::eval_diag`], as in the forward pass.
pub fn gram_adjoint<K: Kernel, S: Scalar>(
    k: &K,
    params: &[S],
    x: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
    mut grad_x: Option<&mut [S]>,
    ws: &mut [KernelDual<S>],
) -> Result<()> {
    let d = k.input_dim();
    check_len("kernel parameters", k.n_params(), params.len())?;
    check_len("kernel parameter gradient", k.n_params(), grad_params.len())?;
    let n = rows_of(x, d, "x")?;
    check_len("Gram adjoint", n.saturating_mul(n), k_bar.len())?;
    if let Some(g) = grad_x.as_deref() {
        check_len("x gradient", n * d, g.len())?;
    }
    let mut ws = pair_ws(k)?.carve(ws)?;
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        let w = k_bar[i * n + i];
        let gx = grad_x.as_deref_mut().map(|g| &mut g[i * d..(i + 1) * d]);
        pair_gradient(k, Pair::Diag, params, xi, xi, w, grad_params, gx, None, &mut ws);
        for j in 0..i {
            let w = k_bar[i * n + j] + k_bar[j * n + i];
            let xj = &x[j * d..(j + 1) * d];
            match grad_x.as_deref_mut() {
                Some(g) => {
                    // Rows i > j of grad_x: split so both can be borrowed mutably.
                    let (lo, hi) = g.split_at_mut(i * d);
                    let gj = &mut lo[j * d..(j + 1) * d];
                    let gi = &mut hi[..d];
                    pair_gradient(
                        k,
                        Pair::Cross,
                        params,
                        xi,
                        xj,
                        w,
                        grad_params,
                        Some(gi),
                        Some(gj),
                        &mut ws,
                    );
                }
                None => pair_gradient(k, Pair::Cross, params, xi, xj, w, grad_params, None, None, &mut ws),
            }
        }
    }
    Ok(())
}

/// Reverse rule of [`diagonal`](super::diagonal): given d̄ (n), *adds* ∂/∂params and, when
/// given, ∂/∂x (n × D).
pub fn diagonal_adjoint<K: Kernel, S: Scalar>(
    k: &K,
    params: &[S],
    x: &[S],
    d_bar: &[S],
    grad_params: &mut [S],
    mut grad_x: Option<&mut [S]>,
    ws: &mut [KernelDual<S>],
) -> Result<()> {
    let d = k.input_dim();
    check_len("kernel parameters", k.n_params(), params.len())?;
    check_len("kernel parameter gradient", k.n_params(), grad_params.len())?;
    let n = rows_of(x, d, "x")?;
    check_len("diagonal adjoint", n, d_bar.len())?;
    if let Some(g) = grad_x.as_deref() {
        check_len("x gradient", n * d, g.len())?;
    }
    let mut ws = pair_ws(k)?.carve(ws)?;
    for i in 0..n {
        let w = d_bar[i];
        let xi = &x[i * d..(i + 1) * d];
        let gx = grad_x.as_deref_mut().map(|g| &mut g[i * d..(i + 1) * d]);
        pair_gradient(k, Pair::Diag, params, xi, xi, w, grad_params, gx, None, &mut ws);
    }
    Ok(())
}

/// Largest parameter count the [`Kernel`] trait's default adjoints handle (their Dual
/// workspace lives on the stack).
pub const MAX_DUAL_PARAMS: usize = 64;
/// Largest input dimension the [`Kernel`] trait's default adjoints handle.
pub const MAX_DUAL_DIM: usize = 16;

/// Stack workspace of the trait's default adjoints: [`gradient_workspace_len`] at the caps.
type StackWs<S> = [KernelDual<S>; MAX_DUAL_PARAMS + 2 * MAX_DUAL_DIM];

fn check_caps<K: Kernel>(k: &K) -> Result<()> {
    let (what, needed, found) = if k.n_params() > MAX_DUAL_PARAMS {
        ("Dual kernel adjoint: parameter count", k.n_params(), MAX_DUAL_PARAMS)
    } else if k.input_dim() > MAX_DUAL_DIM {
        ("Dual kernel adjoint: input dimension", k.input_dim(), MAX_DUAL_DIM)
    } else {
        return Ok(());
    };
    Err(Error::BufferTooSmall { what, needed, found })
}

/// Default body of [`Kernel::cross_covariance_adjoint`]: [`cross_covariance_adjoint`] with a
/// stack workspace.
pub(crate) fn dual_cross_covariance_adjoint<K: Kernel, S: Scalar>(
    k: &K,
    params: &[S],
    x1: &[S],
    x2: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
    grad_x1: &mut [S],
    grad_x2: Option<&mut [S]>,
) -> Result<()> {
    check_caps(k)?;
    let mut ws: StackWs<S> = [KernelDual::default(); MAX_DUAL_PARAMS + 2 * MAX_DUAL_DIM];
    cross_covariance_adjoint(k, params, x1, x2, k_bar, grad_params, Some(grad_x1), grad_x2, &mut ws)
}

/// Default body of [`Kernel::diagonal_adjoint`]: [`diagonal_adjoint`] (parameters only) with a
/// stack workspace.
pub(crate) fn dual_diagonal_adjoint<K: Kernel, S: Scalar>(
    k: &K,
    params: &[S],
    x: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
) -> Result<()> {
    check_caps(k)?;
    let mut ws: StackWs<S> = [KernelDual::default(); MAX_DUAL_PARAMS + 2 * MAX_DUAL_DIM];
    diagonal_adjoint(k, params, x, k_bar, grad_params, None, &mut ws)
}
