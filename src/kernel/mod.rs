//! Closed-form covariance functions and their blocks.
//!
//! A kernel is a *shape* (plain `Copy` data: input dimension, options) plus a flat,
//! unconstrained parameter slice (log variance, log lengthscales, ...). Kernels are written
//! once, generically over [`Scalar`]: derivatives with respect to parameters and inputs come
//! from evaluating the same code on [`Dual`](crate::Dual) numbers.
//!
//! Every kernel is finite at extreme but finite inputs: a squared distance that overflows
//! (‖x − x'‖ ~ 1e300) gives the kernel's limit (0 for the stationary kernels), never a NaN.

mod algebra;
mod arccos;
mod grad;
mod linear;
mod matern;
mod params;
mod periodic;
mod rbf;
mod rbf_ard;
mod rq;
mod stationary;

pub use algebra::{Product, Scale, Sum};
pub use arccos::ArcCosine;
pub use grad::{
    cross_covariance_adjoint, diagonal_adjoint, gradient_workspace_len, gram_adjoint, DualCapacity,
    KernelDual, DUAL_CAPACITY, LANES,
};
pub use linear::{Constant, Linear};
pub use matern::{Matern, Nu};
pub(crate) use params::{check_log_param, log_of_positive, variance_then_lengthscales};
pub use params::{
    ArdParams, IsoParams, LinearParams, PairParams, ParamRole, PeriodicParams, RqParams, ScaleParams,
    VarianceParams,
};
pub use periodic::Periodic;
pub use rbf::Rbf;
pub use rbf_ard::RbfArd;
pub use rq::RationalQuadratic;

use crate::error::{check_finite, check_len, Result};
use crate::layout::SliceRef;
use crate::linalg::rows_of;
use crate::Scalar;

/// Where a block's reverse rule *adds* its gradients: ∂/∂params, ∂/∂x1 (n1 × D) and, when
/// wanted, ∂/∂x2 (n2 × D).
#[derive(Debug)]
pub struct BlockGrad<'a, S> {
    /// ∂/∂(kernel parameters).
    pub params: &'a mut [S],
    /// ∂/∂x1, n1 × D row-major.
    pub x1: &'a mut [S],
    /// ∂/∂x2, n2 × D row-major (`None`: not wanted, e.g. for data inputs).
    pub x2: Option<&'a mut [S]>,
}

impl<S> BlockGrad<'_, S> {
    /// The same destinations, borrowed for a shorter time (to hand to a sub-kernel).
    #[inline]
    pub fn reborrow(&mut self) -> BlockGrad<'_, S> {
        BlockGrad { params: self.params, x1: self.x1, x2: self.x2.as_deref_mut() }
    }
}

/// A covariance function k(x, x') with `n_params()` unconstrained parameters.
///
/// A user kernel implements [`Kernel::eval`] (its reverse rules then come from
/// [`Dual`](crate::Dual) numbers) and names its parameters with a view; without named parts,
/// the slice is its own view:
///
/// ```
/// use svgp::layout::SliceRef;
/// use svgp::kernel::Kernel;
/// use svgp::Scalar;
/// /// k(x, y) = σ² (1 + x·y), parameters `[ln σ²]`.
/// #[derive(Clone, Copy, Debug)]
/// struct Poly1(usize);
/// impl Kernel for Poly1 {
///     type Params<C> = C;
///     fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> svgp::Result<C> {
///         Ok(raw)
///     }
///     fn input_dim(&self) -> usize {
///         self.0
///     }
///     fn n_params(&self) -> usize {
///         1
///     }
///     fn eval<S: Scalar>(&self, p: &[S], x: &[S], y: &[S]) -> S {
///         p[0].exp() * (S::one() + x.iter().zip(y).map(|(&a, &b)| a * b).sum::<S>())
///     }
/// }
/// assert_eq!(Poly1(1).eval(&[0.0_f64], &[2.0], &[3.0]), 7.0);
/// ```
///
/// **Blocks and their workspace.** The SVGP asks a kernel for whole blocks
/// ([`Kernel::cross_covariance_block`]) and their reverse rules
/// ([`Kernel::cross_covariance_adjoint`]). A kernel that needs scratch, or keeps something
/// from the forward block for its reverse rule (a [`Product`] keeps both factors' blocks),
/// declares its length with [`Kernel::block_workspace_len`]; the caller passes the same
/// workspace to the block and then to its reverse rule.
pub trait Kernel: Copy + core::fmt::Debug {
    /// The named view of the parameters, over storage `C` (`&[S]` to read, `&mut [S]` to write
    /// too): [`IsoParams`], [`ArdParams`], … for the built-in kernels, [`PairParams`] for a
    /// [`Sum`] or [`Product`], the slice itself for a kernel without named parts.
    type Params<C>;
    /// Views `raw` ([`Kernel::n_params`] values, checked) by name.
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>>;
    /// Input dimension D.
    fn input_dim(&self) -> usize;
    /// Number of parameters in the flat buffer.
    fn n_params(&self) -> usize;
    /// Refuses parameters the kernel cannot use: non-finite ones, and (for the built-in
    /// kernels) log-scale ones whose transformed value is 0 or infinite (a lengthscale of 0
    /// gives ln ℓ = −∞). The default checks the length and finiteness only.
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        check_len("kernel parameters", self.n_params(), params.len())?;
        check_finite("kernel parameters", params)
    }
    /// Refuses a kernel this build cannot run, when a model is built on it
    /// ([`Svgp::new`](crate::gp::Svgp::new)): the parts of a [`Sum`] or [`Product`] on different
    /// input dimensions, or (without `alloc`) a kernel on the [`Dual`](crate::Dual) reverse
    /// rules whose parameters and inputs exceed its fixed capacity
    /// ([`Error::DualCapacity`](crate::Error::DualCapacity); see [`DualCapacity`]). The default
    /// is that capacity check, with [`DUAL_CAPACITY`]; a kernel that overrides every reverse
    /// rule overrides this too.
    fn check_shape(&self) -> Result<()> {
        grad::check_capacity(self, DUAL_CAPACITY)
    }
    /// What parameter `i` is, for priors on hyperparameters ([`crate::hyperprior`]). The
    /// built-in kernels say `[ln σ², ln ℓ…]`; the default is [`ParamRole::Other`] (no prior
    /// applies to a user kernel's parameters unless it says so).
    fn param_role(&self, i: usize) -> ParamRole {
        let _ = i;
        ParamRole::Other
    }
    /// k(x, y) for one pair of D-vectors.
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S;
    /// k(x, x). Override when it is cheaper than `eval(x, x)`.
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], x: &[S]) -> S {
        self.eval(params, x, x)
    }
    /// Workspace (in scalars) of an n1 × n2 block: what [`Kernel::cross_covariance_block`]
    /// keeps for [`Kernel::cross_covariance_adjoint`] plus both passes' scratch. The default
    /// is 0.
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        let _ = (n1, n2);
        Ok(0)
    }
    /// The block `out[i][j] = k(x1_i, x2_j)` (n1 × n2) with sizes trusted — the unchecked core
    /// of [`cross_covariance`], which the SVGP calls once per step; `ws` holds
    /// [`Kernel::block_workspace_len`] scalars and is kept for the reverse rule. The default
    /// loops over [`Kernel::eval`]; override it where a whole block is cheaper (hoisted parameter
    /// transforms, vectorised elementary functions), agreeing with `eval` to rounding.
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let _ = ws;
        let d = self.input_dim().max(1);
        let n2 = x2.len() / d;
        for (i, xi) in x1.chunks_exact(d).enumerate() {
            for (j, yj) in x2.chunks_exact(d).enumerate() {
                out[i * n2 + j] = self.eval(params, xi, yj);
            }
        }
        Ok(())
    }
    /// Reverse rule of [`Kernel::cross_covariance_block`]: given the block's values `k`
    /// (n1 × n2, as the forward pass computed them), its adjoint `k_bar` and the workspace the
    /// forward pass used, *adds* Σ k̄_ij ∂k_ij/∂(params, x1, x2) into `grad`.
    ///
    /// The default evaluates [`Kernel::eval`] on [`Dual`](crate::Dual) lanes entry by entry, so
    /// any kernel works without a hand-written adjoint; the built-in kernels override it with
    /// closed forms. Inputs are trusted to have the sizes above.
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        k: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        ws: &mut [S],
    ) -> Result<()> {
        let _ = (k, ws);
        grad::dual_cross_covariance_adjoint::<Self, S, DUAL_CAPACITY>(self, params, x1, x2, k_bar, grad)
    }
    /// Workspace (in scalars) of [`Kernel::diagonal_adjoint`] on `n` points. The default is 0.
    fn diagonal_workspace_len(&self, n: usize) -> Result<usize> {
        let _ = n;
        Ok(0)
    }
    /// Reverse rule of [`diagonal`] with respect to the parameters: *adds*
    /// Σ k̄_i ∂k(x_i, x_i)/∂params into `grad_params`; `ws` holds
    /// [`Kernel::diagonal_workspace_len`] scalars. The default uses [`Dual`](crate::Dual) lanes.
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let _ = ws;
        grad::dual_diagonal_adjoint::<Self, S, DUAL_CAPACITY>(self, params, x, k_bar, grad_params)
    }
}

/// Cross-covariance block `out[i][j] = k(x1_i, x2_j)` (n1 × n2, row-major); inputs are row-major n × D.
///
/// ```
/// use svgp::kernel::{cross_covariance, Rbf};
/// let k = Rbf::new(1);
/// let params = [0.0_f64, 0.0]; // log variance, log lengthscale
/// let mut out = [0.0; 2];
/// cross_covariance(&k, &params, &[0.0], &[0.0, 1.0], &mut out)?;
/// assert_eq!(out[0], 1.0);
/// assert!((out[1] - (-0.5_f64).exp()).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn cross_covariance<K: Kernel, S: Scalar>(
    k: &K,
    params: &[S],
    x1: &[S],
    x2: &[S],
    out: &mut [S],
) -> Result<()> {
    let d = k.input_dim();
    check_len("kernel parameters", k.n_params(), params.len())?;
    let (n1, n2) = (rows_of(x1, d, "x1")?, rows_of(x2, d, "x2")?);
    check_len("cross-covariance output", n1.saturating_mul(n2), out.len())?;
    for i in 0..n1 {
        let xi = &x1[i * d..(i + 1) * d];
        for j in 0..n2 {
            out[i * n2 + j] = k.eval(params, xi, &x2[j * d..(j + 1) * d]);
        }
    }
    Ok(())
}

/// Symmetric Gram block `out[i][j] = k(x_i, x_j)` (n × n), computed on one triangle and mirrored.
pub fn gram<K: Kernel, S: Scalar>(k: &K, params: &[S], x: &[S], out: &mut [S]) -> Result<()> {
    let d = k.input_dim();
    check_len("kernel parameters", k.n_params(), params.len())?;
    let n = rows_of(x, d, "x")?;
    check_len("Gram output", n.saturating_mul(n), out.len())?;
    for i in 0..n {
        let xi = &x[i * d..(i + 1) * d];
        out[i * n + i] = k.eval_diag(params, xi);
        for j in 0..i {
            let v = k.eval(params, xi, &x[j * d..(j + 1) * d]);
            out[i * n + j] = v;
            out[j * n + i] = v;
        }
    }
    Ok(())
}

/// The diagonal `out[i] = k(x_i, x_i)`.
pub fn diagonal<K: Kernel, S: Scalar>(k: &K, params: &[S], x: &[S], out: &mut [S]) -> Result<()> {
    let d = k.input_dim();
    check_len("kernel parameters", k.n_params(), params.len())?;
    let n = rows_of(x, d, "x")?;
    check_len("diagonal output", n, out.len())?;
    for (i, o) in out.iter_mut().enumerate() {
        *o = k.eval_diag(params, &x[i * d..(i + 1) * d]);
    }
    Ok(())
}
