//! Gauss–Hermite quadrature: expectations under a normal distribution,
//! E[h(f)] for f ~ N(μ, s²), as a weighted sum over K nodes.
//!
//! The rule ∫ e^{−x²} g(x) dx ≈ Σ_k w_k g(x_k) is exact for polynomials g of degree ≤ 2K − 1;
//! with f = μ + √2·s·x it gives E[h(f)] ≈ Σ_k (w_k/√π)·h(μ + √2·s·x_k). The nodes x_k are the
//! roots of the Hermite polynomial H_K, found here by Newton's method on the orthonormal
//! three-term recurrence from the classic asymptotic starting guesses (Numerical Recipes'
//! `gauher`); the weights are w_k = 2/p′_K(x_k)² in that normalisation. Computed once, in f64,
//! without allocation, when the rule is built ([`GaussHermite::new`]); the nodes are symmetric,
//! so only the non-negative half is stored.

use crate::error::{Error, Result};
use crate::Scalar;
use core::cmp::Ordering;
use core::fmt;

/// The largest order [`GaussHermite::new`] builds. Beyond about 150 nodes the outer weights
/// underflow f64; 64 is already far more than a smooth integrand needs.
pub const MAX_ORDER: usize = 64;
/// The order the likelihoods use unless told otherwise (as GPflow and GPyTorch do).
pub const DEFAULT_ORDER: usize = 20;

const HALF: usize = MAX_ORDER.div_ceil(2);
/// π^{−1/4}: p₀ of the orthonormal Hermite recurrence.
const PI_M4: f64 = 0.751_125_544_464_942_5;
/// 1/√π: turns the e^{−x²} weights into probabilities.
const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;

/// A K-point Gauss–Hermite rule (1 ≤ K ≤ [`MAX_ORDER`]), plain `Copy` data.
///
/// ```
/// use svgp::likelihood::GaussHermite;
/// let gh = GaussHermite::new(20)?;
/// // E[f²] for f ~ N(1, 4) is 1 + 4 = 5; the rule is exact for polynomials of degree ≤ 39.
/// let [m2] = gh.expect(1.0_f64, 4.0, |f| [f * f]);
/// assert!((m2 - 5.0).abs() < 1e-13);
/// // E[e^f] = e^{μ + s²/2}: not a polynomial, but smooth, so 20 nodes are plenty.
/// let [e] = gh.expect(0.5_f64, 0.25, |f| [f.exp()]);
/// assert!((e - 0.625_f64.exp()).abs() < 1e-14);
/// assert!(GaussHermite::new(0).is_err() && GaussHermite::new(65).is_err());
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq)]
pub struct GaussHermite {
    order: usize,
    /// Non-negative nodes x_k (increasing; x₀ = 0 when the order is odd).
    x: [f64; HALF],
    /// Their weights w_k for the weight function e^{−x²} (summing, with the mirrored nodes,
    /// to √π).
    w: [f64; HALF],
}

impl fmt::Debug for GaussHermite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GaussHermite").field("order", &self.order).finish()
    }
}

impl Default for GaussHermite {
    /// The [`DEFAULT_ORDER`]-point rule.
    fn default() -> Self {
        Self::build(DEFAULT_ORDER)
    }
}

impl GaussHermite {
    /// The rule with `order` nodes, 1 ≤ order ≤ [`MAX_ORDER`] (else
    /// [`Error::InvalidParameter`]).
    pub fn new(order: usize) -> Result<Self> {
        if order == 0 || order > MAX_ORDER {
            return Err(Error::InvalidParameter {
                what: "Gauss–Hermite order (1 ≤ K ≤ 64)",
                value: order as f64,
            });
        }
        Ok(Self::build(order))
    }

    /// Newton on p_K from the asymptotic guesses, largest root first (each guess uses the
    /// roots already found); `order` is in range.
    fn build(order: usize) -> Self {
        let n = order;
        let nf = n as f64;
        let half = n.div_ceil(2);
        let (mut x, mut w) = ([0.0; HALF], [0.0; HALF]);
        // Roots from the largest down, stored at the end of the half first.
        let mut found = [0.0_f64; HALF];
        for i in 0..half {
            let mut z = match i {
                0 => libm::sqrt(2.0 * nf + 1.0) - 1.855_75 * libm::pow(2.0 * nf + 1.0, -0.166_67),
                1 => found[0] - 1.14 * libm::pow(nf, 0.426) / found[0],
                2 => 1.86 * found[1] - 0.86 * found[0],
                3 => 1.91 * found[2] - 0.91 * found[1],
                _ => 2.0 * found[i - 1] - found[i - 2],
            };
            // Newton converges quadratically from these guesses; a few more steps than needed
            // cost nothing, and the last one polishes the root to rounding.
            let mut dp = 0.0;
            for _ in 0..100 {
                let (pn, d) = hermite_and_derivative(n, z);
                dp = d;
                let z1 = z;
                z = z1 - pn / d;
                if libm::fabs(z - z1) <= 1e-15 * libm::fabs(z).max(1.0) {
                    let (pn, d) = hermite_and_derivative(n, z);
                    z -= pn / d;
                    dp = hermite_and_derivative(n, z).1;
                    break;
                }
            }
            // An odd order's middle root is 0 exactly (rounding leaves ~1e-17).
            if n % 2 == 1 && i == half - 1 {
                z = 0.0;
                dp = hermite_and_derivative(n, 0.0).1;
            }
            found[i] = z;
            let k = half - 1 - i;
            x[k] = z;
            w[k] = 2.0 / (dp * dp);
        }
        Self { order, x, w }
    }

    /// Number of nodes K.
    pub fn order(&self) -> usize {
        self.order
    }

    /// The rule for ∫ e^{−x²} g(x) dx as published (Abramowitz & Stegun, Table 25.10): the
    /// node x_k and weight w_k of index `k` (0 ≤ k < K, nodes increasing), or `None` past the end.
    pub fn node(&self, k: usize) -> Option<(f64, f64)> {
        if k >= self.order {
            return None;
        }
        let (half, below) = (self.order.div_ceil(2), self.order / 2);
        // The negative nodes first, most negative first: mirrors of the stored ones.
        let (j, sign) = if k < below { (half - 1 - k, -1.0) } else { (k - below, 1.0) };
        Some((sign * self.x[j], self.w[j]))
    }

    /// E[h(f)] for f ~ N(`mean`, `var`) (`var` ≥ 0): Σ_k (w_k/√π)·h(mean + √(2·var)·x_k),
    /// summed lane by lane, so one pass over the nodes gives an integrand and, say, its
    /// derivatives. The sum runs in the same order whatever `L` is, so a value computed alone
    /// and with its derivatives is the same number.
    #[inline]
    pub fn expect<S: Scalar, const L: usize>(
        &self,
        mean: S,
        var: S,
        mut h: impl FnMut(S) -> [S; L],
    ) -> [S; L] {
        let sigma = (S::from_f64(2.0) * var).sqrt();
        let mut acc = [S::zero(); L];
        let mut add = |w: S, v: [S; L]| {
            for (a, v) in acc.iter_mut().zip(v) {
                *a += w * v;
            }
        };
        for k in 0..self.order.div_ceil(2) {
            let (x, w) = (self.x[k], S::from_f64(self.w[k] * FRAC_1_SQRT_PI));
            if x == 0.0 {
                add(w, h(mean));
            } else {
                let d = sigma * S::from_f64(x);
                add(w, h(mean - d));
                add(w, h(mean + d));
            }
        }
        acc
    }

    /// ln E[e^{h(f)}] for f ~ N(`mean`, `var`), in log space (log-sum-exp over the nodes), so
    /// that a log predictive density ln ∫ p(y | f) q(f) df = ln E[e^{ln p(y | f)}] keeps its
    /// precision where p(y | f) underflows.
    #[inline]
    pub fn log_expect_exp<S: Scalar>(&self, mean: S, var: S, mut h: impl FnMut(S) -> S) -> S {
        let sigma = (S::from_f64(2.0) * var).sqrt();
        let mut acc = S::from_f64(f64::NEG_INFINITY);
        for k in 0..self.order.div_ceil(2) {
            let (x, lw) = (self.x[k], S::from_f64(libm::log(self.w[k] * FRAC_1_SQRT_PI)));
            if x == 0.0 {
                acc = acc.log_add_exp(lw + h(mean));
            } else {
                let d = sigma * S::from_f64(x);
                acc = acc.log_add_exp(lw + h(mean - d));
                acc = acc.log_add_exp(lw + h(mean + d));
            }
        }
        acc
    }
}

impl GaussHermite {
    /// ln E[e^{g(f)}] for f ~ N(`mean`, `var`) by *adaptive* Gauss–Hermite: the nodes are
    /// centred and scaled on the integrand e^{g(f)}·N(f | mean, var) itself (its mode f* by
    /// Newton's method and the curvature there), not on N(mean, var). `h(f)` returns g(f),
    /// g′(f) and g″(f).
    ///
    /// Where p(y | f) = e^{g(f)} is much narrower than q(f) (a large count under a wide latent)
    /// the plain rule's nodes straddle the peak and miss it; the adaptive rule puts them on it,
    /// and is exact when g is quadratic. With φ(f) = g(f) − (f − mean)²/(2·var) and
    /// τ² = −1/φ″(f*): E[e^g] = (τ/s)·Σ_k (w_k/√π)·e^{x_k²}·e^{φ(f* + √2·τ·x_k)}, in log space.
    /// Falls back to [`GaussHermite::log_expect_exp`] where the mode is not a clear maximum
    /// (φ″ ≥ 0 on the way, as a Student-t's heavy tails allow, or no convergence) or var = 0.
    pub fn log_expect_exp_adaptive<S: Scalar>(&self, mean: S, var: S, h: impl Fn(S) -> [S; 3]) -> S {
        let plain = |h: &dyn Fn(S) -> [S; 3]| self.log_expect_exp(mean, var, |f| h(f)[0]);
        // NaN-aware: a NaN is neither, and takes the plain rule.
        let below = |a: S, b: S| a.partial_cmp(&b) == Some(Ordering::Less);
        if !below(S::zero(), var) {
            return plain(&h);
        }
        let phi = |f: S, g: S| g - (f - mean) * (f - mean) / (S::from_f64(2.0) * var);
        // Newton from the mean, each step halved until φ does not decrease.
        let mut f = mean;
        let [mut g, mut g1, mut g2] = h(f);
        let mut converged = false;
        for _ in 0..100 {
            let d1 = g1 - (f - mean) / var;
            let d2 = g2 - var.recip();
            if !below(d2, S::zero()) {
                return plain(&h);
            }
            let mut step = -d1 / d2;
            let here = phi(f, g);
            let mut next = h(f + step);
            let mut halvings = 0;
            while below(phi(f + step, next[0]), here) && halvings < 60 {
                step *= S::from_f64(0.5);
                next = h(f + step);
                halvings += 1;
            }
            f += step;
            [g, g1, g2] = next;
            if step.abs() <= S::from_f64(1e-13) * (S::one() + f.abs()) {
                converged = true;
                break;
            }
        }
        let d2 = g2 - var.recip();
        if !converged || !below(d2, S::zero()) {
            return plain(&h);
        }
        let tau = (-d2.recip()).sqrt();
        let scale = S::from_f64(core::f64::consts::SQRT_2) * tau;
        let mut acc = S::from_f64(f64::NEG_INFINITY);
        for k in 0..self.order.div_ceil(2) {
            let x = self.x[k];
            // ln(w_k/√π) + x_k²: the weight with the rule's e^{−x²} taken back out.
            let lw = S::from_f64(libm::log(self.w[k] * FRAC_1_SQRT_PI) + x * x);
            let mut add = |fk: S| acc = acc.log_add_exp(lw + phi(fk, h(fk)[0]));
            if x == 0.0 {
                add(f);
            } else {
                add(f - scale * S::from_f64(x));
                add(f + scale * S::from_f64(x));
            }
        }
        (tau / var.sqrt()).ln() + acc
    }
}

/// p_n(z) and p′_n(z) of the orthonormal Hermite polynomials (weight e^{−x²}), by the
/// three-term recurrence p_j = z·√(2/j)·p_{j−1} − √((j−1)/j)·p_{j−2}, p′_n = √(2n)·p_{n−1}.
fn hermite_and_derivative(n: usize, z: f64) -> (f64, f64) {
    let (mut p1, mut p2) = (PI_M4, 0.0);
    for j in 1..=n {
        let jf = j as f64;
        let p3 = p2;
        p2 = p1;
        p1 = z * libm::sqrt(2.0 / jf) * p2 - libm::sqrt((jf - 1.0) / jf) * p3;
    }
    (p1, libm::sqrt(2.0 * n as f64) * p2)
}
