//! Posterior prediction: of the latent f (mean, variance and, for small sets, the full
//! covariance), and of the observation y through the likelihood (predictive mean and variance,
//! log predictive density, NLPD).

use super::model::{Prior, PriorBlocks, PriorInputs, Svgp, SvgpParts};
use crate::error::{check_finite, check_finite_value, check_len, check_not_empty, Result};
use crate::layout::Size;
use crate::likelihood::Likelihood;
use crate::linalg::{gemm, gemv, Jitter, MatMut, MatRef, PackedLower, Trans};
use crate::Scalar;

crate::parts! {
    /// Projecting n points: L_z and the unpacked L (M × M), A = L_z⁻¹K_zx and C = LᵀA (M × n),
    /// diag K_xx (n), then the prior's workspace.
    "predict workspace": pub(crate) struct ProjectWs { lz, lf, a, c, kxx, prior }
}

crate::parts! {
    /// [`Svgp::predict_cov`]'s workspace: the projection's, then the prior covariance's.
    "predict_cov workspace": pub(crate) struct CovWs { project, covariance }
}

crate::parts! {
    /// [`Svgp::log_predictive_density`]'s workspace: a block's latent means and variances, then
    /// the projection's workspace for a block.
    "log predictive density workspace": pub(crate) struct LpdWs { mean, var, project }
}

/// Points per block in [`Svgp::predict`]: bounds its workspace whatever the number of points.
pub const PREDICT_CHUNK: usize = 256;

impl<P: Prior, L: Likelihood> Svgp<P, L> {
    /// The projection's workspace for `n` points at once.
    fn project_ws(&self, n: usize) -> Result<ProjectWs<usize>> {
        let m = self.n_inducing();
        let (mm, mn) = (Size::of(m) * m, Size::of(m) * n);
        let prior = Size::from_result(self.prior().workspace_len(n, m));
        ProjectWs { lz: mm, lf: mm, a: mn, c: mn, kxx: Size::of(n), prior }.resolve()
    }

    /// Workspace length for [`Svgp::predict`] on `n` points: it works in blocks of
    /// [`PREDICT_CHUNK`] points, so this stops growing beyond that.
    pub fn predict_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.project_ws(n.clamp(1, PREDICT_CHUNK))?.total())
    }

    /// Writes L_z, A, kxx and C = LᵀA for `xs` (n points, inputs already checked) into the
    /// front of `ws`; returns the carved workspace.
    fn project<'w, S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        n: usize,
        ws: &'w mut [S],
    ) -> Result<ProjectWs<&'w mut [S]>> {
        let m = self.n_inducing();
        let mut ws = self.project_ws(n)?.carve(ws)?;
        let ProjectWs { lz, lf, a, c, kxx, prior: pws } = &mut ws;
        let SvgpParts { prior, z, scale_tril, .. } = self.parts(params)?;
        let inputs = PriorInputs { params: prior, z, x: xs };
        let blocks = PriorBlocks { lz: &mut **lz, a: &mut **a, kxx: &mut **kxx };
        self.prior().forward(inputs, Jitter::Fixed(self.jitter()), blocks, pws)?;
        PackedLower::new(m, scale_tril)?.unpack_into(MatMut::new(m, m, lf)?)?;
        gemm(
            S::one(),
            MatRef::new(m, m, lf)?,
            Trans::Yes,
            MatRef::new(m, n, a)?,
            Trans::No,
            S::zero(),
            MatMut::new(m, n, c)?,
        )?;
        Ok(ws)
    }

    /// Posterior mean and variance of the latent f at `xs` (n × D): mean = Aᵀm,
    /// var = max(k_xx − Σ A² + Σ (LᵀA)², 0) (never negative). For the observation y (the
    /// Gaussian's noise added, a class probability, a count's mean) see [`Svgp::predict_y`].
    ///
    /// Errors: wrong sizes, no points, non-finite parameters or inputs, and a prediction that
    /// is not finite ([`Error::NonFinite`](crate::Error::NonFinite) naming mean or variance).
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let xs = [0.0, 3.0];
    /// let (mut mean, mut var) = ([0.0; 2], [0.0; 2]);
    /// let mut ws = vec![0.0; model.predict_workspace_len(2)?];
    /// model.predict(&p, &xs, &mut mean, &mut var, &mut ws)?;
    /// assert_eq!(mean, [0.0, 0.0]); // m = 0 at init
    /// assert!((var[1] - 1.0).abs() < 1e-6); // far away: the prior variance (L = I at init)
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn predict<S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        mean: &mut [S],
        var: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let n = mean.len();
        check_len("predict: variance output", n, var.len())?;
        self.check_inputs(params, xs, n)?;
        self.project_ws(n.clamp(1, PREDICT_CHUNK))?.carve(&mut *ws)?;
        let (m, d) = (self.n_inducing(), self.input_dim());
        let mv = self.parts(params)?.mean;
        for start in (0..n).step_by(PREDICT_CHUNK) {
            let nc = PREDICT_CHUNK.min(n - start);
            let xc = &xs[start * d..(start + nc) * d];
            let ProjectWs { a, c, kxx, .. } = self.project(params, xc, nc, ws)?;
            let (mean, var) = (&mut mean[start..start + nc], &mut var[start..start + nc]);
            gemv(S::one(), MatRef::new(m, nc, a)?, Trans::Yes, mv, S::zero(), mean)?;
            for i in 0..nc {
                // Same summation order as the reference: k_xx − ΣA² + Σ(LᵀA)².
                let (mut qa, mut qc) = (S::zero(), S::zero());
                for k in 0..m {
                    qa += a[k * nc + i] * a[k * nc + i];
                    qc += c[k * nc + i] * c[k * nc + i];
                }
                var[i] = (kxx[i] - qa + qc).max(S::zero());
            }
        }
        check_finite("predicted mean", mean)?;
        check_finite("predicted variance", var)
    }

    /// Predictive mean and variance of the observation y at `xs` (n × D), through the
    /// likelihood ([`Likelihood::predictive`]): for the Gaussian the latent's with the noise
    /// variance added; for the Bernoulli P(y = 1) and P(y = 1)·P(y = 0); for the Poisson the
    /// count's mean and variance. Workspace: [`Svgp::predict_workspace_len`].
    ///
    /// Errors as [`Svgp::predict`], and where the likelihood has no such moments (a
    /// Student-t with ν ≤ 2 has no variance).
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let (mut f_mean, mut f_var, mut y_mean, mut y_var) = ([0.0; 1], [0.0; 1], [0.0; 1], [0.0; 1]);
    /// let mut ws = vec![0.0; model.predict_workspace_len(1)?];
    /// model.predict(&p, &[0.2], &mut f_mean, &mut f_var, &mut ws)?;
    /// model.predict_y(&p, &[0.2], &mut y_mean, &mut y_var, &mut ws)?;
    /// assert_eq!(y_mean, f_mean);
    /// assert!((y_var[0] - (f_var[0] + 0.01)).abs() < 1e-15); // the noise variance added
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn predict_y<S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        mean: &mut [S],
        var: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        self.predict(params, xs, mean, var, ws)?;
        let theta = self.parts(params)?.likelihood;
        for (m, v) in mean.iter_mut().zip(var.iter_mut()) {
            let y = self.likelihood().predictive(theta, *m, *v)?;
            (*m, *v) = (y.mean, y.var);
        }
        check_finite("predicted mean of y", mean)?;
        check_finite("predicted variance of y", var)
    }

    /// The parts of [`Svgp::log_predictive_density`]'s workspace for `n` points.
    fn lpd_ws(&self, n: usize) -> Result<LpdWs<usize>> {
        let chunk = n.clamp(1, PREDICT_CHUNK);
        let project = Size::of(self.project_ws(chunk)?.total());
        LpdWs { mean: Size::of(chunk), var: Size::of(chunk), project }.resolve()
    }

    /// Workspace length for [`Svgp::log_predictive_density`] and [`Svgp::nlpd`] on `n` points
    /// (it stops growing beyond [`PREDICT_CHUNK`] points).
    pub fn log_predictive_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.lpd_ws(n)?.total())
    }

    /// The log predictive density of each test observation, ln p(y_i | data) =
    /// ln ∫ p(y_i | f) q(f_i) df ([`Likelihood::log_predictive_density`]), into `out` (n values).
    /// `ys` are checked as training targets are ([`Svgp::check_targets`]).
    ///
    /// Errors as [`Svgp::predict`], bad targets, and a density that is not finite.
    pub fn log_predictive_density<S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        ys: &[S],
        out: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        check_len("log predictive density: output", ys.len(), out.len())?;
        self.each_log_density(params, xs, ys, ws, |i, lpd| out[i] = lpd)
    }

    /// The negative log predictive density of a test set, −(1/n) Σ_i ln p(y_i | data), for any
    /// likelihood (the Gaussian's includes the noise). `ws`: [`Svgp::log_predictive_workspace_len`].
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// use svgp::likelihood::Bernoulli;
    /// let model = Svgp::with_likelihood(Closed(Rbf::new(1)), Bernoulli::probit(), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], &mut p)?;
    /// let mut ws = vec![0.0; model.log_predictive_workspace_len(2)?];
    /// // At initialisation the predictive is P(y = 1) = Φ(0) = ½ everywhere: NLPD = ln 2.
    /// let nlpd = model.nlpd(&p, &[-1.0, 1.0], &[0.0, 1.0], &mut ws)?;
    /// assert!((nlpd - 2.0_f64.ln()).abs() < 1e-15);
    /// assert!(model.nlpd(&p, &[-1.0, 1.0], &[0.0, 0.5], &mut ws).is_err()); // not a class label
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn nlpd<S: Scalar>(&self, params: &[S], xs: &[S], ys: &[S], ws: &mut [S]) -> Result<S> {
        let mut sum = S::zero();
        self.each_log_density(params, xs, ys, ws, |_, lpd| sum -= lpd)?;
        let nlpd = sum / S::from_usize(ys.len());
        check_finite_value("NLPD", 0, nlpd)?;
        Ok(nlpd)
    }

    /// Checks the inputs and targets, then hands each test point's finite log predictive
    /// density to `f` with its index, block by block.
    fn each_log_density<S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        ys: &[S],
        ws: &mut [S],
        mut f: impl FnMut(usize, S),
    ) -> Result<()> {
        let n = ys.len();
        self.check_inputs(params, xs, n)?;
        self.check_targets(ys)?;
        let d = self.input_dim();
        let theta = self.parts(params)?.likelihood;
        let LpdWs { mean, var, project } = self.lpd_ws(n)?.carve(ws)?;
        for start in (0..n).step_by(PREDICT_CHUNK) {
            let nc = PREDICT_CHUNK.min(n - start);
            let (mean, var) = (&mut mean[..nc], &mut var[..nc]);
            self.predict(params, &xs[start * d..(start + nc) * d], mean, var, project)?;
            for i in 0..nc {
                let lpd = self.likelihood().log_predictive_density(theta, ys[start + i], mean[i], var[i]);
                check_finite_value("log predictive density", start + i, lpd)?;
                f(start + i, lpd);
            }
        }
        Ok(())
    }

    /// The parts of [`Svgp::predict_cov`]'s workspace for `n` points.
    fn cov_ws(&self, n: usize) -> Result<CovWs<usize>> {
        let project = Size::of(self.project_ws(n)?.total());
        CovWs { project, covariance: Size::from_result(self.prior().covariance_workspace_len(n)) }.resolve()
    }

    /// Workspace length for [`Svgp::predict_cov`] on `n` points.
    pub fn predict_cov_workspace_len(&self, n: usize) -> Result<usize> {
        Ok(self.cov_ws(n)?.total())
    }

    /// Posterior mean and full covariance (n × n) of the latent f at `xs`:
    /// K(xs, xs) − AᵀA + (LᵀA)ᵀ(LᵀA), diagonal clipped at 0. Costs O(n²·M): for small sets.
    /// Errors as [`Svgp::predict`].
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let xs = [0.0, 0.1];
    /// let (mut mean, mut cov) = ([0.0; 2], [0.0; 4]);
    /// let mut ws = vec![0.0; model.predict_cov_workspace_len(2)?];
    /// model.predict_cov(&p, &xs, &mut mean, &mut cov, &mut ws)?;
    /// assert_eq!(cov[1], cov[2]); // symmetric
    /// assert!((cov[1] - (-0.02_f64).exp()).abs() < 1e-6); // L = I at init: the prior k(0, 0.1)
    /// # Ok::<(), svgp::Error>(())
    /// ```
    pub fn predict_cov<S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        mean: &mut [S],
        cov: &mut [S],
        ws: &mut [S],
    ) -> Result<()> {
        let n = mean.len();
        check_not_empty(n)?;
        check_len("predict_cov: covariance output", (Size::of(n) * n).get("predict_cov output")?, cov.len())?;
        self.check_inputs(params, xs, n)?;
        let CovWs { project, covariance } = self.cov_ws(n)?.carve(ws)?;
        let m = self.n_inducing();
        let SvgpParts { prior, mean: mv, .. } = self.parts(params)?;
        let ProjectWs { a, c, .. } = self.project(params, xs, n, project)?;
        let (am, cm) = (MatRef::new(m, n, a)?, MatRef::new(m, n, c)?);
        gemv(S::one(), am, Trans::Yes, mv, S::zero(), mean)?;
        self.prior().covariance(prior, xs, cov, covariance)?;
        gemm(-S::one(), am, Trans::Yes, am, Trans::No, S::one(), MatMut::new(n, n, cov)?)?;
        gemm(S::one(), cm, Trans::Yes, cm, Trans::No, S::one(), MatMut::new(n, n, cov)?)?;
        for i in 0..n {
            cov[i * n + i] = cov[i * n + i].max(S::zero());
        }
        check_finite("predicted mean", mean)?;
        check_finite("predicted covariance", cov)
    }
}
