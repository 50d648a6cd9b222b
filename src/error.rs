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
    /// A target the likelihood cannot explain: a Bernoulli target other than 0 or 1, a
    /// Poisson target that is not a non-negative integer.
    InvalidTarget {
        /// What the likelihood accepts (e.g. `"Bernoulli target (must be 0 or 1)"`).
        what: &'static str,
        /// Index of the offending target in the slice passed.
        index: usize,
        /// Its value.
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
        kind: BlobError,
        /// Byte offset where it was detected (see [`crate::deploy::offset`] for the header's).
        at: usize,
    },
    /// A buffer length computed from the sizes asked for (workspace, parameter buffer, storage)
    /// does not fit in `usize`: absurd N, M, J, batch or chunk counts. Raised before anything
    /// is allocated.
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
    /// A kernel whose reverse rules run on [`Dual`](crate::Dual) numbers (a user kernel without
    /// a hand-written adjoint) needs more dual numbers per entry (its parameter count plus twice
    /// its input dimension) than its fixed capacity, in a build without `alloc` (with `alloc`
    /// there is no cap). Raised when the model is built ([`Svgp::new`](crate::gp::Svgp::new)):
    /// wrap the kernel in [`DualCapacity`](crate::kernel::DualCapacity) with a capacity of at
    /// least `needed`.
    DualCapacity {
        /// Dual numbers the kernel needs: n_params + 2·D.
        needed: usize,
        /// The capacity it has.
        capacity: usize,
    },
}

/// What is wrong with a model blob ([`Error::InvalidModel`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlobError {
    /// The blob is shorter than its header says (or than a header).
    Truncated,
    /// The first four bytes are not `b"SVGP"`.
    WrongMagic,
    /// A format version this reader does not know.
    UnsupportedVersion,
    /// The CRC-32 does not match the contents.
    ChecksumMismatch,
    /// Bytes after the CRC-32.
    TrailingBytes,
    /// A block encoding wider than the type the reader evaluates in (an `f64` block read as `f32`).
    WrongScalar,
    /// A kind byte other than 1 or 2, or not the kind asked for.
    WrongKind,
    /// The family is not the feature map / kernel type asked for.
    WrongFamily,
    /// Header sizes no posterior can have (zero, too large, or inconsistent with each other).
    ImpossibleShape,
    /// A family-specific shape word the reader cannot evaluate (what the word describes).
    BadShapeWord(&'static str),
    /// A block encoding code this reader does not know, or non-zero reserved bytes in a
    /// block table entry.
    UnsupportedEncoding,
    /// A likelihood id this reader does not know.
    UnsupportedLikelihood,
    /// A block table entry whose shape is not the one the model needs there (or a table with
    /// the wrong number of blocks).
    BlockMismatch,
}

impl fmt::Display for BlobError {
    #[cold]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match *self {
            BlobError::Truncated => "truncated blob",
            BlobError::WrongMagic => "wrong magic",
            BlobError::UnsupportedVersion => "unsupported version",
            BlobError::ChecksumMismatch => "checksum mismatch",
            BlobError::TrailingBytes => "trailing bytes after checksum",
            BlobError::WrongScalar => "block encoding wider than the reader's scalar type",
            BlobError::WrongKind => "wrong model kind",
            BlobError::WrongFamily => "wrong model family",
            BlobError::ImpossibleShape => "impossible shape",
            BlobError::BadShapeWord(what) => return write!(f, "bad shape word: {what}"),
            BlobError::UnsupportedEncoding => "unsupported block encoding",
            BlobError::UnsupportedLikelihood => "unsupported likelihood",
            BlobError::BlockMismatch => "block table does not match the model",
        };
        f.write_str(s)
    }
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
            Error::InvalidTarget { what, index, value } => {
                write!(f, "invalid target {value} at index {index}: {what}")
            }
            Error::InvalidParameter { what, value } => {
                write!(f, "invalid parameter {what} = {value}")
            }
            Error::InvalidModel { kind, at } => write!(f, "invalid model blob: {kind} (at {at})"),
            Error::SizeOverflow { what } => write!(f, "size of {what} overflows usize"),
            Error::WorkerPanicked { chunk } => {
                write!(f, "a worker panicked while evaluating chunk {chunk}")
            }
            Error::DualCapacity { needed, capacity } => write!(
                f,
                "a kernel's Dual reverse rule needs {needed} dual numbers (parameters + 2 × input \
                 dimension) but has a fixed capacity of {capacity} (no `alloc`): build the model on \
                 kernel::DualCapacity::<_, {needed}>(kernel) or enable the `alloc` feature"
            ),
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

/// [`Error::NonFinite`] naming the first NaN or infinity in `v` (by index and value), if any:
/// the crate's one finiteness check.
#[inline]
pub(crate) fn check_finite<S: crate::Scalar>(what: &'static str, v: &[S]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        None => Ok(()),
        Some(index) => Err(non_finite(what, index, v[index].re())),
    }
}

/// [`Error::NonFinite`] for one value `v` at `index` of `what`, if it is not finite.
#[inline]
pub(crate) fn check_finite_value<S: crate::Scalar>(what: &'static str, index: usize, v: S) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(non_finite(what, index, v.re()))
    }
}

#[cold]
fn non_finite(what: &'static str, index: usize, value: f64) -> Error {
    Error::NonFinite { what, index, value }
}

#[cold]
fn dim_mismatch(what: &'static str, expected: usize, found: usize) -> Error {
    Error::DimensionMismatch { what, expected, found }
}

#[cold]
fn buf_too_small(what: &'static str, needed: usize, found: usize) -> Error {
    Error::BufferTooSmall { what, needed, found }
}

/// Refuses an empty data set: an ELBO, its gradient or a prediction over no points has nothing
/// to work on. The one empty-data check of the model and every training path.
#[inline]
pub(crate) fn check_not_empty(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::InvalidParameter { what: "number of data points N (must be ≥ 1)", value: 0.0 });
    }
    Ok(())
}
