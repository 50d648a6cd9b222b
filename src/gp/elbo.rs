//! The ELBO of the whitened SVGP, and its tape-free reverse sweep.
//!
//! Forward (S = L·Lᵀ, Q = (S − I)·A, M × N):
//! μ = Aᵀm; var_i = max(k_ii − Σ_k A_ki² + Σ_k (LᵀA)_ki², 0) = max(k_ii + Σ_k A_ki Q_ki, 0);
//! ELL = Σ_i E_q[log p(y_i | f_i)], q(f_i) = N(μ_i, var_i), from the likelihood
//! ([`Likelihood::batch_expected_log_lik`]; for the Gaussian the closed form
//! −(N/2)·ln(2πσ²) − (‖y − μ‖² + Σ var)/(2σ²));
//! KL = ½(‖m‖² + ‖L‖_F² − M − 2 Σ ln|L_ii|); ELBO = s·ELL − KL.
//!
//! Reverse: the likelihood gives μ̄_i = s·∂ELL/∂μ_i and v̄_i = s·∂ELL/∂var_i (Gaussian: with
//! τ = s/σ², μ̄ = τ(y − μ) and v̄_i = −τ/2; 0 where the clip is active, half at an exact tie,
//! as JAX's `max` splits it) and its own parameters' gradient; then
//! m̄ = Aμ̄ − m; Ā = mμ̄ᵀ + Q·diag(2v̄);
//! L̄ = tril(A·diag(2v̄)·Aᵀ·L) − L + diag(1/L_ii); k̄_ii = v̄_i.
//! When every v̄_i ≤ 0 (the Gaussian, and every log-concave likelihood: Bernoulli, Poisson),
//! A·diag(2v̄)·Aᵀ = −(A·diag(√(−2v̄)))(A·diag(√(−2v̄)))ᵀ is one syrk; otherwise (a Student-t
//! point with a large residual has v̄_i > 0) it is the general product (A·diag(2v̄))·Aᵀ.
//! So the guide costs one M²N product forward (Q) and one M²N/2 (the syrk; M²N on the general
//! path) backward; the prior then carries Ā and k̄ back to its parameters and to Z
//! ([`Prior::backward`]).

use super::model::{Prior, PriorAdjoint, PriorBlocks, PriorGrad, PriorInputs, Svgp, SvgpParts};
use crate::error::{check_finite, check_finite_value, check_len, check_not_empty, Error, Result};
use crate::layout::Size;
use crate::likelihood::{BatchAdjoint, Likelihood};
use crate::linalg::{gemm, gemv, rows_of, syrk, Jitter, MatMut, MatRef, PackedLower, Trans};
use crate::Scalar;

/// Options of one ELBO evaluation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElboOptions {
    /// Multiplies the expected log-likelihood: N_total / batch size for a minibatch, 1 (the
    /// default) for the full batch.
    pub scale: f64,
    /// Whether to subtract the KL term (default `true`). A caller summing the likelihood of
    /// several batches can leave it out and add it once.
    pub include_kl: bool,
}

impl Default for ElboOptions {
    fn default() -> Self {
        Self { scale: 1.0, include_kl: true }
    }
}

impl ElboOptions {
    /// Options for a minibatch of `batch` points out of `n_total`: scale = n_total / batch.
    ///
    /// Both sizes are required and checked (no guessing): `batch` must be in `1..=n_total`.
    /// [`crate::batch::Minibatch`] drives whole epochs with this scale.
    ///
    /// ```
    /// use svgp::gp::ElboOptions;
    /// assert_eq!(ElboOptions::minibatch(600, 100)?.scale, 6.0);
    /// assert!(ElboOptions::minibatch(600, 0).is_err());
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn minibatch(n_total: usize, batch: usize) -> crate::Result<Self> {
        if batch == 0 || batch > n_total {
            return Err(crate::Error::InvalidParameter {
                what: "minibatch size (must be 1..=n_total)",
                value: batch as f64,
            });
        }
        Ok(Self { scale: n_total as f64 / batch as f64, include_kl: true })
    }
}

/// The ELBO's parts at one parameter point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElboTerms<S> {
    /// Expected log-likelihood of the given points (unscaled).
    pub ell: S,
    /// KL(q(v) ‖ N(0, I)).
    pub kl: S,
    /// scale·ell − kl (without the KL if the options say so).
    pub elbo: S,
}

crate::parts! {
    /// The ELBO's workspace: L_z, the unpacked L, L̄ (S − I in the forward pass) and G (M × M
    /// each); A, Q = (S − I)·A and Ā (M × N each); diag K_xx, μ, var, μ̄ and v̄ (N each); then
    /// the prior's own workspace. The forward pass leaves in it what the reverse sweep reads.
    "ELBO workspace": pub(crate) struct ElboWs { lz, lf, lbar, g2, a, q, abar, kxx, mu, var, mubar, vbar, prior }
}

/// Checks an ELBO and its gradient summed over chunks of the data (chunk by chunk, or by a
/// thread team): chunks that are finite on their own can overflow when added (`f32`, huge
/// targets), and the sum must then be an error as the whole batch's ELBO is. The one check
/// of a chunk sum.
pub(crate) fn check_chunk_sum<S: Scalar>(elbo: S, grad: &[S]) -> Result<S> {
    check_finite_value("ELBO (sum over chunks)", 0, elbo)?;
    check_finite("ELBO gradient (sum over chunks)", grad)?;
    Ok(elbo)
}

/// What the forward pass leaves for the reverse sweep: the carved workspace, in which the
/// likelihood's adjoints μ̄ and v̄ are already written.
struct Fwd<'w, S> {
    ws: ElboWs<&'w mut [S]>,
}

impl<P: Prior, L: Likelihood> Svgp<P, L> {
    /// The parts of the ELBO's workspace for `n` points.
    fn elbo_ws(&self, n: usize) -> Result<ElboWs<usize>> {
        let m = self.n_inducing();
        let (mm, mn, nn) = (Size::of(m) * m, Size::of(m) * n, Size::of(n));
        let prior = Size::from_result(self.prior().workspace_len(n, m));
        ElboWs {
            lz: mm,
            lf: mm,
            lbar: mm,
            g2: mm,
            a: mn,
            q: mn,
            abar: mn,
            kxx: nn,
            mu: nn,
            var: nn,
            mubar: nn,
            vbar: nn,
            prior,
        }
        .resolve()
    }

    /// Workspace length for [`Svgp::elbo`], [`Svgp::elbo_terms`] and [`Svgp::elbo_and_grad`] on
    /// `n` points ([`Error::SizeOverflow`] for an absurd `n`).
    pub fn workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.elbo_ws(n)?.total())
    }

    /// The ELBO (to be *maximised*) at `params` on inputs `x` (n × D, row-major) and targets `y` (n).
    ///
    /// Errors: wrong sizes, no points, non-finite parameters or data, a target the likelihood
    /// cannot explain ([`Error::InvalidTarget`], index within `y`; see [`Svgp::check_targets`]),
    /// a K_zz that stays indefinite after the jitter, and an ELBO that is not finite (huge
    /// targets or inputs, `f32` overflow): [`Error::NonFinite`] naming the term (expected
    /// log-likelihood, KL).
    ///
    /// ```
    /// use svgp::gp::{Closed, ElboOptions, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let (x, y) = ([-1.0, 0.0, 1.0], [0.5, 0.0, -0.5]);
    /// let mut ws = vec![0.0; model.workspace_len(3)?];
    /// let elbo = model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws)?;
    /// assert!(elbo.is_finite());
    /// assert!(model.elbo(&p, &[], &[], ElboOptions::default(), &mut ws).is_err()); // no points
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn elbo<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        opts: ElboOptions,
        ws: &mut [S],
    ) -> Result<S> {
        Ok(self.forward(params, x, y, opts, ws, None)?.0.elbo)
    }

    /// The ELBO and its parts (expected log-likelihood, KL).
    pub fn elbo_terms<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        opts: ElboOptions,
        ws: &mut [S],
    ) -> Result<ElboTerms<S>> {
        Ok(self.forward(params, x, y, opts, ws, None)?.0)
    }

    /// The ELBO and its gradient with respect to every parameter (into `grad`, same layout as
    /// `params`, overwritten), by a tape-free reverse sweep. `ws` as for [`Svgp::elbo`].
    ///
    /// Errors as [`Svgp::elbo`], and a gradient that is not finite: [`Error::NonFinite`]
    /// naming the part (`"ELBO gradient: inducing inputs Z"`, …) and the index within it.
    ///
    /// ```
    /// use svgp::gp::{Closed, ElboOptions, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let (x, y) = ([-1.0, 0.0, 1.0], [0.5, 0.0, -0.5]);
    /// let mut ws = vec![0.0; model.workspace_len(3)?];
    /// let mut grad = vec![0.0; model.n_params()];
    /// let elbo = model.elbo_and_grad(&p, &x, &y, ElboOptions::default(), &mut grad, &mut ws)?;
    /// assert_eq!(elbo, model.elbo(&p, &x, &y, ElboOptions::default(), &mut ws)?);
    /// let g = model.params(&grad)?; // the gradient by name
    /// assert!(g.likelihood.ln_noise_variance() > 0.0); // the noise wants to grow
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn elbo_and_grad<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        opts: ElboOptions,
        grad: &mut [S],
        ws: &mut [S],
    ) -> Result<S> {
        check_len("gradient buffer", self.n_params(), grad.len())?;
        let (terms, st) = self.forward(params, x, y, opts, ws, Some(&mut *grad))?;
        self.backward(params, x, opts, st, grad)?;
        let SvgpParts { prior, z, mean, scale_tril, likelihood } = self.parts(grad)?;
        check_finite("ELBO gradient: prior parameters", prior)?;
        check_finite("ELBO gradient: inducing inputs Z", z)?;
        check_finite("ELBO gradient: variational mean", mean)?;
        check_finite("ELBO gradient: variational scale L (packed)", scale_tril)?;
        check_finite("ELBO gradient: likelihood parameters", likelihood)?;
        Ok(terms.elbo)
    }

    /// Checks the sizes (n ≥ 1 points, x is n × D) and the finiteness of the parameters and inputs.
    pub(crate) fn check_inputs<S: Scalar>(&self, params: &[S], x: &[S], n: usize) -> Result<()> {
        check_len("parameters", self.n_params(), params.len())?;
        check_not_empty(n)?;
        check_len("inputs x (n × D): rows", n, rows_of(x, self.input_dim(), "inputs x (n × D)")?)?;
        check_finite("parameters", params)?;
        check_finite("inputs x", x)
    }

    /// The forward pass: the ELBO's terms, and the intermediates the reverse sweep reads.
    /// With `grad` (the gradient buffer, then overwritten by the sweep), the likelihood's
    /// adjoints are computed in the same pass as its value and its own parameters' gradient is
    /// written into `grad`'s likelihood part.
    fn forward<'w, S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        y: &[S],
        opts: ElboOptions,
        ws: &'w mut [S],
        grad: Option<&mut [S]>,
    ) -> Result<(ElboTerms<S>, Fwd<'w, S>)> {
        let (m, n) = (self.n_inducing(), y.len());
        self.check_inputs(params, x, n)?;
        self.check_targets(y)?;
        if !(opts.scale.is_finite() && opts.scale >= 0.0) {
            return Err(Error::InvalidParameter { what: "ELBO scale", value: opts.scale });
        }
        let mut ws = self.elbo_ws(n)?.carve(ws)?;
        let ElboWs { lz, lf, lbar, a, q, kxx, mu, var, mubar, vbar, prior: pws, .. } = &mut ws;
        let SvgpParts { prior: pp, z, mean: mv, scale_tril: lp, likelihood } = self.parts(params)?;
        let lp = PackedLower::new(m, lp)?;

        let inputs = PriorInputs { params: pp, z, x };
        let blocks = PriorBlocks { lz: &mut **lz, a: &mut **a, kxx: &mut **kxx };
        self.prior().forward(inputs, Jitter::Fixed(self.jitter()), blocks, pws)?;
        let am = MatRef::new(m, n, a)?;
        gemv(S::one(), am, Trans::Yes, mv, S::zero(), mu)?;
        lp.unpack_into(MatMut::new(m, m, lf)?)?;
        // S − I = L·Lᵀ − I (in the L̄ buffer, free until the reverse sweep), Q = (S − I)·A.
        syrk(S::one(), MatRef::new(m, m, lf)?, Trans::No, S::zero(), MatMut::new(m, m, lbar)?)?;
        for i in 0..m {
            lbar[i * m + i] -= S::one();
        }
        gemm(S::one(), MatRef::new(m, m, lbar)?, Trans::No, am, Trans::No, S::zero(), MatMut::new(m, n, q)?)?;
        // var_i = k_ii + Σ_k A_ki Q_ki (raw: the likelihood clips it at 0).
        var.copy_from_slice(kxx);
        for (ar, qr) in a.chunks_exact(n).zip(q.chunks_exact(n)) {
            for ((v, &x), &y) in var.iter_mut().zip(ar).zip(qr) {
                *v += x * y;
            }
        }
        let scale = S::from_f64(opts.scale);
        let adjoint = match grad {
            Some(g) => {
                Some(BatchAdjoint { scale, mean: mubar, var: vbar, params: self.parts_mut(g)?.likelihood })
            }
            None => None,
        };
        let ell = self.likelihood().batch_expected_log_lik(likelihood, y, mu, var, adjoint);
        let half = S::from_f64(0.5);
        let mut kl = mv.iter().map(|&v| v * v).sum::<S>() + lp.as_slice().iter().map(|&v| v * v).sum::<S>()
            - S::from_usize(m);
        for i in 0..m {
            kl -= S::from_f64(2.0) * lp.diag(i).abs().ln();
        }
        kl *= half;
        check_finite_value("ELBO: expected log-likelihood", 0, ell)?;
        check_finite_value("ELBO: KL divergence", 0, kl)?;
        let elbo = if opts.include_kl { scale * ell - kl } else { scale * ell };
        check_finite_value("ELBO", 0, elbo)?;
        let terms = ElboTerms { ell, kl, elbo };
        Ok((terms, Fwd { ws }))
    }

    /// The reverse sweep from the forward pass's intermediates; overwrites `grad` except its
    /// likelihood part, which the forward pass wrote.
    fn backward<S: Scalar>(
        &self,
        params: &[S],
        x: &[S],
        opts: ElboOptions,
        st: Fwd<'_, S>,
        grad: &mut [S],
    ) -> Result<()> {
        let Fwd { ws } = st;
        let ElboWs { lz, lf, lbar, g2, a, q, abar, kxx, var, mubar, vbar, prior: pws, .. } = ws;
        let (m, n) = (self.n_inducing(), mubar.len());
        let SvgpParts { prior: pp, z, mean: mv, .. } = self.parts(params)?;
        let half = S::from_f64(0.5);
        let am = MatRef::new(m, n, a)?;
        // ---- reverse sweep ----
        let SvgpParts { prior: g_prior, z: g_z, mean: gm, scale_tril: gl, .. } = self.parts_mut(grad)?;
        for g in [&mut *g_prior, &mut *g_z, &mut *gm, &mut *gl] {
            g.iter_mut().for_each(|g| *g = S::zero());
        }
        let two = S::from_f64(2.0);
        // v̄ doubled: W = C·diag(2v̄) and Ā gets −A·diag(2v̄).
        let mut concave = true;
        for v in vbar.iter_mut() {
            *v = two * *v;
            concave &= *v <= S::zero();
        }
        gemv(S::one(), am, Trans::No, mubar, S::zero(), gm)?;
        if opts.include_kl {
            for (g, &v) in gm.iter_mut().zip(mv) {
                *g -= v;
            }
        }
        // Ā = mμ̄ᵀ + Q·diag(2v̄). Then G = A·diag(2v̄)·Aᵀ: when every v̄ ≤ 0, Q ← A·diag(√(−2v̄))
        // and G = −Q·Qᵀ is one syrk (var is dead now: it holds √(−2v̄)); otherwise
        // Q ← A·diag(2v̄) and G = Q·Aᵀ.
        if concave {
            for (r, &v) in var.iter_mut().zip(vbar.iter()) {
                *r = (-v).sqrt();
            }
        } else {
            var.copy_from_slice(vbar);
        }
        for k in 0..m {
            let mk = mv[k];
            let (ar, qr, br) =
                (&a[k * n..(k + 1) * n], &mut q[k * n..(k + 1) * n], &mut abar[k * n..(k + 1) * n]);
            for i in 0..n {
                br[i] = mk * mubar[i] + qr[i] * vbar[i];
                qr[i] = ar[i] * var[i];
            }
        }
        if concave {
            syrk(-S::one(), MatRef::new(m, n, q)?, Trans::No, S::zero(), MatMut::new(m, m, g2)?)?;
        } else {
            gemm(
                S::one(),
                MatRef::new(m, n, q)?,
                Trans::No,
                am,
                Trans::Yes,
                S::zero(),
                MatMut::new(m, m, g2)?,
            )?;
        }
        // L̄ = tril(G·L) (KL terms added below).
        gemm(
            S::one(),
            MatRef::new(m, m, g2)?,
            Trans::No,
            MatRef::new(m, m, lf)?,
            Trans::No,
            S::zero(),
            MatMut::new(m, m, lbar)?,
        )?;
        let mut gl = PackedLower::new(m, gl)?;
        for i in 0..m {
            for j in 0..=i {
                let mut g = lbar[i * m + j];
                if opts.include_kl {
                    g -= lf[i * m + j];
                    if i == j {
                        g += lf[i * m + i].recip();
                    }
                }
                gl.set(i, j, g);
            }
        }
        // k̄_ii = v̄_i (undo the doubling).
        vbar.iter_mut().for_each(|v| *v *= half);
        self.prior().backward(
            PriorInputs { params: pp, z, x },
            PriorBlocks { lz: &*lz, a: &*a, kxx: &*kxx },
            PriorAdjoint { a: abar, kxx: &*vbar },
            PriorGrad { params: g_prior, z: g_z },
            pws,
        )
    }
}
