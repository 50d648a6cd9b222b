//! The squared-exponential (RBF) kernel with one isotropic lengthscale.

use super::{IsoParams, Kernel};
use crate::layout::SliceRef;
use crate::Scalar;

/// k(x, x') = σ²·exp(−½·|x − x'|²/ℓ²), parameters `[ln σ², ln ℓ]` (named by [`IsoParams`]).
///
/// The squared distance is evaluated as max(|x|² + |x'|² − 2x·x', 0), as the reference does,
/// so results match it to the last bits; the diagonal is σ² exactly. Where that form
/// overflows (|x| beyond ~1e153 in `f64`, ~1e19 in `f32`, where ∞ − ∞ would give NaN), the
/// distance is formed from the differences instead, so extreme inputs give their true value
/// (0 when the points are far apart), never NaN.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rbf {
    dim: usize,
}

impl Rbf {
    /// An isotropic RBF kernel on `dim`-dimensional inputs.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for a variance and a lengthscale (both > 0).
    pub fn params(variance: f64, lengthscale: f64) -> [f64; 2] {
        [variance.ln(), lengthscale.ln()]
    }
}

/// |x − y|² from the differences: the slow, overflow-free form (∞ only when the true value is).
#[inline]
fn direct_sq_dist<S: Scalar>(x: &[S], y: &[S]) -> S {
    x.iter().zip(y).map(|(&a, &b)| (a - b) * (a - b)).sum()
}

/// Whether |x|² leaves the fast form |x|² + |y|² − 2x·y finite for every y of the same kind
/// (8|x|² finite bounds every term and the differences).
#[inline]
fn fast_form_safe<S: Scalar>(xx: S) -> bool {
    (xx * S::from_f64(8.0)).is_finite()
}

impl Kernel for Rbf {
    type Params<C> = IsoParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> crate::Result<IsoParams<C>> {
        IsoParams::new(raw)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> crate::Result<()> {
        self.view(params)?.check()
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_params(&self) -> usize {
        2
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let (mut xx, mut yy, mut xy) = (S::zero(), S::zero(), S::zero());
        for (&a, &b) in x.iter().zip(y) {
            xx += a * a;
            yy += b * b;
            xy += a * b;
        }
        let mut r2 = (xx + yy - (xy + xy)).max(S::zero());
        if !r2.is_finite() {
            r2 = direct_sq_dist(x, y);
            if super::rbf_ard::far_apart(r2) {
                return S::zero(); // the limit, with no tangent (∞·0 would be NaN)
            }
        }
        let l = params[1].exp();
        params[0].exp() * (S::from_f64(-0.5) * r2 / (l * l)).exp()
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
    /// Closed form: with w = k̄·k, ∂/∂ln σ² = w, ∂/∂ln ℓ = w·r²/ℓ², ∂/∂x = −w·(x − x')/ℓ²
    /// (zero where the clip max(r², 0) is active, as on duals). Branch-free inner loop,
    /// specialised for D = 1, 2, 3; the x1 gradient of a row is accumulated in registers.
    /// Rows whose inputs are too large for the fast distance form take a slower path that forms
    /// the distances from the differences.
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        k: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        grad_x1: &mut [S],
        mut grad_x2: Option<&mut [S]>,
    ) -> crate::Result<()> {
        let d = self.dim.max(1);
        let n2 = x2.len() / d;
        let l = params[1].exp();
        let inv_l2 = (l * l).recip();
        let x2_safe = x2.chunks_exact(d).all(|y| fast_form_safe(y.iter().map(|&v| v * v).sum::<S>()));
        // The x1-only rows (the K_zx block) take the lane-blocked loop, compiled for AVX2 when
        // the CPU has it; rows that also write x2's gradient (the K_zz block, M × M) the plain one.
        let (g_var, g_len) = crate::arch::simd(
            #[inline(always)]
            || {
                let (mut g_var, mut g_len) = (S::zero(), S::zero());
                for (i, xi) in x1.chunks_exact(d).enumerate() {
                    let (kr, kbr) = (&k[i * n2..(i + 1) * n2], &k_bar[i * n2..(i + 1) * n2]);
                    let g1 = &mut grad_x1[i * d..(i + 1) * d];
                    let safe = x2_safe && fast_form_safe(xi.iter().map(|&v| v * v).sum::<S>());
                    let (sv, sl) = match (grad_x2.as_deref_mut(), d) {
                        (g2, _) if !safe => adjoint_row_robust(xi, x2, kr, kbr, inv_l2, g1, g2),
                        (None, 1) => adjoint_row_lanes::<S, 1>(xi, x2, kr, kbr, inv_l2, g1),
                        (None, 2) => adjoint_row_lanes::<S, 2>(xi, x2, kr, kbr, inv_l2, g1),
                        (None, 3) => adjoint_row_lanes::<S, 3>(xi, x2, kr, kbr, inv_l2, g1),
                        (g2, 1) => adjoint_row::<S, 1>(1, xi, x2, kr, kbr, inv_l2, g1, g2),
                        (g2, 2) => adjoint_row::<S, 2>(2, xi, x2, kr, kbr, inv_l2, g1, g2),
                        (g2, 3) => adjoint_row::<S, 3>(3, xi, x2, kr, kbr, inv_l2, g1, g2),
                        (g2, _) => adjoint_row::<S, 0>(d, xi, x2, kr, kbr, inv_l2, g1, g2),
                    };
                    g_var += sv;
                    g_len += sl;
                }
                (g_var, g_len)
            },
        );
        grad_params[0] += g_var;
        grad_params[1] += g_len;
        Ok(())
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        _x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
    ) -> crate::Result<()> {
        let s: S = k_bar.iter().copied().sum();
        grad_params[0] += s * params[0].exp();
        Ok(())
    }
    /// The same formula as `eval`, with σ² and ℓ² hoisted out of the loop and the exponentials
    /// of a row taken by a vectorisable exp (within 2 ulp of libm's). Distances the fast form
    /// cannot give (non-finite) are formed from the differences, as in `eval`.
    fn cross_covariance_block<S: Scalar>(&self, params: &[S], x1: &[S], x2: &[S], out: &mut [S]) {
        let d = self.dim.max(1);
        let n2 = x2.len() / d;
        let s2 = params[0].exp();
        let l = params[1].exp();
        let l2 = l * l;
        let m_half = S::from_f64(-0.5);
        for (xi, row) in x1.chunks_exact(d).zip(out.chunks_exact_mut(n2)) {
            crate::arch::simd(
                #[inline(always)]
                || match d {
                    1 => r2_row::<S, 1>(1, xi, x2, row),
                    2 => r2_row::<S, 2>(2, xi, x2, row),
                    3 => r2_row::<S, 3>(3, xi, x2, row),
                    _ => r2_row::<S, 0>(d, xi, x2, row),
                },
            );
            if row.iter().any(|v| !v.is_finite()) {
                for (o, yj) in row.iter_mut().zip(x2.chunks_exact(d)) {
                    if !o.is_finite() {
                        *o = direct_sq_dist(xi, yj); // ∞ here gives exp(−∞) = 0 below
                    }
                }
            }
            S::scaled_exp_in_place(row, s2, m_half, l2);
        }
    }
}

/// Squared distances of one row, out_j = max(|x|² + |y_j|² − 2x·y_j, 0), summed as
/// [`Rbf::eval`] sums them. `D` > 0 fixes the input dimension at compile time (the distance
/// loop unrolls); `D` = 0 takes it from `d`.
#[inline(always)]
fn r2_row<S: Scalar, const D: usize>(d: usize, xi: &[S], x2: &[S], out: &mut [S]) {
    let d = if D == 0 { d } else { D };
    for (o, yj) in out.iter_mut().zip(x2.chunks_exact(d)) {
        let (mut xx, mut yy, mut xy) = (S::zero(), S::zero(), S::zero());
        for q in 0..d {
            xx += xi[q] * xi[q];
            yy += yj[q] * yj[q];
            xy += xi[q] * yj[q];
        }
        *o = (xx + yy - (xy + xy)).max(S::zero());
    }
}

/// [`adjoint_row`] for inputs too large for the fast distance form: distances from the
/// differences, and entries whose kernel value underflowed to 0 skipped (their share is 0,
/// and ∞·0 would be NaN). Returns (Σ_j w_j, Σ_j c_j·r²_j) as [`adjoint_row`] does.
#[cold]
fn adjoint_row_robust<S: Scalar>(
    xi: &[S],
    x2: &[S],
    k: &[S],
    k_bar: &[S],
    inv_l2: S,
    g1: &mut [S],
    mut g2: Option<&mut [S]>,
) -> (S, S) {
    let d = xi.len();
    let (mut g_var, mut g_len) = (S::zero(), S::zero());
    for (j, yj) in x2.chunks_exact(d).enumerate() {
        let w = k_bar[j] * k[j];
        if k[j] == S::zero() {
            continue;
        }
        let c = w * inv_l2;
        g_var += w;
        g_len += c * direct_sq_dist(xi, yj);
        for q in 0..d {
            let t = c * (xi[q] - yj[q]);
            g1[q] -= t;
            if let Some(g) = g2.as_deref_mut() {
                g[j * d + q] += t;
            }
        }
    }
    (g_var, g_len)
}

/// One entry's share of the block adjoint: w = k̄·k, the raw squared distance r² of x and y
/// (before the clip), and c = w/ℓ² where the clip max(r², 0) passes the derivative, else 0.
#[inline(always)]
fn entry_adjoint<S: Scalar>(x: &[S], xx: S, y: &[S], k: S, k_bar: S, inv_l2: S) -> (S, S, S) {
    let w = k_bar * k;
    let (mut yy, mut xy) = (S::zero(), S::zero());
    for (&a, &b) in x.iter().zip(y) {
        yy += b * b;
        xy += a * b;
    }
    let raw = xx + yy - (xy + xy);
    let c = if raw >= S::zero() { w * inv_l2 } else { S::zero() };
    (w, c, raw)
}

/// Lanes of [`adjoint_row_lanes`]: four independent partial sums per reduction, so the loop
/// over j becomes one AVX2 (or two SSE2) vector step per four columns.
const LANES: usize = 4;

/// [`adjoint_row`] without the x2 gradient, for `D` = 1, 2, 3: the reductions over j are kept
/// in [`LANES`] partial sums (summed pairwise at the end) so the compiler can vectorise the
/// loop, which a single running sum forbids (floating-point addition does not reassociate).
#[inline(always)]
fn adjoint_row_lanes<S: Scalar, const D: usize>(
    xi: &[S],
    x2: &[S],
    k: &[S],
    k_bar: &[S],
    inv_l2: S,
    g1: &mut [S],
) -> (S, S) {
    let mut x = [S::zero(); D];
    x.copy_from_slice(&xi[..D]);
    let xx: S = x.iter().map(|&a| a * a).sum();
    let (mut gv, mut gl) = ([S::zero(); LANES], [S::zero(); LANES]);
    let mut acc = [[S::zero(); LANES]; D];
    let mut lane = |l: usize, y: &[S], kj: S, kbj: S| {
        let (w, c, raw) = entry_adjoint(&x, xx, y, kj, kbj, inv_l2);
        gv[l] += w;
        gl[l] += c * raw;
        for q in 0..D {
            acc[q][l] += c * (x[q] - y[q]);
        }
    };
    let n = k.len();
    let full = n / LANES * LANES;
    let blocks = x2[..full * D].chunks_exact(LANES * D).zip(k[..full].chunks_exact(LANES));
    for ((ys, ks), kbs) in blocks.zip(k_bar[..full].chunks_exact(LANES)) {
        for l in 0..LANES {
            lane(l, &ys[l * D..(l + 1) * D], ks[l], kbs[l]);
        }
    }
    for j in full..n {
        lane(0, &x2[j * D..(j + 1) * D], k[j], k_bar[j]);
    }
    let sum = |v: [S; LANES]| (v[0] + v[1]) + (v[2] + v[3]);
    for q in 0..D {
        g1[q] -= sum(acc[q]);
    }
    (sum(gv), sum(gl))
}

/// Reverse rule of one row of the block (see `cross_covariance_adjoint`): adds the x1_i and
/// x2 gradients and returns (Σ_j w_j, Σ_j c_j·r²_j). `D` as in [`r2_row`].
#[inline(always)]
fn adjoint_row<S: Scalar, const D: usize>(
    d: usize,
    xi: &[S],
    x2: &[S],
    k: &[S],
    k_bar: &[S],
    inv_l2: S,
    g1: &mut [S],
    mut g2: Option<&mut [S]>,
) -> (S, S) {
    const MAX_D: usize = 8;
    let d = if D == 0 { d } else { D };
    let xx: S = xi.iter().map(|&a| a * a).sum();
    let (mut g_var, mut g_len) = (S::zero(), S::zero());
    let mut acc = [S::zero(); MAX_D];
    for (j, yj) in x2.chunks_exact(d).enumerate() {
        let (w, c, raw) = entry_adjoint(&xi[..d], xx, yj, k[j], k_bar[j], inv_l2);
        g_var += w;
        g_len += c * raw;
        for q in 0..d {
            let t = c * (xi[q] - yj[q]);
            if d <= MAX_D {
                acc[q] += t;
            } else {
                g1[q] -= t;
            }
            if let Some(g) = g2.as_deref_mut() {
                g[j * d + q] += t;
            }
        }
    }
    if d <= MAX_D {
        for q in 0..d {
            g1[q] -= acc[q];
        }
    }
    (g_var, g_len)
}
