//! Posterior prediction of the latent f: mean, variance and (for small sets) full covariance.

use super::model::{tri_len, Prior, Svgp};
use super::ws::take;
use crate::error::{check_buf, check_len, Result};
use crate::linalg::{gemm, gemv, MatMut, MatRef, Trans};
use crate::Scalar;

/// A = L_z⁻¹K_zx, C = LᵀA and diag K_xx at the prediction inputs, and the unused workspace.
struct Projected<'w, S> {
    a: &'w mut [S],
    c: &'w mut [S],
    kxx: &'w mut [S],
    rest: &'w mut [S],
}

/// Points per block in [`Svgp::predict`]: bounds its workspace whatever the number of points.
pub const PREDICT_CHUNK: usize = 256;

impl<P: Prior> Svgp<P> {
    /// Workspace for projecting `n` points at once.
    fn project_len(&self, n: usize) -> usize {
        2 * self.m * self.m + 2 * self.m * n + n + self.prior.workspace_len(n, self.m)
    }

    /// Workspace length for [`Svgp::predict`] on `n` points: it works in blocks of
    /// [`PREDICT_CHUNK`] points, so this stops growing beyond that.
    pub fn predict_workspace_len(&self, n: usize) -> usize {
        self.project_len(n.clamp(1, PREDICT_CHUNK))
    }

    /// Writes L_z, A, kxx and C = LᵀA for `xs` (n points, inputs already checked) into the
    /// front of `ws`; returns the pieces and the rest.
    fn project<'w, S: Scalar>(
        &self,
        params: &[S],
        xs: &[S],
        n: usize,
        ws: &'w mut [S],
    ) -> Result<Projected<'w, S>> {
        let m = self.m;
        check_buf("predict workspace", self.project_len(n), ws.len())?;
        let mut ws = ws;
        let lz = take(&mut ws, m * m);
        let lf = take(&mut ws, m * m);
        let a = take(&mut ws, m * n);
        let c = take(&mut ws, m * n);
        let kxx = take(&mut ws, n);
        let z = &params[self.z_range()];
        self.prior.forward(&params[self.prior_range()], z, xs, self.jitter, lz, a, kxx, ws)?;
        let lp = &params[self.scale_range()];
        lf.iter_mut().for_each(|v| *v = S::zero());
        for i in 0..m {
            lf[i * m..i * m + i + 1].copy_from_slice(&lp[tri_len(i)..tri_len(i + 1)]);
        }
        gemm(
            S::one(),
            MatRef::new(m, m, lf)?,
            Trans::Yes,
            MatRef::new(m, n, a)?,
            Trans::No,
            S::zero(),
            MatMut::new(m, n, c)?,
        )?;
        Ok(Projected { a, c, kxx, rest: ws })
    }

    /// Posterior mean and variance of the latent f at `xs` (n × D): mean = Aᵀm,
    /// var = max(k_xx − Σ A² + Σ (LᵀA)², 0) (never negative; add exp(ln σ²_noise) for y).
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let xs = [0.0, 3.0];
    /// let (mut mean, mut var) = ([0.0; 2], [0.0; 2]);
    /// let mut ws = vec![0.0; model.predict_workspace_len(2)];
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
        check_buf("predict workspace", self.predict_workspace_len(n), ws.len())?;
        let (m, d, mv) = (self.m, self.input_dim(), &params[self.mean_range()]);
        for start in (0..n).step_by(PREDICT_CHUNK) {
            let nc = PREDICT_CHUNK.min(n - start);
            let xc = &xs[start * d..(start + nc) * d];
            let Projected { a, c, kxx, .. } = self.project(params, xc, nc, ws)?;
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
        Ok(())
    }

    /// Workspace length for [`Svgp::predict_cov`] on `n` points.
    pub fn predict_cov_workspace_len(&self, n: usize) -> usize {
        self.project_len(n) + self.prior.covariance_workspace_len(n)
    }

    /// Posterior mean and full covariance (n × n) of the latent f at `xs`:
    /// K(xs, xs) − AᵀA + (LᵀA)ᵀ(LᵀA), diagonal clipped at 0. Costs O(n²·M): for small sets.
    ///
    /// ```
    /// use svgp::gp::{Closed, Svgp};
    /// use svgp::kernel::Rbf;
    /// let model = Svgp::new(Closed(Rbf::new(1)), 2, 1e-6)?;
    /// let mut p = vec![0.0; model.n_params()];
    /// model.init_params(&Rbf::params(1.0, 0.5), &[-0.5, 0.5], 0.01, &mut p)?;
    /// let xs = [0.0, 0.1];
    /// let (mut mean, mut cov) = ([0.0; 2], [0.0; 4]);
    /// let mut ws = vec![0.0; model.predict_cov_workspace_len(2)];
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
        check_len("predict_cov: covariance output", n * n, cov.len())?;
        check_buf("predict_cov workspace", self.predict_cov_workspace_len(n), ws.len())?;
        self.check_inputs(params, xs, n)?;
        let (m, mv) = (self.m, &params[self.mean_range()]);
        let Projected { a, c, rest, .. } = self.project(params, xs, n, ws)?;
        let (am, cm) = (MatRef::new(m, n, a)?, MatRef::new(m, n, c)?);
        gemv(S::one(), am, Trans::Yes, mv, S::zero(), mean)?;
        let (_, pws) = rest.split_at_mut(self.prior.workspace_len(n, m));
        self.prior.covariance(&params[self.prior_range()], xs, cov, pws)?;
        gemm(-S::one(), am, Trans::Yes, am, Trans::No, S::one(), MatMut::new(n, n, cov)?)?;
        gemm(S::one(), cm, Trans::Yes, cm, Trans::No, S::one(), MatMut::new(n, n, cov)?)?;
        for i in 0..n {
            cov[i * n + i] = cov[i * n + i].max(S::zero());
        }
        Ok(())
    }
}
