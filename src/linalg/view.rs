//! Row-major matrix views over slices.

use crate::error::{check_buf, check_len, Result};

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

/// Length of the packed lower triangle of an n × n matrix: n(n+1)/2.
#[inline]
pub fn packed_lower_len(n: usize) -> usize {
    n * (n + 1) / 2
}

/// Copies the lower triangle of the square `a` into `packed`, row by row
/// (`a00, a10, a11, a20, …`); `packed` needs at least [`packed_lower_len`] elements.
///
/// ```
/// use svgp::linalg::{pack_lower, unpack_lower, MatMut, MatRef};
/// let a = [1.0, 9.0, 2.0, 3.0];
/// let mut p = [0.0; 3];
/// pack_lower(MatRef::new(2, 2, &a)?, &mut p)?;
/// assert_eq!(p, [1.0, 2.0, 3.0]);
/// let mut b = [7.0; 4];
/// unpack_lower(&p, MatMut::new(2, 2, &mut b)?)?;
/// assert_eq!(b, [1.0, 0.0, 2.0, 3.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
pub fn pack_lower<S: Copy>(a: MatRef<'_, S>, packed: &mut [S]) -> Result<()> {
    let n = a.rows();
    check_len("pack_lower: square matrix", n, a.cols())?;
    check_buf("pack_lower output", packed_lower_len(n), packed.len())?;
    let mut t = 0;
    for i in 0..n {
        packed[t..t + i + 1].copy_from_slice(&a.row(i)[..i + 1]);
        t += i + 1;
    }
    Ok(())
}

/// Writes a packed lower triangle (see [`pack_lower`]) into the square `a`, zeroing the
/// strict upper triangle.
pub fn unpack_lower<S: Copy + num_traits::Zero>(packed: &[S], mut a: MatMut<'_, S>) -> Result<()> {
    let n = a.rows();
    check_len("unpack_lower: square matrix", n, a.cols())?;
    check_buf("unpack_lower input", packed_lower_len(n), packed.len())?;
    let mut t = 0;
    for i in 0..n {
        let row = a.row_mut(i);
        row[..i + 1].copy_from_slice(&packed[t..t + i + 1]);
        row[i + 1..].iter_mut().for_each(|v| *v = S::zero());
        t += i + 1;
    }
    Ok(())
}
