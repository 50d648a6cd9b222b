//! The periodic (exp-sine-squared) kernel with a period and a lengthscale per input dimension.

use super::stationary::variance_diagonal_adjoint;
use super::{BlockGrad, Kernel, PeriodicParams};
use crate::error::Result;
use crate::layout::{Size, SliceRef};
use crate::Scalar;
use core::f64::consts::{PI, TAU};

/// k(x, x') = σ²·exp(−2·Σ_d sin²(π(x_d − x'_d)/p_d)/ℓ_d²), parameters
/// `[ln σ², ln p_1, …, ln p_D, ln ℓ_1, …, ln ℓ_D]` (named by [`PeriodicParams`]), for any input
/// dimension D (MacKay's form, Rasmussen & Williams eq. 4.31; scikit-learn's `ExpSineSquared`.
/// GPyTorch's `PeriodicKernel` divides by ℓ_d instead of ℓ_d²).
///
/// Multiply it by an [`Rbf`](super::Rbf) for a locally periodic kernel (a [`Product`](super::Product)).
///
/// **Blocks.** With 2 sin²(u) = 1 − cos 2u and φ = 2π·x/p per input, cos(φ − φ′) =
/// cos φ cos φ′ + sin φ sin φ′, so the exponent of a whole block needs the sines and cosines of
/// the n₁ + n₂ inputs only, not of the n₁n₂ differences: E_ij = Σ_d (cos(φ_id − φ′_jd) − 1)/ℓ_d².
/// With W = K̄ ⊙ K and sin(φ − φ′) from the same products, the reverse rule is
/// ∂/∂ln ℓ_d = (2/ℓ_d²)·Σ W(1 − cos Δφ), ∂/∂ln p_d = (1/ℓ_d²)·Σ W·sin Δφ·Δφ,
/// ∂/∂x_id = −(2π/(p_d ℓ_d²))·Σ_j W_ij sin Δφ and ∂/∂x′_jd = (2π/(p_d ℓ_d²))·Σ_i W_ij sin Δφ:
/// O(n₁n₂D) multiply-adds, no per-entry sine. The inputs are centred first (on the mean of x′),
/// which changes no difference and keeps the phases small.
///
/// Finite for finite inputs whose differences are finite (a periodic kernel has no limit far
/// apart, so an overflowing difference gives NaN, which the model reports as a typed error).
///
/// ```
/// use svgp::kernel::{Kernel, Periodic};
/// let k = Periodic::new(1);
/// let mut p = [0.0_f64; 3];
/// let mut view = k.view(&mut p[..])?;
/// view.set_variance(2.0)?;
/// view.set_periods(1.0)?;
/// view.set_lengthscales(0.5)?;
/// assert!((k.eval(&p, &[0.3], &[3.3]) - 2.0).abs() < 1e-12); // three periods apart
/// let half = 2.0 * (-2.0_f64 / 0.25).exp(); // half a period: sin² = 1
/// assert!((k.eval(&p, &[0.0], &[0.5]) - half).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Periodic {
    dim: usize,
}

impl Periodic {
    /// A periodic kernel with a period and a lengthscale per input on `dim`-dimensional inputs
    /// (`2·dim + 1` parameters).
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
    /// The parameter vector for a variance, the periods and the lengthscales (each one for
    /// every input, or one per input; all > 0). Without `alloc`, the setters of
    /// [`PeriodicParams`] write them into a caller's buffer.
    ///
    /// ```
    /// use svgp::kernel::{Kernel, Periodic};
    /// let k = Periodic::new(2);
    /// let p = k.params(1.5, &[1.0], &[0.5, 2.0])?;
    /// let v = k.view(&p[..])?;
    /// assert!((v.variance() - 1.5).abs() < 1e-15 && (v.lengthscale(1) - 2.0).abs() < 1e-15);
    /// # Ok::<(), svgp::Error>(())
    /// ```
    #[cfg(feature = "alloc")]
    pub fn params(
        &self,
        variance: f64,
        periods: &[f64],
        lengthscales: &[f64],
    ) -> Result<alloc::vec::Vec<f64>> {
        let mut raw = alloc::vec![0.0; self.n_params()];
        let mut p = self.view(&mut raw[..])?;
        p.set_variance(variance)?;
        super::params::fill_log("kernel period", p.ln_periods_mut(), periods)?;
        super::params::fill_log("kernel lengthscale", p.ln_lengthscales_mut(), lengthscales)?;
        Ok(raw)
    }
    fn ws(&self, n1: usize, n2: usize) -> Result<PeriodicWs<usize>> {
        let d = Size::of(self.dim);
        let (a, b) = (Size::of(n1) * self.dim, Size::of(n2) * self.dim);
        PeriodicWs {
            inv_l2: d,
            freq: d,
            center: d,
            phi1: a,
            cos1: a,
            sin1: a,
            phi2: b,
            cos2: b,
            sin2: b,
            w: Size::of(n1) * n2,
            g2: b,
        }
        .resolve()
    }
    /// Fills 1/ℓ², 2π/p, the centre and the inputs' phases, cosines and sines (x2's transposed,
    /// D × n2).
    fn prepare<S: Scalar>(&self, params: &[S], x1: &[S], x2: &[S], ws: &mut PeriodicWs<&mut [S]>) {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        let (ln_p, ln_l) = params[1..].split_at(d);
        for q in 0..d {
            ws.inv_l2[q] = (S::from_f64(-2.0) * ln_l[q]).exp();
            ws.freq[q] = S::from_f64(TAU) * (-ln_p[q]).exp();
            ws.center[q] = S::zero();
        }
        for row in x2.chunks_exact(d) {
            for (c, &v) in ws.center.iter_mut().zip(row) {
                *c += v;
            }
        }
        let inv_n2 = S::from_usize(n2.max(1)).recip();
        ws.center.iter_mut().for_each(|c| *c *= inv_n2);
        for (i, row) in x1.chunks_exact(d).enumerate() {
            for q in 0..d {
                ws.phi1[i * d + q] = (row[q] - ws.center[q]) * ws.freq[q];
            }
        }
        for (j, row) in x2.chunks_exact(d).enumerate() {
            for q in 0..d {
                ws.phi2[q * n2 + j] = (row[q] - ws.center[q]) * ws.freq[q];
            }
        }
        let _ = n1;
        S::sin_cos_slice(ws.phi1, ws.sin1, ws.cos1);
        S::sin_cos_slice(ws.phi2, ws.sin2, ws.cos2);
    }
}

crate::parts! {
    /// A periodic block's workspace: 1/ℓ², 2π/p and the centre (D each); phases, cosines and
    /// sines of x1 (n1 × D) and of x2 (D × n2, transposed); the weights W (n1 × n2) and the
    /// transposed x2 gradient (D × n2).
    "periodic kernel block workspace": struct PeriodicWs {
        inv_l2, freq, center, phi1, cos1, sin1, phi2, cos2, sin2, w, g2
    }
}

/// Partial sums per reduction in the reverse rule's inner loop.
const LANES: usize = 8;

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

/// One row i and input d of the reverse rule: (Σ_j W_j sin Δφ_j, Σ_j W_j (1 − cos Δφ_j),
/// Σ_j W_j sin Δφ_j·Δφ_j) in [`LANES`] partial sums, and, if `G2`, W_j sin Δφ_j added to g2[j].
#[inline(always)]
fn row_pass<S: Scalar, const G2: bool>(
    (phi, c, s): (S, S, S),
    (phi2, c2, s2): (&[S], &[S], &[S]),
    w: &[S],
    g2: &mut [S],
) -> (S, S, S) {
    let (mut a, mut l, mut p) = ([S::zero(); LANES], [S::zero(); LANES], [S::zero(); LANES]);
    let n = w.len();
    let mut entry = |lane: usize, j: usize| {
        let sn = s * c2[j] - c * s2[j];
        let cs = c * c2[j] + s * s2[j];
        let ws = w[j] * sn;
        a[lane] += ws;
        l[lane] += w[j] * (S::one() - cs);
        p[lane] += ws * (phi - phi2[j]);
        if G2 {
            g2[j] += ws;
        }
    };
    let full = n / LANES * LANES;
    let mut j = 0;
    while j < full {
        for lane in 0..LANES {
            entry(lane, j + lane);
        }
        j += LANES;
    }
    for j in full..n {
        entry(0, j);
    }
    (fold(a), fold(l), fold(p))
}

impl Kernel for Periodic {
    type Params<C> = PeriodicParams<C>;
    fn view<S: Scalar, C: SliceRef<S>>(&self, raw: C) -> Result<PeriodicParams<C>> {
        PeriodicParams::new(raw, self.dim)
    }
    fn check_params<S: Scalar>(&self, params: &[S]) -> Result<()> {
        self.view(params)?.check()
    }
    fn check_shape(&self) -> Result<()> {
        (Size::of(self.dim) * 2 + 1).get("periodic kernel parameters").map(|_| ())
    }
    fn input_dim(&self) -> usize {
        self.dim
    }
    fn n_params(&self) -> usize {
        self.dim.saturating_mul(2).saturating_add(1)
    }
    /// `[ln σ², ln p_1..D, ln ℓ_1..D]`: no prior applies to the periods by default.
    fn param_role(&self, i: usize) -> super::ParamRole {
        match i {
            0 => super::ParamRole::LnVariance,
            i if i <= self.dim => super::ParamRole::Other,
            _ => super::ParamRole::LnLengthscale,
        }
    }
    #[inline]
    fn eval<S: Scalar>(&self, params: &[S], x: &[S], y: &[S]) -> S {
        let d = self.dim;
        let (ln_p, ln_l) = params[1..].split_at(d);
        let mut e = S::zero();
        for q in 0..d {
            let sn = ((x[q] - y[q]) * S::from_f64(PI) * (-ln_p[q]).exp()).sin();
            e += sn * sn * (S::from_f64(-2.0) * ln_l[q]).exp();
        }
        params[0].exp() * (S::from_f64(-2.0) * e).exp()
    }
    #[inline]
    fn eval_diag<S: Scalar>(&self, params: &[S], _x: &[S]) -> S {
        params[0].exp()
    }
    fn block_workspace_len(&self, n1: usize, n2: usize) -> Result<usize> {
        Ok(self.ws(n1, n2)?.total())
    }
    fn cross_covariance_block<S: Scalar>(
        &self,
        params: &[S],
        x1: &[S],
        x2: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        let mut ws = self.ws(n1, n2)?.carve(ws)?;
        self.prepare(params, x1, x2, &mut ws);
        let PeriodicWs { inv_l2, cos1, sin1, cos2, sin2, .. } = ws;
        crate::arch::simd(
            #[inline(always)]
            || {
                for (i, row) in out.chunks_exact_mut(n2).enumerate() {
                    row.iter_mut().for_each(|o| *o = S::zero());
                    for q in 0..d {
                        let (c, s, il2) = (cos1[i * d + q], sin1[i * d + q], inv_l2[q]);
                        let (c2, s2) = (&cos2[q * n2..(q + 1) * n2], &sin2[q * n2..(q + 1) * n2]);
                        for ((o, &cj), &sj) in row.iter_mut().zip(c2).zip(s2) {
                            *o += (c * cj + s * sj - S::one()) * il2;
                        }
                    }
                }
            },
        );
        S::scaled_exp_in_place(out, params[0].exp(), S::one(), S::one());
        Ok(())
    }
    fn cross_covariance_adjoint<S: Scalar>(
        &self,
        _params: &[S],
        x1: &[S],
        x2: &[S],
        k: &[S],
        k_bar: &[S],
        grad: BlockGrad<'_, S>,
        ws: &mut [S],
    ) -> Result<()> {
        let d = self.dim;
        let (n1, n2) = (x1.len() / d.max(1), x2.len() / d.max(1));
        let PeriodicWs { inv_l2, freq, phi1, cos1, sin1, phi2, cos2, sin2, w, g2: g2t, .. } =
            self.ws(n1, n2)?.carve(ws)?;
        let BlockGrad { params: gp, x1: g1, x2: g2 } = grad;
        let (g_var, rest) = gp.split_at_mut(1);
        let (g_per, g_len) = rest.split_at_mut(d);
        for ((o, &a), &b) in w.iter_mut().zip(k_bar).zip(k) {
            *o = a * b;
        }
        g_var[0] += w.iter().copied().sum::<S>();
        let want_g2 = g2.is_some();
        if want_g2 {
            g2t.iter_mut().for_each(|v| *v = S::zero());
        }
        crate::arch::simd(
            #[inline(always)]
            || {
                for (i, wrow) in w.chunks_exact(n2).enumerate() {
                    for q in 0..d {
                        let x = (phi1[i * d + q], cos1[i * d + q], sin1[i * d + q]);
                        let span = q * n2..(q + 1) * n2;
                        let y = (&phi2[span.clone()], &cos2[span.clone()], &sin2[span.clone()]);
                        let (a, l, p) = if want_g2 {
                            row_pass::<S, true>(x, y, wrow, &mut g2t[span])
                        } else {
                            row_pass::<S, false>(x, y, wrow, &mut [])
                        };
                        let il2 = inv_l2[q];
                        g1[i * d + q] -= freq[q] * il2 * a;
                        g_len[q] += S::from_f64(2.0) * il2 * l;
                        g_per[q] += il2 * p;
                    }
                }
            },
        );
        if let Some(g2) = g2 {
            for (j, row) in g2.chunks_exact_mut(d).enumerate() {
                for q in 0..d {
                    row[q] += freq[q] * inv_l2[q] * g2t[q * n2 + j];
                }
            }
        }
        Ok(())
    }
    fn diagonal_adjoint<S: Scalar>(
        &self,
        params: &[S],
        _x: &[S],
        k_bar: &[S],
        grad_params: &mut [S],
        _ws: &mut [S],
    ) -> Result<()> {
        variance_diagonal_adjoint(params, k_bar, grad_params);
        Ok(())
    }
}
