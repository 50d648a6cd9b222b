//! Where batches come from: the [`BatchSource`] trait and three sources (an in-memory slice
//! shuffled epoch by epoch, a callback, an iterator of points).
//!
//! A source writes at most B points into the caller's batch buffers, so the training loop's
//! memory is the batch's, however large (or however far away) the data set is.

use super::sampler::ShuffledEpochs;
use crate::error::{check_len, Error, Result};
use crate::linalg::rows_of;
use crate::Scalar;
use rand_core::Rng;

/// A stream of training batches of D-dimensional inputs with scalar targets.
pub trait BatchSource<S> {
    /// Input dimension D.
    fn input_dim(&self) -> usize;
    /// Writes up to `y.len()` points: inputs row-major into `x` (`x.len() == y.len()·D`) and
    /// targets into `y`. Returns how many it wrote; 0 means the stream has ended.
    fn next_batch(&mut self, x: &mut [S], y: &mut [S]) -> Result<usize>;
}

impl<S, T: BatchSource<S> + ?Sized> BatchSource<S> for &mut T {
    fn input_dim(&self) -> usize {
        (**self).input_dim()
    }
    fn next_batch(&mut self, x: &mut [S], y: &mut [S]) -> Result<usize> {
        (**self).next_batch(x, y)
    }
}

/// Checks the batch buffers agree with D before a source fills them.
fn check_batch_buffers<S>(d: usize, x: &[S], y: &[S]) -> Result<()> {
    check_len("batch inputs x (b × D): rows", y.len(), rows_of(x, d, "batch inputs x (b × D)")?)
}

/// Data held in slices, served in shuffled epochs (never ends: each epoch reshuffles).
///
/// ```
/// use svgp::batch::{BatchSource, SliceSource};
/// use svgp::rng::Xoshiro256;
/// let x = [0.0, 1.0, 2.0, 3.0, 4.0]; // five 1-D points
/// let y = [0.0, 10.0, 20.0, 30.0, 40.0];
/// let mut src = SliceSource::new(&x, &y, 1, Xoshiro256::from_u64(3))?;
/// let (mut xb, mut yb) = ([0.0; 2], [0.0; 2]);
/// let b = src.next_batch(&mut xb, &mut yb)?;
/// assert_eq!(b, 2);
/// assert_eq!(yb[0], 10.0 * xb[0]); // rows stay paired with their targets
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SliceSource<'a, S, R> {
    x: &'a [S],
    y: &'a [S],
    d: usize,
    sampler: ShuffledEpochs<R>,
}

impl<'a, S: Scalar, R: Rng> SliceSource<'a, S, R> {
    /// `n` points: inputs `x` (n × d, row-major) and targets `y` (n), shuffled by `rng`.
    pub fn new(x: &'a [S], y: &'a [S], d: usize, rng: R) -> Result<Self> {
        if d == 0 {
            return Err(Error::InvalidParameter { what: "input dimension", value: 0.0 });
        }
        check_len("inputs x (n × D): rows", y.len(), rows_of(x, d, "inputs x (n × D)")?)?;
        let sampler = ShuffledEpochs::new(y.len(), rng)?;
        Ok(Self { x, y, d, sampler })
    }
    /// Number of points N.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// Always `false` (a source holds at least one point).
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    /// Epochs completed so far.
    pub fn epoch(&self) -> u64 {
        self.sampler.epoch()
    }
}

impl<S: Scalar, R: Rng> BatchSource<S> for SliceSource<'_, S, R> {
    fn input_dim(&self) -> usize {
        self.d
    }
    fn next_batch(&mut self, x: &mut [S], y: &mut [S]) -> Result<usize> {
        let d = self.d;
        check_batch_buffers(d, x, y)?;
        // Indices in chunks of a small stack buffer: no allocation, no N-long index array.
        let mut idx = [0usize; 64];
        let mut filled = 0;
        while filled < y.len() {
            let want = (y.len() - filled).min(idx.len());
            let got = self.sampler.next_batch(&mut idx[..want]);
            for (k, &i) in idx[..got].iter().enumerate() {
                let r = filled + k;
                x[r * d..(r + 1) * d].copy_from_slice(&self.x[i * d..(i + 1) * d]);
                y[r] = self.y[i];
            }
            filled += got;
            // An epoch boundary ends the batch: the epoch's last batch is short.
            if got < want || self.sampler.epoch_boundary() {
                break;
            }
        }
        Ok(filled)
    }
}

/// A callback that fills batch buffers: `f(x, y)` writes up to `y.len()` points and returns
/// how many (0 ends the stream). Reading from a file or generating data on the fly fits here.
///
/// ```
/// use svgp::batch::{BatchSource, FnSource};
/// let mut t = 0.0;
/// let mut src = FnSource::new(1, |x: &mut [f64], y: &mut [f64]| {
///     for (xi, yi) in x.iter_mut().zip(y.iter_mut()) {
///         *xi = t;
///         *yi = 2.0 * t;
///         t += 1.0;
///     }
///     Ok(y.len())
/// });
/// let (mut xb, mut yb) = ([0.0; 3], [0.0; 3]);
/// assert_eq!(src.next_batch(&mut xb, &mut yb)?, 3);
/// assert_eq!(yb, [0.0, 2.0, 4.0]);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FnSource<F> {
    d: usize,
    f: F,
}

impl<F> FnSource<F> {
    /// A source of `d`-dimensional points from the callback `f`.
    pub fn new(d: usize, f: F) -> Self {
        Self { d, f }
    }
}

impl<S, F: FnMut(&mut [S], &mut [S]) -> Result<usize>> BatchSource<S> for FnSource<F> {
    fn input_dim(&self) -> usize {
        self.d
    }
    fn next_batch(&mut self, x: &mut [S], y: &mut [S]) -> Result<usize> {
        check_batch_buffers(self.d, x, y)?;
        let b = (self.f)(x, y)?;
        if b > y.len() {
            return Err(Error::DimensionMismatch {
                what: "points reported by the batch callback",
                expected: y.len(),
                found: b,
            });
        }
        Ok(b)
    }
}

/// An iterator of points `(x_row, y)` served B at a time; ends when the iterator does.
///
/// ```
/// use svgp::batch::{BatchSource, IterSource};
/// let pts = (0..5).map(|i| ([i as f64, 0.0], i as f64));
/// let mut src = IterSource::new(2, pts);
/// let (mut xb, mut yb) = ([0.0; 6], [0.0; 3]);
/// assert_eq!(src.next_batch(&mut xb, &mut yb)?, 3);
/// assert_eq!(src.next_batch(&mut xb, &mut yb)?, 2);
/// assert_eq!(src.next_batch(&mut xb, &mut yb)?, 0);
/// # Ok::<(), svgp::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct IterSource<I> {
    d: usize,
    it: I,
}

impl<I> IterSource<I> {
    /// A source of `d`-dimensional points from `it`.
    pub fn new(d: usize, it: I) -> Self {
        Self { d, it }
    }
}

impl<S: Copy, X: AsRef<[S]>, I: Iterator<Item = (X, S)>> BatchSource<S> for IterSource<I> {
    fn input_dim(&self) -> usize {
        self.d
    }
    fn next_batch(&mut self, x: &mut [S], y: &mut [S]) -> Result<usize> {
        let d = self.d;
        check_batch_buffers(d, x, y)?;
        let mut b = 0;
        while b < y.len() {
            let Some((row, target)) = self.it.next() else { break };
            let row = row.as_ref();
            if row.len() != d {
                return Err(Error::DimensionMismatch {
                    what: "input row from the point iterator",
                    expected: d,
                    found: row.len(),
                });
            }
            x[b * d..(b + 1) * d].copy_from_slice(row);
            y[b] = target;
            b += 1;
        }
        Ok(b)
    }
}
