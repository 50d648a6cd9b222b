//! Reverse rules for kernel blocks, obtained by evaluating the kernel on [`Dual`] numbers.
//!
//! A closed-form kernel has few hyperparameters, so forward mode over the pair
//! (params, x, x') is cheap: each pair costs ⌈V/8⌉ kernel evaluations on 8-lane duals, where
//! V = n_params + 2D. Any kernel written generically over [`Scalar`] gets these rules for
//! free: no hand-written derivative. No entry of K̄ is skipped, even a zero one, so running
//! these rules on duals (forward over reverse) keeps every tangent.

use super::{BlockGrad, Kernel};
use crate::error::{check_len, Error, Result};
use crate::layout::{Size, SliceRef};
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

/// The default capacity, in [`KernelDual`] numbers (n_params + 2·D), of the [`Kernel`] trait's
/// default reverse rules' work buffer, which lives on the stack: 96 (e.g. 30 parameters and 33
/// inputs). Past it the buffer comes from the heap with `alloc` (so there is no cap), and
/// without `alloc` the model refuses the kernel when it is built
/// ([`Error::DualCapacity`]); [`DualCapacity`] chooses another capacity.
pub const DUAL_CAPACITY: usize = 96;

/// [`Error::DualCapacity`] if, without `alloc`, a kernel on the Dual reverse rules needs more
/// than `capacity` dual numbers. With `alloc` every size runs (the heap takes what the stack
/// buffer cannot), so only the size arithmetic is checked.
pub(crate) fn check_capacity<K: Kernel>(k: &K, capacity: usize) -> Result<()> {
    let needed = gradient_workspace_len(k)?;
    if cfg!(feature = "alloc") || needed <= capacity {
        Ok(())
    } else {
        Err(Error::DualCapacity { needed, capacity })
    }
}

/// Runs `f` on a work buffer of `need` dual numbers: on the stack (a `heapless::Vec` of
/// capacity `CAP`, of which only `need` entries are initialised) when it fits, else on the heap
/// with `alloc`, else [`Error::DualCapacity`] (which [`check_capacity`] reports earlier, when
/// the model is built).
fn with_dual_ws<S: Scalar, const CAP: usize>(
    need: usize,
    f: impl FnOnce(&mut [KernelDual<S>]) -> Result<()>,
) -> Result<()> {
    if need <= CAP {
        let mut ws: heapless::Vec<KernelDual<S>, CAP> = heapless::Vec::new();
        ws.resize(need, KernelDual::default())
            .map_err(|_| Error::DualCapacity { needed: need, capacity: CAP })?;
        return f(&mut ws);
    }
    #[cfg(feature = "alloc")]
    return f(&mut alloc::vec![KernelDual::default(); need]);
    #[cfg(not(feature = "alloc"))]
    Err(Error::DualCapacity { needed: need, capacity: CAP })
}

/// Default body of [`Kernel::cross_covariance_adjoint`]: [`cross_covariance_adjoint`] with a
/// work buffer of capacity `CAP` (see [`with_dual_ws`]).
pub(crate) fn dual_cross_covariance_adjoint<K: Kernel, S: Scalar, const CAP: usize>(
    k: &K,
    params: &[S],
    x1: &[S],
    x2: &[S],
    k_bar: &[S],
    grad: BlockGrad<'_, S>,
) -> Result<()> {
    let BlockGrad { params: gp, x1: g1, x2: g2 } = grad;
    with_dual_ws::<S, CAP>(gradient_workspace_len(k)?, |ws| {
        cross_covariance_adjoint(k, params, x1, x2, k_bar, gp, Some(g1), g2, ws)
    })
}

/// Default body of [`Kernel::diagonal_adjoint`]: [`diagonal_adjoint`] (parameters only) with a
/// work buffer of capacity `CAP`.
pub(crate) fn dual_diagonal_adjoint<K: Kernel, S: Scalar, const CAP: usize>(
    k: &K,
    params: &[S],
    x: &[S],
    k_bar: &[S],
    grad_params: &mut [S],
) -> Result<()> {
    with_dual_ws::<S, CAP>(gradient_workspace_len(k)?, |ws| {
        diagonal_adjoint(k, params, x, k_bar, grad_params, None, ws)
    })
}

/// A kernel on the [`Dual`] reverse rules with a work buffer of capacity `CAP` dual numbers
/// (n_params + 2·D) instead of [`DUAL_CAPACITY`]: for a user kernel with many parameters or
/// inputs in a build without `alloc`, where that buffer lives on the stack. Everything else is
/// the wrapped kernel's; its parameters are the kernel's.
///
/// A model built on a kernel that needs more than its capacity is refused by
/// [`Svgp::new`](crate::gp::Svgp::new) with [`Error::DualCapacity`] (without `alloc`; with it,
/// larger kernels take their buffer from the heap and there is no cap).
///
/// ```
/// use svgp::gp::{Closed, Svgp};
/// use svgp::kernel::{DualCapacity, Kernel};
/// use svgp::layout::SliceRef;
/// use svgp::Scalar;
/// /// k(x, y) = exp(−Σ_d θ_d |x_d − y_d|), one parameter per input.
/// #[derive(Clone, Copy, Debug)]
/// struct Laplace(usize);
/// impl Kernel for Laplace {
///     type Params<C> = C;
///     fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
///         Ok(raw)
///     }
///     fn input_dim(&self) -> usize {
///         self.0
///     }
///     fn n_params(&self) -> usize {
///         self.0
///     }
///     fn eval<S: Scalar>(&self, p: &[S], x: &[S], y: &[S]) -> S {
///         let s: S = p.iter().zip(x.iter().zip(y)).map(|(&t, (&a, &b))| t * (a - b).abs()).sum();
///         (-s).exp()
///     }
/// }
/// // 50 inputs: 50 + 2·50 = 150 dual numbers, past the default capacity of 96.
/// let model = Svgp::new(Closed(DualCapacity::<_, 150>(Laplace(50))), 4, 1e-6)?;
/// assert_eq!(model.input_dim(), 50);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DualCapacity<K, const CAP: usize>(pub K);

impl<K: Kernel, const CAP: usize> Kernel for DualCapacity<K, CAP> {
    type Params<C> = K::Params<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<K::Params<C>> {
        self.0.view(raw)
    }
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        self.0.check_params(params)
    }
    fn check_shape(&self) -> Result<()> {
        check_capacity(&self.0, CAP)
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        self.0.eval(params, x, y)
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], x: &[S]) -> S {
        self.0.eval_diag(params, x)
    }
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        self.0.block_workspace_len(n1, n2)
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        self.0.cross_covariance_block(params, x1, x2, out, ws)
    }
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        _k: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        _ws: &mut [S],
    ) -> Result<()> {
        dual_cross_covariance_adjoint::<K, S, CAP>(&self.0, params, x1, x2, k_bar, grad)
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        _ws: &mut [S],
    ) -> Result<()> {
        dual_diagonal_adjoint::<K, S, CAP>(&self.0, params, x, k_bar, grad_params)
    }
}
