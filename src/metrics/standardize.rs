//! Standardisation of inputs and targets: fitted on the training data, applied to any data,
//! and inverted for predictions (mean and variance back in the original units).

use crate::error::{check_finite_value, check_len, Error, Result};
use crate::Scalar;

/// The affine map z = (v − mean) / scale of one column, fitted on training data.
///
/// `mean` is the column's mean and `scale` its standard deviation (population form, divided by
/// n); a constant column keeps `scale = 1` (it becomes zeros, and inverting stays exact).
/// Statistics are accumulated in `f64` whatever `S` is. Inverting a prediction maps a mean back
/// with v = mean + scale·z and a variance with scale²·var.
///
/// ```
/// use svgp::metrics::Standardizer;
/// let y_train = [310.0_f64, 320.0, 330.0, 340.0];
/// let st = Standardizer::fit(&y_train)?;
/// let mut z = y_train;
/// st.apply_in_place(&mut z);
/// assert!(z.iter().sum::<f64>().abs() < 1e-12); // mean 0, standard deviation 1
/// // A prediction in standardised units, back in the original ones:
/// let (mean, var) = st.invert(0.0_f64, 0.01);
/// assert!((mean - 325.0).abs() < 1e-12 && (var - 0.01 * 125.0).abs() < 1e-12);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Standardizer {
    /// The training column's mean.
    pub mean: f64,
    /// The training column's standard deviation (1 for a constant column).
    pub scale: f64,
}

impl Standardizer {
    /// Fits the map on `values` (at least one, all finite).
    pub fn fit<S: Scalar>(values: &[S]) -> Result<Self> {
        Self::fit_strided(values, 1, 0)
    }

    /// Fits the map on column `col` of a row-major n × d matrix `x` (n ≥ 1).
    pub fn fit_column<S: Scalar>(x: &[S], d: usize, col: usize) -> Result<Self> {
        rows(x, d)?;
        if col >= d {
            return Err(Error::InvalidParameter {
                what: "standardised column index (must be < d)",
                value: col as f64,
            });
        }
        Self::fit_strided(x, d, col)
    }

    fn fit_strided<S: Scalar>(x: &[S], d: usize, col: usize) -> Result<Self> {
        let column = || x.iter().skip(col).step_by(d);
        let n = column().count();
        if n == 0 {
            return Err(Error::DimensionMismatch {
                what: "standardisation data (at least one value)",
                expected: 1,
                found: 0,
            });
        }
        let mut sum = 0.0;
        for (i, v) in column().enumerate() {
            check_finite_value("standardisation data", col + i * d, *v)?;
            sum += v.re();
        }
        let mean = sum / n as f64;
        // Two passes: the spread about the mean, not E[v²] − mean² (which cancels).
        let ss: f64 = column().map(|v| (v.re() - mean) * (v.re() - mean)).sum();
        let sd = libm::sqrt(ss / n as f64);
        if !(mean.is_finite() && sd.is_finite()) {
            return Err(Error::NonFinite {
                what: "standardisation statistics (data too large)",
                index: col,
                value: sd,
            });
        }
        Ok(Self { mean, scale: if sd > 0.0 { sd } else { 1.0 } })
    }

    /// z = (v − mean) / scale.
    #[inline]
    pub fn apply<S: Scalar>(&self, v: S) -> S {
        (v - S::from_f64(self.mean)) / S::from_f64(self.scale)
    }

    /// [`Standardizer::apply`] to every value.
    pub fn apply_in_place<S: Scalar>(&self, values: &mut [S]) {
        values.iter_mut().for_each(|v| *v = self.apply(*v));
    }

    /// A value back in the original units: mean + scale·z.
    #[inline]
    pub fn invert_value<S: Scalar>(&self, z: S) -> S {
        S::from_f64(self.mean) + S::from_f64(self.scale) * z
    }

    /// A variance back in the original units: scale²·var.
    #[inline]
    pub fn invert_variance<S: Scalar>(&self, var: S) -> S {
        S::from_f64(self.scale * self.scale) * var
    }

    /// A predictive mean and variance (standardised units) back in the original units.
    #[inline]
    pub fn invert<S: Scalar>(&self, mean: S, var: S) -> (S, S) {
        (self.invert_value(mean), self.invert_variance(var))
    }

    /// [`Standardizer::invert`] on every prediction, in place (`mean` and `var` equally long).
    pub fn invert_in_place<S: Scalar>(&self, mean: &mut [S], var: &mut [S]) -> Result<()> {
        check_len("predictive variances (one per mean)", mean.len(), var.len())?;
        for (m, v) in mean.iter_mut().zip(var.iter_mut()) {
            (*m, *v) = self.invert(*m, *v);
        }
        Ok(())
    }
}

/// Fits one [`Standardizer`] per column of the row-major n × d inputs `x` into `out` (d entries).
///
/// ```
/// use svgp::metrics::{fit_columns, apply_columns, Standardizer};
/// let mut x = [1.0_f64, 100.0, 3.0, 300.0]; // two rows, two columns
/// let mut cols = [Standardizer { mean: 0.0, scale: 1.0 }; 2];
/// fit_columns(&x, 2, &mut cols)?;
/// apply_columns(&cols, &mut x)?;
/// assert_eq!(x, [-1.0, -1.0, 1.0, 1.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn fit_columns<S: Scalar>(x: &[S], d: usize, out: &mut [Standardizer]) -> Result<()> {
    check_len("standardisers (one per column)", d, out.len())?;
    rows(x, d)?;
    for (col, o) in out.iter_mut().enumerate() {
        *o = Standardizer::fit_strided(x, d, col)?;
    }
    Ok(())
}

/// Applies `cols` (one per column, d = `cols.len()`) to the row-major inputs `x` in place.
pub fn apply_columns<S: Scalar>(cols: &[Standardizer], x: &mut [S]) -> Result<()> {
    rows(x, cols.len())?;
    for row in x.chunks_exact_mut(cols.len()) {
        for (v, c) in row.iter_mut().zip(cols) {
            *v = c.apply(*v);
        }
    }
    Ok(())
}

/// Rows of a row-major n × d matrix, checking d ≥ 1 and that d divides the length.
fn rows<S>(x: &[S], d: usize) -> Result<usize> {
    if d == 0 {
        return Err(Error::InvalidParameter {
            what: "standardisation: columns d (must be ≥ 1)", value: 0.0
        });
    }
    check_len("standardisation data (a multiple of d values)", x.len() / d * d, x.len())?;
    Ok(x.len() / d)
}
