//! How good a prediction is, and the data preparation that goes with it: RMSE, negative log
//! predictive density (NLPD), coverage of central intervals, and standardisation of inputs and
//! targets with its inverse for predictions. `no_std`, no allocation.
//!
//! Every metric takes the predictions as plain slices (any [`Scalar`], read through its real
//! part) and accumulates in `f64`. A metric of no points, of slices of different lengths, of a
//! non-finite value or of a variance that is not positive is a typed error, never `Ok(NaN)`.
//!
//! NLPD is the mean of −log p(y_i | data) over test points. [`gaussian_nlpd`] computes it for a
//! Gaussian predictive N(mean, var) of y (noise included); for any other likelihood, pass its
//! per-point log predictive densities to [`nlpd`].
//!
//! ```
//! use svgp::metrics::{gaussian_coverage, gaussian_nlpd, rmse};
//! let y = [1.0_f64, 2.0, 3.0];
//! let mean = [1.1, 1.9, 3.2];
//! let var = [0.04, 0.04, 0.04]; // predictive variance of y
//! let err = rmse(&y, &mean)?;
//! assert!((err - (0.06_f64 / 3.0).sqrt()).abs() < 1e-12);
//! let nlpd = gaussian_nlpd(&y, &mean, &var)?;
//! assert!(nlpd < 0.0); // errors of about one σ = 0.2 on a narrow predictive
//! assert_eq!(gaussian_coverage(&y, &mean, &var, 0.95)?, 1.0);
//! # Ok::<(), svgp::Error>(())
//! ```

mod quantile;
mod standardize;

pub use quantile::{central_z, normal_quantile};
pub use standardize::{apply_columns, fit_columns, Standardizer};

use crate::error::{check_finite_value, check_len, Error, Result};
use crate::Scalar;

/// ln √(2π).
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;

/// Root-mean-square error √(Σ (y_i − pred_i)² / n) of `pred` against `y`.
///
/// ```
/// use svgp::metrics::rmse;
/// assert_eq!(rmse(&[0.0_f64, 0.0], &[3.0, 4.0])?, 12.5_f64.sqrt());
/// assert!(rmse::<f64>(&[], &[]).is_err());
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn rmse<S: Scalar>(y: &[S], pred: &[S]) -> Result<f64> {
    check_points("rmse: predictions (one per target)", y.len(), pred.len())?;
    let mut ss = 0.0;
    for (i, (t, p)) in y.iter().zip(pred).enumerate() {
        let (t, p) = (finite("rmse: targets", i, t.re())?, finite("rmse: predictions", i, p.re())?);
        ss += (t - p) * (t - p);
    }
    finite("rmse (overflow)", 0, libm::sqrt(ss / y.len() as f64))
}

/// log N(y | mean, var): the log density of a Gaussian predictive at one observation.
///
/// Plain arithmetic, no checks (a variance ≤ 0 gives a NaN or an infinity); the checked,
/// averaged form is [`gaussian_nlpd`].
///
/// ```
/// use svgp::metrics::gaussian_log_density;
/// // At the mean of N(0, 1): −ln √(2π).
/// assert!((gaussian_log_density(0.0, 0.0, 1.0) + 0.9189385332046727).abs() < 1e-15);
/// ```
#[inline]
pub fn gaussian_log_density(y: f64, mean: f64, var: f64) -> f64 {
    let r = y - mean;
    -LN_SQRT_2PI - 0.5 * libm::log(var) - 0.5 * r * r / var
}

/// Mean negative log predictive density of a Gaussian predictive: the mean over i of
/// −log N(y_i | mean_i, var_i), where `var` is the predictive variance of y (the latent
/// variance plus the noise variance), every entry finite and > 0.
///
/// ```
/// use svgp::metrics::gaussian_nlpd;
/// // y = 1 under N(0, 4): ½ ln(8π) + 1/8.
/// let v = gaussian_nlpd(&[1.0_f64], &[0.0], &[4.0])?;
/// assert!((v - 1.737085713764618).abs() < 1e-14);
/// assert!(gaussian_nlpd(&[1.0_f64], &[0.0], &[0.0]).is_err()); // zero variance
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn gaussian_nlpd<S: Scalar>(y: &[S], mean: &[S], var: &[S]) -> Result<f64> {
    check_points("gaussian_nlpd: means (one per target)", y.len(), mean.len())?;
    check_len("gaussian_nlpd: variances (one per target)", y.len(), var.len())?;
    let mut sum = 0.0;
    for i in 0..y.len() {
        let (t, m, v) = read_gaussian(i, y[i], mean[i], var[i])?;
        sum -= gaussian_log_density(t, m, v);
    }
    finite("gaussian_nlpd (overflow)", 0, sum / y.len() as f64)
}

/// Mean negative log predictive density from per-point log predictive densities
/// log p(y_i | data), as any likelihood computes them: −Σ lpd_i / n.
///
/// ```
/// use svgp::metrics::{gaussian_log_density, nlpd};
/// let lpd = [gaussian_log_density(0.0, 0.0, 1.0), gaussian_log_density(1.0, 0.0, 1.0)];
/// assert!((nlpd(&lpd)? - (0.9189385332046727 + 0.25)).abs() < 1e-15);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn nlpd<S: Scalar>(log_densities: &[S]) -> Result<f64> {
    check_points("nlpd: log predictive densities", log_densities.len(), log_densities.len())?;
    let mut sum = 0.0;
    for (i, l) in log_densities.iter().enumerate() {
        sum -= finite("nlpd: log predictive densities", i, l.re())?;
    }
    finite("nlpd (overflow)", 0, sum / log_densities.len() as f64)
}

/// The fraction of targets inside their intervals: lower_i ≤ y_i ≤ upper_i.
///
/// For any predictive whose central interval the caller computes (a likelihood's quantiles,
/// samples); [`gaussian_coverage`] does it for a Gaussian predictive.
///
/// ```
/// use svgp::metrics::coverage;
/// assert_eq!(coverage(&[0.0_f64, 5.0], &[-1.0, -1.0], &[1.0, 1.0])?, 0.5);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn coverage<S: Scalar>(y: &[S], lower: &[S], upper: &[S]) -> Result<f64> {
    check_points("coverage: lower bounds (one per target)", y.len(), lower.len())?;
    check_len("coverage: upper bounds (one per target)", y.len(), upper.len())?;
    let mut inside = 0usize;
    for i in 0..y.len() {
        let t = finite("coverage: targets", i, y[i].re())?;
        let lo = finite("coverage: lower bounds", i, lower[i].re())?;
        let hi = finite("coverage: upper bounds", i, upper[i].re())?;
        if lo > hi {
            return Err(Error::InvalidParameter {
                what: "coverage: an interval with lower > upper",
                value: lo - hi,
            });
        }
        inside += usize::from(lo <= t && t <= hi);
    }
    Ok(inside as f64 / y.len() as f64)
}

/// The fraction of targets inside the central `level` interval of their Gaussian predictive,
/// mean_i ± z·√var_i with z = [`central_z`]`(level)` (1.96 for 0.95). `var` is the predictive
/// variance of y (noise included); a well-calibrated model covers about `level` of new data.
///
/// ```
/// use svgp::metrics::gaussian_coverage;
/// let y = [0.0_f64, 1.0, 3.0];
/// let (mean, var) = ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]);
/// assert_eq!(gaussian_coverage(&y, &mean, &var, 0.95)?, 2.0 / 3.0); // 3 > 1.96
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn gaussian_coverage<S: Scalar>(y: &[S], mean: &[S], var: &[S], level: f64) -> Result<f64> {
    let z = central_z(level)?;
    check_points("gaussian_coverage: means (one per target)", y.len(), mean.len())?;
    check_len("gaussian_coverage: variances (one per target)", y.len(), var.len())?;
    let mut inside = 0usize;
    for i in 0..y.len() {
        let (t, m, v) = read_gaussian(i, y[i], mean[i], var[i])?;
        inside += usize::from((t - m).abs() <= z * libm::sqrt(v));
    }
    Ok(inside as f64 / y.len() as f64)
}

/// Checks a non-empty metric input with `found` entries where `n` are needed.
fn check_points(what: &'static str, n: usize, found: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::DimensionMismatch {
            what: "metric: test points (at least one)",
            expected: 1,
            found: 0,
        });
    }
    check_len(what, n, found)
}

/// `v` if finite, else [`Error::NonFinite`] naming `what` and the index (the crate's one
/// finiteness check, returning the value read).
#[inline]
fn finite(what: &'static str, index: usize, v: f64) -> Result<f64> {
    check_finite_value(what, index, v).map(|()| v)
}

/// One Gaussian prediction, checked: finite target and mean, finite positive variance.
fn read_gaussian<S: Scalar>(i: usize, y: S, mean: S, var: S) -> Result<(f64, f64, f64)> {
    let t = finite("metric: targets", i, y.re())?;
    let m = finite("metric: predictive means", i, mean.re())?;
    let v = finite("metric: predictive variances", i, var.re())?;
    if v <= 0.0 {
        return Err(Error::InvalidParameter { what: "metric: predictive variance (must be > 0)", value: v });
    }
    Ok((t, m, v))
}
