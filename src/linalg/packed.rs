//! The packed lower triangle of an n × n matrix: the crate's one layout for it (the whitened
//! guide's factor L in a parameter buffer, L and L_z in a deployed posterior).
//!
//! Row by row: `a00, a10, a11, a20, a21, a22, …`, so entry (i, j), j ≤ i, sits at i(i+1)/2 + j
//! and row i is one contiguous slice of i + 1 values.

use super::{MatMut, MatRef};
use crate::error::{check_len, Result};
use crate::layout::Size;
use core::ops::{Deref, DerefMut};

/// A packed lower triangle over borrowed or owned storage `C` (`&[S]`, `&mut [S]`, `Vec<S>`):
/// reading needs `C: Deref<Target = [S]>`, writing `DerefMut`.
///
/// ```
/// use svgp::linalg::{MatMut, MatRef, PackedLower};
/// let a = [1.0, 9.0, 2.0, 3.0]; // 2 × 2, row-major; 9 is above the diagonal
/// let mut packed = PackedLower::new(2, vec![0.0; 3])?;
/// packed.pack_from(MatRef::new(2, 2, &a)?)?;
/// assert_eq!(packed.as_slice(), [1.0, 2.0, 3.0]);
/// assert_eq!((packed.row(1), packed.get(1, 0), packed.diag(1)), (&[2.0, 3.0][..], 2.0, 3.0));
/// let mut full = [7.0; 4];
/// packed.unpack_into(MatMut::new(2, 2, &mut full)?)?;
/// assert_eq!(full, [1.0, 0.0, 2.0, 3.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedLower<C> {
    n: usize,
    data: C,
}

impl PackedLower<()> {
    /// Number of stored entries for an n × n matrix, n(n+1)/2, checked for overflow.
    #[inline]
    pub fn len_for(n: usize) -> Result<usize> {
        Self::size(n).get("packed lower triangle")
    }
    /// [`Self::len_for`] as a [`Size`], for a [`parts!`](crate::parts) declaration.
    #[inline]
    pub fn size(n: usize) -> Size {
        // n(n+1)/2 without overflowing before the halving: halve the even factor first.
        if n.is_multiple_of(2) {
            Size::of(n / 2) * (n | 1)
        } else {
            Size::of(n) * n.div_ceil(2)
        }
    }
    /// Index of entry (i, j), j ≤ i, in the packed storage (an in-range `i` cannot overflow).
    #[inline]
    pub const fn index(i: usize, j: usize) -> usize {
        i * (i + 1) / 2 + j
    }
}

impl<S: Copy, C: Deref<Target = [S]>> PackedLower<C> {
    /// Views `data` (exactly n(n+1)/2 long) as the packed lower triangle of an n × n matrix.
    pub fn new(n: usize, data: C) -> Result<Self> {
        check_len("packed lower triangle", PackedLower::len_for(n)?, data.len())?;
        Ok(Self { n, data })
    }
    /// The matrix order n.
    #[inline]
    pub fn n(&self) -> usize {
        self.n
    }
    /// The packed storage.
    #[inline]
    pub fn as_slice(&self) -> &[S] {
        &self.data
    }
    /// Row i of the triangle: entries (i, 0), …, (i, i).
    #[inline]
    pub fn row(&self, i: usize) -> &[S] {
        &self.data[PackedLower::index(i, 0)..PackedLower::index(i + 1, 0)]
    }
    /// Entry (i, j), j ≤ i.
    #[inline]
    pub fn get(&self, i: usize, j: usize) -> S {
        self.data[PackedLower::index(i, j)]
    }
    /// Diagonal entry (i, i).
    #[inline]
    pub fn diag(&self, i: usize) -> S {
        self.get(i, i)
    }
    /// Writes the full square matrix into `a` (n × n), zeros above the diagonal.
    pub fn unpack_into(&self, mut a: MatMut<'_, S>) -> Result<()>
    where
        S: num_traits::Zero,
    {
        check_len("unpack: matrix rows", self.n, a.rows())?;
        check_len("unpack: matrix cols", self.n, a.cols())?;
        for i in 0..self.n {
            let row = a.row_mut(i);
            row[..=i].copy_from_slice(self.row(i));
            row[i + 1..].iter_mut().for_each(|v| *v = S::zero());
        }
        Ok(())
    }
    /// The triangle as a read-only view over the same storage.
    #[inline]
    pub fn as_ref(&self) -> PackedLower<&[S]> {
        PackedLower { n: self.n, data: &self.data }
    }
}

impl<S: Copy, C: DerefMut<Target = [S]>> PackedLower<C> {
    /// The packed storage, mutably.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [S] {
        &mut self.data
    }
    /// Row i of the triangle, mutably.
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> &mut [S] {
        &mut self.data[PackedLower::index(i, 0)..PackedLower::index(i + 1, 0)]
    }
    /// Sets entry (i, j), j ≤ i.
    #[inline]
    pub fn set(&mut self, i: usize, j: usize, v: S) {
        self.data[PackedLower::index(i, j)] = v;
    }
    /// Copies the lower triangle of the square `a` (n × n) in; its upper triangle is not read.
    pub fn pack_from(&mut self, a: MatRef<'_, S>) -> Result<()> {
        check_len("pack: matrix rows", self.n, a.rows())?;
        check_len("pack: matrix cols", self.n, a.cols())?;
        for i in 0..self.n {
            self.row_mut(i).copy_from_slice(&a.row(i)[..=i]);
        }
        Ok(())
    }
    /// The identity.
    pub fn set_identity(&mut self)
    where
        S: num_traits::Zero + num_traits::One,
    {
        for i in 0..self.n {
            let row = self.row_mut(i);
            row.iter_mut().for_each(|v| *v = S::zero());
            row[i] = S::one();
        }
    }
}
