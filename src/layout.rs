//! Named parts of one flat buffer, declared once: the crate's single way to size and carve a
//! workspace or a parameter buffer.
//!
//! A routine that needs scratch (or a model whose parameters live in one flat buffer) declares
//! its parts with [`parts!`](crate::parts): a struct with one field per part, generic over what
//! a field holds. The same declaration then serves three jobs:
//!
//! - `Parts<Size>`: each part's length, computed with [`Size`]'s checked arithmetic;
//!   [`resolve`](#resolve) turns it into `Parts<usize>` or an [`Error::SizeOverflow`] naming the
//!   buffer, so absurd sizes fail before anything is allocated;
//! - `Parts<usize>::total()`: the buffer's length (what a `*_workspace_len` function returns);
//! - `Parts<usize>::carve(buf)`: the buffer split into the parts, `Parts<&[S]>` or
//!   `Parts<&mut [S]>`, or [`Error::BufferTooSmall`] naming the buffer.
//!
//! So a routine's length and its carving cannot drift apart (faer's "each operation states its
//! scratch" habit, with the statement and the carving in one place).
//!
//! ```
//! use svgp::layout::Size;
//! svgp::parts! {
//!     /// Scratch of a made-up routine on an m × n block.
//!     "example workspace": pub struct Scratch { block, column, pivots }
//! }
//! let (m, n) = (3, 4);
//! let lens = Scratch { block: Size::of(m) * n, column: Size::of(m), pivots: Size::of(n) }.resolve()?;
//! assert_eq!(lens.total(), 19);
//! let mut ws = vec![0.0; lens.total()];
//! let Scratch { block, column, pivots } = lens.carve(&mut ws[..])?;
//! assert_eq!((block.len(), column.len(), pivots.len()), (12, 3, 4));
//! let huge = Scratch { block: Size::of(usize::MAX) * 2, column: Size::of(1), pivots: Size::of(1) };
//! assert_eq!(huge.resolve(), Err(svgp::Error::SizeOverflow { what: "example workspace" }));
//! # Ok::<(), svgp::Error>(())
//! ```

use crate::error::{Error, Result};
use core::ops::{Add, Deref, Mul};

/// A length computed with checked arithmetic: overflow is remembered, not wrapped, and reported
/// once by [`Size::get`] (or a [`parts!`](crate::parts) declaration's `resolve`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size(Option<usize>);

impl Size {
    /// A known length.
    #[inline]
    pub const fn of(n: usize) -> Self {
        Self(Some(n))
    }
    /// A length that is already a [`Result`] (e.g. another routine's workspace length); an
    /// error becomes an overflowed size.
    #[inline]
    pub fn from_result(r: Result<usize>) -> Self {
        Self(r.ok())
    }
    /// The length, or [`Error::SizeOverflow`] naming `what`.
    #[inline]
    pub fn get(self, what: &'static str) -> Result<usize> {
        self.0.ok_or(Error::SizeOverflow { what })
    }
    /// The length if it did not overflow.
    #[inline]
    pub fn checked(self) -> Option<usize> {
        self.0
    }
    /// The larger of two lengths.
    #[inline]
    pub fn max(self, other: Self) -> Self {
        match (self.0, other.0) {
            (Some(a), Some(b)) => Self(Some(a.max(b))),
            _ => Self(None),
        }
    }
}

impl From<usize> for Size {
    #[inline]
    fn from(n: usize) -> Self {
        Self::of(n)
    }
}

impl Mul<usize> for Size {
    type Output = Size;
    #[inline]
    fn mul(self, rhs: usize) -> Size {
        Size(self.0.and_then(|a| a.checked_mul(rhs)))
    }
}

impl Mul for Size {
    type Output = Size;
    #[inline]
    fn mul(self, rhs: Size) -> Size {
        Size(self.0.zip(rhs.0).and_then(|(a, b)| a.checked_mul(b)))
    }
}

impl Add<usize> for Size {
    type Output = Size;
    #[inline]
    fn add(self, rhs: usize) -> Size {
        Size(self.0.and_then(|a| a.checked_add(rhs)))
    }
}

impl Add for Size {
    type Output = Size;
    #[inline]
    fn add(self, rhs: Size) -> Size {
        Size(self.0.zip(rhs.0).and_then(|(a, b)| a.checked_add(b)))
    }
}

/// A slice that can be split at the front: `&[S]` or `&mut [S]`, so one declaration carves
/// both a read-only and a mutable buffer.
pub trait Carve: Sized {
    /// Number of elements.
    fn len(&self) -> usize;
    /// Whether it has no elements.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The first `at` elements and the rest (`at ≤ len`, checked by the carving).
    fn split(self, at: usize) -> (Self, Self);
}

impl<S> Carve for &[S] {
    #[inline]
    fn len(&self) -> usize {
        <[S]>::len(self)
    }
    #[inline]
    fn split(self, at: usize) -> (Self, Self) {
        self.split_at(at)
    }
}

impl<S> Carve for &mut [S] {
    #[inline]
    fn len(&self) -> usize {
        <[S]>::len(self)
    }
    #[inline]
    fn split(self, at: usize) -> (Self, Self) {
        self.split_at_mut(at)
    }
}

/// `&[S]` or `&mut [S]`: the storage a parameter view borrows (to read, or to write too).
pub trait SliceRef<S>: Carve + Deref<Target = [S]> {}
impl<S> SliceRef<S> for &[S] {}
impl<S> SliceRef<S> for &mut [S] {}

/// Declares the named parts of a flat buffer (see the [module docs](crate::layout)).
///
/// `parts! { "what": vis struct Name { a, b, c } }` defines `Name<T>` with a public field of
/// type `T` per part, and
/// - `Name<Size>::resolve(self) -> Result<Name<usize>>` (overflow of a part or of the total is
///   [`Error::SizeOverflow`](crate::Error::SizeOverflow) with `what`);
/// - `Name<usize>::total(&self) -> usize` and `Name<usize>::carve(&self, buf) -> Result<Name<C>>`
///   for any [`Carve`](crate::layout::Carve) buffer (a short buffer is
///   [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) with `what`; extra elements at the
///   end are left unused), and `carve_exact` for a buffer that must be exactly `total()` long
///   (a parameter buffer: [`Error::DimensionMismatch`](crate::Error::DimensionMismatch)).
#[macro_export]
macro_rules! parts {
    (
        $(#[$meta:meta])*
        $what:literal : $vis:vis struct $name:ident { $( $(#[$fmeta:meta])* $field:ident ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis struct $name<T> { $( $(#[$fmeta])* pub $field: T, )+ }

        #[allow(dead_code)]
        impl $name<$crate::layout::Size> {
            /// The parts' lengths, or the overflow of one of them or of their sum.
            $vis fn resolve(self) -> $crate::Result<$name<usize>> {
                let total = $crate::layout::Size::of(0) $( + self.$field )+;
                total.get($what)?;
                Ok($name { $( $field: self.$field.get($what)?, )+ })
            }
        }

        #[allow(dead_code)]
        impl $name<usize> {
            /// Name of the buffer, for errors.
            $vis const WHAT: &'static str = $what;
            /// The buffer's length: the sum of the parts.
            $vis fn total(&self) -> usize {
                0usize $( .saturating_add(self.$field) )+
            }
            /// Splits the front of `buf` into the parts.
            $vis fn carve<C: $crate::layout::Carve>(&self, buf: C) -> $crate::Result<$name<C>> {
                let (need, found) = (self.total(), $crate::layout::Carve::len(&buf));
                if found < need {
                    return Err($crate::Error::BufferTooSmall { what: $what, needed: need, found });
                }
                let rest = buf;
                $( let ($field, rest) = $crate::layout::Carve::split(rest, self.$field); )+
                let _ = rest;
                Ok($name { $( $field, )+ })
            }
            /// Splits `buf`, exactly [`Self::total`] long, into the parts.
            $vis fn carve_exact<C: $crate::layout::Carve>(&self, buf: C) -> $crate::Result<$name<C>> {
                let (need, found) = (self.total(), $crate::layout::Carve::len(&buf));
                if found != need {
                    return Err($crate::Error::DimensionMismatch { what: $what, expected: need, found });
                }
                self.carve(buf)
            }
        }
    };
}
