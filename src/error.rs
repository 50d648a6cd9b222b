//! The crate's one error type: every fallible public function returns [`Result`].

use core::fmt;

/// What went wrong, and where.
///
/// Each variant names the offending quantity (`what`), and where it makes sense the
/// index and value, so a user can find the bad datum without a debugger.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// A slice or matrix had the wrong size.
    DimensionMismatch {
        /// Which argument.
        what: &'static str,
        /// The size the call needed.
        expected: usize,
        /// The size it got.
        found: usize,
    },
    /// A caller-provided workspace or output buffer is too short.
    BufferTooSmall {
        /// Which buffer.
        what: &'static str,
        /// Elements needed.
        needed: usize,
        /// Elements provided.
        found: usize,
    },
    /// A NaN or infinity where finite numbers are required.
    NonFinite {
        /// Which quantity.
        what: &'static str,
        /// Flat index of the first offending entry.
        index: usize,
        /// Its value (real part).
        value: f64,
    },
    /// Cholesky met a pivot that is not positive (after any jitter the policy allowed).
    NotPositiveDefinite {
        /// Row/column of the failing pivot.
        pivot: usize,
        /// The value of the pivot before the square root.
        value: f64,
    },
    /// A parameter or setting outside its valid range.
    InvalidParameter {
        /// Which parameter.
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// A serialized model blob could not be read.
    InvalidModel {
        /// What was wrong with it.
        what: &'static str,
        /// Byte offset (or other position) where it was detected.
        at: usize,
    },
    /// A buffer length computed from the sizes asked for does not fit in `usize` (absurd N, M,
    /// batch or chunk counts). Raised before anything is allocated.
    SizeOverflow {
        /// Which buffer or product.
        what: &'static str,
    },
    /// Code running in a thread team (`svgp::parallel`, feature `std`) panicked while it evaluated chunk
    /// `chunk` of the data (a panicking user kernel, or a bug in the crate). The panic was
    /// caught: the team, its other chunks and the caller's parameters are intact. The same chunk
    /// gives the same error on any number of threads.
    WorkerPanicked {
        /// Index of the chunk whose evaluation panicked.
        chunk: usize,
    },
}

/// `core::result::Result` specialised to the crate's [`Error`].
pub type Result<T> = core::result::Result<T, Error>;

impl fmt::Display for Error {
    #[cold]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::DimensionMismatch { what, expected, found } => {
                write!(f, "dimension mismatch in {what}: expected {expected}, found {found}")
            }
            Error::BufferTooSmall { what, needed, found } => {
                write!(f, "buffer {what} too small: needs {needed} elements, has {found}")
            }
            Error::NonFinite { what, index, value } => {
                write!(f, "non-finite value {value} in {what} at index {index}")
            }
            Error::NotPositiveDefinite { pivot, value } => {
                write!(f, "matrix not positive definite: pivot {pivot} is {value}")
            }
            Error::InvalidParameter { what, value } => {
                write!(f, "invalid parameter {what} = {value}")
            }
            Error::InvalidModel { what, at } => write!(f, "invalid model blob: {what} (at {at})"),
            Error::SizeOverflow { what } => write!(f, "size of {what} overflows usize"),
            Error::WorkerPanicked { chunk } => {
                write!(f, "a worker panicked while evaluating chunk {chunk}")
            }
        }
    }
}

impl core::error::Error for Error {}

/// Checks `found == expected`, naming the argument on failure.
#[inline]
pub(crate) fn check_len(what: &'static str, expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(dim_mismatch(what, expected, found))
    }
}

/// Checks `found >= needed` for a workspace or output buffer.
#[inline]
pub(crate) fn check_buf(what: &'static str, needed: usize, found: usize) -> Result<()> {
    if found >= needed {
        Ok(())
    } else {
        Err(buf_too_small(what, needed, found))
    }
}

#[cold]
fn dim_mismatch(what: &'static str, expected: usize, found: usize) -> Error {
    Error::DimensionMismatch { what, expected, found }
}

#[cold]
fn buf_too_small(what: &'static str, needed: usize, found: usize) -> Error {
    Error::BufferTooSmall { what, needed, found }
}

/// `a · b` for buffer sizes, or [`Error::SizeOverflow`] naming `what`.
#[inline]
pub(crate) fn size_mul(what: &'static str, a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or(Error::SizeOverflow { what })
}

/// `a + b` for buffer sizes, or [`Error::SizeOverflow`] naming `what`.
#[inline]
pub(crate) fn size_add(what: &'static str, a: usize, b: usize) -> Result<usize> {
    a.checked_add(b).ok_or(Error::SizeOverflow { what })
}
