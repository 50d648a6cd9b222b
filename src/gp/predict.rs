//! Posterior prediction of the latent f: mean, variance and (for small sets) full covariance.

use super::model::{Prior, PriorBlocks, PriorInputs, Svgp, SvgpParts};
use crate::error::{check_finite, check_len, check_not_empty, Result};
use crate::layout::Size;
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

/// Points per block in [`Svgp::predict`]: bounds its workspace whatever the number of points.
pub const PREDICT_CHUNK: usize = 256;

impl<P: Prior> Svgp<P> {
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
    /// var = max(k_xx − Σ A² + Σ (LᵀA)², 0) (never negative; add the noise variance,
    /// `params(..)?.likelihood.noise_variance()`, for y).
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
