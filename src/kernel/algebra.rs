//! Kernel algebra: sums, products and scalings of any kernels, each with its reverse rule.
//!
//! The parameters of a composite are its parts' parameters laid end to end (a [`Scale`]'s
//! factor first), named by nested views ([`PairParams`], [`ScaleParams`]). Reverse rules, with
//! K̄ the adjoint of the composite's block:
//!
//! - **Sum** k = k₁ + k₂: K̄ flows unchanged to both parts.
//! - **Product** k = k₁·k₂: K̄₁ = K̄ ⊙ K₂ and K̄₂ = K̄ ⊙ K₁ (element-wise), so the forward
//!   block keeps both factors' blocks in its workspace.
//! - **Scale** k = σ²·k₁: ∂/∂ln σ² = Σ K̄ ⊙ K, and K̄₁ = σ²·K̄.
//!
//! Each part's block workspace sits beside the kept blocks, so a part that keeps something
//! for its own reverse rule (a product inside a sum) finds it there.

use super::{BlockGrad, Kernel, PairParams, ParamRole, ScaleParams, VarianceParams};
use crate::error::{check_finite, check_len, Error, Result};
use crate::layout::{Size, SliceRef};
use crate::Scalar;

/// The sum k(x, x') = a(x, x') + b(x, x') of two kernels on the same inputs; parameters
/// `[a's | b's]`, named by [`PairParams`].
///
/// ```
/// use svgp::kernel::{Kernel, Linear, Rbf, Sum};
/// let k = Sum(Rbf::new(1), Linear::new(1));
/// let p = [Rbf::params(2.0, 1.0).as_slice(), &[0.5_f64.ln()]].concat();
/// let v = k.eval(&p, &[1.0], &[3.0]);
/// assert!((v - (2.0 * (-2.0_f64).exp() + 0.5 * 3.0)).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sum<A, B>(pub A, pub B);

/// The product k(x, x') = a(x, x')·b(x, x') of two kernels on the same inputs; parameters
/// `[a's | b's]`, named by [`PairParams`].
///
/// ```
/// use svgp::kernel::{Kernel, Periodic, Product, Rbf};
/// // A locally periodic kernel: periodic with period 1, decaying over 10.
/// let k = Product(Periodic::new(1), Rbf::new(1));
/// let p = [0.0, 0.0, 0.7_f64.ln(), /* RBF */ 0.0, 10.0_f64.ln()]; // p = 1, ℓ = 0.7; ℓ = 10
/// let one_period = k.eval(&p, &[0.0], &[1.0]);
/// assert!((one_period - (-0.5_f64 / 100.0).exp()).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Product<A, B>(pub A, pub B);

/// A kernel times a variance: k(x, x') = σ²·k₁(x, x'); parameters `[ln σ² | k₁'s]`, named by
/// [`ScaleParams`]. For kernels without a variance of their own (or to share one variance
/// between the terms of a product).
///
/// ```
/// use svgp::kernel::{Kernel, Periodic, Scale};
/// let k = Scale(Periodic::new(1));
/// let p = [3.0_f64.ln(), /* periodic: σ², p, ℓ */ 0.0, 0.0, 0.7_f64.ln()];
/// assert!((k.eval(&p, &[0.0], &[2.0]) - 3.0).abs() < 1e-12); // two whole periods apart
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scale<K>(pub K);

/// How two parts combine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Sum,
    Product,
}

crate::parts! {
    /// A sum's or product's parameters (or gradient): the first part's, then the second's.
    "kernel pair parameters": struct PairParts { a, b }
}

crate::parts! {
    /// A sum's or product's block workspace: both parts' blocks (kept from the forward block),
    /// the scratch of a part's adjoint (products only), and each part's own workspace.
    "kernel pair block workspace": struct PairWs { ka, kb, bar, wa, wb }
}

crate::parts! {
    /// A pair's diagonal-adjoint workspace: a part's adjoint (products only), then the larger
    /// of the two parts' own workspaces.
    "kernel pair diagonal workspace": struct PairDiagWs { bar, part }
}

crate::parts! {
    /// A scaling's parameters (or gradient): ln σ², then the kernel's.
    "scaled kernel parameters": struct ScaleParts { scale, kernel }
}

crate::parts! {
    /// A scaling's block workspace: the kernel's block (kept), the kernel's adjoint, and the
    /// kernel's own workspace.
    "scaled kernel block workspace": struct ScaleWs { k, bar, inner }
}

/// The shared body of [`Sum`] and [`Product`]: `op` says which.
#[derive(Clone, Copy)]
struct Pair<'k, A, B> {
    a: &'k A,
    b: &'k B,
    op: Op,
}

impl<A: Kernel, B: Kernel> Pair<'_, A, B> {
    fn parts(&self) -> PairParts<usize> {
        PairParts { a: self.a.n_params(), b: self.b.n_params() }
    }
    /// The two parts' parameters; sizes trusted (as in `eval`), checked where a `Result` is
    /// returned.
    #[inline]
    fn split<'p, S>(&self, params: &'p [S]) -> (&'p [S], &'p [S]) {
        params.split_at(self.a.n_params().min(params.len()))
    }
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<PairParams<A::Params<C>, B::Params<C>>> {
        let PairParts { a, b } = self.parts().carve_exact(raw)?;
        Ok(PairParams(self.a.view(a)?, self.b.view(b)?))
    }
    fn n_params(&self) -> usize {
        self.a.n_params().saturating_add(self.b.n_params())
    }
    /// The role of parameter `i`: the first part's, then the second's.
    fn param_role(&self, i: usize) -> ParamRole {
        match i.checked_sub(self.a.n_params()) {
            None => self.a.param_role(i),
            Some(j) => self.b.param_role(j),
        }
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        let PairParts { a, b } = self.parts().carve_exact(params)?;
        self.a.check_params(a)?;
        self.b.check_params(b)
    }
    fn check_shape(&self) -> Result<()> {
        let what = match self.op {
            Op::Sum => "kernel sum: input dimension of the second term",
            Op::Product => "kernel product: input dimension of the second factor",
        };
        check_len(what, self.a.input_dim(), self.b.input_dim())?;
        (Size::of(self.a.n_params()) + self.b.n_params()).get("kernel pair parameters")?;
        self.a.check_shape()?;
        self.b.check_shape()
    }
    #[inline]
    fn combine<S: Scalar>(&self, u: S, v: S) -> S {
        match self.op {
            Op::Sum => u + v,
            Op::Product => u * v,
        }
    }
    fn block_ws(&self, n1: usize, n2: usize) -> Result<PairWs<usize>> {
        let nn = Size::of(n1) * n2;
        PairWs {
            ka: nn,
            kb: nn,
            bar: if self.op == Op::Product { nn } else { Size::of(0) },
            wa: Size::from_result(self.a.block_workspace_len(n1, n2)),
            wb: Size::from_result(self.b.block_workspace_len(n1, n2)),
        }
        .resolve()
    }
    fn block<S: Scalar>(&self, params: &[S], x1: &[S], x2: &[S], out: &mut [S], ws: &mut [S]) -> Result<()> {
        let (n1, n2) = block_rows(self.a.input_dim(), x1, x2);
        let PairParts { a: pa, b: pb } = self.parts().carve_exact(params)?;
        let PairWs { ka, kb, wa, wb, .. } = self.block_ws(n1, n2)?.carve(ws)?;
        self.a.cross_covariance_block(pa, x1, x2, ka, wa)?;
        self.b.cross_covariance_block(pb, x1, x2, kb, wb)?;
        for ((o, &u), &v) in out.iter_mut().zip(ka.iter()).zip(kb.iter()) {
            *o = self.combine(u, v);
        }
        Ok(())
    }
    #[allow(clippy::too_many_arguments)]
    fn adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        ws: &mut [S],
    ) -> Result<()> {
        let (n1, n2) = block_rows(self.a.input_dim(), x1, x2);
        let PairParts { a: pa, b: pb } = self.parts().carve_exact(params)?;
        let BlockGrad { params: gp, x1: g1, x2: mut g2 } = grad;
        let PairParts { a: ga, b: gb } = self.parts().carve_exact(gp)?;
        let PairWs { ka, kb, bar, wa, wb } = self.block_ws(n1, n2)?.carve(ws)?;
        let grad_a = BlockGrad { params: ga, x1: &mut *g1, x2: g2.as_deref_mut() };
        match self.op {
            Op::Sum => {
                self.a.cross_covariance_adjoint(pa, x1, x2, ka, k_bar, grad_a, wa)?;
                let grad_b = BlockGrad { params: gb, x1: g1, x2: g2 };
                self.b.cross_covariance_adjoint(pb, x1, x2, kb, k_bar, grad_b, wb)
            }
            Op::Product => {
                hadamard(k_bar, kb, bar);
                self.a.cross_covariance_adjoint(pa, x1, x2, ka, bar, grad_a, wa)?;
                hadamard(k_bar, ka, bar);
                let grad_b = BlockGrad { params: gb, x1: g1, x2: g2 };
                self.b.cross_covariance_adjoint(pb, x1, x2, kb, bar, grad_b, wb)
            }
        }
    }
    fn diag_ws(&self, n: usize) -> Result<PairDiagWs<usize>> {
        let (a, b) = (self.a.diagonal_workspace_len(n), self.b.diagonal_workspace_len(n));
        PairDiagWs {
            bar: if self.op == Op::Product { Size::of(n) } else { Size::of(0) },
            part: Size::from_result(a).max(Size::from_result(b)),
        }
        .resolve()
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let d = self.a.input_dim().max(1);
        let PairParts { a: pa, b: pb } = self.parts().carve_exact(params)?;
        let PairParts { a: ga, b: gb } = self.parts().carve_exact(grad_params)?;
        let PairDiagWs { bar, part } = self.diag_ws(k_bar.len())?.carve(ws)?;
        match self.op {
            Op::Sum => {
                self.a.diagonal_adjoint(pa, x, k_bar, ga, part)?;
                self.b.diagonal_adjoint(pb, x, k_bar, gb, part)
            }
            Op::Product => {
                // k̄_a,i = k̄_i·b(x_i, x_i) and k̄_b,i = k̄_i·a(x_i, x_i): the diagonals are
                // recomputed (cheap), not kept.
                for ((o, &kb), xi) in bar.iter_mut().zip(k_bar).zip(x.chunks_exact(d)) {
                    *o = kb * self.b.eval_diag(pb, xi);
                }
                self.a.diagonal_adjoint(pa, x, bar, ga, part)?;
                for ((o, &kb), xi) in bar.iter_mut().zip(k_bar).zip(x.chunks_exact(d)) {
                    *o = kb * self.a.eval_diag(pa, xi);
                }
                self.b.diagonal_adjoint(pb, x, bar, gb, part)
            }
        }
    }
}

/// Rows of x1 and x2 (sizes trusted, as in the blocks).
#[inline]
fn block_rows<S>(d: usize, x1: &[S], x2: &[S]) -> (usize, usize) {
    let d = d.max(1);
    (x1.len() / d, x2.len() / d)
}

/// out = a ⊙ b.
#[inline]
fn hadamard<S: Scalar>(a: &[S], b: &[S], out: &mut [S]) {
    for ((o, &u), &v) in out.iter_mut().zip(a).zip(b) {
        *o = u * v;
    }
}

/// The [`Kernel`] impl of a pair type, delegating to [`Pair`].
macro_rules! pair_kernel {
    ($ty:ident, $op:expr) => {
        impl<A: Kernel, B: Kernel> $ty<A, B> {
            #[inline]
            fn pair(&self) -> Pair<'_, A, B> {
                Pair { a: &self.0, b: &self.1, op: $op }
            }
        }

        impl<A: Kernel, B: Kernel> Kernel for $ty<A, B> {
            type Params<C> = PairParams<A::Params<C>, B::Params<C>>;
            fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>> {
                self.pair().view(raw)
            }
            fn input_dim(&self) -> usize {
                self.0.input_dim()
            }
            fn n_params(&self) -> usize {
                self.pair().n_params()
            }
            fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
                self.pair().check_params(params)
            }
            fn param_role(&self, i: usize) -> ParamRole {
                self.pair().param_role(i)
            }
            fn check_shape(&self) -> Result<()> {
                self.pair().check_shape()
            }
            #[inline]
            fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
                let (pa, pb) = self.pair().split(params);
                self.pair().combine(self.0.eval(pa, x, y), self.1.eval(pb, x, y))
            }
            #[inline]
            fn eval_diag<S: Scalar>(&self, params: &[S], x: &[S]) -> S {
                let (pa, pb) = self.pair().split(params);
                self.pair().combine(self.0.eval_diag(pa, x), self.1.eval_diag(pb, x))
            }
            fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
                Ok(self.pair().block_ws(n1, n2)?.total())
            }
            fn cross_covariance_block<S: Scalar>(
                &self,
                params: &[S],
                x1: &[S],
                x2: &[S],
                out: &mut [S],
                ws: &mut [S],
            ) -> Result<()> {
                self.pair().block(params, x1, x2, out, ws)
            }
            fn cross_covariance_adjoint<S: Scalar>(
                &self,
                params: &[S],
                x1: &[S],
                x2: &[S],
                _k: &[S],
                k_bar: &[S],
                grad: BlockGrad<'_, S>,
                ws: &mut [S],
            ) -> Result<()> {
                self.pair().adjoint(params, x1, x2, k_bar, grad, ws)
            }
            fn diagonal_workspace_len(&self, n: usize) -> Result<usize> {
                Ok(self.pair().diag_ws(n)?.total())
            }
            fn diagonal_adjoint<S: Scalar>(
                &self,
                params: &[S],
                x: &[S],
                k_bar: &[S],
                grad_params: &mut [S],
                ws: &mut [S],
            ) -> Result<()> {
                self.pair().diagonal_adjoint(params, x, k_bar, grad_params, ws)
            }
        }
    };
}

pair_kernel!(Sum, Op::Sum);
pair_kernel!(Product, Op::Product);

impl<K: Kernel> Scale<K> {
    fn parts(&self) -> ScaleParts<usize> {
        ScaleParts { scale: 1, kernel: self.0.n_params() }
    }
    fn block_ws(&self, n1: usize, n2: usize) -> Result<ScaleWs<usize>> {
        let nn = Size::of(n1) * n2;
        ScaleWs { k: nn, bar: nn, inner: Size::from_result(self.0.block_workspace_len(n1, n2)) }.resolve()
    }
    fn diag_ws(&self, n: usize) -> Result<ScaleWs<usize>> {
        ScaleWs {
            k: Size::of(0),
            bar: Size::of(n),
            inner: Size::from_result(self.0.diagonal_workspace_len(n)),
        }
        .resolve()
    }
}

impl<K: Kernel> Kernel for Scale<K> {
    type Params<C> = ScaleParams<C, K::Params<C>>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<Self::Params<C>> {
        let ScaleParts { scale, kernel } = self.parts().carve_exact(raw)?;
        Ok(ScaleParams { scale: VarianceParams::new(scale)?, kernel: self.0.view(kernel)? })
    }
    fn input_dim(&self) -> usize {
        self.0.input_dim()
    }
    fn n_params(&self) -> usize {
        self.0.n_params().saturating_add(1)
    }
    /// `[ln σ²_scale | the kernel's]`: the scale is a variance.
    fn param_role(&self, i: usize) -> ParamRole {
        match i {
            0 => ParamRole::LnVariance,
            _ => self.0.param_role(i - 1),
        }
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        let ScaleParts { scale, kernel } = self.parts().carve_exact(params)?;
        check_finite("kernel scale ln variance", scale)?;
        VarianceParams::new(scale)?.check()?;
        self.0.check_params(kernel)
    }
    fn check_shape(&self) -> Result<()> {
        if self.0.n_params() == usize::MAX {
            return Err(Error::SizeOverflow { what: "scaled kernel parameters" });
        }
        self.0.check_shape()
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        params[0].exp() * self.0.eval(&params[1..], x, y)
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], x: &[S]) -> S {
        params[0].exp() * self.0.eval_diag(&params[1..], x)
    }
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        Ok(self.block_ws(n1, n2)?.total())
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let (n1, n2) = block_rows(self.0.input_dim(), x1, x2);
        let ScaleParts { scale, kernel } = self.parts().carve_exact(params)?;
        let ScaleWs { k, inner, .. } = self.block_ws(n1, n2)?.carve(ws)?;
        self.0.cross_covariance_block(kernel, x1, x2, k, inner)?;
        let s2 = scale[0].exp();
        for (o, &v) in out.iter_mut().zip(k.iter()) {
            *o = s2 * v;
        }
        Ok(())
    }
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
        let (n1, n2) = block_rows(self.0.input_dim(), x1, x2);
        let ScaleParts { scale, kernel } = self.parts().carve_exact(params)?;
        let BlockGrad { params: gp, x1: g1, x2: g2 } = grad;
        let ScaleParts { scale: g_scale, kernel: g_kernel } = self.parts().carve_exact(gp)?;
        let ScaleWs { k: k_inner, bar, inner } = self.block_ws(n1, n2)?.carve(ws)?;
        // ∂/∂ln σ² = Σ K̄ ⊙ K; K̄₁ = σ²·K̄.
        g_scale[0] += k_bar.iter().zip(k).map(|(&a, &b)| a * b).fold(S::zero(), |s, t| s + t);
        let s2 = scale[0].exp();
        for (o, &v) in bar.iter_mut().zip(k_bar) {
            *o = s2 * v;
        }
        let grad = BlockGrad { params: g_kernel, x1: g1, x2: g2 };
        self.0.cross_covariance_adjoint(kernel, x1, x2, k_inner, bar, grad, inner)
    }
    fn diagonal_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.diag_ws(n)?.total())
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let d = self.0.input_dim().max(1);
        let ScaleParts { scale, kernel } = self.parts().carve_exact(params)?;
        let ScaleParts { scale: g_scale, kernel: g_kernel } = self.parts().carve_exact(grad_params)?;
        let ScaleWs { bar, inner, .. } = self.diag_ws(k_bar.len())?.carve(ws)?;
        let s2 = scale[0].exp();
        let mut g = S::zero();
        for ((o, &kb), xi) in bar.iter_mut().zip(k_bar).zip(x.chunks_exact(d)) {
            *o = s2 * kb;
            g += *o * self.0.eval_diag(kernel, xi);
        }
        g_scale[0] += g;
        self.0.diagonal_adjoint(kernel, x, bar, g_kernel, inner)
    }
}
