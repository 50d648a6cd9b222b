//! The block engine of the ARD stationary kernels k = σ²·f(s), s = Σ_d ((x_d − x'_d)/ℓ_d)²
//! ([`RbfArd`](super::RbfArd), [`Matern`](super::Matern),
//! [`RationalQuadratic`](super::RationalQuadratic)): the scaled squared distances of a block and
//! the reverse rule of everything downstream of them.
//!
//! **Reverse rule as products.** A kernel's reverse rule reduces to one weight per entry,
//! W_ij = −2σ²·f′(s_ij)·K̄_ij (for the RBF, W = K̄ ⊙ K), since ∂k/∂ln ℓ_d = −2σ²f′(s)·t_d² and
//! ∂k/∂x_d = 2σ²f′(s)·t_d/ℓ_d with t_d = (x_d − x'_d)/ℓ_d. So, with x̃ = x/ℓ,
//!
//! - ∂/∂ln ℓ_d = Σ_ij W_ij (x̃_id − x̃′_jd)² = Σ_i r_i x̃_id² − 2 Σ_i x̃_id (W·X̃′)_id + Σ_j c_j x̃′_jd²,
//!   r = W·1, c = Wᵀ·1;
//! - ∂/∂x_id = −(r_i x̃_id − (W·X̃′)_id)/ℓ_d, ∂/∂x′_jd = ((Wᵀ·X̃)_jd − c_j x̃′_jd)/ℓ_d:
//!
//! two gemms (one without the x′ gradient) and row/column sums, O(n₁n₂D) at gemm speed
//! whatever D is. The forward block is the same product: s = ‖x̃‖² + ‖x̃′‖² − 2 X̃·X̃′ᵀ.
//!
//! **Cancellation.** Both expansions lose digits when points are close compared with their
//! distance from the origin. The inputs are therefore centred first (on the mean of x′:
//! differences do not change), and any entry of s below [`RECOMPUTE`] × (‖x̃‖² + ‖x̃′‖²)
//! (near or coincident points) is recomputed from the differences, so coincident points give
//! s = 0 exactly (the Matérn kernels' r = 0 case depends on it).
//!
//! **Small D.** Below [`GEMM_MIN_DIM`] inputs the block and its reverse rule loop over the
//! differences directly (input dimension outermost, the n₂ entries of a row innermost, so the
//! loops vectorise); there the products would not pay (measured: see `benches/kernels.rs`).
//! That path computes every entry exactly as `eval` does.
//!
//! **Extreme inputs.** Rows whose (scaled) squared norms overflow (|x| ≳ 1e153 in `f64`) make
//! the whole block take a per-entry path that forms differences first: a far-apart pair gets
//! s = ∞ (the kernel's limit 0) and no gradient, never NaN.

use crate::error::Result;
use crate::layout::Size;
use crate::linalg::{dot_kernel, gemm, MatMut, MatRef, Trans};
use crate::Scalar;

/// Input dimension from which the blocks go through gemm (below it, direct differences).
pub(crate) const GEMM_MIN_DIM: usize = 8;

/// An entry of s below this fraction of ‖x̃‖² + ‖x̃′‖² is recomputed from the differences.
const RECOMPUTE: f64 = 1.0 / 64.0;

/// How a block is computed: see the module docs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Path {
    /// Direct differences, input dimension outermost.
    Direct,
    /// Centred, scaled inputs through gemm.
    Gemm,
    /// Per entry, differences first (inputs too large for the other two).
    Robust,
}

crate::parts! {
    /// The engine's scratch for one block (n1 × n2, D inputs): 1/ℓ and the centre (D each), the
    /// scaled inputs (n1·D, n2·D; x2 transposed on the direct path), their squared norms
    /// (n1 + n2), the products W·X̃′ and Wᵀ·X̃ (or the transposed x2 gradient) and the row and
    /// column sums of W (n1 + n2).
    "ARD distance workspace": pub(crate) struct DistWs { inv_l, center, a, b, norms, p, q, rc }
}

/// The distance engine of one ARD stationary kernel on `dim` inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ArdDist {
    pub dim: usize,
}

impl ArdDist {
    /// The scratch lengths for an n1 × n2 block.
    pub fn ws(&self, n1: usize, n2: usize) -> Result<DistWs<usize>> {
        let d = self.dim;
        let (a, b) = (Size::of(n1) * d, Size::of(n2) * d);
        DistWs {
            inv_l: Size::of(d),
            center: Size::of(d),
            a,
            b,
            norms: Size::of(n1) + n2,
            p: a,
            q: b,
            rc: Size::of(n1) + n2,
        }
        .resolve()
    }

    /// Chooses the path (the same one for a block and its reverse rule) and fills the scaled
    /// inputs it needs: `inv_l`, and for the gemm path `center`, `a` = X̃, `b` = X̃′ and
    /// `norms`; for the direct path `b` = x2ᵀ (D × n2, unscaled).
    fn prepare<S: Scalar>(&self, log_l: &[S], x1: &[S], x2: &[S], ws: &mut DistWs<&mut [S]>) -> Path {
        let d = self.dim;
        let n2 = x2.len() / d.max(1);
        for (v, &ll) in ws.inv_l.iter_mut().zip(log_l) {
            *v = (-ll).exp();
        }
        let eight = S::from_f64(8.0);
        // Every difference (x − x′)/ℓ and its square are finite when 8‖x‖² and 8‖x/ℓ‖² are.
        let row_safe = |row: &[S]| {
            let (mut raw, mut scaled) = (S::zero(), S::zero());
            for (&v, &il) in row.iter().zip(ws.inv_l.iter()) {
                raw += v * v;
                scaled += (v * il) * (v * il);
            }
            (raw * eight).is_finite() && (scaled * eight).is_finite()
        };
        let safe = x1.chunks_exact(d).chain(x2.chunks_exact(d)).all(row_safe);
        if !safe {
            return Path::Robust;
        }
        // Scalars wider than a float (duals) run gemm through plain loops: no gain there.
        if d < GEMM_MIN_DIM || S::LANE_BYTES > 8 {
            for (j, row) in x2.chunks_exact(d).enumerate() {
                for (q, &v) in row.iter().enumerate() {
                    ws.b[q * n2 + j] = v;
                }
            }
            return Path::Direct;
        }
        // Centre on the mean of x2, then scale.
        ws.center.iter_mut().for_each(|c| *c = S::zero());
        for row in x2.chunks_exact(d) {
            for (c, &v) in ws.center.iter_mut().zip(row) {
                *c += v;
            }
        }
        let inv_n2 = S::from_usize(n2.max(1)).recip();
        ws.center.iter_mut().for_each(|c| *c *= inv_n2);
        let (na, nb) = ws.norms.split_at_mut(x1.len() / d);
        for (x, out, norms) in [(x1, &mut *ws.a, na), (x2, &mut *ws.b, nb)] {
            for ((row, o), nrm) in x.chunks_exact(d).zip(out.chunks_exact_mut(d)).zip(norms.iter_mut()) {
                for q in 0..d {
                    o[q] = (row[q] - ws.center[q]) * ws.inv_l[q];
                }
                *nrm = dot_kernel(o, o);
            }
        }
        if ws.norms.iter().all(|v| (*v * eight).is_finite()) {
            Path::Gemm
        } else {
            Path::Robust
        }
    }

    /// The scaled squared distances s (n1 × n2) of the block into `out` (sizes trusted).
    pub fn forward<S: Scalar>(
        &self,
        log_l: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        mut ws: DistWs<&mut [S]>,
    ) -> Result<()> {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        match self.prepare(log_l, x1, x2, &mut ws) {
            Path::Robust => {
                for (row, xi) in out.chunks_exact_mut(n2).zip(x1.chunks_exact(d)) {
                    for (o, yj) in row.iter_mut().zip(x2.chunks_exact(d)) {
                        *o = direct(ws.inv_l, xi, yj);
                    }
                }
            }
            Path::Direct => crate::arch::simd(
                #[inline(always)]
                || {
                    for (row, xi) in out.chunks_exact_mut(n2).zip(x1.chunks_exact(d)) {
                        row.iter_mut().for_each(|o| *o = S::zero());
                        for q in 0..d {
                            let (xv, il) = (xi[q], ws.inv_l[q]);
                            for (o, &yv) in row.iter_mut().zip(&ws.b[q * n2..(q + 1) * n2]) {
                                let t = (xv - yv) * il;
                                *o += t * t;
                            }
                        }
                    }
                },
            ),
            Path::Gemm => {
                let (a, b) = (MatRef::new(n1, d, ws.a)?, MatRef::new(n2, d, ws.b)?);
                gemm(S::from_f64(-2.0), a, Trans::No, b, Trans::Yes, S::zero(), MatMut::new(n1, n2, out)?)?;
                let (na, nb) = ws.norms.split_at(n1);
                let tau = S::from_f64(RECOMPUTE);
                for (i, (row, &ni)) in out.chunks_exact_mut(n2).zip(na).enumerate() {
                    for (j, (o, &nj)) in row.iter_mut().zip(nb).enumerate() {
                        let norms = ni + nj;
                        let s = *o + norms;
                        *o = if s < tau * norms {
                            direct(ws.inv_l, &x1[i * d..(i + 1) * d], &x2[j * d..(j + 1) * d])
                        } else {
                            s
                        };
                    }
                }
            }
        }
        Ok(())
    }

    /// Reverse rule given the weights `w` (n1 × n2, W of the module docs): *adds*
    /// ∂/∂ln ℓ_d into `grad_log_l`, ∂/∂x1 into `g1` and, when given, ∂/∂x2 into `g2`.
    #[allow(clippy::too_many_arguments)]
    pub fn adjoint<S: Scalar>(
        &self,
        log_l: &[S],
        x1: &[S],
        x2: &[S],
        w: &[S],
        grad_log_l: &mut [S],
        g1: &mut [S],
        g2: Option<&mut [S]>,
        mut ws: DistWs<&mut [S]>,
    ) -> Result<()> {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        match self.prepare(log_l, x1, x2, &mut ws) {
            Path::Robust => robust_adjoint(ws.inv_l, x1, x2, w, grad_log_l, g1, g2),
            Path::Direct => {
                let DistWs { inv_l, b: yt, q: g2t, .. } = ws;
                match g2 {
                    None => direct_adjoint(inv_l, x1, yt, w, grad_log_l, g1, None),
                    Some(g2) => {
                        g2t.iter_mut().for_each(|v| *v = S::zero());
                        direct_adjoint(inv_l, x1, yt, w, grad_log_l, g1, Some(&mut *g2t));
                        for (j, row) in g2.chunks_exact_mut(d).enumerate() {
                            for q in 0..d {
                                row[q] += g2t[q * n2 + j] * inv_l[q];
                            }
                        }
                    }
                }
            }
            Path::Gemm => {
                let DistWs { inv_l, a, b, p, q, rc, .. } = ws;
                let (r, c) = rc.split_at_mut(n1);
                let wm = MatRef::new(n1, n2, w)?;
                // r = W·1 (lane sums per row), c = Wᵀ·1 (one vector add per row).
                crate::arch::simd(
                    #[inline(always)]
                    || {
                        c.iter_mut().for_each(|v| *v = S::zero());
                        for (ri, row) in r.iter_mut().zip(w.chunks_exact(n2)) {
                            *ri = lane_sum(row);
                            for (cj, &v) in c.iter_mut().zip(row) {
                                *cj += v;
                            }
                        }
                    },
                );
                let (am, bm) = (MatRef::new(n1, d, a)?, MatRef::new(n2, d, b)?);
                gemm(S::one(), wm, Trans::No, bm, Trans::No, S::zero(), MatMut::new(n1, d, p)?)?;
                for q_ in 0..d {
                    let (mut t1, mut t2, mut t3) = (S::zero(), S::zero(), S::zero());
                    for i in 0..n1 {
                        let xv = a[i * d + q_];
                        t1 += r[i] * xv * xv;
                        t2 += xv * p[i * d + q_];
                    }
                    for j in 0..n2 {
                        let yv = b[j * d + q_];
                        t3 += c[j] * yv * yv;
                    }
                    grad_log_l[q_] += t1 - (t2 + t2) + t3;
                }
                for i in 0..n1 {
                    for q_ in 0..d {
                        g1[i * d + q_] -= (r[i] * a[i * d + q_] - p[i * d + q_]) * inv_l[q_];
                    }
                }
                if let Some(g2) = g2 {
                    gemm(S::one(), wm, Trans::Yes, am, Trans::No, S::zero(), MatMut::new(n2, d, q)?)?;
                    for j in 0..n2 {
                        for q_ in 0..d {
                            g2[j * d + q_] += (q[j * d + q_] - c[j] * b[j * d + q_]) * inv_l[q_];
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Σ_d ((x_d − y_d)/ℓ_d)² from the differences (∞ only when the true value overflows).
#[inline]
fn direct<S: Scalar>(inv_l: &[S], x: &[S], y: &[S]) -> S {
    let mut s = S::zero();
    for ((&a, &b), &il) in x.iter().zip(y).zip(inv_l) {
        let t = (a - b) * il;
        s += t * t;
    }
    s
}

/// Partial sums per reduction in [`direct_adjoint`]'s inner loop (vectorisable: see
/// `linalg::vector`).
const LANES: usize = 8;

/// The direct path's reverse rule: for each row i and input q, one pass over the row's n2
/// entries accumulating Σ_j W_ij t_j and Σ_j W_ij t_j² (t_j = (x_iq − x′_jq)/ℓ_q) in
/// [`LANES`] partial sums, and (when wanted) the transposed x2 gradient Σ_i W_ij t_j.
fn direct_adjoint<S: Scalar>(
    inv_l: &[S],
    x1: &[S],
    yt: &[S],
    w: &[S],
    grad_log_l: &mut [S],
    g1: &mut [S],
    mut g2t: Option<&mut [S]>,
) {
    let d = inv_l.len();
    let n2 = yt.len().checked_div(d).unwrap_or(0);
    crate::arch::simd(
        #[inline(always)]
        || {
            for ((xi, wrow), gi) in x1.chunks_exact(d).zip(w.chunks_exact(n2)).zip(g1.chunks_exact_mut(d)) {
                for q in 0..d {
                    let (xv, il) = (xi[q], inv_l[q]);
                    let y = &yt[q * n2..(q + 1) * n2];
                    let (sum_t, sum_t2) = match g2t.as_deref_mut() {
                        Some(g) => row_pass::<S, true>(xv, il, y, wrow, &mut g[q * n2..(q + 1) * n2]),
                        None => row_pass::<S, false>(xv, il, y, wrow, &mut []),
                    };
                    gi[q] -= sum_t * il;
                    grad_log_l[q] += sum_t2;
                }
            }
        },
    );
}

/// One row and input of [`direct_adjoint`]: returns (Σ_j w_j t_j, Σ_j w_j t_j²) and, if `G2`,
/// adds w_j t_j to `g2[j]`.
#[inline(always)]
fn row_pass<S: Scalar, const G2: bool>(xv: S, il: S, y: &[S], w: &[S], g2: &mut [S]) -> (S, S) {
    let (mut a, mut b) = ([S::zero(); LANES], [S::zero(); LANES]);
    let n = y.len().min(w.len());
    let full = n / LANES * LANES;
    let mut j = 0;
    while j < full {
        for l in 0..LANES {
            let t = (xv - y[j + l]) * il;
            let wt = w[j + l] * t;
            a[l] += wt;
            b[l] += wt * t;
            if G2 {
                g2[j + l] += wt;
            }
        }
        j += LANES;
    }
    for j in full..n {
        let t = (xv - y[j]) * il;
        let wt = w[j] * t;
        a[0] += wt;
        b[0] += wt * t;
        if G2 {
            g2[j] += wt;
        }
    }
    (fold(a), fold(b))
}

/// Σ v in [`LANES`] partial sums (vectorisable).
#[inline(always)]
fn lane_sum<S: Scalar>(v: &[S]) -> S {
    let mut acc = [S::zero(); LANES];
    let chunks = v.chunks_exact(LANES);
    let rest = chunks.remainder();
    for c in chunks {
        for l in 0..LANES {
            acc[l] += c[l];
        }
    }
    for (l, &x) in rest.iter().enumerate() {
        acc[l] += x;
    }
    fold(acc)
}

/// The pairwise sum of the partial sums.
#[inline(always)]
fn fold<S: Scalar>(mut acc: [S; LANES]) -> S {
    let mut w = LANES;
    while w > 1 {
        w /= 2;
        for l in 0..w {
            let hi = acc[l + w];
            acc[l] += hi;
        }
    }
    acc[0]
}

/// The per-entry reverse rule for inputs too large for the other paths: entries with no
/// weight (a kernel value that underflowed, a far-apart pair) are skipped, as ∞·0 would be NaN.
#[cold]
fn robust_adjoint<S: Scalar>(
    inv_l: &[S],
    x1: &[S],
    x2: &[S],
    w: &[S],
    grad_log_l: &mut [S],
    g1: &mut [S],
    mut g2: Option<&mut [S]>,
) {
    let d = inv_l.len();
    let n2 = x2.len() / d.max(1);
    for (i, xi) in x1.chunks_exact(d).enumerate() {
        for (j, yj) in x2.chunks_exact(d).enumerate() {
            let wij = w[i * n2 + j];
            if wij == S::zero() || !direct(inv_l, xi, yj).is_finite() {
                continue;
            }
            for q in 0..d {
                let t = (xi[q] - yj[q]) * inv_l[q];
                let wt = wij * t;
                grad_log_l[q] += wt * t;
                g1[i * d + q] -= wt * inv_l[q];
                if let Some(g) = g2.as_deref_mut() {
                    g[j * d + q] += wt * inv_l[q];
                }
            }
        }
    }
}

/// What distinguishes one ARD stationary kernel from another: the profile f in
/// k = σ²·f(s), its derivative as the weight W, and any parameters of its own after the
/// lengthscales (parameters `[ln σ², ln ℓ_1..D, extra…]`).
pub(crate) trait Profile {
    /// How many n1 × n2 blocks the forward block keeps for the weights.
    const KEPT: usize;
    /// Maps the squared distances `k` (s on entry) to the kernel values σ²·f(s), in place,
    /// keeping what [`Profile::weights`] needs in `kept` (KEPT · n1·n2 values).
    fn apply<S: Scalar>(&self, variance: S, extra: &[S], k: &mut [S], kept: &mut [S]);
    /// W = −2σ²f′(s) ⊙ K̄ into `w`, and *adds* K̄'s share of ∂/∂extra into `grad_extra`.
    fn weights<S: Scalar>(
        &self,
        variance: S,
        extra: &[S],
        k: &[S],
        k_bar: &[S],
        kept: &[S],
        w: &mut [S],
        grad_extra: &mut [S],
    );
}

crate::parts! {
    /// An ARD stationary kernel's block workspace: what the profile keeps, the weights W, and
    /// the distance engine's scratch.
    "ARD kernel block workspace": struct ArdWs { kept, w, dist }
}

fn ard_ws<P: Profile>(dim: usize, n1: usize, n2: usize) -> Result<ArdWs<usize>> {
    let nn = Size::of(n1) * n2;
    let dist = ArdDist { dim }.ws(n1, n2).map(|w| w.total());
    ArdWs { kept: nn * P::KEPT, w: nn, dist: Size::from_result(dist) }.resolve()
}

/// [`Kernel::block_workspace_len`](super::Kernel::block_workspace_len) of an ARD stationary
/// kernel.
pub(crate) fn ard_block_workspace_len<P: Profile>(dim: usize, n1: usize, n2: usize) -> Result<usize> {
    Ok(ard_ws::<P>(dim, n1, n2)?.total())
}

/// [`Kernel::cross_covariance_block`](super::Kernel::cross_covariance_block) of an ARD
/// stationary kernel with profile `p` (sizes trusted).
pub(crate) fn ard_block<S: Scalar, P: Profile>(
    p: &P,
    dim: usize,
    params: &[S],
    x1: &[S],
    x2: &[S],
    out: &mut [S],
    ws: &mut [S],
) -> Result<()> {
    let (n1, n2) = (x1.len() / dim.max(1), x2.len() / dim.max(1));
    let ArdWs { kept, dist, .. } = ard_ws::<P>(dim, n1, n2)?.carve(ws)?;
    let engine = ArdDist { dim };
    engine.forward(&params[1..1 + dim], x1, x2, out, engine.ws(n1, n2)?.carve(dist)?)?;
    p.apply(params[0].exp(), &params[1 + dim..], out, kept);
    Ok(())
}

/// [`Kernel::cross_covariance_adjoint`](super::Kernel::cross_covariance_adjoint) of an ARD
/// stationary kernel with profile `p`: the weights from the profile, ∂/∂ln σ² = Σ K̄ ⊙ K, and
/// the distance engine's reverse rule for the lengthscales and inputs.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ard_adjoint<S: Scalar, P: Profile>(
    p: &P,
    dim: usize,
    params: &[S],
    x1: &[S],
    x2: &[S],
    k: &[S],
    k_bar: &[S],
    grad: super::BlockGrad<'_, S>,
    ws: &mut [S],
) -> Result<()> {
    let (n1, n2) = (x1.len() / dim.max(1), x2.len() / dim.max(1));
    let ArdWs { kept, w, dist } = ard_ws::<P>(dim, n1, n2)?.carve(ws)?;
    let (g_var, rest) = grad.params.split_at_mut(1);
    let (g_len, g_extra) = rest.split_at_mut(dim);
    p.weights(params[0].exp(), &params[1 + dim..], k, k_bar, kept, w, g_extra);
    g_var[0] += crate::arch::simd(
        #[inline(always)]
        || dot_kernel(k_bar, k),
    );
    let engine = ArdDist { dim };
    engine.adjoint(&params[1..1 + dim], x1, x2, w, g_len, grad.x1, grad.x2, engine.ws(n1, n2)?.carve(dist)?)
}

/// [`Kernel::diagonal_adjoint`](super::Kernel::diagonal_adjoint) of any kernel whose
/// diagonal is σ² = e^{params[0]}: ∂/∂ln σ² = σ²·Σ k̄.
pub(crate) fn variance_diagonal_adjoint<S: Scalar>(params: &[S], k_bar: &[S], grad_params: &mut [S]) {
    let s: S = k_bar.iter().copied().sum();
    grad_params[0] += s * params[0].exp();
}
