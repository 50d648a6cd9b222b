//! Row-major matrix views over slices.

use crate::error::{check_len, Result};

/// A borrowed, row-major, contiguous `rows × cols` matrix.
///
/// ```
/// use svgp::linalg::MatRef;
/// let data = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
/// let a = MatRef::new(2, 3, &data)?;
/// assert_eq!(a.get(1, 0), 4.0);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct MatRef<'a, S> {
    rows: usize,
    cols: usize,
    data: &'a [S],
}

/// A mutably borrowed, row-major, contiguous `rows × cols` matrix.
#[derive(Debug)]
pub struct MatMut<'a, S> {
    rows: usize,
    cols: usize,
    data: &'a mut [S],
}

impl<'a, S: Copy> MatRef<'a, S> {
    /// A view of `data` as `rows × cols`; `data.len()` must equal `rows * cols`.
    pub fn new(rows: usize, cols: usize, data: &'a [S]) -> Result<Self> {
        check_len("matrix data", rows.saturating_mul(cols), data.len())?;
        Ok(Self { rows, cols, data })
    }
    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// The underlying slice.
    #[inline]
    pub fn as_slice(&self) -> &'a [S] {
        self.data
    }
    /// Row `i` as a slice.
    #[inline]
    pub fn row(&self, i: usize) -> &'a [S] {
        &self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// Entry (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> S {
        self.data[i * self.cols + j]
    }
}

impl<'a, S: Copy> MatMut<'a, S> {
    /// A mutable view of `data` as `rows × cols`; `data.len()` must equal `rows * cols`.
    pub fn new(rows: usize, cols: usize, data: &'a mut [S]) -> Result<Self> {
        check_len("matrix data", rows.saturating_mul(cols), data.len())?;
        Ok(Self { rows, cols, data })
    }
    /// Number of rows.
    #[inline]
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// Number of columns.
    #[inline]
    pub fn cols(&self) -> usize {
        self.cols
    }
    /// A read-only view of the same data.
    #[inline]
    pub fn as_ref(&self) -> MatRef<'_, S> {
        MatRef { rows: self.rows, cols: self.cols, data: self.data }
    }
    /// The underlying slice.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        self.data
    }
    /// Row `i` as a mutable slice.
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> &mut [S] {
        &mut self.data[i * self.cols..(i + 1) * self.cols]
    }
    /// Entry (i, j).
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> S {
        self.data[i * self.cols + j]
    }
    /// Set entry (i, j).
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: S) {
        self.data[i * self.cols + j] = v;
    }
}

/// Number of rows of a row-major n × d buffer, checking that `d` ≥ 1 divides its length: the
/// crate's one reading of "rows of an n × D input".
pub(crate) fn rows_of<S>(x: &[S], d: usize, what: &'static str) -> Result<usize> {
    if d == 0 {
        return Err(crate::Error::InvalidParameter { what: "input dimension", value: 0.0 });
    }
    let n = x.len() / d;
    check_len(what, n * d, x.len())?;
    Ok(n)
}
