//! The whitened guide q(v) = N(m, S), S = L·Lᵀ, in natural parameters: the algebra of a
//! natural-gradient step (CVI form) and of a guide given by its precision.
//!
//! Natural parameters θ₁ = S⁻¹m, θ₂ = −½S⁻¹; expectation parameters η₁ = m, η₂ = S + mmᵀ. With
//! g_m = ∂ELL/∂m and g_S = ∂ELL/∂S (ELL: the ELBO's data term, scaled by N/B for a minibatch),
//! ∂ELL/∂η₁ = g_m − 2·g_S·m and ∂ELL/∂η₂ = g_S. One step of size γ moves θ towards
//! θ_prior + ∂ELL/∂η with θ_prior = (0, −½I):
//!
//! Λ' = (1 − γ)·S⁻¹ + γ·(I − 2g_S),  θ₁' = (1 − γ)·S⁻¹m + γ·(g_m − 2g_S·m),
//!
//! then S' = Λ'⁻¹, m' = S'·θ₁', L' = chol(S'). For a Gaussian likelihood on the full batch,
//! γ = 1 lands on the optimum: Λ' = I + A·Aᵀ/σ², θ₁' = A·y/σ².
//!
//! # Where g_m and g_S come from
//!
//! From the ELBO gradient the reverse sweep already computes (so any ELBO objective works:
//! full batch, split, minibatch): the KL(q ‖ N(0, I)) part is known in closed form
//! (∂KL/∂m = m, ∂KL/∂L = L − diag(1/L_ii)), so g_m = ∂ELBO/∂m + m and ∂ELL/∂L = ∂ELBO/∂L + L −
//! diag(1/L_ii). Since ELL depends on L only through S = L·Lᵀ, ∂ELL/∂L = tril(2·g_S·L), and the
//! Cholesky reverse rule ([`cholesky_adjoint`]) inverts that map for any invertible
//! lower-triangular L (either sign on the diagonal): it returns the symmetric g_S.
//!
//! # From a precision to (m, L) without a second factorisation
//!
//! With J the reversal permutation, factor J·Λ·J = R·Rᵀ (R lower). Then Λ = U·Uᵀ with
//! U = J·R·J upper triangular, so S = Λ⁻¹ = U⁻ᵀ·U⁻¹ and L = U⁻ᵀ = J·R⁻ᵀ·J is lower triangular
//! with a positive diagonal: one Cholesky and one triangular inverse, no explicit S⁻¹ and no
//! squared condition number; m = J·R⁻ᵀ·R⁻¹·J·θ₁ by two triangular solves.
//!
//! Cost: O(M³) per step (a few M × M triangular solves and products), independent of N.

use crate::error::{check_finite, check_len, Error, Result};
use crate::layout::Size;
use crate::linalg::{
    cholesky_adjoint, cholesky_in_place, gemv, solve_triangular, syrk, Jitter, MatMut, MatRef, PackedLower,
    Side, Trans,
};
use crate::Scalar;

crate::parts! {
    /// The natural-parameter algebra's workspace (M × M blocks, then M-vectors): the unpacked
    /// L (then S⁻¹), the precision Λ' (then its flipped factor R), L⁻¹ (then R⁻¹), θ₁' and
    /// S⁻¹m.
    "natural-gradient workspace": struct NaturalWs { lf, lambda, inv, theta1, v }
}

/// The guide's natural-parameter algebra on M inducing points (plain `Copy` data); every
/// routine works in a caller-owned workspace of [`NaturalGuide::workspace_len`] elements.
///
/// ```
/// use svgp::gp::NaturalGuide;
/// use svgp::linalg::PackedLower;
/// // M = 1: a guide with precision Λ = 4 and θ₁ = 2 has m = Λ⁻¹θ₁ = 0.5 and L = 1/√Λ = 0.5.
/// let guide = NaturalGuide::new(1)?;
/// let mut ws = vec![0.0; guide.workspace_len()?];
/// let (mut m, mut l) = ([0.0], [0.0]);
/// guide.from_precision(&[4.0], &[2.0], &mut m, PackedLower::new(1, &mut l[..])?, &mut ws)?;
/// assert_eq!((m, l), ([0.5], [0.5]));
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NaturalGuide {
    m: usize,
}

/// The largest number of halvings of γ a step tries when the new precision is not positive
/// definite (see [`NaturalGuide::step`]).
pub const MAX_GAMMA_HALVINGS: u32 = 10;

impl NaturalGuide {
    /// The algebra for `m ≥ 1` inducing points.
    pub fn new(m: usize) -> Result<Self> {
        if m == 0 {
            return Err(Error::InvalidParameter { what: "number of inducing points", value: 0.0 });
        }
        let guide = Self { m };
        guide.ws()?;
        Ok(guide)
    }

    /// Number of inducing points M.
    pub fn n_inducing(&self) -> usize {
        self.m
    }

    fn ws(&self) -> Result<NaturalWs<usize>> {
        let (mm, m) = (Size::of(self.m) * self.m, Size::of(self.m));
        NaturalWs { lf: mm, lambda: mm, inv: mm, theta1: m, v: m }.resolve()
    }

    /// Workspace length of every routine here.
    pub fn workspace_len(&self) -> Result<usize> {
        Ok(self.ws()?.total())
    }

    /// The data term's gradients from the ELBO's: `g_mean` (∂ELBO/∂m, M) becomes g_m = ∂ELL/∂m
    /// in place, and `g_s` (M × M, full symmetric) receives g_S = ∂ELL/∂S, from `g_scale`
    /// (∂ELBO/∂L, packed) and the guide (`mean`, `scale`). The ELBO must hold the KL to
    /// N(0, I) once (every ELBO objective of the crate does; a minibatch's data term carries
    /// its N/B scale).
    ///
    /// Errors: wrong sizes, a zero on L's diagonal (S singular), non-finite results.
    pub fn ell_gradients<S: Scalar>(
        &self,
        mean: &[S],
        scale: PackedLower<&[S]>,
        g_mean: &mut [S],
        g_scale: PackedLower<&[S]>,
        g_s: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let m = self.m;
        self.check_guide(mean, &scale)?;
        check_len("natural gradient: ∂ELBO/∂m", m, g_mean.len())?;
        check_len("natural gradient: ∂ELBO/∂L (packed)", scale.as_slice().len(), g_scale.as_slice().len())?;
        check_len("natural gradient: g_S (M × M)", m * m, g_s.len())?;
        let NaturalWs { lf, .. } = self.ws()?.carve(ws)?;
        for (g, &v) in g_mean.iter_mut().zip(mean) {
            *g += v;
        }
        // ∂ELL/∂L = ∂ELBO/∂L + L − diag(1/L_ii) (lower triangle; the adjoint reads only that).
        for i in 0..m {
            for j in 0..=i {
                let mut v = g_scale.get(i, j) + scale.get(i, j);
                if i == j {
                    v -= scale.diag(i).recip();
                }
                g_s[i * m + j] = v;
            }
        }
        scale.unpack_into(MatMut::new(m, m, lf)?)?;
        cholesky_adjoint(MatRef::new(m, m, lf)?, MatMut::new(m, m, g_s)?)?;
        check_finite("natural gradient: ∂ELL/∂m", g_mean)
    }

    /// One natural-gradient step of size `gamma` ∈ (0, 1] from the guide (`mean`, `scale`) and
    /// the data term's gradients (`g_m`, `g_s` from [`NaturalGuide::ell_gradients`]); the new
    /// guide goes to `out_mean` and `out_scale` (lower triangle with a positive diagonal).
    /// Returns the γ actually used.
    ///
    /// If the new precision is not positive definite (a non-log-concave likelihood such as the
    /// Student-t can make g_S indefinite), γ is halved, up to [`MAX_GAMMA_HALVINGS`] times
    /// (the old precision is positive definite, so a small enough γ always works in exact
    /// arithmetic); then the error is [`Error::NotPositiveDefinite`]. A result that is not
    /// finite is [`Error::NonFinite`]. On error the outputs hold unspecified values; the
    /// inputs are never written.
    pub fn step<S: Scalar>(
        &self,
        gamma: f64,
        mean: &[S],
        scale: PackedLower<&[S]>,
        g_m: &[S],
        g_s: &[S],
        out_mean: &mut [S],
        out_scale: PackedLower<&mut [S]>,
        ws: &mut [S],
    ) -> Result<f64> {
        let m = self.m;
        if !(gamma > 0.0 && gamma <= 1.0) {
            return Err(Error::InvalidParameter {
                what: "natural-gradient step γ (in (0, 1])",
                value: gamma,
            });
        }
        self.check_guide(mean, &scale)?;
        check_len("natural gradient: g_m", m, g_m.len())?;
        check_len("natural gradient: g_S (M × M)", m * m, g_s.len())?;
        check_len("natural gradient: new mean", m, out_mean.len())?;
        check_len(
            "natural gradient: new scale (packed)",
            scale.as_slice().len(),
            out_scale.as_slice().len(),
        )?;
        let NaturalWs { lf, lambda, inv, theta1, v } = self.ws()?.carve(ws)?;
        // Old precision S⁻¹ = L⁻ᵀL⁻¹ = TᵀT with T = L⁻¹ (into `inv`), kept in `lf`; S⁻¹m in `v`.
        scale.unpack_into(MatMut::new(m, m, inv)?)?;
        v.copy_from_slice(mean);
        solve_triangular(MatRef::new(m, m, inv)?, Side::Lower, MatMut::new(m, 1, v)?)?;
        solve_triangular(MatRef::new(m, m, inv)?, Side::LowerTrans, MatMut::new(m, 1, v)?)?;
        lf.copy_from_slice(inv);
        set_identity(inv, m);
        solve_triangular(MatRef::new(m, m, lf)?, Side::Lower, MatMut::new(m, m, inv)?)?;
        syrk(S::one(), MatRef::new(m, m, inv)?, Trans::Yes, S::zero(), MatMut::new(m, m, lf)?)?;
        // 2·g_S·m (in theta1 for now).
        gemv(S::from_f64(2.0), MatRef::new(m, m, g_s)?, Trans::No, mean, S::zero(), theta1)?;
        let (mut gamma, mut last) = (gamma, None);
        for _ in 0..=MAX_GAMMA_HALVINGS {
            let (g, keep) = (S::from_f64(gamma), S::from_f64(1.0 - gamma));
            for i in 0..m * m {
                lambda[i] = keep * lf[i] - (g + g) * g_s[i];
            }
            for i in 0..m {
                lambda[i * m + i] += g;
            }
            match self.factor_flipped(lambda) {
                Ok(()) => {
                    for i in 0..m {
                        out_mean[i] = keep * v[i] + g * (g_m[i] - theta1[i]);
                    }
                    theta1.copy_from_slice(out_mean);
                    self.guide_from_factor(lambda, theta1, out_mean, out_scale, inv)?;
                    return Ok(gamma);
                }
                Err(e @ Error::NotPositiveDefinite { .. }) => {
                    last = Some(e);
                    gamma *= 0.5;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(Error::NotPositiveDefinite { pivot: 0, value: f64::NAN }))
    }

    /// The guide with precision `lambda` (M × M, symmetric, positive definite; full storage)
    /// and first natural parameter `theta1` (M): m = Λ⁻¹θ₁ into `out_mean`, L with
    /// L·Lᵀ = Λ⁻¹ (positive diagonal) into `out_scale`.
    ///
    /// Errors: wrong sizes, a Λ that is not positive definite ([`Error::NotPositiveDefinite`],
    /// no jitter is added), non-finite results.
    pub fn from_precision<S: Scalar>(
        &self,
        lambda: &[S],
        theta1: &[S],
        out_mean: &mut [S],
        out_scale: PackedLower<&mut [S]>,
        ws: &mut [S],
    ) -> Result<()> {
        let m = self.m;
        check_len("precision Λ (M × M)", m * m, lambda.len())?;
        check_len("natural parameter θ₁", m, theta1.len())?;
        check_len("guide mean", m, out_mean.len())?;
        check_len("guide scale (packed)", m * (m + 1) / 2, out_scale.as_slice().len())?;
        check_finite("precision Λ", lambda)?;
        check_finite("natural parameter θ₁", theta1)?;
        let NaturalWs { lambda: f, theta1: t, inv, .. } = self.ws()?.carve(ws)?;
        f.copy_from_slice(lambda);
        t.copy_from_slice(theta1);
        self.factor_flipped(f)?;
        self.guide_from_factor(f, t, out_mean, out_scale, inv)
    }

    /// J·Λ·J = R·Rᵀ: `f` holds Λ on entry and R on return (Λ again on failure).
    fn factor_flipped<S: Scalar>(&self, f: &mut [S]) -> Result<()> {
        let m = self.m;
        // Reversing the row order and the column order reverses the slice.
        f.reverse();
        match cholesky_in_place(MatMut::new(m, m, f)?, Jitter::Fixed(0.0)) {
            Ok(_) => Ok(()),
            Err(e) => {
                f.reverse();
                Err(e)
            }
        }
    }

    /// From R (J·Λ·J = R·Rᵀ) and θ₁ (overwritten): m = J·R⁻ᵀR⁻¹·J·θ₁, L = J·R⁻ᵀ·J.
    fn guide_from_factor<S: Scalar>(
        &self,
        r: &[S],
        theta1: &mut [S],
        out_mean: &mut [S],
        mut out_scale: PackedLower<&mut [S]>,
        inv: &mut [S],
    ) -> Result<()> {
        let m = self.m;
        let rm = MatRef::new(m, m, r)?;
        theta1.reverse();
        solve_triangular(rm, Side::Lower, MatMut::new(m, 1, theta1)?)?;
        solve_triangular(rm, Side::LowerTrans, MatMut::new(m, 1, theta1)?)?;
        for (o, &t) in out_mean.iter_mut().zip(theta1.iter().rev()) {
            *o = t;
        }
        set_identity(inv, m);
        solve_triangular(rm, Side::Lower, MatMut::new(m, m, inv)?)?;
        // L_ij = (R⁻ᵀ)_{m−1−i, m−1−j} = (R⁻¹)_{m−1−j, m−1−i}, i ≥ j.
        for i in 0..m {
            for j in 0..=i {
                out_scale.set(i, j, inv[(m - 1 - j) * m + (m - 1 - i)]);
            }
        }
        check_finite("natural gradient: new guide mean", out_mean)?;
        check_finite("natural gradient: new guide scale", out_scale.as_mut_slice())
    }

    fn check_guide<S: Scalar>(&self, mean: &[S], scale: &PackedLower<&[S]>) -> Result<()> {
        check_len("guide mean", self.m, mean.len())?;
        check_len("guide scale (M)", self.m, scale.n())?;
        check_finite("guide mean", mean)?;
        check_finite("guide scale", scale.as_slice())?;
        for i in 0..self.m {
            if scale.diag(i) == S::zero() {
                return Err(Error::NotPositiveDefinite { pivot: i, value: 0.0 });
            }
        }
        Ok(())
    }
}

fn set_identity<S: Scalar>(a: &mut [S], m: usize) {
    a.iter_mut().for_each(|v| *v = S::zero());
    for i in 0..m {
        a[i * m + i] = S::one();
    }
}
