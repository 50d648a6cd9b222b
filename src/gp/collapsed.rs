//! The collapsed (Titsias 2009) bound: the ELBO of a Gaussian likelihood on the full batch
//! with the guide at its optimum in closed form, its reverse sweep, and that optimal guide.
//!
//! With β = 1/σ², A = L_z⁻¹K_zx (M × N), B = I + β·A·Aᵀ = L_B·L_Bᵀ, the optimal guide is
//! S = B⁻¹, m = u = β·B⁻¹·A·y, and with r = y − Aᵀu and the Nyström trace t = Σ_i k_ii − ‖A‖²_F:
//!
//! ELBO* = −(N/2)·ln(2πσ²) − Σ ln (L_B)_ii − ½(β‖r‖² + ‖u‖²) − (β/2)·t.
//!
//! (β‖r‖² + ‖u‖² equals β·yᵀy − cᵀc with c = β·L_B⁻¹·A·y, the textbook form, without its
//! cancellation.) Reverse, with C = L_B⁻¹·A: Ā = β·(u·rᵀ + A − L_B⁻ᵀ·C), k̄_ii = −β/2,
//! ∂/∂ln σ² = −N/2 + (β/2)(‖r‖² + t + ‖C‖²_F); the prior then carries Ā and k̄ back to its
//! parameters and Z ([`Prior::backward`]). These are the uncollapsed ELBO's adjoints at the
//! optimal guide (the envelope theorem); the guide's own entries get a zero gradient. Cost:
//! three M²N products (B, C, L_B⁻ᵀC) and O(M³), on top of the prior's blocks.

use super::model::{Prior, PriorAdjoint, PriorBlocks, PriorGrad, PriorInputs, Svgp, SvgpParts};
use super::natural::NaturalGuide;
use crate::error::{check_finite, check_finite_value, check_len, Error, Result};
use crate::layout::Size;
use crate::likelihood::{Likelihood, LikelihoodId};
use crate::linalg::{
    cholesky_in_place, dot, gemv, solve_triangular, syrk, Jitter, MatMut, MatRef, PackedLower, Side, Trans,
};
use crate::Scalar;

crate::parts! {
    /// The collapsed bound's workspace: L_z (M × M), A (M × N), diag K_xx (N), B and L_B
    /// (M × M each), C = L_B⁻¹A then Ā (M × N), u (M), r = y − Aᵀu (N), k̄ (N), the
    /// natural-parameter algebra's scratch and the optimal guide (M, packed M(M+1)/2), then
    /// the prior's workspace.
    "collapsed-bound workspace": struct CollapsedWs {
        lz, a, kxx, bmat, lb, c, u, r, kbar, natural, new_mean, new_scale, prior
    }
}

/// What the forward pass leaves for the reverse sweep.
struct Fwd<'w, S> {
    ws: CollapsedWs<&'w mut [S]>,
    beta: S,
    r2: S,
    trace: S,
    c2: S,
}

impl<P: Prior, L: Likelihood> Svgp<P, L> {
    fn collapsed_ws(&self, n: usize) -> Result<CollapsedWs<usize>> {
        let m = self.n_inducing();
        let (mm, mn, nn, mv) = (Size::of(m) * m, Size::of(m) * n, Size::of(n), Size::of(m));
        let natural = Size::from_result(NaturalGuide::new(m).and_then(|g| g.workspace_len()));
        CollapsedWs {
            lz: mm,
            a: mn,
            kxx: nn,
            bmat: mm,
            lb: mm,
            c: mn,
            u: mv,
            r: nn,
            kbar: nn,
            natural,
            new_mean: mv,
            new_scale: PackedLower::size(m),
            prior: Size::from_result(self.prior().workspace_len(n, m)),
        }
        .resolve()
    }

    /// Workspace length of [`Svgp::collapsed_elbo`], [`Svgp::collapsed_elbo_and_grad`] and
    /// [`Svgp::optimal_guide`] on `n` points.
    pub fn collapsed_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.collapsed_ws(n)?.total())
    }

    /// The collapsed bound ELBO* at `params` (the guide's entries are not read) on the full
    /// batch `x` (n × D), `y` (n): the ELBO with q(v) at its optimum for these
    /// hyperparameters, so ELBO* ≥ [`Svgp::elbo`] at any guide, with equality at the guide
    /// [`Svgp::optimal_guide`] writes.
    ///
    /// Errors as [`Svgp::elbo`].
    ///
    /// ```
    /// use svgp::gp::{Closed, ElboOptions, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.7, 0.0, 0.7], 0.01, &mut p)?;
    /// let x: Vec<f64> = (0..20).map(|i| -1.0 + 0.1 * i as f64).collect();
    /// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
    /// let mut ws = vec![0.0; model.collapsed_workspace_len(x.len())?];
    /// let bound = model.collapsed_elbo(&p, &x, &y, &mut ws)?;
    /// let mut ews = vec![0.0; model.workspace_len(x.len())?];
    /// assert!(bound > model.elbo(&p, &x, &y, ElboOptions::default(), &mut ews)?); // m = 0, L = I
    /// model.optimal_guide(&mut p, &x, &y, &mut ws)?;
    /// let at_optimum = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ews)?;
    /// assert!((bound - at_optimum).abs() < 1e-9 * bound.abs());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn collapsed_elbo<S: Scalar>(&self, params: &[S], x: &[S], y: &[S], ws: &mut [S]) -> Result<S> {
        Ok(self.collapsed_forward(params, x, y, ws)?.0)
    }

    /// The collapsed bound and its gradient (into `grad`, the layout of `params`, overwritten):
    /// prior parameters, Z and the noise get theirs; the guide's entries get 0 (the bound does
    /// not depend on them).
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 3, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.7, 0.0, 0.7], 0.01, &mut p)?;
    /// let x: Vec<f64> = (0..20).map(|i| -1.0 + 0.1 * i as f64).collect();
    /// let y: Vec<f64> = x.iter().map(|v| v.sin()).collect();
    /// let mut ws = vec![0.0; model.collapsed_workspace_len(x.len())?];
    /// let mut g = vec![0.0; p.len()];
    /// let bound = model.collapsed_elbo_and_grad(&p, &x, &y, &mut g, &mut ws)?;
    /// assert_eq!(bound, model.collapsed_elbo(&p, &x, &y, &mut ws)?);
    /// assert!(model.params(&g)?.mean.iter().all(|&v| v == 0.0));
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn collapsed_elbo_and_grad<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        grad: &mut [S],
        ws: &mut [S],
    ) -> Result<S> {
        check_len("gradient buffer", self.n_params(), grad.len())?;
        let (elbo, st) = self.collapsed_forward(params, x, y, ws)?;
        self.collapsed_backward(params, x, y, st, grad)?;
        let SvgpParts { prior, z, likelihood, .. } = self.parts(grad)?;
        check_finite("collapsed bound gradient: prior parameters", prior)?;
        check_finite("collapsed bound gradient: inducing inputs Z", z)?;
        check_finite("collapsed bound gradient: likelihood parameters", likelihood)?;
        Ok(elbo)
    }

    /// Writes the optimal guide for the current hyperparameters into `params` (m = β·B⁻¹·A·y,
    /// L with L·Lᵀ = B⁻¹ and a positive diagonal) and returns the collapsed bound, which is then
    /// the [`Svgp::elbo`] of `params` (up to rounding). After training on the collapsed bound,
    /// this makes [`Svgp::predict`] and the deployment export work unchanged.
    ///
    /// Errors as [`Svgp::collapsed_elbo`]; on error `params` is unchanged.
    pub fn optimal_guide<S: Scalar>(&self, params: &mut [S], x: &[S], y: &[S], ws: &mut [S]) -> Result<S> {
        let m = self.n_inducing();
        let (elbo, st) = self.collapsed_forward(params, x, y, ws)?;
        let CollapsedWs { a, bmat, u, natural, new_mean, new_scale, .. } = st.ws;
        // θ₁ = β·A·y, then the guide with precision B: into scratch first, so that an error
        // leaves `params` as it was.
        gemv(st.beta, MatRef::new(m, y.len(), a)?, Trans::No, y, S::zero(), u)?;
        NaturalGuide::new(m)?.from_precision(
            bmat,
            u,
            new_mean,
            PackedLower::new(m, &mut *new_scale)?,
            natural,
        )?;
        let SvgpParts { mean, scale_tril, .. } = self.parts_mut(params)?;
        mean.copy_from_slice(new_mean);
        scale_tril.copy_from_slice(new_scale);
        Ok(elbo)
    }

    fn collapsed_forward<'w, S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        ws: &'w mut [S],
    ) -> Result<(S, Fwd<'w, S>)> {
        if self.likelihood().id() != LikelihoodId::Gaussian {
            return Err(Error::InvalidParameter {
                what: "the collapsed bound needs the Gaussian likelihood (value: the likelihood id)",
                value: f64::from(self.likelihood().id().as_u8()),
            });
        }
        let (m, n) = (self.n_inducing(), y.len());
        self.check_inputs(params, x, n)?;
        check_finite("targets y", y)?;
        let mut ws = self.collapsed_ws(n)?.carve(ws)?;
        let CollapsedWs { lz, a, kxx, bmat, lb, c, u, r, prior: pws, .. } = &mut ws;
        let SvgpParts { prior: pp, z, likelihood, .. } = self.parts(params)?;
        let eta = likelihood[0];
        let beta = (-eta).exp();
        self.prior().forward(
            PriorInputs { params: pp, z, x },
            Jitter::Fixed(self.jitter()),
            PriorBlocks { lz: &mut **lz, a: &mut **a, kxx: &mut **kxx },
            pws,
        )?;
        let am = MatRef::new(m, n, a)?;
        // B = I + β·A·Aᵀ = L_B·L_Bᵀ (B ⪰ I: no jitter).
        syrk(beta, am, Trans::No, S::zero(), MatMut::new(m, m, bmat)?)?;
        for i in 0..m {
            bmat[i * m + i] += S::one();
        }
        lb.copy_from_slice(bmat);
        cholesky_in_place(MatMut::new(m, m, lb)?, Jitter::Fixed(0.0))?;
        let lbm = MatRef::new(m, m, lb)?;
        // u = β·B⁻¹·A·y; r = y − Aᵀu.
        gemv(beta, am, Trans::No, y, S::zero(), u)?;
        solve_triangular(lbm, Side::Lower, MatMut::new(m, 1, u)?)?;
        solve_triangular(lbm, Side::LowerTrans, MatMut::new(m, 1, u)?)?;
        r.copy_from_slice(y);
        gemv(-S::one(), am, Trans::Yes, u, S::one(), r)?;
        // C = L_B⁻¹·A.
        c.copy_from_slice(a);
        solve_triangular(lbm, Side::Lower, MatMut::new(m, n, c)?)?;
        let r2 = dot(r, r)?;
        let u2 = dot(u, u)?;
        let c2 = dot(c, c)?;
        let trace = kxx.iter().copied().sum::<S>() - dot(a, a)?;
        let half = S::from_f64(0.5);
        let nn = S::from_usize(n);
        let mut log_det = S::zero();
        for i in 0..m {
            log_det += lb[i * m + i].ln();
        }
        let elbo = -(half * nn * (eta + S::from_f64((2.0 * core::f64::consts::PI).ln())))
            - log_det
            - half * (beta * r2 + u2)
            - half * beta * trace;
        check_finite_value("collapsed bound", 0, elbo)?;
        Ok((elbo, Fwd { ws, beta, r2, trace, c2 }))
    }

    fn collapsed_backward<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        st: Fwd<'_, S>,
        grad: &mut [S],
    ) -> Result<()> {
        let Fwd { ws, beta, r2, trace, c2 } = st;
        let CollapsedWs { lz, a, kxx, lb, c, u, r, kbar, prior: pws, .. } = ws;
        let (m, n) = (self.n_inducing(), y.len());
        let SvgpParts { prior: pp, z, .. } = self.parts(params)?;
        let half = S::from_f64(0.5);
        grad.iter_mut().for_each(|g| *g = S::zero());
        let SvgpParts { prior: g_prior, z: g_z, likelihood: g_lik, .. } = self.parts_mut(grad)?;
        g_lik[0] = -(half * S::from_usize(n)) + half * beta * (r2 + trace + c2);
        // Ā = β·(u·rᵀ + A − L_B⁻ᵀ·C), in C's buffer.
        solve_triangular(MatRef::new(m, m, lb)?, Side::LowerTrans, MatMut::new(m, n, c)?)?;
        for k in 0..m {
            let uk = u[k];
            let (ar, cr) = (&a[k * n..(k + 1) * n], &mut c[k * n..(k + 1) * n]);
            for i in 0..n {
                cr[i] = beta * (uk * r[i] + ar[i] - cr[i]);
            }
        }
        kbar.iter_mut().for_each(|v| *v = -(half * beta));
        self.prior().backward(
            PriorInputs { params: pp, z, x },
            PriorBlocks { lz: &*lz, a: &*a, kxx: &*kxx },
            PriorAdjoint { a: c, kxx: &*kbar },
            PriorGrad { params: g_prior, z: g_z },
            pws,
        )
    }
}
